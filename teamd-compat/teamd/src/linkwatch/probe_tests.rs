//! The probing watches against the fake kernel: sockets and timers at start,
//! what a tick sends and decides, which frames count as replies.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::json;
use team_nl_client::team_nl::{OptionItem, OptionValue, PortItem};
use team_nl_client::Link;
use teamd_probe::arp::{ArpPacket, OP_REPLY};
use teamd_probe::eth::{EthHeader, ETH_P_ALL, ETH_P_ARP};
use teamd_probe::nd::{NeighbourAdvert, ND_NEIGHBOR_SOLICIT};

use super::*;
use crate::config::TeamSettings;
use crate::kernel::fake::FakeKernel;
use crate::team::{Port, Setup, TimerKey};

const MAC2: [u8; 6] = [2, 0, 0, 0, 0, 2];
const MAC3: [u8; 6] = [2, 0, 0, 0, 0, 3];
const PEER: [u8; 6] = [2, 0xee, 0, 0, 0, 9];

/// A team (ifindex 1) with ports 2 and 3 carrying `watch` (enabled per `enabled`).
fn ctx(watch: serde_json::Value, enabled: [bool; 2]) -> Ctx<FakeKernel> {
    let mut k = FakeKernel::new(1);
    let mut opts = Vec::new();
    let mut kports = Vec::new();
    for (i, (ifindex, mac)) in [(2u32, MAC2), (3, MAC3)].into_iter().enumerate() {
        opts.push(OptionItem::new("enabled", OptionValue::Bool(enabled[i])).port(ifindex));
        opts.push(OptionItem::new("user_linkup", OptionValue::Bool(false)).port(ifindex));
        kports.push(PortItem {
            ifindex,
            linkup: true,
            ..Default::default()
        });
        k.ifinfos.on_newlink(&Link {
            ifindex,
            name: format!("eth{ifindex}"),
            mac: mac.to_vec(),
            master: Some(1),
            admin_up: true,
            carrier: true,
            mtu: 1500,
            kind: Some("veth".into()),
        });
    }
    k.ifinfos.end_batch();
    k.report(opts, kports);
    let mut config = Config::new(json!({"link_watch": watch})).unwrap();
    let settings = TeamSettings::from_config(&config).unwrap();
    let mut ports = Vec::new();
    for ifindex in [3u32, 2] {
        let name = format!("eth{ifindex}");
        let watches = load(&mut config, &name, false).unwrap();
        ports.push(Port {
            ifindex,
            ifname: name,
            settings: Default::default(),
            watches,
        });
    }
    let mut ctx = Ctx::new(k, config, settings, Setup::default());
    ctx.ports = ports;
    ctx
}

fn arp_watch() -> serde_json::Value {
    json!({"name": "arp_ping", "target_host": "192.0.2.2", "source_host": "192.0.2.1", "interval": 100, "missed_max": 1})
}

fn tick_key(ifindex: u32) -> TimerKey {
    TimerKey::LinkWatch {
        ifindex,
        watch: 0,
        id: periodic::TICK,
    }
}

fn reply_frame() -> RxFrame {
    let mut data = Vec::new();
    EthHeader {
        dst: MAC2,
        src: PEER,
        vlan_tci: None,
        ethertype: ETH_P_ARP,
    }
    .write(&mut data);
    ArpPacket {
        htype: 1,
        ptype: 0x0800,
        hlen: 6,
        plen: 4,
        op: OP_REPLY,
        sender_mac: PEER,
        sender_ip: Ipv4Addr::new(192, 0, 2, 2),
        target_mac: MAC2,
        target_ip: Ipv4Addr::new(192, 0, 2, 1),
    }
    .write(&mut data);
    RxFrame {
        data,
        vlan_tci: None,
        pkt_type: 0,
    }
}

fn dropped(c: &Ctx<FakeKernel>, ifindex: u32) -> u64 {
    match &c.port(ifindex).unwrap().watches[0].kind {
        WatchKind::ArpPing(a) => a.periodic.dropped,
        WatchKind::NsnaPing(n) => n.periodic.dropped,
        WatchKind::Ethtool(_) => 0,
    }
}

fn watch_up(c: &Ctx<FakeKernel>, ifindex: u32) -> bool {
    c.port(ifindex).unwrap().watches[0].up
}

#[tokio::test]
async fn start_opens_a_filtered_socket_arms_the_tick_and_enables_user_linkup() {
    let mut c = ctx(arp_watch(), [true, false]);
    start_port(&mut c, 2).await.unwrap();
    let spec = &c.kernel.packet_socks[&SockKey::LinkWatch {
        ifindex: 2,
        watch: 0,
    }];
    assert_eq!(spec.ethertype, ETH_P_ALL);
    assert_eq!(spec.filter, teamd_probe::filter::arp(None));
    assert!(c.timers.is_armed(tick_key(2)));
    assert_eq!(c.kernel.port_bool("user_linkup_enabled", 2), Some(true));
}

#[tokio::test]
async fn reply_brings_the_link_up_and_silence_takes_it_down() {
    let mut c = ctx(arp_watch(), [true, false]);
    start_port(&mut c, 2).await.unwrap();
    // First tick: no reply yet, link stays down, a request goes out.
    assert!(!on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert_eq!(c.kernel.sent.len(), 1);
    let (_, req) = &c.kernel.sent[0];
    assert_eq!(&req[6..12], &MAC2);
    assert!(!on_packet(&mut c, 2, 0, &reply_frame()));
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert!(watch_up(&c, 2));
    // missed_max 1: one silent tick tolerated, the second takes it down.
    assert!(!on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert!(!watch_up(&c, 2));
    assert_eq!(c.port(2).unwrap().watches[0].down_count, 1);
    let state = port_state(&c, 2);
    let w = &state["list"]["link_watch_0"];
    assert_eq!(w["missed"], json!(2));
    assert_eq!(w["source_host"], json!("192.0.2.1"));
    let keys: Vec<&str> = w.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "name",
            "up",
            "down_count",
            "source_host",
            "target_host",
            "interval",
            "init_wait",
            "validate_active",
            "validate_inactive",
            "send_always",
            "missed_max",
            "missed"
        ]
    );
}

#[tokio::test]
async fn inactive_ports_send_only_with_send_always_or_when_none_is_enabled() {
    let mut c = ctx(arp_watch(), [true, false]);
    for i in [2, 3] {
        start_port(&mut c, i).await.unwrap();
    }
    on_timer(&mut c, 3, 0, periodic::TICK).await.unwrap();
    assert!(c.kernel.sent.is_empty(), "disabled port must not probe");
    let mut always = arp_watch();
    always["send_always"] = json!(true);
    let mut c = ctx(always, [true, false]);
    start_port(&mut c, 3).await.unwrap();
    on_timer(&mut c, 3, 0, periodic::TICK).await.unwrap();
    assert_eq!(c.kernel.sent.len(), 1);
    // No port enabled: every port probes.
    let mut c = ctx(arp_watch(), [false, false]);
    start_port(&mut c, 3).await.unwrap();
    on_timer(&mut c, 3, 0, periodic::TICK).await.unwrap();
    assert_eq!(c.kernel.sent.len(), 1);
}

#[tokio::test]
async fn validation_applies_by_port_role() {
    // Without validation any ARP request counts, even someone else's.
    let mut c = ctx(arp_watch(), [true, false]);
    start_port(&mut c, 2).await.unwrap();
    let mut foreign = reply_frame();
    foreign.data[21] = 1; // a request
    foreign.data[14 + 14..14 + 18].copy_from_slice(&[192, 0, 2, 77]);
    on_packet(&mut c, 2, 0, &foreign);
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    // validate_active: the active (enabled) port needs the real reply.
    let mut w = arp_watch();
    w["validate_active"] = json!(true);
    let mut c = ctx(w, [true, false]);
    start_port(&mut c, 2).await.unwrap();
    on_packet(&mut c, 2, 0, &foreign);
    assert!(!on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert_eq!(dropped(&c, 2), 1);
    on_packet(&mut c, 2, 0, &reply_frame());
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    // ... but validate_active does not apply to the disabled port 3.
    start_port(&mut c, 3).await.unwrap();
    on_packet(&mut c, 3, 0, &foreign);
    assert!(on_timer(&mut c, 3, 0, periodic::TICK).await.unwrap());
}

#[tokio::test]
async fn malformed_and_other_vlan_frames_are_dropped() {
    let mut w = arp_watch();
    w["vlanid"] = json!(10);
    let mut c = ctx(w, [true, false]);
    start_port(&mut c, 2).await.unwrap();
    let mut truncated = reply_frame();
    truncated.data.truncate(30);
    on_packet(&mut c, 2, 0, &truncated);
    on_packet(&mut c, 2, 0, &reply_frame()); // untagged: wrong VLAN
    let mut other = reply_frame();
    other.vlan_tci = Some(11);
    on_packet(&mut c, 2, 0, &other);
    assert!(!on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert_eq!(dropped(&c, 2), 3);
    let mut tagged = reply_frame();
    tagged.vlan_tci = Some(0x2000 | 10);
    on_packet(&mut c, 2, 0, &tagged);
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    // The tagged request this watch sends.
    let (_, req) = c.kernel.sent.last().unwrap();
    assert_eq!(&req[12..16], &[0x81, 0x00, 0, 10]);
}

#[test]
fn arp_config_errors_are_c_teamd_messages() {
    let bad = |w: serde_json::Value| {
        let mut c = Config::new(json!({ "link_watch": w })).unwrap();
        load(&mut c, "eth2", false).unwrap_err()
    };
    assert_eq!(
        bad(json!({"name": "arp_ping"})),
        "Failed to get \"target_host\" link-watch option."
    );
    assert_eq!(
        bad(json!({"name": "arp_ping", "target_host": "192.0.2.1", "vlanid": 4096})),
        "Wrong \"vlanid\" option value."
    );
    assert_eq!(
        bad(json!({"name": "arp_ping", "target_host": "192.0.2.1", "missed_max": -1})),
        "\"missed_max\" must not be negative number."
    );
    assert!(bad(json!({"name": "arp_ping", "target_host": "fd00::1"}))
        .starts_with("getaddrinfo failed: "));
}

fn na_frame(target: Ipv6Addr) -> RxFrame {
    RxFrame {
        data: NeighbourAdvert {
            src: target,
            dst: "fe80::2".parse().unwrap(),
            flags: 0x6000_0000,
            target,
            target_mac: PEER,
        }
        .frame(PEER, MAC2),
        vlan_tci: None,
        pkt_type: 0,
    }
}

#[tokio::test]
async fn nsna_solicits_through_the_ip_stack_and_takes_the_matching_advert() {
    let target: Ipv6Addr = "fd00::2".parse().unwrap();
    let mut c = ctx(
        json!({"name": "nsna_ping", "target_host": "fd00::2", "interval": 200, "init_wait": 50}),
        [true, false],
    );
    start_port(&mut c, 2).await.unwrap();
    start_port(&mut c, 3).await.unwrap();
    assert!(!on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    assert!(!on_timer(&mut c, 3, 0, periodic::TICK).await.unwrap());
    // Only the enabled port solicits; nsna_ping has no send_always.
    assert_eq!(c.kernel.icmp6_sent.len(), 1);
    let (ifindex, dst, msg) = &c.kernel.icmp6_sent[0];
    assert_eq!(*ifindex, 2);
    assert_eq!(*dst, "ff02::1:ff00:2".parse::<Ipv6Addr>().unwrap());
    assert_eq!(msg[0], ND_NEIGHBOR_SOLICIT);
    assert_eq!(&msg[26..32], &MAC2);
    on_packet(&mut c, 2, 0, &na_frame("fd00::9".parse().unwrap()));
    assert!(!on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    on_packet(&mut c, 2, 0, &na_frame(target));
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.unwrap());
    let state = port_state(&c, 2);
    let w = &state["list"]["link_watch_0"];
    let keys: Vec<&str> = w.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "name",
            "up",
            "down_count",
            "target_host",
            "interval",
            "init_wait",
            "missed_max",
            "missed"
        ]
    );
    assert_eq!(w["target_host"], json!("fd00::2"));
    assert_eq!(w["init_wait"], json!(50));
}

#[tokio::test]
async fn ignored_send_errors_do_not_fail_the_tick() {
    let mut c = ctx(arp_watch(), [true, false]);
    start_port(&mut c, 2).await.unwrap();
    c.kernel.send_errno = Some(libc::ENETDOWN);
    assert!(on_timer(&mut c, 2, 0, periodic::TICK).await.is_ok());
    assert!(c.timers.is_armed(tick_key(2)), "the tick keeps running");
}
