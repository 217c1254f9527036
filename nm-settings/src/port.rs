//! The `team-port` setting: queue-id, prio, sticky, lacp-prio, lacp-key and
//! link-watchers, and the per-port teamd JSON (`team-port.config`).

use serde_json::Value;

use crate::nmjson::Object;
use crate::watcher::{self, LinkWatcher};
use crate::{check_range, parse_bool, parse_int, Error};

/// The properties of `team-port` that map to JSON; `None` = unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPortSetting {
    pub queue_id: Option<i32>,
    pub prio: Option<i32>,
    pub sticky: Option<bool>,
    pub lacp_prio: Option<i32>,
    pub lacp_key: Option<i32>,
    pub link_watchers: Option<Vec<LinkWatcher>>,
}

/// (property, JSON key, default as nmcli shows it): integration.md §1.10.
pub const PROPERTIES: &[(&str, &str, &str)] = &[
    ("queue-id", "queue_id", "-1"),
    ("prio", "prio", "0"),
    ("sticky", "sticky", "false"),
    ("lacp-prio", "lacp_prio", "-1"),
    ("lacp-key", "lacp_key", "-1"),
    ("link-watchers", "link_watch", ""),
];

/// An integer where `unset` means unset, else within `min..=max`.
fn int_prop(p: &str, value: &str, unset: i32, min: i32, max: i32) -> Result<Option<i32>, Error> {
    let v = parse_int(p, value)?;
    if v == unset {
        return Ok(None);
    }
    check_range(p, v, min, max)?;
    Ok(Some(v))
}

impl TeamPortSetting {
    /// Sets one property from nmcli text (`team-port.` prefix optional).
    pub fn set(&mut self, property: &str, value: &str) -> Result<(), Error> {
        let p = property.strip_prefix("team-port.").unwrap_or(property);
        match p {
            "queue-id" => self.queue_id = int_prop(p, value, -1, 0, i32::MAX)?,
            "prio" => self.prio = int_prop(p, value, 0, i32::MIN, i32::MAX)?,
            "sticky" => self.sticky = Some(parse_bool(p, value)?).filter(|&v| v),
            "lacp-prio" => self.lacp_prio = int_prop(p, value, -1, 0, 65536)?,
            "lacp-key" => self.lacp_key = int_prop(p, value, -1, 0, 65536)?,
            "link-watchers" => {
                let w = watcher::parse_nmcli(value)?;
                self.link_watchers = (!w.is_empty()).then_some(w);
            }
            _ => return Err(Error::UnknownProperty(property.to_string())),
        }
        Ok(())
    }

    /// NM's rule: activebackup's prio/sticky and lacp's lacp-prio/lacp-key
    /// do not go together.
    pub fn validate(&self) -> Result<(), Error> {
        let ab = self.prio.is_some() || self.sticky.is_some();
        let lacp = self.lacp_prio.is_some() || self.lacp_key.is_some();
        if ab && lacp {
            return Err(Error::Invalid(
                "activebackup (prio, sticky) and lacp (lacp-prio, lacp-key) properties are mutually exclusive".into(),
            ));
        }
        Ok(())
    }

    /// NM's JSON: keys in the order queue_id, prio, sticky, lacp_prio,
    /// lacp_key, link_watch.
    pub fn to_json(&self) -> String {
        let mut o = Object::new();
        if let Some(v) = self.queue_id {
            o.int("queue_id", v);
        }
        if let Some(v) = self.prio {
            o.int("prio", v);
        }
        if let Some(v) = self.sticky {
            o.bool("sticky", v);
        }
        if let Some(v) = self.lacp_prio {
            o.int("lacp_prio", v);
        }
        if let Some(v) = self.lacp_key {
            o.int("lacp_key", v);
        }
        if let Some(w) = &self.link_watchers {
            o.raw("link_watch", watcher::to_json_value(w));
        }
        o.finish()
    }

    /// The properties in a per-port teamd config (duplicates refused).
    pub fn from_json(text: &str) -> Result<TeamPortSetting, Error> {
        let v =
            teamd_ctl_proto::json::parse_strict(text).map_err(|e| Error::Json(e.to_string()))?;
        TeamPortSetting::from_value(&v)
    }

    /// The same from an already parsed value (`ports.<name>` of a teamd config).
    pub fn from_value(v: &Value) -> Result<TeamPortSetting, Error> {
        let root = watcher::object(v, "port config")?;
        let int = |k: &str, min: i32, max: i32| -> Result<Option<i32>, Error> {
            let Some(v) = root.get(k) else {
                return Ok(None);
            };
            let n = v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| Error::InvalidValue {
                    property: k.to_string(),
                    value: v.to_string(),
                })?;
            check_range(k, n, min, max)?;
            Ok(Some(n))
        };
        let sticky = match root.get("sticky") {
            None => None,
            Some(v) => Some(v.as_bool().ok_or_else(|| Error::InvalidValue {
                property: "sticky".into(),
                value: v.to_string(),
            })?),
        };
        Ok(TeamPortSetting {
            queue_id: int("queue_id", 0, i32::MAX)?,
            prio: int("prio", i32::MIN, i32::MAX)?,
            sticky,
            lacp_prio: int("lacp_prio", 0, 65536)?,
            lacp_key: int("lacp_key", 0, 65536)?,
            link_watchers: root
                .get("link_watch")
                .map(watcher::from_json_value)
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(props: &[(&str, &str)]) -> TeamPortSetting {
        let mut s = TeamPortSetting::default();
        for (p, v) in props {
            s.set(p, v).unwrap();
        }
        s
    }

    #[test]
    fn verified_nmcli_example() {
        // integration.md §1.11/§1.12: team-port.prio 100 team-port.sticky yes
        let s = with(&[("team-port.prio", "100"), ("team-port.sticky", "yes")]);
        assert_eq!(s.to_json(), r#"{ "prio": 100, "sticky": true }"#);
        assert_eq!(TeamPortSetting::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn every_property_maps_to_its_key() {
        let samples: &[(&str, &str, &str)] = &[
            ("queue-id", "3", r#""queue_id": 3"#),
            ("prio", "-10", r#""prio": -10"#),
            ("sticky", "true", r#""sticky": true"#),
            ("lacp-prio", "255", r#""lacp_prio": 255"#),
            ("lacp-key", "7", r#""lacp_key": 7"#),
            (
                "link-watchers",
                "name=ethtool delay-down=9",
                r#""link_watch": { "name": "ethtool", "delay_down": 9 }"#,
            ),
        ];
        assert_eq!(samples.len(), PROPERTIES.len());
        for ((p, v, want), (table_p, key, _)) in samples.iter().zip(PROPERTIES) {
            assert_eq!(p, table_p);
            let s = with(&[(p, v)]);
            let json = s.to_json();
            assert_eq!(json, format!("{{ {want} }}"));
            let parsed: Value = serde_json::from_str(&json).unwrap();
            assert!(!parsed[key].is_null());
            assert_eq!(TeamPortSetting::from_json(&json).unwrap(), s);
        }
        // key order
        let all = with(&[("lacp-key", "1"), ("queue-id", "2")]);
        assert_eq!(all.to_json(), r#"{ "queue_id": 2, "lacp_key": 1 }"#);
    }

    #[test]
    fn defaults_ranges_and_exclusions() {
        assert_eq!(
            with(&[("prio", "0"), ("sticky", "no"), ("queue-id", "-1")]).to_json(),
            "{ }"
        );
        let mut s = TeamPortSetting::default();
        assert!(s.set("lacp-prio", "65537").is_err());
        assert!(s.set("queue-id", "-2").is_err());
        assert!(s.set("sticky", "maybe").is_err());
        assert!(s.set("nope", "1").is_err());
        assert!(with(&[("prio", "5"), ("lacp-key", "1")])
            .validate()
            .is_err());
        assert!(with(&[("prio", "5"), ("sticky", "yes")]).validate().is_ok());
        assert!(TeamPortSetting::from_json(r#"{"prio": 1, "prio": 2}"#).is_err());
        assert!(TeamPortSetting::from_json(r#"{"sticky": 1}"#).is_err());
        assert!(TeamPortSetting::from_json(r#"{"queue_id": -1}"#).is_err());
    }
}
