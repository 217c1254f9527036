//! `ifup-Team`, `ifdown-Team`, `ifup-TeamPort` and `ifdown-TeamPort` for
//! RHEL's network-scripts (initscripts), integration.md §1.13: the thin
//! scripts in `packaging/network-scripts/` run `teamd-convert network-script
//! NAME CONFIG [boot]`, and this module decides what to do. Commands and
//! queries go through [`Host`], so the decisions are tested without a
//! system.
//!
//! - ifup-Team: writes the team's teamd config (TEAM_CONFIG with `device`
//!   put in) to `/run/teamd/DEV.conf`, starts teamd (`systemctl start
//!   teamd@DEV` when systemd runs, otherwise `teamd -d`), brings up every
//!   ifcfg whose TEAM_MASTER (or TEAM_MASTER_UUID) is the team, then gives
//!   the link its address: initscripts' `ifup-eth` when it is installed
//!   (as libteam's script does), otherwise the static addresses, MTU and
//!   gateway of teamd-convert's ifcfg mapping, with `ip`.
//! - ifup-TeamPort: starts the master first when its teamd does not run;
//!   skips a port already present; sets it down, `port config update` with
//!   TEAM_PORT_CONFIG, `port add`.
//! - ifdown-TeamPort: `port remove` (when teamd has the port), link down.
//! - ifdown-Team: its ports down, teamd stopped (the device goes with it),
//!   the config file removed.

use std::path::{Path, PathBuf};

use networkd_gen::diag::{Diags, Origin};

use crate::ifcfg::{self, Ifcfg};
use crate::team::{check_config, normalize_mac, valid_ifname, Ipv4Method, Ipv6Method, Team};

/// The four scripts, by the names network-scripts calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    IfupTeam,
    IfdownTeam,
    IfupTeamPort,
    IfdownTeamPort,
}

impl Script {
    pub const NAMES: [&'static str; 4] = [
        "ifup-Team",
        "ifdown-Team",
        "ifup-TeamPort",
        "ifdown-TeamPort",
    ];

    pub fn from_name(name: &str) -> Option<Script> {
        Some(match name {
            "ifup-Team" => Script::IfupTeam,
            "ifdown-Team" => Script::IfdownTeam,
            "ifup-TeamPort" => Script::IfupTeamPort,
            "ifdown-TeamPort" => Script::IfdownTeamPort,
            _ => return None,
        })
    }
}

/// Where things are on this system.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The ifcfg directory (`/etc/sysconfig/network-scripts`).
    pub dir: PathBuf,
    /// Where team configs for teamd@.service go (`/run/teamd`).
    pub run_dir: PathBuf,
    pub teamd: String,
    pub teamdctl: String,
    /// systemd is PID 1: teamd runs as `teamd@DEV.service`.
    pub systemd: bool,
    /// initscripts' `ifup-eth`/`ifdown-eth` and `/sbin/ifup` are installed.
    pub initscripts: bool,
}

impl Setup {
    fn eth_script(&self, up: bool) -> String {
        let name = if up { "ifup-eth" } else { "ifdown-eth" };
        self.dir.join(name).display().to_string()
    }

    fn conf(&self, dev: &str) -> PathBuf {
        self.run_dir.join(format!("{dev}.conf"))
    }
}

/// What the scripts do to the system.
pub trait Host {
    /// Runs a command that changes something; Err with a message when it fails.
    fn run(&mut self, argv: &[String]) -> Result<(), String>;
    /// Runs a query without output; true when it succeeded.
    fn query(&mut self, argv: &[String]) -> bool;
    fn write(&mut self, path: &Path, text: &str) -> Result<(), String>;
    fn remove(&mut self, path: &Path);
    /// The interface with this MAC address (upper case, colons).
    fn link_by_mac(&mut self, mac: &str) -> Option<String>;
    /// A message for the user (stderr).
    fn note(&mut self, msg: &str);
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn errors(d: &Diags) -> Result<(), String> {
    let msgs: Vec<String> =
        d.0.iter()
            .filter(|d| d.level == networkd_gen::diag::Level::Error)
            .map(|d| d.to_string())
            .collect();
    if msgs.is_empty() {
        Ok(())
    } else {
        Err(msgs.join("\n"))
    }
}

/// A value whose invalid quoting is ignored (used only to find files).
fn quiet(f: &Ifcfg, key: &str) -> Option<String> {
    f.get(key, &mut Diags::default())
}

/// `DEVICETYPE`, or Team for a file with TEAM_CONFIG (as NM and libteam read it).
fn kind(f: &Ifcfg) -> String {
    quiet(f, "DEVICETYPE")
        .or_else(|| quiet(f, "TEAM_CONFIG").map(|_| "Team".into()))
        .unwrap_or_default()
}

/// The ifcfg files of a directory, parsed (files NM skips left out).
pub struct Files {
    files: Vec<(String, Ifcfg, String)>,
}

impl Files {
    /// From (file name, path, text) triples.
    pub fn new(files: &[(String, String, String)]) -> Files {
        Files {
            files: files
                .iter()
                .filter_map(|(name, path, text)| {
                    let suffix = name.strip_prefix("ifcfg-")?;
                    (!ifcfg::ignored_name(name))
                        .then(|| (name.clone(), Ifcfg::parse(path, suffix, text), text.clone()))
                })
                .collect(),
        }
    }

    /// The file network-scripts mean by `arg` (as `need_config` finds it):
    /// a path, `ifcfg-NAME`, `NAME`, then the file whose DEVICE or HWADDR it is.
    pub fn find(&self, arg: &str) -> Result<&Ifcfg, String> {
        let base = arg.rsplit('/').next().unwrap_or(arg);
        let name = if base.starts_with("ifcfg-") {
            base.to_string()
        } else {
            format!("ifcfg-{base}")
        };
        if let Some((_, f, _)) = self.files.iter().find(|(n, _, _)| *n == name) {
            return Ok(f);
        }
        let mac = normalize_mac(base);
        self.files
            .iter()
            .find(|(_, f, _)| quiet(f, "DEVICE").as_deref() == Some(base))
            .or_else(|| {
                self.files.iter().find(|(_, f, _)| {
                    mac.is_some() && quiet(f, "HWADDR").and_then(|m| normalize_mac(&m)) == mac
                })
            })
            .map(|(_, f, _)| f)
            .ok_or_else(|| format!("no ifcfg file for \"{arg}\""))
    }

    fn team_file(&self, device: Option<&str>, uuid: Option<&str>) -> Option<&Ifcfg> {
        self.files
            .iter()
            .map(|(_, f, _)| f)
            .filter(|f| kind(f) == "Team")
            .find(|f| match uuid {
                Some(u) => quiet(f, "UUID").as_deref() == Some(u),
                None => device.is_some() && quiet(f, "DEVICE").as_deref() == device,
            })
    }

    /// The port files of a team, in file name order.
    fn ports_of(&self, team: &Ifcfg) -> Vec<&Ifcfg> {
        let dev = quiet(team, "DEVICE");
        let uuid = quiet(team, "UUID");
        self.files
            .iter()
            .map(|(_, f, _)| f)
            .filter(|f| kind(f) != "Team")
            .filter(|f| match quiet(f, "TEAM_MASTER_UUID") {
                Some(u) => uuid.as_deref() == Some(u.as_str()),
                None => quiet(f, "TEAM_MASTER").is_some_and(|m| Some(m) == dev),
            })
            .collect()
    }

    fn file_name(&self, f: &Ifcfg) -> String {
        format!("ifcfg-{}", f.suffix)
    }

    fn text(&self, f: &Ifcfg) -> (String, String, String) {
        self.files
            .iter()
            .find(|(_, g, _)| g.path == f.path)
            .map(|(n, g, t)| (n.clone(), g.path.clone(), t.clone()))
            .unwrap_or_default()
    }
}

/// A port file's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortCfg {
    name: Option<String>,
    mac: Option<String>,
    config: String,
    master: Option<String>,
    master_uuid: Option<String>,
}

fn port_cfg(f: &Ifcfg) -> Result<PortCfg, String> {
    let mut d = Diags::default();
    let name = f.get("DEVICE", &mut d);
    if let Some(n) = name.as_ref().filter(|n| !valid_ifname(n)) {
        d.error(
            f.origin("DEVICE"),
            format!("\"{n}\" is not an interface name"),
        );
    }
    let mac = f.get("HWADDR", &mut d).and_then(|m| {
        let n = normalize_mac(&m);
        if n.is_none() {
            d.error(f.origin("HWADDR"), format!("\"{m}\" is not a MAC address"));
        }
        n
    });
    let config = f.get("TEAM_PORT_CONFIG", &mut d).unwrap_or_default();
    if let Err(e) = check_config(&config) {
        d.error(f.origin("TEAM_PORT_CONFIG"), e);
    }
    let master = f.get("TEAM_MASTER", &mut d);
    let master_uuid = f.get("TEAM_MASTER_UUID", &mut d);
    if master.is_none() && master_uuid.is_none() {
        d.error(
            f.origin("TEAM_MASTER"),
            "a team port needs TEAM_MASTER= or TEAM_MASTER_UUID=",
        );
    }
    if name.is_none() && mac.is_none() {
        d.error(f.origin("DEVICE"), "a team port needs DEVICE= or HWADDR=");
    }
    errors(&d)?;
    Ok(PortCfg {
        name,
        mac,
        config,
        master,
        master_uuid,
    })
}

/// The team of a Team file, by teamd-convert's ifcfg mapping.
fn team_of(files: &Files, f: &Ifcfg) -> Result<Team, String> {
    let mut d = Diags::default();
    let teams = ifcfg::teams(&[files.text(f)], &mut d);
    errors(&d)?;
    teams
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: not a team (DEVICETYPE=Team)", f.path))
}

/// Runs one script for `arg` (the ifcfg file or device network-scripts pass).
pub fn run(
    script: Script,
    arg: &str,
    boot: Option<&str>,
    setup: &Setup,
    files: &Files,
    host: &mut dyn Host,
) -> Result<(), String> {
    let f = files.find(arg)?;
    let s = Scripts { setup, files, boot };
    let want = match script {
        Script::IfupTeam | Script::IfdownTeam => "Team",
        Script::IfupTeamPort | Script::IfdownTeamPort => "TeamPort",
    };
    let k = kind(f);
    // a port file without DEVICETYPE but with TEAM_MASTER is a port too (ifup-eth calls us)
    let is_port = k == "TeamPort" || (k != "Team" && quiet(f, "TEAM_MASTER").is_some());
    let ok = match want {
        "Team" => k == "Team",
        _ => is_port,
    };
    if !ok {
        return Err(format!(
            "{}: DEVICETYPE={k} is not {want}",
            Origin::file(&f.path)
        ));
    }
    match script {
        Script::IfupTeam => s.ifup_team(f, host),
        Script::IfdownTeam => s.ifdown_team(f, host),
        Script::IfupTeamPort => s.ifup_port(f, host),
        Script::IfdownTeamPort => s.ifdown_port(f, host),
    }
}

struct Scripts<'a> {
    setup: &'a Setup,
    files: &'a Files,
    boot: Option<&'a str>,
}

impl Scripts<'_> {
    fn running(&self, dev: &str, host: &mut dyn Host) -> bool {
        host.query(&argv(&[&self.setup.teamdctl, dev, "state"]))
    }

    /// initscripts' ifup-eth/ifdown-eth for the file, when called directly.
    fn eth(&self, f: &Ifcfg, up: bool, host: &mut dyn Host) -> Result<(), String> {
        let mut a = vec![self.setup.eth_script(up), self.files.file_name(f)];
        a.extend(self.boot.map(str::to_string));
        host.run(&a)
    }

    fn ifup_team(&self, f: &Ifcfg, host: &mut dyn Host) -> Result<(), String> {
        let team = team_of(self.files, f)?;
        let dev = team.device.as_str();
        // every port file is read before anything is done
        let ports = self.files.ports_of(f);
        let bad: Vec<String> = ports.iter().filter_map(|p| port_cfg(p).err()).collect();
        if !bad.is_empty() {
            return Err(bad.join("\n"));
        }
        if self.running(dev, host) {
            host.note(&format!("teamd already runs for {dev}"));
        } else {
            let conf = nm_team_settings::teamd::join(dev, &team.config, &[])
                .map_err(|e| format!("{}: {e}", team.config_origin))?;
            let path = self.setup.conf(dev);
            host.write(&path, &(conf + "\n"))?;
            if self.setup.systemd {
                host.run(&argv(&[
                    "systemctl",
                    "start",
                    &format!("teamd@{dev}.service"),
                ]))?;
            } else {
                let p = path.display().to_string();
                host.run(&argv(&[
                    &self.setup.teamd,
                    "-d",
                    "-U",
                    "-o",
                    "-t",
                    dev,
                    "-f",
                    &p,
                ]))?;
            }
        }
        for p in ports {
            if self.setup.initscripts {
                host.run(&argv(&["/sbin/ifup", &self.files.file_name(p)]))?;
            } else {
                self.port_up(p, false, host)?;
            }
        }
        if self.setup.initscripts {
            if kind(f) == "Team" && quiet(f, "DEVICETYPE").is_some() {
                return self.eth(f, true, host);
            }
            return Ok(());
        }
        self.addresses(&team, host)
    }

    /// Without initscripts: what ifup-eth would set on the team link.
    fn addresses(&self, team: &Team, host: &mut dyn Host) -> Result<(), String> {
        let dev = team.device.as_str();
        if let Some(mtu) = team.mtu {
            host.run(&argv(&[
                "ip",
                "link",
                "set",
                "dev",
                dev,
                "mtu",
                &mtu.to_string(),
            ]))?;
        }
        host.run(&argv(&["ip", "link", "set", "dev", dev, "up"]))?;
        let v4 = &team.ipv4;
        if v4.method == Ipv4Method::Auto {
            host.note(&format!(
                "{}: BOOTPROTO=dhcp: no DHCP client is run without network-scripts' ifup-eth",
                team.origin
            ));
        }
        for (a, p) in &v4.addresses {
            host.run(&argv(&[
                "ip",
                "addr",
                "replace",
                &format!("{a}/{p}"),
                "dev",
                dev,
            ]))?;
        }
        if let (Some(g), false, Ipv4Method::Manual) = (v4.gateway, v4.never_default, v4.method) {
            host.run(&argv(&[
                "ip",
                "route",
                "replace",
                "default",
                "via",
                &g.to_string(),
                "dev",
                dev,
            ]))?;
        }
        let v6 = &team.ipv6;
        if v6.method != Ipv6Method::Ignore {
            for (a, p) in &v6.addresses {
                host.run(&argv(&[
                    "ip",
                    "-6",
                    "addr",
                    "replace",
                    &format!("{a}/{p}"),
                    "dev",
                    dev,
                ]))?;
            }
            if let Some(g) = v6.gateway {
                host.run(&argv(&[
                    "ip",
                    "-6",
                    "route",
                    "replace",
                    "default",
                    "via",
                    &g.to_string(),
                    "dev",
                    dev,
                ]))?;
            }
        }
        Ok(())
    }

    fn ifup_port(&self, f: &Ifcfg, host: &mut dyn Host) -> Result<(), String> {
        if self.setup.initscripts && quiet(f, "DEVICETYPE").as_deref() == Some("TeamPort") {
            self.eth(f, true, host)?;
        }
        self.port_up(f, true, host)
    }

    fn port_name(&self, f: &Ifcfg, p: &PortCfg, host: &mut dyn Host) -> Result<String, String> {
        if let Some(n) = &p.name {
            return Ok(n.clone());
        }
        let mac = p.mac.as_deref().unwrap_or_default();
        host.link_by_mac(mac)
            .ok_or_else(|| format!("{}: no interface has {mac}", f.origin("HWADDR")))
    }

    fn master_of(&self, f: &Ifcfg, p: &PortCfg) -> Result<(String, Option<&Ifcfg>), String> {
        let file = self
            .files
            .team_file(p.master.as_deref(), p.master_uuid.as_deref());
        let dev = match (file, &p.master) {
            (Some(t), _) => quiet(t, "DEVICE"),
            (None, m) if p.master_uuid.is_none() => m.clone(),
            (None, _) => None,
        };
        match dev {
            Some(d) => Ok((d, file)),
            None => Err(format!(
                "{}: no ifcfg file of a team has UUID={}",
                f.origin("TEAM_MASTER_UUID"),
                p.master_uuid.as_deref().unwrap_or_default()
            )),
        }
    }

    /// `start_master`: from ifup-TeamPort (start the team when its teamd does not run);
    /// false from ifup-Team, which has just started it.
    fn port_up(&self, f: &Ifcfg, start_master: bool, host: &mut dyn Host) -> Result<(), String> {
        let p = port_cfg(f)?;
        let (master, master_file) = self.master_of(f, &p)?;
        if start_master && !self.running(&master, host) {
            let Some(mf) = master_file else {
                return Err(format!(
                    "{}: teamd does not run for {master} and no ifcfg file of a team has DEVICE={master}",
                    f.origin("TEAM_MASTER")
                ));
            };
            host.note(&format!("starting team {master} first"));
            // brings every port of the team up, this one too
            return self.ifup_team(mf, host);
        }
        let dev = self.port_name(f, &p, host)?;
        let ctl = self.setup.teamdctl.as_str();
        if host.query(&argv(&[ctl, &master, "port", "present", &dev])) {
            host.note(&format!("{dev} is already a port of {master}"));
            return Ok(());
        }
        host.run(&argv(&["ip", "link", "set", "dev", &dev, "down"]))?;
        if !p.config.trim().is_empty() {
            host.run(&argv(&[
                ctl, &master, "port", "config", "update", &dev, &p.config,
            ]))?;
        }
        host.run(&argv(&[ctl, &master, "port", "add", &dev]))
    }

    fn ifdown_port(&self, f: &Ifcfg, host: &mut dyn Host) -> Result<(), String> {
        let p = port_cfg(f)?;
        let (master, _) = self.master_of(f, &p)?;
        let dev = self.port_name(f, &p, host)?;
        let ctl = self.setup.teamdctl.as_str();
        if !self.running(&master, host) {
            host.note(&format!("teamd does not run for {master}"));
        } else if host.query(&argv(&[ctl, &master, "port", "present", &dev])) {
            host.run(&argv(&[ctl, &master, "port", "remove", &dev]))?;
        } else {
            host.note(&format!("{dev} is not a port of {master}"));
        }
        if self.setup.initscripts {
            self.eth(f, false, host)
        } else {
            host.run(&argv(&["ip", "link", "set", "dev", &dev, "down"]))
        }
    }

    fn ifdown_team(&self, f: &Ifcfg, host: &mut dyn Host) -> Result<(), String> {
        let team = team_of(self.files, f)?;
        let dev = team.device.as_str();
        if self.setup.initscripts && quiet(f, "DEVICETYPE").is_some() {
            self.eth(f, false, host)?;
        }
        let running = self.running(dev, host);
        if running {
            for p in self.files.ports_of(f) {
                if self.setup.initscripts {
                    host.run(&argv(&["/sbin/ifdown", &self.files.file_name(p)]))?;
                } else {
                    self.ifdown_port(p, host)?;
                }
            }
        }
        if self.setup.systemd {
            host.run(&argv(&[
                "systemctl",
                "stop",
                &format!("teamd@{dev}.service"),
            ]))?;
        } else if running {
            host.run(&argv(&[&self.setup.teamd, "-k", "-t", dev]))?;
        } else {
            host.note(&format!("teamd does not run for {dev}"));
        }
        host.remove(&self.setup.conf(dev));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Records commands; teamd runs for the teams in `running`, ports in `present`.
    #[derive(Default)]
    struct Fake {
        log: Vec<String>,
        running: BTreeSet<String>,
        present: BTreeSet<String>,
        macs: Vec<(String, String)>,
        /// starting teamd changes nothing (as with --dry-run)
        inert: bool,
    }

    impl Host for Fake {
        fn run(&mut self, a: &[String]) -> Result<(), String> {
            self.log.push(a.join(" "));
            // starting teamd makes it run
            if self.inert {
                return Ok(());
            }
            if a.first().is_some_and(|c| c == "teamd") && a.contains(&"-d".to_string()) {
                self.running.insert(a[5].clone());
            }
            if a.first().is_some_and(|c| c == "systemctl") && a[1] == "start" {
                let unit = a[2]
                    .trim_start_matches("teamd@")
                    .trim_end_matches(".service");
                self.running.insert(unit.to_string());
            }
            Ok(())
        }
        fn query(&mut self, a: &[String]) -> bool {
            match a.get(2).map(String::as_str) {
                Some("state") => self.running.contains(&a[1]),
                Some("port") => self.present.contains(&format!("{}/{}", a[1], a[4])),
                _ => false,
            }
        }
        fn write(&mut self, path: &Path, text: &str) -> Result<(), String> {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            self.log.push(format!("write {} {flat}", path.display()));
            Ok(())
        }
        fn remove(&mut self, path: &Path) {
            self.log.push(format!("rm {}", path.display()));
        }
        fn link_by_mac(&mut self, mac: &str) -> Option<String> {
            self.macs
                .iter()
                .find(|(m, _)| m == mac)
                .map(|(_, n)| n.clone())
        }
        fn note(&mut self, _: &str) {}
    }

    fn setup(systemd: bool, initscripts: bool) -> Setup {
        Setup {
            dir: "/etc/sysconfig/network-scripts".into(),
            run_dir: "/run/teamd".into(),
            teamd: "teamd".into(),
            teamdctl: "teamdctl".into(),
            systemd,
            initscripts,
        }
    }

    fn files(list: &[(&str, &str)]) -> Files {
        let v: Vec<(String, String, String)> = list
            .iter()
            .map(|(n, t)| (n.to_string(), format!("/d/{n}"), t.to_string()))
            .collect();
        Files::new(&v)
    }

    fn example() -> Files {
        files(&[
            (
                "ifcfg-team0",
                "DEVICE=team0\nDEVICETYPE=Team\nTEAM_CONFIG='{\"runner\": {\"name\": \"activebackup\"}}'\nBOOTPROTO=none\nIPADDR=192.0.2.1\nPREFIX=24\n",
            ),
            (
                "ifcfg-p0",
                "DEVICE=p0\nDEVICETYPE=TeamPort\nTEAM_MASTER=team0\nTEAM_PORT_CONFIG='{\"prio\": 10}'\n",
            ),
            ("ifcfg-p1", "DEVICE=p1\nDEVICETYPE=TeamPort\nTEAM_MASTER=\"team0\"\n"),
            ("ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\n"),
            ("ifcfg-p0.bak", "DEVICE=p0\nTEAM_MASTER=team0\n"),
        ])
    }

    fn go(script: Script, arg: &str, s: &Setup, f: &Files, h: &mut Fake) -> Result<(), String> {
        run(script, arg, None, s, f, h)
    }

    #[test]
    fn ifup_team_without_systemd_or_initscripts() {
        let mut h = Fake::default();
        go(
            Script::IfupTeam,
            "ifcfg-team0",
            &setup(false, false),
            &example(),
            &mut h,
        )
        .unwrap();
        assert_eq!(
            h.log,
            [
                r#"write /run/teamd/team0.conf { "device": "team0", "runner": { "name": "activebackup" } }"#,
                "teamd -d -U -o -t team0 -f /run/teamd/team0.conf",
                "ip link set dev p0 down",
                r#"teamdctl team0 port config update p0 {"prio": 10}"#,
                "teamdctl team0 port add p0",
                "ip link set dev p1 down",
                "teamdctl team0 port add p1",
                "ip link set dev team0 up",
                "ip addr replace 192.0.2.1/24 dev team0",
            ]
        );
    }

    #[test]
    fn ifup_team_under_initscripts_and_systemd() {
        let mut h = Fake::default();
        let s = setup(true, true);
        go(Script::IfupTeam, "team0", &s, &example(), &mut h).unwrap();
        assert_eq!(
            h.log[1..],
            [
                "systemctl start teamd@team0.service",
                "/sbin/ifup ifcfg-p0",
                "/sbin/ifup ifcfg-p1",
                "/etc/sysconfig/network-scripts/ifup-eth ifcfg-team0",
            ]
        );
        // teamd runs already: nothing written or started
        let mut h2 = Fake {
            running: ["team0".to_string()].into(),
            ..Fake::default()
        };
        run(
            Script::IfupTeam,
            "/etc/x/ifcfg-team0",
            Some("boot"),
            &s,
            &example(),
            &mut h2,
        )
        .unwrap();
        assert_eq!(h2.log[0], "/sbin/ifup ifcfg-p0");
        assert_eq!(
            h2.log[2],
            "/etc/sysconfig/network-scripts/ifup-eth ifcfg-team0 boot"
        );
    }

    #[test]
    fn ifup_port_starts_the_master_first() {
        let mut h = Fake::default();
        go(
            Script::IfupTeamPort,
            "ifcfg-p1",
            &setup(false, false),
            &example(),
            &mut h,
        )
        .unwrap();
        assert_eq!(h.log[1], "teamd -d -U -o -t team0 -f /run/teamd/team0.conf");
        assert!(h.log.contains(&"teamdctl team0 port add p1".to_string()));
        assert!(h.log.contains(&"teamdctl team0 port add p0".to_string()));
    }

    #[test]
    fn ports_follow_a_teamd_just_started_without_asking_again() {
        let mut h = Fake {
            inert: true,
            ..Fake::default()
        };
        go(
            Script::IfupTeamPort,
            "p0",
            &setup(false, false),
            &example(),
            &mut h,
        )
        .unwrap();
        assert_eq!(h.log.len(), 9, "{:?}", h.log);
        assert_eq!(h.log[4], "teamdctl team0 port add p0");
    }

    #[test]
    fn ifup_port_skips_a_present_port() {
        let mut h = Fake {
            running: ["team0".to_string()].into(),
            present: ["team0/p1".to_string()].into(),
            ..Fake::default()
        };
        go(
            Script::IfupTeamPort,
            "p1",
            &setup(false, false),
            &example(),
            &mut h,
        )
        .unwrap();
        assert!(h.log.is_empty(), "{:?}", h.log);
        h.present.clear();
        go(
            Script::IfupTeamPort,
            "p0",
            &setup(false, false),
            &example(),
            &mut h,
        )
        .unwrap();
        assert_eq!(
            h.log,
            [
                "ip link set dev p0 down",
                r#"teamdctl team0 port config update p0 {"prio": 10}"#,
                "teamdctl team0 port add p0",
            ]
        );
    }

    #[test]
    fn port_by_mac_and_master_by_uuid() {
        let f = files(&[
            (
                "ifcfg-t",
                "DEVICE=team1\nDEVICETYPE=Team\nUUID=u-1\nTEAM_CONFIG='{}'\n",
            ),
            (
                "ifcfg-x",
                "HWADDR=02:00:00:00:00:aa\nDEVICETYPE=TeamPort\nTEAM_MASTER_UUID=u-1\n",
            ),
        ]);
        let mut h = Fake {
            running: ["team1".to_string()].into(),
            macs: vec![("02:00:00:00:00:AA".into(), "eth7".into())],
            ..Fake::default()
        };
        go(
            Script::IfupTeamPort,
            "ifcfg-x",
            &setup(false, false),
            &f,
            &mut h,
        )
        .unwrap();
        assert_eq!(
            h.log,
            ["ip link set dev eth7 down", "teamdctl team1 port add eth7"]
        );
        // found by its MAC too, as need_config does
        h.log.clear();
        h.present.insert("team1/eth7".into());
        go(
            Script::IfdownTeamPort,
            "02:00:00:00:00:AA",
            &setup(false, false),
            &f,
            &mut h,
        )
        .unwrap();
        assert_eq!(
            h.log,
            [
                "teamdctl team1 port remove eth7",
                "ip link set dev eth7 down"
            ]
        );
        // no such interface
        h.macs.clear();
        let e = go(Script::IfupTeamPort, "x", &setup(false, false), &f, &mut h).unwrap_err();
        assert!(e.contains("/d/ifcfg-x:1: \"HWADDR\""), "{e}");
    }

    #[test]
    fn ifdown_team_removes_ports_and_stops_teamd() {
        let mut h = Fake {
            running: ["team0".to_string()].into(),
            present: ["team0/p0".to_string(), "team0/p1".to_string()].into(),
            ..Fake::default()
        };
        go(
            Script::IfdownTeam,
            "team0",
            &setup(false, false),
            &example(),
            &mut h,
        )
        .unwrap();
        assert_eq!(
            h.log,
            [
                "teamdctl team0 port remove p0",
                "ip link set dev p0 down",
                "teamdctl team0 port remove p1",
                "ip link set dev p1 down",
                "teamd -k -t team0",
                "rm /run/teamd/team0.conf",
            ]
        );
        let mut h = Fake {
            running: ["team0".to_string()].into(),
            ..Fake::default()
        };
        go(
            Script::IfdownTeam,
            "team0",
            &setup(true, true),
            &example(),
            &mut h,
        )
        .unwrap();
        assert_eq!(
            h.log,
            [
                "/etc/sysconfig/network-scripts/ifdown-eth ifcfg-team0",
                "/sbin/ifdown ifcfg-p0",
                "/sbin/ifdown ifcfg-p1",
                "systemctl stop teamd@team0.service",
                "rm /run/teamd/team0.conf",
            ]
        );
    }

    #[test]
    fn wrong_kind_and_bad_files_are_errors_naming_file_line_key() {
        let mut h = Fake::default();
        let s = setup(false, false);
        let e = go(Script::IfupTeam, "p0", &s, &example(), &mut h).unwrap_err();
        assert_eq!(e, "/d/ifcfg-p0: DEVICETYPE=TeamPort is not Team");
        let e = go(Script::IfupTeamPort, "eth0", &s, &example(), &mut h).unwrap_err();
        assert!(e.contains("is not TeamPort"), "{e}");
        let e = go(Script::IfupTeam, "nope", &s, &example(), &mut h).unwrap_err();
        assert_eq!(e, "no ifcfg file for \"nope\"");
        let bad = files(&[
            (
                "ifcfg-t",
                "DEVICE=t\nDEVICETYPE=Team\nTEAM_CONFIG='{\"runner\": '\n",
            ),
            (
                "ifcfg-q",
                "DEVICE=q\nDEVICETYPE=TeamPort\n\nTEAM_MASTER=t\nTEAM_PORT_CONFIG=\"a b\n",
            ),
            (
                "ifcfg-r",
                "DEVICE=r\nDEVICETYPE=TeamPort\nTEAM_MASTER=nothere\n",
            ),
        ]);
        let e = go(Script::IfupTeam, "t", &s, &bad, &mut h).unwrap_err();
        assert!(e.starts_with("/d/ifcfg-t:3: \"TEAM_CONFIG\""), "{e}");
        // a bad port file stops ifup-Team before anything is done
        let mut f = example();
        f.files[1].1 = Ifcfg::parse(
            "/d/ifcfg-p1",
            "p1",
            "DEVICE=p1\nTEAM_MASTER=team0\nTEAM_PORT_CONFIG='['\n",
        );
        let e = go(Script::IfupTeam, "team0", &s, &f, &mut h).unwrap_err();
        assert!(e.starts_with("/d/ifcfg-p1:3: \"TEAM_PORT_CONFIG\""), "{e}");
        let e = go(Script::IfupTeamPort, "q", &s, &bad, &mut h).unwrap_err();
        assert!(e.starts_with("/d/ifcfg-q:5: \"TEAM_PORT_CONFIG\""), "{e}");
        let e = go(Script::IfupTeamPort, "r", &s, &bad, &mut h).unwrap_err();
        assert!(e.contains("/d/ifcfg-r:3: \"TEAM_MASTER\""), "{e}");
        assert!(e.contains("DEVICE=nothere"), "{e}");
        assert!(h.log.is_empty(), "{:?}", h.log);
    }

    #[test]
    fn script_names() {
        for n in Script::NAMES {
            assert!(Script::from_name(n).is_some());
        }
        assert_eq!(Script::from_name("ifup-eth"), None);
    }
}
