//! The helper's work, run by `teamd-networkd.service`: write each team's
//! files (see `output`), remove those of teams that are gone, and make the
//! running system follow.
//!
//! The first run after boot (no record in /run yet) only writes files: it
//! runs before systemd-networkd and before the `teamd@` instances the
//! generator pulled in. Later runs (the `.path` unit starts the service when
//! a file changes, or an admin restarts it) compare with the record:
//!
//! 1. if a `/run/systemd/network` file changed and networkd runs:
//!    `networkctl reload`, first, so that a new port is unmanaged before
//!    teamd tries to enslave it;
//! 2. per team whose `/run/teamd/T.conf` changed, with `teamd@T` running:
//!    `systemctl reload` (ExecReload sends SIGHUP; teamd re-reads the file and
//!    applies it live, device kept), or `systemctl restart` when `device` or
//!    `hwaddr` changed, the two things teamd's reload refuses (reload.rs);
//!    a new team, or one whose unit is not running: `systemctl start`;
//! 3. a team that is gone: its files are removed and `teamd@T` stopped.
//!
//! A team whose files have errors is left exactly as it was: files, record
//! and running teamd. systemctl is always called with `--no-block`: the
//! `teamd@` instances are ordered after this service, so a job waited for
//! here would wait for us.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

use serde_json::Value;

use crate::load::Roots;
use crate::model::Model;
use crate::output::{self, Manifest};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    NetworkctlReload,
    Start(String),
    Reload(String),
    Restart(String),
    Stop(String),
}

impl Action {
    /// The command line that carries it out.
    pub fn argv(&self) -> Vec<String> {
        let systemctl = |verb: &str, unit: &str| {
            ["systemctl", "--no-block", verb, unit]
                .map(String::from)
                .to_vec()
        };
        match self {
            Action::NetworkctlReload => vec!["networkctl".into(), "reload".into()],
            Action::Start(u) => systemctl("start", u),
            Action::Reload(u) => systemctl("reload", u),
            Action::Restart(u) => systemctl("restart", u),
            Action::Stop(u) => systemctl("stop", u),
        }
    }
}

/// What the system looks like; a trait so tests need no systemd.
pub trait System {
    fn is_active(&mut self, unit: &str) -> bool;
}

pub fn unit(team: &str) -> String {
    format!("teamd@{team}.service")
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Path on the system → new content (only files whose content changes).
    pub writes: BTreeMap<String, String>,
    pub removes: BTreeSet<String>,
    pub actions: Vec<Action>,
    pub manifest: Manifest,
}

/// Whether teamd can take `new` in place of `old` by a live reload.
fn reloadable(old: &str, new: &str) -> bool {
    let (Ok(old), Ok(new)) = (
        serde_json::from_str::<Value>(old),
        serde_json::from_str::<Value>(new),
    ) else {
        return false;
    };
    ["device", "hwaddr"]
        .iter()
        .all(|k| old.get(k) == new.get(k))
}

/// Decides everything; `read` gives a file's current content by its path on
/// the system, `old` the record of the last run (None: first run since boot).
pub fn plan(
    model: &Model,
    old: Option<&Manifest>,
    read: &dyn Fn(&str) -> Option<String>,
    sys: &mut dyn System,
) -> Plan {
    let mut p = Plan::default();
    let mut desired: BTreeMap<String, String> = BTreeMap::new();
    let mut team_actions = Vec::new();
    for (name, team) in &model.teams {
        match team {
            Ok(t) => {
                let files = output::team_files(t);
                let conf = output::conf_path(name);
                let before = read(&conf);
                let changed = before.as_deref() != Some(t.text.as_str());
                p.manifest
                    .teams
                    .insert(name.clone(), files.keys().cloned().collect());
                desired.extend(files);
                let Some(old) = old else { continue };
                let u = unit(name);
                if !old.teams.contains_key(name) {
                    team_actions.push(Action::Start(u));
                } else if changed {
                    if !sys.is_active(&u) {
                        team_actions.push(Action::Start(u));
                    } else if before.is_some_and(|b| reloadable(&b, &t.text)) {
                        team_actions.push(Action::Reload(u));
                    } else {
                        team_actions.push(Action::Restart(u));
                    }
                }
            }
            Err(_) => {
                // as it was: its files stay, and stay recorded
                if let Some(files) = old.and_then(|o| o.teams.get(name)) {
                    p.manifest.teams.insert(name.clone(), files.clone());
                    for f in files {
                        if let Some(text) = read(f) {
                            desired.insert(f.clone(), text);
                        }
                    }
                }
            }
        }
    }
    if let Some(old) = old {
        for (name, files) in &old.teams {
            if !model.teams.contains_key(name) {
                team_actions.push(Action::Stop(unit(name)));
            }
            for f in files {
                if !desired.contains_key(f) {
                    p.removes.insert(f.clone());
                }
            }
        }
    }
    for (path, text) in desired {
        if read(&path).as_deref() != Some(text.as_str()) {
            p.writes.insert(path, text);
        }
    }
    let network_changed = p
        .writes
        .keys()
        .chain(p.removes.iter())
        .any(|f| f.starts_with(output::NETWORK_RUN));
    if old.is_some() && network_changed && sys.is_active("systemd-networkd.service") {
        p.actions.push(Action::NetworkctlReload);
    }
    p.actions.extend(team_actions);
    p
}

fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no parent directory"))?;
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp"));
    fs::write(&tmp, text)?;
    // readers (networkd, teamd) never see half a file
    fs::rename(&tmp, path)
}

/// Writes and removes the files and the record; returns one message per
/// failure and goes on after one.
pub fn apply(plan: &Plan, roots: &Roots) -> Vec<String> {
    let mut errors = Vec::new();
    for (path, text) in &plan.writes {
        if let Err(e) = write_atomic(&roots.path(path), text) {
            errors.push(format!("cannot write {path}: {e}"));
        }
    }
    for path in &plan.removes {
        let real = roots.path(path);
        match fs::remove_file(&real) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => errors.push(format!("cannot remove {path}: {e}")),
        }
        // a drop-in directory made for our file goes with it when empty
        if let Some(dir) = real.parent() {
            if dir.extension().is_some_and(|x| x == "d") {
                let _ = fs::remove_dir(dir);
            }
        }
    }
    if let Err(e) = write_atomic(&roots.path(output::STATE), &plan.manifest.to_text()) {
        errors.push(format!("cannot write {}: {e}", output::STATE));
    }
    errors
}

/// The record of the last run; `Some(empty)` when the file exists but is
/// unreadable (a later run all the same), None when there is none.
pub fn read_manifest(roots: &Roots) -> Option<Manifest> {
    let text = fs::read_to_string(roots.path(output::STATE)).ok()?;
    Some(Manifest::parse(&text).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Broken, Team};
    use std::cell::RefCell;

    struct Fake {
        active: Vec<&'static str>,
    }

    impl System for Fake {
        fn is_active(&mut self, unit: &str) -> bool {
            self.active.contains(&unit)
        }
    }

    fn team(name: &str, text: &str, ports: &[&str]) -> Team {
        Team {
            name: name.into(),
            text: text.into(),
            ports: ports.iter().map(|p| p.to_string()).collect(),
            port_files: vec![],
            team_file: None,
            sources: vec![format!("/etc/systemd/network/{name}.netdev")],
        }
    }

    fn model(teams: Vec<(&str, Result<Team, Broken>)>) -> Model {
        Model {
            teams: teams.into_iter().map(|(n, t)| (n.to_string(), t)).collect(),
        }
    }

    /// A file system in memory: the plan applied to it, for the next run.
    struct Fs(RefCell<BTreeMap<String, String>>);

    impl Fs {
        fn read(&self) -> impl Fn(&str) -> Option<String> + '_ {
            move |p| self.0.borrow().get(p).cloned()
        }
        fn apply(&self, p: &Plan) {
            let mut m = self.0.borrow_mut();
            for (k, v) in &p.writes {
                m.insert(k.clone(), v.clone());
            }
            for k in &p.removes {
                m.remove(k);
            }
        }
    }

    const AB: &str = "{\"device\": \"team0\", \"runner\": {\"name\": \"activebackup\"}}\n";
    const LACP: &str = "{\"device\": \"team0\", \"runner\": {\"name\": \"lacp\"}}\n";
    const LACP_MAC: &str =
        "{\"device\": \"team0\", \"hwaddr\": \"02:00:00:00:00:01\", \"runner\": {\"name\": \"lacp\"}}\n";

    #[test]
    fn first_run_writes_only() {
        let fs = Fs(RefCell::new(BTreeMap::new()));
        let m = model(vec![("team0", Ok(team("team0", AB, &["eth1"])))]);
        let mut sys = Fake {
            active: vec!["systemd-networkd.service"],
        };
        let p = plan(&m, None, &fs.read(), &mut sys);
        assert!(p.actions.is_empty());
        assert_eq!(
            p.writes.keys().collect::<Vec<_>>(),
            [
                "/run/systemd/network/10-teamd-port-eth1.network",
                "/run/teamd/team0.conf"
            ]
        );
        assert_eq!(p.manifest.teams["team0"].len(), 2);
    }

    #[test]
    fn later_runs_reload_restart_start_and_stop() {
        let fs = Fs(RefCell::new(BTreeMap::new()));
        let mut sys = Fake {
            active: vec!["systemd-networkd.service", "teamd@team0.service"],
        };
        let m = model(vec![("team0", Ok(team("team0", AB, &["eth1"])))]);
        let p = plan(&m, None, &fs.read(), &mut sys);
        fs.apply(&p);
        let mut rec = p.manifest;

        // nothing changed: nothing to do
        let p = plan(&m, Some(&rec), &fs.read(), &mut sys);
        assert_eq!(
            p,
            Plan {
                manifest: rec.clone(),
                ..Plan::default()
            }
        );

        // a new runner and a new port: networkd first, then a live reload
        let m = model(vec![("team0", Ok(team("team0", LACP, &["eth1", "eth2"])))]);
        let p = plan(&m, Some(&rec), &fs.read(), &mut sys);
        assert_eq!(
            p.actions,
            [
                Action::NetworkctlReload,
                Action::Reload("teamd@team0.service".into())
            ]
        );
        fs.apply(&p);
        rec = p.manifest;

        // hwaddr cannot change live
        let m = model(vec![(
            "team0",
            Ok(team("team0", LACP_MAC, &["eth1", "eth2"])),
        )]);
        let p = plan(&m, Some(&rec), &fs.read(), &mut sys);
        assert_eq!(p.actions, [Action::Restart("teamd@team0.service".into())]);
        fs.apply(&p);
        rec = p.manifest;

        // a new team starts; a port leaves team0 for it
        let m = model(vec![
            ("team0", Ok(team("team0", LACP_MAC, &["eth1"]))),
            ("team1", Ok(team("team1", "{}\n", &["eth2"]))),
        ]);
        let p = plan(&m, Some(&rec), &fs.read(), &mut sys);
        // eth2's file now names team1: rewritten, not removed; team0's
        // document is the same here (the test's documents list no ports)
        assert!(p.removes.is_empty(), "{:?}", p.removes);
        assert!(p
            .writes
            .contains_key("/run/systemd/network/10-teamd-port-eth2.network"));
        assert_eq!(
            p.actions,
            [
                Action::NetworkctlReload,
                Action::Start("teamd@team1.service".into())
            ]
        );
        fs.apply(&p);
        rec = p.manifest;

        // team1 is gone
        let p = plan(&m_without(&m, "team1"), Some(&rec), &fs.read(), &mut sys);
        assert_eq!(
            p.removes.iter().collect::<Vec<_>>(),
            [
                "/run/systemd/network/10-teamd-port-eth2.network",
                "/run/teamd/team1.conf"
            ]
        );
        assert_eq!(
            p.actions,
            [
                Action::NetworkctlReload,
                Action::Stop("teamd@team1.service".into())
            ]
        );
    }

    fn m_without(m: &Model, name: &str) -> Model {
        Model {
            teams: m
                .teams
                .iter()
                .filter(|(n, _)| *n != name)
                .map(|(n, t)| (n.clone(), t.clone()))
                .collect(),
        }
    }

    #[test]
    fn a_broken_team_keeps_what_it_had() {
        let fs = Fs(RefCell::new(BTreeMap::new()));
        let mut sys = Fake {
            active: vec!["systemd-networkd.service", "teamd@team0.service"],
        };
        let m = model(vec![
            ("team0", Ok(team("team0", AB, &["eth1"]))),
            ("team1", Ok(team("team1", "{}\n", &["eth2"]))),
        ]);
        let p = plan(&m, None, &fs.read(), &mut sys);
        fs.apply(&p);
        let rec = p.manifest;
        let m = model(vec![
            ("team0", Err(Broken { sources: vec![] })),
            ("team1", Ok(team("team1", "{\"runner\": {}}\n", &["eth2"]))),
        ]);
        let p = plan(&m, Some(&rec), &fs.read(), &mut sys);
        assert!(p.removes.is_empty());
        assert_eq!(
            p.writes.keys().collect::<Vec<_>>(),
            ["/run/teamd/team1.conf"]
        );
        // team1 is not running: started rather than reloaded
        assert_eq!(p.actions, [Action::Start("teamd@team1.service".into())]);
        assert_eq!(p.manifest, rec);
    }

    #[test]
    fn networkd_not_running_is_not_reloaded() {
        let fs = Fs(RefCell::new(BTreeMap::new()));
        let mut sys = Fake { active: vec![] };
        let rec = Manifest::default();
        let m = model(vec![("team0", Ok(team("team0", AB, &["eth1"])))]);
        let p = plan(&m, Some(&rec), &fs.read(), &mut sys);
        assert_eq!(p.actions, [Action::Start("teamd@team0.service".into())]);
    }

    #[test]
    fn argv() {
        assert_eq!(
            Action::Reload("teamd@t.service".into()).argv(),
            ["systemctl", "--no-block", "reload", "teamd@t.service"]
        );
        assert_eq!(Action::NetworkctlReload.argv(), ["networkctl", "reload"]);
    }

    #[test]
    fn apply_writes_removes_and_records() {
        let t = tempfile::tempdir().expect("tempdir");
        let roots = Roots::new(t.path());
        let mut p = Plan::default();
        p.writes.insert(
            "/run/systemd/network/a.network.d/90-teamd-networkd.conf".into(),
            "x".into(),
        );
        p.manifest.teams.insert("t".into(), vec!["/run/x".into()]);
        assert!(apply(&p, &roots).is_empty());
        assert_eq!(
            fs::read_to_string(
                t.path()
                    .join("run/systemd/network/a.network.d/90-teamd-networkd.conf")
            )
            .expect("written"),
            "x"
        );
        assert_eq!(read_manifest(&roots), Some(p.manifest.clone()));
        let mut p2 = Plan::default();
        p2.removes
            .insert("/run/systemd/network/a.network.d/90-teamd-networkd.conf".into());
        assert!(apply(&p2, &roots).is_empty());
        assert!(!t.path().join("run/systemd/network/a.network.d").exists());
    }
}
