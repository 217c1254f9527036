//! teamd's configuration: the JSON document exactly as given (ConfigDump echoes
//! it, unknown keys included, plus the few defaults teamd writes into it) and
//! typed reads with C teamd's rules: a value of the wrong JSON type is reported
//! and then treated as absent, integers are C `int`.

use serde_json::{Map, Value};

use crate::log;

/// Why a config value is unusable; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    doc: Value,
}

/// Looks up a child of a JSON object by key; `None` for non-objects.
fn child<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m| m.get(key))
}

/// Typed reads of one JSON node, with C teamd's wrong-type handling.
pub fn int_of(v: Option<&Value>) -> Option<i32> {
    match v? {
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            // jansson keeps a long long; teamd narrows it to int.
            n.as_i64().map(|i| i as i32).or(Some(-1))
        }
        _ => {
            log::err("Failed to get integer from non-integer object");
            None
        }
    }
}

pub fn str_of(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::String(s) => Some(s),
        _ => {
            log::err("Failed to get string from non-string object");
            None
        }
    }
}

pub fn bool_of(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        _ => {
            log::err("Failed to get boolean from non-boolean object");
            None
        }
    }
}

impl Config {
    /// Wraps a parsed document. jansson accepts an object or an array root;
    /// an array loads fine and only fails when teamd first writes into it.
    pub fn new(doc: Value) -> Result<Self, ConfigError> {
        if !doc.is_object() && !doc.is_array() {
            return Err(ConfigError("config root must be a JSON object".to_string()));
        }
        Ok(Self { doc })
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The node at `path` (object keys).
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.doc, |v, k| child(v, k))
    }

    pub fn int(&self, path: &[&str]) -> Option<i32> {
        int_of(self.get(path))
    }

    pub fn string(&self, path: &[&str]) -> Option<&str> {
        str_of(self.get(path))
    }

    pub fn boolean(&self, path: &[&str]) -> Option<bool> {
        bool_of(self.get(path))
    }

    /// Sets `path` with C teamd's setter rules: missing objects are created,
    /// but a non-object on the way or an existing value of another JSON type
    /// is refused (C logs "Wrong path format" and fails).
    pub fn try_set(&mut self, path: &[&str], value: Value) -> Result<(), ConfigError> {
        let wrong = || ConfigError("Failed to get value from config: Wrong path format".into());
        let (last, parents) = path.split_last().ok_or_else(wrong)?;
        let mut node = &mut self.doc;
        for key in parents {
            node = node
                .as_object_mut()
                .ok_or_else(wrong)?
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let map = node.as_object_mut().ok_or_else(wrong)?;
        if let Some(old) = map.get(*last) {
            if std::mem::discriminant(old) != std::mem::discriminant(&value) {
                return Err(wrong());
            }
        }
        map.insert(last.to_string(), value);
        Ok(())
    }

    /// Sets `path` to `value`, creating intermediate objects (and replacing
    /// non-object intermediates); for defaults whose path cannot clash.
    pub fn set(&mut self, path: &[&str], value: Value) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = &mut self.doc;
        for key in parents {
            let map = ensure_object(node);
            node = map
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        ensure_object(node).insert(last.to_string(), value);
    }

    /// Port names under `ports`, in the order of the config text.
    pub fn port_names(&self) -> Vec<String> {
        self.get(&["ports"])
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The `ports.<ifname>` object, if any.
    pub fn port(&self, ifname: &str) -> Option<&Value> {
        self.get(&["ports", ifname])
    }
}

fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        // just made it an object
        _ => unreachable!("ensure_object: value is an object"),
    }
}

/// `any` or `all`: how several link watchers of one port combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkWatchPolicy {
    Any,
    All,
}

/// Kernel burst settings (`notify_peers`, `mcast_rejoin`): unset keys leave
/// the kernel's value alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Burst {
    pub count: Option<u32>,
    pub interval: Option<u32>,
}

/// A team-wide setting read once at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamSettings {
    pub hwaddr: Option<Vec<u8>>,
    pub debug_level: i32,
    pub link_watch_policy: LinkWatchPolicy,
    pub notify_peers: Burst,
    pub mcast_rejoin: Burst,
}

/// C's `isspace()` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// One `strtoul(s, &end, 16)`: the value (`None` when it would not fit a
/// `u64` or is negative and non-zero) and the bytes consumed. No digits
/// consumes nothing and yields 0, as strtoul does.
fn strtoul16(s: &[u8]) -> (Option<u64>, usize) {
    let mut i = s.iter().take_while(|b| is_c_space(**b)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    // "0x" is a prefix only when a hex digit follows it
    if s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    }
    let digits = s[i..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return (Some(0), 0);
    }
    let mut value: Option<u64> = Some(0);
    for b in &s[i..i + digits] {
        let d = (*b as char).to_digit(16).unwrap_or(0) as u64;
        value = value
            .and_then(|v| v.checked_mul(16))
            .and_then(|v| v.checked_add(d));
    }
    // a negated non-zero value wraps around to something far above 0xff
    let value = value.filter(|v| !negative || *v == 0);
    (value, i + digits)
}

/// Parses a hardware address as C teamd does: `strtoul(.., 16)` per byte
/// (so leading blanks, a sign, `0x` and empty bytes pass), blanks allowed
/// before each `:`; the length is checked later against the device's.
pub fn parse_hwaddr(s: &str) -> Option<Vec<u8>> {
    let mut rest = s.as_bytes();
    let mut out = Vec::new();
    loop {
        let (value, used) = strtoul16(rest);
        out.push(u8::try_from(value?).ok()?);
        rest = &rest[used..];
        let blanks = rest.iter().take_while(|b| is_c_space(**b)).count();
        rest = &rest[blanks..];
        match rest.first() {
            Some(b':') => rest = &rest[1..],
            None => return Some(out),
            Some(_) => return None,
        }
    }
}

/// `hwaddr`, parsed; C reports a bad one from the hardware-address step.
pub fn hwaddr_setting(cfg: &Config) -> Result<Option<Vec<u8>>, ConfigError> {
    match cfg.string(&["hwaddr"]) {
        Some(s) => parse_hwaddr(s)
            .map(Some)
            .ok_or_else(|| ConfigError("Failed to parse hardware address.".into())),
        None => Ok(None),
    }
}

/// `link_watch_policy`; the two-line complaint is libteam 1.32's.
pub fn link_watch_policy_setting(cfg: &Config) -> Result<LinkWatchPolicy, ConfigError> {
    match cfg.string(&["link_watch_policy"]) {
        None | Some("any") => Ok(LinkWatchPolicy::Any),
        Some("all") => Ok(LinkWatchPolicy::All),
        Some(other) => Err(ConfigError(format!(
            "Unrecognized value for link_watch_policy.\n\
             Only \"any\" or \"all\" are allowed but \"{other}\" found in config."
        ))),
    }
}

/// `notify_peers` / `mcast_rejoin`; negative values are refused.
pub fn burst(cfg: &Config, key: &str) -> Result<Burst, ConfigError> {
    let mut b = Burst::default();
    for (field, slot) in [("count", &mut b.count), ("interval", &mut b.interval)] {
        if let Some(v) = cfg.int(&[key, field]) {
            if v < 0 {
                return Err(ConfigError(format!(
                    "\"{field}\" must not be negative number."
                )));
            }
            *slot = Some(v as u32);
        }
    }
    Ok(b)
}

// start-up reads these step by step (`run::prepare`), as C's messages
// depend on the step; tests want them in one go
#[cfg(test)]
impl TeamSettings {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            hwaddr: hwaddr_setting(cfg)?,
            debug_level: cfg.int(&["debug_level"]).unwrap_or(0),
            link_watch_policy: link_watch_policy_setting(cfg)?,
            notify_peers: burst(cfg, "notify_peers")?,
            mcast_rejoin: burst(cfg, "mcast_rejoin")?,
        })
    }
}

/// Per-port settings, read from `ports.<ifname>` each time the port is added
/// (PortConfigUpdate changes them for the next add).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSettings {
    pub prio: i32,
    pub queue_id: Option<i32>,
    pub sticky: bool,
    pub lacp_prio: Option<i32>,
    pub lacp_key: Option<i32>,
}

impl PortSettings {
    pub fn from_config(cfg: &Config, ifname: &str) -> Self {
        Self {
            prio: cfg.int(&["ports", ifname, "prio"]).unwrap_or(0),
            queue_id: cfg.int(&["ports", ifname, "queue_id"]),
            sticky: cfg.boolean(&["ports", ifname, "sticky"]).unwrap_or(false),
            lacp_prio: cfg.int(&["ports", ifname, "lacp_prio"]),
            lacp_key: cfg.int(&["ports", ifname, "lacp_key"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_reads_treat_wrong_types_as_absent() {
        let c = Config::new(json!({"a": {"n": 5, "s": "x", "b": true}, "bad": "5"})).unwrap();
        assert_eq!(c.int(&["a", "n"]), Some(5));
        assert_eq!(c.int(&["bad"]), None);
        assert_eq!(c.string(&["a", "s"]), Some("x"));
        assert_eq!(c.string(&["a", "n"]), None);
        assert_eq!(c.boolean(&["a", "b"]), Some(true));
        assert_eq!(c.int(&["a", "missing"]), None);
        // an array root loads (as in jansson) and reads as empty
        let c = Config::new(json!([1])).unwrap();
        assert_eq!(c.int(&["debug_level"]), None);
        assert!(Config::new(json!("x")).is_err());
    }

    #[test]
    fn try_set_refuses_what_c_refuses() {
        let mut c = Config::new(json!({"device": 5, "runner": "x", "a": {}})).unwrap();
        assert!(c.try_set(&["device"], json!("team0")).is_err());
        assert!(c.try_set(&["runner", "name"], json!("roundrobin")).is_err());
        c.try_set(&["a", "b", "c"], json!("v")).unwrap();
        assert_eq!(c.string(&["a", "b", "c"]), Some("v"));
        c.try_set(&["a", "b", "c"], json!("w")).unwrap();
        assert_eq!(c.string(&["a", "b", "c"]), Some("w"));
        let mut c = Config::new(json!([])).unwrap();
        assert_eq!(
            c.try_set(&["device"], json!("team0")).unwrap_err().0,
            "Failed to get value from config: Wrong path format"
        );
    }

    #[test]
    fn hwaddr_parses_like_strtoul() {
        let mac = Some(vec![2, 0, 0, 0x11, 0x22, 0x33]);
        assert_eq!(parse_hwaddr("02:00:00:11:22:33"), mac);
        assert_eq!(parse_hwaddr(" 0x2:+0: 0:011:22 :33"), mac);
        assert_eq!(parse_hwaddr("2::0:11:22:33"), mac);
        assert_eq!(parse_hwaddr(""), Some(vec![0]));
        assert_eq!(parse_hwaddr("-0:1"), Some(vec![0, 1]));
        assert_eq!(parse_hwaddr("0x:1"), None);
        // an empty byte is a 0, as strtoul reads it
        assert_eq!(parse_hwaddr("00:11:"), Some(vec![0, 0x11, 0]));
        for bad in ["-1:00", "100:00", "00-11", "00:11 x", "fffffffffffffffff1"] {
            assert_eq!(parse_hwaddr(bad), None, "{bad}");
        }
    }

    #[test]
    fn set_creates_parents_and_keeps_order() {
        let mut c = Config::new(json!({"device": "team0", "ports": {"b": {}, "a": {}}})).unwrap();
        c.set(&["ports", "eth9", "link_watch", "name"], json!("ethtool"));
        c.set(&["runner", "name"], json!("roundrobin"));
        assert_eq!(c.port_names(), ["b", "a", "eth9"]);
        assert_eq!(
            c.string(&["ports", "eth9", "link_watch", "name"]),
            Some("ethtool")
        );
        assert_eq!(c.port_names(), ["b", "a", "eth9"]);
    }

    #[test]
    fn dotted_port_names_are_plain_keys() {
        // C teamd builds "$.ports.eth1.100.prio" and misses; we look the key up.
        let c = Config::new(json!({"ports": {"eth1.100": {"prio": 7}}})).unwrap();
        assert_eq!(PortSettings::from_config(&c, "eth1.100").prio, 7);
    }

    #[test]
    fn team_settings_validate() {
        let c = Config::new(
            json!({"hwaddr": "00:11:22:33:44 :55", "link_watch_policy": "all",
            "notify_peers": {"count": 3}}),
        )
        .unwrap();
        let s = TeamSettings::from_config(&c).unwrap();
        assert_eq!(s.hwaddr, Some(vec![0, 0x11, 0x22, 0x33, 0x44, 0x55]));
        assert_eq!(s.link_watch_policy, LinkWatchPolicy::All);
        assert_eq!(s.notify_peers.count, Some(3));
        for bad in [
            json!({"hwaddr": "zz:11"}),
            json!({"link_watch_policy": "some"}),
            json!({"mcast_rejoin": {"interval": -1}}),
        ] {
            assert!(TeamSettings::from_config(&Config::new(bad).unwrap()).is_err());
        }
    }
}
