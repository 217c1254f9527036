// SPDX-License-Identifier: GPL-2.0-only
//! VLAN ids on a team (a child of `sys`): every VLAN id the stack
//! registers on the team is registered on each port, a new port gets all
//! of the team's ids, a leaving port gives them back. Needed because the
//! team offers VLAN filtering (`rx-vlan-filter`), which the core accepts
//! only from a driver that has these callbacks.

use core::ffi::c_int;

use super::features::lowers;
use super::{raw, Dev};

/// `ndo_vlan_rx_add_vid`: the id on every port, or on none if one refuses.
pub(super) unsafe extern "C" fn add_vid(
    dev: *mut raw::net_device,
    proto: raw::__be16,
    vid: u16,
) -> c_int {
    let Some(team) = Dev::from_raw(dev) else {
        return 0;
    };
    let mut failed = None;
    for port in lowers(team) {
        // SAFETY: a live port, RTNL held (the core calls this under RTNL).
        let r = unsafe { raw::rteam_vlan_vid_add(port.as_ptr(), proto, vid) };
        if r < 0 {
            failed = Some((port, r));
            break;
        }
    }
    let Some((bad, err)) = failed else {
        return 0;
    };
    for port in lowers(team).take_while(|p| *p != bad) {
        // SAFETY: as above; the id was added to this port just before.
        unsafe { raw::rteam_vlan_vid_del(port.as_ptr(), proto, vid) };
    }
    err
}

/// `ndo_vlan_rx_kill_vid`: the id off every port.
pub(super) unsafe extern "C" fn kill_vid(
    dev: *mut raw::net_device,
    proto: raw::__be16,
    vid: u16,
) -> c_int {
    if let Some(team) = Dev::from_raw(dev) {
        for port in lowers(team) {
            // SAFETY: a live port, RTNL held.
            unsafe { raw::rteam_vlan_vid_del(port.as_ptr(), proto, vid) };
        }
    }
    0
}

/// A joining port takes every VLAN id of the team (RTNL held).
pub fn port_join(port: Dev, team: Dev) -> Result<(), c_int> {
    // SAFETY: both devices live, RTNL held.
    super::errno_result(unsafe { raw::rteam_vlan_vids_add_by_dev(port.as_ptr(), team.as_ptr()) })
}

/// A leaving port gives the team's VLAN ids back (RTNL held).
pub fn port_leave(port: Dev, team: Dev) {
    // SAFETY: both devices live, RTNL held.
    unsafe { raw::rteam_vlan_vids_del_by_dev(port.as_ptr(), team.as_ptr()) }
}
