// SPDX-License-Identifier: GPL-2.0-only
//! Socket buffers and BPF programs (a child of `sys`): `Skb`, a frame the
//! caller owns, as the tx path sends it; `BpfProg`/`BpfRef`, loadbalance's
//! hash program and its fast-path handle; `RxFrame`, a frame the rx
//! handler borrows.

use core::ffi::c_int;
use core::ptr::{addr_of, null_mut, NonNull};

use super::{errno_result, raw, Dev, NetpollRef};
use crate::logic::errno::Errno;

/// A socket buffer owned by the caller.
pub struct Skb(pub(super) NonNull<raw::sk_buff>);

impl Skb {
    // The per-frame reads are plain fields of the bindgen layout, read here
    // rather than through C helpers: each call costs about as much as the
    // read, and the fast path makes several per frame.

    pub fn len(&self) -> u32 {
        // SAFETY: we own the skb.
        unsafe { (*self.0.as_ptr()).len }
    }

    /// The team's tx queue the stack put the frame on.
    pub fn queue_mapping(&self) -> u16 {
        // SAFETY: we own the skb.
        unsafe { (*self.0.as_ptr()).queue_mapping }
    }

    pub fn free(self) {
        // SAFETY: we own the skb; it is consumed.
        unsafe { raw::rteam_skb_free(self.0.as_ptr()) }
    }

    pub fn clone_skb(&self) -> Option<Skb> {
        // SAFETY: we own the skb; the clone is a new owned skb or NULL.
        NonNull::new(unsafe { raw::rteam_skb_clone(self.0.as_ptr()) }).map(Skb)
    }

    /// Queues the frame on `port` (through its netpoll `np` when sent from
    /// netpoll context); the skb is consumed either way.
    pub fn xmit(self, port: Dev, np: Option<NetpollRef>) -> bool {
        let skb = self.0.as_ptr();
        // SAFETY: we own the skb, whose dev is still the team (a live device
        // for this call); `port` and `np` are live for this RCU section (the
        // snapshot that named them is).
        unsafe {
            let netpoll = np.is_some() || Dev::from_raw(skb_dev(skb)).is_some_and(Dev::netpoll_on);
            // the port picks from the mapping the frame came with, not the team's
            (*skb).queue_mapping = (*qdisc_cb(skb)).__bindgen_anon_1.slave_dev_queue_mapping;
            skb_set_dev(skb, port.as_ptr());
            if netpoll {
                // the C side tells netpoll context apart
                let np = np.map_or(null_mut(), NetpollRef::as_ptr);
                return raw::rteam_netpoll_xmit(skb, np) == 0;
            }
            raw::__dev_queue_xmit(skb, null_mut()) == 0
        }
    }

    /// The team's tx queue for the frame (of `n`), as team.ko picks it: the
    /// rx queue it was recorded with, or 0. The frame's own mapping is kept
    /// for the port (`xmit`).
    pub fn pick_queue(&self, n: u32) -> u16 {
        let skb = self.0.as_ptr();
        // SAFETY: the core hands ndo_select_queue an skb it owns for the
        // call; the qdisc control block is free for the device's use here.
        unsafe {
            let q = (*skb).queue_mapping;
            (*qdisc_cb(skb)).__bindgen_anon_1.slave_dev_queue_mapping = q;
            // skb_rx_queue_recorded / skb_get_rx_queue
            let rx = if q != 0 { u32::from(q) - 1 } else { 0 };
            rx.checked_rem(n).unwrap_or(0) as u16
        }
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
pub struct RxFrame(pub(super) NonNull<raw::sk_buff>);

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

/// `skb->dev`.
///
/// # Safety
/// `skb` is a live skb the caller may read.
pub(super) unsafe fn skb_dev(skb: *const raw::sk_buff) -> *mut raw::net_device {
    // SAFETY: per the caller; `dev` shares a union with `dev_scratch`, and
    // an skb in the tx or rx path holds its device there.
    unsafe {
        (*skb)
            .__bindgen_anon_1
            .__bindgen_anon_1
            .__bindgen_anon_1
            .dev
    }
}

/// `skb->dev = dev`.
///
/// # Safety
/// The caller owns `skb`.
pub(super) unsafe fn skb_set_dev(skb: *mut raw::sk_buff, dev: *mut raw::net_device) {
    // SAFETY: per the caller (see `skb_dev`).
    unsafe {
        (*skb)
            .__bindgen_anon_1
            .__bindgen_anon_1
            .__bindgen_anon_1
            .dev = dev
    }
}

/// `qdisc_skb_cb(skb)`: the control block as the qdisc layer lays it out.
///
/// # Safety
/// `skb` is a live skb the caller owns.
unsafe fn qdisc_cb(skb: *mut raw::sk_buff) -> *mut raw::qdisc_skb_cb {
    // SAFETY: per the caller; `cb` is 48 bytes, larger than qdisc_skb_cb,
    // and aligned for it (the kernel casts it the same way).
    unsafe { core::ptr::addr_of_mut!((*skb).cb) as *mut raw::qdisc_skb_cb }
}

/// `skb_share_check(skb, GFP_ATOMIC)`: the skb itself when only the caller
/// holds it (checked here, without a C call), else a clone (the original
/// released), or NULL when cloning failed.
///
/// # Safety
/// The caller holds a reference to `skb` (the rx handler's).
pub(super) unsafe fn skb_share_check(skb: *mut raw::sk_buff) -> *mut raw::sk_buff {
    // SAFETY: per the caller; `users` is read as refcount_read does.
    unsafe {
        if core::ptr::read_volatile(addr_of!((*skb).users.refs.counter)) == 1 {
            return skb;
        }
        raw::rteam_skb_share_check(skb)
    }
}
