//! The daemon's state model: the team, the ports teamd tracks, their link
//! watches, timers and the configuration. Owned by the core task; runners get
//! `&mut Ctx` for the duration of a hook, control interfaces read it through
//! the core's request handler only.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::config::{Config, LinkWatchPolicy, PortSettings, TeamSettings};
use crate::kernel::{KResult, Kernel};
use crate::linkwatch::LinkWatch;

/// One port as teamd tracks it (C teamd's `teamd_port` + its link watches).
#[derive(Debug, Clone)]
pub struct Port {
    pub ifindex: u32,
    pub ifname: String,
    pub settings: PortSettings,
    /// Most recently created first, as C teamd iterates them.
    pub watches: Vec<LinkWatch>,
}

/// What a timer is for; one pending deadline per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKey {
    /// An ethtool watch's delay_up/delay_down.
    EthtoolDelay { ifindex: u32, watch: u32 },
    /// Deferred work of the runner (C teamd's work queue), by runner-chosen id.
    Runner(u32),
    // used by the lacp runner and the probe watches, which are being merged
    #[allow(dead_code)]
    /// A runner timer of one port (LACP periodic and timeout timers).
    RunnerPort { ifindex: u32, id: u32 },
    #[allow(dead_code)]
    /// A link watch's timer (probe interval, init wait …), by watch-chosen id.
    LinkWatch { ifindex: u32, watch: u32, id: u8 },
}

impl TimerKey {
    /// The port a timer belongs to, if any.
    pub fn ifindex(&self) -> Option<u32> {
        match *self {
            TimerKey::EthtoolDelay { ifindex, .. }
            | TimerKey::RunnerPort { ifindex, .. }
            | TimerKey::LinkWatch { ifindex, .. } => Some(ifindex),
            TimerKey::Runner(_) => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Timers {
    deadlines: BTreeMap<TimerKey, Instant>,
    /// The deadline each timer last fired at, for `rearm_periodic`.
    fired: BTreeMap<TimerKey, Instant>,
    /// While the timers that fell due are handled: the time they were taken at, which
    /// serves as "now" for the timers they arm (one clock read per dispatch, not one a
    /// timer; the handlers take microseconds).
    dispatching: Option<Instant>,
}

impl Timers {
    fn now(&self) -> Instant {
        self.dispatching.unwrap_or_else(Instant::now)
    }

    pub fn arm(&mut self, key: TimerKey, after: Duration) {
        let at = self.now() + after;
        self.deadlines.insert(key, at);
    }

    /// Re-arms a timer that just fired for `period` after the deadline it
    /// fired at, as C teamd's periodic timerfd does: the ticks keep the
    /// phase they started with instead of drifting later by each tick's
    /// wake-up and processing delay. A probe's reply that lands as close to
    /// the next tick as the interval is long then falls on the same side of
    /// every tick (a drifting tick crosses it now and then: a missed reply
    /// and, with missed_max 0, a flap). After a stall of more than a period
    /// the next deadline is the first one still ahead (timerfd's overrun).
    pub fn rearm_periodic(&mut self, key: TimerKey, period: Duration) {
        let now = self.now();
        let mut next = self.fired.get(&key).map_or(now + period, |at| *at + period);
        if next <= now && !period.is_zero() {
            let behind = (now - next).as_nanos() / period.as_nanos() + 1;
            next += period.saturating_mul(u32::try_from(behind).unwrap_or(u32::MAX));
        }
        self.deadlines.insert(key, next);
    }

    pub fn cancel(&mut self, key: TimerKey) {
        self.deadlines.remove(&key);
        self.fired.remove(&key);
    }

    #[cfg(test)]
    pub fn is_armed(&self, key: TimerKey) -> bool {
        self.deadlines.contains_key(&key)
    }

    /// Drops every timer of a port.
    pub fn cancel_port(&mut self, ifindex: u32) {
        self.deadlines.retain(|k, _| k.ifindex() != Some(ifindex));
        self.fired.retain(|k, _| k.ifindex() != Some(ifindex));
    }

    /// Drops the timers of one link watch of a port.
    pub fn cancel_watch(&mut self, ifindex: u32, watch: u32) {
        let other_watch = |k: &TimerKey| match *k {
            TimerKey::EthtoolDelay {
                ifindex: i,
                watch: w,
            }
            | TimerKey::LinkWatch {
                ifindex: i,
                watch: w,
                ..
            } => (i, w) != (ifindex, watch),
            _ => true,
        };
        self.fired.retain(|k, _| other_watch(k));
        self.deadlines.retain(|k, _| other_watch(k));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Removes and returns the timers due at `now`, earliest first; until
    /// [`Timers::dispatched`], timers are armed from `now`.
    pub fn take_due(&mut self, now: Instant) -> Vec<TimerKey> {
        self.dispatching = Some(now);
        let mut due: Vec<(Instant, TimerKey)> = self
            .deadlines
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, at)| (*at, *k))
            .collect();
        due.sort();
        for (at, k) in &due {
            self.deadlines.remove(k);
            self.fired.insert(*k, *at);
        }
        due.into_iter().map(|(_, k)| k).collect()
    }

    /// The timers taken by [`Timers::take_due`] have been handled.
    pub fn dispatched(&mut self) {
        self.dispatching = None;
    }
}

/// Facts about this process shown in the state dump's `setup` section.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub pid: u32,
    pub pid_file: String,
    pub daemonized: bool,
    pub dbus_enabled: bool,
    pub zmq_enabled: bool,
    /// The file given with -f (and no -c): what SIGHUP and a bare
    /// `config reload` re-read.
    pub config_file: Option<std::path::PathBuf>,
}

pub struct Ctx<K> {
    pub kernel: K,
    pub config: Config,
    pub settings: TeamSettings,
    /// teamd's ports, most recently added first (C teamd's port_obj_list).
    pub ports: Vec<Port>,
    pub timers: Timers,
    pub setup: Setup,
    /// The config named `hwaddr`, or one was applied: never adopt a port's MAC.
    pub hwaddr_explicit: bool,
    /// Ports found enslaved at start-up are adopted without MAC adoption.
    pub pre_add_ports: bool,
    /// Ports re-enslaved by a reload's mode change: the team keeps its MAC.
    pub keep_team_hwaddr: BTreeSet<u32>,
    /// The port names the loaded config document listed (start-up or last
    /// reload); a reload releases those the new document drops.
    pub config_ports: BTreeSet<String>,
}

impl<K: Kernel> Ctx<K> {
    /// A team with no ports tracked yet.
    pub fn new(kernel: K, config: Config, settings: TeamSettings, setup: Setup) -> Self {
        Self {
            kernel,
            config,
            settings,
            ports: Vec::new(),
            timers: Timers::default(),
            setup,
            hwaddr_explicit: false,
            pre_add_ports: false,
            keep_team_hwaddr: BTreeSet::new(),
            config_ports: BTreeSet::new(),
        }
    }

    pub fn port(&self, ifindex: u32) -> Option<&Port> {
        self.ports.iter().find(|p| p.ifindex == ifindex)
    }

    pub fn port_mut(&mut self, ifindex: u32) -> Option<&mut Port> {
        self.ports.iter_mut().find(|p| p.ifindex == ifindex)
    }

    pub fn port_by_name(&self, ifname: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.ifname == ifname)
    }

    /// The combined link state of a port's watches (true without watches).
    pub fn port_link_up(&self, ifindex: u32) -> bool {
        let Some(port) = self.port(ifindex) else {
            return true;
        };
        match self.settings.link_watch_policy {
            LinkWatchPolicy::All => port.watches.iter().all(|w| w.up),
            LinkWatchPolicy::Any => port.watches.is_empty() || port.watches.iter().any(|w| w.up),
        }
    }

    /// Whether a port is in the kernel's port list (not just tracked).
    pub fn port_present(&self, ifindex: u32) -> bool {
        self.kernel.kernel_port(ifindex).is_some()
    }

    pub fn team_hwaddr(&self) -> Vec<u8> {
        self.port_hwaddr(self.kernel.team_ifindex())
    }

    /// The current MAC of a link (a port or the team).
    pub fn port_hwaddr(&self, ifindex: u32) -> Vec<u8> {
        self.kernel
            .ifinfos()
            .get(ifindex)
            .map(|i| i.hwaddr.clone())
            .unwrap_or_default()
    }

    /// Gives a port the team's MAC (runners that keep all ports on it).
    pub async fn set_port_hwaddr_to_team(&mut self, ifindex: u32) -> KResult {
        let mac = self.team_hwaddr();
        self.kernel.set_hwaddr(ifindex, &mac).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_deadline_order_once() {
        let mut t = Timers::default();
        t.arm(TimerKey::Runner(1), Duration::from_millis(0));
        t.arm(
            TimerKey::EthtoolDelay {
                ifindex: 3,
                watch: 0,
            },
            Duration::from_secs(100),
        );
        t.arm(TimerKey::Runner(2), Duration::from_millis(0));
        let due = t.take_due(Instant::now() + Duration::from_millis(1));
        assert_eq!(due.len(), 2);
        assert!(t.take_due(Instant::now()).is_empty());
        assert!(t.next_deadline().is_some());
        t.cancel_port(3);
        assert!(t.next_deadline().is_none());
    }

    #[test]
    fn a_periodic_timer_keeps_its_phase() {
        let mut t = Timers::default();
        let key = TimerKey::LinkWatch {
            ifindex: 3,
            watch: 0,
            id: 0,
        };
        let period = Duration::from_millis(100);
        t.arm(key, Duration::from_millis(1));
        let first = t.next_deadline().unwrap();
        // woken late: the next tick is still one period after the first
        assert_eq!(t.take_due(first + Duration::from_millis(20)), vec![key]);
        t.rearm_periodic(key, period);
        assert_eq!(t.next_deadline(), Some(first + period));
        // a stall of more than a period: the next deadline ahead, on the same phase
        let second = first + period;
        assert_eq!(t.take_due(second), vec![key]);
        // while the due timers are handled, their dispatch time is "now" for arming
        let other = TimerKey::Runner(7);
        t.arm(other, period);
        assert_eq!(t.deadlines.get(&other), Some(&(second + period)));
        t.cancel(other);
        t.dispatched();
        t.fired
            .insert(key, Instant::now() - Duration::from_millis(250));
        let before = Instant::now();
        t.rearm_periodic(key, period);
        let next = t.next_deadline().unwrap();
        assert!(next > before && next <= before + period);
        // cancelling forgets the phase
        t.cancel_port(3);
        assert!(t.fired.is_empty() && t.next_deadline().is_none());
    }
}
