//! The one clock every bench process stamps with: CLOCK_MONOTONIC in nanoseconds, shared
//! by all processes of the guest, so stamps of different processes compare.

use nix::time::{clock_gettime, ClockId};

/// Now, in nanoseconds of CLOCK_MONOTONIC.
pub fn now_ns() -> u64 {
    // CLOCK_MONOTONIC cannot fail on Linux; a zero would only make one sample absurd.
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|t| {
            u64::try_from(t.tv_sec()).unwrap_or(0) * 1_000_000_000
                + u64::try_from(t.tv_nsec()).unwrap_or(0)
        })
        .unwrap_or(0)
}
