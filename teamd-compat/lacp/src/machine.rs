//! The LACP runner's protocol logic as a sans-I/O machine: each event method
//! takes what happened (port added/removed, link change, LACPDU received,
//! timer fired, team admin state or MAC changed) and returns the [`Action`]s
//! to apply, in order. Decisions follow C teamd's `teamd_runner_lacp.c`
//! (spec §8.4) as released in libteam 1.31, with three additions:
//!
//! * a LACPDU goes out at once whenever a port's actor state byte changes
//!   (C sends on the port's own state changes only; a port whose Sync or
//!   Collecting/Distributing bits changed because *another* port moved would
//!   wait for its next periodic LACPDU, up to 30 s at the slow rate);
//! * when the team device comes admin up, every port that is not disabled
//!   sends a LACPDU at once (C waits for the next periodic shot if the port
//!   was already `expired`);
//! * `fallback` (config `runner.fallback`): while no LACPDU was ever received
//!   on any port, one port with link (by the policy's order, see
//!   [`Ports::fallback_port`]) is kept enabled so that the host stays
//!   reachable through a switch without LACP; the first LACPDU ends it.

use std::time::Duration;

use crate::action::{Action, LogLevel};
use crate::lacpdu::{state, Lacpdu, LacpduInfo};
use crate::port::{timeout, Link, Port, PortConfig, PortState, PortTimer};
use crate::select::{Ports, SelectPolicy};

/// Runner-wide settings (`runner.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub active: bool,
    pub fast_rate: bool,
    pub sys_prio: u16,
    pub min_ports: u32,
    pub agg_select_policy: SelectPolicy,
    pub fallback: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            active: true,
            fast_rate: false,
            sys_prio: 65535,
            min_ports: 1,
            agg_select_policy: SelectPolicy::LacpPrio,
            fallback: false,
        }
    }
}

/// Why the `aggregator.selected` state item refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectAggError {
    /// Only `true` may be written (EOPNOTSUPP).
    OnlyTrue,
    /// The port is not selected into any aggregator (EINVAL).
    NotSelected,
    NoSuchPort,
}

pub struct Lacp {
    pub cfg: Config,
    pub ports: Ports,
    pub(crate) team_mac: [u8; 6],
    pub(crate) admin_up: bool,
    pub(crate) carrier_up: bool,
    /// A valid LACPDU has been received on some port (ends `fallback`).
    pub(crate) partner_seen: bool,
    /// A warm restart in progress: the saved state of the ports not yet
    /// restored (see [`crate::warm`]).
    pub(crate) restoring: Option<crate::warm::Snapshot>,
    pub(crate) out: Vec<Action>,
}

impl Lacp {
    /// The runner starts with the carrier forced down.
    pub fn new(cfg: Config, team_mac: [u8; 6], admin_up: bool) -> (Lacp, Vec<Action>) {
        let lacp = Lacp {
            cfg,
            ports: Ports {
                policy: cfg.agg_select_policy,
                ..Ports::default()
            },
            team_mac,
            admin_up,
            carrier_up: false,
            partner_seen: false,
            restoring: None,
            out: Vec::new(),
        };
        (lacp, vec![Action::SetCarrier(false)])
    }

    pub fn carrier_up(&self) -> bool {
        self.carrier_up
    }

    pub fn admin_up(&self) -> bool {
        self.admin_up
    }

    pub fn partner_seen(&self) -> bool {
        self.partner_seen
    }

    pub fn port(&self, ifindex: u32) -> Option<&Port> {
        self.ports.get(ifindex)
    }

    /// The kernel state of a port as the daemon sees it now (`enabled` and
    /// `priority` options); not an event, nothing is re-evaluated.
    pub fn observe_kernel(&mut self, ifindex: u32, enabled: bool, prio: i32) {
        if let Some(p) = self.ports.get_mut(ifindex) {
            p.enabled = enabled;
            p.prio = prio;
        }
    }

    /// The team's aggregator-selected flag of a port's aggregator.
    pub fn agg_selected(&self, ifindex: u32) -> bool {
        self.ports
            .get(ifindex)
            .is_some_and(|p| self.ports.in_selected_agg(p))
    }

    pub(crate) fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.out)
    }

    pub(crate) fn log(&mut self, level: LogLevel, msg: String) {
        self.out.push(Action::Log { level, msg });
    }

    // ---- events ------------------------------------------------------------

    /// A port joined the team (after the daemon disabled it and set its MAC
    /// to the team's). It is put in front of the list, as teamd's list is.
    pub fn port_added(
        &mut self,
        ifindex: u32,
        ifname: &str,
        orig_mac: Option<[u8; 6]>,
        cfg: PortConfig,
        link: Link,
    ) -> Vec<Action> {
        let mut p = Port::new(ifindex, ifname, orig_mac, cfg);
        p.actor = LacpduInfo {
            system_priority: self.cfg.sys_prio,
            system: self.team_mac,
            key: cfg.lacp_key,
            port_priority: cfg.lacp_prio,
            // C: htons(ifindex), the low 16 bits
            port: ifindex as u16,
            state: 0,
        };
        p.link = link;
        self.ports.list.retain(|q| q.ifindex != ifindex);
        self.ports.list.insert(0, p);
        self.link_update(ifindex, link);
        self.refresh_actors();
        self.take()
    }

    /// A port is leaving the team: disabled, unselected, forgotten.
    pub fn port_removed(&mut self, ifindex: u32) -> Vec<Action> {
        if self.ports.get(ifindex).is_none() {
            return Vec::new();
        }
        self.set_state(ifindex, PortState::Disabled);
        if self.ports.get(ifindex).is_some_and(|p| p.selected()) {
            self.ports.agg_unselect(ifindex);
        }
        self.ports.list.retain(|p| p.ifindex != ifindex);
        for timer in [PortTimer::Periodic, PortTimer::Timeout] {
            self.out.push(Action::CancelTimer { ifindex, timer });
        }
        // C leaves this to the next evaluation; a departed enabled port must
        // not keep the carrier up.
        self.selected_agg_update(None);
        self.refresh_actors();
        self.take()
    }

    /// The kernel reported the port's link (port add and every port event).
    pub fn link_changed(&mut self, ifindex: u32, link: Link) -> Vec<Action> {
        if let Some(p) = self.ports.get_mut(ifindex) {
            p.link = link;
        }
        self.link_update(ifindex, link);
        self.refresh_actors();
        self.take()
    }

    /// The team device went admin up (all ports `expired`) or down
    /// (`disabled`; a LACPDU or link event may move them on again, silently).
    pub fn admin_state_changed(&mut self, up: bool) -> Vec<Action> {
        self.admin_update(up);
        self.refresh_actors();
        self.take()
    }

    pub(crate) fn admin_update(&mut self, up: bool) {
        self.admin_up = up;
        let target = if up {
            PortState::Expired
        } else {
            PortState::Disabled
        };
        let ifindexes: Vec<u32> = self.ports.list.iter().map(|p| p.ifindex).collect();
        for i in ifindexes {
            let unchanged = self.ports.get(i).is_some_and(|p| p.state == target);
            self.set_state(i, target);
            // Beyond C: a port already expired while the team was down (its
            // LACPDUs withheld) speaks at once rather than at its next
            // periodic shot.
            if up && unchanged {
                self.send(i);
            }
        }
    }

    /// The team MAC changed: it is the actor system id.
    pub fn team_hwaddr_changed(&mut self, mac: [u8; 6]) -> Vec<Action> {
        self.team_mac = mac;
        for p in self.ports.list.iter_mut() {
            p.actor.system = mac;
        }
        self.take()
    }

    /// A frame arrived on the port's LACP socket. Foreign slow protocols are
    /// ignored silently, malformed LACPDUs with C's warning.
    pub fn frame_received(&mut self, ifindex: u32, frame: &[u8]) -> Vec<Action> {
        match Lacpdu::parse(frame) {
            Ok(pdu) => self.pdu_received(ifindex, &pdu),
            Err(crate::LacpduError::BadTlvLength { .. }) => {
                self.log(LogLevel::Warn, "malformed LACP PDU came.".into());
                self.take()
            }
            Err(e) => {
                self.log(LogLevel::Debug, format!("{ifindex}: ignoring frame: {e}"));
                self.take()
            }
        }
    }

    pub fn pdu_received(&mut self, ifindex: u32, pdu: &Lacpdu) -> Vec<Action> {
        let Some(p) = self.ports.get(ifindex) else {
            return Vec::new();
        };
        let first_partner = !self.partner_seen;
        self.partner_seen = true;
        if pdu.actor != p.partner {
            if let Some(p) = self.ports.get_mut(ifindex) {
                p.partner = pdu.actor;
            }
            self.partner_update(ifindex);
            self.agg_update(ifindex);
        } else if first_partner && self.cfg.fallback {
            self.selected_agg_update(None);
        }
        self.set_state(ifindex, PortState::Current);
        self.actor_update(ifindex);
        let stale_view = self
            .ports
            .get(ifindex)
            .is_some_and(|p| pdu.partner != p.actor);
        if stale_view {
            self.send(ifindex);
        }
        self.out.push(Action::ArmTimer {
            ifindex,
            timer: PortTimer::Timeout,
            after: timeout(self.cfg.fast_rate),
        });
        self.refresh_actors();
        self.take()
    }

    pub fn timer_fired(&mut self, ifindex: u32, timer: PortTimer) -> Vec<Action> {
        let Some(p) = self.ports.get(ifindex) else {
            return Vec::new();
        };
        match timer {
            PortTimer::Timeout => match p.state {
                PortState::Current => self.set_state(ifindex, PortState::Expired),
                PortState::Expired => self.set_state(ifindex, PortState::Defaulted),
                PortState::Defaulted | PortState::Disabled => {}
            },
            PortTimer::Periodic => {
                if p.periodic_running {
                    let period = p.periodic_interval();
                    self.actor_update(ifindex);
                    self.send(ifindex);
                    self.out.push(Action::RepeatTimer {
                        ifindex,
                        timer: PortTimer::Periodic,
                        period,
                    });
                }
            }
        }
        self.refresh_actors();
        self.take()
    }

    /// `ports.<if>.runner.aggregator.selected = true`: make the port's
    /// aggregator the selected one (until the next evaluation picks again).
    pub fn select_aggregator_of(
        &mut self,
        ifindex: u32,
        value: bool,
    ) -> Result<Vec<Action>, SelectAggError> {
        if !value {
            return Err(SelectAggError::OnlyTrue);
        }
        let Some(p) = self.ports.get(ifindex) else {
            return Err(SelectAggError::NoSuchPort);
        };
        let Some(lead) = p.agg_lead else {
            return Err(SelectAggError::NotSelected);
        };
        self.selected_agg_update(Some(lead));
        self.refresh_actors();
        Ok(self.take())
    }

    // ---- C teamd's procedures --------------------------------------------

    pub(crate) fn link_update(&mut self, ifindex: u32, link: Link) {
        let Some(p) = self.ports.get_mut(ifindex) else {
            return;
        };
        let changed = link.up != p.link_last.up || link.duplex != p.link_last.duplex;
        p.link_last = link;
        if changed {
            let target = if link.usable() {
                PortState::Expired
            } else {
                PortState::Disabled
            };
            self.set_state(ifindex, target);
        }
    }

    pub(crate) fn set_state(&mut self, ifindex: u32, new: PortState) {
        let Some(p) = self.ports.get(ifindex) else {
            return;
        };
        let old = p.state;
        // No admin-state gate here: the libteam 1.31 teamd we interoperate
        // with (Debian 12) moves ports to expired/current while the team is
        // down and only withholds the LACPDUs (`send`); the gate came later
        // (libteam 1.32) and would make our state dumps disagree with it.
        if new == old {
            return;
        }
        self.set_periodic_on(ifindex, new != PortState::Disabled);
        match new {
            PortState::Current => {}
            PortState::Expired => {
                // transmit fast to win the partner back, give up after 3 s
                self.set_periodic_running(ifindex, true);
                if let Some(p) = self.ports.get_mut(ifindex) {
                    p.partner.state |= state::LACP_TIMEOUT;
                    p.partner.state &= !state::SYNCHRONIZATION;
                }
                self.partner_update(ifindex);
                self.out.push(Action::ArmTimer {
                    ifindex,
                    timer: PortTimer::Timeout,
                    after: timeout(true),
                });
            }
            PortState::Defaulted => {
                self.out.push(Action::CancelTimer {
                    ifindex,
                    timer: PortTimer::Timeout,
                });
                if let Some(p) = self.ports.get_mut(ifindex) {
                    p.partner = LacpduInfo {
                        state: state::LACP_TIMEOUT,
                        ..LacpduInfo::default()
                    };
                }
                self.partner_update(ifindex);
            }
            PortState::Disabled => {
                if let Some(p) = self.ports.get_mut(ifindex) {
                    p.partner = LacpduInfo::default();
                }
                self.partner_update(ifindex);
            }
        }
        let name = self
            .ports
            .get(ifindex)
            .map(|p| p.ifname.clone())
            .unwrap_or_default();
        self.log(
            LogLevel::Info,
            format!(
                "{name}: Changed port state: \"{}\" -> \"{}\"",
                old.name(),
                new.name()
            ),
        );
        if let Some(p) = self.ports.get_mut(ifindex) {
            p.state = new;
        }
        self.agg_update(ifindex);
        self.actor_update(ifindex);
        self.send(ifindex);
    }

    fn set_periodic_on(&mut self, ifindex: u32, on: bool) {
        if let Some(p) = self.ports.get_mut(ifindex) {
            p.periodic_on = on;
        }
        self.periodic_reconsider(ifindex);
    }

    /// Periodic TX runs while wanted and either side is active.
    fn periodic_reconsider(&mut self, ifindex: u32) {
        let Some(p) = self.ports.get(ifindex) else {
            return;
        };
        let run = p.periodic_on && (self.cfg.active || p.partner.state & state::LACP_ACTIVITY != 0);
        self.set_periodic_running(ifindex, run);
    }

    fn set_periodic_running(&mut self, ifindex: u32, run: bool) {
        let Some(p) = self.ports.get_mut(ifindex) else {
            return;
        };
        if p.periodic_running == run {
            return;
        }
        p.periodic_running = run;
        self.out.push(if run {
            // C's timerfd fires its first shot at once
            Action::ArmTimer {
                ifindex,
                timer: PortTimer::Periodic,
                after: Duration::ZERO,
            }
        } else {
            Action::CancelTimer {
                ifindex,
                timer: PortTimer::Periodic,
            }
        });
    }

    /// React to changes of the partner's Timeout and Activity bits.
    fn partner_update(&mut self, ifindex: u32) {
        let Some(p) = self.ports.get_mut(ifindex) else {
            return;
        };
        let changed = p.partner.state ^ p.partner_last.state;
        p.partner_last = p.partner;
        let running = p.periodic_running;
        if changed & state::LACP_TIMEOUT != 0 && running {
            // new interval: restart, first shot at once
            self.out.push(Action::ArmTimer {
                ifindex,
                timer: PortTimer::Periodic,
                after: Duration::ZERO,
            });
        }
        if changed & state::LACP_ACTIVITY != 0 {
            self.periodic_reconsider(ifindex);
        }
    }

    fn loopback_free(&mut self, ifindex: u32) -> bool {
        let Some(p) = self.ports.get(ifindex) else {
            return true;
        };
        if p.looped_back() {
            let msg = format!(
                "{}: Port seems to be loopbacked to the same team device.",
                p.ifname
            );
            self.log(LogLevel::Warn, msg);
            return false;
        }
        true
    }

    pub(crate) fn agg_update(&mut self, ifindex: u32) {
        let Some(p) = self.ports.get(ifindex) else {
            return;
        };
        if p.selected() {
            let unselectable = !matches!(p.state, PortState::Current | PortState::Expired);
            // C's short-circuit order (the loopback check logs)
            if unselectable
                || !self.loopback_free(ifindex)
                || !self.ports.correct_aggregation(ifindex)
                || self.ports.mergeable(ifindex)
            {
                self.ports.agg_unselect(ifindex);
            }
        }
        let Some(p) = self.ports.get(ifindex) else {
            return;
        };
        if !p.selected() && p.state == PortState::Current && self.loopback_free(ifindex) {
            self.ports.agg_select(ifindex);
        }
        self.selected_agg_update(None);
    }

    pub(crate) fn selected_agg_update(&mut self, next: Option<u32>) {
        let next = next.or_else(|| self.ports.next_agg());
        if self.ports.selected_lead != next {
            self.log(
                LogLevel::Debug,
                format!("Selecting aggregator {}", next.unwrap_or(0)),
            );
        }
        self.ports.selected_lead = next;
        self.ports_update_enabled();
        self.update_carrier();
    }

    fn ports_update_enabled(&mut self) {
        let fallback = if self.cfg.fallback && !self.partner_seen {
            Some(self.ports.fallback_port())
        } else {
            None
        };
        let mut changes = Vec::new();
        for p in self.ports.list.iter() {
            let want = match fallback {
                Some(f) => f == Some(p.ifindex),
                None => self.ports.should_enable(p),
            };
            if want != p.enabled {
                changes.push((p.ifindex, want));
            }
        }
        for (ifindex, enabled) in changes {
            if let Some(p) = self.ports.get_mut(ifindex) {
                p.enabled = enabled;
            }
            self.out.push(Action::SetEnabled { ifindex, enabled });
        }
    }

    fn update_carrier(&mut self) {
        let enabled = self.ports.list.iter().filter(|p| p.enabled).count();
        let up = enabled >= self.cfg.min_ports as usize;
        if up != self.carrier_up {
            self.carrier_up = up;
            self.out.push(Action::SetCarrier(up));
            self.log(
                LogLevel::Info,
                format!("carrier changed to {}", if up { "UP" } else { "DOWN" }),
            );
        }
    }

    /// The actor state byte C teamd computes for the port.
    fn actor_state(&self, p: &Port) -> u8 {
        let mut s = 0;
        if self.cfg.active {
            s |= state::LACP_ACTIVITY;
        }
        if self.cfg.fast_rate {
            s |= state::LACP_TIMEOUT;
        }
        if self.ports.in_selected_agg(p) {
            s |= state::SYNCHRONIZATION;
            if p.partner.state & state::SYNCHRONIZATION != 0 {
                s |= state::COLLECTING | state::DISTRIBUTING;
            }
        }
        match p.state {
            PortState::Expired => s |= state::EXPIRED,
            PortState::Defaulted => s |= state::DEFAULTED,
            _ => {}
        }
        if !self.ports.list.is_empty() {
            s |= state::AGGREGATION;
        }
        s
    }

    pub(crate) fn actor_update(&mut self, ifindex: u32) {
        let Some(p) = self.ports.get(ifindex) else {
            return;
        };
        let s = self.actor_state(p);
        if let Some(p) = self.ports.get_mut(ifindex) {
            p.actor.state = s;
        }
    }

    /// Beyond C: any port whose actor state byte is now different from the
    /// one it last advertised tells its partner at once.
    pub(crate) fn refresh_actors(&mut self) {
        let stale: Vec<u32> = self
            .ports
            .list
            .iter()
            .filter(|p| p.state != PortState::Disabled && self.actor_state(p) != p.actor.state)
            .map(|p| p.ifindex)
            .collect();
        for ifindex in stale {
            self.actor_update(ifindex);
            self.send(ifindex);
        }
    }

    pub(crate) fn send(&mut self, ifindex: u32) {
        if !self.admin_up {
            return;
        }
        let team_mac = self.team_mac;
        let Some(p) = self.ports.get_mut(ifindex) else {
            return;
        };
        p.actor.system = team_mac;
        let Some(src) = p.orig_mac else {
            return;
        };
        let pdu = Lacpdu::new(src, p.actor, p.partner);
        self.out.push(Action::Send { ifindex, pdu });
    }
}
