// SPDX-License-Identifier: GPL-2.0-only
//! Pure, allocation-free logic of the Rust team driver: netlink attribute
//! encoding, the option set, port reports and mode port selection. Built
//! into the kernel module and, unchanged, into the `team-driver-logic`
//! userspace crate for unit tests.

#[path = "../../team-nl/src/consts.rs"]
pub mod abi;
pub mod errno;
pub mod instances;
pub mod message;
pub mod modes;
pub mod nla;
pub mod options;
pub mod ports;
