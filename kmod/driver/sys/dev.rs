// SPDX-License-Identifier: GPL-2.0-only
//! Device handles (a child of `sys`): `Dev`, a network device the kernel
//! handed to a callback or that the team holds as a port, with its safe
//! methods; `DevName` for log messages; `ExtAck`, a request's extended ack;
//! `DevRef`, a device held by reference until dropped.

use core::ffi::{c_int, c_void};
use core::ptr::{addr_of, addr_of_mut, null_mut, NonNull};

use super::errno_result;
use super::ops::{rteam_handle_frame, Private, TEAM_NETDEV_OPS};
use super::raw;

/// A network device (the team or one of its ports).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Dev(pub(super) NonNull<raw::net_device>);

// SAFETY: a net_device is a kernel object shared between CPUs; the driver
// only touches it through kernel functions that do their own locking, under
// RTNL on the control path or RCU on the fast path.
unsafe impl Send for Dev {}
// SAFETY: as for Send.
unsafe impl Sync for Dev {}

impl Dev {
    pub(super) fn from_raw(p: *mut raw::net_device) -> Option<Dev> {
        NonNull::new(p).map(Dev)
    }

    pub(super) fn as_ptr(self) -> *mut raw::net_device {
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

    /// `dev->flags` (IFF_*).
    pub fn flags(self) -> u32 {
        // SAFETY: live device.
        unsafe { raw::rteam_dev_flags(self.as_ptr()) }
    }

    /// Whether `upper` is stacked on this device (RTNL held).
    pub fn has_upper(self, upper: Dev) -> bool {
        // SAFETY: both live, RTNL held (the adjacency lists are RTNL-protected).
        unsafe { raw::netdev_has_upper_dev(self.as_ptr(), upper.as_ptr()) }
    }

    /// `real_num_tx_queues`.
    pub fn real_tx_queues(self) -> u32 {
        // SAFETY: live device; a plain field (read on every frame, so not
        // through a C helper call).
        unsafe { (*self.as_ptr()).real_num_tx_queues }
    }

    pub fn is_up(self) -> bool {
        self.flags() & raw::net_device_flags_IFF_UP != 0
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

    /// Undoes `attach_to`. netdev_rx_handler_unregister waits a grace
    /// period, so no fast-path reader of a snapshot published before this
    /// call still holds the port when it returns.
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

    pub(super) fn net(self) -> *mut raw::net {
        // SAFETY: live device.
        unsafe { raw::rteam_dev_net(self.as_ptr()) }
    }

    /// The team state in this device's private area. Only for devices
    /// created by our link ops (`is_ours`).
    pub(super) fn private(self) -> &'static Private {
        // SAFETY: our devices' private area holds a `Private` written by
        // `team_setup` before the device is visible; it lives as long as the
        // device, which outlives every callback that receives it.
        // `netdev_priv` is the address of the trailing `priv` array, taken
        // here rather than through a C call on every frame.
        unsafe { &*(core::ptr::addr_of!((*self.as_ptr()).priv_) as *const Private) }
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
pub struct ExtAck(pub(super) *mut raw::netlink_ext_ack);

impl ExtAck {
    /// Sets the message userspace prints with the error.
    pub fn set_msg(&self, msg: &'static core::ffi::CStr) {
        // SAFETY: the pointer is the request's extack or NULL (checked in C);
        // the message is static, as NL_SET_ERR_MSG requires.
        unsafe { raw::rteam_extack_msg(self.0, msg.as_ptr()) }
    }
}

/// Holds the device looked up by ifindex until dropped (dev_put).
pub struct DevRef(pub(super) Dev);

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
