//! NetworkManager keyfiles (integration.md §1.12): a team profile and one
//! ethernet profile per port, with `master=`/`slave-type=team` (read by
//! every NM version; NM ≥ 1.46 only writes the newer names). Values are
//! escaped as GKeyFile's `set_string` does. Files are mode 0600, as NM
//! requires of keyfiles.

use crate::output::OutFile;
use crate::team::{Ipv4Method, Ipv6Method, Team};

/// A keyfile being written: sections in order, keys in order.
#[derive(Default)]
pub struct Keyfile {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Keyfile {
    pub fn section(&mut self, name: &str) -> &mut Keyfile {
        self.sections.push((name.to_string(), Vec::new()));
        self
    }

    /// Adds `key=value` to the last section.
    pub fn set(&mut self, key: &str, value: &str) -> &mut Keyfile {
        if let Some((_, keys)) = self.sections.last_mut() {
            keys.push((key.to_string(), value.to_string()));
        }
        self
    }

    pub fn finish(&self) -> String {
        let mut out = String::new();
        for (i, (name, keys)) in self.sections.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("[{name}]\n"));
            for (k, v) in keys {
                out.push_str(&format!("{k}={}\n", escape(v)));
            }
        }
        out
    }
}

/// GKeyFile's string escaping: backslash, newline, tab, CR, a leading space.
pub fn escape(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' ' if i == 0 => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

/// NM's keyfile name for a profile id (`/` cannot be in a file name).
pub fn file_name(id: &str) -> String {
    format!("{}.nmconnection", id.replace('/', "*"))
}

/// A new profile's `[connection]` head.
pub fn connection(id: &str, uuid: &str, kind: &str) -> Keyfile {
    let mut k = Keyfile::default();
    k.section("connection")
        .set("id", id)
        .set("uuid", uuid)
        .set("type", kind);
    k
}

/// The team's and its ports' keyfiles; `new_uuid` names profiles that
/// had no UUID in the source.
pub fn team_files(team: &Team, new_uuid: &mut dyn FnMut() -> String) -> Vec<OutFile> {
    let mut files = Vec::new();
    let uuid = team.uuid.clone().unwrap_or_else(&mut *new_uuid);
    let mut k = connection(&team.id, &uuid, "team");
    k.set("interface-name", &team.device);
    if !team.autoconnect {
        k.set("autoconnect", "false");
    }
    if let Some(mtu) = team.mtu {
        k.section("ethernet").set("mtu", &mtu.to_string());
    }
    k.section("team");
    if !team.config.is_empty() {
        k.set("config", &team.config);
    }
    ip_sections(&mut k, team);
    k.section("proxy");
    files.push(OutFile::private(file_name(&team.id), k.finish()));

    for p in &team.ports {
        let uuid = p.uuid.clone().unwrap_or_else(&mut *new_uuid);
        let mut k = connection(&p.id, &uuid, "ethernet");
        if let Some(name) = &p.name {
            k.set("interface-name", name);
        }
        k.set("master", &team.device).set("slave-type", "team");
        if !p.autoconnect {
            k.set("autoconnect", "false");
        }
        k.section("ethernet");
        if let Some(mac) = &p.mac {
            k.set("mac-address", mac);
        }
        k.section("team-port");
        if !p.config.is_empty() {
            k.set("config", &p.config);
        }
        files.push(OutFile::private(file_name(&p.id), k.finish()));
    }
    files
}

/// Addresses, DNS servers and gateway of one family, as NM writes them.
fn addressing<A: std::fmt::Display>(k: &mut Keyfile, addrs: &[(A, u8)], dns: &[A], gw: Option<&A>) {
    for (i, (a, p)) in addrs.iter().enumerate() {
        k.set(&format!("address{}", i + 1), &format!("{a}/{p}"));
    }
    if !dns.is_empty() {
        let list: String = dns.iter().map(|d| format!("{d};")).collect();
        k.set("dns", &list);
    }
    if let Some(g) = gw {
        k.set("gateway", &g.to_string());
    }
}

fn ip_sections(k: &mut Keyfile, team: &Team) {
    let v4 = &team.ipv4;
    k.section("ipv4");
    addressing(k, &v4.addresses, &v4.dns, v4.gateway.as_ref());
    k.set(
        "method",
        match v4.method {
            Ipv4Method::Auto => "auto",
            Ipv4Method::Manual => "manual",
            Ipv4Method::Disabled => "disabled",
        },
    );
    if v4.never_default {
        k.set("never-default", "true");
    }
    let v6 = &team.ipv6;
    k.section("ipv6");
    k.set("addr-gen-mode", "eui64");
    addressing(k, &v6.addresses, &v6.dns, v6.gateway.as_ref());
    k.set(
        "method",
        match v6.method {
            Ipv6Method::Auto => "auto",
            Ipv6Method::Dhcp => "dhcp",
            Ipv6Method::Manual => "manual",
            Ipv6Method::Ignore => "ignore",
        },
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::team::{Ipv4, Ipv6, Port};
    use networkd_gen::diag::Origin;

    pub fn sample() -> Team {
        let mut ipv4 = Ipv4::new(Ipv4Method::Manual);
        ipv4.addresses.push(("192.0.2.10".parse().expect("ip"), 24));
        ipv4.gateway = Some("192.0.2.1".parse().expect("ip"));
        ipv4.dns.push("192.0.2.53".parse().expect("ip"));
        let port = |id: &str, name: Option<&str>, mac: Option<&str>, cfg: &str| Port {
            origin: Origin::file("x"),
            id: id.into(),
            uuid: None,
            name: name.map(String::from),
            mac: mac.map(String::from),
            config: cfg.into(),
            autoconnect: true,
        };
        Team {
            origin: Origin::file("x"),
            device: "team0".into(),
            id: "team0".into(),
            uuid: None,
            config: r#"{"runner": {"name": "activebackup"}}"#.into(),
            config_origin: Origin::file("x"),
            autoconnect: true,
            mtu: Some(9000),
            ipv4,
            ipv6: Ipv6::new(Ipv6Method::Auto),
            ports: vec![
                port("team0_slave_1", Some("eth1"), None, r#"{"prio": 100}"#),
                port("team0_slave_2", None, Some("52:54:00:00:00:02"), ""),
            ],
        }
    }

    #[test]
    fn team_and_ports() {
        let mut n = 0;
        let mut uuid = || {
            n += 1;
            format!("00000000-0000-4000-8000-00000000000{n}")
        };
        let files = team_files(&sample(), &mut uuid);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "team0.nmconnection",
                "team0_slave_1.nmconnection",
                "team0_slave_2.nmconnection"
            ]
        );
        assert!(files.iter().all(|f| f.mode == 0o600));
        assert_eq!(
            files[0].content,
            "[connection]\nid=team0\nuuid=00000000-0000-4000-8000-000000000001\ntype=team\n\
             interface-name=team0\n\n[ethernet]\nmtu=9000\n\n[team]\n\
             config={\"runner\": {\"name\": \"activebackup\"}}\n\n[ipv4]\n\
             address1=192.0.2.10/24\ndns=192.0.2.53;\ngateway=192.0.2.1\nmethod=manual\n\n\
             [ipv6]\naddr-gen-mode=eui64\nmethod=auto\n\n[proxy]\n"
        );
        assert_eq!(
            files[1].content,
            "[connection]\nid=team0_slave_1\nuuid=00000000-0000-4000-8000-000000000002\n\
             type=ethernet\ninterface-name=eth1\nmaster=team0\nslave-type=team\n\n[ethernet]\n\n\
             [team-port]\nconfig={\"prio\": 100}\n"
        );
        assert!(files[2]
            .content
            .contains("[ethernet]\nmac-address=52:54:00:00:00:02\n"));
        assert!(!files[2].content.contains("interface-name"));
    }

    #[test]
    fn escaping() {
        assert_eq!(escape(" a\\b\nc\t"), "\\sa\\\\b\\nc\\t");
        assert_eq!(file_name("a/b"), "a*b.nmconnection");
    }
}
