// SPDX-License-Identifier: GPL-2.0-only
//! `team-driver-logic`: the kernel module's pure logic (`kmod/driver/logic/`),
//! compiled as an ordinary no_std crate so it is unit-tested without a kernel.
//! The files are shared, not copied: the module includes the same paths.

#![cfg_attr(not(test), no_std)]

#[path = "../../driver/logic/mod.rs"]
pub mod logic;
