//! Two LACP machines joined by simulated links, on virtual time: LACPDUs are
//! delivered as frames (so the wire format is part of every exchange) and
//! timers fire in due order.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::lacpdu::state;
use crate::{Action, Config, Lacp, Link, PortConfig, PortState, PortTimer, SelectPolicy};

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0xa, 0];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0xb, 0];
const UP: Link = Link {
    up: true,
    speed: 1000,
    duplex: 1,
};
const DOWN: Link = Link {
    up: false,
    speed: 0,
    duplex: 0,
};

struct Side {
    lacp: Lacp,
    enabled: BTreeMap<u32, bool>,
    carrier: bool,
    sent: usize,
}

struct Sim {
    sides: [Side; 2],
    /// (side, ifindex) ↔ (other side, ifindex); `false` = cable cut.
    wires: BTreeMap<(usize, u32), ((usize, u32), bool)>,
    timers: BTreeMap<(usize, u32, PortTimer), Duration>,
    now: Duration,
    in_flight: Vec<(usize, u32, Vec<u8>)>,
    /// A side whose daemon is gone (warm restart): frames to it are lost.
    gone: Option<usize>,
}

impl Sim {
    fn new(a: Config, b: Config) -> Sim {
        let side = |cfg, mac| {
            let (lacp, acts) = Lacp::new(cfg, mac, true);
            assert_eq!(acts, vec![Action::SetCarrier(false)]);
            Side {
                lacp,
                enabled: BTreeMap::new(),
                carrier: false,
                sent: 0,
            }
        };
        Sim {
            sides: [side(a, MAC_A), side(b, MAC_B)],
            wires: BTreeMap::new(),
            timers: BTreeMap::new(),
            now: Duration::ZERO,
            in_flight: Vec::new(),
            gone: None,
        }
    }

    fn apply(&mut self, side: usize, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Send { ifindex, pdu } => {
                    self.sides[side].sent += 1;
                    if let Some(((peer, pif), true)) = self.wires.get(&(side, ifindex)) {
                        self.in_flight.push((*peer, *pif, pdu.to_frame().to_vec()));
                    }
                }
                Action::SetEnabled { ifindex, enabled } => {
                    self.sides[side].enabled.insert(ifindex, enabled);
                }
                Action::SetCarrier(up) => self.sides[side].carrier = up,
                Action::ArmTimer {
                    ifindex,
                    timer,
                    after,
                } => {
                    self.timers.insert((side, ifindex, timer), self.now + after);
                }
                // fired timers are handled at their deadline: now is when it was due
                Action::RepeatTimer {
                    ifindex,
                    timer,
                    period,
                } => {
                    self.timers
                        .insert((side, ifindex, timer), self.now + period);
                }
                Action::CancelTimer { ifindex, timer } => {
                    self.timers.remove(&(side, ifindex, timer));
                }
                Action::Log { .. } => {}
            }
        }
    }

    /// A port on each side, cabled together; `ifindex` is shared for brevity.
    fn add_pair(&mut self, ifindex: u32, cfg_a: PortConfig, cfg_b: PortConfig) {
        self.wires.insert((0, ifindex), ((1, ifindex), true));
        self.wires.insert((1, ifindex), ((0, ifindex), true));
        for (side, cfg) in [(0, cfg_a), (1, cfg_b)] {
            let mac = [0x02, 0, 0, side as u8, 0, ifindex as u8];
            let acts = self.sides[side].lacp.port_added(
                ifindex,
                &format!("eth{ifindex}"),
                Some(mac),
                cfg,
                UP,
            );
            self.apply(side, acts);
        }
    }

    fn cut(&mut self, ifindex: u32, connected: bool) {
        for side in 0..2 {
            if let Some(w) = self.wires.get_mut(&(side, ifindex)) {
                w.1 = connected;
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            while !self.in_flight.is_empty() {
                let (side, ifindex, frame) = self.in_flight.remove(0);
                if self.gone == Some(side) {
                    continue;
                }
                let acts = self.sides[side].lacp.frame_received(ifindex, &frame);
                self.apply(side, acts);
            }
            let next = self
                .timers
                .iter()
                .min_by_key(|(_, due)| **due)
                .map(|(k, due)| (*k, *due));
            match next {
                Some(((side, ifindex, timer), due)) if due <= end => {
                    self.timers.remove(&(side, ifindex, timer));
                    self.now = due;
                    let acts = self.sides[side].lacp.timer_fired(ifindex, timer);
                    self.apply(side, acts);
                }
                _ => break,
            }
        }
        self.now = end;
    }

    /// `side`'s daemon leaves warm (last LACPDUs, snapshot), nobody listens
    /// for `gap`, then a new one restores the snapshot; the new daemon's
    /// first actions are returned. `watch` runs every 10 ms meanwhile.
    fn warm_restart(
        &mut self,
        side: usize,
        gap: Duration,
        watch: &mut dyn FnMut(&Sim),
    ) -> Vec<Action> {
        let acts = self.sides[side].lacp.warm_exit();
        self.apply(side, acts);
        let snap = self.sides[side].lacp.snapshot();
        self.timers.retain(|(s, _, _), _| *s != side);
        self.gone = Some(side);
        let end = self.now + gap;
        while self.now < end {
            self.run_for(Duration::from_millis(10));
            watch(self);
        }
        self.gone = None;
        let old = &self.sides[side].lacp;
        let mac = if side == 0 { MAC_A } else { MAC_B };
        let mut lacp = Lacp::restored(old.cfg, mac, old.admin_up(), &snap);
        for p in &snap.ports {
            let cfg = old.port(p.ifindex).map(|q| q.cfg).unwrap_or_default();
            let port_mac = [0x02, 0, 0, side as u8, 0, p.ifindex as u8];
            assert!(lacp.port_restored(p.ifindex, &p.ifname, Some(port_mac), cfg, UP));
        }
        let acts = lacp.restore_done();
        self.sides[side].lacp = lacp;
        self.apply(side, acts.clone());
        acts
    }

    fn enabled(&self, side: usize, ifindex: u32) -> bool {
        self.sides[side]
            .enabled
            .get(&ifindex)
            .copied()
            .unwrap_or(false)
    }

    fn port_state(&self, side: usize, ifindex: u32) -> PortState {
        self.sides[side]
            .lacp
            .port(ifindex)
            .map(|p| p.state)
            .unwrap_or_default()
    }

    fn agg_id(&self, side: usize, ifindex: u32) -> Option<u32> {
        self.sides[side].lacp.port(ifindex).and_then(|p| p.agg_lead)
    }
}

fn fast() -> Config {
    Config {
        fast_rate: true,
        ..Config::default()
    }
}

fn key(k: u16) -> PortConfig {
    PortConfig {
        lacp_key: k,
        ..PortConfig::default()
    }
}

#[test]
fn two_ports_aggregate_with_a_partner() {
    let mut sim = Sim::new(fast(), fast());
    sim.add_pair(2, key(0), key(0));
    sim.add_pair(3, key(0), key(0));
    sim.run_for(Duration::from_millis(10));
    for side in 0..2 {
        for p in [2, 3] {
            assert_eq!(sim.port_state(side, p), PortState::Current);
            assert!(sim.enabled(side, p), "side {side} port {p}");
        }
        assert!(sim.sides[side].carrier);
        // one aggregator holding both ports
        assert_eq!(sim.agg_id(side, 2), sim.agg_id(side, 3));
        assert!(sim.agg_id(side, 2).is_some());
        let p = sim.sides[side].lacp.port(2).unwrap();
        assert_eq!(
            p.actor.state,
            state::LACP_ACTIVITY
                | state::LACP_TIMEOUT
                | state::AGGREGATION
                | state::SYNCHRONIZATION
                | state::COLLECTING
                | state::DISTRIBUTING
        );
        assert_eq!(p.partner.system, if side == 0 { MAC_B } else { MAC_A });
    }
    // steady state: fast periodic, once a second per port per side
    let before = sim.sides[0].sent;
    sim.run_for(Duration::from_secs(10));
    let sent = sim.sides[0].sent - before;
    assert!(
        (19..=22).contains(&sent),
        "{sent} LACPDUs in 10 s on 2 ports"
    );
}

#[test]
fn passive_ends_stop_periodic_tx_once_current() {
    let passive = Config {
        active: false,
        ..fast()
    };
    // C quirk kept: an `expired` port transmits even when passive, so two
    // passive ends do meet; once current, neither runs its periodic timer
    let mut sim = Sim::new(passive, passive);
    sim.add_pair(2, key(0), key(0));
    sim.run_for(Duration::from_millis(1));
    assert_eq!(sim.port_state(0, 2), PortState::Current);
    assert_eq!(sim.port_state(1, 2), PortState::Current);
    assert!(!sim.timers.contains_key(&(0, 2, PortTimer::Periodic)));
    assert!(!sim.timers.contains_key(&(1, 2, PortTimer::Periodic)));

    // active against passive: the passive end answers and keeps up
    let mut sim = Sim::new(Config::default(), passive);
    sim.add_pair(2, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    assert!(sim.enabled(0, 2) && sim.enabled(1, 2));
    assert!(sim.timers.contains_key(&(1, 2, PortTimer::Periodic)));
    sim.run_for(Duration::from_secs(200));
    assert_eq!(sim.port_state(1, 2), PortState::Current);
    assert!(sim.enabled(0, 2) && sim.enabled(1, 2));
}

#[test]
fn expiry_after_three_periods_fast_and_slow() {
    for (cfg, timeout) in [(fast(), 3u64), (Config::default(), 90)] {
        let mut sim = Sim::new(cfg, cfg);
        sim.add_pair(2, key(0), key(0));
        sim.add_pair(3, key(0), key(0));
        sim.run_for(Duration::from_secs(1));
        assert!(sim.enabled(0, 2));
        sim.cut(2, false);
        // at the slow rate the last LACPDU may be up to one period old
        sim.run_for(Duration::from_secs(timeout - 1) - Duration::from_millis(1));
        if timeout == 3 {
            assert_eq!(sim.port_state(0, 2), PortState::Current, "not before 3 s");
        }
        sim.run_for(Duration::from_secs(2));
        assert_eq!(sim.port_state(0, 2), PortState::Expired, "rate {timeout}");
        assert!(!sim.enabled(0, 2), "an expired partner is out of sync");
        assert!(sim.enabled(0, 3), "the other port carries on");
        assert!(sim.sides[0].carrier);
        // expired gives up after 3 s more, whatever the rate
        sim.run_for(Duration::from_secs(3));
        assert_eq!(sim.port_state(0, 2), PortState::Defaulted);
        let p = sim.sides[0].lacp.port(2).unwrap();
        assert_eq!(p.partner.system, [0; 6]);
        assert_eq!(p.partner.state, state::LACP_TIMEOUT);
        assert!(p.actor.state & state::DEFAULTED != 0);
        // the cable comes back: aggregated again
        sim.cut(2, true);
        sim.run_for(Duration::from_secs(2));
        assert_eq!(sim.port_state(0, 2), PortState::Current);
        assert!(sim.enabled(0, 2) && sim.enabled(1, 2));
        assert_eq!(sim.agg_id(0, 2), sim.agg_id(0, 3));
    }
}

#[test]
fn link_down_disables_and_link_up_rejoins() {
    let mut sim = Sim::new(fast(), fast());
    sim.add_pair(2, key(0), key(0));
    sim.add_pair(3, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    let acts = sim.sides[0].lacp.link_changed(3, DOWN);
    sim.apply(0, acts);
    assert_eq!(sim.port_state(0, 3), PortState::Disabled);
    assert!(!sim.enabled(0, 3));
    assert_eq!(sim.agg_id(0, 3), None);
    assert!(sim.enabled(0, 2));
    let acts = sim.sides[0].lacp.link_changed(3, UP);
    sim.apply(0, acts);
    sim.run_for(Duration::from_secs(1));
    assert!(sim.enabled(0, 3));
    assert_eq!(sim.agg_id(0, 3), sim.agg_id(0, 2));
}

#[test]
fn partner_key_mismatch_splits_aggregators() {
    let mut sim = Sim::new(fast(), fast());
    sim.add_pair(2, key(0), key(10));
    sim.add_pair(3, key(0), key(20));
    sim.run_for(Duration::from_secs(1));
    for side in 0..2 {
        let (a2, a3) = (sim.agg_id(side, 2), sim.agg_id(side, 3));
        assert_eq!(a2, Some(2));
        assert_eq!(a3, Some(3), "different keys: aggregators of their own");
        let en2 = sim.enabled(side, 2);
        let en3 = sim.enabled(side, 3);
        assert!(en2 ^ en3, "exactly one aggregator carries traffic");
    }
    // both ends agree on which link
    assert_eq!(sim.enabled(0, 2), sim.enabled(1, 2));
}

/// Three ports on our side against a partner whose keys put ports 2 and 3
/// together and port 4 alone; the partner runs the same policy and sees the
/// same speeds and priorities, so both ends agree. Returns our selected
/// aggregator.
fn select_with(
    cfg: Config,
    ours: [PortConfig; 3],
    speeds: [u32; 3],
    prios: [i32; 3],
) -> Option<u32> {
    let partner = Config {
        agg_select_policy: cfg.agg_select_policy,
        sys_prio: 32768,
        ..fast()
    };
    let mut sim = Sim::new(cfg, partner);
    let partner_keys = [1, 1, 2];
    for (i, ifindex) in [2u32, 3, 4].into_iter().enumerate() {
        sim.add_pair(ifindex, ours[i], key(partner_keys[i]));
        let link = Link {
            speed: speeds[i],
            ..UP
        };
        for side in 0..2 {
            let enabled = sim.enabled(side, ifindex);
            sim.sides[side]
                .lacp
                .observe_kernel(ifindex, enabled, prios[i]);
            let acts = sim.sides[side].lacp.link_changed(ifindex, link);
            sim.apply(side, acts);
        }
    }
    sim.run_for(Duration::from_secs(2));
    let selected = sim.sides[0].lacp.ports.selected_lead;
    for ifindex in [2u32, 3, 4] {
        let in_sel = sim.agg_id(0, ifindex) == selected;
        assert_eq!(sim.enabled(0, ifindex), in_sel, "port {ifindex}");
    }
    selected
}

#[test]
fn selection_policies_pick_as_c_teamd() {
    let dflt = [PortConfig::default(); 3];
    let policy = |p| Config {
        agg_select_policy: p,
        ..fast()
    };
    // count: the two-port aggregator, led by its best port
    let two = select_with(policy(SelectPolicy::Count), dflt, [1000; 3], [0; 3]);
    assert!(matches!(two, Some(2) | Some(3)));
    // bandwidth: one 10G port beats two 1G ones
    assert_eq!(
        select_with(
            policy(SelectPolicy::Bandwidth),
            dflt,
            [1000, 1000, 10000],
            [0; 3]
        ),
        Some(4)
    );
    // port_config: the highest kernel priority's aggregator
    assert_eq!(
        select_with(policy(SelectPolicy::PortConfig), dflt, [1000; 3], [0, 0, 5]),
        Some(4)
    );
    assert_eq!(
        select_with(policy(SelectPolicy::PortConfig), dflt, [1000; 3], [0, 7, 5]),
        Some(3)
    );
    // lacp_prio: our system priority is the better one (lower), so our
    // port priorities decide; lower wins
    let mut prio = dflt;
    prio[2].lacp_prio = 10;
    let ours_better = Config {
        sys_prio: 100,
        ..policy(SelectPolicy::LacpPrio)
    };
    assert_eq!(select_with(ours_better, prio, [1000; 3], [0; 3]), Some(4));
    prio[2].lacp_prio = 255;
    prio[1].lacp_prio = 10;
    assert_eq!(select_with(ours_better, prio, [1000; 3], [0; 3]), Some(3));
    // the partner's system is better (32768 < 65535): its port
    // numbers decide and ours are ignored; port 2 has the lowest
    let partner_better = Config {
        sys_prio: 65535,
        ..policy(SelectPolicy::LacpPrio)
    };
    assert_eq!(
        select_with(partner_better, prio, [1000; 3], [0; 3]),
        Some(2)
    );
}

#[test]
fn lacp_prio_compares_low_byte_first_on_little_endian() {
    if cfg!(target_endian = "big") {
        return;
    }
    // C compares host-order u16 fields byte-wise: 0x0100 (256) "beats" 0x00ff (255)
    let mut cfgs = [PortConfig::default(); 3];
    cfgs[0].lacp_prio = 0x00ff;
    cfgs[1].lacp_prio = 0x00ff;
    cfgs[2].lacp_prio = 0x0100;
    let c = Config {
        sys_prio: 1,
        ..fast()
    };
    assert_eq!(select_with(c, cfgs, [1000; 3], [0; 3]), Some(4));
}

#[test]
fn min_ports_holds_the_carrier_down() {
    let c = Config {
        min_ports: 2,
        ..fast()
    };
    let mut sim = Sim::new(c, fast());
    sim.add_pair(2, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    assert!(
        sim.enabled(0, 2),
        "C enables the port, only the carrier waits"
    );
    assert!(!sim.sides[0].carrier);
    sim.add_pair(3, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    assert!(sim.sides[0].carrier);
    let acts = sim.sides[0].lacp.link_changed(3, DOWN);
    sim.apply(0, acts);
    assert!(!sim.sides[0].carrier);
}

#[test]
fn state_changes_of_other_ports_are_sent_at_once() {
    // port 3 joins a selected aggregator: port 2's bits do not change, but
    // with lacp_prio a better port 3 renames the aggregator; every port whose
    // actor byte moved must have sent it without waiting for the period
    let slow = Config::default();
    let mut sim = Sim::new(slow, slow);
    sim.add_pair(2, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    sim.add_pair(3, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    for side in 0..2 {
        for p in [2, 3] {
            let port = sim.sides[side].lacp.port(p).unwrap();
            let peer = sim.sides[1 - side].lacp.port(p).unwrap();
            assert_eq!(peer.partner, port.actor, "partner's copy is current");
        }
    }
}

#[test]
fn fallback_keeps_one_port_until_a_partner_appears() {
    let c = Config {
        fallback: true,
        ..fast()
    };
    let (mut lacp, _) = Lacp::new(c, MAC_A, true);
    let mut en = BTreeMap::new();
    let mut carrier = false;
    let mut apply = |acts: Vec<Action>, en: &mut BTreeMap<u32, bool>| {
        for a in acts {
            match a {
                Action::SetEnabled { ifindex, enabled } => {
                    en.insert(ifindex, enabled);
                }
                Action::SetCarrier(up) => carrier = up,
                _ => {}
            }
        }
    };
    let hi = PortConfig {
        lacp_prio: 10,
        ..PortConfig::default()
    };
    apply(
        lacp.port_added(2, "eth2", Some(MAC_A), PortConfig::default(), UP),
        &mut en,
    );
    apply(lacp.port_added(3, "eth3", Some(MAC_A), hi, UP), &mut en);
    assert_eq!(en.get(&3), Some(&true), "the better port by lacp_prio");
    assert!(!en.get(&2).copied().unwrap_or(false));
    // no partner for long: still reachable through port 3
    for _ in 0..3 {
        apply(lacp.timer_fired(3, PortTimer::Timeout), &mut en);
        apply(lacp.timer_fired(2, PortTimer::Timeout), &mut en);
    }
    assert_eq!(lacp.port(3).map(|p| p.state), Some(PortState::Defaulted));
    assert_eq!(en.get(&3), Some(&true));
    assert!(carrier);

    // a partner answers on port 2 only: normal rules from then on
    let partner = crate::LacpduInfo {
        system_priority: 65535,
        system: MAC_B,
        key: 0,
        port_priority: 255,
        port: 2,
        state: state::LACP_ACTIVITY | state::AGGREGATION | state::SYNCHRONIZATION,
    };
    let pdu = crate::Lacpdu::new(MAC_B, partner, crate::LacpduInfo::default());
    let acts = lacp.pdu_received(2, &pdu);
    let set: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::SetEnabled { ifindex, enabled } => Some((*ifindex, *enabled)),
            _ => None,
        })
        .collect();
    assert!(set.contains(&(3, false)), "fallback port given up: {set:?}");
    assert!(set.contains(&(2, true)), "{set:?}");
}

#[test]
fn without_fallback_no_partner_means_no_port() {
    let (mut lacp, _) = Lacp::new(fast(), MAC_A, true);
    let acts = lacp.port_added(2, "eth2", Some(MAC_A), PortConfig::default(), UP);
    assert!(!acts
        .iter()
        .any(|a| matches!(a, Action::SetEnabled { enabled: true, .. })));
    assert!(!acts.contains(&Action::SetCarrier(true)));
}

#[test]
fn admin_down_team_sends_nothing_and_admin_up_expires_ports() {
    let (mut lacp, _) = Lacp::new(fast(), MAC_A, false);
    let acts = lacp.port_added(2, "eth2", Some(MAC_A), PortConfig::default(), DOWN);
    assert!(!acts.iter().any(|a| matches!(a, Action::Send { .. })));
    assert_eq!(lacp.port(2).map(|p| p.state), Some(PortState::Disabled));
    let acts = lacp.admin_state_changed(true);
    assert_eq!(lacp.port(2).map(|p| p.state), Some(PortState::Expired));
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Send { ifindex: 2, .. })));
    assert!(acts.iter().any(|a| matches!(
        a,
        Action::Log { msg, .. } if msg == "eth2: Changed port state: \"disabled\" -> \"expired\""
    )));
}

/// As libteam 1.31 (Debian 12's teamd): an admin-down team still runs the
/// port states (link up → expired, LACPDU → current and selected, timeouts);
/// it only keeps its LACPDUs to itself, so the partner never syncs and no
/// port is enabled.
#[test]
fn admin_down_team_tracks_the_partner_silently() {
    let mut sim = Sim::new(fast(), fast());
    let (lacp, _) = Lacp::new(fast(), MAC_A, false);
    sim.sides[0].lacp = lacp;
    sim.add_pair(2, key(0), key(0));
    sim.add_pair(3, key(0), key(0));
    // link up at add: expired at once, whatever the admin state
    assert_eq!(sim.port_state(0, 2), PortState::Expired);
    let sent_before = sim.sides[0].sent;
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.sides[0].sent, sent_before, "nothing sent while down");
    for ifindex in [2, 3] {
        assert_eq!(sim.port_state(0, ifindex), PortState::Current);
        assert!(sim.sides[0]
            .lacp
            .port(ifindex)
            .is_some_and(|p| p.selected()));
        assert!(!sim.enabled(0, ifindex));
        // the partner heard nothing from us
        assert_ne!(sim.port_state(1, ifindex), PortState::Current);
    }
    assert!(!sim.sides[0].carrier);

    // admin down again: disabled, partner forgotten
    let acts = sim.sides[0].lacp.admin_state_changed(false);
    sim.apply(0, acts);
    assert_eq!(sim.port_state(0, 2), PortState::Disabled);
    // the team comes up: expired, LACPDUs out, aggregated within a round trip
    let acts = sim.sides[0].lacp.admin_state_changed(true);
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Send { ifindex: 2, .. })));
    sim.apply(0, acts);
    sim.run_for(Duration::from_secs(2));
    for ifindex in [2, 3] {
        assert_eq!(sim.port_state(0, ifindex), PortState::Current);
        assert!(sim.enabled(0, ifindex));
        assert!(sim.enabled(1, ifindex));
    }
    assert!(sim.sides[0].carrier);
}

#[test]
fn loopback_is_never_selected() {
    let (mut lacp, _) = Lacp::new(fast(), MAC_A, true);
    lacp.port_added(2, "eth2", Some(MAC_A), PortConfig::default(), UP);
    let me = lacp.port(2).unwrap().actor;
    let acts = lacp.pdu_received(2, &crate::Lacpdu::new(MAC_A, me, me));
    assert_eq!(lacp.port(2).and_then(|p| p.agg_lead), None);
    assert!(acts.iter().any(|a| matches!(
        a,
        Action::Log { msg, .. } if msg.contains("loopbacked")
    )));
}

#[test]
fn removing_the_lead_renames_the_aggregator() {
    let mut sim = Sim::new(fast(), fast());
    sim.add_pair(2, key(0), key(0));
    sim.add_pair(3, key(0), key(0));
    sim.run_for(Duration::from_secs(1));
    let lead = sim.agg_id(0, 2).unwrap();
    let other = if lead == 2 { 3 } else { 2 };
    let acts = sim.sides[0].lacp.port_removed(lead);
    sim.apply(0, acts);
    assert_eq!(sim.agg_id(0, other), Some(other));
    assert_eq!(sim.sides[0].lacp.ports.selected_lead, Some(other));
    assert!(sim.enabled(0, other));
    assert!(sim.sides[0].lacp.port(lead).is_none());
}

/// A warm restart of one end within the partner's patience: the partner
/// never stops distributing, our side changes nothing in the kernel and
/// speaks at once; beyond the patience the partner gives up on the port.
#[test]
fn warm_restart_within_the_partners_timeout_is_invisible() {
    for (gap_ms, survives) in [(2900u64, true), (3100, false)] {
        let mut sim = Sim::new(fast(), fast());
        sim.add_pair(2, key(0), key(0));
        sim.add_pair(3, key(0), key(0));
        sim.run_for(Duration::from_secs(5));
        let churn_before = sim.sides[1].sent;
        let mut partner_kept = true;
        let acts = sim.warm_restart(0, Duration::from_millis(gap_ms), &mut |s: &Sim| {
            partner_kept &= s.enabled(1, 2) && s.enabled(1, 3) && s.sides[1].carrier;
        });
        assert_eq!(partner_kept, survives, "gap {gap_ms} ms");
        if survives {
            assert!(
                !acts
                    .iter()
                    .any(|a| matches!(a, Action::SetEnabled { .. } | Action::SetCarrier(_))),
                "{acts:?}"
            );
            let spoke: Vec<u32> = acts
                .iter()
                .filter_map(|a| match a {
                    Action::Send { ifindex, .. } => Some(*ifindex),
                    _ => None,
                })
                .collect();
            assert_eq!(spoke, vec![3, 2]);
        }
        // either way the aggregate is whole again soon, on both sides
        sim.run_for(Duration::from_secs(5));
        for side in 0..2 {
            for p in [2, 3] {
                assert_eq!(sim.port_state(side, p), PortState::Current);
                assert!(
                    sim.enabled(side, p),
                    "side {side} port {p} after gap {gap_ms}"
                );
            }
            assert!(sim.sides[side].carrier);
        }
        assert!(sim.sides[1].sent > churn_before);
    }
}

#[test]
fn periodic_lacpdus_repeat_from_when_they_were_due() {
    // the periodic timer is repeated (phase kept by the daemon), never re-armed
    // from the moment it was handled: that drifted late under load
    let mut sim = Sim::new(fast(), fast());
    sim.add_pair(2, key(0), key(0));
    sim.run_for(Duration::from_secs(5));
    let acts = sim.sides[0].lacp.timer_fired(2, PortTimer::Periodic);
    assert!(acts.contains(&Action::RepeatTimer {
        ifindex: 2,
        timer: PortTimer::Periodic,
        period: Duration::from_secs(1),
    }));
    assert!(!acts.iter().any(|a| matches!(
        a,
        Action::ArmTimer {
            timer: PortTimer::Periodic,
            ..
        }
    )));
}
