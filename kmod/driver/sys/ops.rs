// SPDX-License-Identifier: GPL-2.0-only
//! Static ops tables and trampolines (a child of `sys`): the team
//! device's private area (`Private`, borrowed through `with_team`), the
//! netdev, rtnl link and genl family tables and the netdevice notifier,
//! `register`/`unregister`, and the `extern "C"` functions the kernel calls
//! through them (setup, newlink, validate, `ndo_*`, the ports' rx handler,
//! the notifier).

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::ptr::{addr_of, addr_of_mut, null_mut, NonNull};

use super::genl_msg::genl_doit;
use super::{errno_result, features, raw, rx_mode, vlan, Dev, ExtAck, RxFrame, Skb};
use crate::logic::errno::Errno;

/// `IFLA_ADDRESS` (uapi/linux/if_link.h).
const IFLA_ADDRESS: usize = 1;

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
pub(super) fn with_team<R>(
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

pub(super) fn rtnl_held<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: genl doit runs in process context without RTNL.
    unsafe { raw::rtnl_lock() };
    let r = f();
    // SAFETY: locked above.
    unsafe { raw::rtnl_unlock() };
    r
}

// ---------------------------------------------------------------------------
// Static tables and trampolines

/// Netlink attribute count of the team family policy.
const TEAM_ATTR_MAX: u32 = 3;

pub(super) static TEAM_NETDEV_OPS: raw::net_device_ops = raw::net_device_ops {
    ndo_init: Some(ndo_init),
    ndo_uninit: Some(ndo_uninit),
    ndo_open: Some(ndo_open),
    ndo_stop: Some(ndo_stop),
    ndo_start_xmit: Some(ndo_start_xmit),
    ndo_select_queue: Some(ndo_select_queue),
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
    ndo_change_rx_flags: Some(rx_mode::change_rx_flags),
    ndo_set_rx_mode: Some(rx_mode::set_rx_mode),
    #[cfg(CONFIG_NET_POLL_CONTROLLER)]
    ndo_poll_controller: Some(ndo_poll_controller),
    #[cfg(CONFIG_NET_POLL_CONTROLLER)]
    ndo_netpoll_setup: Some(ndo_netpoll_setup),
    #[cfg(CONFIG_NET_POLL_CONTROLLER)]
    ndo_netpoll_cleanup: Some(ndo_netpoll_cleanup),
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
pub(super) static mut FAMILY: raw::genl_family = unsafe { core::mem::zeroed() };

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
    status(with_team(d, |t| t.init()))
}

unsafe extern "C" fn ndo_uninit(dev: *mut raw::net_device) {
    let d = dev_of(dev);
    let _ = with_team(d, |t| {
        t.uninit(&d.private().fast);
        Ok(())
    });
}

/// A team work item's run (helpers.c's work function, RTNL held).
#[no_mangle]
unsafe extern "C" fn rteam_team_work(dev: *mut raw::net_device, kind: core::ffi::c_uint) {
    let d = dev_of(dev);
    let Some(kind) = super::WorkKind::from_raw(kind) else {
        return;
    };
    let _ = with_team(d, |t| {
        t.run_work(kind);
        Ok(())
    });
}

unsafe extern "C" fn ndo_open(_dev: *mut raw::net_device) -> c_int {
    0
}

unsafe extern "C" fn ndo_stop(dev: *mut raw::net_device) -> c_int {
    rx_mode::team_stop(dev_of(dev));
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

/// The team's tx queue, chosen as team.ko chooses it (the recorded rx queue
/// or 0): the team has no qdisc (IFF_NO_QUEUE), so the stack's default,
/// a flow hash per frame, would buy nothing.
unsafe extern "C" fn ndo_select_queue(
    dev: *mut raw::net_device,
    skb: *mut raw::sk_buff,
    _sb_dev: *mut raw::net_device,
) -> u16 {
    let n = dev_of(dev).real_tx_queues();
    // Borrowed for the call: `pick_queue` neither frees nor keeps it.
    NonNull::new(skb).map_or(0, |s| Skb(s).pick_queue(n))
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

/// Nothing to poll: the team has no rx or tx rings of its own (team.ko's is
/// empty too); the ports' netpolls poll the ports.
#[cfg(CONFIG_NET_POLL_CONTROLLER)]
unsafe extern "C" fn ndo_poll_controller(_dev: *mut raw::net_device) {}

/// The first netpoll user on the team (netconsole, under RTNL).
#[cfg(CONFIG_NET_POLL_CONTROLLER)]
unsafe extern "C" fn ndo_netpoll_setup(
    dev: *mut raw::net_device,
    _info: *mut raw::netpoll_info,
) -> c_int {
    let d = dev_of(dev);
    status(with_team(d, |t| t.netpoll_setup(&d.private().fast)))
}

/// The last netpoll user on the team is gone (RTNL held).
#[cfg(CONFIG_NET_POLL_CONTROLLER)]
unsafe extern "C" fn ndo_netpoll_cleanup(dev: *mut raw::net_device) {
    let d = dev_of(dev);
    let done = with_team(d, |t| {
        t.netpoll_cleanup(&d.private().fast);
        Ok(())
    });
    if done.is_err() {
        // Only reachable if the team's own control path ended netpoll on
        // itself; the ports' netpolls then stay until they leave the team.
        kernel::pr_warn!(
            "{}: netpoll cleanup re-entered; ports keep theirs\n",
            d.name()
        );
    }
}

/// The rx handler of every port (exported so helpers.c can recognise it).
#[no_mangle]
pub unsafe extern "C" fn rteam_handle_frame(
    pskb: *mut *mut raw::sk_buff,
) -> raw::rx_handler_result_t {
    // SAFETY: the core passes a valid skb pointer slot; skb_share_check may
    // replace the skb, which we write back.
    let skb = unsafe {
        let skb = super::skb::skb_share_check(*pskb);
        if skb.is_null() {
            return raw::rx_handler_result_RX_HANDLER_CONSUMED;
        }
        *pskb = skb;
        skb
    };
    // SAFETY: skb is valid; its dev is the port, whose rx_handler_data is the
    // team device (set in attach_to), stable for this RCU read section.
    let (port, team) = unsafe {
        let port = super::skb::skb_dev(skb);
        let team = super::rcu::rcu_load(addr_of!((*port).rx_handler_data) as *const *mut c_void);
        (dev_of(port), team as *mut raw::net_device)
    };
    let Some(team_dev) = Dev::from_raw(team) else {
        return raw::rx_handler_result_RX_HANDLER_PASS;
    };
    let frame = RxFrame(NonNull::new(skb).unwrap_or(NonNull::dangling()));
    // The team's counters as team.ko keeps them (its per-CPU stats are the
    // core's TSTATS, its nohandler count the core's). A frame passed back to
    // the port is not the team's, and team.ko counts nothing for it.
    match crate::rx::receive(&team_dev.private().fast, port, &frame) {
        crate::rx::Verdict::Pass => raw::rx_handler_result_RX_HANDLER_PASS,
        crate::rx::Verdict::Exact => {
            // SAFETY: the team device is live for this RCU read section.
            unsafe { raw::rteam_rx_nohandler(team) };
            raw::rx_handler_result_RX_HANDLER_EXACT
        }
        crate::rx::Verdict::Another => {
            // SAFETY: we own the (unshared) skb in the handler, and the team
            // device is live.
            unsafe {
                raw::rteam_rx_stats(team, skb);
                super::skb::skb_set_dev(skb, team);
            }
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
