// SPDX-License-Identifier: GPL-2.0-only
//! Transmit: picks the port(s) for a frame from the RCU snapshot; no locks,
//! no allocation beyond broadcast's clones.

use core::sync::atomic::Ordering;

use crate::logic::modes::{self, Mode};
use crate::sys::{self, Skb};
use crate::team::{lb_port_counter, FastPath, FastPort};

/// Sends `skb` per the team's mode; false when it was dropped.
pub fn transmit(fast: &FastPath, skb: Skb) -> bool {
    let Some(set) = fast.set.read() else {
        skb.free();
        return false;
    };
    // Queue override comes first, in every mode, as in team.ko: a frame the
    // stack (a tc skbedit, say) put on a tx queue that a port claims goes
    // out on that port.
    let queue = skb.queue_mapping();
    if queue != 0 {
        if let Some(o) = set.queue_overrides.iter().find(|o| o.queue == queue) {
            return send(skb, set.ports.get(usize::from(o.pos)));
        }
    }
    // loadbalance also gives the frame's bucket, for its statistics.
    let (pick, lb_bucket) = match set.mode {
        None => (None, None),
        Some(Mode::RoundRobin) => {
            let n = fast.counter.fetch_add(1, Ordering::Relaxed);
            (modes::pick_numbered(&set.tx, n, set.en_count), None)
        }
        Some(Mode::Random) => (
            modes::pick_numbered(&set.tx, sys::random_u32(), set.en_count),
            None,
        ),
        Some(Mode::ActiveBackup) => return send(skb, set.active.as_ref()),
        Some(Mode::LoadBalance) => {
            // Without a hash program every frame is bucket 0.
            let hash = modes::fold_hash(set.lb_prog.map_or(0, |p| p.run(&skb)));
            let mapped = match set.lb_map[hash as usize] {
                0 => None,
                pos => Some(pos as usize - 1),
            };
            let pick = modes::lb_pick(&set.tx, hash, set.en_count, set.lb_method, mapped);
            (pick, Some(hash))
        }
        Some(Mode::Broadcast) => return broadcast(set, skb),
    };
    let Some(p) = pick.and_then(|i| set.ports.get(i)) else {
        skb.free();
        return false;
    };
    let Some(bucket) = lb_bucket else {
        return p.xmit(skb);
    };
    // team.ko counts the bytes of frames the port took, per bucket and per
    // port, for teamd's tx balancer.
    let len = u64::from(skb.len());
    let sent = p.xmit(skb);
    if let (true, Some(st)) = (sent, set.lb_stats) {
        st.add(u32::from(bucket), len);
        if let Some(s) = p.lb_slot {
            st.add(lb_port_counter(s), len);
        }
    }
    sent
}

/// Sends `skb` on `port`, or drops it when there is none.
fn send(skb: Skb, port: Option<&FastPort>) -> bool {
    match port {
        Some(p) => p.xmit(skb),
        None => {
            skb.free();
            false
        }
    }
}

/// A clone to every txable port but the last, which gets the original.
fn broadcast(set: &crate::team::TxSet, skb: Skb) -> bool {
    let mut last = None;
    let mut ok = true;
    for (p, t) in set.ports.iter().zip(set.tx.iter()) {
        if !t.txable {
            continue;
        }
        if let Some(prev) = last.replace(p) {
            match skb.clone_skb() {
                Some(c) => ok &= prev.xmit(c),
                None => ok = false,
            }
        }
    }
    match last {
        Some(p) => p.xmit(skb) && ok,
        None => send(skb, None),
    }
}
