// SPDX-License-Identifier: GPL-2.0-only
//! Receive filters on a team (a child of `sys`), as team.ko keeps them:
//! the team's secondary unicast and multicast address lists are copied to
//! every port while the team is up, and the team's promiscuous and
//! all-multicast states are counted on every port. Without this a port whose
//! NIC filters in hardware drops what only the team asked for: a multicast
//! group joined on the team, a macvlan's MAC, a bridge's promiscuity.

use core::ffi::c_int;

use super::features::lowers;
use super::{errno_result, raw, Dev};

const IFF_PROMISC: u32 = raw::net_device_flags_IFF_PROMISC;
const IFF_ALLMULTI: u32 = raw::net_device_flags_IFF_ALLMULTI;

/// `ndo_change_rx_flags` (RTNL held): the team entered or left promiscuous
/// or all-multicast mode, and every port's count follows.
pub(super) unsafe extern "C" fn change_rx_flags(dev: *mut raw::net_device, change: c_int) {
    let Some(team) = Dev::from_raw(dev) else {
        return;
    };
    let change = change as u32;
    let flags = team.flags();
    let step = |flag: u32| if flags & flag != 0 { 1 } else { -1 };
    for port in lowers(team) {
        // A port refusing a level change is left as it is, as team.ko does:
        // this callback has no way to report it.
        if change & IFF_PROMISC != 0 {
            // SAFETY: a live port, RTNL held.
            unsafe { raw::dev_set_promiscuity(port.as_ptr(), step(IFF_PROMISC)) };
        }
        if change & IFF_ALLMULTI != 0 {
            // SAFETY: as above.
            unsafe { raw::dev_set_allmulti(port.as_ptr(), step(IFF_ALLMULTI)) };
        }
    }
}

/// `ndo_set_rx_mode`: the core calls it with the team's address lock held
/// and BH off, not always under RTNL (a multicast join need not take it),
/// so the ports come from the fast-path snapshot, read under RCU.
pub(super) unsafe extern "C" fn set_rx_mode(dev: *mut raw::net_device) {
    let Some(team) = Dev::from_raw(dev) else {
        return;
    };
    let _rcu = super::rcu::ReadSection::enter();
    let Some(set) = team.private().fast.set.read() else {
        return;
    };
    for p in set.ports.iter() {
        // SAFETY: ports in a published snapshot stay registered until a
        // grace period after they leave it (port_del publishes first); the
        // team's address lock is held by our caller.
        unsafe { raw::rteam_addr_lists_sync_locked(p.dev.as_ptr(), team.as_ptr()) };
    }
}

/// A joining port takes the team's promiscuous and all-multicast levels and,
/// if the team is up, its address lists (RTNL held). On failure nothing of
/// this is left on the port.
pub fn port_join(port: Dev, team: Dev) -> Result<(), c_int> {
    let flags = team.flags();
    if flags & IFF_PROMISC != 0 {
        // SAFETY: both devices live, RTNL held.
        errno_result(unsafe { raw::dev_set_promiscuity(port.as_ptr(), 1) })?;
    }
    if flags & IFF_ALLMULTI != 0 {
        // SAFETY: as above.
        if let Err(e) = errno_result(unsafe { raw::dev_set_allmulti(port.as_ptr(), 1) }) {
            if flags & IFF_PROMISC != 0 {
                // SAFETY: undoes the level taken just above.
                unsafe { raw::dev_set_promiscuity(port.as_ptr(), -1) };
            }
            return Err(e);
        }
    }
    if flags & raw::net_device_flags_IFF_UP != 0 {
        // SAFETY: both live, RTNL held; the helper takes the team's address lock.
        unsafe { raw::rteam_addr_lists_sync(port.as_ptr(), team.as_ptr()) };
    }
    Ok(())
}

/// A leaving port gives back what `port_join` and later changes gave it
/// (RTNL held).
pub fn port_leave(port: Dev, team: Dev) {
    let flags = team.flags();
    // SAFETY (all three): both devices live, RTNL held; each undoes a level
    // or list entries the team holds on the port while it is a member.
    unsafe {
        if flags & IFF_PROMISC != 0 {
            raw::dev_set_promiscuity(port.as_ptr(), -1);
        }
        if flags & IFF_ALLMULTI != 0 {
            raw::dev_set_allmulti(port.as_ptr(), -1);
        }
        if flags & raw::net_device_flags_IFF_UP != 0 {
            raw::rteam_addr_lists_unsync(port.as_ptr(), team.as_ptr());
        }
    }
}

/// The team goes down (`ndo_stop`, RTNL held): the ports drop the team's
/// address lists; `set_rx_mode` copies them again when it comes up.
pub fn team_stop(team: Dev) {
    for port in lowers(team) {
        // SAFETY: a live port, RTNL held.
        unsafe { raw::rteam_addr_lists_unsync(port.as_ptr(), team.as_ptr()) };
    }
}

/// team.ko's check for a port that cannot carry VLAN-tagged frames: it may
/// not join a team that has VLAN devices on it (RTNL held).
pub fn vlan_conflict(port: Dev, team: Dev) -> bool {
    // SAFETY: both live, RTNL held (vlan_uses_dev reads RTNL-protected state).
    port.vlan_challenged() && unsafe { raw::rteam_vlan_uses_dev(team.as_ptr()) }
}
