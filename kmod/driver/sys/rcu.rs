// SPDX-License-Identifier: GPL-2.0-only
//! RCU and small kernel helpers (a child of `sys`): `RcuBox`, the
//! RCU-published pointer behind the fast-path snapshot, and `RcuNode`, what
//! it points to; `synchronize_rcu`, `rcu_barrier`, `random_u32` and
//! `kvec_remove`.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::null_mut;

use super::raw;

/// Removes element `i` keeping the order of the rest (6.12's KVec has no
/// `remove`); no allocation.
pub fn kvec_remove<T>(v: &mut kernel::alloc::KVec<T>, i: usize) -> Option<T> {
    let len = v.len();
    if i >= len {
        return None;
    }
    v.as_mut_slice()[i..].rotate_left(1);
    // SAFETY: the element to remove was rotated to index `len - 1`, which is
    // initialised; it is moved out, then the length drops by one so the vector
    // neither reads nor drops that slot again.
    unsafe {
        let item = core::ptr::read(v.as_ptr().add(len - 1));
        v.set_len(len - 1);
        Some(item)
    }
}

/// `rcu_dereference(*slot)`: the kernel's READ_ONCE of the pointer (a
/// volatile load; the address dependency orders what is read through it on
/// every architecture Rust kernels run on), without the debug kernel's
/// lockdep check, and without a C call on every frame.
///
/// # Safety
/// `slot` is valid, and the caller is in an RCU read section.
pub(super) unsafe fn rcu_load(slot: *const *mut c_void) -> *mut c_void {
    // SAFETY: per the caller.
    unsafe { core::ptr::read_volatile(slot) }
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

/// Waits for every callback `RcuBox::replace` queued (module exit: their
/// code goes with the module).
pub fn rcu_barrier() {
    // SAFETY: process context.
    unsafe { raw::rteam_rcu_barrier() }
}

/// An RCU read section held for the guard's life, for readers the core
/// does not already put in one (`ndo_set_rx_mode`).
pub struct ReadSection(());

impl ReadSection {
    pub fn enter() -> ReadSection {
        // SAFETY: any context; paired with the unlock in drop.
        unsafe { raw::rteam_rcu_read_lock() };
        ReadSection(())
    }
}

impl Drop for ReadSection {
    fn drop(&mut self) {
        // SAFETY: locked in `enter`, on this CPU's same context.
        unsafe { raw::rteam_rcu_read_unlock() };
    }
}

/// A published value with the `rcu_head` that frees it a grace period after
/// it was replaced.
#[repr(C)]
pub struct RcuNode<T> {
    // First, so the callback finds the node at the head's address.
    head: raw::callback_head,
    val: T,
}

impl<T> RcuNode<T> {
    pub fn boxed(val: T) -> Result<kernel::alloc::KBox<Self>, kernel::alloc::AllocError> {
        kernel::alloc::KBox::new(
            RcuNode {
                head: raw::callback_head::default(),
                val,
            },
            kernel::alloc::flags::GFP_KERNEL,
        )
    }
}

/// call_rcu's callback (softirq): drops the node `replace` retired.
unsafe extern "C" fn free_node<T>(head: *mut raw::callback_head) {
    // SAFETY: `head` is the first field of a repr(C) RcuNode<T> that
    // `replace` got from KBox::into_raw and handed to call_rcu once.
    drop(unsafe { kernel::alloc::KBox::from_raw(head.cast::<RcuNode<T>>()) });
}

/// An RCU-published pointer to a boxed `T`: readers (fast path, inside the
/// RCU read section the core holds for xmit/rx) load it without locks; the
/// writer (RTNL) swaps in a new box, and the old one is freed after a grace
/// period by call_rcu, as team.ko frees its ports with kfree_rcu. Waiting
/// for that grace period in the writer instead (synchronize_rcu on every
/// option write, under RTNL) made C teamd's 256 bucket writes at LACP
/// bring-up take seconds in the guest: its LACPDUs fell behind and the
/// partner expired the ports, again and again.
pub struct RcuBox<T> {
    slot: UnsafeCell<*mut RcuNode<T>>,
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
            let p = rcu_load(self.slot.get() as *const *mut c_void) as *const RcuNode<T>;
            p.as_ref().map(|n| &n.val)
        }
    }

    /// Writer side (RTNL held): publishes `new`; the previous value is
    /// dropped a grace period later, in softirq context, so `T`'s drop must
    /// not sleep. Whatever a reader reaches through `T` without owning it
    /// (a BPF program, say) must outlive that grace period: its owner waits
    /// with `synchronize_rcu` before freeing it.
    pub fn replace(&self, new: Option<kernel::alloc::KBox<RcuNode<T>>>) {
        let newp = new.map_or(null_mut(), kernel::alloc::KBox::into_raw);
        // SAFETY: writers are serialised by RTNL; the old pointer came from
        // KBox::into_raw and is handed to call_rcu once, which frees it only
        // after every reader that could have loaded it is done.
        unsafe {
            let old = *self.slot.get();
            raw::rteam_rcu_store(self.slot.get() as *mut *mut c_void, newp.cast());
            if !old.is_null() {
                raw::rteam_call_rcu(core::ptr::addr_of_mut!((*old).head), Some(free_node::<T>));
            }
        }
    }
}
