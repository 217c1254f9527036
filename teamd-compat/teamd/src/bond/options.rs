//! The config → bond decision: teamd-convert's team2bond mapping
//! (`teamd_convert::bond`) decides mode and options; this turns its sysfs
//! names and values into IFLA_BOND_* attributes. Whatever the mapping warns
//! about or refuses is a setting bonding cannot do, and the backend refuses
//! the whole config with all of them listed. Pure: no I/O.

use std::net::Ipv4Addr;

use networkd_gen::diag::{Diags, Origin};
use team_nl_client::rtnetlink::packet_route::link::{
    BondAdSelect, BondArpAllTargets, BondArpValidate, BondFailOverMac, BondLacpRate, BondMode,
    BondPrimaryReselect, BondXmitHashPolicy, InfoBond,
};

/// What the backend creates: the bond's attributes (mode first), the port to
/// make primary once enslaved, the MAC to give the bond and the ports.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub mode: BondMode,
    /// The mode as bonding names it ("active-backup", "802.3ad", ...).
    pub mode_name: &'static str,
    pub options: Vec<InfoBond>,
    pub primary: Option<String>,
    pub hwaddr: Option<Vec<u8>>,
    pub ports: Vec<String>,
}

/// Maps a teamd config (its JSON text); `source` names it in messages. `Err`
/// is every setting bonding cannot do, each naming its key.
pub fn plan(text: &str, source: &str) -> Result<Plan, Vec<String>> {
    let mut diags = Diags::default();
    let bond = teamd_convert::bond::from_teamd(text, &Origin::file(source), None, &mut diags);
    // a warning is a setting the bond would leave out or do differently:
    // refused as well, as teamd must run the config it was given
    let mut refused: Vec<String> = diags.0.iter().map(|d| d.to_string()).collect();
    let Some(bond) = bond else {
        return Err(refused);
    };
    let mut options = vec![InfoBond::Mode(mode(bond.mode))];
    for (name, value) in &bond.options {
        match attribute(name, value) {
            Ok(a) => options.push(a),
            Err(e) => refused.push(format!("{source}: {name}={value}: {e}")),
        }
    }
    let hwaddr = match bond.hwaddr.as_deref().map(parse_mac) {
        Some(Some(m)) => Some(m),
        Some(None) => {
            refused.push(format!("{source}: hwaddr: not a MAC address"));
            None
        }
        None => None,
    };
    if !refused.is_empty() {
        return Err(refused);
    }
    Ok(Plan {
        mode: mode(bond.mode),
        mode_name: bond.mode,
        options,
        primary: bond.primary,
        hwaddr,
        ports: bond.ports,
    })
}

/// The mapping's mode names are bonding's.
fn mode(name: &str) -> BondMode {
    match name {
        "active-backup" => BondMode::ActiveBackup,
        "balance-xor" => BondMode::BalanceXor,
        "broadcast" => BondMode::Broadcast,
        "802.3ad" => BondMode::Ieee8023Ad,
        "balance-tlb" => BondMode::BalanceTlb,
        "balance-alb" => BondMode::BalanceAlb,
        _ => BondMode::BalanceRr,
    }
}

/// bonding's name of a mode as the kernel reports it.
pub fn mode_name(mode: BondMode) -> String {
    match mode {
        BondMode::BalanceRr => "balance-rr".into(),
        BondMode::ActiveBackup => "active-backup".into(),
        BondMode::BalanceXor => "balance-xor".into(),
        BondMode::Broadcast => "broadcast".into(),
        BondMode::Ieee8023Ad => "802.3ad".into(),
        BondMode::BalanceTlb => "balance-tlb".into(),
        BondMode::BalanceAlb => "balance-alb".into(),
        BondMode::Other(n) => format!("mode {n}"),
        other => format!("{other:?}"),
    }
}

fn parse_mac(s: &str) -> Option<Vec<u8>> {
    let bytes: Option<Vec<u8>> = s
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    bytes.filter(|b| b.len() == 6)
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| "not a number in the attribute's range".to_string())
}

fn one_of<T: Copy>(value: &str, names: &[(&str, T)]) -> Result<T, String> {
    names
        .iter()
        .find(|(n, _)| *n == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            format!("not one of {}", all.join(", "))
        })
}

/// One sysfs option as its netlink attribute.
fn attribute(name: &str, value: &str) -> Result<InfoBond, String> {
    Ok(match name {
        "miimon" => InfoBond::MiiMon(number(value)?),
        "updelay" => InfoBond::UpDelay(number(value)?),
        "downdelay" => InfoBond::DownDelay(number(value)?),
        "arp_interval" => InfoBond::ArpInterval(number(value)?),
        "arp_ip_target" => InfoBond::ArpIpTarget(
            value
                .split(',')
                .map(|t| {
                    t.parse::<Ipv4Addr>()
                        .map_err(|_| format!("{t} is not IPv4"))
                })
                .collect::<Result<_, _>>()?,
        ),
        "arp_validate" => InfoBond::ArpValidate(one_of(
            value,
            &[
                ("none", BondArpValidate::None),
                ("active", BondArpValidate::Active),
                ("backup", BondArpValidate::Backup),
                ("all", BondArpValidate::All),
            ],
        )?),
        "arp_all_targets" => InfoBond::ArpAllTargets(one_of(
            value,
            &[
                ("any", BondArpAllTargets::Any),
                ("all", BondArpAllTargets::All),
            ],
        )?),
        "lacp_rate" => InfoBond::AdLacpRate(one_of(
            value,
            &[("slow", BondLacpRate::Slow), ("fast", BondLacpRate::Fast)],
        )?),
        "ad_actor_sys_prio" => InfoBond::AdActorSysPrio(number(value)?),
        "ad_user_port_key" => InfoBond::AdUserPortKey(number(value)?),
        "ad_select" => InfoBond::AdSelect(one_of(
            value,
            &[
                ("stable", BondAdSelect::Stable),
                ("bandwidth", BondAdSelect::Bandwidth),
                ("count", BondAdSelect::Count),
            ],
        )?),
        "min_links" => InfoBond::MinLinks(number(value)?),
        "xmit_hash_policy" => InfoBond::XmitHashPolicy(one_of(
            value,
            &[
                ("layer2", BondXmitHashPolicy::Layer2),
                ("layer3+4", BondXmitHashPolicy::Layer34),
                ("layer2+3", BondXmitHashPolicy::Layer23),
                ("encap2+3", BondXmitHashPolicy::Encap23),
                ("encap3+4", BondXmitHashPolicy::Encap34),
                ("vlan+srcmac", BondXmitHashPolicy::VlanSrcMac),
            ],
        )?),
        "tlb_dynamic_lb" => InfoBond::TlbDynamicLb(one_of(value, &[("0", false), ("1", true)])?),
        "fail_over_mac" => InfoBond::FailOverMac(one_of(
            value,
            &[
                ("none", BondFailOverMac::None),
                ("active", BondFailOverMac::Active),
                ("follow", BondFailOverMac::Follow),
            ],
        )?),
        "primary_reselect" => InfoBond::PrimaryReselect(one_of(
            value,
            &[
                ("always", BondPrimaryReselect::Always),
                ("better", BondPrimaryReselect::Better),
                ("failure", BondPrimaryReselect::Failure),
            ],
        )?),
        "num_grat_arp" => InfoBond::NumPeerNotif(number(value)?),
        "peer_notif_delay" => InfoBond::PeerNotifDelay(number(value)?),
        "resend_igmp" => InfoBond::ResendIgmp(number(value)?),
        _ => return Err("no netlink attribute known for this bonding option".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activebackup_with_ethtool_and_prios() {
        let p = plan(
            r#"{"device": "team0", "runner": {"name": "activebackup"},
                "link_watch": {"name": "ethtool", "delay_up": 200},
                "ports": {"eth1": {"prio": 10}, "eth2": {}}}"#,
            "team0.conf",
        )
        .expect("maps");
        assert_eq!(p.mode, BondMode::ActiveBackup);
        assert_eq!(p.mode_name, "active-backup");
        assert_eq!(
            p.options,
            [
                InfoBond::Mode(BondMode::ActiveBackup),
                InfoBond::MiiMon(100),
                InfoBond::UpDelay(200)
            ]
        );
        assert_eq!(p.primary.as_deref(), Some("eth1"));
        assert_eq!(p.ports, ["eth1", "eth2"]);
    }

    #[test]
    fn lacp_and_loadbalance_options() {
        let p = plan(
            r#"{"device": "team0", "runner": {"name": "lacp", "fast_rate": true, "sys_prio": 100,
                "tx_hash": ["l3", "l4"], "agg_select_policy": "count", "min_ports": 2},
                "hwaddr": "02:00:00:00:00:01", "ports": {"eth1": {}, "eth2": {}}}"#,
            "c",
        )
        .expect("maps");
        assert_eq!(p.mode, BondMode::Ieee8023Ad);
        for a in [
            InfoBond::AdLacpRate(BondLacpRate::Fast),
            InfoBond::AdActorSysPrio(100),
            InfoBond::XmitHashPolicy(BondXmitHashPolicy::Layer34),
            InfoBond::AdSelect(BondAdSelect::Count),
            InfoBond::MinLinks(2),
            InfoBond::MiiMon(100),
        ] {
            assert!(p.options.contains(&a), "{a:?} in {:?}", p.options);
        }
        assert_eq!(p.hwaddr, Some(vec![2, 0, 0, 0, 0, 1]));
        let p = plan(r#"{"device": "t", "runner": {"name": "loadbalance"}}"#, "c").expect("maps");
        assert_eq!(p.mode, BondMode::BalanceTlb);
        assert!(p.options.contains(&InfoBond::TlbDynamicLb(false)));
        let p = plan(r#"{"device": "t"}"#, "c").expect("maps");
        assert_eq!(p.mode, BondMode::BalanceRr, "teamd's default runner");
    }

    #[test]
    fn arp_ping_targets() {
        let p = plan(
            r#"{"device": "t", "runner": {"name": "activebackup"},
                "link_watch": [{"name": "arp_ping", "target_host": "192.0.2.1", "interval": 200},
                               {"name": "arp_ping", "target_host": "192.0.2.2", "interval": 200}]}"#,
            "c",
        )
        .expect("maps");
        assert!(p.options.contains(&InfoBond::ArpInterval(200)));
        assert!(p.options.contains(&InfoBond::ArpIpTarget(vec![
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap()
        ])));
        assert!(!p.options.iter().any(|o| matches!(o, InfoBond::MiiMon(_))));
    }

    #[test]
    fn refusals_list_every_key() {
        let e = plan(
            r#"{"device": "t", "runner": {"name": "random"},
                "link_watch": {"name": "nsna_ping", "target_host": "fe80::1"},
                "ports": {"eth1": {"queue_id": 3}}}"#,
            "t.conf",
        )
        .expect_err("refused");
        let all = e.join("\n");
        for key in ["runner.name", "link_watch", "ports.eth1.queue_id"] {
            assert!(all.contains(key), "{key} named in {all}");
        }
        assert!(e.len() >= 3, "{e:?}");
        // a warning (left out, bond would differ) is refused too
        let e = plan(
            r#"{"device": "t", "runner": {"name": "lacp", "active": false}}"#,
            "t.conf",
        )
        .expect_err("refused");
        assert!(e[0].contains("runner.active"), "{e:?}");
    }

    #[test]
    fn option_values_outside_netlink_are_refused() {
        assert_eq!(attribute("miimon", "100"), Ok(InfoBond::MiiMon(100)));
        assert!(attribute("miimon", "-1").is_err());
        assert!(attribute("num_grat_arp", "300").is_err(), "u8");
        assert!(attribute("lacp_rate", "medium")
            .unwrap_err()
            .contains("slow, fast"));
        assert!(attribute("no_such", "1").is_err());
        assert_eq!(mode_name(BondMode::Ieee8023Ad), "802.3ad");
    }
}
