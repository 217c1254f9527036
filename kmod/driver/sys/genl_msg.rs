// SPDX-License-Identifier: GPL-2.0-only
//! Generic netlink messages (a child of `sys`): `Dest` and `GenlMsg`, a
//! message built in place and sent to one socket or the multicast group;
//! `Request`, an incoming request, with `genl_doit`, the doit trampoline
//! of every command, and `send_noop`, NOOP's reply.

use core::ffi::{c_int, c_void};
use core::ptr::{addr_of, NonNull};

use super::ops::{rtnl_held, with_team, FAMILY};
use super::{errno_result, raw, Dev, DevRef};
use crate::logic::errno::Errno;

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

pub(super) unsafe extern "C" fn genl_doit(
    _skb: *mut raw::sk_buff,
    info: *mut raw::genl_info,
) -> c_int {
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
