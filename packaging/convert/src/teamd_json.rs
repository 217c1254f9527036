//! teamd JSON (`/etc/teamd/DEV.conf`): the team config with `device` and
//! `ports` put in, as nm-settings' [`nm_team_settings::teamd::join`] makes
//! it. teamd adds ports by name, and the file has no place for addresses.

use networkd_gen::diag::Diags;

use crate::output::OutFile;
use crate::team::{Ipv4Method, Ipv6Method, Team};

pub fn team_files(team: &Team, diags: &mut Diags) -> Vec<OutFile> {
    let mut ports = Vec::new();
    for p in &team.ports {
        match &p.name {
            Some(n) => ports.push((n.clone(), p.config.clone())),
            None => diags.error(
                p.origin.clone(),
                format!(
                    "port {} is given by MAC address only; teamd adds ports by name",
                    p.label()
                ),
            ),
        }
    }
    // what the team link was given beyond plain DHCP/SLAAC
    let ip_set = team.ipv4.method == Ipv4Method::Manual
        || !team.ipv4.dns.is_empty()
        || matches!(team.ipv6.method, Ipv6Method::Manual | Ipv6Method::Dhcp)
        || !team.ipv6.dns.is_empty()
        || team.mtu.is_some();
    if ip_set {
        diags.warning(
            team.origin.clone(),
            format!(
                "addresses, DNS and MTU of {} are not part of a teamd config; set them elsewhere",
                team.device
            ),
        );
    }
    match nm_team_settings::teamd::join(&team.device, &team.config, &ports) {
        Ok(text) => vec![OutFile::new(format!("{}.conf", team.device), text + "\n")],
        Err(e) => {
            diags.error(team.config_origin.clone(), e.to_string());
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyfile::tests::sample;

    #[test]
    fn device_and_ports_put_in() {
        let mut t = sample();
        t.ports[1].name = Some("eth2".into());
        let mut d = Diags::default();
        let f = team_files(&t, &mut d);
        assert_eq!(f[0].name, "team0.conf");
        let v: serde_json::Value = serde_json::from_str(&f[0].content).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"runner": {"name": "activebackup"}, "device": "team0",
                "ports": {"eth1": {"prio": 100}, "eth2": {}}})
        );
        assert_eq!(d.0.len(), 1, "addresses warned about");
        let mut d = Diags::default();
        team_files(&sample(), &mut d);
        assert!(d.has_errors());
    }
}
