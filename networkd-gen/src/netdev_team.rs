//! `.netdev` files with `Kind=team`: the `[NetDev]` and `[Team]` sections
//! become a teamd JSON document (without `ports`; those come from the port
//! `.network` files, see `network`). Key names follow systemd.netdev(5)'s
//! `[Bond]` section; the table is in the crate README and in
//! systemd.netdev-team(5).

use serde_json::{json, Map, Value};

use crate::diag::{Diags, Origin};
use crate::keys::{self, add_list, boolean, int, one_of, set, Setting, WatchKeys};
use crate::load::{self, Roots, UnitFile};
use crate::values;

pub const RUNNERS: [&str; 6] = [
    "roundrobin",
    "broadcast",
    "random",
    "activebackup",
    "loadbalance",
    "lacp",
];

pub const TX_HASH: [&str; 10] = [
    "eth", "vlan", "ipv4", "ipv6", "ip", "l3", "tcp", "udp", "sctp", "l4",
];

/// teamd's default `tx_hash`, left out when asked for.
const TX_HASH_DEFAULT: [&str; 3] = ["eth", "ipv4", "ipv6"];

/// A team defined by a `.netdev` file.
#[derive(Clone, Debug)]
pub struct NetdevTeam {
    pub name: String,
    /// The .netdev file (main file) on the system.
    pub path: String,
    /// Everything read to make the document: the file, its drop-ins and
    /// the ConfigFile=.
    pub sources: Vec<String>,
    /// The document without `ports`, and the ports ConfigFile= listed.
    pub doc: Map<String, Value>,
    pub config_file_ports: Map<String, Value>,
    /// The runner in effect (for checking port settings).
    pub runner: String,
}

/// What a `.netdev` file is to us.
#[derive(Debug)]
pub enum Parsed {
    /// Another kind: networkd's business.
    NotTeam,
    /// A team whose name is known; Err when its settings have errors (the
    /// messages are in the Diags).
    Team(String, Result<Box<NetdevTeam>, ()>),
}

#[derive(Default)]
struct TeamKeys {
    runner: Setting<String>,
    tx_hash: Setting<Vec<String>>,
    tx_balancer: Setting<String>,
    balancing_interval: Setting<i64>,
    hwaddr_policy: Setting<String>,
    lacp_active: Setting<bool>,
    lacp_rate: Setting<String>,
    lacp_sys_prio: Setting<i64>,
    lacp_min_ports: Setting<i64>,
    lacp_select: Setting<String>,
    lacp_fallback: Setting<bool>,
    watch: WatchKeys,
    watch_policy: Setting<String>,
    notify_count: Setting<i64>,
    notify_interval: Setting<i64>,
    rejoin_count: Setting<i64>,
    rejoin_interval: Setting<i64>,
    config_file: Setting<String>,
}

fn tenths(v: &str) -> Result<i64, String> {
    let ms = values::parse_ms(v)?;
    if ms % 100 != 0 {
        return Err(format!(
            "\"{v}\" is not a multiple of 100ms (teamd counts tenths of a second)"
        ));
    }
    Ok(ms / 100)
}

fn absolute_path(v: &str) -> Result<String, String> {
    if v.starts_with('/') && !v.split('/').any(|c| c == "..") {
        Ok(v.to_string())
    } else {
        Err(format!("\"{v}\" is not an absolute path"))
    }
}

pub fn parse(file: &UnitFile, roots: &Roots, diags: &mut Diags) -> Parsed {
    let mut kind: Setting<String> = None;
    let mut name: Setting<String> = None;
    let mut mac: Setting<String> = None;
    let mut local = Diags::default();
    for s in file.sections("NetDev") {
        for e in &s.entries {
            match e.key.as_str() {
                "Kind" => set(&mut kind, s, e, &mut local, |v| Ok(v.to_string())),
                "Name" => set(&mut name, s, e, &mut local, |v| Ok(v.to_string())),
                "MACAddress" => set(&mut mac, s, e, &mut local, |v| {
                    values::parse_mac(v).ok_or_else(|| format!("\"{v}\" is not a MAC address"))
                }),
                _ => {}
            }
        }
    }
    if kind.as_ref().map(|k| k.0.as_str()) != Some("team") {
        return Parsed::NotTeam;
    }
    let Some((name, name_origin)) = name else {
        diags.error(
            Origin::file(&file.path)
                .in_section("NetDev")
                .with_key("Name"),
            "Kind=team needs Name=",
        );
        return Parsed::NotTeam;
    };
    if !values::valid_ifname(&name) {
        diags.error(
            name_origin,
            format!("\"{name}\" is not a valid interface name"),
        );
        return Parsed::NotTeam;
    }
    // the generator and the helper run teamd@NAME; %i must give NAME back
    if !values::instance_safe(&name) {
        diags.error(
            name_origin,
            format!(
                "\"{name}\" cannot be a teamd@ instance name as it is; \
                 use letters, digits and \":_.-\""
            ),
        );
        return Parsed::NotTeam;
    }

    for s in file.sections("NetDev") {
        for e in &s.entries {
            match e.key.as_str() {
                "Kind" | "Name" | "MACAddress" | "Description" => {}
                "MTUBytes" => local.error(
                    s.origin(e),
                    "teamd does not set the MTU; set MTUBytes= in [Link] of the team's .network",
                ),
                _ => local.warning(s.origin(e), "not used for Kind=team; ignored"),
            }
        }
    }
    for s in &file.sections {
        match s.name.as_str() {
            "NetDev" | "Team" => {}
            "Match" => local.warning(
                Origin::file(&s.file).at_line(s.line).in_section("Match"),
                "conditions of a team .netdev are not evaluated; the team is always set up",
            ),
            other => local.warning(
                Origin::file(&s.file).at_line(s.line).in_section(other),
                "unknown section for Kind=team; ignored",
            ),
        }
    }

    let mut k = TeamKeys::default();
    for s in file.sections("Team") {
        for e in &s.entries {
            let l = &mut local;
            match e.key.as_str() {
                "Runner" => set(&mut k.runner, s, e, l, one_of(&RUNNERS)),
                "TransmitHash" => {
                    add_list(&mut k.tx_hash, s, e);
                    if let Some((list, o)) = &k.tx_hash {
                        if let Some(bad) = list.iter().find(|h| !TX_HASH.contains(&h.as_str())) {
                            l.error(
                                o.clone(),
                                format!("unknown hash \"{bad}\"; expected {}", TX_HASH.join(", ")),
                            );
                        }
                    }
                }
                "TransmitBalancer" => set(&mut k.tx_balancer, s, e, l, one_of(&["basic", "none"])),
                "BalancingIntervalSec" => set(&mut k.balancing_interval, s, e, l, tenths),
                "HWAddressPolicy" => set(
                    &mut k.hwaddr_policy,
                    s,
                    e,
                    l,
                    one_of(&["same_all", "by_active", "only_active"]),
                ),
                "LACPActive" => set(&mut k.lacp_active, s, e, l, boolean),
                "LACPTransmitRate" => set(&mut k.lacp_rate, s, e, l, one_of(&["slow", "fast"])),
                "LACPSystemPriority" => set(&mut k.lacp_sys_prio, s, e, l, int(0, 65535)),
                "LACPMinPorts" => set(&mut k.lacp_min_ports, s, e, l, int(1, 1024)),
                "LACPAggregatorSelectPolicy" => set(
                    &mut k.lacp_select,
                    s,
                    e,
                    l,
                    one_of(&[
                        "lacp_prio",
                        "lacp_prio_stable",
                        "bandwidth",
                        "count",
                        "port_config",
                    ]),
                ),
                "LACPFallback" => set(&mut k.lacp_fallback, s, e, l, boolean),
                "LinkWatchPolicy" => set(&mut k.watch_policy, s, e, l, one_of(&["any", "all"])),
                "NotifyPeersCount" => set(&mut k.notify_count, s, e, l, int(0, i32::MAX as i64)),
                "NotifyPeersIntervalSec" => set(&mut k.notify_interval, s, e, l, values::parse_ms),
                "MulticastRejoinCount" => {
                    set(&mut k.rejoin_count, s, e, l, int(0, i32::MAX as i64))
                }
                "MulticastRejoinIntervalSec" => {
                    set(&mut k.rejoin_interval, s, e, l, values::parse_ms)
                }
                "ConfigFile" => set(&mut k.config_file, s, e, l, absolute_path),
                _ => {
                    if !k.watch.take(s, e, l) {
                        keys::unknown_key(s, e, l);
                    }
                }
            }
        }
    }

    let mut sources = vec![file.path.clone()];
    sources.extend(file.dropins.iter().cloned());

    // ConfigFile=: the base document; the keys above override its values
    let mut doc = Map::new();
    let mut config_file_ports = Map::new();
    if let Some((path, origin)) = &k.config_file {
        sources.push(path.clone());
        match load::read_config_file(roots, path) {
            Err(e) => local.error(origin.clone(), format!("cannot read {path}: {e}")),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => doc = m,
                Ok(_) => local.error(origin.clone(), format!("{path}: not a JSON object")),
                Err(e) => local.error(origin.clone(), format!("{path}: invalid JSON: {e}")),
            },
        }
        match doc.get("device") {
            None => {}
            Some(Value::String(d)) if *d == name => {}
            Some(other) => local.error(
                origin.clone(),
                format!("{path}: \"device\" is {other}, but the .netdev's Name= is \"{name}\""),
            ),
        }
        if let Some(ports) = doc.remove("ports") {
            match ports {
                Value::Object(p) => config_file_ports = p,
                _ => local.error(
                    origin.clone(),
                    format!("{path}: \"ports\" is not an object"),
                ),
            }
        }
    }
    doc.insert("device".into(), json!(name));
    if let Some((m, _)) = &mac {
        doc.insert("hwaddr".into(), json!(m));
    }

    let base_runner = doc
        .get("runner")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .map(String::from);
    let runner = k
        .runner
        .as_ref()
        .map(|r| r.0.clone())
        .or(base_runner)
        .unwrap_or_else(|| "roundrobin".into());
    // with Runner= refused, "not roundrobin" warnings would mislead
    let runner_refused = local.0.iter().any(|d| {
        d.origin.section.as_deref() == Some("Team") && d.origin.key.as_deref() == Some("Runner")
    });
    let mut runner_diags = Diags::default();
    apply_runner(&k, &runner, &mut doc, &mut runner_diags);
    if !runner_refused {
        local.extend(runner_diags);
    }

    if let Some(w) = k.watch.build(&mut local) {
        doc.insert("link_watch".into(), w);
    }
    if let Some((p, _)) = &k.watch_policy {
        if p != "any" {
            doc.insert("link_watch_policy".into(), json!(p));
        }
    }
    // notify_peers / mcast_rejoin have no default to leave out: unset means
    // "leave the kernel's value", so what is written is always said
    for (key, count, interval) in [
        ("notify_peers", &k.notify_count, &k.notify_interval),
        ("mcast_rejoin", &k.rejoin_count, &k.rejoin_interval),
    ] {
        let obj = entry_object(&mut doc, key);
        if let Some((c, _)) = count {
            obj.insert("count".into(), json!(c));
        }
        if let Some((i, _)) = interval {
            obj.insert("interval".into(), json!(i));
        }
        if obj.is_empty() {
            doc.remove(key);
        }
    }

    let failed = local.has_errors();
    diags.extend(local);
    let team = NetdevTeam {
        name: name.clone(),
        path: file.path.clone(),
        sources,
        doc,
        config_file_ports,
        runner,
    };
    Parsed::Team(name, if failed { Err(()) } else { Ok(Box::new(team)) })
}

/// The object under `key`, made one if it is missing or not an object.
fn entry_object<'a>(doc: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let v = doc.entry(key).or_insert_with(|| json!({}));
    if !v.is_object() {
        *v = json!({});
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("entry_object: just made an object"),
    }
}

fn apply_runner(k: &TeamKeys, runner: &str, doc: &mut Map<String, Value>, diags: &mut Diags) {
    let for_runner = |slot: Option<&Origin>, runners: &[&str], diags: &mut Diags| -> bool {
        match slot {
            None => false,
            Some(_) if runners.contains(&runner) => true,
            Some(o) => {
                diags.warning(
                    o.clone(),
                    format!(
                        "only applies to Runner={}, not {runner}; ignored",
                        runners.join(" or Runner=")
                    ),
                );
                false
            }
        }
    };
    let origin = |s: &Setting<String>| s.as_ref().map(|x| x.1.clone());
    let r = entry_object(doc, "runner");
    if k.runner.is_some() || !r.contains_key("name") {
        // teamd's default needs no writing, but the runner is the one key a
        // reader looks for first
        r.insert("name".into(), json!(runner));
    }
    let lb = ["loadbalance", "lacp"];
    if let Some((hash, o)) = &k.tx_hash {
        if for_runner(Some(o), &lb, diags) && hash.iter().map(String::as_str).ne(TX_HASH_DEFAULT) {
            r.insert("tx_hash".into(), json!(hash));
        }
    }
    let mut balancer_on = false;
    if let Some((b, o)) = &k.tx_balancer {
        if for_runner(Some(o), &lb, diags) && b == "basic" {
            entry_object(r, "tx_balancer").insert("name".into(), json!("basic"));
            balancer_on = true;
        }
    }
    if let Some((t, o)) = &k.balancing_interval {
        if !balancer_on {
            diags.warning(
                o.clone(),
                "only applies with TransmitBalancer=basic; ignored",
            );
        } else if *t != 50 {
            entry_object(r, "tx_balancer").insert("balancing_interval".into(), json!(t));
        }
    }
    if let Some((p, _)) = &k.hwaddr_policy {
        if for_runner(origin(&k.hwaddr_policy).as_ref(), &["activebackup"], diags)
            && p != "same_all"
        {
            r.insert("hwaddr_policy".into(), json!(p));
        }
    }
    let lacp = ["lacp"];
    if let Some((v, o)) = &k.lacp_active {
        if for_runner(Some(o), &lacp, diags) && !v {
            r.insert("active".into(), json!(false));
        }
    }
    if let Some((v, o)) = &k.lacp_rate {
        if for_runner(Some(o), &lacp, diags) && v == "fast" {
            r.insert("fast_rate".into(), json!(true));
        }
    }
    if let Some((v, o)) = &k.lacp_sys_prio {
        if for_runner(Some(o), &lacp, diags) && *v != 65535 {
            r.insert("sys_prio".into(), json!(v));
        }
    }
    if let Some((v, o)) = &k.lacp_min_ports {
        if for_runner(Some(o), &lacp, diags) && *v != 1 {
            r.insert("min_ports".into(), json!(v));
        }
    }
    if let Some((v, o)) = &k.lacp_select {
        if for_runner(Some(o), &lacp, diags) && v != "lacp_prio" {
            r.insert("agg_select_policy".into(), json!(v));
        }
    }
    if let Some((v, o)) = &k.lacp_fallback {
        if for_runner(Some(o), &lacp, diags) && *v {
            r.insert("fallback".into(), json!(true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ini;

    fn unit(text: &str) -> UnitFile {
        let mut d = Diags::default();
        let sections =
            ini::parse(text, "/etc/systemd/network/team0.netdev", &mut d).expect("parses");
        UnitFile {
            name: "team0.netdev".into(),
            path: "/etc/systemd/network/team0.netdev".into(),
            dropins: vec![],
            sections,
        }
    }

    fn team(text: &str) -> (Result<Box<NetdevTeam>, ()>, Vec<String>) {
        let mut d = Diags::default();
        let roots = Roots::new("/nonexistent");
        match parse(&unit(text), &roots, &mut d) {
            Parsed::Team(_, t) => (t, d.0.iter().map(|d| d.to_string()).collect()),
            Parsed::NotTeam => panic!("not a team: {:?}", d),
        }
    }

    const HEAD: &str = "[NetDev]\nName=team0\nKind=team\n";

    #[test]
    fn minimal_team_is_roundrobin_and_nothing_else() {
        let (t, msgs) = team(HEAD);
        assert!(msgs.is_empty());
        let t = t.expect("ok");
        assert_eq!(
            Value::Object(t.doc),
            json!({"device": "team0", "runner": {"name": "roundrobin"}})
        );
    }

    #[test]
    fn lacp_team() {
        let (t, msgs) = team(&format!(
            "{HEAD}MACAddress=02-00-00-00-00-01\n[Team]\nRunner=lacp\nTransmitHash=l3 l4\n\
             TransmitBalancer=basic\nBalancingIntervalSec=2s\nLACPActive=yes\nLACPTransmitRate=fast\n\
             LACPSystemPriority=100\nLACPMinPorts=2\nLACPAggregatorSelectPolicy=bandwidth\n\
             LACPFallback=yes\nLinkWatch=ethtool\nLinkWatchUpDelaySec=500ms\n"
        ));
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(
            Value::Object(t.expect("ok").doc),
            json!({
                "device": "team0",
                "hwaddr": "02:00:00:00:00:01",
                "runner": {
                    "name": "lacp", "tx_hash": ["l3", "l4"],
                    "tx_balancer": {"name": "basic", "balancing_interval": 20},
                    "fast_rate": true, "sys_prio": 100, "min_ports": 2,
                    "agg_select_policy": "bandwidth", "fallback": true
                },
                "link_watch": {"name": "ethtool", "delay_up": 500}
            })
        );
    }

    #[test]
    fn defaults_are_not_written() {
        let (t, msgs) = team(&format!(
            "{HEAD}[Team]\nRunner=lacp\nTransmitHash=eth ipv4 ipv6\nLACPActive=yes\n\
             LACPTransmitRate=slow\nLACPSystemPriority=65535\nLACPMinPorts=1\n\
             LACPAggregatorSelectPolicy=lacp_prio\nTransmitBalancer=none\nLinkWatchPolicy=any\n"
        ));
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(
            Value::Object(t.expect("ok").doc),
            json!({"device": "team0", "runner": {"name": "lacp"}})
        );
    }

    #[test]
    fn activebackup_and_bursts() {
        let (t, msgs) = team(&format!(
            "{HEAD}[Team]\nRunner=activebackup\nHWAddressPolicy=by_active\nNotifyPeersCount=0\n\
             NotifyPeersIntervalSec=1s\nMulticastRejoinCount=2\nLinkWatchPolicy=all\n"
        ));
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(
            Value::Object(t.expect("ok").doc),
            json!({
                "device": "team0",
                "runner": {"name": "activebackup", "hwaddr_policy": "by_active"},
                "link_watch_policy": "all",
                "notify_peers": {"count": 0, "interval": 1000},
                "mcast_rejoin": {"count": 2}
            })
        );
    }

    #[test]
    fn later_assignments_and_dropins_win() {
        let (t, _) = team(&format!(
            "{HEAD}[Team]\nRunner=lacp\n[Team]\nRunner=\nRunner=broadcast\n"
        ));
        assert_eq!(t.expect("ok").runner, "broadcast");
    }

    #[test]
    fn wrong_runner_keys_warn() {
        let (t, msgs) = team(&format!(
            "{HEAD}[Team]\nRunner=activebackup\nLACPTransmitRate=fast\nTransmitHash=l4\n"
        ));
        assert!(t.is_ok());
        assert_eq!(
            msgs,
            [
                "/etc/systemd/network/team0.netdev:7: [Team] TransmitHash=: only applies to Runner=loadbalance or Runner=lacp, not activebackup; ignored",
                "/etc/systemd/network/team0.netdev:6: [Team] LACPTransmitRate=: only applies to Runner=lacp, not activebackup; ignored",
            ]
        );
    }

    #[test]
    fn errors_name_file_section_and_key() {
        let (t, msgs) = team(&format!(
            "{HEAD}MTUBytes=9000\n[Team]\nRunner=802.3ad\nRuner=lacp\nBalancingIntervalSec=150ms\n\
             TransmitHash=l3 mac\nLACPSystemPriority=70000\nConfigFile=teamd.json\n"
        ));
        assert!(t.is_err());
        assert_eq!(
            msgs,
            [
                "/etc/systemd/network/team0.netdev:4: [NetDev] MTUBytes=: teamd does not set the MTU; set MTUBytes= in [Link] of the team's .network",
                "/etc/systemd/network/team0.netdev:6: [Team] Runner=: \"802.3ad\" is not one of roundrobin, broadcast, random, activebackup, loadbalance, lacp",
                "/etc/systemd/network/team0.netdev:7: [Team] Runer=: unknown key in [Team]",
                "/etc/systemd/network/team0.netdev:8: [Team] BalancingIntervalSec=: \"150ms\" is not a multiple of 100ms (teamd counts tenths of a second)",
                "/etc/systemd/network/team0.netdev:9: [Team] TransmitHash=: unknown hash \"mac\"; expected eth, vlan, ipv4, ipv6, ip, l3, tcp, udp, sctp, l4",
                "/etc/systemd/network/team0.netdev:10: [Team] LACPSystemPriority=: \"70000\" is not an integer in the range 0…65535",
                "/etc/systemd/network/team0.netdev:11: [Team] ConfigFile=: \"teamd.json\" is not an absolute path",
            ]
        );
    }

    #[test]
    fn not_ours_and_unnamed() {
        let mut d = Diags::default();
        let roots = Roots::new("/nonexistent");
        assert!(matches!(
            parse(&unit("[NetDev]\nName=bond0\nKind=bond\n"), &roots, &mut d),
            Parsed::NotTeam
        ));
        assert!(d.0.is_empty());
        assert!(matches!(
            parse(&unit("[NetDev]\nKind=team\n"), &roots, &mut d),
            Parsed::NotTeam
        ));
        assert_eq!(
            d.0[0].to_string(),
            "/etc/systemd/network/team0.netdev: [NetDev] Name=: Kind=team needs Name="
        );
        let mut d = Diags::default();
        assert!(matches!(
            parse(&unit("[NetDev]\nKind=team\nName=t@m\n"), &roots, &mut d),
            Parsed::NotTeam
        ));
        assert!(d.0[0]
            .to_string()
            .contains("cannot be a teamd@ instance name"));
    }

    #[test]
    fn config_file_is_the_base() {
        let t = tempfile::tempdir().expect("tempdir");
        let p = t.path().join("etc/teamd/custom.json");
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &p,
            r#"{"runner": {"name": "lacp", "fast_rate": true}, "ports": {"eth2": {"lacp_prio": 9}, "eth1": {}}, "x_unknown": 1}"#,
        )
        .expect("write");
        let mut d = Diags::default();
        let f = unit(&format!(
            "{HEAD}[Team]\nConfigFile=/etc/teamd/custom.json\nLACPSystemPriority=7\n"
        ));
        let Parsed::Team(_, Ok(team)) = parse(&f, &Roots::new(t.path()), &mut d) else {
            panic!("{:?}", d)
        };
        assert!(d.0.is_empty(), "{:?}", d);
        assert_eq!(team.runner, "lacp");
        assert_eq!(
            Value::Object(team.doc.clone()),
            json!({"runner": {"name": "lacp", "fast_rate": true, "sys_prio": 7}, "x_unknown": 1, "device": "team0"})
        );
        // the file's port order is kept
        let order: Vec<&String> = team.config_file_ports.keys().collect();
        assert_eq!(order, ["eth2", "eth1"]);
        assert_eq!(
            team.sources,
            [
                "/etc/systemd/network/team0.netdev",
                "/etc/teamd/custom.json"
            ]
        );

        std::fs::write(&p, r#"{"device": "team9"}"#).expect("write");
        let mut d = Diags::default();
        assert!(matches!(
            parse(&f, &Roots::new(t.path()), &mut d),
            Parsed::Team(_, Err(()))
        ));
        assert_eq!(
            d.0[0].to_string(),
            "/etc/systemd/network/team0.netdev:5: [Team] ConfigFile=: /etc/teamd/custom.json: \"device\" is \"team9\", but the .netdev's Name= is \"team0\""
        );
    }
}
