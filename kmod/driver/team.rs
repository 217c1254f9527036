// SPDX-License-Identifier: GPL-2.0-only
//! The team's control state (owned under RTNL): mode, options, ports, and
//! the transitions team.ko makes on option writes, port add/remove and port
//! link changes. Every change that the fast path must see republishes the
//! RCU snapshot (`FastPath`).

use core::ffi::{c_int, CStr};
use core::sync::atomic::AtomicU32;

use kernel::prelude::*;

use crate::genl;
use crate::logic::errno::Errno;
use crate::logic::instances::{self, Instance};
use crate::logic::modes::{self, LbTxMethod, Mode, TxPort};
use crate::logic::options::{OptionId, OptionValue, LB_HASH_BUCKETS};
use crate::logic::ports::{team_carrier, PortLink, PortReport};
use crate::sys::{self, Dev, RcuBox, RcuNode};

const LB_BUCKETS: usize = LB_HASH_BUCKETS as usize;
/// Ports with their own loadbalance tx counter; a port beyond these reads
/// lb_port_stats 0 (team.ko has no limit; 64 ports in one team is rare).
const LB_PORT_SLOTS: u16 = 64;
const ZERO_STATS: [u8; 8] = [0; 8];

/// loadbalance's statistics: per-CPU tx byte counters (the hash buckets,
/// then the port slots) and the work that refreshes the options from them
/// every lb_stats_refresh_interval tenths of a second, as team.ko does.
struct LbStats {
    pcpu: sys::Pcpu,
    work: sys::TeamWork,
}

impl LbStats {
    fn new(dev: Dev) -> Result<LbStats, c_int> {
        let pcpu = sys::Pcpu::new(LB_BUCKETS as u32 + LB_PORT_SLOTS as u32);
        let work = sys::TeamWork::new(dev, sys::WorkKind::LbRefresh);
        match (pcpu, work) {
            (Some(pcpu), Some(work)) => Ok(LbStats { pcpu, work }),
            _ => Err(Errno::NoMem.to_neg()),
        }
    }
}

/// What the transmit and receive paths read, without locks.
pub struct FastPath {
    pub set: RcuBox<TxSet>,
    /// roundrobin's packet counter.
    pub counter: AtomicU32,
}

impl FastPath {
    pub const fn new() -> Self {
        FastPath {
            set: RcuBox::new(),
            counter: AtomicU32::new(0),
        }
    }
}

/// An immutable snapshot of the port set for the fast path.
pub struct TxSet {
    pub mode: Option<Mode>,
    pub ports: KVec<FastPort>,
    pub tx: KVec<TxPort>,
    pub en_count: usize,
    /// activebackup's active port.
    pub active: Option<FastPort>,
    pub lb_method: LbTxMethod,
    /// loadbalance: list position + 1 of the mapped port per bucket, 0 none.
    pub lb_map: [u16; LB_BUCKETS],
    /// loadbalance: the hash program, if any.
    pub lb_prog: Option<sys::BpfRef>,
    /// loadbalance: the tx byte counters (bucket `h` at `h`, port slot `s`
    /// at LB_HASH_BUCKETS + `s`).
    pub lb_stats: Option<sys::PcpuRef>,
    /// Queue override: the tx queues some port claims, with that port's
    /// list position (any mode; see `modes::queue_override_port`).
    pub queue_overrides: KVec<QueueOverride>,
}

#[derive(Clone, Copy)]
pub struct QueueOverride {
    pub queue: u16,
    pub pos: u16,
}

#[derive(Clone, Copy)]
pub struct FastPort {
    pub dev: Dev,
    pub enabled: bool,
    /// loadbalance: the port's tx counter (after the buckets'), if it has one.
    pub lb_slot: Option<u16>,
    /// The port's netpoll while a netpoll user is set up on the team.
    pub np: Option<sys::NetpollRef>,
}

impl FastPort {
    /// Sends `skb` on this port; the skb is consumed either way.
    pub fn xmit(&self, skb: sys::Skb) -> bool {
        skb.xmit(self.dev, self.np)
    }
}

/// A team port.
struct Port {
    dev: Dev,
    ifindex: u32,
    enabled_index: Option<usize>,
    link: PortLink,
    speed: u32,
    duplex: u8,
    priority: i32,
    queue_id: u16,
    /// Port changed since last reported in PORT_LIST_GET.
    changed: bool,
    /// Bit per OptionId: instance changed since last sent.
    opt_changed: u32,
    orig_mtu: u32,
    orig_addr: [u8; 6],
    /// loadbalance: the port's counter slot and its last refreshed total.
    lb_slot: Option<u16>,
    lb_tx_bytes: [u8; 8],
    /// Set up while a netpoll user (netconsole) is on the team, as team.ko
    /// gives every port one.
    np: Option<sys::Netpoll>,
}

impl Port {
    fn linkup(&self) -> bool {
        self.link.linkup()
    }

    fn queue_view(&self) -> modes::QueuePort {
        modes::QueuePort {
            queue_id: self.queue_id,
            priority: self.priority,
            enabled_index: self.enabled_index,
        }
    }

    fn report(&self, removed: bool) -> PortReport {
        PortReport {
            ifindex: self.ifindex,
            changed: self.changed,
            removed,
            linkup: !removed && self.link.carrier,
            speed: self.speed,
            duplex: self.duplex,
        }
    }
}

/// What the netdevice notifier answers.
pub enum NotifyVerdict {
    Done,
    Bad,
}

/// A valid unicast Ethernet address: not multicast, not all zero.
pub fn valid_unicast(a: &[u8]) -> bool {
    a.len() == 6 && a[0] & 1 == 0 && a.iter().any(|&b| b != 0)
}

const fn bit(id: OptionId) -> u32 {
    1 << (id as u32)
}

/// A burst of `count` netdevice events `interval` ms apart after a port
/// enable (notify_peers, mcast_rejoin), sent by a work item.
struct Burst {
    /// Made in ndo_init, dropped (cancelled and waited for) in uninit.
    work: Option<sys::TeamWork>,
    /// Events still due.
    pending: u32,
}

impl Burst {
    const fn new() -> Self {
        Burst {
            work: None,
            pending: 0,
        }
    }

    /// Adds `count` events to any burst under way; the next one goes at once.
    fn start(&mut self, count: u32) {
        if let (true, Some(w)) = (count > 0, &self.work) {
            self.pending = self.pending.saturating_add(count);
            w.schedule(0);
        }
    }

    /// The work's run: whether an event is due now; the one after it is
    /// scheduled `interval` ms later.
    fn step(&mut self, interval: u32) -> bool {
        if self.pending == 0 {
            return false;
        }
        self.pending -= 1;
        if let (true, Some(w)) = (self.pending > 0, &self.work) {
            w.schedule(interval);
        }
        true
    }
}

pub struct Team {
    dev: Dev,
    mode: Option<Mode>,
    notify_peers_count: u32,
    notify_peers_interval: u32,
    mcast_rejoin_count: u32,
    mcast_rejoin_interval: u32,
    ports: KVec<Port>,
    en_count: usize,
    active: u32,
    lb_method: LbTxMethod,
    lb_bpf: KVec<u8>,
    lb_prog: Option<sys::BpfProg>,
    lb_map: [u32; LB_BUCKETS],
    lb_refresh: u32,
    user_carrier: bool,
    /// Bit per OptionId for team-wide scalar instances.
    team_changed: u32,
    /// Per-bucket changed flags of the two bucket arrays (`bucket_array`):
    /// lb_tx_hash_to_port_mapping and lb_hash_stats.
    bucket_changed: [[bool; LB_BUCKETS]; 2],
    lb_stats: Option<LbStats>,
    /// NETDEV_NOTIFY_PEERS / NETDEV_RESEND_IGMP bursts.
    peers: Burst,
    rejoin: Burst,
    /// lb_hash_stats: each bucket's tx bytes at the last refresh (team.ko's
    /// struct lb_stats, one u64 in host order).
    lb_hash_bytes: [[u8; 8]; LB_BUCKETS],
}

/// `Team::bucket_changed` rows.
const MAP_FLAGS: usize = 0;
const HASH_STATS_FLAGS: usize = 1;

/// The `bucket_changed` row of an option kept per loadbalance bucket.
fn bucket_array(id: OptionId) -> Option<usize> {
    match id {
        OptionId::LbTxHashToPortMapping => Some(MAP_FLAGS),
        OptionId::LbHashStats => Some(HASH_STATS_FLAGS),
        _ => None,
    }
}

/// The loadbalance counter of port slot `slot` (after the buckets').
pub fn lb_port_counter(slot: u16) -> u32 {
    LB_BUCKETS as u32 + u32::from(slot)
}

impl Team {
    /// The state of a new device (no allocation: setup cannot fail).
    pub fn new(dev: Dev) -> Self {
        Team {
            dev,
            mode: None,
            notify_peers_count: 0,
            notify_peers_interval: 0,
            mcast_rejoin_count: 0,
            mcast_rejoin_interval: 0,
            ports: KVec::new(),
            en_count: 0,
            active: 0,
            lb_method: LbTxMethod::Hash,
            lb_bpf: KVec::new(),
            lb_prog: None,
            lb_map: [0; LB_BUCKETS],
            lb_refresh: 0,
            user_carrier: false,
            team_changed: 0,
            bucket_changed: [[false; LB_BUCKETS]; 2],
            lb_stats: None,
            peers: Burst::new(),
            rejoin: Burst::new(),
            lb_hash_bytes: [[0; 8]; LB_BUCKETS],
        }
    }

    /// ndo_init: carrier starts off, and the work items of the peer
    /// notification and multicast rejoin bursts are made (as team.ko's
    /// team_init). (team.ko announces its first instances before the device
    /// is registered, so nobody sees them changed.)
    pub fn init(&mut self) -> Result<(), c_int> {
        let peers = sys::TeamWork::new(self.dev, sys::WorkKind::NotifyPeers);
        let rejoin = sys::TeamWork::new(self.dev, sys::WorkKind::McastRejoin);
        let (Some(peers), Some(rejoin)) = (peers, rejoin) else {
            return Err(Errno::NoMem.to_neg());
        };
        self.peers.work = Some(peers);
        self.rejoin.work = Some(rejoin);
        self.dev.carrier(false);
        Ok(())
    }

    /// ndo_uninit: release every port and drop the fast-path snapshot.
    pub fn uninit(&mut self, fast: &FastPath) {
        while let Some(p) = self.ports.last() {
            let d = p.dev;
            let _ = self.port_del(fast, d, false);
        }
        fast.set.replace(None);
        self.ports = KVec::new();
        self.lb_bpf = KVec::new();
        let (prog, stats) = (self.lb_prog.take(), self.lb_stats.take());
        if prog.is_some() || stats.is_some() {
            sys::synchronize_rcu();
        }
        drop(prog);
        drop(stats);
        // Their work is cancelled and waited for: it only ever try-locks RTNL.
        self.peers = Burst::new();
        self.rejoin = Burst::new();
    }

    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    pub fn ifindex(&self) -> u32 {
        self.dev.ifindex()
    }

    pub fn dev(&self) -> Dev {
        self.dev
    }

    pub fn port_count(&self) -> usize {
        self.ports.len()
    }

    pub fn port_ifindex(&self, i: usize) -> u32 {
        self.ports.get(i).map_or(0, |p| p.ifindex)
    }

    pub fn port_report(&mut self, i: usize) -> PortReport {
        let r = self.ports[i].report(false);
        self.ports[i].changed = false;
        r
    }

    // -- option instances ------------------------------------------------

    pub fn changed(&self, inst: &Instance) -> bool {
        let b = bit(inst.desc.id);
        match (inst.port, inst.array_index) {
            (Some(p), _) => self.ports.get(p).is_some_and(|p| p.opt_changed & b != 0),
            (None, Some(i)) => bucket_array(inst.desc.id)
                .and_then(|a| self.bucket_changed[a].get(i as usize))
                .copied()
                .unwrap_or(false),
            (None, None) => self.team_changed & b != 0,
        }
    }

    pub fn set_changed(&mut self, inst: &Instance, on: bool) {
        let b = bit(inst.desc.id);
        let apply = |v: &mut u32| if on { *v |= b } else { *v &= !b };
        match (inst.port, inst.array_index) {
            (Some(p), _) => {
                if let Some(p) = self.ports.get_mut(p) {
                    apply(&mut p.opt_changed)
                }
            }
            (None, Some(i)) => {
                let row = bucket_array(inst.desc.id);
                if let Some(c) = row.and_then(|a| self.bucket_changed[a].get_mut(i as usize)) {
                    *c = on
                }
            }
            (None, None) => apply(&mut self.team_changed),
        }
    }

    /// The instance's current value.
    pub fn get(&self, inst: &Instance) -> OptionValue<'_> {
        let port = inst.port.and_then(|p| self.ports.get(p));
        let idx = inst.array_index.unwrap_or(0) as usize;
        match inst.desc.id {
            OptionId::Mode => {
                OptionValue::Str(self.mode.map_or(modes::NO_MODE_NAME, Mode::name).as_bytes())
            }
            OptionId::NotifyPeersCount => OptionValue::U32(self.notify_peers_count),
            OptionId::NotifyPeersInterval => OptionValue::U32(self.notify_peers_interval),
            OptionId::McastRejoinCount => OptionValue::U32(self.mcast_rejoin_count),
            OptionId::McastRejoinInterval => OptionValue::U32(self.mcast_rejoin_interval),
            OptionId::Enabled => OptionValue::Bool(port.is_some_and(|p| p.enabled_index.is_some())),
            OptionId::UserLinkup => OptionValue::Bool(port.is_some_and(|p| p.link.user_linkup)),
            OptionId::UserLinkupEnabled => {
                OptionValue::Bool(port.is_some_and(|p| p.link.user_linkup_enabled))
            }
            OptionId::Priority => OptionValue::S32(port.map_or(0, |p| p.priority)),
            OptionId::QueueId => OptionValue::U32(port.map_or(0, |p| u32::from(p.queue_id))),
            OptionId::ActivePort => OptionValue::U32(self.active),
            OptionId::BpfHashFunc => OptionValue::Binary(&self.lb_bpf),
            OptionId::LbTxMethod => OptionValue::Str(self.lb_method.name().as_bytes()),
            OptionId::LbTxHashToPortMapping => {
                OptionValue::U32(self.lb_map.get(idx).copied().unwrap_or(0))
            }
            OptionId::LbHashStats => {
                OptionValue::Binary(self.lb_hash_bytes.get(idx).unwrap_or(&ZERO_STATS))
            }
            OptionId::LbPortStats => {
                OptionValue::Binary(port.map_or(&ZERO_STATS, |p| &p.lb_tx_bytes))
            }
            OptionId::LbStatsRefreshInterval => OptionValue::U32(self.lb_refresh),
        }
    }

    /// Applies an OPTIONS_SET value to one instance, as team.ko's setters do.
    pub fn set(
        &mut self,
        fast: &FastPath,
        inst: &Instance,
        value: OptionValue<'_>,
    ) -> Result<(), c_int> {
        let neg = |e: Errno| e.to_neg();
        let port = inst.port;
        match (inst.desc.id, value) {
            (OptionId::Mode, OptionValue::Str(s)) => {
                let new = modes::check_mode_change(self.mode, s, self.ports.len()).map_err(neg)?;
                let stats = match new {
                    Mode::LoadBalance => Some(LbStats::new(self.dev)?),
                    _ => None,
                };
                self.change_mode(fast, new, stats);
            }
            (OptionId::NotifyPeersCount, OptionValue::U32(v)) => self.notify_peers_count = v,
            (OptionId::NotifyPeersInterval, OptionValue::U32(v)) => self.notify_peers_interval = v,
            (OptionId::McastRejoinCount, OptionValue::U32(v)) => self.mcast_rejoin_count = v,
            (OptionId::McastRejoinInterval, OptionValue::U32(v)) => self.mcast_rejoin_interval = v,
            (OptionId::Enabled, OptionValue::Bool(on)) => {
                let p = port.ok_or(Errno::Inval.to_neg())?;
                if on {
                    self.port_enable(p);
                } else {
                    self.port_disable(p);
                }
                self.publish(fast);
            }
            (OptionId::UserLinkup, OptionValue::Bool(on)) => {
                let p = port.ok_or(Errno::Inval.to_neg())?;
                self.ports[p].link.user_linkup = on;
                self.link_refreshed(fast, p);
            }
            (OptionId::UserLinkupEnabled, OptionValue::Bool(on)) => {
                let p = port.ok_or(Errno::Inval.to_neg())?;
                self.ports[p].link.user_linkup_enabled = on;
                self.link_refreshed(fast, p);
            }
            (OptionId::Priority, OptionValue::S32(v)) => {
                let p = port.ok_or(Errno::Inval.to_neg())?;
                if self.ports[p].priority != v {
                    self.ports[p].priority = v;
                    self.publish(fast);
                }
            }
            (OptionId::QueueId, OptionValue::U32(v)) => {
                let p = port.ok_or(Errno::Inval.to_neg())?;
                // team.ko keeps the queue id as u16.
                let v = (v & 0xffff) as u16;
                if self.ports[p].queue_id != v {
                    if u32::from(v) >= self.dev.real_tx_queues() {
                        return Err(Errno::Inval.to_neg());
                    }
                    self.ports[p].queue_id = v;
                    self.publish(fast);
                }
            }
            (OptionId::ActivePort, OptionValue::U32(v)) => {
                self.active = modes::check_active_port(v, self.ports.iter().map(|p| p.ifindex))
                    .map_err(neg)?;
                self.publish(fast);
            }
            (OptionId::BpfHashFunc, OptionValue::Binary(b)) => {
                // A classic BPF program is a whole number of 8-byte insns.
                if b.len() % 8 != 0 {
                    return Err(Errno::Inval.to_neg());
                }
                let mut v =
                    KVec::with_capacity(b.len(), GFP_KERNEL).map_err(|_| Errno::NoMem.to_neg())?;
                v.extend_from_slice(b, GFP_KERNEL)
                    .map_err(|_| Errno::NoMem.to_neg())?;
                let prog = if b.is_empty() {
                    None
                } else {
                    Some(sys::BpfProg::new(b)?)
                };
                self.lb_bpf = v;
                let old = core::mem::replace(&mut self.lb_prog, prog);
                self.publish_retiring(fast, old, None);
            }
            (OptionId::LbTxMethod, OptionValue::Str(s)) => {
                self.lb_method = LbTxMethod::from_name(s).map_err(neg)?;
                self.publish(fast);
            }
            (OptionId::LbTxHashToPortMapping, OptionValue::U32(v)) => {
                let enabled = self
                    .ports
                    .iter()
                    .filter(|p| p.enabled_index.is_some())
                    .map(|p| p.ifindex);
                let v = modes::check_mapped_port(v, enabled).map_err(neg)?;
                let i = inst.array_index.unwrap_or(0) as usize;
                if let Some(slot) = self.lb_map.get_mut(i) {
                    *slot = v;
                }
                self.publish(fast);
            }
            (OptionId::LbStatsRefreshInterval, OptionValue::U32(v)) => {
                if self.lb_refresh != v {
                    self.lb_refresh = v;
                    if let Some(st) = &self.lb_stats {
                        if v > 0 {
                            st.work.schedule(0);
                        } else {
                            st.work.cancel();
                        }
                    }
                }
            }
            // Read-only options have no setter in team.ko.
            (OptionId::LbHashStats | OptionId::LbPortStats, _) => {
                return Err(Errno::OpNotSupp.to_neg())
            }
            _ => return Err(Errno::Inval.to_neg()),
        }
        Ok(())
    }

    fn change_mode(&mut self, fast: &FastPath, new: Mode, stats: Option<LbStats>) {
        if let Some(old) = self.mode {
            // The old mode's instances go away: report them removed.
            let _ = genl::send_options_event(self, |_, i| {
                instances::of_mode(old).any(|m| m == *i).then_some(true)
            });
        }
        self.mode = Some(new);
        self.active = 0;
        self.lb_method = LbTxMethod::Hash;
        self.lb_bpf = KVec::new();
        let old = self.lb_prog.take();
        let old_stats = core::mem::replace(&mut self.lb_stats, stats);
        self.lb_map = [0; LB_BUCKETS];
        self.lb_refresh = 0;
        self.lb_hash_bytes = [[0; 8]; LB_BUCKETS];
        self.bucket_changed[HASH_STATS_FLAGS] = [false; LB_BUCKETS];
        for inst in instances::of_mode(new) {
            self.set_changed(&inst, true);
        }
        self.publish_retiring(fast, old, old_stats);
        let _ = genl::send_changed(self);
    }

    // -- ports -----------------------------------------------------------

    fn find(&self, dev: Dev) -> Option<usize> {
        self.ports.iter().position(|p| p.dev == dev)
    }

    fn port_enable(&mut self, p: usize) {
        if self.ports[p].enabled_index.is_some() {
            return;
        }
        self.ports[p].enabled_index = Some(self.en_count);
        self.en_count += 1;
        self.peers_and_groups();
        let (d, up) = (self.ports[p].dev, self.ports[p].linkup());
        d.lower_state(up, true);
    }

    fn port_disable(&mut self, p: usize) {
        let Some(idx) = self.ports[p].enabled_index else {
            return;
        };
        if self.mode == Some(Mode::LoadBalance) {
            self.unmap_port(self.ports[p].ifindex);
        }
        for q in self.ports.iter_mut() {
            if let Some(i) = q.enabled_index {
                if i > idx {
                    q.enabled_index = Some(i - 1);
                }
            }
        }
        self.ports[p].enabled_index = None;
        self.en_count -= 1;
        let (d, up) = (self.ports[p].dev, self.ports[p].linkup());
        d.lower_state(up, false);
    }

    /// loadbalance: mapping entries naming a port that stops transmitting
    /// are cleared and reported.
    fn unmap_port(&mut self, ifindex: u32) {
        let mut any = false;
        for i in 0..LB_BUCKETS {
            if self.lb_map[i] == ifindex {
                self.lb_map[i] = 0;
                self.bucket_changed[MAP_FLAGS][i] = true;
                any = true;
            }
        }
        if any {
            let _ = genl::send_changed(self);
        }
    }

    /// On a port enable of a running team, as team.ko: `notify_peers_count`
    /// NETDEV_NOTIFY_PEERS (gratuitous ARP, unsolicited NA) and
    /// `mcast_rejoin_count` NETDEV_RESEND_IGMP, the first at once, the rest
    /// `interval` ms apart, from work items (added to any burst under way).
    fn peers_and_groups(&mut self) {
        if !self.dev.is_up() {
            return;
        }
        self.peers.start(self.notify_peers_count);
        self.rejoin.start(self.mcast_rejoin_count);
    }

    /// A work item's run (RTNL held).
    pub fn run_work(&mut self, kind: sys::WorkKind) {
        match kind {
            sys::WorkKind::LbRefresh => self.lb_refresh(),
            sys::WorkKind::NotifyPeers => {
                if self.peers.step(self.notify_peers_interval) {
                    self.dev.notify_peers();
                }
            }
            sys::WorkKind::McastRejoin => {
                if self.rejoin.step(self.mcast_rejoin_interval) {
                    self.dev.resend_igmp();
                }
            }
        }
    }

    /// team.ko's checks before a device may join, in its order, with the
    /// extended-ack message userspace shows.
    fn check_new_port(&self, port: Dev) -> Result<(), (Errno, Option<&'static CStr>)> {
        if port.is_loopback() {
            return Err((
                Errno::Inval,
                Some(c"Loopback device can't be added as a team port"),
            ));
        }
        if port.is_team_port() {
            return Err((
                Errno::Busy,
                Some(c"Device is already a port of a team device"),
            ));
        }
        if port == self.dev {
            return Err((Errno::Inval, Some(c"Cannot enslave team device to itself")));
        }
        if self.dev.has_upper(port) {
            return Err((
                Errno::Busy,
                Some(c"Device is already an upper device of the team interface"),
            ));
        }
        if sys::rx_mode::vlan_conflict(port, self.dev) {
            return Err((
                Errno::Perm,
                Some(c"Device is VLAN challenged and team device has VLAN set up"),
            ));
        }
        if port.dev_type() != self.dev.dev_type() {
            return Err((Errno::Busy, None));
        }
        if port.is_up() {
            return Err((
                Errno::Busy,
                Some(c"Device is up. Set it down before adding it as a team port"),
            ));
        }
        Ok(())
    }

    pub fn port_add(
        &mut self,
        fast: &FastPath,
        port: Dev,
        extack: sys::ExtAck,
    ) -> Result<(), c_int> {
        if let Err((e, msg)) = self.check_new_port(port) {
            if let Some(msg) = msg {
                extack.set_msg(msg);
            }
            return Err(e.to_neg());
        }
        self.ports
            .reserve(1, GFP_KERNEL)
            .map_err(|_| Errno::NoMem.to_neg())?;
        let orig_mtu = port.mtu();
        let orig_addr = port.addr();
        // Each step that succeeded is undone, newest first, if a later one fails.
        let mut undo = PortAddUndo {
            port,
            team: self.dev,
            orig_mtu,
            orig_addr,
            done: PortAddStep::None,
        };
        port.set_mtu(self.dev.mtu())?;
        undo.done = PortAddStep::Mtu;
        self.port_enter(port)?;
        undo.done = PortAddStep::Addr;
        port.open()?;
        undo.done = PortAddStep::Open;
        sys::vlan::port_join(port, self.dev)?;
        undo.done = PortAddStep::Vlans;
        // Dropped (freed) before `undo` runs if a later step fails.
        let np = if self.dev.netpoll_on() {
            Some(sys::Netpoll::setup(port).inspect_err(|_| {
                pr_err!(
                    "{}: Failed to enable netpoll on device {}\n",
                    self.dev.name(),
                    port.name()
                );
            })?)
        } else {
            None
        };
        port.attach_to(self.dev)?;
        undo.done = PortAddStep::Attached;
        sys::rx_mode::port_join(port, self.dev)?;
        undo.done = PortAddStep::RxMode;
        let new = Port {
            dev: port,
            ifindex: port.ifindex(),
            enabled_index: None,
            link: PortLink::default(),
            speed: 0,
            duplex: 0,
            priority: 0,
            queue_id: 0,
            changed: false,
            opt_changed: 0,
            orig_mtu,
            orig_addr,
            lb_slot: self.free_lb_slot(),
            lb_tx_bytes: [0; 8],
            np,
        };
        // Capacity was reserved above.
        self.ports
            .push(new, GFP_ATOMIC)
            .map_err(|_| Errno::NoMem.to_neg())?;
        undo.done = PortAddStep::None;
        let p = self.ports.len() - 1;
        for inst in instances::of_port(self.mode, p) {
            self.set_changed(&inst, true);
        }
        self.port_enable(p);
        sys::features::update(self.dev);
        self.port_link_changed(fast, p, port.oper_up());
        let _ = genl::send_changed(self);
        pr_info!("{}: Port device {} added\n", self.dev.name(), port.name());
        Ok(())
    }

    /// loadbalance: a counter slot no port holds, zeroed (its last holder
    /// left a grace period ago, so no reader adds to it any more).
    fn free_lb_slot(&self) -> Option<u16> {
        let st = self.lb_stats.as_ref()?;
        let s = (0..LB_PORT_SLOTS).find(|s| self.ports.iter().all(|p| p.lb_slot != Some(*s)))?;
        st.pcpu.zero(lb_port_counter(s));
        Some(s)
    }

    /// Mode hook: roundrobin, broadcast and random give the port the team MAC.
    fn port_enter(&self, port: Dev) -> Result<(), c_int> {
        if self.mode.is_some_and(Mode::sets_port_mac) {
            port.set_addr(&self.dev.addr())?;
        }
        Ok(())
    }

    /// Removes a port in team.ko's order: stop transmitting on it, unhook
    /// it, report its option instances removed (with whatever else changed),
    /// report the port removed, then restore its address and MTU.
    /// `unregistering`: the device is going away, so its MTU is left alone.
    pub fn port_del(
        &mut self,
        fast: &FastPath,
        port: Dev,
        unregistering: bool,
    ) -> Result<(), c_int> {
        let p = self.find(port).ok_or(Errno::NoEnt.to_neg())?;
        self.port_disable(p);
        if self.mode == Some(Mode::ActiveBackup) && self.active == self.ports[p].ifindex {
            self.active = 0;
            if let Some(ap) = instances::of_mode(Mode::ActiveBackup).next() {
                self.set_changed(&ap, true);
            }
        }
        // The fast path must not see the port once it is detached: when the
        // new snapshot cannot be allocated, publish none (frames are dropped
        // until the next publish) rather than keep one that holds the port.
        // Readers of the old snapshot are done once detach_from returns
        // (unregistering the rx handler waits a grace period).
        if !self.publish(fast) {
            fast.set.replace(None);
        }
        port.detach_from(self.dev);
        // After the grace period detach_from waited: an ndo_set_rx_mode
        // still walking the old snapshot could otherwise sync the lists
        // back onto the port after this removed them.
        sys::rx_mode::port_leave(port, self.dev);
        sys::vlan::port_leave(port, self.dev);
        port.close();
        let _ = genl::send_changed_and_port_removed(self, p);
        self.ports[p].changed = true;
        self.ports[p].link.carrier = false;
        let _ = genl::send_port_event(self, p, true);
        let Some(gone) = sys::kvec_remove(&mut self.ports, p) else {
            return Err(Errno::NoEnt.to_neg());
        };
        if !self.publish(fast) {
            fast.set.replace(None);
        }
        self.carrier_check();
        let _ = port.set_addr(&gone.orig_addr);
        if !unregistering {
            let _ = port.set_mtu(gone.orig_mtu);
        }
        pr_info!("{}: Port device {} removed\n", self.dev.name(), port.name());
        sys::features::update(self.dev);
        Ok(())
    }

    /// A netpoll user (netconsole) set up on the team: every port gets a
    /// netpoll of its own, as team.ko does; if one cannot, none keeps one.
    pub fn netpoll_setup(&mut self, fast: &FastPath) -> Result<(), c_int> {
        for i in 0..self.ports.len() {
            if self.ports[i].np.is_some() {
                continue;
            }
            match sys::Netpoll::setup(self.ports[i].dev) {
                Ok(np) => self.ports[i].np = Some(np),
                Err(e) => {
                    // Those set up so far go again (after a snapshot without
                    // them, should an earlier one name any).
                    self.netpoll_cleanup(fast);
                    return Err(e);
                }
            }
        }
        if !self.publish(fast) {
            // The old snapshot has no handles: netpoll frames are dropped
            // (the send path falls back to none) until the next publish.
            pr_warn!(
                "{}: netpoll set up, not yet on the fast path\n",
                self.dev.name()
            );
        }
        Ok(())
    }

    /// The team's last netpoll user left: the ports' netpolls go, after a
    /// snapshot without them is published (each free then waits a grace
    /// period, so no sender still holds one).
    pub fn netpoll_cleanup(&mut self, fast: &FastPath) {
        if !self.publish_with(fast, false) {
            fast.set.replace(None);
        }
        for p in self.ports.iter_mut() {
            p.np = None;
        }
    }

    /// Port link input changed (carrier or user_linkup*): report it when the
    /// carrier view changed, recompute the team carrier.
    fn port_link_changed(&mut self, fast: &FastPath, p: usize, carrier: bool) {
        let port = &mut self.ports[p];
        port.link.carrier = carrier;
        port.changed = true;
        let (s, d) = if carrier {
            port.dev.speed_duplex()
        } else {
            (0, 0)
        };
        port.speed = s;
        port.duplex = d;
        let _ = genl::send_port_event(self, p, false);
        self.link_refreshed(fast, p);
    }

    fn link_refreshed(&mut self, fast: &FastPath, p: usize) {
        let (d, up, en) = (
            self.ports[p].dev,
            self.ports[p].linkup(),
            self.ports[p].enabled_index.is_some(),
        );
        d.lower_state(up, en);
        self.publish(fast);
        self.carrier_check();
    }

    fn carrier_check(&self) {
        if self.user_carrier {
            return;
        }
        self.dev
            .carrier(team_carrier(self.ports.iter().map(Port::linkup)));
    }

    pub fn user_carrier(&mut self, on: bool) {
        self.user_carrier = true;
        self.dev.carrier(on);
    }

    pub fn team_addr_changed(&mut self) {
        if self.mode.is_some_and(Mode::sets_port_mac) {
            let a = self.dev.addr();
            for p in self.ports.iter() {
                let _ = p.dev.set_addr(&a);
            }
        }
    }

    /// All ports follow a team MTU change; undone on the first failure.
    pub fn change_mtu(&mut self, mtu: u32) -> Result<(), c_int> {
        let old = self.dev.mtu();
        for i in 0..self.ports.len() {
            if let Err(e) = self.ports[i].dev.set_mtu(mtu) {
                for q in &self.ports[..i] {
                    let _ = q.dev.set_mtu(old);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Netdevice events of our ports (RTNL held).
    pub fn port_event(&mut self, fast: &FastPath, dev: Dev, event: u32) -> NotifyVerdict {
        let Some(p) = self.find(dev) else {
            return NotifyVerdict::Done;
        };
        match event {
            sys::NETDEV_UP | sys::NETDEV_CHANGE => {
                let up = dev.oper_up();
                if self.ports[p].link.carrier != up {
                    self.port_link_changed(fast, p, up);
                }
            }
            sys::NETDEV_DOWN => {
                if self.ports[p].link.carrier {
                    self.port_link_changed(fast, p, false);
                }
            }
            sys::NETDEV_UNREGISTER => {
                let _ = self.port_del(fast, dev, true);
            }
            // Not seen for changes the team itself causes on its ports
            // while it runs (the notifier skips a busy team), so feature
            // updates cannot recurse.
            sys::NETDEV_FEAT_CHANGE => sys::features::update(self.dev),
            // Port MTU follows the team; a port may not change it alone.
            sys::NETDEV_PRECHANGEMTU => return NotifyVerdict::Bad,
            sys::NETDEV_PRE_TYPE_CHANGE => return NotifyVerdict::Bad,
            _ => {}
        }
        NotifyVerdict::Done
    }

    /// Rebuilds and publishes the fast-path snapshot; false when it could not
    /// be allocated. Then the previous snapshot stays (the change reaches the
    /// fast path with the next successful publish), which is harmless while
    /// every port it names is still attached: `port_del` does not rely on it.
    fn publish(&self, fast: &FastPath) -> bool {
        self.publish_with(fast, true)
    }

    /// `publish`, with the ports' netpoll handles left out unless `netpoll`.
    fn publish_with(&self, fast: &FastPath, netpoll: bool) -> bool {
        let n = self.ports.len();
        let (Ok(mut ports), Ok(mut tx)) = (
            KVec::with_capacity(n, GFP_KERNEL),
            KVec::with_capacity(n, GFP_KERNEL),
        ) else {
            return false;
        };
        for p in self.ports.iter() {
            let enabled = p.enabled_index.is_some();
            let _ = ports.push(
                FastPort {
                    dev: p.dev,
                    enabled,
                    lb_slot: p.lb_slot,
                    np: p.np.as_ref().filter(|_| netpoll).map(sys::Netpoll::handle),
                },
                GFP_KERNEL,
            );
            let _ = tx.push(
                TxPort {
                    enabled_index: p.enabled_index,
                    txable: enabled && p.linkup(),
                },
                GFP_KERNEL,
            );
        }
        let mut lb_map = [0u16; LB_BUCKETS];
        for (slot, &ifi) in lb_map.iter_mut().zip(self.lb_map.iter()) {
            if ifi != 0 {
                if let Some(pos) = self.ports.iter().position(|p| p.ifindex == ifi) {
                    *slot = pos as u16 + 1;
                }
            }
        }
        let active = self
            .ports
            .iter()
            .position(|p| p.ifindex == self.active && self.active != 0)
            .and_then(|i| ports.get(i).copied());
        let Ok(mut queue_overrides) = KVec::with_capacity(n, GFP_KERNEL) else {
            return false;
        };
        for p in self.ports.iter() {
            let q = p.queue_id;
            if q == 0 || queue_overrides.iter().any(|o: &QueueOverride| o.queue == q) {
                continue;
            }
            if let Some(pos) =
                modes::queue_override_port(self.ports.iter().map(Port::queue_view), q)
            {
                let _ = queue_overrides.push(
                    QueueOverride {
                        queue: q,
                        pos: pos as u16,
                    },
                    GFP_KERNEL,
                );
            }
        }
        let set = TxSet {
            mode: self.mode,
            ports,
            tx,
            en_count: self.en_count,
            active,
            lb_method: self.lb_method,
            lb_map,
            lb_prog: self.lb_prog.as_ref().map(sys::BpfProg::handle),
            lb_stats: self.lb_stats.as_ref().map(|s| s.pcpu.handle()),
            queue_overrides,
        };
        match RcuNode::boxed(set) {
            Ok(b) => {
                fast.set.replace(Some(b));
                true
            }
            Err(_) => false,
        }
    }

    /// Publishes a snapshot without the hash program `old` (replaced or
    /// dropped), then frees it once no reader can still run it: team.ko too
    /// waits a grace period before destroying its old program. If no new
    /// snapshot can be allocated, none is left published (frames are dropped
    /// until the next publish), since the old one still names `old`.
    fn publish_retiring(
        &self,
        fast: &FastPath,
        old: Option<sys::BpfProg>,
        old_stats: Option<LbStats>,
    ) {
        if !self.publish(fast) {
            fast.set.replace(None);
        }
        if old.is_some() || old_stats.is_some() {
            sys::synchronize_rcu();
        }
        drop(old);
        drop(old_stats);
    }

    /// The refresher's run (RTNL held): each bucket's and port's tx bytes
    /// summed over the CPUs; those that moved are marked changed and
    /// announced, then the next run is due lb_stats_refresh_interval later.
    pub fn lb_refresh(&mut self) {
        let mut any = false;
        {
            let Some(st) = self.lb_stats.as_ref() else {
                return;
            };
            for (i, (bytes, changed)) in self
                .lb_hash_bytes
                .iter_mut()
                .zip(self.bucket_changed[HASH_STATS_FLAGS].iter_mut())
                .enumerate()
            {
                let now = st.pcpu.sum(i as u32).to_ne_bytes();
                if now != *bytes {
                    *bytes = now;
                    *changed = true;
                    any = true;
                }
            }
            for p in self.ports.iter_mut() {
                let now = p
                    .lb_slot
                    .map_or(0, |s| st.pcpu.sum(lb_port_counter(s)))
                    .to_ne_bytes();
                if now != p.lb_tx_bytes {
                    p.lb_tx_bytes = now;
                    p.opt_changed |= bit(OptionId::LbPortStats);
                    any = true;
                }
            }
        }
        if any {
            let _ = genl::send_changed(self);
        }
        if let Some(st) = &self.lb_stats {
            if self.lb_refresh > 0 {
                st.work.schedule(self.lb_refresh.saturating_mul(100));
            }
        }
    }
}

/// How far `port_add` got with a joining device.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PortAddStep {
    None,
    Mtu,
    Addr,
    Open,
    Vlans,
    Attached,
    RxMode,
}

/// Undoes, on drop, the steps of a port add that did not complete, newest
/// first; `done` is set back to `None` once the port is in the team.
struct PortAddUndo {
    port: Dev,
    team: Dev,
    orig_mtu: u32,
    orig_addr: [u8; 6],
    done: PortAddStep,
}

impl Drop for PortAddUndo {
    fn drop(&mut self) {
        let d = self.done;
        if d >= PortAddStep::RxMode {
            sys::rx_mode::port_leave(self.port, self.team);
        }
        if d >= PortAddStep::Attached {
            self.port.detach_from(self.team);
        }
        if d >= PortAddStep::Vlans {
            sys::vlan::port_leave(self.port, self.team);
        }
        if d >= PortAddStep::Open {
            self.port.close();
        }
        if d >= PortAddStep::Addr {
            let _ = self.port.set_addr(&self.orig_addr);
        }
        if d >= PortAddStep::Mtu {
            let _ = self.port.set_mtu(self.orig_mtu);
        }
    }
}
