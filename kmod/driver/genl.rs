// SPDX-License-Identifier: GPL-2.0-only
//! The `team` generic netlink commands: NOOP, OPTIONS_GET/SET,
//! PORT_LIST_GET, and the change events multicast to `change_event`.

use core::ffi::c_int;

use kernel::prelude::*;

use crate::logic::abi;
use crate::logic::errno::Errno;
use crate::logic::instances::{self, Instance};
use crate::logic::message::write_list;
use crate::logic::options::{self, write_option_item, InstanceKey, ItemFlags};
use crate::logic::ports::write_port_item;
use crate::sys::{self, Dest, GenlMsg, Request};
use crate::team::{FastPath, Team};

pub fn noop(req: &Request) -> Result<(), c_int> {
    sys::send_noop(req)
}

/// Commands that name a team; RTNL held.
pub fn dispatch(team: &mut Team, fast: &FastPath, cmd: u8, req: &Request) -> Result<(), c_int> {
    match cmd {
        abi::CMD_OPTIONS_GET => send_options(team, req.dest(), |_, _| Some(false)),
        abi::CMD_PORT_LIST_GET => send_ports(team, req.dest(), None),
        abi::CMD_OPTIONS_SET => options_set(team, fast, req),
        _ => Err(Errno::OpNotSupp.to_neg()),
    }
}

/// The key userspace uses for an instance.
fn key_of(team: &Team, inst: &Instance, port_ifindex: impl Fn(usize) -> u32) -> InstanceKey {
    let _ = team;
    InstanceKey {
        port_ifindex: inst.port.map_or(0, port_ifindex),
        array_index: inst.array_index,
    }
}

/// Sends the instances `select` picks (`Some(removed)`) in list order, as
/// one or more NLM_F_MULTI messages closed by NLMSG_DONE. Sent instances
/// lose their changed mark.
pub fn send_options(
    team: &mut Team,
    dest: Dest,
    select: impl Fn(usize, &Instance) -> Option<bool>,
) -> Result<(), c_int> {
    let mut chosen: KVec<(Instance, bool)> = KVec::new();
    for (n, inst) in instances::all(team.mode(), team.port_count()).enumerate() {
        if let Some(removed) = select(n, &inst) {
            chosen
                .push((inst, removed), GFP_KERNEL)
                .map_err(|_| Errno::NoMem.to_neg())?;
        }
    }
    let mut ifindexes: KVec<u32> = KVec::new();
    for i in 0..team.port_count() {
        ifindexes
            .push(team.port_ifindex(i), GFP_KERNEL)
            .map_err(|_| Errno::NoMem.to_neg())?;
    }
    let mut start = 0;
    loop {
        let mut msg = GenlMsg::new(dest, abi::CMD_OPTIONS_GET).map_err(Errno::to_neg)?;
        let t = &*team;
        let next = msg
            .write(|w| {
                write_list(
                    w,
                    t.ifindex(),
                    abi::ATTR_LIST_OPTION,
                    start,
                    chosen.len(),
                    |w, i| {
                        let (inst, removed) = &chosen[i];
                        let key = key_of(t, inst, |p| ifindexes.get(p).copied().unwrap_or(0));
                        let flags = ItemFlags {
                            changed: t.changed(inst) || *removed,
                            removed: *removed,
                        };
                        write_option_item(w, inst.desc, key, t.get(inst), flags)
                    },
                )
            })
            .map_err(Errno::to_neg)?;
        for (inst, _) in &chosen[start..next] {
            team.set_changed(inst, false);
        }
        let last = next >= chosen.len();
        msg.send(team.dev(), dest, last)?;
        if last {
            return Ok(());
        }
        start = next;
    }
}

/// Multicasts the given instances (e.g. removed ones).
pub fn send_options_event(
    team: &mut Team,
    select: impl Fn(usize, &Instance) -> Option<bool>,
) -> Result<(), c_int> {
    send_options(team, Dest::Multicast, select)
}

/// Multicasts every instance marked changed (team.ko's change check).
pub fn send_changed(team: &mut Team) -> Result<(), c_int> {
    let any = instances::all(team.mode(), team.port_count()).any(|i| team.changed(&i));
    if !any {
        return Ok(());
    }
    let mut marks: KVec<bool> = KVec::new();
    for i in instances::all(team.mode(), team.port_count()) {
        marks
            .push(team.changed(&i), GFP_KERNEL)
            .map_err(|_| Errno::NoMem.to_neg())?;
    }
    send_options(team, Dest::Multicast, |n, _| {
        marks.get(n).copied().unwrap_or(false).then_some(false)
    })
}

/// team.ko's event when a port goes: its option instances marked removed,
/// together with every other instance marked changed.
pub fn send_changed_and_port_removed(team: &mut Team, port: usize) -> Result<(), c_int> {
    let mut marks: KVec<Option<bool>> = KVec::new();
    for i in instances::all(team.mode(), team.port_count()) {
        let m = if i.port == Some(port) {
            Some(true)
        } else {
            team.changed(&i).then_some(false)
        };
        marks
            .push(m, GFP_KERNEL)
            .map_err(|_| Errno::NoMem.to_neg())?;
    }
    send_options(team, Dest::Multicast, |n, _| {
        marks.get(n).copied().flatten()
    })
}

/// PORT_LIST_GET reply, or an event for one port (`Some((index, removed))`).
pub fn send_ports(team: &mut Team, dest: Dest, one: Option<(usize, bool)>) -> Result<(), c_int> {
    let (first, count) = match one {
        Some((p, _)) => (p, p + 1),
        None => (0, team.port_count()),
    };
    let removed = one.is_some_and(|(_, r)| r);
    let mut start = first;
    loop {
        let mut msg = GenlMsg::new(dest, abi::CMD_PORT_LIST_GET).map_err(Errno::to_neg)?;
        let ifindex = team.ifindex();
        let next = msg
            .write(|w| {
                write_list(w, ifindex, abi::ATTR_LIST_PORT, start, count, |w, i| {
                    let mut r = team.port_report(i);
                    if removed {
                        r.removed = true;
                        r.linkup = false;
                        r.speed = 0;
                        r.duplex = 0;
                    }
                    write_port_item(w, &r)
                })
            })
            .map_err(Errno::to_neg)?;
        let last = next >= count;
        msg.send(team.dev(), dest, last)?;
        if last {
            return Ok(());
        }
        start = next;
    }
}

pub fn send_port_event(team: &mut Team, p: usize, removed: bool) -> Result<(), c_int> {
    send_ports(team, Dest::Multicast, Some((p, removed)))
}

/// OPTIONS_SET: every item must match at least one instance; each applied
/// item is multicast on its own, as team.ko does.
fn options_set(team: &mut Team, fast: &FastPath, req: &Request) -> Result<(), c_int> {
    let list = req
        .attr(abi::ATTR_LIST_OPTION)
        .ok_or(Errno::Inval.to_neg())?;
    for item in options::set_items(list) {
        let item = item.map_err(Errno::to_neg)?;
        let mut hits: KVec<Instance> = KVec::new();
        let mode = team.mode();
        for inst in instances::all(mode, team.port_count()) {
            let key = key_of(team, &inst, |p| team.port_ifindex(p));
            if item.matches(inst.desc, key) {
                hits.push(inst, GFP_KERNEL)
                    .map_err(|_| Errno::NoMem.to_neg())?;
            }
        }
        if hits.is_empty() {
            return Err(Errno::NoEnt.to_neg());
        }
        for inst in hits.iter() {
            team.set(fast, inst, item.value)?;
        }
        // A mode change replaces the instance list: re-find the hits.
        let mode = team.mode();
        let n = team.port_count();
        for inst in instances::all(mode, n) {
            let key = key_of(team, &inst, |p| team.port_ifindex(p));
            if item.matches(inst.desc, key) {
                team.set_changed(&inst, true);
            }
        }
        send_options(team, Dest::Multicast, |_, inst| {
            hits.iter()
                .any(|h| {
                    h.desc.id == inst.desc.id
                        && h.port == inst.port
                        && h.array_index == inst.array_index
                })
                .then_some(false)
        })?;
    }
    Ok(())
}
