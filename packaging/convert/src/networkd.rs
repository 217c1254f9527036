//! systemd-networkd files in networkd-gen's format (systemd.netdev-team(5)):
//! `NAME.netdev` with `Kind=team` and `[Team]`, one `.network` per port
//! with `[Network] Team=` and `[TeamPort]`, and the team link's own
//! `.network` with its addresses. A teamd setting that has no key there is
//! an error naming it (`--to nm` or `--to teamd` keep everything).

use std::net::{Ipv4Addr, Ipv6Addr};

use networkd_gen::diag::Diags;
use networkd_gen::keys::WATCH_KINDS;
use networkd_gen::netdev_team::{RUNNERS, TX_HASH};
use serde_json::{Map, Value};

use crate::output::OutFile;
use crate::team::{normalize_mac, Ipv4Method, Ipv6Method, Team};

type Keys = Vec<(String, String)>;

/// A unit file: `[Section]` blocks of `Key=value` lines.
fn unit(head: &str, sections: &[(&str, &Keys)]) -> String {
    let mut out = format!("# {head}\n");
    for (name, keys) in sections.iter().filter(|(_, k)| !k.is_empty()) {
        out.push_str(&format!("\n[{name}]\n"));
        for (k, v) in keys.iter() {
            out.push_str(&format!("{k}={v}\n"));
        }
    }
    out
}

fn kv(keys: &mut Keys, k: &str, v: impl ToString) {
    keys.push((k.to_string(), v.to_string()));
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// What went wrong at which key path of the config.
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.0.push(format!("{path}: {msg}"));
    }
}

fn int(v: &Value, path: &str, min: i64, max: i64, p: &mut Problems) -> Option<i64> {
    match v.as_i64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            p.add(path, format!("{v} is not an integer in {min}..={max}"));
            None
        }
    }
}

fn boolean(v: &Value, path: &str, p: &mut Problems) -> Option<bool> {
    let b = v.as_bool();
    if b.is_none() {
        p.add(path, format!("{v} is not true or false"));
    }
    b
}

fn string<'a>(v: &'a Value, path: &str, allowed: &[&str], p: &mut Problems) -> Option<&'a str> {
    match v.as_str() {
        Some(s) if allowed.is_empty() || allowed.contains(&s) => Some(s),
        _ => {
            p.add(path, format!("{v} is not one of {}", allowed.join(", ")));
            None
        }
    }
}

fn no_key(path: &str, p: &mut Problems) {
    p.add(
        path,
        "has no systemd.netdev-team(5) key; use --to nm or --to teamd to keep it",
    );
}

/// `[Team]` keys (and `[NetDev] MACAddress=`) for a team config.
fn team_keys(
    doc: &Map<String, Value>,
    device: &str,
    p: &mut Problems,
    warn: &mut Vec<String>,
) -> (Keys, Keys) {
    let mut team = Keys::new();
    let mut netdev = Keys::new();
    let runner = doc
        .get("runner")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("roundrobin");
    for (k, v) in doc {
        match k.as_str() {
            "device" => {
                if v.as_str() != Some(device) {
                    warn.push(format!("device {v} in the config is replaced by {device}"));
                }
            }
            "hwaddr" => match v.as_str().and_then(normalize_mac) {
                Some(m) => kv(&mut netdev, "MACAddress", m),
                None => p.add("hwaddr", format!("{v} is not a MAC address")),
            },
            "runner" => runner_keys(v, runner, &mut team, p, warn),
            "link_watch" => watch_keys(v, "link_watch", &mut team, p),
            "link_watch_policy" => {
                if let Some(s) = string(v, k, &["any", "all"], p) {
                    kv(&mut team, "LinkWatchPolicy", s);
                }
            }
            "notify_peers" | "mcast_rejoin" => {
                let (count, interval) = if k == "notify_peers" {
                    ("NotifyPeersCount", "NotifyPeersIntervalSec")
                } else {
                    ("MulticastRejoinCount", "MulticastRejoinIntervalSec")
                };
                let Some(o) = v.as_object() else {
                    p.add(k, "is not an object");
                    continue;
                };
                for (sub, sv) in o {
                    let path = format!("{k}.{sub}");
                    match sub.as_str() {
                        "count" => {
                            if let Some(n) = int(sv, &path, 0, i32::MAX.into(), p) {
                                kv(&mut team, count, n);
                            }
                        }
                        "interval" => {
                            if let Some(n) = int(sv, &path, 0, i32::MAX.into(), p) {
                                kv(&mut team, interval, format!("{n}ms"));
                            }
                        }
                        _ => no_key(&path, p),
                    }
                }
            }
            "debug_level" => warn.push("debug_level is not converted".into()),
            "ports" => p.add(
                "ports",
                "give the ports as team ports, not in the team config",
            ),
            _ => no_key(k, p),
        }
    }
    (netdev, team)
}

fn runner_keys(v: &Value, runner: &str, team: &mut Keys, p: &mut Problems, warn: &mut Vec<String>) {
    let Some(o) = v.as_object() else {
        p.add("runner", "is not an object");
        return;
    };
    let for_runner = |key: &str, runners: &[&str], warn: &mut Vec<String>| {
        let ok = runners.contains(&runner);
        if !ok {
            warn.push(format!(
                "runner.{key} does nothing with runner {runner}; left out"
            ));
        }
        ok
    };
    const LB: &[&str] = &["loadbalance", "lacp"];
    for (k, v) in o {
        let path = format!("runner.{k}");
        let path = path.as_str();
        match k.as_str() {
            "name" => {
                if let Some(s) = string(v, path, &RUNNERS, p) {
                    kv(team, "Runner", s);
                }
            }
            "hwaddr_policy" if for_runner(k, &["activebackup"], warn) => {
                if let Some(s) = string(v, path, &["same_all", "by_active", "only_active"], p) {
                    kv(team, "HWAddressPolicy", s);
                }
            }
            "tx_hash" if for_runner(k, LB, warn) => {
                let list: Option<Vec<&str>> = v
                    .as_array()
                    .and_then(|a| a.iter().map(Value::as_str).collect());
                match list {
                    Some(l) if !l.is_empty() && l.iter().all(|h| TX_HASH.contains(h)) => {
                        kv(team, "TransmitHash", l.join(" "))
                    }
                    _ => p.add(path, format!("{v} is not a list of {}", TX_HASH.join(", "))),
                }
            }
            "tx_balancer" if for_runner(k, LB, warn) => {
                let Some(b) = v.as_object() else {
                    p.add(path, "is not an object");
                    continue;
                };
                let basic = b.get("name").and_then(Value::as_str) == Some("basic");
                for (bk, bv) in b {
                    let bpath = format!("{path}.{bk}");
                    match bk.as_str() {
                        "name" => {
                            if let Some(s) = string(bv, &bpath, &["basic"], p) {
                                kv(team, "TransmitBalancer", s);
                            }
                        }
                        "balancing_interval" if basic => {
                            if let Some(n) = int(bv, &bpath, 0, (i32::MAX / 100).into(), p) {
                                kv(team, "BalancingIntervalSec", format!("{}ms", n * 100));
                            }
                        }
                        _ => no_key(&bpath, p),
                    }
                }
            }
            "active" if for_runner(k, &["lacp"], warn) => {
                if let Some(b) = boolean(v, path, p) {
                    kv(team, "LACPActive", yes(b));
                }
            }
            "fast_rate" if for_runner(k, &["lacp"], warn) => {
                if let Some(b) = boolean(v, path, p) {
                    kv(team, "LACPTransmitRate", if b { "fast" } else { "slow" });
                }
            }
            "sys_prio" if for_runner(k, &["lacp"], warn) => {
                if let Some(n) = int(v, path, 0, 65535, p) {
                    kv(team, "LACPSystemPriority", n);
                }
            }
            "min_ports" if for_runner(k, &["lacp"], warn) => {
                if let Some(n) = int(v, path, 1, 1024, p) {
                    kv(team, "LACPMinPorts", n);
                }
            }
            "agg_select_policy" if for_runner(k, &["lacp"], warn) => {
                let all = [
                    "lacp_prio",
                    "lacp_prio_stable",
                    "bandwidth",
                    "count",
                    "port_config",
                ];
                if let Some(s) = string(v, path, &all, p) {
                    kv(team, "LACPAggregatorSelectPolicy", s);
                }
            }
            "fallback" if for_runner(k, &["lacp"], warn) => {
                if let Some(b) = boolean(v, path, p) {
                    kv(team, "LACPFallback", yes(b));
                }
            }
            "hwaddr_policy" | "tx_hash" | "tx_balancer" | "active" | "fast_rate" | "sys_prio"
            | "min_ports" | "agg_select_policy" | "fallback" => {}
            _ => no_key(path, p),
        }
    }
}

/// The `LinkWatch*` keys for a `link_watch` value. networkd-gen has one set
/// of settings per kind and makes one ping watch per target, so ping
/// watches of a kind must agree on everything but `target_host`.
fn watch_keys(v: &Value, path: &str, keys: &mut Keys, p: &mut Problems) {
    if let Err(e) = nm_team_settings::watcher::from_json_value(v) {
        p.add(path, e);
        return;
    }
    let items: Vec<&Map<String, Value>> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => return,
    };
    let mut kinds: Vec<&str> = Vec::new();
    let mut ethtool: Option<&Map<String, Value>> = None;
    // the settings every ping watch (and every arp_ping watch) must share
    let mut ping_common: Option<Map<String, Value>> = None;
    let mut arp_common: Option<Map<String, Value>> = None;
    let mut targets: Vec<(&str, &str)> = Vec::new();
    for w in items {
        let name = w.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(k) = WATCH_KINDS.iter().find(|k| **k == name) {
            if !kinds.contains(k) {
                kinds.push(k);
            }
        }
        if name == "ethtool" {
            if ethtool.is_some() {
                p.add(
                    path,
                    "two ethtool watches cannot be written as LinkWatch= keys",
                );
            }
            ethtool = Some(w);
            continue;
        }
        let pick = |keys: &[&str]| -> Map<String, Value> {
            keys.iter()
                .filter_map(|k| w.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect()
        };
        let shared = pick(&["interval", "init_wait", "missed_max"]);
        if ping_common.get_or_insert_with(|| shared.clone()) != &shared {
            p.add(path, "ping watches with different interval, init_wait or missed_max cannot be written as LinkWatch= keys");
        }
        if name == "arp_ping" {
            let arp = pick(&[
                "source_host",
                "validate_active",
                "validate_inactive",
                "send_always",
                "vlanid",
            ]);
            if arp_common.get_or_insert_with(|| arp.clone()) != &arp {
                p.add(path, "arp_ping watches that differ in more than target_host cannot be written as LinkWatch= keys");
            }
        }
        match w.get("target_host").and_then(Value::as_str) {
            Some(t) => targets.push((name, t)),
            None => p.add(path, format!("the {name} watch has no target_host")),
        }
    }
    kv(keys, "LinkWatch", kinds.join(" "));
    let ms = |v: &Value| format!("{}ms", v.as_i64().unwrap_or_default());
    if let Some(e) = ethtool {
        if let Some(v) = e.get("delay_up") {
            kv(keys, "LinkWatchUpDelaySec", ms(v));
        }
        if let Some(v) = e.get("delay_down") {
            kv(keys, "LinkWatchDownDelaySec", ms(v));
        }
    }
    if let Some(c) = &ping_common {
        for (k, key) in [
            ("interval", "LinkWatchIntervalSec"),
            ("init_wait", "LinkWatchInitialWaitSec"),
        ] {
            if let Some(v) = c.get(k) {
                kv(keys, key, ms(v));
            }
        }
        if let Some(v) = c.get("missed_max") {
            kv(keys, "LinkWatchMissedMax", v);
        }
    }
    let both = kinds.contains(&"arp_ping") && kinds.contains(&"nsna_ping");
    let mut list = Vec::new();
    for (kind, t) in &targets {
        let fits = match kind {
            &"arp_ping" => {
                t.parse::<Ipv4Addr>().is_ok() || (!both && t.parse::<Ipv6Addr>().is_err())
            }
            _ => t.parse::<Ipv6Addr>().is_ok() || (!both && t.parse::<Ipv4Addr>().is_err()),
        };
        if fits {
            list.push(*t);
        } else {
            p.add(path, format!("target_host {t} of {kind} would go to the other kind of watch; give an address of its family"));
        }
    }
    if !list.is_empty() {
        kv(keys, "LinkWatchTargets", list.join(" "));
    }
    if let Some(a) = &arp_common {
        if let Some(v) = a.get("source_host").and_then(Value::as_str) {
            kv(keys, "LinkWatchSourceAddress", v);
        }
        let flag = |k: &str| a.get(k).and_then(Value::as_bool).unwrap_or(false);
        match (flag("validate_active"), flag("validate_inactive")) {
            (true, true) => kv(keys, "LinkWatchValidate", "all"),
            (true, false) => kv(keys, "LinkWatchValidate", "active"),
            (false, true) => kv(keys, "LinkWatchValidate", "inactive"),
            (false, false) => {}
        }
        if flag("send_always") {
            kv(keys, "LinkWatchSendAlways", "yes");
        }
        match a.get("vlanid").and_then(Value::as_i64) {
            Some(-1) | None => {}
            Some(id) => kv(keys, "LinkWatchVLANId", id),
        }
    }
}

fn port_keys(cfg: &Map<String, Value>, p: &mut Problems) -> Keys {
    let mut keys = Keys::new();
    for (k, v) in cfg {
        let path = k.as_str();
        match path {
            "prio" => {
                if let Some(n) = int(v, path, i32::MIN.into(), i32::MAX.into(), p) {
                    kv(&mut keys, "Priority", n);
                }
            }
            "sticky" => {
                if let Some(b) = boolean(v, path, p) {
                    kv(&mut keys, "Sticky", yes(b));
                }
            }
            "queue_id" => {
                if let Some(n) = int(v, path, 0, i32::MAX.into(), p) {
                    kv(&mut keys, "QueueId", n);
                }
            }
            "lacp_prio" => {
                if let Some(n) = int(v, path, 0, 65535, p) {
                    kv(&mut keys, "LACPPriority", n);
                }
            }
            "lacp_key" => {
                if let Some(n) = int(v, path, 0, 65535, p) {
                    kv(&mut keys, "LACPKey", n);
                }
            }
            "link_watch" => watch_keys(v, path, &mut keys, p),
            _ => no_key(path, p),
        }
    }
    keys
}

fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match teamd_ctl_proto::json::parse_strict(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the JSON is not an object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// The team link's own `.network`: addresses, DHCP, DNS, MTU.
fn link_network(team: &Team) -> String {
    let mut m = Keys::new();
    kv(&mut m, "Name", &team.device);
    let mut link = Keys::new();
    if let Some(mtu) = team.mtu {
        kv(&mut link, "MTUBytes", mtu);
    }
    let mut net = Keys::new();
    let (v4, v6) = (&team.ipv4, &team.ipv6);
    let dhcp = match (v4.method == Ipv4Method::Auto, v6.method == Ipv6Method::Dhcp) {
        (true, true) => "yes",
        (true, false) => "ipv4",
        (false, true) => "ipv6",
        (false, false) => "no",
    };
    kv(&mut net, "DHCP", dhcp);
    for (a, p) in &v4.addresses {
        kv(&mut net, "Address", format!("{a}/{p}"));
    }
    for (a, p) in &v6.addresses {
        kv(&mut net, "Address", format!("{a}/{p}"));
    }
    if !v4.never_default {
        if let Some(g) = v4.gateway {
            kv(&mut net, "Gateway", g);
        }
    }
    if let Some(g) = v6.gateway {
        kv(&mut net, "Gateway", g);
    }
    for d in &v4.dns {
        kv(&mut net, "DNS", d);
    }
    for d in &v6.dns {
        kv(&mut net, "DNS", d);
    }
    match v6.method {
        Ipv6Method::Auto => kv(&mut net, "IPv6AcceptRA", "yes"),
        Ipv6Method::Ignore => {
            kv(&mut net, "IPv6AcceptRA", "no");
            kv(&mut net, "LinkLocalAddressing", "no");
        }
        Ipv6Method::Dhcp | Ipv6Method::Manual => kv(&mut net, "IPv6AcceptRA", "no"),
    }
    let mut dhcp4 = Keys::new();
    if v4.never_default && v4.method == Ipv4Method::Auto {
        kv(&mut dhcp4, "UseGateway", "no");
    }
    let mut dhcp6 = Keys::new();
    if v6.method == Ipv6Method::Dhcp {
        // NM's "dhcp" asks DHCPv6 without waiting for a router advertisement
        kv(&mut dhcp6, "WithoutRA", "solicit");
    }
    unit(
        &format!("the team link {}; made by teamd-convert", team.device),
        &[
            ("Match", &m),
            ("Link", &link),
            ("Network", &net),
            ("DHCPv4", &dhcp4),
            ("DHCPv6", &dhcp6),
        ],
    )
}

pub fn team_files(team: &Team, diags: &mut Diags) -> Vec<OutFile> {
    let mut problems = Problems(Vec::new());
    let mut warn = Vec::new();
    let doc = match parse_object(&team.config) {
        Ok(d) => d,
        Err(e) => {
            diags.error(team.config_origin.clone(), e);
            return Vec::new();
        }
    };
    let (mut netdev, team_section) = team_keys(&doc, &team.device, &mut problems, &mut warn);
    for m in problems.0.drain(..) {
        diags.error(team.config_origin.clone(), m);
    }
    for m in warn.drain(..) {
        diags.warning(team.config_origin.clone(), m);
    }
    netdev.insert(0, ("Kind".into(), "team".into()));
    netdev.insert(0, ("Name".into(), team.device.clone()));
    let head = format!("team {}; made by teamd-convert", team.device);
    let mut files = vec![
        OutFile::new(
            format!("10-{}.netdev", team.device),
            unit(&head, &[("NetDev", &netdev), ("Team", &team_section)]),
        ),
        OutFile::new(format!("10-{}.network", team.device), link_network(team)),
    ];
    if !team.autoconnect {
        diags.warning(
            team.origin.clone(),
            "not started at boot (onboot=no) has no networkd equivalent; the team comes up at boot",
        );
    }
    for port in &team.ports {
        let Some(name) = &port.name else {
            diags.error(
                port.origin.clone(),
                format!(
                    "port {} is given by MAC address only; networkd-gen adds ports by name",
                    port.label()
                ),
            );
            continue;
        };
        let cfg = match parse_object(&port.config) {
            Ok(c) => c,
            Err(e) => {
                diags.error(port.origin.clone(), format!("port {name}: {e}"));
                continue;
            }
        };
        let keys = port_keys(&cfg, &mut problems);
        for m in problems.0.drain(..) {
            diags.error(port.origin.clone(), format!("port {name}: {m}"));
        }
        let mut m = Keys::new();
        kv(&mut m, "Name", name);
        let mut net = Keys::new();
        kv(&mut net, "Team", &team.device);
        files.push(OutFile::new(
            format!("20-{}-port-{name}.network", team.device),
            unit(
                &format!("port {name} of team {}; made by teamd-convert", team.device),
                &[("Match", &m), ("Network", &net), ("TeamPort", &keys)],
            ),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyfile::tests::sample;
    use networkd_gen::load::{Roots, UnitFile};
    use networkd_gen::netdev_team::{self, Parsed};

    /// A file we wrote as networkd-gen loads it from /etc/systemd/network.
    fn unit_file(text: &str, name: &str, d: &mut Diags) -> UnitFile {
        UnitFile {
            name: name.into(),
            path: format!("/etc/systemd/network/{name}"),
            dropins: vec![],
            sections: networkd_gen::ini::parse(text, name, d).expect("ini"),
        }
    }

    /// What networkd-gen makes of a .netdev we wrote.
    fn read_back(text: &str) -> Value {
        let mut d = Diags::default();
        let f = unit_file(text, "t.netdev", &mut d);
        match netdev_team::parse(&f, &Roots::new("/nonexistent"), &mut d) {
            Parsed::Team(_, Ok(t)) => {
                assert!(d.0.is_empty(), "{:?}", d);
                Value::Object(t.doc)
            }
            _ => panic!("{d:?}"),
        }
    }

    /// What networkd-gen makes of a port .network we wrote.
    fn read_back_port(text: &str, runner: &str) -> Value {
        let mut d = Diags::default();
        let f = unit_file(text, "p.network", &mut d);
        let port = networkd_gen::network::parse_port(&f, &mut d).expect("a port file");
        let m = port.keys.build(runner, None, &mut d);
        assert!(d.0.is_empty(), "{:?}", d);
        Value::Object(m)
    }

    #[test]
    fn port_configs_survive_networkd_gen() {
        for (runner, cfg) in [
            (
                "activebackup",
                r#"{"prio": -10, "sticky": true, "queue_id": 2}"#,
            ),
            (
                "lacp",
                r#"{"lacp_prio": 10, "lacp_key": 3, "link_watch": {"name": "ethtool", "delay_down": 200}}"#,
            ),
            (
                "roundrobin",
                r#"{"link_watch": [{"name": "nsna_ping", "target_host": "fe80::1", "interval": 500}, {"name": "arp_ping", "target_host": "192.0.2.9", "interval": 500, "vlanid": 7}]}"#,
            ),
        ] {
            let mut t = sample();
            t.ports.truncate(1);
            t.ports[0].config = cfg.into();
            t.config = format!(r#"{{"runner": {{"name": "{runner}"}}}}"#);
            let mut d = Diags::default();
            let files = team_files(&t, &mut d);
            assert!(!d.has_errors(), "{:?}", d);
            let got = read_back_port(&files[2].content, runner);
            let want: Value = serde_json::from_str(cfg).expect("json");
            // networkd-gen orders watches by kind; compare them as sets
            let norm = |v: &Value| {
                let mut v = v.clone();
                if let Some(Value::Array(a)) = v.get_mut("link_watch") {
                    a.sort_by_key(|w| w.to_string());
                }
                v
            };
            assert_eq!(norm(&got), norm(&want), "{}", files[2].content);
        }
    }

    fn convert(config: &str) -> (Vec<OutFile>, Vec<String>) {
        let mut t = sample();
        t.ports[1].name = Some("eth2".into());
        t.config = config.into();
        let mut d = Diags::default();
        let f = team_files(&t, &mut d);
        (f, d.0.iter().map(|m| m.to_string()).collect())
    }

    #[test]
    fn configs_survive_networkd_gen() {
        for config in [
            r#"{"runner": {"name": "activebackup", "hwaddr_policy": "by_active"}, "link_watch": {"name": "ethtool", "delay_up": 500}, "notify_peers": {"count": 3, "interval": 100}}"#,
            r#"{"runner": {"name": "lacp", "fast_rate": true, "sys_prio": 100, "min_ports": 2, "agg_select_policy": "bandwidth", "tx_hash": ["l3", "l4"], "tx_balancer": {"name": "basic", "balancing_interval": 20}}, "hwaddr": "02:00:00:00:00:01"}"#,
            r#"{"runner": {"name": "activebackup"}, "link_watch": [{"name": "arp_ping", "target_host": "192.0.2.1", "interval": 100, "missed_max": 2, "validate_active": true}, {"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100, "missed_max": 2, "validate_active": true}], "link_watch_policy": "all", "mcast_rejoin": {"count": 1}}"#,
        ] {
            let (files, msgs) = convert(config);
            assert!(
                msgs.iter().all(|m| m.contains("addresses") || m.is_empty()),
                "{msgs:?}"
            );
            let mut want: Value = serde_json::from_str(config).expect("json");
            want["device"] = "team0".into();
            assert_eq!(read_back(&files[0].content), want, "{}", files[0].content);
        }
    }

    #[test]
    fn files_and_keys() {
        let (files, msgs) = convert(r#"{"runner": {"name": "activebackup"}}"#);
        assert!(msgs.is_empty(), "{msgs:?}");
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "10-team0.netdev",
                "10-team0.network",
                "20-team0-port-eth1.network",
                "20-team0-port-eth2.network"
            ]
        );
        assert_eq!(
            files[1].content,
            "# the team link team0; made by teamd-convert\n\n[Match]\nName=team0\n\n[Link]\nMTUBytes=9000\n\n\
             [Network]\nDHCP=no\nAddress=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53\nIPv6AcceptRA=yes\n"
        );
        assert_eq!(
            files[2].content,
            "# port eth1 of team team0; made by teamd-convert\n\n[Match]\nName=eth1\n\n[Network]\nTeam=team0\n\n\
             [TeamPort]\nPriority=100\n"
        );
    }

    #[test]
    fn what_cannot_be_written() {
        let (_, msgs) = convert(
            r#"{"runner": {"name": "lacp", "fallback": 1, "x": 2}, "queue": 1, "link_watch": [{"name": "ethtool"}, {"name": "ethtool"}]}"#,
        );
        assert_eq!(
            msgs,
            [
                "x: runner.fallback: 1 is not true or false",
                "x: runner.x: has no systemd.netdev-team(5) key; use --to nm or --to teamd to keep it",
                "x: queue: has no systemd.netdev-team(5) key; use --to nm or --to teamd to keep it",
                "x: link_watch: two ethtool watches cannot be written as LinkWatch= keys",
            ]
        );
    }
}
