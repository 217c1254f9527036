//! Warm restart: what one teamd hands the next about the LACP exchange, so
//! that a restarted daemon carries on where the old one stopped and the
//! partner never sees the aggregate go down.
//!
//! The old daemon takes a [`Snapshot`] and sends a last LACPDU on every port
//! ([`Lacp::warm_exit`]): each partner's timeout of our information starts
//! afresh then, so the new daemon has the whole of it ([`Snapshot::partner_patience`])
//! to speak. The new daemon builds the machine with [`Lacp::restored`] (no
//! carrier change), hands it each port it finds still in the team
//! ([`Lacp::port_restored`]: no state change, no action), then
//! [`Lacp::restore_done`] re-evaluates what may have changed meanwhile (links,
//! ports that did not come back, the team's admin state) and speaks at once.
//! Storing the snapshot is the daemon's business.

use std::time::Duration;

use crate::action::{Action, LogLevel};
use crate::lacpdu::{state, LacpduInfo};
use crate::machine::{Config, Lacp};
use crate::port::{timeout, Link, Port, PortConfig, PortState, PortTimer};
use crate::select::Ports;

/// One port's protocol state, as the old daemon left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSnapshot {
    pub ifindex: u32,
    pub ifname: String,
    /// The port's own MAC, source of its LACPDUs: a daemon that finds the
    /// port enslaved cannot learn it from the link any more.
    pub orig_mac: Option<[u8; 6]>,
    pub state: PortState,
    /// The link the machine last evaluated (a change against it is a link event).
    pub link: Link,
    /// What the partner last heard from us.
    pub actor: LacpduInfo,
    pub partner: LacpduInfo,
    /// Lead port of the aggregator the port is selected into.
    pub agg_lead: Option<u32>,
    /// The kernel `enabled` option as the machine last set or saw it.
    pub enabled: bool,
}

/// The runner's protocol state at a warm exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub admin_up: bool,
    pub carrier_up: bool,
    pub partner_seen: bool,
    /// Lead port of the selected aggregator.
    pub selected_lead: Option<u32>,
    /// In the machine's list order (most recently added first), which decides ties.
    pub ports: Vec<PortSnapshot>,
}

impl Snapshot {
    /// How long after the warm exit every partner still holds our information:
    /// a partner times out three of *its own* periods after our last LACPDU
    /// (its Timeout bit, which we keep as the partner state), and the last one
    /// went out at the exit. 3 s if any partner that hears us runs the short
    /// timeout (an `expired` port's partner is taken as short, as the machine
    /// does), else 90 s.
    pub fn partner_patience(&self) -> Duration {
        let short = self.ports.iter().any(|p| {
            matches!(p.state, PortState::Current | PortState::Expired)
                && p.partner.state & state::LACP_TIMEOUT != 0
        });
        timeout(short)
    }
}

impl Lacp {
    /// The state a warm exit hands over.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            admin_up: self.admin_up,
            carrier_up: self.carrier_up,
            partner_seen: self.partner_seen,
            selected_lead: self.ports.selected_lead,
            ports: self
                .ports
                .list
                .iter()
                .map(|p| PortSnapshot {
                    ifindex: p.ifindex,
                    ifname: p.ifname.clone(),
                    orig_mac: p.orig_mac,
                    state: p.state,
                    link: p.link_last,
                    actor: p.actor,
                    partner: p.partner,
                    agg_lead: p.agg_lead,
                    enabled: p.enabled,
                })
                .collect(),
        }
    }

    /// The last words of a daemon that leaves the team to its successor: a
    /// LACPDU on every port that speaks, so that each partner's timeout of
    /// our information restarts now. Nothing else changes.
    pub fn warm_exit(&mut self) -> Vec<Action> {
        let speaking: Vec<u32> = self
            .ports
            .list
            .iter()
            .filter(|p| p.state != PortState::Disabled)
            .map(|p| p.ifindex)
            .collect();
        for ifindex in speaking {
            self.actor_update(ifindex);
            self.send(ifindex);
        }
        self.take()
    }

    /// A machine that continues from `snap`: carrier, selection and partner
    /// knowledge as saved, no ports yet and, unlike [`Lacp::new`], no action
    /// (the carrier the old daemon left stays).
    pub fn restored(cfg: Config, team_mac: [u8; 6], admin_up: bool, snap: &Snapshot) -> Lacp {
        Lacp {
            cfg,
            ports: Ports {
                policy: cfg.agg_select_policy,
                selected_lead: snap.selected_lead,
                list: Vec::new(),
            },
            team_mac,
            admin_up,
            carrier_up: snap.carrier_up,
            partner_seen: snap.partner_seen,
            restoring: Some(snap.clone()),
            out: Vec::new(),
        }
    }

    /// A port found in the team at start-up. With saved state (a restore in
    /// progress that knows the port) it is taken as saved, except for our
    /// own identity (the current config and team MAC) and the current link
    /// (compared with the saved one by [`Lacp::restore_done`]); true then.
    /// `orig_mac`: the port's own MAC if the daemon knows it, else the saved one.
    /// Nothing is evaluated or sent before `restore_done`. False: no saved
    /// state, add the port as new (after `restore_done`).
    pub fn port_restored(
        &mut self,
        ifindex: u32,
        ifname: &str,
        orig_mac: Option<[u8; 6]>,
        cfg: PortConfig,
        link: Link,
    ) -> bool {
        let Some(saved) = self
            .restoring
            .as_ref()
            .and_then(|r| r.ports.iter().find(|p| p.ifindex == ifindex))
            .cloned()
        else {
            return false;
        };
        let mut p = Port::new(ifindex, ifname, orig_mac.or(saved.orig_mac), cfg);
        p.actor = LacpduInfo {
            system_priority: self.cfg.sys_prio,
            system: self.team_mac,
            key: cfg.lacp_key,
            port_priority: cfg.lacp_prio,
            port: ifindex as u16,
            // what the partner heard: a different byte now is sent at once
            state: saved.actor.state,
        };
        p.partner = saved.partner;
        p.partner_last = saved.partner;
        p.state = saved.state;
        p.link_last = saved.link;
        p.link = link;
        p.periodic_on = saved.state != PortState::Disabled;
        p.periodic_running =
            p.periodic_on && (self.cfg.active || saved.partner.state & state::LACP_ACTIVITY != 0);
        p.agg_lead = saved.agg_lead;
        p.enabled = saved.enabled;
        self.ports.list.retain(|q| q.ifindex != ifindex);
        self.ports.list.push(p);
        true
    }

    /// Ends a restore: the ports in their saved order, aggregators whose lead
    /// did not come back chosen again, then whatever changed while no daemon
    /// watched (a port's link, the team's admin state) as the events it would
    /// have been, the aggregator selection and `enabled` re-evaluated (with
    /// the same state, nothing changes), the timers running again and a
    /// LACPDU on every port that speaks.
    pub fn restore_done(&mut self) -> Vec<Action> {
        let Some(snap) = self.restoring.take() else {
            return Vec::new();
        };
        let rank = |ifindex: u32| {
            snap.ports
                .iter()
                .position(|s| s.ifindex == ifindex)
                .unwrap_or(usize::MAX)
        };
        self.ports.list.sort_by_key(|p| rank(p.ifindex));
        let present: Vec<u32> = self.ports.list.iter().map(|p| p.ifindex).collect();
        for p in self.ports.list.iter_mut() {
            if p.agg_lead.is_some_and(|lead| !present.contains(&lead)) {
                p.agg_lead = None;
            }
        }
        let lead_alive = |lead: u32, list: &[Port]| list.iter().any(|p| p.agg_lead == Some(lead));
        if let Some(lead) = self.ports.selected_lead {
            if !lead_alive(lead, &self.ports.list) {
                self.ports.selected_lead = None;
            }
        }
        let missing: Vec<&str> = snap
            .ports
            .iter()
            .filter(|s| !present.contains(&s.ifindex))
            .map(|s| s.ifname.as_str())
            .collect();
        if !missing.is_empty() {
            let msg = format!("Warm restart: ports gone meanwhile: {}", missing.join(", "));
            self.log(LogLevel::Info, msg);
        }
        // the timers of the old daemon, afresh: the partner speaks at the rate
        // we asked for, so its next LACPDU is at most one period away
        for &ifindex in &present {
            let Some(p) = self.ports.get(ifindex) else {
                continue;
            };
            if p.periodic_running {
                let after = p.periodic_interval();
                self.out.push(Action::ArmTimer {
                    ifindex,
                    timer: PortTimer::Periodic,
                    after,
                });
            }
            let partner_timeout = match p.state {
                PortState::Current => Some(timeout(self.cfg.fast_rate)),
                PortState::Expired => Some(timeout(true)),
                PortState::Defaulted | PortState::Disabled => None,
            };
            if let Some(after) = partner_timeout {
                self.out.push(Action::ArmTimer {
                    ifindex,
                    timer: PortTimer::Timeout,
                    after,
                });
            }
        }
        for &ifindex in &present {
            let link = self.ports.get(ifindex).map(|p| p.link).unwrap_or_default();
            self.link_update(ifindex, link);
        }
        if snap.admin_up != self.admin_up {
            let up = self.admin_up;
            self.admin_update(up);
        }
        for &ifindex in &present {
            let reselect = self
                .ports
                .get(ifindex)
                .is_some_and(|p| !p.selected() && p.state == PortState::Current);
            if reselect {
                self.agg_update(ifindex);
            }
        }
        self.selected_agg_update(None);
        // speak at once, whatever the periodic timer says; a port whose state
        // changed above has just done so
        for &ifindex in &present {
            let spoke = self
                .out
                .iter()
                .any(|a| matches!(a, Action::Send { ifindex: i, .. } if *i == ifindex));
            let speaks = self
                .ports
                .get(ifindex)
                .is_some_and(|p| p.state != PortState::Disabled);
            if speaks && !spoke {
                self.actor_update(ifindex);
                self.send(ifindex);
            }
        }
        self.refresh_actors();
        self.take()
    }

    /// The saved state of a port a restore still waits for.
    pub fn port_snapshot(&self, ifindex: u32) -> Option<&PortSnapshot> {
        self.restoring
            .as_ref()?
            .ports
            .iter()
            .find(|p| p.ifindex == ifindex)
    }

    /// A restore is waiting for [`Lacp::restore_done`].
    pub fn restoring(&self) -> bool {
        self.restoring.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacpdu::Lacpdu;
    use crate::select::SelectPolicy;

    const TEAM: [u8; 6] = [2, 0, 0, 0, 0, 0x10];
    const PARTNER: [u8; 6] = [2, 0, 0, 0, 0, 0x99];
    const UP: Link = Link {
        up: true,
        speed: 1000,
        duplex: 1,
    };

    fn fast() -> Config {
        Config {
            fast_rate: true,
            ..Config::default()
        }
    }

    fn partner(port: u16) -> LacpduInfo {
        LacpduInfo {
            system_priority: 65535,
            system: PARTNER,
            key: 9,
            port_priority: 255,
            port,
            state: state::LACP_ACTIVITY
                | state::LACP_TIMEOUT
                | state::AGGREGATION
                | state::SYNCHRONIZATION
                | state::COLLECTING
                | state::DISTRIBUTING,
        }
    }

    /// A machine with ports 2 and 3 aggregated with a fast partner.
    fn aggregated() -> Lacp {
        let (mut m, _) = Lacp::new(fast(), TEAM, true);
        for (ifindex, port) in [(2u32, 12u16), (3, 13)] {
            m.port_added(
                ifindex,
                &format!("eth{ifindex}"),
                Some([2, 0, 0, 0, 1, ifindex as u8]),
                PortConfig::default(),
                UP,
            );
            let pdu = Lacpdu::new(PARTNER, partner(port), LacpduInfo::default());
            m.pdu_received(ifindex, &pdu);
        }
        assert!(m.carrier_up());
        assert!(m.ports.list.iter().all(|p| p.enabled));
        m
    }

    fn restore(snap: &Snapshot, links: &[(u32, Link)], admin_up: bool) -> (Lacp, Vec<Action>) {
        let mut m = Lacp::restored(fast(), TEAM, admin_up, snap);
        // the kernel's list order, not the machine's
        let mut links = links.to_vec();
        links.sort_by_key(|(i, _)| *i);
        for (ifindex, link) in links {
            assert!(m.port_restored(
                ifindex,
                &format!("eth{ifindex}"),
                Some([2, 0, 0, 0, 1, ifindex as u8]),
                PortConfig::default(),
                link,
            ));
        }
        assert!(m.restoring());
        let acts = m.restore_done();
        assert!(!m.restoring());
        (m, acts)
    }

    fn sends(acts: &[Action]) -> Vec<(u32, Lacpdu)> {
        acts.iter()
            .filter_map(|a| match a {
                Action::Send { ifindex, pdu } => Some((*ifindex, pdu.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn warm_exit_speaks_once_on_every_port_and_changes_nothing() {
        let mut m = aggregated();
        let before = m.snapshot();
        let acts = m.warm_exit();
        let sent = sends(&acts);
        assert_eq!(sent.len(), 2);
        assert_eq!(acts.len(), 2, "only LACPDUs: {acts:?}");
        for (ifindex, pdu) in sent {
            assert_eq!(pdu.partner, m.port(ifindex).unwrap().partner);
            assert_ne!(pdu.actor.state & state::SYNCHRONIZATION, 0);
        }
        assert_eq!(m.snapshot(), before);
    }

    #[test]
    fn partner_patience_follows_the_partners_timeout() {
        let m = aggregated();
        let mut snap = m.snapshot();
        assert_eq!(snap.partner_patience(), Duration::from_secs(3));
        for p in snap.ports.iter_mut() {
            p.partner.state &= !state::LACP_TIMEOUT;
        }
        assert_eq!(snap.partner_patience(), Duration::from_secs(90));
        // a defaulted port's partner does not hear us
        snap.ports[0].partner.state |= state::LACP_TIMEOUT;
        snap.ports[0].state = PortState::Defaulted;
        assert_eq!(snap.partner_patience(), Duration::from_secs(90));
    }

    #[test]
    fn restore_keeps_everything_and_speaks_at_once() {
        let m = aggregated();
        let snap = m.snapshot();
        let (r, acts) = restore(&snap, &[(2, UP), (3, UP)], true);
        assert!(
            !acts
                .iter()
                .any(|a| matches!(a, Action::SetEnabled { .. } | Action::SetCarrier(_))),
            "no kernel change: {acts:?}"
        );
        let sent = sends(&acts);
        assert_eq!(sent.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![3, 2]);
        for (ifindex, pdu) in &sent {
            let old = m.port(*ifindex).unwrap();
            assert_eq!(pdu.actor, old.actor, "the partner hears what it heard");
            assert_eq!(pdu.partner, old.partner);
        }
        for ifindex in [2, 3] {
            assert!(acts.contains(&Action::ArmTimer {
                ifindex,
                timer: PortTimer::Periodic,
                after: Duration::from_secs(1),
            }));
            assert!(acts.contains(&Action::ArmTimer {
                ifindex,
                timer: PortTimer::Timeout,
                after: Duration::from_secs(3),
            }));
        }
        assert_eq!(r.snapshot(), snap);
        assert!(r.carrier_up());
        assert!(r.partner_seen());
    }

    #[test]
    fn restore_follows_what_changed_meanwhile() {
        let m = aggregated();
        let snap = m.snapshot();
        // eth3's link went down while no daemon watched; eth2 carries on
        let down = Link::default();
        let (r, acts) = restore(&snap, &[(2, UP), (3, down)], true);
        assert_eq!(r.port(3).unwrap().state, PortState::Disabled);
        assert!(acts.contains(&Action::SetEnabled {
            ifindex: 3,
            enabled: false
        }));
        assert!(!acts.contains(&Action::SetEnabled {
            ifindex: 2,
            enabled: false
        }));
        assert!(!acts.iter().any(|a| matches!(a, Action::SetCarrier(false))));
        assert!(sends(&acts).iter().any(|(i, _)| *i == 2));

        // eth2 did not come back at all: eth3 is selected again, the carrier stays up
        let mut r = Lacp::restored(fast(), TEAM, true, &snap);
        assert!(r.port_restored(
            3,
            "eth3",
            Some([2, 0, 0, 0, 1, 3]),
            PortConfig::default(),
            UP
        ));
        assert!(!r.port_restored(4, "eth4", None, PortConfig::default(), UP));
        let acts = r.restore_done();
        let p = r.port(3).unwrap();
        assert_eq!(p.agg_lead, Some(3));
        assert_eq!(r.ports.selected_lead, Some(3));
        assert!(!acts
            .iter()
            .any(|a| matches!(a, Action::SetEnabled { .. } | Action::SetCarrier(false))));
        assert!(acts
            .iter()
            .any(|a| matches!(a, Action::Log { msg, .. } if msg.contains("eth2"))));

        // the team went admin down meanwhile: ports disabled, nothing sent
        let (r, acts) = restore(&snap, &[(2, UP), (3, UP)], false);
        assert_eq!(r.port(2).unwrap().state, PortState::Disabled);
        assert!(sends(&acts).is_empty());
        assert!(acts.contains(&Action::SetCarrier(false)));
    }

    #[test]
    fn restore_keeps_a_stable_selection_and_the_config_identity() {
        let mut m = aggregated();
        m.cfg.agg_select_policy = SelectPolicy::LacpPrioStable;
        m.ports.policy = SelectPolicy::LacpPrioStable;
        let snap = m.snapshot();
        let cfg = Config {
            agg_select_policy: SelectPolicy::LacpPrioStable,
            ..fast()
        };
        let mut r = Lacp::restored(cfg, TEAM, true, &snap);
        // eth2's lacp_prio changed in the config meanwhile
        let prio = PortConfig {
            lacp_prio: 7,
            ..PortConfig::default()
        };
        assert!(r.port_restored(2, "eth2", Some([2, 0, 0, 0, 1, 2]), prio, UP));
        assert!(r.port_restored(
            3,
            "eth3",
            Some([2, 0, 0, 0, 1, 3]),
            PortConfig::default(),
            UP
        ));
        let acts = r.restore_done();
        assert_eq!(r.ports.selected_lead, snap.selected_lead);
        let to_eth2: Vec<_> = sends(&acts).into_iter().filter(|(i, _)| *i == 2).collect();
        assert_eq!(to_eth2.len(), 1);
        assert_eq!(to_eth2[0].1.actor.port_priority, 7);
    }

    #[test]
    fn an_enslaved_port_speaks_from_its_saved_own_mac() {
        let snap = aggregated().snapshot();
        let mut r = Lacp::restored(fast(), TEAM, true, &snap);
        // found enslaved: its own MAC is no longer to be seen on the link
        assert!(r.port_restored(2, "eth2", None, PortConfig::default(), UP));
        assert!(r.port_restored(3, "eth3", None, PortConfig::default(), UP));
        let sent = sends(&r.restore_done());
        assert_eq!(sent.len(), 2);
        for (ifindex, pdu) in sent {
            assert_eq!(pdu.src, [2, 0, 0, 0, 1, ifindex as u8]);
        }
    }

    #[test]
    fn without_a_restore_nothing_happens() {
        let (mut m, _) = Lacp::new(fast(), TEAM, true);
        assert!(!m.port_restored(2, "eth2", None, PortConfig::default(), UP));
        assert!(m.restore_done().is_empty());
    }
}
