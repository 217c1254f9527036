//! The kernel command line: dracut's `team=MASTER:PORT1,PORT2[:RUNNER]`
//! (modules.d/35network-legacy/parse-team.sh), and enough of `ip=` to warn
//! when it names a team's port.
//!
//! `ip=` itself is systemd-network-generator's: for `ip=team0:dhcp` (or the
//! long form naming team0) systemd 252 writes
//! `/run/systemd/network/90-team0.network` with `[Match] Name=team0`, which
//! is all the team needs; nothing is added here. A bare `ip=dhcp` makes its
//! `91-default.network` (`Kind=!*`, `Type=!loopback`), which would catch the
//! ports, and does not catch the team (Kind=team) — as with `bond=`; the
//! ports' files the helper writes sort first and keep networkd off them.

use crate::diag::{Diags, Origin};
use crate::netdev_team::RUNNERS;
use crate::values;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdlineTeam {
    pub master: String,
    pub ports: Vec<String>,
    pub runner: String,
}

/// Splits the command line into words as the kernel and systemd do:
/// whitespace separates, double quotes group and are dropped.
pub fn words(cmdline: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in cmdline.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Every `team=` of the command line. As in dracut, a later `team=` for the
/// same master replaces an earlier one.
pub fn parse_teams(cmdline: &str, diags: &mut Diags) -> Vec<CmdlineTeam> {
    let mut out: Vec<CmdlineTeam> = Vec::new();
    for w in words(cmdline) {
        let Some(v) = w.strip_prefix("team=") else {
            continue;
        };
        let Some(t) = parse_team(v, diags) else {
            continue;
        };
        if let Some(i) = out.iter().position(|o| o.master == t.master) {
            diags.warning(
                Origin::cmdline("team"),
                format!("{} given again; the last team= for it is used", t.master),
            );
            out.remove(i);
        }
        out.push(t);
    }
    out
}

fn parse_team(v: &str, diags: &mut Diags) -> Option<CmdlineTeam> {
    let origin = || Origin::cmdline("team");
    let fields: Vec<&str> = v.split(':').collect();
    if fields.len() > 3 {
        diags.error(
            origin(),
            format!("\"{v}\": expected MASTER:PORT,PORT[:RUNNER] (at most three fields)"),
        );
        return None;
    }
    let master = fields[0];
    if !values::valid_ifname(master) || !values::instance_safe(master) {
        diags.error(
            origin(),
            format!("\"{v}\": \"{master}\" is not a usable team name"),
        );
        return None;
    }
    let ports: Vec<String> = match fields.get(1) {
        // dracut's default for a bare master name
        None => {
            diags.push(crate::diag::Diag::info(
                origin(),
                format!("\"{v}\": no ports given; using eth0 and eth1, as dracut does"),
            ));
            vec!["eth0".into(), "eth1".into()]
        }
        Some(list) => list
            .split(',')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect(),
    };
    if let Some(bad) = ports
        .iter()
        .find(|p| !values::plain_ifname(p) || *p == master)
    {
        diags.error(
            origin(),
            format!("\"{v}\": \"{bad}\" is not a usable port name"),
        );
        return None;
    }
    let runner = match fields.get(2) {
        None | Some(&"") => "activebackup".to_string(),
        Some(r) if RUNNERS.contains(r) => r.to_string(),
        Some(r) => {
            diags.error(
                origin(),
                format!(
                    "\"{v}\": unknown runner \"{r}\"; expected {}",
                    RUNNERS.join(", ")
                ),
            );
            return None;
        }
    };
    Some(CmdlineTeam {
        master: master.to_string(),
        ports,
        runner,
    })
}

/// The interfaces `ip=` options name (`ip=IF:dhcp`, or the long form's
/// sixth field), for warnings about ports that are given addresses.
pub fn ip_interfaces(cmdline: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in words(cmdline) {
        let Some(v) = w.strip_prefix("ip=") else {
            continue;
        };
        // IPv6 addresses are written in brackets and contain ':'
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut bracket = false;
        for c in v.chars() {
            match c {
                '[' => bracket = true,
                ']' => bracket = false,
                ':' if !bracket => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        let iface = if fields.len() >= 6 {
            fields[5].clone()
        } else if fields.len() >= 2 {
            fields[0].clone()
        } else {
            String::new()
        };
        if !iface.is_empty() {
            out.push(iface);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams(c: &str) -> (Vec<CmdlineTeam>, Vec<String>) {
        let mut d = Diags::default();
        let t = parse_teams(c, &mut d);
        (t, d.0.iter().map(|d| d.to_string()).collect())
    }

    fn t(master: &str, ports: &[&str], runner: &str) -> CmdlineTeam {
        CmdlineTeam {
            master: master.into(),
            ports: ports.iter().map(|p| p.to_string()).collect(),
            runner: runner.into(),
        }
    }

    #[test]
    fn dracut_forms() {
        let (got, msgs) = teams("ro quiet team=team0:eth1,eth2 team=t1:eth3:lacp root=/dev/vda");
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(
            got,
            [
                t("team0", &["eth1", "eth2"], "activebackup"),
                t("t1", &["eth3"], "lacp")
            ]
        );
        // an empty runner field means the default
        assert_eq!(
            teams("team=team0:eth1,eth2:").0,
            [t("team0", &["eth1", "eth2"], "activebackup")]
        );
        // a bare master: dracut's eth0,eth1
        let (got, msgs) = teams("team=team0");
        assert_eq!(got, [t("team0", &["eth0", "eth1"], "activebackup")]);
        assert_eq!(
            msgs,
            ["kernel command line: team=: \"team0\": no ports given; using eth0 and eth1, as dracut does"]
        );
        // bare "team" is skipped by dracut, and not ours
        assert!(teams("team teaming=1").0.is_empty());
        // quoted word
        assert_eq!(
            teams("\"team=team0:eth1\"").0,
            [t("team0", &["eth1"], "activebackup")]
        );
    }

    #[test]
    fn last_one_wins() {
        let (got, msgs) = teams("team=team0:eth1 team=team0:eth2:roundrobin");
        assert_eq!(got, [t("team0", &["eth2"], "roundrobin")]);
        assert_eq!(
            msgs,
            ["kernel command line: team=: team0 given again; the last team= for it is used"]
        );
    }

    #[test]
    fn mistakes() {
        let (got, msgs) =
            teams("team=team0:eth1:lacp:x team=t1:eth1:bond team=:eth1 team=t2:t2 team=t3:eth1");
        assert_eq!(got, [t("t3", &["eth1"], "activebackup")]);
        assert_eq!(
            msgs,
            [
                "kernel command line: team=: \"team0:eth1:lacp:x\": expected MASTER:PORT,PORT[:RUNNER] (at most three fields)",
                "kernel command line: team=: \"t1:eth1:bond\": unknown runner \"bond\"; expected roundrobin, broadcast, random, activebackup, loadbalance, lacp",
                "kernel command line: team=: \":eth1\": \"\" is not a usable team name",
                "kernel command line: team=: \"t2:t2\": \"t2\" is not a usable port name",
            ]
        );
    }

    #[test]
    fn ip_forms() {
        assert_eq!(
            ip_interfaces(
                "ip=team0:dhcp ip=dhcp ip=192.0.2.10::192.0.2.1:255.255.255.0:host:eth1:none \
                           ip=[2001:db8::2]::[2001:db8::1]:64::eth2:none"
            ),
            ["team0", "eth1", "eth2"]
        );
    }
}
