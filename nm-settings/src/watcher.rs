//! Link-watcher dictionaries of `team.link-watchers` / `team-port.link-watchers`:
//! nmcli's text (`name=ethtool delay-up=5, name=arp_ping target-host=…`, keys
//! hyphenated), the JSON objects of `link_watch` (keys with underscores), and
//! which keys each watcher takes.

use serde_json::{Map, Value};

use crate::nmjson::Object;
use crate::{check_range, parse_bool, parse_int, Error};

/// One watcher. Integers default to 0 except `missed_max` (3) and `vlanid` (-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkWatcher {
    Ethtool {
        delay_up: i32,
        delay_down: i32,
    },
    NsnaPing {
        init_wait: i32,
        interval: i32,
        missed_max: i32,
        target_host: String,
    },
    ArpPing {
        init_wait: i32,
        interval: i32,
        missed_max: i32,
        source_host: String,
        target_host: String,
        validate_active: bool,
        validate_inactive: bool,
        vlanid: i32,
        send_always: bool,
    },
}

/// The keys each watcher accepts (nmcli spelling), in NM's attribute order.
const ETHTOOL_KEYS: &[&str] = &["name", "delay-up", "delay-down"];
const NSNA_KEYS: &[&str] = &["name", "interval", "init-wait", "missed-max", "target-host"];
const ARP_KEYS: &[&str] = &[
    "name",
    "interval",
    "init-wait",
    "missed-max",
    "source-host",
    "target-host",
    "validate-active",
    "validate-inactive",
    "vlanid",
    "send-always",
];

impl LinkWatcher {
    pub fn name(&self) -> &'static str {
        match self {
            LinkWatcher::Ethtool { .. } => "ethtool",
            LinkWatcher::NsnaPing { .. } => "nsna_ping",
            LinkWatcher::ArpPing { .. } => "arp_ping",
        }
    }

    /// A watcher from (key, value) pairs in nmcli spelling; keys not allowed
    /// for the named watcher, a missing name and bad values are errors.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<LinkWatcher, Error> {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let name =
            get("name").ok_or_else(|| Error::Invalid("link watcher without a name".into()))?;
        let allowed = match name {
            "ethtool" => ETHTOOL_KEYS,
            "nsna_ping" => NSNA_KEYS,
            "arp_ping" => ARP_KEYS,
            other => return Err(Error::Invalid(format!("unknown link watcher '{other}'"))),
        };
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(Error::Invalid(format!(
                "'{k}' is not valid for link watcher {name}"
            )));
        }
        let int = |k: &str, default: i32| -> Result<i32, Error> {
            get(k).map_or(Ok(default), |v| parse_int(k, v))
        };
        let non_negative = |k: &str, default: i32| -> Result<i32, Error> {
            let v = int(k, default)?;
            check_range(k, v, 0, i32::MAX)?;
            Ok(v)
        };
        let boolean = |k: &str| get(k).map_or(Ok(false), |v| parse_bool(k, v));
        let text = |k: &str| get(k).unwrap_or_default().to_string();
        Ok(match name {
            "ethtool" => LinkWatcher::Ethtool {
                delay_up: non_negative("delay-up", 0)?,
                delay_down: non_negative("delay-down", 0)?,
            },
            "nsna_ping" => LinkWatcher::NsnaPing {
                init_wait: non_negative("init-wait", 0)?,
                interval: non_negative("interval", 0)?,
                missed_max: non_negative("missed-max", 3)?,
                target_host: text("target-host"),
            },
            _ => LinkWatcher::ArpPing {
                init_wait: non_negative("init-wait", 0)?,
                interval: non_negative("interval", 0)?,
                missed_max: non_negative("missed-max", 3)?,
                source_host: text("source-host"),
                target_host: text("target-host"),
                validate_active: boolean("validate-active")?,
                validate_inactive: boolean("validate-inactive")?,
                vlanid: {
                    let v = int("vlanid", -1)?;
                    check_range("vlanid", v, -1, 4094)?;
                    v
                },
                send_always: boolean("send-always")?,
            },
        })
    }

    /// From a `link_watch` JSON object (underscore keys).
    pub fn from_json(v: &Value) -> Result<LinkWatcher, Error> {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::Invalid("link_watch entry is not an object".into()))?;
        let mut pairs = Vec::new();
        for (k, v) in obj {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(Error::Invalid(format!("link_watch.{k} has a bad type"))),
            };
            pairs.push((k.replace('_', "-"), text));
        }
        LinkWatcher::from_pairs(&pairs)
    }

    /// NM's JSON object: the name, then every key not at its default.
    pub fn to_json(&self) -> String {
        let mut o = Object::new();
        o.string("name", self.name());
        let int = |o: &mut Object, k: &str, v: i32, default: i32| {
            if v != default {
                o.int(k, v);
            }
        };
        match self {
            LinkWatcher::Ethtool {
                delay_up,
                delay_down,
            } => {
                int(&mut o, "delay_up", *delay_up, 0);
                int(&mut o, "delay_down", *delay_down, 0);
            }
            LinkWatcher::NsnaPing {
                init_wait,
                interval,
                missed_max,
                target_host,
            } => {
                int(&mut o, "interval", *interval, 0);
                int(&mut o, "init_wait", *init_wait, 0);
                int(&mut o, "missed_max", *missed_max, 3);
                if !target_host.is_empty() {
                    o.string("target_host", target_host);
                }
            }
            LinkWatcher::ArpPing {
                init_wait,
                interval,
                missed_max,
                source_host,
                target_host,
                validate_active,
                validate_inactive,
                vlanid,
                send_always,
            } => {
                int(&mut o, "interval", *interval, 0);
                int(&mut o, "init_wait", *init_wait, 0);
                int(&mut o, "missed_max", *missed_max, 3);
                for (k, v) in [("source_host", source_host), ("target_host", target_host)] {
                    if !v.is_empty() {
                        o.string(k, v);
                    }
                }
                for (k, v) in [
                    ("validate_active", validate_active),
                    ("validate_inactive", validate_inactive),
                ] {
                    if *v {
                        o.bool(k, true);
                    }
                }
                int(&mut o, "vlanid", *vlanid, -1);
                if *send_always {
                    o.bool("send_always", true);
                }
            }
        }
        o.finish()
    }
}

/// nmcli's list: watchers separated by `,`, `key=value` pairs by spaces.
pub fn parse_nmcli(text: &str) -> Result<Vec<LinkWatcher>, Error> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut pairs = Vec::new();
        for kv in part.split_whitespace() {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| Error::Invalid(format!("'{kv}' is not key=value")))?;
            pairs.push((k.to_string(), v.to_string()));
        }
        out.push(LinkWatcher::from_pairs(&pairs)?);
    }
    Ok(out)
}

/// `link_watch` as teamd accepts it: one object or an array of objects.
pub fn from_json_value(v: &Value) -> Result<Vec<LinkWatcher>, Error> {
    match v {
        Value::Array(items) => items.iter().map(LinkWatcher::from_json).collect(),
        Value::Object(_) => Ok(vec![LinkWatcher::from_json(v)?]),
        _ => Err(Error::Invalid(
            "link_watch is neither object nor array".into(),
        )),
    }
}

/// NM's `link_watch` value: one watcher as an object, several as an array.
pub fn to_json_value(watchers: &[LinkWatcher]) -> String {
    match watchers {
        [one] => one.to_json(),
        many => crate::nmjson::array(&many.iter().map(LinkWatcher::to_json).collect::<Vec<_>>()),
    }
}

/// Unused-key check helper for callers walking JSON objects.
pub(crate) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Error> {
    v.as_object()
        .ok_or_else(|| Error::Invalid(format!("{what} is not an object")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmcli_text_to_nm_json() {
        // integration.md §1.11, verified with NM 1.42.4
        let w = parse_nmcli(
            "name=ethtool delay-up=5, name=arp_ping source-host=192.0.2.1 target-host=192.0.2.2",
        )
        .unwrap();
        assert_eq!(
            to_json_value(&w),
            r#"[ { "name": "ethtool", "delay_up": 5 }, { "name": "arp_ping", "source_host": "192.0.2.1", "target_host": "192.0.2.2" } ]"#
        );
        let one = parse_nmcli("name=ethtool").unwrap();
        assert_eq!(to_json_value(&one), r#"{ "name": "ethtool" }"#);
    }

    #[test]
    fn keys_are_checked_per_watcher() {
        assert!(parse_nmcli("name=ethtool interval=5").is_err());
        assert!(parse_nmcli("name=nsna_ping source-host=a").is_err());
        assert!(parse_nmcli("name=arp_ping vlanid=5000").is_err());
        assert!(parse_nmcli("name=tipc").is_err());
        assert!(parse_nmcli("delay-up=5").is_err());
        assert!(parse_nmcli("name=ethtool delay-up=-1").is_err());
        assert!(parse_nmcli("name=ethtool delay-up").is_err());
    }

    #[test]
    fn json_round_trip() {
        let v: Value = serde_json::from_str(
            r#"[{"name":"arp_ping","interval":100,"missed_max":3,"target_host":"h","validate_active":true,"vlanid":7},{"name":"nsna_ping","missed_max":5}]"#,
        )
        .unwrap();
        let w = from_json_value(&v).unwrap();
        assert_eq!(
            to_json_value(&w),
            r#"[ { "name": "arp_ping", "interval": 100, "target_host": "h", "validate_active": true, "vlanid": 7 }, { "name": "nsna_ping", "missed_max": 5 } ]"#
        );
        assert!(from_json_value(&Value::from(3)).is_err());
    }
}
