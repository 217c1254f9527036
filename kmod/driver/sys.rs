// SPDX-License-Identifier: GPL-2.0-only
//! The bindings layer: the only module with `unsafe`. It includes the
//! bindgen output, wraps kernel objects in small handle types whose methods
//! are safe to call from the driver's control and fast paths, and holds the
//! static ops tables with the `extern "C"` trampolines the kernel calls.
//!
//! Handles (`Dev`, `Skb`) are plain pointers: a `Dev` is only created from a
//! device the kernel handed to a callback or that the team holds as a port
//! (ports are released before their device can go away: the netdevice
//! notifier removes them on NETDEV_UNREGISTER under RTNL); an `Skb` is owned
//! by whoever holds it and is consumed by `xmit`/`free`.
//!
//! The layer is split by what it holds; every child reaches the bindings
//! through `super::raw`, and the driver uses the items re-exported here:
//! - `dev`: device handles (`Dev`, `DevName`, `ExtAck`, `DevRef`);
//! - `skb`: socket buffers and BPF programs (`Skb`, `BpfProg`/`BpfRef`,
//!   `RxFrame`);
//! - `rcu`: `RcuBox`/`RcuNode` and small helpers (`synchronize_rcu`,
//!   `rcu_barrier`, `random_u32`, `kvec_remove`);
//! - `lb_stats`: per-CPU counters and delayed work (`Pcpu`, `PcpuRef`,
//!   `TeamWork`, `WorkKind`);
//! - `netpoll`: the ports' netpoll for netconsole on the team (`Netpoll`,
//!   `NetpollRef`);
//! - `genl_msg`: generic netlink messages and requests (`Dest`, `GenlMsg`,
//!   `Request`, the doit trampoline, `send_noop`);
//! - `ops`: the team's private area, the static ops tables with
//!   `register`/`unregister`, and the `extern "C"` trampolines;
//! - `features`, `vlan`, `rx_mode`: offloads and limits, VLAN ids, receive
//!   filters (address lists, promiscuity) (see their docs).

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    improper_ctypes,
    unnecessary_transmutes,
    clippy::all
)]

use core::ffi::c_int;

#[allow(unsafe_op_in_unsafe_fn, unused_imports)]
mod raw {
    // Blocklisted by the kernel's bindgen_parameters; defined as the
    // kernel's own bindings crate defines them.
    pub type __kernel_size_t = usize;
    pub type __kernel_ssize_t = isize;
    pub type __kernel_ptrdiff_t = isize;
    include!("bindings_generated.rs");
}

#[path = "sys/dev.rs"]
mod dev;
#[path = "features.rs"]
pub mod features;
#[path = "sys/genl_msg.rs"]
mod genl_msg;
#[path = "sys/lb_stats.rs"]
mod lb_stats;
#[path = "sys/netpoll.rs"]
mod netpoll;
#[path = "sys/ops.rs"]
mod ops;
#[path = "sys/rcu.rs"]
mod rcu;
#[path = "rx_mode.rs"]
pub mod rx_mode;
#[path = "sys/skb.rs"]
mod skb;
#[path = "vlan.rs"]
pub mod vlan;

pub use dev::{Dev, DevRef, ExtAck};
pub use genl_msg::{send_noop, Dest, GenlMsg, Request};
pub use lb_stats::{Pcpu, PcpuRef, TeamWork, WorkKind};
pub use netpoll::{Netpoll, NetpollRef};
pub use ops::{register, unregister};
pub use rcu::{kvec_remove, random_u32, rcu_barrier, synchronize_rcu, RcuBox, RcuNode};
pub use skb::{BpfProg, BpfRef, RxFrame, Skb};

/// A kernel return value as a `Result` (negative errno kept as-is).
fn errno_result(ret: c_int) -> Result<(), c_int> {
    if ret < 0 {
        Err(ret)
    } else {
        Ok(())
    }
}

// Netdevice notifier events the team handles (`Team::port_event`).
pub use raw::netdev_cmd_NETDEV_CHANGE as NETDEV_CHANGE;
pub use raw::netdev_cmd_NETDEV_DOWN as NETDEV_DOWN;
pub use raw::netdev_cmd_NETDEV_FEAT_CHANGE as NETDEV_FEAT_CHANGE;
pub use raw::netdev_cmd_NETDEV_PRECHANGEMTU as NETDEV_PRECHANGEMTU;
pub use raw::netdev_cmd_NETDEV_PRE_TYPE_CHANGE as NETDEV_PRE_TYPE_CHANGE;
pub use raw::netdev_cmd_NETDEV_UNREGISTER as NETDEV_UNREGISTER;
pub use raw::netdev_cmd_NETDEV_UP as NETDEV_UP;
