//! `.network` files: a port's file says which team it belongs to
//! (`[Network] Team=`) and may carry `[TeamPort]` settings; the team's own
//! file (`[Match] Name=team0`) is networkd's, as for a bond, and is only
//! looked at to decide the drop-in the helper adds to it.

use serde_json::{json, Map, Value};

use crate::diag::{Diags, Origin};
use crate::keys::{self, boolean, int, set, Setting, WatchKeys};
use crate::load::UnitFile;
use crate::values;

/// A `.network` file that puts its interfaces into a team.
#[derive(Debug)]
pub struct PortFile {
    pub team: String,
    /// Where `Team=` was set.
    pub team_origin: Origin,
    pub ports: Vec<String>,
    /// The file's name (`20-eth1.network`), which its drop-ins are named after.
    pub name: String,
    pub path: String,
    pub sources: Vec<String>,
    pub keys: PortKeys,
    /// False when the file has errors (reported already).
    pub ok: bool,
}

#[derive(Default, Debug)]
pub struct PortKeys {
    prio: Setting<i64>,
    sticky: Setting<bool>,
    queue_id: Setting<i64>,
    lacp_prio: Setting<i64>,
    lacp_key: Setting<i64>,
    watch: WatchKeys,
}

impl PortKeys {
    /// The `ports.<PORT>` object, over what a ConfigFile= had for it.
    /// Defaults of teamd are left out; keys that do nothing with `runner`
    /// are warned about.
    pub fn build(
        &self,
        runner: &str,
        base: Option<&Value>,
        diags: &mut Diags,
    ) -> Map<String, Value> {
        let mut m = match base {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let only = |o: &Origin, runners: &[&str], diags: &mut Diags| -> bool {
            if runners.contains(&runner) {
                return true;
            }
            diags.warning(
                o.clone(),
                format!(
                    "only applies to Runner={}, not {runner}; ignored",
                    runners.join(" or Runner=")
                ),
            );
            false
        };
        if let Some((v, _)) = self.prio {
            if v != 0 {
                m.insert("prio".into(), json!(v));
            }
        }
        if let Some((v, o)) = &self.sticky {
            if only(o, &["activebackup", "lacp"], diags) && *v {
                m.insert("sticky".into(), json!(true));
            }
        }
        if let Some((v, _)) = self.queue_id {
            m.insert("queue_id".into(), json!(v));
        }
        if let Some((v, o)) = &self.lacp_prio {
            if only(o, &["lacp"], diags) && *v != 255 {
                m.insert("lacp_prio".into(), json!(v));
            }
        }
        if let Some((v, o)) = &self.lacp_key {
            if only(o, &["lacp"], diags) && *v != 0 {
                m.insert("lacp_key".into(), json!(v));
            }
        }
        if let Some(w) = self.watch.build(diags) {
            m.insert("link_watch".into(), w);
        }
        m
    }
}

/// The final value of a list key of `[Match]`-like sections (an empty
/// assignment empties it).
fn list_value(file: &UnitFile, section: &str, key: &str) -> Option<(Vec<String>, Origin)> {
    let mut out: Setting<Vec<String>> = None;
    for s in file.sections(section) {
        for e in s.entries.iter().filter(|e| e.key == key) {
            keys::add_list(&mut out, s, e);
        }
    }
    out
}

/// The final value of a single-valued key (an empty assignment unsets it).
fn last_value(file: &UnitFile, section: &str, key: &str) -> Option<(String, Origin)> {
    let mut out = None;
    for s in file.sections(section) {
        for e in s.entries.iter().filter(|e| e.key == key) {
            out = (!e.value.is_empty()).then(|| (e.value.clone(), s.origin(e)));
        }
    }
    out
}

const MASTER_KEYS: [&str; 4] = ["Bond", "Bridge", "VRF", "BatmanAdvanced"];

/// Reads a port's file; None when the file has no `Team=`.
pub fn parse_port(file: &UnitFile, diags: &mut Diags) -> Option<PortFile> {
    let Some((team, team_origin)) = last_value(file, "Network", "Team") else {
        for s in file.sections("TeamPort") {
            diags.warning(
                Origin::file(&s.file).at_line(s.line).in_section("TeamPort"),
                "has no effect without [Network] Team=; ignored",
            );
        }
        return None;
    };
    let mut local = Diags::default();
    if !values::valid_ifname(&team) {
        local.error(
            team_origin.clone(),
            format!("\"{team}\" is not a valid interface name"),
        );
    }
    for k in MASTER_KEYS {
        if let Some((_, o)) = last_value(file, "Network", k) {
            local.error(
                o,
                "a team port cannot also have a master from networkd; remove it or Team=",
            );
        }
    }
    let mut ports = Vec::new();
    match list_value(file, "Match", "Name") {
        None => local.error(
            team_origin.clone(),
            "needs [Match] Name= with the port names: teamd adds ports by name",
        ),
        Some((names, o)) => {
            for n in names {
                if n.starts_with('!') || n.contains(['*', '?', '[']) {
                    local.error(
                        o.clone(),
                        format!("\"{n}\" is a pattern; a team port needs its interface name"),
                    );
                } else if !values::valid_ifname(&n) {
                    local.error(o.clone(), format!("\"{n}\" is not a valid interface name"));
                } else if n == team {
                    local.error(o.clone(), format!("\"{n}\" cannot be a port of itself"));
                } else if !ports.contains(&n) {
                    ports.push(n);
                }
            }
        }
    }
    for s in file.sections("Match") {
        for e in s
            .entries
            .iter()
            .filter(|e| e.key != "Name" && !e.value.is_empty())
        {
            local.warning(
                s.origin(e),
                "not used to choose the team's ports: teamd adds ports by name",
            );
        }
    }
    let mut keys = PortKeys::default();
    for s in file.sections("TeamPort") {
        for e in &s.entries {
            let l = &mut local;
            match e.key.as_str() {
                "Priority" => set(
                    &mut keys.prio,
                    s,
                    e,
                    l,
                    int(i32::MIN as i64, i32::MAX as i64),
                ),
                "Sticky" => set(&mut keys.sticky, s, e, l, boolean),
                "QueueId" => set(&mut keys.queue_id, s, e, l, int(0, i32::MAX as i64)),
                "LACPPriority" => set(&mut keys.lacp_prio, s, e, l, int(0, 65535)),
                "LACPKey" => set(&mut keys.lacp_key, s, e, l, int(0, 65535)),
                "LinkWatchPolicy" => l.error(
                    s.origin(e),
                    "is a setting of the whole team; set it in the .netdev's [Team]",
                ),
                _ => {
                    if !keys.watch.take(s, e, l) {
                        keys::unknown_key(s, e, l);
                    }
                }
            }
        }
    }
    let ok = !local.has_errors();
    diags.extend(local);
    let mut sources = vec![file.path.clone()];
    sources.extend(file.dropins.iter().cloned());
    Some(PortFile {
        team,
        team_origin,
        ports,
        name: file.name.clone(),
        path: file.path.clone(),
        sources,
        keys,
        ok,
    })
}

/// Whether the file is the team's own: `[Match] Name=` lists exactly this
/// name (a pattern that happens to match is someone else's file, which the
/// helper does not touch) and it does not make the interface a port.
pub fn is_team_file(file: &UnitFile, team: &str) -> bool {
    last_value(file, "Network", "Team").is_none()
        && list_value(file, "Match", "Name").is_some_and(|(n, _)| n.iter().any(|x| x == team))
}

/// Whether the file decides itself what happens on carrier loss.
pub fn sets_carrier_policy(file: &UnitFile) -> bool {
    last_value(file, "Network", "IgnoreCarrierLoss").is_some()
        || last_value(file, "Network", "ConfigureWithoutCarrier").is_some()
}

/// Warnings about a team's own file: settings that fight teamd.
pub fn check_team_file(file: &UnitFile, diags: &mut Diags) {
    if let Some((_, o)) = last_value(file, "Link", "MACAddress") {
        diags.warning(
            o,
            "teamd sets the team's MAC address; set MACAddress= in the .netdev's [NetDev] instead",
        );
    }
    for k in MASTER_KEYS {
        // a team in a bridge or VRF is fine; in a bond it is not
        if k == "Bond" {
            if let Some((_, o)) = last_value(file, "Network", k) {
                diags.warning(o, "a team cannot be a bond port");
            }
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
            ini::parse(text, "/etc/systemd/network/20-eth.network", &mut d).expect("parses");
        UnitFile {
            name: "20-eth.network".into(),
            path: "/etc/systemd/network/20-eth.network".into(),
            dropins: vec![],
            sections,
        }
    }

    fn msgs(d: &Diags) -> Vec<String> {
        d.0.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn port_file_with_settings() {
        let mut d = Diags::default();
        let p = parse_port(
            &unit(
                "[Match]\nName=eth1 eth2\nName=eth3\n[Network]\nTeam=team0\n[TeamPort]\n\
                   Priority=-10\nSticky=yes\nQueueId=3\nLACPPriority=100\nLACPKey=7\n\
                   LinkWatch=arp_ping\nLinkWatchTargets=192.0.2.1\n",
            ),
            &mut d,
        )
        .expect("a port file");
        assert!(p.ok);
        assert!(d.0.is_empty(), "{:?}", msgs(&d));
        assert_eq!(p.team, "team0");
        assert_eq!(p.ports, ["eth1", "eth2", "eth3"]);
        let m = p
            .keys
            .build("lacp", Some(&json!({"prio": 5, "x": 1})), &mut d);
        assert_eq!(
            Value::Object(m),
            json!({"prio": -10, "x": 1, "sticky": true, "queue_id": 3, "lacp_prio": 100, "lacp_key": 7,
                   "link_watch": {"name": "arp_ping", "target_host": "192.0.2.1"}})
        );
        let m = p.keys.build("roundrobin", None, &mut d);
        assert_eq!(Value::Object(m.clone()).get("lacp_prio"), None);
        assert_eq!(
            msgs(&d),
            [
                "/etc/systemd/network/20-eth.network:8: [TeamPort] Sticky=: only applies to Runner=activebackup or Runner=lacp, not roundrobin; ignored",
                "/etc/systemd/network/20-eth.network:10: [TeamPort] LACPPriority=: only applies to Runner=lacp, not roundrobin; ignored",
                "/etc/systemd/network/20-eth.network:11: [TeamPort] LACPKey=: only applies to Runner=lacp, not roundrobin; ignored",
            ]
        );
    }

    #[test]
    fn defaults_left_out() {
        let mut d = Diags::default();
        let p = parse_port(
            &unit("[Match]\nName=eth1\n[Network]\nTeam=team0\n[TeamPort]\nPriority=0\nSticky=no\nLACPPriority=255\nLACPKey=0\n"),
            &mut d,
        )
        .expect("port");
        assert!(p.keys.build("lacp", None, &mut d).is_empty());
    }

    #[test]
    fn not_a_port_file() {
        let mut d = Diags::default();
        assert!(parse_port(&unit("[Match]\nName=team0\n[Network]\nDHCP=yes\n"), &mut d).is_none());
        assert!(d.0.is_empty());
        // Team= emptied again by a later assignment
        assert!(parse_port(
            &unit("[Match]\nName=eth1\n[Network]\nTeam=team0\nTeam=\n[TeamPort]\nPriority=1\n"),
            &mut d
        )
        .is_none());
        assert_eq!(
            msgs(&d),
            ["/etc/systemd/network/20-eth.network:6: [TeamPort]: has no effect without [Network] Team=; ignored"]
        );
    }

    #[test]
    fn port_file_mistakes() {
        let mut d = Diags::default();
        let p = parse_port(
            &unit("[Match]\nName=eth* !eth0\nMACAddress=02:00:00:00:00:01\n[Network]\nTeam=team0\nBond=bond0\n\
                   [TeamPort]\nPrio=1\nLACPKey=-1\n"),
            &mut d,
        )
        .expect("port");
        assert!(!p.ok);
        assert_eq!(
            msgs(&d),
            [
                "/etc/systemd/network/20-eth.network:6: [Network] Bond=: a team port cannot also have a master from networkd; remove it or Team=",
                "/etc/systemd/network/20-eth.network:2: [Match] Name=: \"eth*\" is a pattern; a team port needs its interface name",
                "/etc/systemd/network/20-eth.network:2: [Match] Name=: \"!eth0\" is a pattern; a team port needs its interface name",
                "/etc/systemd/network/20-eth.network:3: [Match] MACAddress=: not used to choose the team's ports: teamd adds ports by name",
                "/etc/systemd/network/20-eth.network:8: [TeamPort] Prio=: unknown key in [TeamPort]",
                "/etc/systemd/network/20-eth.network:9: [TeamPort] LACPKey=: \"-1\" is not an integer in the range 0…65535",
            ]
        );
        let mut d = Diags::default();
        let p = parse_port(&unit("[Network]\nTeam=team0\n"), &mut d).expect("port");
        assert!(!p.ok);
        assert_eq!(
            msgs(&d),
            ["/etc/systemd/network/20-eth.network:2: [Network] Team=: needs [Match] Name= with the port names: teamd adds ports by name"]
        );
    }

    #[test]
    fn team_file() {
        let f = unit(
            "[Match]\nName=team0\n[Network]\nDHCP=yes\n[Link]\nMACAddress=02:00:00:00:00:01\n",
        );
        assert!(is_team_file(&f, "team0"));
        assert!(!is_team_file(&f, "team1"));
        assert!(!sets_carrier_policy(&f));
        let mut d = Diags::default();
        check_team_file(&f, &mut d);
        assert_eq!(
            msgs(&d),
            ["/etc/systemd/network/20-eth.network:6: [Link] MACAddress=: teamd sets the team's MAC address; set MACAddress= in the .netdev's [NetDev] instead"]
        );
        assert!(!is_team_file(&unit("[Match]\nName=team*\n"), "team0"));
        assert!(sets_carrier_policy(&unit(
            "[Match]\nName=team0\n[Network]\nConfigureWithoutCarrier=yes\n"
        )));
    }
}
