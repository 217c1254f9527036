// SPDX-License-Identifier: GPL-2.0-only
//! team_rs: the Linux team network driver in Rust. Registers the `team`
//! rtnl link kind and the `team` generic netlink family with team.ko's
//! commands, attributes, multicast group and option set; all five modes are
//! built in. `unsafe` lives only in `sys` (the bindings layer).

// Items are `pub` for the modules of this crate; the crate exports nothing.
#![allow(unreachable_pub)]

use kernel::prelude::*;

// Shared with the userspace test crate, which uses all of it.
#[allow(dead_code, unreachable_pub)]
#[path = "logic/mod.rs"]
mod logic;

mod genl;
mod rx;
mod sys;
mod team;
mod tx;

module! {
    type: TeamRs,
    name: "team_rs",
    author: "rteam",
    description: "Network team driver (Rust)",
    license: "GPL",
}

struct TeamRs;

impl kernel::Module for TeamRs {
    fn init(module: &'static ThisModule) -> Result<Self> {
        sys::register(module).map_err(Error::from_errno)?;
        pr_info!("loaded (roundrobin, activebackup, broadcast, random, loadbalance)\n");
        Ok(TeamRs)
    }
}

impl Drop for TeamRs {
    fn drop(&mut self) {
        sys::unregister();
        // The last snapshots' frees are queued with call_rcu: run them while
        // their code is still loaded.
        sys::rcu_barrier();
    }
}
