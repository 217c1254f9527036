//! The files the helper writes for a team, and its record of them.
//!
//! For team T with port P (paths on the system):
//! - `/run/teamd/T.conf`: the teamd document (`teamd@T` runs
//!   `teamd -f /run/teamd/T.conf`);
//! - `/run/systemd/network/10-teamd-port-P.network`: `[Match] Name=P`,
//!   `[Link] Unmanaged=yes`. Sorting before the usual names, it is the file
//!   networkd picks for P, so no catch-all file (and no 91-default.network
//!   of systemd-network-generator) configures a port;
//! - `/run/systemd/network/F.d/90-teamd-networkd.conf` for each user file F
//!   that says `Team=T`: the same `Unmanaged=yes`, for the case where F sorts
//!   before the file above and is the one networkd picks;
//! - `/run/systemd/network/N.d/90-teamd-networkd.conf` for the team's own
//!   `.network` N, unless N sets IgnoreCarrierLoss= or
//!   ConfigureWithoutCarrier= itself: `IgnoreCarrierLoss=5s`.
//!
//! Why `Unmanaged=yes` for ports rather than `KeepMaster=yes` and friends
//! (systemd 252): a managed port is set up by networkd (ActivationPolicy=up)
//! and the team driver refuses to enslave an interface that is up (EBUSY),
//! while teamd does not set ports down itself; without KeepMaster=yes
//! networkd even unsets the port's master (`link_request_to_set_master()`);
//! and managing the port buys nothing: it carries no addresses and must not
//! count for systemd-networkd-wait-online, which ignores unmanaged links.
//!
//! Why `IgnoreCarrierLoss=5s` for the team: networkd drops a link's
//! addresses and routes (and its DHCP lease) on carrier loss; a live reload
//! that changes the runner's kernel mode releases and re-enslaves the ports,
//! which takes the team's carrier away for a moment. A real outage still
//! drops the configuration, five seconds later. Everything else a team link
//! needs is as for a bond: networkd computes a master's operational state
//! from its ports' through IFLA_MASTER, whatever the master's kind, so
//! RequiredForOnline= needs nothing, and ConfigureWithoutCarrier= is not
//! needed because teamd sets the carrier as soon as a port is up.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::load::MARKER;
use crate::model::Team;

pub const TEAMD_RUN: &str = "/run/teamd";
pub const NETWORK_RUN: &str = "/run/systemd/network";
pub const DROPIN: &str = "90-teamd-networkd.conf";
pub const STATE: &str = "/run/teamd-networkd/state.json";

pub fn conf_path(team: &str) -> String {
    format!("{TEAMD_RUN}/{team}.conf")
}

pub fn port_network_path(port: &str) -> String {
    format!("{NETWORK_RUN}/10-teamd-port-{port}.network")
}

pub fn dropin_path(network_file: &str) -> String {
    format!("{NETWORK_RUN}/{network_file}.d/{DROPIN}")
}

/// The files for one team: path on the system → content.
pub fn team_files(team: &Team) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let from = team.sources.first().map(String::as_str).unwrap_or("?");
    out.insert(conf_path(&team.name), team.text.clone());
    let unmanaged = |what: &str| {
        format!(
            "{MARKER} for team {} ({from}).\n\
             # teamd enslaves {what}; networkd must leave it alone: it would set it up,\n\
             # which the team driver refuses to enslave, or take it out of the team.\n",
            team.name
        )
    };
    for p in &team.ports {
        out.insert(
            port_network_path(p),
            format!(
                "{}[Match]\nName={p}\n\n[Link]\nUnmanaged=yes\n",
                unmanaged(p)
            ),
        );
    }
    for (file, _) in &team.port_files {
        out.insert(
            dropin_path(file),
            format!(
                "{}[Link]\nUnmanaged=yes\n",
                unmanaged("this file's interfaces")
            ),
        );
    }
    if let Some(tf) = &team.team_file {
        if tf.carrier_dropin {
            out.insert(
                dropin_path(&tf.name),
                format!(
                    "{MARKER} for team {} ({from}).\n\
                     # Keep the addresses while the team's carrier is gone for a moment: a live\n\
                     # reload that changes the runner re-enslaves the ports.\n\
                     [Network]\nIgnoreCarrierLoss=5s\n",
                    team.name
                ),
            );
        }
    }
    out
}

/// What the helper wrote on its last run, per team: kept in /run, so a
/// missing record means the first run since boot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub teams: BTreeMap<String, Vec<String>>,
}

impl Manifest {
    pub fn to_text(&self) -> String {
        let teams: serde_json::Map<String, Value> = self
            .teams
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        crate::model::to_text(&json!({ "teams": teams }))
    }

    /// None when the text is not a manifest (then it is treated as absent
    /// files-wise, but as a later run: see `helper`).
    pub fn parse(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        let mut m = Manifest::default();
        for (team, files) in v.get("teams")?.as_object()? {
            let files = files
                .as_array()?
                .iter()
                .map(|f| f.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()?;
            m.teams.insert(team.clone(), files);
        }
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TeamFile;

    fn team() -> Team {
        Team {
            name: "team0".into(),
            text: "{}\n".into(),
            ports: vec!["eth1".into(), "eth2".into()],
            port_files: vec![(
                "20-eth1.network".into(),
                "/etc/systemd/network/20-eth1.network".into(),
            )],
            team_file: Some(TeamFile {
                name: "30-team0.network".into(),
                path: "/etc/systemd/network/30-team0.network".into(),
                carrier_dropin: true,
            }),
            sources: vec!["/etc/systemd/network/team0.netdev".into()],
        }
    }

    #[test]
    fn files_of_a_team() {
        let f = team_files(&team());
        let paths: Vec<&String> = f.keys().collect();
        assert_eq!(
            paths,
            [
                "/run/systemd/network/10-teamd-port-eth1.network",
                "/run/systemd/network/10-teamd-port-eth2.network",
                "/run/systemd/network/20-eth1.network.d/90-teamd-networkd.conf",
                "/run/systemd/network/30-team0.network.d/90-teamd-networkd.conf",
                "/run/teamd/team0.conf",
            ]
        );
        assert_eq!(
            f["/run/systemd/network/10-teamd-port-eth1.network"],
            "# Generated by teamd-networkd-helper for team team0 (/etc/systemd/network/team0.netdev).\n\
             # teamd enslaves eth1; networkd must leave it alone: it would set it up,\n\
             # which the team driver refuses to enslave, or take it out of the team.\n\
             [Match]\nName=eth1\n\n[Link]\nUnmanaged=yes\n"
        );
        assert!(
            f["/run/systemd/network/30-team0.network.d/90-teamd-networkd.conf"]
                .ends_with("[Network]\nIgnoreCarrierLoss=5s\n")
        );
        let mut t = team();
        t.team_file = t.team_file.map(|f| TeamFile {
            carrier_dropin: false,
            ..f
        });
        assert_eq!(team_files(&t).len(), 4);
    }

    #[test]
    fn manifest_round_trip() {
        let mut m = Manifest::default();
        m.teams
            .insert("team0".into(), vec!["/run/teamd/team0.conf".into()]);
        assert_eq!(Manifest::parse(&m.to_text()), Some(m));
        assert_eq!(Manifest::parse("{\"teams\": 1}"), None);
        assert_eq!(Manifest::parse("x"), None);
    }
}
