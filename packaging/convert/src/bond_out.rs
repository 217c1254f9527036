//! A [`Bond`] written out: NM keyfiles (what team2bond's nmcli commands
//! make: `bond-DEV` and `bond-slave-PORT`), systemd-networkd `Kind=bond`
//! files (systemd 252's `[Bond]` keys), or an `ip link` script.

use networkd_gen::diag::{Diags, Origin};

use crate::bond::Bond;
use crate::keyfile::{connection, file_name};
use crate::output::OutFile;

pub fn nm_files(bond: &Bond, new_uuid: &mut dyn FnMut() -> String) -> Vec<OutFile> {
    let id = format!("bond-{}", bond.device);
    let mut k = connection(&id, &new_uuid(), "bond");
    k.set("interface-name", &bond.device);
    if let Some(mac) = &bond.hwaddr {
        k.section("ethernet").set("cloned-mac-address", mac);
    }
    k.section("bond").set("mode", bond.mode);
    for (name, v) in &bond.options {
        k.set(name, v);
    }
    if let Some(p) = &bond.primary {
        k.set("primary", p);
    }
    let mut files = vec![OutFile::private(file_name(&id), k.finish())];
    for p in &bond.ports {
        let id = format!("bond-slave-{p}");
        let mut k = connection(&id, &new_uuid(), "ethernet");
        k.set("interface-name", p)
            .set("master", &bond.device)
            .set("slave-type", "bond");
        k.section("ethernet");
        files.push(OutFile::private(file_name(&id), k.finish()));
    }
    files
}

/// Kernel option → systemd 252 `[Bond]` key and how the value is written.
fn networkd_key(name: &str, value: &str) -> Option<(&'static str, String)> {
    let ms = || format!("{value}ms");
    let same = || value.to_string();
    Some(match name {
        "fail_over_mac" => ("FailOverMACPolicy", same()),
        "lacp_rate" => ("LACPTransmitRate", same()),
        "ad_actor_sys_prio" => ("AdActorSystemPriority", same()),
        "min_links" => ("MinLinks", same()),
        "ad_select" => ("AdSelect", same()),
        "xmit_hash_policy" if value != "vlan+srcmac" => ("TransmitHashPolicy", same()),
        "miimon" => ("MIIMonitorSec", ms()),
        "updelay" => ("UpDelaySec", ms()),
        "downdelay" => ("DownDelaySec", ms()),
        "arp_interval" => ("ARPIntervalSec", ms()),
        "arp_ip_target" => ("ARPIPTargets", value.replace(',', " ")),
        "arp_validate" => ("ARPValidate", same()),
        "arp_all_targets" => ("ARPAllTargets", same()),
        "num_grat_arp" => ("GratuitousARP", same()),
        "resend_igmp" => ("ResendIGMP", same()),
        "tlb_dynamic_lb" => ("DynamicTransmitLoadBalancing", (value == "1").to_string()),
        "ad_user_port_key" => ("AdUserPortKey", same()),
        "primary_reselect" => ("PrimaryReselectPolicy", same()),
        _ => return None,
    })
}

pub fn networkd_files(bond: &Bond, at: &Origin, diags: &mut Diags) -> Vec<OutFile> {
    let mut netdev = format!(
        "# bond {} made by teamd-convert to-bond\n\n[NetDev]\nName={}\nKind=bond\n",
        bond.device, bond.device
    );
    if let Some(mac) = &bond.hwaddr {
        netdev.push_str(&format!("MACAddress={mac}\n"));
    }
    netdev.push_str(&format!("\n[Bond]\nMode={}\n", bond.mode));
    for (name, v) in &bond.options {
        match networkd_key(name, v) {
            Some((k, v)) => netdev.push_str(&format!("{k}={v}\n")),
            None => diags.warning(
                at.clone(),
                format!("bond option {name}={v} has no systemd-networkd key; left out"),
            ),
        }
    }
    let mut files = vec![OutFile::new(format!("10-{}.netdev", bond.device), netdev)];
    for p in &bond.ports {
        let mut text = format!(
            "# port {p} of bond {} made by teamd-convert to-bond\n\n[Match]\nName={p}\n\n[Network]\nBond={}\n",
            bond.device, bond.device
        );
        if bond.primary.as_deref() == Some(p.as_str()) {
            text.push_str("PrimarySlave=yes\n");
        }
        files.push(OutFile::new(
            format!("20-{}-port-{p}.network", bond.device),
            text,
        ));
    }
    files
}

/// A shell word, quoted when it needs it.
fn sh(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:,+/@%=".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// iproute2's name for a kernel bond option where they differ.
fn ip_name(option: &str) -> &str {
    match option {
        "peer_notif_delay" => "peer_notify_delay",
        other => other,
    }
}

pub fn ip_script(bond: &Bond, source: &str) -> OutFile {
    let dev = sh(&bond.device);
    let mut s = format!(
        "#!/bin/sh\n# bond {} made by teamd-convert to-bond from {source}\nset -e\n",
        bond.device
    );
    s.push_str(&format!("ip link add {dev} type bond mode {}", bond.mode));
    for (k, v) in &bond.options {
        s.push_str(&format!(" {} {}", ip_name(k), sh(v)));
    }
    s.push('\n');
    if let Some(mac) = &bond.hwaddr {
        s.push_str(&format!("ip link set {dev} address {mac}\n"));
    }
    for p in &bond.ports {
        // the kernel enslaves only ports that are down
        s.push_str(&format!(
            "ip link set {} down\nip link set {} master {dev}\n",
            sh(p),
            sh(p)
        ));
    }
    if let Some(p) = &bond.primary {
        s.push_str(&format!("ip link set {dev} type bond primary {}\n", sh(p)));
    }
    s.push_str(&format!("ip link set {dev} up\n"));
    OutFile {
        name: format!("{}-bond.sh", bond.device),
        content: s,
        mode: 0o755,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bond() -> Bond {
        Bond {
            device: "team0".into(),
            mode: "active-backup",
            options: vec![
                ("miimon", "100".into()),
                ("updelay", "500".into()),
                ("arp_ip_target", "192.0.2.1,192.0.2.2".into()),
                ("peer_notif_delay", "200".into()),
            ],
            primary: Some("eth1".into()),
            hwaddr: None,
            ports: vec!["eth1".into(), "eth2".into()],
        }
    }

    #[test]
    fn keyfiles() {
        let files = nm_files(&bond(), &mut || "u".to_string());
        assert_eq!(files[0].name, "bond-team0.nmconnection");
        assert_eq!(
            files[0].content,
            "[connection]\nid=bond-team0\nuuid=u\ntype=bond\ninterface-name=team0\n\n[bond]\n\
             mode=active-backup\nmiimon=100\nupdelay=500\narp_ip_target=192.0.2.1,192.0.2.2\n\
             peer_notif_delay=200\nprimary=eth1\n"
        );
        assert_eq!(
            files[2].content,
            "[connection]\nid=bond-slave-eth2\nuuid=u\ntype=ethernet\ninterface-name=eth2\n\
             master=team0\nslave-type=bond\n\n[ethernet]\n"
        );
    }

    #[test]
    fn networkd() {
        let mut d = Diags::default();
        let files = networkd_files(&bond(), &Origin::file("c"), &mut d);
        assert_eq!(
            files[0].content,
            "# bond team0 made by teamd-convert to-bond\n\n[NetDev]\nName=team0\nKind=bond\n\n[Bond]\n\
             Mode=active-backup\nMIIMonitorSec=100ms\nUpDelaySec=500ms\nARPIPTargets=192.0.2.1 192.0.2.2\n"
        );
        assert!(files[1].content.ends_with("Bond=team0\nPrimarySlave=yes\n"));
        assert!(!files[2].content.contains("Primary"));
        assert_eq!(d.0.len(), 1, "peer_notif_delay has no networkd key");
    }

    #[test]
    fn ip_commands() {
        let f = ip_script(&bond(), "-");
        assert_eq!(f.mode, 0o755);
        assert!(f.content.contains(
            "ip link add team0 type bond mode active-backup miimon 100 updelay 500 \
             arp_ip_target 192.0.2.1,192.0.2.2 peer_notify_delay 200\n"
        ));
        assert!(f
            .content
            .contains("ip link set eth1 down\nip link set eth1 master team0\n"));
        assert!(f
            .content
            .ends_with("ip link set team0 type bond primary eth1\nip link set team0 up\n"));
        assert_eq!(sh("a b'c"), r"'a b'\''c'");
    }
}
