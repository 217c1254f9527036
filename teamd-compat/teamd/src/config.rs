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
    /// Wraps a parsed document; its root must be an object.
    pub fn new(doc: Value) -> Result<Self, ConfigError> {
        if !doc.is_object() {
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

    /// Sets `path` to `value`, creating intermediate objects (and replacing
    /// non-object intermediates), as teamd's config setters do.
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

/// Parses `aa:bb:..` as C teamd does: hex bytes separated by `:`, spaces allowed before a `:`.
pub fn parse_hwaddr(s: &str) -> Option<Vec<u8>> {
    s.split(':')
        .map(|b| {
            let b = b.trim_end_matches(' ');
            if b.is_empty() || b.len() > 2 {
                return None;
            }
            u8::from_str_radix(b, 16).ok()
        })
        .collect()
}

fn burst(cfg: &Config, key: &str) -> Result<Burst, ConfigError> {
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

impl TeamSettings {
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let hwaddr = match cfg.string(&["hwaddr"]) {
            Some(s) => Some(
                parse_hwaddr(s)
                    .ok_or_else(|| ConfigError("Failed to parse hardware address.".into()))?,
            ),
            None => None,
        };
        let link_watch_policy = match cfg.string(&["link_watch_policy"]) {
            None | Some("any") => LinkWatchPolicy::Any,
            Some("all") => LinkWatchPolicy::All,
            Some(other) => {
                return Err(ConfigError(format!(
                    "link_watch_policy \"{other}\" is not valid: use \"any\" or \"all\"."
                )))
            }
        };
        Ok(Self {
            hwaddr,
            debug_level: cfg.int(&["debug_level"]).unwrap_or(0),
            link_watch_policy,
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
        assert!(Config::new(json!([1])).is_err());
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
