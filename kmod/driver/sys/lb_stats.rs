// SPDX-License-Identifier: GPL-2.0-only
//! Per-CPU counters and delayed work (a child of `sys`): `Pcpu`, per-CPU
//! u64 counters the fast path adds to without locks (loadbalance's tx
//! bytes), with `PcpuRef`, its borrowed handle in the snapshot; `TeamWork`,
//! a delayed work item that runs `Team::run_work` under RTNL (the stats
//! refresher, the notify_peers and mcast_rejoin bursts).

use core::ptr::NonNull;

use super::{raw, Dev};

/// Per-CPU u64 counters, freed on drop. The owner drops it only after a
/// snapshot without it has been published and a grace period has passed.
pub struct Pcpu(NonNull<core::ffi::c_void>);

// SAFETY: per-CPU memory may be summed and freed from any CPU.
unsafe impl Send for Pcpu {}
// SAFETY: as above; adds go to the adding CPU's own copy.
unsafe impl Sync for Pcpu {}

impl Pcpu {
    pub fn new(count: u32) -> Option<Pcpu> {
        // SAFETY: process context allocation; zeroed by the allocator.
        NonNull::new(unsafe { raw::rteam_pcpu_alloc(count) }).map(Pcpu)
    }

    pub fn handle(&self) -> PcpuRef {
        PcpuRef(self.0)
    }

    /// The sum over all CPUs of counter `idx` (< the allocated count).
    pub fn sum(&self, idx: u32) -> u64 {
        // SAFETY: live allocation, idx in range (callers' constants).
        unsafe { raw::rteam_pcpu_sum(self.0.as_ptr(), idx) }
    }

    /// Zeroes counter `idx`; only for a counter no reader can add to.
    pub fn zero(&self, idx: u32) {
        // SAFETY: as `sum`.
        unsafe { raw::rteam_pcpu_zero(self.0.as_ptr(), idx) }
    }
}

impl Drop for Pcpu {
    fn drop(&mut self) {
        // SAFETY: allocated by rteam_pcpu_alloc, freed once.
        unsafe { raw::rteam_pcpu_free(self.0.as_ptr()) }
    }
}

/// The fast path's handle of a `Pcpu`; valid while the snapshot holding it
/// is reachable (see `Pcpu`).
#[derive(Clone, Copy)]
pub struct PcpuRef(NonNull<core::ffi::c_void>);

// SAFETY: see Pcpu.
unsafe impl Send for PcpuRef {}
// SAFETY: see Pcpu.
unsafe impl Sync for PcpuRef {}

impl PcpuRef {
    /// Adds to this CPU's copy of counter `idx` (xmit context, BH off).
    pub fn add(self, idx: u32, val: u64) {
        // SAFETY: live per the snapshot's guarantee; idx in range.
        unsafe { raw::rteam_pcpu_add(self.0.as_ptr(), idx, val) }
    }
}

/// What a `TeamWork` does when it runs.
#[derive(Clone, Copy)]
#[repr(u32)]
pub enum WorkKind {
    LbRefresh = 0,
    NotifyPeers = 1,
    McastRejoin = 2,
}

impl WorkKind {
    pub fn from_raw(v: u32) -> Option<WorkKind> {
        match v {
            0 => Some(WorkKind::LbRefresh),
            1 => Some(WorkKind::NotifyPeers),
            2 => Some(WorkKind::McastRejoin),
            _ => None,
        }
    }
}

/// A delayed work item that runs `Team::run_work(kind)` for its device with
/// RTNL held; freed (after cancelling and waiting for it) on drop.
pub struct TeamWork(NonNull<raw::rteam_dwork>);

// SAFETY: the work item is only scheduled/cancelled under RTNL.
unsafe impl Send for TeamWork {}

impl TeamWork {
    pub fn new(dev: Dev, kind: WorkKind) -> Option<TeamWork> {
        // SAFETY: process context; the device outlives the work (uninit
        // drops it, which cancels and waits).
        NonNull::new(unsafe { raw::rteam_dwork_alloc(dev.as_ptr(), kind as u32) }).map(TeamWork)
    }

    pub fn schedule(&self, msecs: u32) {
        // SAFETY: live work item.
        unsafe { raw::rteam_dwork_schedule(self.0.as_ptr(), msecs) }
    }

    /// Cancels a pending run (a running one finds nothing left to do and
    /// does not re-arm).
    pub fn cancel(&self) {
        // SAFETY: live work item.
        unsafe { raw::rteam_dwork_cancel(self.0.as_ptr()) }
    }
}

impl Drop for TeamWork {
    fn drop(&mut self) {
        // SAFETY: allocated by rteam_dwork_alloc, freed once; the work only
        // trylocks RTNL, so waiting for it here with RTNL held cannot hang.
        unsafe { raw::rteam_dwork_free(self.0.as_ptr()) }
    }
}
