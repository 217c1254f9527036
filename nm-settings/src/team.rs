//! The `team` setting: its properties (nmcli names), NM's ranges and runner
//! restrictions, and the teamd JSON (`team.config`) they map to. A property
//! set to its default counts as unset and is left out of the JSON, as NM does
//! for values set through its API; values read from JSON stay set.

use serde_json::Value;

use crate::nmjson::{self, Object};
use crate::watcher::{self, LinkWatcher};
use crate::{check_range, parse_bool, parse_int, Error};

pub const RUNNERS: &[&str] = &[
    "broadcast",
    "roundrobin",
    "random",
    "activebackup",
    "loadbalance",
    "lacp",
];
pub const HWADDR_POLICIES: &[&str] = &["same_all", "by_active", "only_active"];
pub const TX_HASHES: &[&str] = &[
    "eth", "vlan", "ipv4", "ipv6", "ip", "l3", "l4", "tcp", "udp", "sctp",
];
pub const TX_BALANCERS: &[&str] = &["basic"];
pub const AGG_SELECT_POLICIES: &[&str] = &[
    "lacp_prio",
    "lacp_prio_stable",
    "bandwidth",
    "count",
    "port_config",
];

/// The properties of the `team` setting that map to JSON; `None` = unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamSetting {
    pub runner: Option<String>,
    pub runner_hwaddr_policy: Option<String>,
    pub runner_tx_hash: Option<Vec<String>>,
    pub runner_tx_balancer: Option<String>,
    pub runner_tx_balancer_interval: Option<i32>,
    pub runner_active: Option<bool>,
    pub runner_fast_rate: Option<bool>,
    pub runner_sys_prio: Option<i32>,
    pub runner_min_ports: Option<i32>,
    pub runner_agg_select_policy: Option<String>,
    pub notify_peers_count: Option<i32>,
    pub notify_peers_interval: Option<i32>,
    pub mcast_rejoin_count: Option<i32>,
    pub mcast_rejoin_interval: Option<i32>,
    pub link_watchers: Option<Vec<LinkWatcher>>,
}

/// (property, JSON path, default as nmcli shows it): integration.md §1.10.
pub const PROPERTIES: &[(&str, &str, &str)] = &[
    ("notify-peers-count", "notify_peers.count", "-1"),
    ("notify-peers-interval", "notify_peers.interval", "-1"),
    ("mcast-rejoin-count", "mcast_rejoin.count", "-1"),
    ("mcast-rejoin-interval", "mcast_rejoin.interval", "-1"),
    ("runner", "runner.name", "roundrobin"),
    ("runner-hwaddr-policy", "runner.hwaddr_policy", ""),
    ("runner-tx-hash", "runner.tx_hash", ""),
    ("runner-tx-balancer", "runner.tx_balancer.name", ""),
    (
        "runner-tx-balancer-interval",
        "runner.tx_balancer.balancing_interval",
        "-1",
    ),
    ("runner-active", "runner.active", "true"),
    ("runner-fast-rate", "runner.fast_rate", "false"),
    ("runner-sys-prio", "runner.sys_prio", "-1"),
    ("runner-min-ports", "runner.min_ports", "-1"),
    ("runner-agg-select-policy", "runner.agg_select_policy", ""),
    ("link-watchers", "link_watch", ""),
];

fn one_of(property: &str, value: &str, valid: &[&str]) -> Result<String, Error> {
    if valid.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(Error::InvalidValue {
            property: property.to_string(),
            value: value.to_string(),
        })
    }
}

/// An integer property where -1 means unset.
fn int_or_unset(property: &str, value: &str, min: i32, max: i32) -> Result<Option<i32>, Error> {
    let v = parse_int(property, value)?;
    if v == -1 {
        return Ok(None);
    }
    check_range(property, v, min, max)?;
    Ok(Some(v))
}

impl TeamSetting {
    /// Sets one property from nmcli text (`team.` prefix optional).
    pub fn set(&mut self, property: &str, value: &str) -> Result<(), Error> {
        let p = property.strip_prefix("team.").unwrap_or(property);
        let empty = value.is_empty();
        let opt_str = |valid: &[&str]| -> Result<Option<String>, Error> {
            if empty {
                Ok(None)
            } else {
                one_of(p, value, valid).map(Some)
            }
        };
        match p {
            "notify-peers-count" => self.notify_peers_count = int_or_unset(p, value, 0, i32::MAX)?,
            "notify-peers-interval" => {
                self.notify_peers_interval = int_or_unset(p, value, 0, i32::MAX)?
            }
            "mcast-rejoin-count" => self.mcast_rejoin_count = int_or_unset(p, value, 0, i32::MAX)?,
            "mcast-rejoin-interval" => {
                self.mcast_rejoin_interval = int_or_unset(p, value, 0, i32::MAX)?
            }
            "runner" => self.runner = opt_str(RUNNERS)?,
            "runner-hwaddr-policy" => self.runner_hwaddr_policy = opt_str(HWADDR_POLICIES)?,
            "runner-tx-hash" => {
                let hashes: Vec<String> = value
                    .split([',', ' '])
                    .filter(|h| !h.is_empty())
                    .map(|h| one_of(p, h, TX_HASHES))
                    .collect::<Result<_, _>>()?;
                self.runner_tx_hash = (!hashes.is_empty()).then_some(hashes);
            }
            "runner-tx-balancer" => self.runner_tx_balancer = opt_str(TX_BALANCERS)?,
            "runner-tx-balancer-interval" => {
                self.runner_tx_balancer_interval = int_or_unset(p, value, 0, i32::MAX)?
            }
            "runner-active" => {
                self.runner_active = Some(parse_bool(p, value)?).filter(|&v| !v);
            }
            "runner-fast-rate" => {
                self.runner_fast_rate = Some(parse_bool(p, value)?).filter(|&v| v);
            }
            "runner-sys-prio" => self.runner_sys_prio = int_or_unset(p, value, 0, 65536)?,
            "runner-min-ports" => self.runner_min_ports = int_or_unset(p, value, 1, 256)?,
            "runner-agg-select-policy" => {
                self.runner_agg_select_policy = opt_str(AGG_SELECT_POLICIES)?
            }
            "link-watchers" => {
                let w = watcher::parse_nmcli(value)?;
                self.link_watchers = (!w.is_empty()).then_some(w);
            }
            _ => return Err(Error::UnknownProperty(property.to_string())),
        }
        Ok(())
    }

    /// NM's verification: runner-specific properties need their runner.
    pub fn validate(&self) -> Result<(), Error> {
        let runner = self.runner.as_deref().unwrap_or("roundrobin");
        let checks: [(&str, bool, &[&str]); 9] = [
            (
                "runner-hwaddr-policy",
                self.runner_hwaddr_policy.is_some(),
                &["activebackup"],
            ),
            (
                "runner-tx-hash",
                self.runner_tx_hash.is_some(),
                &["loadbalance", "lacp"],
            ),
            (
                "runner-tx-balancer",
                self.runner_tx_balancer.is_some(),
                &["loadbalance", "lacp"],
            ),
            (
                "runner-tx-balancer-interval",
                self.runner_tx_balancer_interval.is_some(),
                &["loadbalance", "lacp"],
            ),
            ("runner-active", self.runner_active.is_some(), &["lacp"]),
            (
                "runner-fast-rate",
                self.runner_fast_rate.is_some(),
                &["lacp"],
            ),
            ("runner-sys-prio", self.runner_sys_prio.is_some(), &["lacp"]),
            (
                "runner-min-ports",
                self.runner_min_ports.is_some(),
                &["lacp"],
            ),
            (
                "runner-agg-select-policy",
                self.runner_agg_select_policy.is_some(),
                &["lacp"],
            ),
        ];
        for (property, set, runners) in checks {
            if set && !runners.contains(&runner) {
                return Err(Error::RunnerMismatch {
                    property: property.to_string(),
                    runners: runners.join("/"),
                });
            }
        }
        Ok(())
    }

    /// The JSON NM generates from the properties (`team.config` in strict
    /// mode): no `device`, no `ports`, defaults left out.
    pub fn to_json(&self) -> String {
        let mut runner = Object::new();
        if let Some(v) = &self.runner {
            runner.string("name", v);
        }
        if let Some(v) = &self.runner_hwaddr_policy {
            runner.string("hwaddr_policy", v);
        }
        if let Some(v) = &self.runner_tx_hash {
            let items: Vec<String> = v.iter().map(|h| nmjson::string(h)).collect();
            runner.raw("tx_hash", nmjson::array(&items));
        }
        let mut balancer = Object::new();
        if let Some(v) = &self.runner_tx_balancer {
            balancer.string("name", v);
        }
        if let Some(v) = self.runner_tx_balancer_interval {
            balancer.int("balancing_interval", v);
        }
        if !balancer.is_empty() {
            runner.raw("tx_balancer", balancer.finish());
        }
        if let Some(v) = self.runner_active {
            runner.bool("active", v);
        }
        if let Some(v) = self.runner_fast_rate {
            runner.bool("fast_rate", v);
        }
        if let Some(v) = self.runner_sys_prio {
            runner.int("sys_prio", v);
        }
        if let Some(v) = self.runner_min_ports {
            runner.int("min_ports", v);
        }
        if let Some(v) = &self.runner_agg_select_policy {
            runner.string("agg_select_policy", v);
        }
        let mut top = Object::new();
        if !runner.is_empty() {
            top.raw("runner", runner.finish());
        }
        for (key, count, interval) in [
            (
                "notify_peers",
                self.notify_peers_count,
                self.notify_peers_interval,
            ),
            (
                "mcast_rejoin",
                self.mcast_rejoin_count,
                self.mcast_rejoin_interval,
            ),
        ] {
            let mut o = Object::new();
            if let Some(c) = count {
                o.int("count", c);
            }
            if let Some(i) = interval {
                o.int("interval", i);
            }
            if !o.is_empty() {
                top.raw(key, o.finish());
            }
        }
        if let Some(w) = &self.link_watchers {
            top.raw("link_watch", watcher::to_json_value(w));
        }
        top.finish()
    }

    /// The properties found in a teamd config (duplicate keys refused, as
    /// NM's parser does). Unknown keys, `device` and `ports` are ignored.
    pub fn from_json(text: &str) -> Result<TeamSetting, Error> {
        let v =
            teamd_ctl_proto::json::parse_strict(text).map_err(|e| Error::Json(e.to_string()))?;
        let root = watcher::object(&v, "team config")?;
        let mut s = TeamSetting::default();
        let get = |path: &[&str]| -> Option<&Value> {
            let mut cur = root.get(path[0])?;
            for k in &path[1..] {
                cur = cur.get(k)?;
            }
            Some(cur)
        };
        let int = |path: &[&str], min: i32, max: i32| -> Result<Option<i32>, Error> {
            let Some(v) = get(path) else { return Ok(None) };
            let property = path.join(".");
            let n = v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| Error::InvalidValue {
                    property: property.clone(),
                    value: v.to_string(),
                })?;
            check_range(&property, n, min, max)?;
            Ok(Some(n))
        };
        let string = |path: &[&str], valid: &[&str]| -> Result<Option<String>, Error> {
            let Some(v) = get(path) else { return Ok(None) };
            let property = path.join(".");
            match v.as_str() {
                Some(s) => one_of(&property, s, valid).map(Some),
                None => Err(Error::InvalidValue {
                    property,
                    value: v.to_string(),
                }),
            }
        };
        let boolean = |path: &[&str]| -> Result<Option<bool>, Error> {
            let Some(v) = get(path) else { return Ok(None) };
            v.as_bool().map(Some).ok_or_else(|| Error::InvalidValue {
                property: path.join("."),
                value: v.to_string(),
            })
        };
        s.runner = string(&["runner", "name"], RUNNERS)?;
        s.runner_hwaddr_policy = string(&["runner", "hwaddr_policy"], HWADDR_POLICIES)?;
        if let Some(v) = get(&["runner", "tx_hash"]) {
            let items = v.as_array().ok_or_else(|| Error::InvalidValue {
                property: "runner.tx_hash".into(),
                value: v.to_string(),
            })?;
            let hashes = items
                .iter()
                .map(|h| {
                    h.as_str()
                        .ok_or_else(|| Error::InvalidValue {
                            property: "runner.tx_hash".into(),
                            value: h.to_string(),
                        })
                        .and_then(|h| one_of("runner.tx_hash", h, TX_HASHES))
                })
                .collect::<Result<Vec<_>, _>>()?;
            s.runner_tx_hash = Some(hashes);
        }
        s.runner_tx_balancer = string(&["runner", "tx_balancer", "name"], TX_BALANCERS)?;
        s.runner_tx_balancer_interval = int(
            &["runner", "tx_balancer", "balancing_interval"],
            0,
            i32::MAX,
        )?;
        s.runner_active = boolean(&["runner", "active"])?;
        s.runner_fast_rate = boolean(&["runner", "fast_rate"])?;
        s.runner_sys_prio = int(&["runner", "sys_prio"], 0, 65536)?;
        s.runner_min_ports = int(&["runner", "min_ports"], 1, 256)?;
        s.runner_agg_select_policy = string(&["runner", "agg_select_policy"], AGG_SELECT_POLICIES)?;
        s.notify_peers_count = int(&["notify_peers", "count"], 0, i32::MAX)?;
        s.notify_peers_interval = int(&["notify_peers", "interval"], 0, i32::MAX)?;
        s.mcast_rejoin_count = int(&["mcast_rejoin", "count"], 0, i32::MAX)?;
        s.mcast_rejoin_interval = int(&["mcast_rejoin", "interval"], 0, i32::MAX)?;
        if let Some(v) = get(&["link_watch"]) {
            s.link_watchers = Some(watcher::from_json_value(v)?);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(props: &[(&str, &str)]) -> TeamSetting {
        let mut s = TeamSetting::default();
        for (p, v) in props {
            s.set(p, v).unwrap();
        }
        s
    }

    #[test]
    fn verified_nmcli_example() {
        // integration.md §1.11: nmcli con mod T team.runner activebackup
        // team.link-watchers "…" team.notify-peers-count 3
        let s = with(&[
            ("team.runner", "activebackup"),
            (
                "team.link-watchers",
                "name=ethtool delay-up=5, name=arp_ping source-host=192.0.2.1 target-host=192.0.2.2",
            ),
            ("team.notify-peers-count", "3"),
        ]);
        assert_eq!(
            s.to_json(),
            r#"{ "runner": { "name": "activebackup" }, "notify_peers": { "count": 3 }, "link_watch": [ { "name": "ethtool", "delay_up": 5 }, { "name": "arp_ping", "source_host": "192.0.2.1", "target_host": "192.0.2.2" } ] }"#
        );
        s.validate().unwrap();
        // and back: the JSON gives the same properties
        assert_eq!(TeamSetting::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn keyfile_example() {
        // integration.md §1.12
        assert_eq!(
            with(&[("runner", "activebackup")]).to_json(),
            r#"{ "runner": { "name": "activebackup" } }"#
        );
    }

    #[test]
    fn every_property_maps_to_its_json_path() {
        let samples: &[(&str, &str, &str)] = &[
            (
                "notify-peers-count",
                "2",
                r#""notify_peers": { "count": 2 }"#,
            ),
            (
                "notify-peers-interval",
                "7",
                r#""notify_peers": { "interval": 7 }"#,
            ),
            (
                "mcast-rejoin-count",
                "1",
                r#""mcast_rejoin": { "count": 1 }"#,
            ),
            (
                "mcast-rejoin-interval",
                "9",
                r#""mcast_rejoin": { "interval": 9 }"#,
            ),
            ("runner", "lacp", r#""runner": { "name": "lacp" }"#),
            (
                "runner-hwaddr-policy",
                "by_active",
                r#""hwaddr_policy": "by_active""#,
            ),
            ("runner-tx-hash", "eth,l4", r#""tx_hash": [ "eth", "l4" ]"#),
            (
                "runner-tx-balancer",
                "basic",
                r#""tx_balancer": { "name": "basic" }"#,
            ),
            (
                "runner-tx-balancer-interval",
                "50",
                r#""tx_balancer": { "balancing_interval": 50 }"#,
            ),
            ("runner-active", "no", r#""active": false"#),
            ("runner-fast-rate", "yes", r#""fast_rate": true"#),
            ("runner-sys-prio", "65535", r#""sys_prio": 65535"#),
            ("runner-min-ports", "2", r#""min_ports": 2"#),
            (
                "runner-agg-select-policy",
                "count",
                r#""agg_select_policy": "count""#,
            ),
            (
                "link-watchers",
                "name=ethtool",
                r#""link_watch": { "name": "ethtool" }"#,
            ),
        ];
        assert_eq!(samples.len(), PROPERTIES.len());
        for ((p, v, want), (table_p, path, _)) in samples.iter().zip(PROPERTIES) {
            assert_eq!(p, table_p);
            let s = with(&[(p, v)]);
            let json = s.to_json();
            assert!(json.contains(want), "{p}={v} gave {json}");
            // the path of the table leads to the value in the parsed JSON
            let parsed: Value = serde_json::from_str(&json).unwrap();
            let mut cur = &parsed;
            for k in path.split('.') {
                cur = &cur[k];
            }
            assert!(!cur.is_null(), "{p}: {path} missing in {json}");
            assert_eq!(TeamSetting::from_json(&json).unwrap(), s, "{p} round trip");
        }
    }

    #[test]
    fn defaults_and_unset_values_are_left_out() {
        let s = with(&[
            ("runner-active", "yes"),
            ("runner-fast-rate", "no"),
            ("notify-peers-count", "-1"),
            ("runner-sys-prio", "-1"),
        ]);
        assert_eq!(s.to_json(), "{ }");
        // but a default written in JSON stays set
        let j = TeamSetting::from_json(r#"{"runner": {"name": "lacp", "active": true}}"#).unwrap();
        assert_eq!(j.runner_active, Some(true));
        assert_eq!(
            j.to_json(),
            r#"{ "runner": { "name": "lacp", "active": true } }"#
        );
    }

    #[test]
    fn ranges_names_and_runner_restrictions() {
        let mut s = TeamSetting::default();
        assert!(s.set("runner", "bond").is_err());
        assert!(s.set("runner-sys-prio", "65537").is_err());
        assert!(s.set("runner-min-ports", "0").is_err());
        assert!(s.set("runner-min-ports", "257").is_err());
        assert!(s.set("notify-peers-count", "-2").is_err());
        assert!(s.set("runner-tx-hash", "eth,md5").is_err());
        assert!(s.set("runner-hwaddr-policy", "random").is_err());
        assert!(s.set("team.bogus", "1").is_err());
        let bad = with(&[("runner", "activebackup"), ("runner-tx-hash", "eth")]);
        assert!(matches!(bad.validate(), Err(Error::RunnerMismatch { .. })));
        assert!(with(&[("runner-fast-rate", "yes")]).validate().is_err());
        assert!(with(&[("runner", "lacp"), ("runner-fast-rate", "yes")])
            .validate()
            .is_ok());
        assert!(
            with(&[("runner", "loadbalance"), ("runner-tx-hash", "eth")])
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn bad_json_is_refused() {
        assert!(TeamSetting::from_json(r#"{"runner": {"name": "a", "name": "b"}}"#).is_err());
        assert!(TeamSetting::from_json("[]").is_err());
        assert!(TeamSetting::from_json(r#"{"runner": {"name": 3}}"#).is_err());
        assert!(TeamSetting::from_json(r#"{"runner": {"tx_hash": "eth"}}"#).is_err());
        assert!(TeamSetting::from_json(r#"{"runner": {"sys_prio": 1e99}}"#).is_err());
        assert!(TeamSetting::from_json("{").is_err());
        // device, ports and unknown keys do not matter
        let s = TeamSetting::from_json(r#"{"device": "t0", "ports": {"a": {}}, "x": 1}"#).unwrap();
        assert_eq!(s, TeamSetting::default());
    }
}
