//! All sources together: which teams there are, each one's teamd document,
//! its ports and the `.network` files that concern it. A team with a mistake
//! anywhere in its files is `Broken` and the others are not affected.
//!
//! Where one team name has several sources:
//! - a `.netdev` (Kind=team) defines the team; `/etc/teamd/NAME.conf` and
//!   `team=NAME:…` are then ignored, with a warning (ConfigFile= can name the
//!   JSON file); of two `.netdev` files with one name the first in lexical
//!   order counts, as networkd does;
//! - `team=NAME:PORTS[:RUNNER]` with `/etc/teamd/NAME.conf` is dracut's
//!   case: that file's settings, with the ports of the command line;
//! - port `.network` files (`Team=NAME`) add ports to a team of any source.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::cmdline::{self, CmdlineTeam};
use crate::diag::{Diag, Diags, Origin};
use crate::load::{self, JsonFile, Roots, UnitFile};
use crate::netdev_team::{self, NetdevTeam, Parsed};
use crate::network::{self, PortFile};
use crate::values;

/// Everything read from the system.
#[derive(Debug, Default)]
pub struct Inputs {
    pub netdevs: Vec<UnitFile>,
    pub networks: Vec<UnitFile>,
    pub json: Vec<JsonFile>,
    pub cmdline: String,
}

impl Inputs {
    pub fn load(roots: &Roots, diags: &mut Diags) -> Self {
        Inputs {
            netdevs: load::load_network_files(roots, ".netdev", diags),
            networks: load::load_network_files(roots, ".network", diags),
            json: load::load_teamd_json(roots, diags),
            cmdline: load::read_cmdline(roots),
        }
    }
}

/// The team's own `.network` file (the first whose `[Match] Name=` names
/// it), which networkd configures the team link with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamFile {
    pub name: String,
    pub path: String,
    /// True unless the file says itself what carrier loss does.
    pub carrier_dropin: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub name: String,
    /// The document, as written to /run/teamd/NAME.conf.
    pub text: String,
    pub ports: Vec<String>,
    /// The users' `.network` files that make ports of this team: (file
    /// name, path).
    pub port_files: Vec<(String, String)>,
    pub team_file: Option<TeamFile>,
    /// Every file read for this team, the defining one first
    /// (`/proc/cmdline` for the command line).
    pub sources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub sources: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Model {
    pub teams: BTreeMap<String, Result<Team, Broken>>,
}

impl Model {
    pub fn good(&self) -> impl Iterator<Item = &Team> {
        self.teams.values().filter_map(|t| t.as_ref().ok())
    }
}

/// Where a team's document comes from, before ports are added.
enum Base {
    Netdev(NetdevTeam),
    Json {
        file: JsonFile,
        doc: Map<String, Value>,
    },
    Cmdline(CmdlineTeam),
    CmdlineJson {
        file: JsonFile,
        doc: Map<String, Value>,
        cmd: CmdlineTeam,
    },
}

struct Draft {
    base: Base,
    sources: Vec<String>,
    ok: bool,
    /// Defined by a .netdev (even a broken one).
    netdev: bool,
}

fn parse_json_file(f: &JsonFile, diags: &mut Diags) -> Option<Map<String, Value>> {
    let origin = || Origin::file(&f.path);
    if !values::valid_ifname(&f.team) || !values::instance_safe(&f.team) {
        diags.error(
            origin(),
            format!(
                "\"{}\" is not a usable team name (the file name without .conf)",
                f.team
            ),
        );
        return None;
    }
    let doc = match serde_json::from_str::<Value>(&f.text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            diags.error(origin(), "not a JSON object");
            return None;
        }
        Err(e) => {
            diags.error(origin(), format!("invalid JSON: {e}"));
            return None;
        }
    };
    let mut ok = true;
    match doc.get("device") {
        None => {}
        Some(Value::String(d)) if *d == f.team => {}
        Some(other) => {
            diags.error(
                origin().with_key("device"),
                format!("is {other}, but the file is named for \"{}\"", f.team),
            );
            ok = false;
        }
    }
    match doc.get("ports") {
        None | Some(Value::Object(_)) => {}
        Some(_) => {
            diags.error(origin().with_key("ports"), "is not an object");
            ok = false;
        }
    }
    ok.then_some(doc)
}

fn runner_of(doc: &Map<String, Value>) -> String {
    doc.get("runner")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("roundrobin")
        .to_string()
}

/// Pretty JSON with teamd's four-space indent, and a final newline.
pub fn to_text(v: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // serialising a Value into memory cannot fail
    if v.serialize(&mut ser).is_err() {
        return v.to_string();
    }
    let mut s = String::from_utf8(out).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

pub fn build(inputs: &Inputs, roots: &Roots, diags: &mut Diags) -> Model {
    let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();

    for f in &inputs.netdevs {
        if let Parsed::Team(name, res) = netdev_team::parse(f, roots, diags) {
            if let Some(d) = drafts.get(&name) {
                diags.warning(
                    Origin::file(&f.path),
                    format!(
                        "team {name} is already defined by {}; this file is ignored",
                        d.sources.first().map(String::as_str).unwrap_or("?")
                    ),
                );
                continue;
            }
            let draft = match res {
                Ok(t) => Draft {
                    sources: t.sources.clone(),
                    base: Base::Netdev(*t),
                    ok: true,
                    netdev: true,
                },
                Err(()) => Draft {
                    sources: vec![f.path.clone()],
                    base: Base::Cmdline(CmdlineTeam {
                        master: name.clone(),
                        ports: vec![],
                        runner: String::new(),
                    }),
                    ok: false,
                    netdev: true,
                },
            };
            drafts.insert(name, draft);
        }
    }

    let cmd_teams = cmdline::parse_teams(&inputs.cmdline, diags);
    for f in &inputs.json {
        if let Some(d) = drafts.get(&f.team) {
            let named = d.sources.contains(&f.path);
            if !named {
                diags.warning(
                    Origin::file(&f.path),
                    format!(
                        "ignored: team {} is defined by {} (its [Team] ConfigFile= can name this file)",
                        f.team,
                        d.sources.first().map(String::as_str).unwrap_or("?")
                    ),
                );
            }
            continue;
        }
        let cmd = cmd_teams.iter().find(|c| c.master == f.team).cloned();
        let mut sources = vec![f.path.clone()];
        if cmd.is_some() {
            sources.push("/proc/cmdline".into());
        }
        let (base, ok) = match (parse_json_file(f, diags), cmd) {
            (Some(doc), None) => (
                Base::Json {
                    file: f.clone(),
                    doc,
                },
                true,
            ),
            (Some(doc), Some(cmd)) => (
                Base::CmdlineJson {
                    file: f.clone(),
                    doc,
                    cmd,
                },
                true,
            ),
            (None, cmd) => (
                Base::Cmdline(cmd.unwrap_or(CmdlineTeam {
                    master: f.team.clone(),
                    ports: vec![],
                    runner: String::new(),
                })),
                false,
            ),
        };
        if !values::valid_ifname(&f.team) || !values::instance_safe(&f.team) {
            continue;
        }
        drafts.insert(
            f.team.clone(),
            Draft {
                base,
                sources,
                ok,
                netdev: false,
            },
        );
    }
    for c in cmd_teams {
        if let Some(d) = drafts.get(&c.master) {
            if d.netdev {
                diags.warning(
                    Origin::cmdline("team"),
                    format!(
                        "{} is defined by {}; team= for it is ignored",
                        c.master,
                        d.sources.first().map(String::as_str).unwrap_or("?")
                    ),
                );
            }
            continue;
        }
        drafts.insert(
            c.master.clone(),
            Draft {
                base: Base::Cmdline(c),
                sources: vec!["/proc/cmdline".into()],
                ok: true,
                netdev: false,
            },
        );
    }

    // ports from .network files, in lexical order of the files
    let mut port_files: BTreeMap<String, Vec<PortFile>> = BTreeMap::new();
    for f in &inputs.networks {
        if let Some(p) = network::parse_port(f, diags) {
            if !drafts.contains_key(&p.team) {
                diags.warning(
                    p.team_origin.clone(),
                    format!(
                        "no team {} is defined (by a .netdev with Kind=team, /etc/teamd/{}.conf \
                         or team= on the kernel command line); ignored",
                        p.team, p.team
                    ),
                );
                continue;
            }
            port_files.entry(p.team.clone()).or_default().push(p);
        }
    }

    let ip_ifaces = cmdline::ip_interfaces(&inputs.cmdline);
    let mut model = Model::default();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for (name, draft) in drafts {
        let pfs = port_files.remove(&name).unwrap_or_default();
        let mut local = Diags::default();
        let mut sources = draft.sources.clone();
        for p in &pfs {
            sources.extend(p.sources.iter().cloned());
        }
        let team = if draft.ok && pfs.iter().all(|p| p.ok) {
            finish(
                &name, draft.base, &pfs, inputs, &mut local, &mut taken, &ip_ifaces,
            )
        } else {
            None
        };
        let failed = local.has_errors();
        diags.extend(local);
        let entry = match team {
            Some(mut t) if !failed => {
                t.sources = sources;
                Ok(t)
            }
            _ => Err(Broken { sources }),
        };
        model.teams.insert(name, entry);
    }
    model
}

fn finish(
    name: &str,
    base: Base,
    pfs: &[PortFile],
    inputs: &Inputs,
    diags: &mut Diags,
    taken: &mut BTreeMap<String, String>,
    ip_ifaces: &[String],
) -> Option<Team> {
    // (document without ports, base ports in order, verbatim text if unchanged)
    let (mut doc, base_ports, verbatim): (Map<String, Value>, Ports, Option<String>) = match base {
        Base::Netdev(t) => (t.doc, t.config_file_ports.into_iter().collect(), None),
        Base::Json { file, mut doc } => {
            let ports = take_ports(&mut doc);
            (doc, ports, Some(file.text))
        }
        Base::Cmdline(c) => {
            let mut doc = Map::new();
            doc.insert("device".into(), json!(c.master));
            doc.insert("runner".into(), json!({"name": c.runner}));
            (
                doc,
                c.ports.into_iter().map(|p| (p, json!({}))).collect(),
                None,
            )
        }
        Base::CmdlineJson { file, mut doc, cmd } => {
            let json_ports = take_ports(&mut doc);
            for (p, _) in &json_ports {
                if !cmd.ports.contains(p) {
                    diags.push(Diag::info(
                        Origin::file(&file.path).with_key("ports"),
                        format!(
                            "{p} is left out: team= on the kernel command line lists the ports"
                        ),
                    ));
                }
            }
            let ports = cmd
                .ports
                .into_iter()
                .map(|p| {
                    let v = json_ports
                        .iter()
                        .find(|(n, _)| *n == p)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| json!({}));
                    (p, v)
                })
                .collect();
            (doc, ports, None)
        }
    };
    let runner = runner_of(&doc);
    let mut ports: Vec<(String, Value)> = Vec::new();
    for (p, v) in base_ports {
        if !values::plain_ifname(&p) {
            diags.error(
                Origin::file(format!("team {name}")).with_key(&format!("ports.{p}")),
                "not a valid interface name",
            );
            continue;
        }
        ports.push((p, v));
    }
    let mut port_files = Vec::new();
    let mut declared: Vec<&String> = Vec::new();
    for pf in pfs {
        port_files.push((pf.name.clone(), pf.path.clone()));
        for p in &pf.ports {
            if declared.contains(&p) {
                // networkd, too, uses the first file that matches a link
                diags.warning(
                    pf.team_origin.clone(),
                    format!(
                        "{p} is already made a port of {name} by an earlier file; \
                         this file's settings for it are ignored"
                    ),
                );
                continue;
            }
            declared.push(p);
            let base = ports.iter().position(|(n, _)| n == p);
            let value = Value::Object(pf.keys.build(&runner, base.map(|i| &ports[i].1), diags));
            match base {
                Some(i) => ports[i].1 = value,
                None => ports.push((p.clone(), value)),
            }
        }
    }
    let mut ok = true;
    for (p, _) in &ports {
        if let Some(other) = taken.get(p) {
            diags.error(
                Origin::file(format!("team {name}")),
                format!("{p} is already a port of team {other}; a port can be in one team only"),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    for (p, _) in &ports {
        if ip_ifaces.contains(p) {
            diags.warning(
                Origin::cmdline("ip"),
                format!("{p} is a port of team {name}; its ip= settings are not applied"),
            );
        }
    }
    for (p, _) in &ports {
        taken.insert(p.clone(), name.to_string());
    }

    let team_file = inputs
        .networks
        .iter()
        .find(|f| network::is_team_file(f, name))
        .map(|f| {
            network::check_team_file(f, diags);
            TeamFile {
                name: f.name.clone(),
                path: f.path.clone(),
                carrier_dropin: !network::sets_carrier_policy(f),
            }
        });

    let port_names: Vec<String> = ports.iter().map(|(p, _)| p.clone()).collect();
    let text = match verbatim {
        // a JSON file with nothing added is passed on as written
        Some(text) if pfs.is_empty() => text,
        _ => {
            if !ports.is_empty() {
                doc.insert("ports".into(), Value::Object(ports.into_iter().collect()));
            }
            to_text(&Value::Object(doc))
        }
    };
    Some(Team {
        name: name.to_string(),
        text,
        ports: port_names,
        port_files,
        team_file,
        sources: vec![],
    })
}

/// A `ports` object as a list, in its order.
type Ports = Vec<(String, Value)>;

fn take_ports(doc: &mut Map<String, Value>) -> Ports {
    match doc.remove("ports") {
        Some(Value::Object(m)) => m.into_iter().collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    pub fn write(root: &Path, abs: &str, text: &str) {
        let p = root.join(abs.trim_start_matches('/'));
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }

    fn model(root: &Path, cmdline: &str) -> (Model, Vec<String>) {
        let roots = Roots::new(root);
        let mut d = Diags::default();
        let mut inputs = Inputs::load(&roots, &mut d);
        inputs.cmdline = cmdline.into();
        let m = build(&inputs, &roots, &mut d);
        (m, d.0.iter().map(|d| d.to_string()).collect())
    }

    fn doc(t: &Team) -> Value {
        serde_json::from_str(&t.text).expect("valid JSON")
    }

    #[test]
    fn netdev_with_port_files() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "/etc/systemd/network/10-team0.netdev",
            "[NetDev]\nName=team0\nKind=team\n[Team]\nRunner=activebackup\n",
        );
        write(
            r,
            "/etc/systemd/network/20-eth1.network",
            "[Match]\nName=eth1\n[Network]\nTeam=team0\n[TeamPort]\nPriority=100\nSticky=yes\n",
        );
        write(
            r,
            "/etc/systemd/network/21-eth2.network",
            "[Match]\nName=eth2\n[Network]\nTeam=team0\n",
        );
        write(
            r,
            "/etc/systemd/network/30-team0.network",
            "[Match]\nName=team0\n[Network]\nDHCP=yes\n",
        );
        let (m, msgs) = model(r, "");
        assert!(msgs.is_empty(), "{msgs:?}");
        let team = m.teams["team0"].as_ref().expect("ok");
        assert_eq!(
            doc(team),
            json!({"device": "team0", "runner": {"name": "activebackup"},
                   "ports": {"eth1": {"prio": 100, "sticky": true}, "eth2": {}}})
        );
        assert_eq!(team.ports, ["eth1", "eth2"]);
        assert_eq!(
            team.port_files,
            [
                (
                    "20-eth1.network".to_string(),
                    "/etc/systemd/network/20-eth1.network".to_string()
                ),
                (
                    "21-eth2.network".to_string(),
                    "/etc/systemd/network/21-eth2.network".to_string()
                ),
            ]
        );
        assert_eq!(
            team.team_file,
            Some(TeamFile {
                name: "30-team0.network".into(),
                path: "/etc/systemd/network/30-team0.network".into(),
                carrier_dropin: true
            })
        );
        assert_eq!(team.sources[0], "/etc/systemd/network/10-team0.netdev");
        // teamd's layout: four spaces, a final newline
        assert!(
            team.text.starts_with("{\n    \"device\": \"team0\",\n"),
            "{}",
            team.text
        );
        assert!(team.text.ends_with("}\n"));
    }

    #[test]
    fn a_broken_team_leaves_the_others() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "/etc/systemd/network/team0.netdev",
            "[NetDev]\nName=team0\nKind=team\n[Team]\nRunner=bogus\n",
        );
        write(
            r,
            "/etc/systemd/network/team1.netdev",
            "[NetDev]\nName=team1\nKind=team\n",
        );
        write(
            r,
            "/etc/systemd/network/team2.netdev",
            "[NetDev]\nName=team2\nKind=team\n",
        );
        write(
            r,
            "/etc/systemd/network/eth3.network",
            "[Match]\nName=eth3\n[Network]\nTeam=team2\n[TeamPort]\nQueueId=x\n",
        );
        write(
            r,
            "/etc/systemd/network/eth1.network",
            "[Match]\nName=eth1\n[Network]\nTeam=team1\n",
        );
        write(r, "/etc/systemd/network/x.network", "[Match\n");
        let (m, msgs) = model(r, "");
        assert!(m.teams["team0"].is_err());
        assert!(m.teams["team1"].is_ok());
        assert_eq!(
            m.teams["team2"],
            Err(Broken {
                sources: vec![
                    "/etc/systemd/network/team2.netdev".into(),
                    "/etc/systemd/network/eth3.network".into()
                ]
            })
        );
        assert_eq!(
            msgs,
            [
                "/etc/systemd/network/x.network:1: invalid section header '[Match'",
                "/etc/systemd/network/team0.netdev:5: [Team] Runner=: \"bogus\" is not one of roundrobin, broadcast, random, activebackup, loadbalance, lacp",
                "/etc/systemd/network/eth3.network:6: [TeamPort] QueueId=: \"x\" is not an integer in the range 0…2147483647",
            ]
        );
    }

    #[test]
    fn json_file_is_passed_on_verbatim() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        let text =
            "{ \"runner\": {\"name\": \"lacp\"},\n  \"ports\": {\"eth2\": {}, \"eth1\": {}} }";
        write(r, "/etc/teamd/team0.conf", text);
        let (m, msgs) = model(r, "");
        assert!(msgs.is_empty(), "{msgs:?}");
        let team = m.teams["team0"].as_ref().expect("ok");
        assert_eq!(team.text, text);
        assert_eq!(team.ports, ["eth2", "eth1"]);
    }

    #[test]
    fn cmdline_alone_and_with_json() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        let (m, msgs) = model(r, "team=team0:eth1,eth2 ip=team0:dhcp");
        assert!(msgs.is_empty(), "{msgs:?}");
        let team = m.teams["team0"].as_ref().expect("ok");
        assert_eq!(
            doc(team),
            json!({"device": "team0", "runner": {"name": "activebackup"}, "ports": {"eth1": {}, "eth2": {}}})
        );
        assert_eq!(team.sources, ["/proc/cmdline"]);

        // dracut: the file's settings, the command line's ports
        write(
            r,
            "/etc/teamd/team0.conf",
            r#"{"runner": {"name": "lacp"}, "ports": {"eth1": {"lacp_prio": 5}, "eth9": {}}}"#,
        );
        let (m, msgs) = model(r, "team=team0:eth1,eth2:roundrobin");
        let team = m.teams["team0"].as_ref().expect("ok");
        assert_eq!(
            doc(team),
            json!({"runner": {"name": "lacp"}, "ports": {"eth1": {"lacp_prio": 5}, "eth2": {}}})
        );
        assert_eq!(
            msgs,
            ["/etc/teamd/team0.conf: \"ports\": eth9 is left out: team= on the kernel command line lists the ports"]
        );
        assert_eq!(team.sources, ["/etc/teamd/team0.conf", "/proc/cmdline"]);
    }

    #[test]
    fn netdev_wins_over_json_and_cmdline() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "/etc/systemd/network/team0.netdev",
            "[NetDev]\nName=team0\nKind=team\n",
        );
        write(r, "/etc/teamd/team0.conf", "{}");
        let (m, msgs) = model(r, "team=team0:eth1");
        assert!(m.teams["team0"].is_ok());
        assert_eq!(
            msgs,
            [
                "/etc/teamd/team0.conf: ignored: team team0 is defined by /etc/systemd/network/team0.netdev (its [Team] ConfigFile= can name this file)",
                "kernel command line: team=: team0 is defined by /etc/systemd/network/team0.netdev; team= for it is ignored",
            ]
        );
        // ConfigFile= naming it: no warning
        write(
            r,
            "/etc/systemd/network/team0.netdev",
            "[NetDev]\nName=team0\nKind=team\n[Team]\nConfigFile=/etc/teamd/team0.conf\n",
        );
        let (_, msgs) = model(r, "");
        assert!(msgs.is_empty(), "{msgs:?}");
    }

    #[test]
    fn port_conflicts_and_orphans() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "/etc/systemd/network/a.netdev",
            "[NetDev]\nName=team0\nKind=team\n",
        );
        write(r, "/etc/teamd/team1.conf", r#"{"ports": {"eth1": {}}}"#);
        write(
            r,
            "/etc/systemd/network/eth1.network",
            "[Match]\nName=eth1\n[Network]\nTeam=team0\n",
        );
        write(
            r,
            "/etc/systemd/network/eth5.network",
            "[Match]\nName=eth5\n[Network]\nTeam=team7\n",
        );
        let (m, msgs) = model(r, "ip=eth1:dhcp");
        assert!(m.teams["team0"].is_ok());
        assert!(m.teams["team1"].is_err());
        assert_eq!(
            msgs,
            [
                "/etc/systemd/network/eth5.network:4: [Network] Team=: no team team7 is defined (by a .netdev with Kind=team, /etc/teamd/team7.conf or team= on the kernel command line); ignored",
                "kernel command line: ip=: eth1 is a port of team team0; its ip= settings are not applied",
                "team team1: eth1 is already a port of team team0; a port can be in one team only",
            ]
        );
    }

    #[test]
    fn config_file_ports_merge_with_port_files() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "/etc/teamd/base.json",
            r#"{"runner": {"name": "lacp"}, "ports": {"eth2": {"lacp_key": 3}, "eth1": {"prio": 1}}}"#,
        );
        write(
            r,
            "/etc/systemd/network/t.netdev",
            "[NetDev]\nName=team0\nKind=team\n[Team]\nConfigFile=/etc/teamd/base.json\n",
        );
        write(
            r,
            "/etc/systemd/network/p.network",
            "[Match]\nName=eth1 eth3\n[Network]\nTeam=team0\n[TeamPort]\nLACPPriority=7\n",
        );
        let (m, msgs) = model(r, "");
        assert!(msgs.is_empty(), "{msgs:?}");
        let team = m.teams["team0"].as_ref().expect("ok");
        assert_eq!(team.ports, ["eth2", "eth1", "eth3"]);
        assert_eq!(
            doc(team)["ports"],
            json!({"eth2": {"lacp_key": 3}, "eth1": {"prio": 1, "lacp_prio": 7}, "eth3": {"lacp_prio": 7}})
        );
    }

    #[test]
    fn team_file_with_its_own_carrier_policy() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "/etc/systemd/network/t.netdev",
            "[NetDev]\nName=team0\nKind=team\n",
        );
        write(
            r,
            "/run/systemd/network/90-team0.network",
            "[Match]\nName=team0\n[Network]\nDHCP=ipv4\n",
        );
        write(
            r,
            "/etc/systemd/network/90-team0.network.d/c.conf",
            "[Network]\nIgnoreCarrierLoss=10s\n",
        );
        let (m, _) = model(r, "");
        let team = m.teams["team0"].as_ref().expect("ok");
        assert_eq!(
            team.team_file,
            Some(TeamFile {
                name: "90-team0.network".into(),
                path: "/run/systemd/network/90-team0.network".into(),
                carrier_dropin: false
            })
        );
    }
}
