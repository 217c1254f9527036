//! The `ethtool` watcher: follows the kernel's view of the port link (carrier,
//! as reported in team port events), optionally after `delay_up`/`delay_down`.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{check_link_up, non_negative_ms, WatchKind};
use crate::kernel::Kernel;
use crate::team::{Ctx, TimerKey};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ethtool {
    pub delay_up: u32,
    pub delay_down: u32,
}

impl Ethtool {
    pub fn from_config(v: &Value) -> Result<Self, String> {
        Ok(Self {
            delay_up: non_negative_ms(v, "delay_up")?.unwrap_or(0),
            delay_down: non_negative_ms(v, "delay_down")?.unwrap_or(0),
        })
    }

    pub fn state(&self, m: &mut Map<String, Value>) {
        m.insert("delay_up".into(), json!(self.delay_up));
        m.insert("delay_down".into(), json!(self.delay_down));
    }
}

fn kernel_link_up<K: Kernel>(ctx: &Ctx<K>, ifindex: u32) -> bool {
    ctx.kernel
        .kernel_port(ifindex)
        .map(|p| p.linkup)
        .unwrap_or(false)
}

/// A kernel port event for `ifindex`: any pending delay is void; a differing
/// link state is taken now or after the delay. Returns whether a watcher changed.
pub fn on_port_changed<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32) -> bool {
    let link_up = kernel_link_up(ctx, ifindex);
    let watches: Vec<(u32, bool, Ethtool)> = match ctx.port(ifindex) {
        Some(p) => p
            .watches
            .iter()
            .filter_map(|w| match &w.kind {
                WatchKind::Ethtool(e) => Some((w.id, w.up, e.clone())),
                _ => None,
            })
            .collect(),
        None => return false,
    };
    let mut changed = false;
    for (id, up, cfg) in watches {
        let key = TimerKey::EthtoolDelay { ifindex, watch: id };
        ctx.timers.cancel(key);
        if up == link_up {
            continue;
        }
        let delay = if link_up {
            cfg.delay_up
        } else {
            cfg.delay_down
        };
        if delay > 0 {
            ctx.timers.arm(key, Duration::from_millis(delay.into()));
        } else {
            changed |= check_link_up(ctx, ifindex, id, link_up);
        }
    }
    changed
}

/// The delay elapsed: take whatever the kernel says now.
pub fn on_delay_expired<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch: u32) -> bool {
    let link_up = kernel_link_up(ctx, ifindex);
    check_link_up(ctx, ifindex, watch, link_up)
}
