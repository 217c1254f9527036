//! The periodic send/receive base of the probing watches (C teamd's
//! `lw_psr`): one timer per watch, first after `init_wait`, then every
//! `interval`. At each tick the link is up if a reply arrived since the
//! previous tick; otherwise `missed` grows and the link goes down once it
//! exceeds `missed_max`. Then the reply flag is cleared and one probe sent.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{check_link_up, non_negative_ms, WatchKind};
use crate::config::int_of;
use crate::kernel::{KResult, Kernel};
use crate::log;
use crate::team::{Ctx, TimerKey};

pub const DEFAULT_INTERVAL_MS: u32 = 1000;
pub const DEFAULT_MISSED_MAX: u32 = 3;
/// The watch's only timer id.
pub const TICK: u8 = 0;

/// Errors the probe send ignores, as C teamd's `teamd_sendto` does: the
/// port is down or has no address yet, which is what the watch reports.
const IGNORED_SEND_ERRNOS: [i32; 4] = [
    libc::ENETDOWN,
    libc::ENETUNREACH,
    libc::EADDRNOTAVAIL,
    libc::ENXIO,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periodic {
    pub interval_ms: u32,
    /// As configured; 0 means "first tick at once" (C: 1 ns, shown as 0).
    pub init_wait_ms: u32,
    pub missed_max: u32,
    pub missed: u32,
    pub reply_received: bool,
    /// Frames the socket delivered that were malformed or not a reply to
    /// our probe (kept out of the state dump, which C tools parse).
    pub dropped: u64,
}

impl Periodic {
    pub fn from_config(v: &Value) -> Result<Self, String> {
        let interval_ms = non_negative_ms(v, "interval")?.unwrap_or(DEFAULT_INTERVAL_MS);
        log::dbg(1, || format!("interval \"{interval_ms}\"."));
        // C does not check init_wait; a negative one makes its timerfd_settime
        // fail when the watch starts.
        let init_wait_ms = match int_of(v.get("init_wait")) {
            Some(ms) if ms < 0 => {
                log::err("Failed to set timerfd.");
                return Err("Failed add callback timer".into());
            }
            Some(ms) => ms as u32,
            None => 0,
        };
        log::dbg(1, || format!("init_wait \"{init_wait_ms}\"."));
        let missed_max = non_negative_ms(v, "missed_max")?.unwrap_or(DEFAULT_MISSED_MAX);
        log::dbg(1, || format!("missed_max \"{missed_max}\"."));
        Ok(Self {
            interval_ms,
            init_wait_ms,
            missed_max,
            missed: 0,
            reply_received: false,
            dropped: 0,
        })
    }

    pub fn first_tick(&self) -> Duration {
        if self.init_wait_ms == 0 {
            Duration::from_nanos(1)
        } else {
            Duration::from_millis(self.init_wait_ms.into())
        }
    }

    /// None for interval 0: C's timerfd then fires once and never again.
    pub fn period(&self) -> Option<Duration> {
        (self.interval_ms > 0).then(|| Duration::from_millis(self.interval_ms.into()))
    }

    pub fn insert_interval(&self, m: &mut Map<String, Value>) {
        m.insert("interval".into(), json!(self.interval_ms));
        m.insert("init_wait".into(), json!(self.init_wait_ms));
    }

    pub fn insert_missed(&self, m: &mut Map<String, Value>) {
        m.insert("missed_max".into(), json!(self.missed_max));
        m.insert("missed".into(), json!(self.missed));
    }

    /// One tick's verdict from the watch's current state `up`.
    pub fn tick(&mut self, up: bool, ifname: &str) -> bool {
        let mut up = up;
        if self.reply_received {
            up = true;
            self.missed = 0;
        } else {
            self.missed = self.missed.saturating_add(1);
            if self.missed > self.missed_max && up {
                log::dbg(1, || {
                    format!(
                        "{ifname}: Missed {} replies (max {}).",
                        self.missed, self.missed_max
                    )
                });
                up = false;
            }
        }
        self.reply_received = false;
        up
    }
}

fn periodic_mut(kind: &mut WatchKind) -> Option<&mut Periodic> {
    match kind {
        WatchKind::ArpPing(a) => Some(&mut a.periodic),
        WatchKind::NsnaPing(n) => Some(&mut n.periodic),
        WatchKind::Ethtool(_) => None,
    }
}

/// Runs `f` on a probing watch's periodic state.
pub fn with_periodic<K: Kernel, T>(
    ctx: &mut Ctx<K>,
    ifindex: u32,
    watch: u32,
    f: impl FnOnce(&mut Periodic, bool, &str) -> T,
) -> Option<T> {
    let port = ctx.port_mut(ifindex)?;
    let ifname = port.ifname.clone();
    let w = port.watches.iter_mut().find(|w| w.id == watch)?;
    let up = w.up;
    periodic_mut(&mut w.kind).map(|p| f(p, up, &ifname))
}

/// Starts the tick timer of a watch.
pub fn start<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch: u32, periodic: &Periodic) {
    ctx.timers.arm(
        TimerKey::LinkWatch {
            ifindex,
            watch,
            id: TICK,
        },
        periodic.first_tick(),
    );
}

/// The tick: re-arm, decide the link, and say whether it changed. The caller
/// sends the next probe.
pub fn tick<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch: u32) -> bool {
    let Some((up, period)) = with_periodic(ctx, ifindex, watch, |p, up, ifname| {
        (p.tick(up, ifname), p.period())
    }) else {
        return false;
    };
    if let Some(period) = period {
        ctx.timers.rearm_periodic(
            TimerKey::LinkWatch {
                ifindex,
                watch,
                id: TICK,
            },
            period,
        );
    }
    check_link_up(ctx, ifindex, watch, up)
}

/// A reply arrived: the next tick finds the link alive.
pub fn reply_received<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch: u32) {
    with_periodic(ctx, ifindex, watch, |p, _, _| p.reply_received = true);
}

/// A frame that is not a reply to our probe: counted and logged, not trusted.
pub fn dropped<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch: u32, why: &dyn std::fmt::Display) {
    with_periodic(ctx, ifindex, watch, |p, _, ifname| {
        p.dropped = p.dropped.saturating_add(1);
        log::dbg(2, || {
            format!(
                "{ifname}: link_watch_{watch}: ignored frame #{} ({why}).",
                p.dropped
            )
        });
    });
}

/// Whether a port's watches send probes now: C teamd's `forced_send`, true
/// for enabled ports, and for every port while none is enabled (so that a
/// team that lost all ports can find one again).
pub fn forced_send<K: Kernel>(ctx: &Ctx<K>, ifindex: u32) -> bool {
    let enabled = |i: u32| ctx.kernel.port_enabled(i) == Some(true);
    enabled(ifindex) || !ctx.ports.iter().any(|p| enabled(p.ifindex))
}

/// A send result with C teamd's ignored errnos turned into success.
pub fn send_result(r: KResult) -> KResult {
    match r {
        Err(e) if e.errno().is_some_and(|n| IGNORED_SEND_ERRNOS.contains(&n)) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn periodic(missed_max: u32) -> Periodic {
        Periodic::from_config(&json!({"missed_max": missed_max})).unwrap()
    }

    #[test]
    fn defaults_and_validation_messages() {
        let p = Periodic::from_config(&json!({})).unwrap();
        assert_eq!((p.interval_ms, p.init_wait_ms, p.missed_max), (1000, 0, 3));
        assert_eq!(p.first_tick(), Duration::from_nanos(1));
        assert_eq!(
            Periodic::from_config(&json!({"interval": -1})).unwrap_err(),
            "\"interval\" must not be negative number."
        );
        assert_eq!(
            Periodic::from_config(&json!({"missed_max": -2})).unwrap_err(),
            "\"missed_max\" must not be negative number."
        );
        // Wrong types fall back to the defaults, as teamd_config_int_get fails.
        let p = Periodic::from_config(&json!({"interval": "fast", "init_wait": 250})).unwrap();
        assert_eq!(p.interval_ms, 1000);
        assert_eq!(p.first_tick(), Duration::from_millis(250));
        let once = Periodic::from_config(&json!({"interval": 0})).unwrap();
        assert_eq!(once.period(), None);
    }

    #[test]
    fn down_after_more_than_missed_max_silent_ticks() {
        let mut p = periodic(2);
        // A reply makes the next tick say up.
        p.reply_received = true;
        assert!(p.tick(false, "eth1"));
        assert_eq!(p.missed, 0);
        assert!(!p.reply_received);
        // Two silent ticks are tolerated, the third is not.
        assert!(p.tick(true, "eth1"));
        assert!(p.tick(true, "eth1"));
        assert!(!p.tick(true, "eth1"));
        assert_eq!(p.missed, 3);
        // Stays down and keeps counting until a reply.
        assert!(!p.tick(false, "eth1"));
        assert_eq!(p.missed, 4);
        p.reply_received = true;
        assert!(p.tick(false, "eth1"));
        assert_eq!(p.missed, 0);
    }

    #[test]
    fn a_down_link_without_replies_does_not_come_up() {
        let mut p = periodic(0);
        assert!(!p.tick(false, "eth1"));
        assert_eq!(p.missed, 1);
    }
}
