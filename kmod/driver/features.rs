// SPDX-License-Identifier: GPL-2.0-only
//! Offload features and size limits of a team, derived from its ports
//! (a child of `sys`: the raw calls it makes are the bindings layer's).
//!
//! What the team advertises follows team.ko's rules:
//! - `features` (what `ethtool -k` shows) is settled by the core through
//!   `ndo_fix_features`: the wanted set is folded over every port with the
//!   core's increment rule (one port is enough for some bits, all ports must
//!   have the others), then TSO is offered so segmentation happens as late
//!   as possible.
//! - `vlan_features`, `hw_enc_features` and `mpls_features` (what devices
//!   stacked on the team inherit) are folded the same way on every port add
//!   and removal and when a port reports NETDEV_FEAT_CHANGE.
//! - the team releases a frame's dst early only if every port does, and its
//!   header length is the largest of the ports'.
//!
//! Beyond team.ko: `features` are settled again on every port add and
//! removal too, head and tail room are the largest the ports ask for, MPLS
//! features are folded like the others, and the TSO limits (`tso_max_size`, `tso_max_segs`) are
//! the smallest of the ports', so a stacked sender never builds a GSO frame
//! some port cannot take; GSO limits are lowered to the ports' smallest too
//! (never raised, so a lower limit set by the user stays).
//!
//! Ports are read from the device's lower list (RTNL), not from the team's
//! control state: `ndo_fix_features` runs inside feature updates the team
//! itself starts, while that state is borrowed.

use core::ptr::null_mut;

use super::{raw, Dev};

/// Smallest Ethernet header length (ETH_HLEN).
const ETH_HEADER: u16 = 14;
/// TSO limits of a fresh device (TSO_LEGACY_MAX_SIZE, TSO_MAX_SEGS).
const TSO_FRESH_SIZE: u32 = 65536;
const TSO_FRESH_SEGS: u32 = u16::MAX as u32;

type Features = u64;

fn masks() -> (Features, Features, Features) {
    // SAFETY: constants defined in helpers.c, never written.
    unsafe {
        (
            raw::rteam_vlan_mask,
            raw::rteam_enc_mask,
            raw::rteam_mpls_mask,
        )
    }
}

/// The start of a fold: bits any single port may grant are cleared, bits
/// every port must keep are set (netdev_base_features).
fn base(f: Features) -> Features {
    // SAFETY: constants defined in helpers.c, never written.
    let (one, all) = unsafe { (raw::rteam_one_for_all, raw::rteam_all_for_all) };
    (f & !one) | all
}

/// Folds one port's features into `acc`, limited to `mask`.
fn fold(acc: Features, port: Features, mask: Features) -> Features {
    // SAFETY: pure function of its arguments.
    unsafe { raw::netdev_increment_features(acc, port, mask) }
}

/// The lower devices (ports) of `team`. Caller holds RTNL, which keeps the
/// lower list unchanged while the walk runs (it does not outlive the caller).
pub(super) fn lowers(team: Dev) -> impl Iterator<Item = Dev> {
    let mut iter: *mut raw::list_head = null_mut();
    core::iter::from_fn(move || {
        // SAFETY: RTNL held (see above); `iter` is the walk's cursor, NULL
        // to start, and only this walk moves it.
        Dev::from_raw(unsafe { raw::rteam_next_lower(team.as_ptr(), &mut iter) })
    })
}

/// Calls `f` with the offload state of every port of `team` (RTNL held).
fn for_each_port(team: Dev, mut f: impl FnMut(&raw::rteam_caps)) {
    for port in lowers(team) {
        let mut caps = raw::rteam_caps::default();
        // SAFETY: a live lower device (RTNL held); `caps` is a local.
        unsafe { raw::rteam_read_caps(port.as_ptr(), &mut caps) };
        f(&caps);
    }
}

/// Recomputes what stacked devices inherit and the size limits (team.ko's
/// part on a port add or removal).
fn compute(team: Dev) {
    let (vlan_mask, enc_mask, mpls_mask) = masks();
    let (mut vlan, mut enc, mut mpls) = (vlan_mask, enc_mask, mpls_mask);
    let mut dst_release = true;
    let mut any = false;
    let (mut hlen, mut head, mut tail) = (ETH_HEADER, 0u16, 0u16);
    let (mut tso_size, mut tso_segs) = (u32::MAX, TSO_FRESH_SEGS);
    let (mut gso_size, mut gso4_size, mut gso_segs) = (u32::MAX, u32::MAX, u32::MAX);
    for_each_port(team, |c| {
        if !any {
            any = true;
            vlan = base(vlan);
            enc = base(enc);
            mpls = base(mpls);
        }
        vlan = fold(vlan, c.vlan, vlan_mask);
        enc = fold(enc, c.enc, enc_mask);
        mpls = fold(mpls, c.mpls, mpls_mask);
        dst_release &= c.dst_release;
        hlen = hlen.max(c.hard_header_len);
        head = head.max(c.needed_headroom);
        tail = tail.max(c.needed_tailroom);
        tso_size = tso_size.min(c.tso_max_size);
        tso_segs = tso_segs.min(c.tso_max_segs);
        gso_size = gso_size.min(c.gso_max_size);
        gso4_size = gso4_size.min(c.gso_ipv4_max_size);
        gso_segs = gso_segs.min(c.gso_max_segs);
    });
    if !any {
        // No port: the limits of a fresh device, as team.ko shows them.
        tso_size = TSO_FRESH_SIZE;
    }
    // SAFETY: constant defined in helpers.c, never written.
    let enc_always = unsafe { raw::rteam_enc_always };
    let d = team.as_ptr();
    // SAFETY: live team device, RTNL held (every caller is a control path).
    unsafe {
        raw::rteam_write_masks(d, vlan, enc | enc_always, mpls, any && dst_release);
        raw::rteam_write_room(d, hlen, head, tail);
        raw::netif_set_tso_max_segs(d, tso_segs);
        raw::netif_set_tso_max_size(d, tso_size);
        if any {
            raw::rteam_lower_gso(d, gso_size, gso4_size, gso_segs.min(u16::MAX as u32) as u16);
        }
    }
}

/// The ports changed (one added or removed, or its offloads changed:
/// NETDEV_FEAT_CHANGE): recompute, then let the core settle `features`
/// again (which calls `ndo_fix_features` and tells the stack). team.ko
/// asks for that itself only on NETDEV_FEAT_CHANGE; asking on every change
/// keeps `ethtool -k` true to the ports at once. Not while the team itself
/// is being unregistered.
pub fn update(team: Dev) {
    compute(team);
    // SAFETY: live team device, RTNL held.
    unsafe {
        if raw::rteam_dev_registered(team.as_ptr()) {
            raw::netdev_change_features(team.as_ptr());
        }
    }
}

/// `ndo_fix_features`: the wanted set narrowed (or widened, for bits one
/// port suffices for) by every port, then TSO offered on top.
pub(super) unsafe extern "C" fn ndo_fix_features(
    dev: *mut raw::net_device,
    wanted: raw::netdev_features_t,
) -> raw::netdev_features_t {
    let Some(team) = Dev::from_raw(dev) else {
        return wanted;
    };
    let mut f = base(wanted);
    for_each_port(team, |c| f = fold(f, c.features, wanted));
    // SAFETY: constants defined in helpers.c, never written.
    let tso = unsafe { raw::rteam_all_tso | raw::rteam_all_for_all };
    fold(f, tso, wanted)
}
