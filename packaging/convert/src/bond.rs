//! A teamd config → a bond, with team2bond's table (integration.md §4):
//! runner → mode, link watches → miimon or arp_*, lacp settings → ad_*,
//! tx_hash → xmit_hash_policy, hwaddr_policy → fail_over_mac, port prio
//! and sticky → primary and primary_reselect. A setting bonding cannot do
//! is a warning (the bond still works, differently) or an error (the bond
//! would not do what the team did), following team2bond where it decides;
//! the crate README lists every choice.

use networkd_gen::diag::{Diags, Origin};
use serde_json::{Map, Value};

/// The bond to make; option names and values are the kernel's (sysfs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bond {
    pub device: String,
    pub mode: &'static str,
    /// Everything but mode and primary, in the order set.
    pub options: Vec<(&'static str, String)>,
    pub primary: Option<String>,
    pub hwaddr: Option<String>,
    pub ports: Vec<String>,
}

impl Bond {
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &'static str, value: impl ToString) {
        self.options.retain(|(k, _)| *k != name);
        self.options.push((name, value.to_string()));
    }
}

/// teamd's arp_ping/nsna_ping interval when the config has none.
const DEFAULT_PING_INTERVAL_MS: i64 = 1000;

struct Ctx<'a> {
    at: &'a Origin,
    diags: &'a mut Diags,
}

impl Ctx<'_> {
    fn warn(&mut self, path: &str, msg: impl Into<String>) {
        self.diags.warning(self.at.clone().with_key(path), msg);
    }
    fn error(&mut self, path: &str, msg: impl Into<String>) {
        self.diags.error(self.at.clone().with_key(path), msg);
    }
}

fn no_equivalent(c: &mut Ctx, path: &str, v: &Value) {
    c.warn(path, format!("{v} has no bonding equivalent; left out"));
}

/// Maps a teamd config (text of a file or of `teamdctl DEV config dump
/// actual`); None when it has errors (reported in `diags`).
pub fn from_teamd(
    text: &str,
    at: &Origin,
    rename: Option<&str>,
    diags: &mut Diags,
) -> Option<Bond> {
    let doc = match teamd_ctl_proto::json::parse_strict(text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            diags.error(at.clone(), "the teamd config is not a JSON object");
            return None;
        }
        Err(e) => {
            diags.error(at.clone(), format!("invalid JSON: {e}"));
            return None;
        }
    };
    let before = diags.0.len();
    let mut c = Ctx { at, diags };
    let device = doc
        .get("device")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if device.is_empty() && rename.is_none() {
        c.error("device", "the config names no device (give --rename NAME)");
    }
    let runner = doc
        .get("runner")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let runner = runner.as_object().cloned().unwrap_or_default();
    let name = runner
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("roundrobin");
    let mode = match name {
        "broadcast" => "broadcast",
        "roundrobin" => "balance-rr",
        "activebackup" => "active-backup",
        "loadbalance" => "balance-tlb",
        "lacp" => "802.3ad",
        other => {
            c.error("runner.name", format!("runner {other} has no bonding mode"));
            "balance-rr"
        }
    };
    let mut bond = Bond {
        device: rename.unwrap_or(device).to_string(),
        mode,
        options: Vec::new(),
        primary: None,
        hwaddr: None,
        ports: Vec::new(),
    };
    runner_options(&runner, name, &mut bond, &mut c);
    let ports = match doc.get("ports") {
        None => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(v) => {
            c.error("ports", format!("{v} is not an object"));
            Map::new()
        }
    };
    for (k, v) in &doc {
        match k.as_str() {
            "device" | "runner" | "ports" | "link_watch" | "link_watch_policy" => {}
            "hwaddr" => match v.as_str().and_then(crate::team::normalize_mac) {
                Some(m) => bond.hwaddr = Some(m),
                None => c.error("hwaddr", format!("{v} is not a MAC address")),
            },
            "notify_peers" => {
                if let Some(n) = v.get("count") {
                    bond.set("num_grat_arp", n);
                }
                if let Some(n) = v.get("interval") {
                    bond.set("peer_notif_delay", n);
                }
            }
            "mcast_rejoin" => {
                if let Some(n) = v.get("count") {
                    bond.set("resend_igmp", n);
                }
                if let Some(n) = v.get("interval") {
                    no_equivalent(&mut c, "mcast_rejoin.interval", n);
                }
            }
            "debug_level" => {}
            _ => no_equivalent(&mut c, k, v),
        }
    }
    watches(&doc, &ports, &mut bond, &mut c);
    port_options(&ports, doc.contains_key("link_watch"), &mut bond, &mut c);
    let failed = c.diags.0[before..]
        .iter()
        .any(|d| d.level == networkd_gen::diag::Level::Error);
    (!failed).then_some(bond)
}

fn runner_options(r: &Map<String, Value>, name: &str, bond: &mut Bond, c: &mut Ctx) {
    let lacp = name == "lacp";
    let lb = name == "loadbalance" || lacp;
    for (k, v) in r {
        let path = format!("runner.{k}");
        let path = path.as_str();
        match k.as_str() {
            "name" => {}
            "hwaddr_policy" if name == "activebackup" => match v.as_str() {
                Some("same_all") => bond.set("fail_over_mac", "none"),
                Some("by_active") => bond.set("fail_over_mac", "active"),
                Some("only_active") => bond.set("fail_over_mac", "follow"),
                _ => c.warn(path, format!("invalid {v}; left out")),
            },
            "active" if lacp => {
                if v.as_bool() == Some(false) {
                    c.warn(
                        path,
                        "bonding is always LACP-active; passive mode is not available",
                    );
                }
            }
            "fast_rate" if lacp => bond.set(
                "lacp_rate",
                if v.as_bool() == Some(true) {
                    "fast"
                } else {
                    "slow"
                },
            ),
            "sys_prio" if lacp => match v.as_i64() {
                Some(p @ 1..=65535) => bond.set("ad_actor_sys_prio", p),
                _ => c.warn(path, format!("{v} is outside bonding's 1..65535; left out")),
            },
            "min_ports" if lacp => bond.set("min_links", v),
            "agg_select_policy" if lacp => match v.as_str() {
                Some(p @ ("bandwidth" | "count")) => bond.set("ad_select", p),
                _ => c.error(
                    path,
                    format!("{v} has no bonding ad_select (only bandwidth and count do)"),
                ),
            },
            "tx_hash" if lb => tx_hash(v, bond, c),
            "tx_balancer" if lb => {
                let basic = v.get("name").and_then(Value::as_str) == Some("basic");
                if !lacp {
                    bond.set("tlb_dynamic_lb", if basic { "1" } else { "0" });
                } else if basic {
                    c.warn(path, "802.3ad has no transmit balancer; left out");
                }
                if let Some(i) = v.get("balancing_interval") {
                    no_equivalent(c, "runner.tx_balancer.balancing_interval", i);
                }
            }
            "fallback" if lacp => {
                if v.as_bool() == Some(true) {
                    c.warn(
                        path,
                        "rteam's LACP fallback has no bonding equivalent; left out",
                    );
                }
            }
            "hwaddr_policy" | "active" | "fast_rate" | "sys_prio" | "min_ports"
            | "agg_select_policy" | "tx_hash" | "tx_balancer" | "fallback" => {}
            _ => no_equivalent(c, path, v),
        }
    }
    // teamd's loadbalance without a balancer hashes statically
    if name == "loadbalance" && bond.option("tlb_dynamic_lb").is_none() {
        bond.set("tlb_dynamic_lb", "0");
    }
}

/// team2bond's reading of tx_hash, but one policy: eth (+l3/ip) →
/// layer2(+3), else (l3 or ip) + l4 → layer3+4, else vlan → vlan+srcmac.
fn tx_hash(v: &Value, bond: &mut Bond, c: &mut Ctx) {
    let list: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let has = |h: &str| list.contains(&h);
    let l3 = has("l3") || has("ip");
    let (policy, used): (&str, &[&str]) = if has("eth") && l3 {
        ("layer2+3", &["eth", "l3", "ip"])
    } else if has("eth") {
        ("layer2", &["eth"])
    } else if l3 && has("l4") {
        ("layer3+4", &["l3", "ip", "l4"])
    } else if has("vlan") {
        ("vlan+srcmac", &["vlan"])
    } else {
        c.warn(
            "runner.tx_hash",
            format!("{v} has no bonding xmit_hash_policy; left out"),
        );
        return;
    };
    bond.set("xmit_hash_policy", policy);
    let rest: Vec<&str> = list.iter().copied().filter(|h| !used.contains(h)).collect();
    if !rest.is_empty() {
        c.warn(
            "runner.tx_hash",
            format!(
                "xmit_hash_policy={policy} does not hash {}",
                rest.join(", ")
            ),
        );
    }
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

/// team2bond: the team's link_watch (object or list); without one, the
/// ports' own watches; without any, teamd's ethtool default (miimon=100).
fn watches(doc: &Map<String, Value>, ports: &Map<String, Value>, bond: &mut Bond, c: &mut Ctx) {
    let mut list: Vec<(String, &Value)> = Vec::new();
    if let Some(w) = doc.get("link_watch") {
        list.extend(
            as_list(w)
                .into_iter()
                .map(|w| ("link_watch".to_string(), w)),
        );
    } else {
        for (p, cfg) in ports {
            if let Some(w) = cfg.get("link_watch") {
                let path = format!("ports.{p}.link_watch");
                list.extend(as_list(w).into_iter().map(|w| (path.clone(), w)));
            }
        }
    }
    if list.is_empty() {
        bond.set("miimon", 100);
    }
    let mut targets: Vec<String> = Vec::new();
    for (path, w) in list {
        let path = path.as_str();
        match w.get("name").and_then(Value::as_str) {
            Some("ethtool") => {
                if other_monitor(bond, c, path, "arp_interval") {
                    continue;
                }
                if bond.option("miimon").is_some() {
                    c.warn(path, "a second ethtool watch; bonding has one miimon");
                }
                bond.set("miimon", 100);
                for (k, opt) in [("delay_up", "updelay"), ("delay_down", "downdelay")] {
                    if let Some(d) = w.get(k) {
                        if bond.option(opt).is_some() {
                            c.warn(path, format!("a second {k}; bonding has one {opt}"));
                        } else {
                            bond.set(opt, d);
                        }
                    }
                }
            }
            Some("arp_ping") => {
                if other_monitor(bond, c, path, "miimon") {
                    continue;
                }
                let interval = w
                    .get("interval")
                    .and_then(Value::as_i64)
                    .unwrap_or(DEFAULT_PING_INTERVAL_MS);
                match bond.option("arp_interval") {
                    Some(i) if i != interval.to_string() => c.warn(
                        path,
                        "arp_ping watches with different intervals; bonding has one arp_interval",
                    ),
                    _ => bond.set("arp_interval", interval),
                }
                match w.get("target_host").and_then(Value::as_str) {
                    Some(t) if t.parse::<std::net::Ipv4Addr>().is_ok() => {
                        targets.push(t.to_string())
                    }
                    Some(t) => c.error(
                        path,
                        format!(
                            "target_host {t}: bonding's arp_ip_target takes IPv4 addresses only"
                        ),
                    ),
                    None => c.error(path, "arp_ping without target_host"),
                }
                let flag = |k: &str| w.get(k).and_then(Value::as_bool).unwrap_or(false);
                let validate = match (flag("validate_active"), flag("validate_inactive")) {
                    (true, true) => Some("all"),
                    (true, false) => Some("active"),
                    (false, true) => Some("backup"),
                    (false, false) => None,
                };
                if let Some(v) = validate {
                    match bond.option("arp_validate") {
                        Some(old) if old != v => c.warn(
                            path,
                            "arp_ping watches validate differently; bonding has one arp_validate",
                        ),
                        _ => bond.set("arp_validate", v),
                    }
                }
                for k in [
                    "init_wait",
                    "missed_max",
                    "source_host",
                    "vlanid",
                    "send_always",
                ] {
                    if let Some(v) = w.get(k) {
                        no_equivalent(c, &format!("{path}.{k}"), v);
                    }
                }
            }
            Some(other) => c.error(
                path,
                format!("link watch {other} has no bonding equivalent"),
            ),
            None => c.error(path, "a link watch without name"),
        }
    }
    // the kernel refuses ARP monitoring in these modes (unsuppmodes)
    if matches!(bond.mode, "802.3ad" | "balance-tlb") && bond.option("arp_interval").is_some() {
        c.warn(
            "link_watch",
            format!(
                "bonding cannot ARP-monitor in mode {}; miimon=100 instead",
                bond.mode
            ),
        );
        bond.options.retain(|(k, _)| !k.starts_with("arp_"));
        bond.set("miimon", 100);
        return;
    }
    if !targets.is_empty() {
        bond.set("arp_ip_target", targets.join(","));
        if doc.get("link_watch_policy").and_then(Value::as_str) == Some("all") && targets.len() > 1
        {
            bond.set("arp_all_targets", "all");
        }
    }
}

/// team2bond: bonding monitors with MII or ARP, not both; the first kind
/// found wins and a watch of the other kind is left out.
fn other_monitor(bond: &Bond, c: &mut Ctx, path: &str, other: &str) -> bool {
    let set = bond.option(other).is_some();
    if set {
        c.warn(
            path,
            format!("{other} is set already: bonding monitors with miimon or arp_interval, not both; left out"),
        );
    }
    set
}

fn port_options(ports: &Map<String, Value>, team_watch: bool, bond: &mut Bond, c: &mut Ctx) {
    let mut prios: Vec<(&str, i64)> = Vec::new();
    let mut sticky = Vec::new();
    let mut key: Option<i64> = None;
    for (p, cfg) in ports {
        bond.ports.push(p.clone());
        let Some(cfg) = cfg.as_object() else {
            c.error(&format!("ports.{p}"), "is not an object");
            continue;
        };
        // teamd's default port prio is 0
        prios.push((p, cfg.get("prio").and_then(Value::as_i64).unwrap_or(0)));
        for (k, v) in cfg {
            let path = format!("ports.{p}.{k}");
            match k.as_str() {
                "prio" => {}
                "sticky" => {
                    if v.as_bool() == Some(true) {
                        sticky.push(p.as_str());
                    }
                }
                "lacp_key" => match (v.as_i64(), key) {
                    (Some(n @ 0..=1023), None) => key = Some(n),
                    (Some(n), Some(k)) if n != k => c.warn(
                        &path,
                        format!("bonding has one ad_user_port_key; {k} is kept"),
                    ),
                    (Some(_), Some(_)) => {}
                    _ => c.warn(
                        &path,
                        format!("{v} is outside ad_user_port_key's 0..1023; left out"),
                    ),
                },
                "link_watch" if team_watch => {
                    c.warn(&path, "ignored: the team has its own link_watch")
                }
                "link_watch" => {}
                _ => no_equivalent(c, &path, v),
            }
        }
    }
    if let Some(k) = key.filter(|k| *k != 0) {
        bond.set("ad_user_port_key", k);
    }
    // the preferred port, when prios differ at all (ties: the first)
    let top = prios.iter().map(|(_, n)| *n).max();
    let Some(top) = top.filter(|t| prios.iter().any(|(_, n)| n != t)) else {
        return;
    };
    if !matches!(bond.mode, "active-backup" | "balance-tlb") {
        c.warn(
            "ports",
            format!("port prio has no effect with bonding mode {}", bond.mode),
        );
        return;
    }
    let primary = prios
        .iter()
        .find(|(_, n)| *n == top)
        .map(|(p, _)| *p)
        .unwrap_or_default();
    bond.primary = Some(primary.to_string());
    let others: Vec<&str> = prios
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| *p != primary)
        .collect();
    if others.iter().any(|p| sticky.contains(p)) {
        bond.set("primary_reselect", "failure");
        if !others.iter().all(|p| sticky.contains(p)) {
            c.warn(
                "ports",
                "sticky is per port in teamd; bonding's primary_reselect=failure applies to all ports",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> (Option<Bond>, Vec<String>) {
        let mut d = Diags::default();
        let b = from_teamd(text, &Origin::file("team0.conf"), None, &mut d);
        (
            b,
            d.0.iter().map(|m| format!("{:?}: {m}", m.level)).collect(),
        )
    }

    #[test]
    fn activebackup_with_arp_and_prio() {
        let (b, msgs) = map(
            r#"{"device": "team0", "runner": {"name": "activebackup", "hwaddr_policy": "by_active"},
                "link_watch": [{"name": "arp_ping", "target_host": "192.0.2.1", "interval": 100, "missed_max": 2, "validate_active": true},
                               {"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100, "validate_active": true}],
                "notify_peers": {"count": 2}, "ports": {"eth1": {"prio": 100}, "eth2": {"prio": -10, "sticky": true}}}"#,
        );
        let b = b.expect("maps");
        assert_eq!(b.mode, "active-backup");
        assert_eq!(
            b.options,
            [
                ("fail_over_mac", "active".to_string()),
                ("num_grat_arp", "2".into()),
                ("arp_interval", "100".into()),
                ("arp_validate", "active".into()),
                ("arp_ip_target", "192.0.2.1,192.0.2.2".into()),
                ("primary_reselect", "failure".into()),
            ]
        );
        assert_eq!(b.primary.as_deref(), Some("eth1"));
        assert_eq!(b.ports, ["eth1", "eth2"]);
        assert_eq!(
            msgs,
            ["Warning: team0.conf: \"link_watch.missed_max\": 2 has no bonding equivalent; left out"]
        );
    }

    #[test]
    fn lacp_and_loadbalance() {
        let (b, msgs) = map(
            r#"{"device": "t", "runner": {"name": "lacp", "fast_rate": true, "sys_prio": 100, "min_ports": 2,
                "agg_select_policy": "count", "tx_hash": ["eth", "ipv4", "l3"]},
                "link_watch": {"name": "ethtool", "delay_up": 500},
                "ports": {"a": {"lacp_key": 5, "lacp_prio": 3}, "b": {"lacp_key": 6}}}"#,
        );
        let b = b.expect("maps");
        assert_eq!(b.mode, "802.3ad");
        assert_eq!(b.option("lacp_rate"), Some("fast"));
        assert_eq!(b.option("ad_select"), Some("count"));
        assert_eq!(b.option("xmit_hash_policy"), Some("layer2+3"));
        assert_eq!(b.option("miimon"), Some("100"));
        assert_eq!(b.option("updelay"), Some("500"));
        assert_eq!(b.option("ad_user_port_key"), Some("5"));
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        let (b, msgs) = map(
            r#"{"device": "t", "runner": {"name": "lacp"}, "link_watch": {"name": "arp_ping", "target_host": "192.0.2.1"}}"#,
        );
        let b = b.expect("maps");
        assert_eq!(b.options, [("miimon", "100".to_string())]);
        assert!(
            msgs[0].contains("cannot ARP-monitor in mode 802.3ad"),
            "{msgs:?}"
        );
        let (b, _) = map(r#"{"device": "t", "runner": {"name": "loadbalance"}}"#);
        let b = b.expect("maps");
        assert_eq!(
            (b.mode, b.option("tlb_dynamic_lb"), b.option("miimon")),
            ("balance-tlb", Some("0"), Some("100"))
        );
    }

    #[test]
    fn what_bonding_cannot_do_is_an_error() {
        for (config, msg) in [
            (
                r#"{"device": "t", "runner": {"name": "random"}}"#,
                "runner random has no bonding mode",
            ),
            (
                r#"{"device": "t", "runner": {"name": "lacp", "agg_select_policy": "lacp_prio"}}"#,
                "has no bonding ad_select",
            ),
            (
                r#"{"device": "t", "link_watch": {"name": "nsna_ping", "target_host": "fe80::1"}}"#,
                "link watch nsna_ping has no bonding equivalent",
            ),
            (r#"{"runner": {"name": "broadcast"}}"#, "names no device"),
            (r#"{"device": "t", "device": "u"}"#, "invalid JSON"),
        ] {
            let (b, msgs) = map(config);
            assert!(b.is_none(), "{config}");
            assert!(
                msgs.iter()
                    .any(|m| m.starts_with("Error") && m.contains(msg)),
                "{msgs:?}"
            );
        }
    }
}
