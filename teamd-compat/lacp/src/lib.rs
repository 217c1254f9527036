//! IEEE 802.3ad / 802.1AX link aggregation as teamd's `lacp` runner does it,
//! without I/O: the daemon feeds events in and applies the actions out.
//!
//! * [`lacpdu`]: the LACPDU frame, parse and serialise;
//! * [`port`]: one port's LACP state and timing values;
//! * [`select`]: aggregators and the `agg_select_policy` choice;
//! * [`machine`]: the event → action machine tying them together;
//! * [`action`]: what the machine asks the daemon to do;
//! * [`filter`]: the classic BPF filter for the per-port LACP socket;
//! * [`warm`]: the state a warm restart hands from one daemon to the next.
//!
//! Sockets, timers, kernel options and logging belong to the daemon.

#![forbid(unsafe_code)]

pub mod action;
pub mod filter;
pub mod lacpdu;
pub mod machine;
pub mod port;
pub mod select;
pub mod warm;

#[cfg(test)]
mod sim_tests;

pub use action::{Action, LogLevel};
pub use filter::lacp_filter;
pub use lacpdu::{Lacpdu, LacpduError, LacpduInfo};
pub use machine::{Config, Lacp, SelectAggError};
pub use port::{Link, Port, PortConfig, PortState, PortTimer};
pub use select::{Ports, SelectPolicy};
pub use warm::{PortSnapshot, Snapshot};
