//! The bond as the kernel reports it (IFLA_BOND_* of the bond, IFLA_BOND_SLAVE_*
//! of each port) and the teamd state document built from it, in C teamd's
//! format so that teamdctl, libteamdctl and NetworkManager read it unchanged.
//! Pure: the messages are read by `device`.

use serde_json::{json, Map, Value};
use team_nl_client::rtnetlink::packet_route::link::{
    BondAdInfo, BondArpValidate, BondLacpRate, BondMode, BondPortState, InfoBond, InfoBondPort,
    InfoData, InfoPortData, LacpState, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, MiiStatus,
};

use crate::state::ifinfo_value;
use team_nl_client::cache::hwaddr_str;

/// One port of the bond.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortView {
    pub ifindex: u32,
    pub ifname: String,
    pub hwaddr: Vec<u8>,
    /// The bond's link monitor's verdict (IFLA_BOND_SLAVE_MII_STATUS up).
    pub up: bool,
    /// The port's own carrier.
    pub carrier: bool,
    pub link_failures: u32,
    /// IFLA_BOND_SLAVE_STATE: active (true) or backup.
    pub active: Option<bool>,
    pub aggregator: Option<u16>,
    pub actor_state: Option<u8>,
    pub partner_state: Option<u8>,
    pub port_prio: Option<u16>,
    /// ethtool's, filled in by `device` (-1 when unknown).
    pub speed: i32,
    pub full_duplex: bool,
}

/// The bond and its ports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BondView {
    pub ifindex: u32,
    pub ifname: String,
    pub hwaddr: Vec<u8>,
    pub mode: Option<BondMode>,
    /// IFLA_BOND_ACTIVE_SLAVE.
    pub active_port: Option<u32>,
    pub miimon: u32,
    pub updelay: u32,
    pub downdelay: u32,
    pub arp_interval: u32,
    pub arp_targets: Vec<String>,
    pub arp_validate: Option<BondArpValidate>,
    pub missed_max: Option<u8>,
    pub fast_rate: bool,
    pub sys_prio: Option<u16>,
    /// IFLA_BOND_AD_INFO: the active aggregator.
    pub aggregator: Option<u16>,
    pub actor_key: Option<u16>,
    pub partner_key: Option<u16>,
    pub partner_mac: Option<[u8; 6]>,
    /// In ifindex order.
    pub ports: Vec<PortView>,
}

fn infos(msg: &LinkMessage) -> impl Iterator<Item = &LinkInfo> {
    msg.attributes.iter().flat_map(|a| match a {
        LinkAttribute::LinkInfo(i) => i.as_slice(),
        _ => &[],
    })
}

fn port_of(msg: &LinkMessage) -> PortView {
    let mut p = PortView {
        ifindex: msg.header.index,
        carrier: msg.header.flags.contains(LinkFlags::LowerUp),
        speed: -1,
        ..PortView::default()
    };
    for a in &msg.attributes {
        match a {
            LinkAttribute::IfName(n) => p.ifname = n.clone(),
            LinkAttribute::Address(m) => p.hwaddr = m.clone(),
            _ => {}
        }
    }
    for info in infos(msg) {
        let LinkInfo::PortData(InfoPortData::BondPort(attrs)) = info else {
            continue;
        };
        for a in attrs {
            match a {
                InfoBondPort::MiiStatus(s) => p.up = *s == MiiStatus::Up,
                InfoBondPort::LinkFailureCount(n) => p.link_failures = *n,
                InfoBondPort::BondPortState(s) => p.active = Some(*s == BondPortState::Active),
                InfoBondPort::AdAggregatorId(id) => p.aggregator = Some(*id),
                InfoBondPort::AdActorOperPortState(s) => p.actor_state = Some(s.bits()),
                InfoBondPort::AdPartnerOperPortState(s) => p.partner_state = Some(s.bits()),
                InfoBondPort::ActorPortPrio(n) => p.port_prio = Some(*n),
                _ => {}
            }
        }
    }
    p
}

/// The bond `bond` and, of `links` (every link of the namespace), its ports.
pub fn read(bond: &LinkMessage, links: &[LinkMessage]) -> BondView {
    let mut v = BondView {
        ifindex: bond.header.index,
        ..BondView::default()
    };
    for a in &bond.attributes {
        match a {
            LinkAttribute::IfName(n) => v.ifname = n.clone(),
            LinkAttribute::Address(m) => v.hwaddr = m.clone(),
            _ => {}
        }
    }
    for info in infos(bond) {
        let LinkInfo::Data(InfoData::Bond(attrs)) = info else {
            continue;
        };
        for a in attrs {
            match a {
                InfoBond::Mode(m) => v.mode = Some(*m),
                InfoBond::ActivePort(i) => v.active_port = Some(*i).filter(|i| *i != 0),
                InfoBond::MiiMon(n) => v.miimon = *n,
                InfoBond::UpDelay(n) => v.updelay = *n,
                InfoBond::DownDelay(n) => v.downdelay = *n,
                InfoBond::ArpInterval(n) => v.arp_interval = *n,
                InfoBond::ArpIpTarget(t) => {
                    v.arp_targets = t.iter().map(|a| a.to_string()).collect()
                }
                InfoBond::ArpValidate(a) => v.arp_validate = Some(*a),
                InfoBond::MissedMax(n) => v.missed_max = Some(*n),
                InfoBond::AdLacpRate(r) => v.fast_rate = *r == BondLacpRate::Fast,
                InfoBond::AdActorSysPrio(p) => v.sys_prio = Some(*p),
                InfoBond::AdInfo(ad) => {
                    for i in ad {
                        match i {
                            BondAdInfo::Aggregator(n) => v.aggregator = Some(*n),
                            BondAdInfo::ActorKey(n) => v.actor_key = Some(*n),
                            BondAdInfo::PartnerKey(n) => v.partner_key = Some(*n),
                            BondAdInfo::PartnerMac(m) => v.partner_mac = Some(*m),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut ports: Vec<PortView> = links
        .iter()
        .filter(|l| {
            l.attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::Controller(m) if *m == v.ifindex))
        })
        .map(port_of)
        .collect();
    ports.sort_by_key(|p| p.ifindex);
    v.ports = ports;
    v
}

/// The `setup` facts that are not the bond's.
#[derive(Debug, Clone, Default)]
pub struct SetupFacts {
    pub dbus_enabled: bool,
    pub daemonized: bool,
    pub debug_level: u32,
    pub pid: u32,
    pub pid_file: String,
}

fn link_watches(v: &BondView, p: &PortView) -> Value {
    let mut list = Map::new();
    if v.miimon > 0 {
        list.insert(
            "link_watch_0".into(),
            json!({
                "name": "ethtool",
                "up": p.up,
                "down_count": p.link_failures,
                "delay_up": v.updelay,
                "delay_down": v.downdelay,
            }),
        );
    } else if v.arp_interval > 0 {
        let (va, vi) = match v.arp_validate {
            Some(BondArpValidate::Active | BondArpValidate::FilterActive) => (true, false),
            Some(BondArpValidate::Backup | BondArpValidate::FilterBackup) => (false, true),
            Some(BondArpValidate::All | BondArpValidate::Filter) => (true, true),
            _ => (false, false),
        };
        list.insert(
            "link_watch_0".into(),
            json!({
                "name": "arp_ping",
                "up": p.up,
                "down_count": p.link_failures,
                "source_host": "0.0.0.0",
                "target_host": v.arp_targets.join(","),
                "interval": v.arp_interval,
                "init_wait": 0,
                "validate_active": va,
                "validate_inactive": vi,
                "send_always": false,
                "missed_max": v.missed_max.unwrap_or(2),
                "missed": 0,
            }),
        );
    }
    json!({ "up": p.up, "list": list })
}

/// C teamd's LACP port state names, from the actor's oper state.
fn lacp_state(actor: u8) -> &'static str {
    let s = LacpState::from_bits_retain(actor);
    if s.contains(LacpState::DEFAULTED) {
        "defaulted"
    } else if s.contains(LacpState::EXPIRED) {
        "expired"
    } else {
        "current"
    }
}

fn lacp_port(v: &BondView, p: &PortView) -> Value {
    let selected = p.aggregator.is_some() && p.aggregator == v.aggregator;
    let prio = p.port_prio.unwrap_or(255);
    // the port numbers are not in the bond's netlink attributes: 0
    json!({
        "selected": selected,
        "aggregator": { "id": p.aggregator.unwrap_or(0), "selected": selected },
        "state": lacp_state(p.actor_state.unwrap_or(0)),
        "key": v.actor_key.unwrap_or(0),
        "prio": prio,
        "actor_lacpdu_info": {
            "system_priority": v.sys_prio.unwrap_or(65535),
            "system": hwaddr_str(&v.hwaddr),
            "key": v.actor_key.unwrap_or(0),
            "port_priority": prio,
            "port": 0,
            "state": p.actor_state.unwrap_or(0),
        },
        "partner_lacpdu_info": {
            "system_priority": 0,
            "system": hwaddr_str(if selected { v.partner_mac.as_ref().map_or(&[][..], |m| &m[..]) } else { &[0; 6] }),
            "key": if selected { v.partner_key.unwrap_or(0) } else { 0 },
            "port_priority": 0,
            "port": 0,
            "state": p.partner_state.unwrap_or(0),
        },
    })
}

/// The state document (StateDump) in C teamd's format; `setup` also names
/// the backend and the bonding mode (as `kernel_team_mode_name`).
pub fn state_doc(v: &BondView, runner: &str, facts: &SetupFacts) -> Value {
    let mut root = Map::new();
    let mut ports = Map::new();
    for p in &v.ports {
        let mut port = Map::new();
        port.insert(
            "ifinfo".into(),
            ifinfo_value(p.ifindex, &p.ifname, &p.hwaddr),
        );
        port.insert(
            "link".into(),
            json!({
                "up": p.carrier,
                "speed": p.speed,
                "duplex": if p.full_duplex { "full" } else { "half" },
            }),
        );
        port.insert("link_watches".into(), link_watches(v, p));
        if runner == "lacp" {
            port.insert("runner".into(), lacp_port(v, p));
        }
        ports.insert(p.ifname.clone(), Value::Object(port));
    }
    if !ports.is_empty() {
        root.insert("ports".into(), Value::Object(ports));
    }
    match runner {
        "activebackup" => {
            let active = v
                .active_port
                .and_then(|i| v.ports.iter().find(|p| p.ifindex == i))
                .map(|p| p.ifname.clone())
                .unwrap_or_default();
            root.insert("runner".into(), json!({ "active_port": active }));
        }
        "lacp" => {
            root.insert(
                "runner".into(),
                json!({
                    "active": true,
                    "fast_rate": v.fast_rate,
                    "sys_prio": v.sys_prio.unwrap_or(65535),
                    "select_policy": "bond",
                }),
            );
        }
        _ => {}
    }
    root.insert(
        "setup".into(),
        json!({
            "runner_name": runner,
            "kernel_team_mode_name": v.mode.map(super::options::mode_name).unwrap_or_default(),
            "backend": "bond",
            "dbus_enabled": facts.dbus_enabled,
            "zmq_enabled": false,
            "debug_level": facts.debug_level,
            "daemonized": facts.daemonized,
            "pid": facts.pid,
            "pid_file": facts.pid_file,
        }),
    );
    root.insert(
        "team_device".into(),
        json!({ "ifinfo": ifinfo_value(v.ifindex, &v.ifname, &v.hwaddr) }),
    );
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str, attrs: Vec<LinkAttribute>) -> LinkMessage {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes
            .push(LinkAttribute::Address(vec![2, 0, 0, 0, 0, index as u8]));
        m.attributes.extend(attrs);
        m
    }

    fn bond(data: Vec<InfoBond>) -> LinkMessage {
        link(
            10,
            "team0",
            vec![LinkAttribute::LinkInfo(vec![LinkInfo::Data(
                InfoData::Bond(data),
            )])],
        )
    }

    fn port(index: u32, name: &str, data: Vec<InfoBondPort>) -> LinkMessage {
        let mut m = link(
            index,
            name,
            vec![
                LinkAttribute::Controller(10),
                LinkAttribute::LinkInfo(vec![LinkInfo::PortData(InfoPortData::BondPort(data))]),
            ],
        );
        m.header.flags = LinkFlags::LowerUp | LinkFlags::Up;
        m
    }

    #[test]
    fn activebackup_state() {
        let b = bond(vec![
            InfoBond::Mode(BondMode::ActiveBackup),
            InfoBond::ActivePort(4),
            InfoBond::MiiMon(100),
        ]);
        let links = vec![
            b.clone(),
            port(4, "eth2", vec![InfoBondPort::MiiStatus(MiiStatus::Up)]),
            port(
                3,
                "eth1",
                vec![
                    InfoBondPort::MiiStatus(MiiStatus::Down),
                    InfoBondPort::LinkFailureCount(2),
                ],
            ),
            link(5, "other", vec![]),
        ];
        let v = read(&b, &links);
        assert_eq!(v.ports.len(), 2);
        assert_eq!(v.ports[0].ifname, "eth1", "ifindex order");
        let s = state_doc(&v, "activebackup", &SetupFacts::default());
        assert_eq!(s["runner"]["active_port"], "eth2");
        assert_eq!(s["setup"]["runner_name"], "activebackup");
        assert_eq!(s["setup"]["kernel_team_mode_name"], "active-backup");
        assert_eq!(s["ports"]["eth1"]["link_watches"]["up"], false);
        assert_eq!(
            s["ports"]["eth1"]["link_watches"]["list"]["link_watch_0"]["down_count"],
            2
        );
        assert_eq!(s["ports"]["eth2"]["link_watches"]["up"], true);
        assert_eq!(s["ports"]["eth2"]["link"]["up"], true);
        assert_eq!(
            s["ports"]["eth2"]["ifinfo"]["dev_addr"],
            "02:00:00:00:00:04"
        );
        assert_eq!(s["team_device"]["ifinfo"]["ifname"], "team0");
    }

    #[test]
    fn lacp_state_marks_the_selected_aggregator() {
        let b = bond(vec![
            InfoBond::Mode(BondMode::Ieee8023Ad),
            InfoBond::AdLacpRate(BondLacpRate::Fast),
            InfoBond::AdActorSysPrio(100),
            InfoBond::AdInfo(vec![
                BondAdInfo::Aggregator(1),
                BondAdInfo::ActorKey(9),
                BondAdInfo::PartnerKey(15),
                BondAdInfo::PartnerMac([2, 0, 0, 0, 0, 0x99]),
            ]),
        ]);
        let sync = LacpState::LACP_ACTIVITY
            | LacpState::AGGREGATION
            | LacpState::SYNCHRONIZATION
            | LacpState::COLLECTING
            | LacpState::DISTRIBUTING;
        let links = vec![
            port(
                3,
                "eth1",
                vec![
                    InfoBondPort::AdAggregatorId(1),
                    InfoBondPort::AdActorOperPortState(sync),
                ],
            ),
            port(
                4,
                "eth2",
                vec![
                    InfoBondPort::AdAggregatorId(2),
                    InfoBondPort::AdActorOperPortState(LacpState::DEFAULTED),
                ],
            ),
        ];
        let v = read(&b, &links);
        let s = state_doc(&v, "lacp", &SetupFacts::default());
        assert_eq!(s["setup"]["runner_name"], "lacp");
        assert_eq!(s["runner"]["fast_rate"], true);
        assert_eq!(s["runner"]["sys_prio"], 100);
        let e1 = &s["ports"]["eth1"]["runner"];
        assert_eq!(e1["selected"], true);
        assert_eq!(e1["aggregator"]["id"], 1);
        assert_eq!(e1["state"], "current");
        assert_eq!(e1["partner_lacpdu_info"]["system"], "02:00:00:00:00:99");
        assert_eq!(e1["partner_lacpdu_info"]["key"], 15);
        let e2 = &s["ports"]["eth2"]["runner"];
        assert_eq!(e2["selected"], false);
        assert_eq!(e2["state"], "defaulted");
    }
}
