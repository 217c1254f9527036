// SPDX-License-Identifier: GPL-2.0-only
//! Netpoll on the ports (a child of `sys`): when netconsole (or any netpoll
//! user) sets up on the team, every port gets a `struct netpoll` of its own,
//! and frames sent from netpoll context (interrupts off) leave through it
//! instead of the port's qdisc. `Netpoll` owns one; `NetpollRef` is its
//! handle in the fast-path snapshot.

use core::ffi::c_int;
use core::ptr::NonNull;

use super::{raw, Dev};

/// A port's netpoll, set up on that port and freed on drop (RTNL held).
pub struct Netpoll(NonNull<raw::netpoll>);

// SAFETY: the netpoll is only set up and freed under RTNL, from any CPU.
unsafe impl Send for Netpoll {}
// SAFETY: as above; senders only read it.
unsafe impl Sync for Netpoll {}

impl Netpoll {
    /// Sets up netpoll on `port` (RTNL held).
    pub fn setup(port: Dev) -> Result<Netpoll, c_int> {
        let mut err = 0;
        // SAFETY: RTNL is held by every caller (port add, ndo_netpoll_setup);
        // `port` is a live device.
        let np = unsafe { raw::rteam_netpoll_setup(port.as_ptr(), &mut err) };
        NonNull::new(np).map(Netpoll).ok_or(err)
    }

    pub fn handle(&self) -> NetpollRef {
        NetpollRef(self.0)
    }
}

impl Drop for Netpoll {
    fn drop(&mut self) {
        // SAFETY: set up by rteam_netpoll_setup, freed once, under RTNL (the
        // team's control paths). The free waits a grace period before it
        // tears down, so a sender that read the handle from an older
        // snapshot is done; the owner publishes one without it first.
        unsafe { raw::rteam_netpoll_free(self.0.as_ptr()) }
    }
}

/// The fast path's handle of a `Netpoll`; valid while the snapshot holding
/// it is reachable (see `Netpoll`).
#[derive(Clone, Copy)]
pub struct NetpollRef(NonNull<raw::netpoll>);

// SAFETY: see Netpoll.
unsafe impl Send for NetpollRef {}
// SAFETY: see Netpoll.
unsafe impl Sync for NetpollRef {}

impl NetpollRef {
    pub(super) fn as_ptr(self) -> *mut raw::netpoll {
        self.0.as_ptr()
    }
}

impl Dev {
    /// Whether a netpoll user (netconsole) is set up on this device: its
    /// `npinfo` is set (`rcu_access_pointer`, read here as the tx path asks
    /// on every frame).
    #[cfg(CONFIG_NETPOLL)]
    pub fn netpoll_on(self) -> bool {
        // SAFETY: live device; only the pointer's presence is read.
        unsafe { !core::ptr::read_volatile(core::ptr::addr_of!((*self.as_ptr()).npinfo)).is_null() }
    }

    #[cfg(not(CONFIG_NETPOLL))]
    pub fn netpoll_on(self) -> bool {
        false
    }
}
