//! The daemon's state model: the team, the ports teamd tracks, their link
//! watches, timers and the configuration. Owned by the core task; runners get
//! `&mut Ctx` for the duration of a hook, control interfaces read it through
//! the core's request handler only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::config::{Config, LinkWatchPolicy, PortSettings, TeamSettings};
use crate::kernel::{KResult, Kernel};
use crate::linkwatch::LinkWatch;
use crate::log;

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
}

impl Timers {
    pub fn arm(&mut self, key: TimerKey, after: Duration) {
        self.deadlines.insert(key, Instant::now() + after);
    }

    pub fn cancel(&mut self, key: TimerKey) {
        self.deadlines.remove(&key);
    }

    #[cfg(test)]
    pub fn is_armed(&self, key: TimerKey) -> bool {
        self.deadlines.contains_key(&key)
    }

    /// Drops every timer of a port.
    pub fn cancel_port(&mut self, ifindex: u32) {
        self.deadlines.retain(|k, _| k.ifindex() != Some(ifindex));
    }

    /// Drops the timers of one link watch of a port.
    pub fn cancel_watch(&mut self, ifindex: u32, watch: u32) {
        self.deadlines.retain(|k, _| match *k {
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
        });
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Removes and returns the timers due at `now`, earliest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<TimerKey> {
        let mut due: Vec<(Instant, TimerKey)> = self
            .deadlines
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, at)| (*at, *k))
            .collect();
        due.sort();
        for (_, k) in &due {
            self.deadlines.remove(k);
        }
        due.into_iter().map(|(_, k)| k).collect()
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
}

impl<K: Kernel> Ctx<K> {
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

    /// As [`Ctx::set_port_hwaddr_to_team`], logging C teamd's error line.
    pub async fn set_port_hwaddr_to_team_logged(&mut self, ifindex: u32) -> KResult {
        self.set_port_hwaddr_to_team(ifindex)
            .await
            .inspect_err(|_| {
                log::err(&format!(
                    "{}: Failed to set port hardware address.",
                    self.kernel.ifname(ifindex)
                ))
            })
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
}
