//! `rteam-bench`: measuring rteam's teamd against libteam's C teamd in the same VM boot.
//!
//! The binaries run as processes separate from both daemons: `rteam-bench-monitor` watches
//! the kernel (link and Team netlink events, D-Bus name owners) and prints timestamped
//! events, `rteam-bench-ctl` drives the control interfaces and times each call, and
//! `rteam-bench-report` (on the host) turns the guest's raw files into the report and plots.
//! This library owns the pure parts they share: the event line format, how latencies are
//! paired from events, the statistics, and the report itself.

pub mod clock;
pub mod event;
pub mod latency;
pub mod plot;
pub mod report;
pub mod stats;
