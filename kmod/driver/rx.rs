// SPDX-License-Identifier: GPL-2.0-only
//! Receive: decides, per frame arriving on a port, whether the team device
//! gets it (ANOTHER), only exact-match listeners on the port do (EXACT), or
//! the port keeps it (PASS).

use crate::logic::modes::Mode;
use crate::sys::{Dev, RxFrame};
use crate::team::FastPath;

pub enum Verdict {
    Pass,
    Exact,
    Another,
}

pub fn receive(fast: &FastPath, port: Dev, frame: &RxFrame) -> Verdict {
    let Some(set) = fast.set.read() else {
        return Verdict::Exact;
    };
    let enabled = set
        .ports
        .iter()
        .find(|p| p.dev == port)
        .is_some_and(|p| p.enabled);
    if !enabled {
        // Link-local frames are most useful on the link they came in on.
        if frame.dest_link_local() {
            return Verdict::Pass;
        }
        return Verdict::Exact;
    }
    match set.mode {
        Some(Mode::ActiveBackup) if set.active.map(|p| p.dev) != Some(port) => Verdict::Exact,
        // LACPDUs and markers belong to packet sockets on the port.
        Some(Mode::LoadBalance) if frame.is_slow_protocol() => Verdict::Exact,
        _ => Verdict::Another,
    }
}
