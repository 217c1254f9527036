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

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    improper_ctypes,
    unnecessary_transmutes,
    clippy::all
)]

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::ptr::{addr_of, addr_of_mut, null_mut, NonNull};

use crate::logic::errno::Errno;

#[allow(unsafe_op_in_unsafe_fn, unused_imports)]
mod raw {
    // Blocklisted by the kernel's bindgen_parameters; defined as the
    // kernel's own bindings crate defines them.
    pub type __kernel_size_t = usize;
    pub type __kernel_ssize_t = isize;
    pub type __kernel_ptrdiff_t = isize;
    include!("bindings_generated.rs");
}

#[path = "features.rs"]
pub mod features;
#[path = "vlan.rs"]
pub mod vlan;

/// `IFLA_ADDRESS` (uapi/linux/if_link.h).
const IFLA_ADDRESS: usize = 1;

/// A network device (the team or one of its ports).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Dev(NonNull<raw::net_device>);

// SAFETY: a net_device is a kernel object shared between CPUs; the driver
// only touches it through kernel functions that do their own locking, under
// RTNL on the control path or RCU on the fast path.
unsafe impl Send for Dev {}
// SAFETY: as for Send.
unsafe impl Sync for Dev {}

fn errno_result(ret: c_int) -> Result<(), c_int> {
    if ret < 0 {
        Err(ret)
    } else {
        Ok(())
    }
}

impl Dev {
    fn from_raw(p: *mut raw::net_device) -> Option<Dev> {
        NonNull::new(p).map(Dev)
    }

    fn as_ptr(self) -> *mut raw::net_device {
        self.0.as_ptr()
    }

    pub fn ifindex(self) -> u32 {
        // SAFETY: `self` is a live device (see the module doc).
        unsafe { raw::rteam_ifindex(self.as_ptr()) as u32 }
    }

    /// The interface name (copied: names can change under RTNL).
    pub fn name(self) -> DevName {
        let mut n = [0u8; 16];
        // SAFETY: live device; dev->name is a NUL-terminated IFNAMSIZ array.
        let c = unsafe { core::ffi::CStr::from_ptr(raw::rteam_name(self.as_ptr())) };
        let b = c.to_bytes();
        let len = b.len().min(15);
        n[..len].copy_from_slice(&b[..len]);
        DevName(n, len)
    }

    pub fn mtu(self) -> u32 {
        // SAFETY: live device.
        unsafe { raw::rteam_mtu(self.as_ptr()) }
    }

    pub fn dev_type(self) -> u16 {
        // SAFETY: live device.
        unsafe { raw::rteam_dev_type(self.as_ptr()) }
    }

    pub fn is_up(self) -> bool {
        // SAFETY: live device.
        unsafe { raw::rteam_dev_flags(self.as_ptr()) & raw::net_device_flags_IFF_UP != 0 }
    }

    pub fn is_loopback(self) -> bool {
        // SAFETY: live device.
        unsafe { raw::rteam_is_loopback(self.as_ptr()) }
    }

    pub fn vlan_challenged(self) -> bool {
        // SAFETY: live device.
        unsafe { raw::rteam_vlan_challenged(self.as_ptr()) }
    }

    pub fn oper_up(self) -> bool {
        // SAFETY: live device.
        unsafe { raw::rteam_oper_up(self.as_ptr()) }
    }

    /// Whether the device is a port of any team (ours or team.ko's).
    pub fn is_team_port(self) -> bool {
        // SAFETY: live device.
        unsafe { raw::rteam_is_team_port(self.as_ptr()) }
    }

    /// The team device this port belongs to, if it is one of our ports.
    /// Caller holds RTNL.
    pub fn our_team(self) -> Option<Dev> {
        // SAFETY: live device; RTNL is held by every caller (control path).
        Dev::from_raw(unsafe { raw::rteam_port_team_rtnl(self.as_ptr()) } as *mut raw::net_device)
    }

    pub fn is_ours(self) -> bool {
        // SAFETY: live device; only compares the ops pointer.
        unsafe { raw::rteam_dev_ops(self.as_ptr()) == addr_of!(TEAM_NETDEV_OPS) }
    }

    pub fn addr(self) -> [u8; 6] {
        let mut a = [0u8; 6];
        // SAFETY: live Ethernet-type device: dev_addr holds addr_len (6) bytes.
        let p = unsafe { raw::rteam_dev_addr(self.as_ptr()) };
        // SAFETY: as above, `p` points to at least 6 readable bytes.
        a.copy_from_slice(unsafe { core::slice::from_raw_parts(p, 6) });
        a
    }

    pub fn set_addr(self, addr: &[u8; 6]) -> Result<(), c_int> {
        // SAFETY: live device, RTNL held; `addr` is 6 readable bytes.
        errno_result(unsafe { raw::rteam_set_port_addr(self.as_ptr(), addr.as_ptr()) })
    }

    /// Sets the team's own address (the netdev core validated it).
    pub fn set_own_addr(self, addr: *mut c_void) -> Result<(), c_int> {
        // SAFETY: called from ndo_set_mac_address with the sockaddr the core gave us.
        errno_result(unsafe { raw::eth_mac_addr(self.as_ptr(), addr) })
    }

    pub fn set_mtu(self, mtu: u32) -> Result<(), c_int> {
        // SAFETY: live device, RTNL held.
        errno_result(unsafe { raw::dev_set_mtu(self.as_ptr(), mtu as c_int) })
    }

    /// Stores the MTU the core asked for (ndo_change_mtu on the team).
    pub fn store_mtu(self, mtu: u32) {
        // SAFETY: live device, RTNL held, called from ndo_change_mtu.
        unsafe { raw::rteam_store_mtu(self.as_ptr(), mtu) }
    }

    pub fn open(self) -> Result<(), c_int> {
        // SAFETY: live device, RTNL held; no extack.
        errno_result(unsafe { raw::dev_open(self.as_ptr(), null_mut()) })
    }

    pub fn close(self) {
        // SAFETY: live device, RTNL held.
        unsafe { raw::dev_close(self.as_ptr()) }
    }

    pub fn carrier(self, on: bool) {
        // SAFETY: live device.
        unsafe {
            if on {
                raw::netif_carrier_on(self.as_ptr())
            } else {
                raw::netif_carrier_off(self.as_ptr())
            }
        }
    }

    pub fn set_team_port_flag(self, on: bool) {
        // SAFETY: live device, RTNL held (priv_flags are RTNL-protected).
        unsafe { raw::rteam_set_team_port_flag(self.as_ptr(), on) }
    }

    /// Speed (Mb/s) and duplex as ethtool reports them, 0/0 if unknown.
    pub fn speed_duplex(self) -> (u32, u8) {
        let (mut s, mut d) = (0u32, 0u8);
        // SAFETY: live device, RTNL held; out-pointers are valid locals.
        unsafe { raw::rteam_port_speed(self.as_ptr(), &mut s, &mut d) };
        (s, d)
    }

    /// Hooks the port's receive path to the team (`team` is stored as the
    /// handler's data) and links it as a lower device of `team`.
    pub fn attach_to(self, team: Dev) -> Result<(), c_int> {
        // SAFETY: both devices live, RTNL held; the handler is our static fn.
        errno_result(unsafe {
            raw::netdev_rx_handler_register(
                self.as_ptr(),
                Some(rteam_handle_frame),
                team.as_ptr().cast(),
            )
        })?;
        let mut info: raw::netdev_lag_upper_info = Default::default();
        info.tx_type = raw::netdev_lag_tx_type_NETDEV_LAG_TX_TYPE_UNKNOWN;
        info.hash_type = raw::netdev_lag_hash_NETDEV_LAG_HASH_UNKNOWN;
        // SAFETY: both devices live, RTNL held; `info` outlives the call.
        let r = unsafe {
            raw::netdev_master_upper_dev_link(
                self.as_ptr(),
                team.as_ptr(),
                addr_of_mut!(info).cast(),
                null_mut(),
                null_mut(),
            )
        };
        if r < 0 {
            // SAFETY: registered just above, RTNL held.
            unsafe { raw::netdev_rx_handler_unregister(self.as_ptr()) };
            return Err(r);
        }
        self.set_team_port_flag(true);
        Ok(())
    }

    /// Undoes `attach_to`. Readers may still see the port until the next
    /// RCU grace period; callers wait for one before freeing port state.
    pub fn detach_from(self, team: Dev) {
        self.set_team_port_flag(false);
        // SAFETY: attached by `attach_to`, RTNL held.
        unsafe {
            raw::netdev_upper_dev_unlink(self.as_ptr(), team.as_ptr());
            raw::netdev_rx_handler_unregister(self.as_ptr());
        }
    }

    /// Tells the lower device its LAG state (bonding-style offload hints).
    pub fn lower_state(self, link_up: bool, tx_enabled: bool) {
        let mut info: raw::netdev_lag_lower_state_info = Default::default();
        info.set_link_up(link_up as u8);
        info.set_tx_enabled(tx_enabled as u8);
        // SAFETY: live port device, RTNL held; `info` outlives the call.
        unsafe { raw::netdev_lower_state_changed(self.as_ptr(), addr_of_mut!(info).cast()) };
    }

    pub fn notify_peers(self) {
        // SAFETY: live device, RTNL held.
        unsafe {
            raw::call_netdevice_notifiers(
                raw::netdev_cmd_NETDEV_NOTIFY_PEERS as core::ffi::c_ulong,
                self.as_ptr(),
            )
        };
    }

    pub fn resend_igmp(self) {
        // SAFETY: live device, RTNL held.
        unsafe {
            raw::call_netdevice_notifiers(
                raw::netdev_cmd_NETDEV_RESEND_IGMP as core::ffi::c_ulong,
                self.as_ptr(),
            )
        };
    }

    fn net(self) -> *mut raw::net {
        // SAFETY: live device.
        unsafe { raw::rteam_dev_net(self.as_ptr()) }
    }

    /// The team state in this device's private area. Only for devices
    /// created by our link ops (`is_ours`).
    fn private(self) -> &'static Private {
        // SAFETY: our devices' private area holds a `Private` written by
        // `team_setup` before the device is visible; it lives as long as the
        // device, which outlives every callback that receives it.
        unsafe { &*(raw::rteam_netdev_priv(self.as_ptr()) as *const Private) }
    }
}

/// An interface name for log messages.
pub struct DevName([u8; 16], usize);

impl core::fmt::Display for DevName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &b in &self.0[..self.1] {
            core::fmt::Write::write_char(f, b as char)?;
        }
        Ok(())
    }
}

/// The extended ack of a netlink request (may be absent).
pub struct ExtAck(*mut raw::netlink_ext_ack);

impl ExtAck {
    /// Sets the message userspace prints with the error.
    pub fn set_msg(&self, msg: &'static core::ffi::CStr) {
        // SAFETY: the pointer is the request's extack or NULL (checked in C);
        // the message is static, as NL_SET_ERR_MSG requires.
        unsafe { raw::rteam_extack_msg(self.0, msg.as_ptr()) }
    }
}

/// Holds the device looked up by ifindex until dropped (dev_put).
pub struct DevRef(Dev);

impl DevRef {
    pub fn dev(&self) -> Dev {
        self.0
    }
}

impl Drop for DevRef {
    fn drop(&mut self) {
        // SAFETY: the reference was taken by dev_get_by_index.
        unsafe { raw::rteam_dev_put(self.0.as_ptr()) }
    }
}

/// A socket buffer owned by the caller.
pub struct Skb(NonNull<raw::sk_buff>);

impl Skb {
    pub fn len(&self) -> u32 {
        // SAFETY: we own the skb.
        unsafe { raw::rteam_skb_len(self.0.as_ptr()) }
    }

    pub fn free(self) {
        // SAFETY: we own the skb; it is consumed.
        unsafe { raw::rteam_skb_free(self.0.as_ptr()) }
    }

    pub fn clone_skb(&self) -> Option<Skb> {
        // SAFETY: we own the skb; the clone is a new owned skb or NULL.
        NonNull::new(unsafe { raw::rteam_skb_clone(self.0.as_ptr()) }).map(Skb)
    }

    /// Queues the frame on `port`; the skb is consumed either way.
    pub fn xmit(self, port: Dev) -> bool {
        // SAFETY: we own the skb; `port` is live for this RCU section.
        unsafe { raw::rteam_skb_xmit(self.0.as_ptr(), port.as_ptr()) == 0 }
    }
}

/// A classic BPF program (loadbalance's hash function), destroyed on drop.
pub struct BpfProg(NonNull<raw::bpf_prog>);

/// A borrowed program handle for the fast path; valid while the owning
/// `BpfProg` lives, which the control path guarantees by dropping it only
/// after publishing a snapshot without it (an RCU grace period later).
#[derive(Clone, Copy)]
pub struct BpfRef(NonNull<raw::bpf_prog>);

// SAFETY: a bpf_prog is immutable after creation and may run on any CPU.
unsafe impl Send for BpfProg {}
// SAFETY: as above.
unsafe impl Sync for BpfProg {}
// SAFETY: as above.
unsafe impl Send for BpfRef {}
// SAFETY: as above.
unsafe impl Sync for BpfRef {}

impl BpfProg {
    /// Compiles `insns` (whole 8-byte `sock_filter`s, host order).
    pub fn new(insns: &[u8]) -> Result<BpfProg, c_int> {
        if insns.is_empty() || insns.len() % 8 != 0 || insns.len() / 8 > u16::MAX as usize {
            return Err(Errno::Inval.to_neg());
        }
        let mut fprog = raw::sock_fprog_kern {
            len: (insns.len() / 8) as u16,
            filter: insns.as_ptr() as *mut raw::sock_filter,
        };
        let mut fp: *mut raw::bpf_prog = null_mut();
        // SAFETY: `fprog` describes `insns`, which bpf_prog_create copies
        // (and checks) before returning; `fp` receives a new program.
        errno_result(unsafe { raw::bpf_prog_create(&mut fp, &mut fprog) })?;
        NonNull::new(fp).map(BpfProg).ok_or(Errno::Inval.to_neg())
    }

    pub fn handle(&self) -> BpfRef {
        BpfRef(self.0)
    }
}

impl Drop for BpfProg {
    fn drop(&mut self) {
        // SAFETY: created by bpf_prog_create; no reader holds it any more.
        unsafe { raw::bpf_prog_destroy(self.0.as_ptr()) }
    }
}

impl BpfRef {
    /// Runs the program on an outgoing frame.
    pub fn run(self, skb: &Skb) -> u32 {
        // SAFETY: the program is live (see BpfRef) and the skb is ours.
        unsafe { raw::rteam_bpf_run(self.0.as_ptr(), skb.0.as_ptr()) }
    }
}

/// A received frame seen by the rx handler (borrowed from the stack).
pub struct RxFrame(NonNull<raw::sk_buff>);

impl RxFrame {
    pub fn dest_link_local(&self) -> bool {
        // SAFETY: the rx path hands us a valid skb with a MAC header.
        unsafe { raw::rteam_skb_dest_link_local(self.0.as_ptr()) }
    }

    pub fn is_slow_protocol(&self) -> bool {
        // SAFETY: valid skb.
        unsafe { raw::rteam_skb_is_slow_proto(self.0.as_ptr()) }
    }
}

/// Removes element `i` keeping the order of the rest (6.12's KVec has no
/// `remove`); no allocation.
pub fn kvec_remove<T: Copy>(v: &mut kernel::alloc::KVec<T>, i: usize) -> Option<T> {
    let len = v.len();
    if i >= len {
        return None;
    }
    let item = v[i];
    v.as_mut_slice()[i..].rotate_left(1);
    // SAFETY: the removed element was rotated to the end and is `Copy`, so
    // shortening by one drops nothing and leaves `len - 1` initialised items.
    unsafe { v.set_len(len - 1) };
    Some(item)
}

/// A random number for the random mode.
pub fn random_u32() -> u32 {
    // SAFETY: plain kernel call, any context.
    unsafe { raw::get_random_u32() }
}

pub fn synchronize_rcu() {
    // SAFETY: process context (control path, RTNL held is fine).
    unsafe { raw::synchronize_rcu() }
}

/// An RCU-published pointer to a boxed `T`: readers (fast path, inside the
/// RCU read section the core holds for xmit/rx) load it without locks; the
/// writer (RTNL) swaps in a new box and frees the old after a grace period.
pub struct RcuBox<T> {
    slot: UnsafeCell<*mut T>,
}

// SAFETY: access to the slot goes through rcu_dereference/rcu_assign_pointer.
unsafe impl<T: Sync> Sync for RcuBox<T> {}

impl<T> RcuBox<T> {
    pub const fn new() -> Self {
        RcuBox {
            slot: UnsafeCell::new(null_mut()),
        }
    }

    /// Reader side; caller is inside an RCU read section (xmit/rx).
    pub fn read(&self) -> Option<&T> {
        // SAFETY: rcu_dereference of our slot; the pointee is freed only
        // after a grace period, which cannot end while the caller's read
        // section lasts (xmit and rx handlers run under rcu_read_lock).
        unsafe {
            let p = raw::rteam_rcu_load(self.slot.get() as *const *mut c_void) as *const T;
            p.as_ref()
        }
    }

    /// Writer side (RTNL held): publishes `new`, waits a grace period and
    /// drops the previous value.
    pub fn replace(&self, new: Option<kernel::alloc::KBox<T>>) {
        let newp = new.map_or(null_mut(), kernel::alloc::KBox::into_raw);
        // SAFETY: writers are serialised by RTNL; the old pointer came from
        // KBox::into_raw and is reclaimed once no reader can hold it.
        unsafe {
            let old = *self.slot.get();
            raw::rteam_rcu_store(self.slot.get() as *mut *mut c_void, newp.cast());
            if !old.is_null() {
                raw::synchronize_rcu();
                drop(kernel::alloc::KBox::from_raw(old));
            }
        }
    }
}

/// The private area of a team device: the RCU-read fast-path view and the
/// RTNL-owned control state.
pub struct Private {
    pub fast: crate::team::FastPath,
    ctl: UnsafeCell<crate::team::Team>,
    /// Set while `ctl` is borrowed: the team's own calls into the stack
    /// (MTU, address, lower state of a port) raise netdevice events on its
    /// ports synchronously, and those must not borrow `ctl` again.
    busy: core::cell::Cell<bool>,
}

/// Runs `f` on the team's control state, or returns None when the state is
/// already borrowed further up this call chain. Callers hold RTNL, which
/// serialises every control path (link ops, ndo calls, notifier, genl), so
/// `busy` is only ever touched by one thread at a time.
fn try_with_team<R>(dev: Dev, f: impl FnOnce(&mut crate::team::Team) -> R) -> Option<R> {
    let private = dev.private();
    if private.busy.replace(true) {
        return None;
    }
    // SAFETY: RTNL is held and `busy` was clear, so no other reference to
    // the control state exists until `busy` is cleared below.
    let r = f(unsafe { &mut *private.ctl.get() });
    private.busy.set(false);
    Some(r)
}

/// `try_with_team` for callers that cannot be re-entered; a re-entry
/// would be a bug, answered with EBUSY rather than aliasing the state.
fn with_team<R>(
    dev: Dev,
    f: impl FnOnce(&mut crate::team::Team) -> Result<R, c_int>,
) -> Result<R, c_int> {
    try_with_team(dev, f).unwrap_or(Err(Errno::Busy.to_neg()))
}

fn status(r: Result<(), c_int>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e,
    }
}

fn rtnl_held<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: genl doit runs in process context without RTNL.
    unsafe { raw::rtnl_lock() };
    let r = f();
    // SAFETY: locked above.
    unsafe { raw::rtnl_unlock() };
    r
}

// ---------------------------------------------------------------------------
// Generic netlink messages

/// Where a message goes.
#[derive(Clone, Copy)]
pub enum Dest {
    Unicast { portid: u32, seq: u32 },
    Multicast,
}

/// A genl message being built; attributes are written in place.
pub struct GenlMsg {
    skb: NonNull<raw::sk_buff>,
    hdr: *mut c_void,
}

impl GenlMsg {
    pub fn new(dest: Dest, cmd: u8) -> Result<GenlMsg, Errno> {
        // SAFETY: process context allocation.
        let skb = NonNull::new(unsafe { raw::rteam_genlmsg_new() }).ok_or(Errno::NoMem)?;
        let (portid, seq, flags) = match dest {
            Dest::Unicast { portid, seq } => (portid, seq, raw::NLM_F_ACK as c_int),
            Dest::Multicast => (0, 0, 0),
        };
        // SAFETY: fresh skb; FAMILY is registered while the module is loaded.
        let hdr = unsafe {
            raw::genlmsg_put(
                skb.as_ptr(),
                portid,
                seq,
                addr_of!(FAMILY),
                flags | raw::NLM_F_MULTI as c_int,
                cmd,
            )
        };
        if hdr.is_null() {
            // SAFETY: we own the fresh skb.
            unsafe { raw::rteam_nlmsg_free(skb.as_ptr()) };
            return Err(Errno::MsgSize);
        }
        Ok(GenlMsg { skb, hdr })
    }

    /// Lets `f` write attributes into the free room; keeps what it wrote.
    pub fn write<R>(&mut self, f: impl FnOnce(&mut crate::logic::nla::AttrWriter<'_>) -> R) -> R {
        let mut room = 0u32;
        // SAFETY: we own the skb; the tail pointer has `room` writable bytes.
        let tail = unsafe { raw::rteam_skb_tail(self.skb.as_ptr(), &mut room) };
        // SAFETY: as above; the slice ends before the reserved DONE room.
        let buf = unsafe { core::slice::from_raw_parts_mut(tail, room as usize) };
        let mut w = crate::logic::nla::AttrWriter::new(buf);
        let r = f(&mut w);
        let used = w.len() as u32;
        // SAFETY: `used` <= room, bytes were written in place.
        unsafe { raw::skb_put(self.skb.as_ptr(), used) };
        r
    }

    /// Closes the message, appends NLMSG_DONE when `last`, and sends it.
    pub fn send(self, team: Dev, dest: Dest, last: bool) -> Result<(), c_int> {
        // From here on the skb is freed or consumed below, not by Drop.
        let this = core::mem::ManuallyDrop::new(self);
        let (skb, hdr) = (this.skb, this.hdr);
        GenlMsg::finish(skb, hdr, team, dest, last)
    }

    fn finish(
        skb: NonNull<raw::sk_buff>,
        hdr: *mut c_void,
        team: Dev,
        dest: Dest,
        last: bool,
    ) -> Result<(), c_int> {
        // SAFETY: we own the skb and hdr came from genlmsg_put on it.
        unsafe { raw::rteam_genlmsg_end(skb.as_ptr(), hdr) };
        if last {
            let (portid, seq, flags) = match dest {
                Dest::Unicast { portid, seq } => (portid, seq, raw::NLM_F_ACK as c_int),
                Dest::Multicast => (0, 0, 0),
            };
            // SAFETY: we own the skb; room for the header was reserved.
            if !unsafe { raw::rteam_nlmsg_done(skb.as_ptr(), portid, seq, flags) } {
                // SAFETY: we own the skb.
                unsafe { raw::rteam_nlmsg_free(skb.as_ptr()) };
                return Err(Errno::MsgSize.to_neg());
            }
        }
        // SAFETY: the skb is consumed by the send in all cases.
        let r = unsafe {
            match dest {
                Dest::Unicast { portid, .. } => {
                    raw::rteam_genl_unicast(team.net(), skb.as_ptr(), portid)
                }
                Dest::Multicast => {
                    raw::rteam_genl_multicast(addr_of!(FAMILY), team.net(), skb.as_ptr())
                }
            }
        };
        errno_result(r)
    }
}

impl Drop for GenlMsg {
    /// A message abandoned before `send` (an encoding error) is freed.
    fn drop(&mut self) {
        // SAFETY: we still own the skb (send() bypasses Drop).
        unsafe { raw::rteam_nlmsg_free(self.skb.as_ptr()) };
    }
}

/// Raw errno kept as-is when it is not one of ours (e.g. ESRCH from a
/// multicast without listeners), so callers can pass it back unchanged.
pub type KResult = Result<(), c_int>;

// ---------------------------------------------------------------------------
// Static tables and trampolines

/// Netlink attribute count of the team family policy.
const TEAM_ATTR_MAX: u32 = 3;

static TEAM_NETDEV_OPS: raw::net_device_ops = raw::net_device_ops {
    ndo_init: Some(ndo_init),
    ndo_uninit: Some(ndo_uninit),
    ndo_open: Some(ndo_open),
    ndo_stop: Some(ndo_stop),
    ndo_start_xmit: Some(ndo_start_xmit),
    ndo_set_mac_address: Some(ndo_set_mac_address),
    ndo_validate_addr: Some(raw::eth_validate_addr),
    ndo_change_mtu: Some(ndo_change_mtu),
    ndo_get_stats64: Some(raw::dev_get_tstats64),
    ndo_add_slave: Some(ndo_add_slave),
    ndo_del_slave: Some(ndo_del_slave),
    ndo_change_carrier: Some(ndo_change_carrier),
    ndo_fix_features: Some(features::ndo_fix_features),
    ndo_vlan_rx_add_vid: Some(vlan::add_vid),
    ndo_vlan_rx_kill_vid: Some(vlan::kill_vid),
    // SAFETY: all other members are optional callbacks or plain data for
    // which all-zero means "not provided".
    ..unsafe { core::mem::zeroed() }
};

static mut LINK_OPS: raw::rtnl_link_ops = raw::rtnl_link_ops {
    kind: c"team".as_ptr(),
    priv_size: core::mem::size_of::<Private>(),
    setup: Some(team_setup),
    newlink: Some(team_newlink),
    validate: Some(team_validate),
    get_num_tx_queues: Some(num_queues),
    get_num_rx_queues: Some(num_queues),
    // SAFETY: zero is the valid initial state of the remaining members
    // (list head set up by rtnl_link_register, optional callbacks).
    ..unsafe { core::mem::zeroed() }
};

const fn genl_name(s: &[u8]) -> [core::ffi::c_char; 16] {
    let mut out = [0 as core::ffi::c_char; 16];
    let mut i = 0;
    while i < s.len() && i < 15 {
        out[i] = s[i] as core::ffi::c_char;
        i += 1;
    }
    out
}

const fn small_op(cmd: u8, admin: bool) -> raw::genl_small_ops {
    // SAFETY: genl_small_ops is plain data and optional callbacks.
    let mut op: raw::genl_small_ops = unsafe { core::mem::zeroed() };
    op.cmd = cmd;
    op.doit = Some(genl_doit);
    op.validate = raw::genl_validate_flags_GENL_DONT_VALIDATE_STRICT as u8;
    if admin {
        op.flags = raw::GENL_ADMIN_PERM as u8;
    }
    op
}

static mut SMALL_OPS: [raw::genl_small_ops; 4] = [
    small_op(crate::logic::abi::CMD_NOOP, false),
    small_op(crate::logic::abi::CMD_OPTIONS_SET, true),
    small_op(crate::logic::abi::CMD_OPTIONS_GET, true),
    small_op(crate::logic::abi::CMD_PORT_LIST_GET, true),
];

static mut MCGRPS: [raw::genl_multicast_group; 1] = [raw::genl_multicast_group {
    name: genl_name(b"change_event"),
    // SAFETY: remaining flags are plain data, zero = none.
    ..unsafe { core::mem::zeroed() }
}];

// SAFETY: genl_family is plain data until genl_register_family fills in the
// private members; zero is its documented initial state.
static mut FAMILY: raw::genl_family = unsafe { core::mem::zeroed() };

static mut NOTIFIER: raw::notifier_block = raw::notifier_block {
    notifier_call: Some(netdev_event),
    next: null_mut(),
    priority: 0,
};

/// Registers the link kind, the genl family and the netdevice notifier.
pub fn register(module: &'static kernel::ThisModule) -> Result<(), c_int> {
    // SAFETY: module init runs once, before any other user of these statics.
    unsafe {
        let fam = &mut *addr_of_mut!(FAMILY);
        fam.name = genl_name(crate::logic::abi::GENL_NAME.as_bytes());
        fam.version = crate::logic::abi::GENL_VERSION as u32;
        fam.maxattr = TEAM_ATTR_MAX;
        fam.policy = raw::rteam_nl_policy.as_ptr();
        fam.set_netnsok(1);
        fam.module = module.as_ptr() as *mut raw::module;
        fam.small_ops = addr_of!(SMALL_OPS) as *const raw::genl_small_ops;
        fam.n_small_ops = 4;
        fam.resv_start_op = crate::logic::abi::CMD_PORT_LIST_GET + 1;
        fam.mcgrps = addr_of!(MCGRPS) as *const raw::genl_multicast_group;
        fam.n_mcgrps = 1;

        errno_result(raw::rtnl_link_register(addr_of_mut!(LINK_OPS)))?;
        if let Err(e) = errno_result(raw::register_netdevice_notifier(addr_of_mut!(NOTIFIER))) {
            raw::rtnl_link_unregister(addr_of_mut!(LINK_OPS));
            return Err(e);
        }
        if let Err(e) = errno_result(raw::genl_register_family(addr_of_mut!(FAMILY))) {
            raw::unregister_netdevice_notifier(addr_of_mut!(NOTIFIER));
            raw::rtnl_link_unregister(addr_of_mut!(LINK_OPS));
            return Err(e);
        }
    }
    Ok(())
}

pub fn unregister() {
    // SAFETY: module exit; registered in `register`. Unregistering the link
    // ops deletes all our devices first, which still send port and option
    // events, so the family goes last.
    unsafe {
        raw::rtnl_link_unregister(addr_of_mut!(LINK_OPS));
        raw::unregister_netdevice_notifier(addr_of_mut!(NOTIFIER));
        raw::genl_unregister_family(addr_of!(FAMILY));
    }
}

unsafe extern "C" fn team_setup(dev: *mut raw::net_device) {
    // SAFETY: the core calls setup on a freshly allocated, zeroed device
    // whose private area has room for `Private` (priv_size).
    unsafe {
        raw::rteam_setup_dev(dev, addr_of!(TEAM_NETDEV_OPS));
        let Some(d) = Dev::from_raw(dev) else { return };
        core::ptr::write(
            raw::rteam_netdev_priv(dev) as *mut Private,
            Private {
                fast: crate::team::FastPath::new(),
                ctl: UnsafeCell::new(crate::team::Team::new(d)),
                busy: core::cell::Cell::new(false),
            },
        );
    }
}

unsafe extern "C" fn team_newlink(
    _net: *mut raw::net,
    dev: *mut raw::net_device,
    tb: *mut *mut raw::nlattr,
    _data: *mut *mut raw::nlattr,
    _extack: *mut raw::netlink_ext_ack,
) -> c_int {
    // SAFETY: tb is the IFLA_* attribute table of this request.
    unsafe {
        if (*tb.add(IFLA_ADDRESS)).is_null() {
            raw::rteam_eth_hw_addr_random(dev);
        }
        raw::register_netdevice(dev)
    }
}

unsafe extern "C" fn team_validate(
    tb: *mut *mut raw::nlattr,
    _data: *mut *mut raw::nlattr,
    _extack: *mut raw::netlink_ext_ack,
) -> c_int {
    // SAFETY: tb is the IFLA_* attribute table of this request.
    unsafe {
        let a = *tb.add(IFLA_ADDRESS);
        if a.is_null() {
            return 0;
        }
        let mut len = 0;
        let data = raw::rteam_nla(a, &mut len);
        if len != 6 {
            return Errno::Inval.to_neg();
        }
        if !crate::team::valid_unicast(core::slice::from_raw_parts(data, 6)) {
            return Errno::AddrNotAvail.to_neg();
        }
    }
    0
}

unsafe extern "C" fn num_queues() -> core::ffi::c_uint {
    16
}

fn dev_of(dev: *mut raw::net_device) -> Dev {
    // The core never passes NULL to ndo callbacks.
    Dev(NonNull::new(dev).unwrap_or(NonNull::dangling()))
}

unsafe extern "C" fn ndo_init(dev: *mut raw::net_device) -> c_int {
    let d = dev_of(dev);
    status(with_team(d, |t| {
        t.init();
        Ok(())
    }))
}

unsafe extern "C" fn ndo_uninit(dev: *mut raw::net_device) {
    let d = dev_of(dev);
    let _ = with_team(d, |t| {
        t.uninit(&d.private().fast);
        Ok(())
    });
}

unsafe extern "C" fn ndo_open(_dev: *mut raw::net_device) -> c_int {
    0
}

unsafe extern "C" fn ndo_stop(_dev: *mut raw::net_device) -> c_int {
    0
}

unsafe extern "C" fn ndo_start_xmit(
    skb: *mut raw::sk_buff,
    dev: *mut raw::net_device,
) -> raw::netdev_tx_t {
    let d = dev_of(dev);
    let Some(skb) = NonNull::new(skb) else {
        return raw::netdev_tx_NETDEV_TX_OK;
    };
    let len = Skb(skb).len();
    if crate::tx::transmit(&d.private().fast, Skb(skb)) {
        // SAFETY: live device, per-CPU stats allocated by the core (TSTATS).
        unsafe { raw::rteam_tx_stats(dev, len) };
    } else {
        // SAFETY: live device.
        unsafe { raw::rteam_tx_dropped(dev) };
    }
    raw::netdev_tx_NETDEV_TX_OK
}

unsafe extern "C" fn ndo_set_mac_address(dev: *mut raw::net_device, addr: *mut c_void) -> c_int {
    let d = dev_of(dev);
    if let Err(e) = d.set_own_addr(addr) {
        return e;
    }
    status(with_team(d, |t| {
        t.team_addr_changed();
        Ok(())
    }))
}

unsafe extern "C" fn ndo_change_mtu(dev: *mut raw::net_device, mtu: c_int) -> c_int {
    let d = dev_of(dev);
    match with_team(d, |t| t.change_mtu(mtu as u32)) {
        Ok(()) => {
            d.store_mtu(mtu as u32);
            0
        }
        Err(e) => e,
    }
}

unsafe extern "C" fn ndo_add_slave(
    dev: *mut raw::net_device,
    port: *mut raw::net_device,
    extack: *mut raw::netlink_ext_ack,
) -> c_int {
    let d = dev_of(dev);
    let p = dev_of(port);
    status(with_team(d, |t| {
        t.port_add(&d.private().fast, p, ExtAck(extack))
    }))
}

unsafe extern "C" fn ndo_del_slave(dev: *mut raw::net_device, port: *mut raw::net_device) -> c_int {
    let d = dev_of(dev);
    let p = dev_of(port);
    status(with_team(d, |t| t.port_del(&d.private().fast, p, false)))
}

unsafe extern "C" fn ndo_change_carrier(dev: *mut raw::net_device, on: bool) -> c_int {
    let d = dev_of(dev);
    status(with_team(d, |t| {
        t.user_carrier(on);
        Ok(())
    }))
}

/// The rx handler of every port (exported so helpers.c can recognise it).
#[no_mangle]
pub unsafe extern "C" fn rteam_handle_frame(
    pskb: *mut *mut raw::sk_buff,
) -> raw::rx_handler_result_t {
    // SAFETY: the core passes a valid skb pointer slot; skb_share_check may
    // replace the skb, which we write back.
    let skb = unsafe {
        let skb = raw::rteam_skb_share_check(*pskb);
        if skb.is_null() {
            return raw::rx_handler_result_RX_HANDLER_CONSUMED;
        }
        *pskb = skb;
        skb
    };
    // SAFETY: skb is valid; its dev is the port, whose rx_handler_data is the
    // team device (set in attach_to), stable for this RCU read section.
    let (port, team) = unsafe {
        let port = raw::rteam_skb_dev(skb);
        let team = raw::rteam_rcu_load(addr_of!((*port).rx_handler_data) as *const *mut c_void);
        (dev_of(port), team as *mut raw::net_device)
    };
    let Some(team_dev) = Dev::from_raw(team) else {
        return raw::rx_handler_result_RX_HANDLER_PASS;
    };
    let frame = RxFrame(NonNull::new(skb).unwrap_or(NonNull::dangling()));
    match crate::rx::receive(&team_dev.private().fast, port, &frame) {
        crate::rx::Verdict::Pass => raw::rx_handler_result_RX_HANDLER_PASS,
        crate::rx::Verdict::Exact => raw::rx_handler_result_RX_HANDLER_EXACT,
        crate::rx::Verdict::Another => {
            // SAFETY: we own the (unshared) skb in the handler.
            unsafe { raw::rteam_skb_set_dev(skb, team) };
            raw::rx_handler_result_RX_HANDLER_ANOTHER
        }
    }
}

unsafe extern "C" fn netdev_event(
    _nb: *mut raw::notifier_block,
    event: core::ffi::c_ulong,
    ptr: *mut c_void,
) -> c_int {
    // SAFETY: netdevice notifiers get a netdev_notifier_info; RTNL is held.
    let dev = dev_of(unsafe { raw::rteam_notifier_dev(ptr) });
    let Some(team) = dev.our_team() else {
        return raw::NOTIFY_DONE as c_int;
    };
    // Events raised by the team's own calls (busy) are the team's doing:
    // an MTU change it makes on its ports is allowed.
    let verdict = try_with_team(team, |t| {
        t.port_event(&team.private().fast, dev, event as u32)
    });
    match verdict {
        Some(crate::team::NotifyVerdict::Bad) => raw::NOTIFY_BAD as c_int,
        _ => raw::NOTIFY_DONE as c_int,
    }
}

pub use raw::netdev_cmd_NETDEV_CHANGE as NETDEV_CHANGE;
pub use raw::netdev_cmd_NETDEV_DOWN as NETDEV_DOWN;
pub use raw::netdev_cmd_NETDEV_FEAT_CHANGE as NETDEV_FEAT_CHANGE;
pub use raw::netdev_cmd_NETDEV_PRECHANGEMTU as NETDEV_PRECHANGEMTU;
pub use raw::netdev_cmd_NETDEV_PRE_TYPE_CHANGE as NETDEV_PRE_TYPE_CHANGE;
pub use raw::netdev_cmd_NETDEV_UNREGISTER as NETDEV_UNREGISTER;
pub use raw::netdev_cmd_NETDEV_UP as NETDEV_UP;

/// One genl request, decoded just enough to route it.
pub struct Request {
    info: *const raw::genl_info,
}

impl Request {
    pub fn dest(&self) -> Dest {
        // SAFETY: info is valid for the doit call.
        unsafe {
            Dest::Unicast {
                portid: raw::rteam_info_portid(self.info),
                seq: raw::rteam_info_seq(self.info),
            }
        }
    }

    /// Payload of a top-level attribute, if present.
    pub fn attr(&self, ty: u16) -> Option<&[u8]> {
        let mut len = 0;
        // SAFETY: the policy bounded attribute types to TEAM_ATTR_MAX; the
        // attribute data lives as long as the request (this doit call).
        unsafe {
            let p = raw::rteam_info_attr(self.info, ty as c_int, &mut len) as *const u8;
            if p.is_null() || len < 0 {
                None
            } else {
                Some(core::slice::from_raw_parts(p, len as usize))
            }
        }
    }

    /// The team device named by TEAM_ATTR_TEAM_IFINDEX, held until dropped.
    pub fn team(&self) -> Option<DevRef> {
        let idx = self.attr(crate::logic::abi::ATTR_TEAM_IFINDEX)?;
        let idx = crate::logic::nla::Attr {
            ty: 0,
            payload: idx,
        }
        .u32()
        .ok()?;
        // SAFETY: info is valid; dev_get_by_index takes a reference or NULL.
        let d = Dev::from_raw(unsafe {
            raw::dev_get_by_index(raw::rteam_info_net(self.info), idx as c_int)
        })?;
        let held = DevRef(d);
        held.dev().is_ours().then_some(held)
    }
}

unsafe extern "C" fn genl_doit(_skb: *mut raw::sk_buff, info: *mut raw::genl_info) -> c_int {
    // SAFETY: info is valid for this call; genlhdr points into the request.
    let cmd = unsafe { (*(*info).genlhdr).cmd };
    let req = Request { info };
    let r = if cmd == crate::logic::abi::CMD_NOOP {
        crate::genl::noop(&req)
    } else {
        let Some(team) = req.team() else {
            return Errno::Inval.to_neg();
        };
        let d = team.dev();
        rtnl_held(|| {
            with_team(d, |t| {
                crate::genl::dispatch(t, &d.private().fast, cmd, &req)
            })
        })
    };
    match r {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// NOOP replies with an empty message to the sender.
pub fn send_noop(req: &Request) -> KResult {
    let Dest::Unicast { portid, seq } = req.dest() else {
        return Ok(());
    };
    // SAFETY: process context.
    let skb = unsafe { raw::rteam_genlmsg_new() };
    if skb.is_null() {
        return Err(Errno::NoMem.to_neg());
    }
    // SAFETY: fresh skb, family registered.
    unsafe {
        let hdr = raw::genlmsg_put(
            skb,
            portid,
            seq,
            addr_of!(FAMILY),
            0,
            crate::logic::abi::CMD_NOOP,
        );
        if hdr.is_null() {
            raw::rteam_nlmsg_free(skb);
            return Err(Errno::MsgSize.to_neg());
        }
        raw::rteam_genlmsg_end(skb, hdr);
        errno_result(raw::rteam_genl_unicast(
            raw::rteam_info_net(req.info),
            skb,
            portid,
        ))
    }
}
