//! The "basic" TX balancer (spec §8.3.2): spreads the 256 hash buckets over the ports by
//! the bytes each bucket sent since the previous stats event, through the kernel's
//! `lb_tx_hash_to_port_mapping`.
//!
//! Pure state machine; the caller owns the team handle. Protocol:
//!
//! 1. [`Balancer::port_added`] / [`Balancer::port_removed`] as teamd's port list changes.
//! 2. [`Balancer::on_options`] for every kernel option batch (the initial OPTIONS_GET
//!    reply and each change event), with all instances it carries. It returns `true` when
//!    a rebalance is due.
//! 3. Then [`Balancer::rebalance`], and loop: [`Rebalance::next_assignment`] names one
//!    `lb_tx_hash_to_port_mapping[hash] = port` set; perform it and hand the outcome to
//!    [`Rebalance::report`]. A failure (typically ENODEV: the port was disabled meanwhile)
//!    makes the port unusable for the rest of this round and the same bucket is offered
//!    to the next port, exactly like C teamd's loop. `None` ends the round.
//!
//! The round's state lives in the [`Balancer`], and the same steps exist as
//! [`Balancer::next_assignment`] / [`Balancer::report`], so an event-driven runner can
//! emit one set as an action and continue when its result comes back. Successful sets do
//! not update the bucket map here: like teamd, it learns the new mapping from the
//! kernel's change event. A new option batch cancels an unfinished round (C teamd runs a
//! round synchronously, so batches never interleave with one).
//!
//! C teamd publishes no balancer state in its state dump, so none is modelled; the
//! read accessors are for logging and tests.

/// Number of hash buckets (the kernel folds the BPF result to 8 bits).
pub const HASH_COUNT: usize = 256;

/// Option names the balancer reads.
pub const OPT_HASH_STATS: &str = "lb_hash_stats";
pub const OPT_PORT_STATS: &str = "lb_port_stats";
pub const OPT_HASH_TO_PORT_MAPPING: &str = "lb_tx_hash_to_port_mapping";
pub const OPT_ENABLED: &str = "enabled";

/// The value of an option instance, as far as the balancer cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceValue<'a> {
    U32(u32),
    Binary(&'a [u8]),
    /// Any other type (bool, string, s32).
    Other,
}

/// One option instance of a kernel option batch (borrowed view of a decoded item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionInstance<'a> {
    pub name: &'a str,
    pub port_ifindex: Option<u32>,
    pub array_index: Option<u32>,
    pub value: InstanceValue<'a>,
    /// Kernel CHANGED flag.
    pub changed: bool,
    /// Kernel REMOVED flag.
    pub removed: bool,
}

/// Batches C teamd refuses (it logs and skips the rest of the batch's handling).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BalancerError {
    #[error("Wrong type of option lb_tx_hash_to_port_mapping.")]
    MappingType,
    #[error("Wrong array index \"{index}\" for option {option}.")]
    ArrayIndex { option: &'static str, index: u32 },
    #[error("Port with interface index \"{0}\" is not part of this device.")]
    UnknownPort(u32),
    #[error("port {0} already added to the balancer")]
    PortExists(u32),
}

/// Cumulative byte counter as seen in two consecutive triggering events.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    last: u64,
    curr: u64,
    initialized: bool,
}

impl Stats {
    fn delta(&self) -> u64 {
        // Unsigned wrap as in C if a counter ever goes backwards.
        self.curr.wrapping_sub(self.last)
    }

    fn update(&mut self, bytes: u64) {
        self.curr = bytes;
        // The first sample has no history: it counts as no traffic.
        if !self.initialized {
            self.last = bytes;
            self.initialized = true;
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    stats: Stats,
    /// Last kernel mapping value seen for this index (None: no instance known).
    raw_port: Option<u32>,
    /// `raw_port` resolved against the port list at the last batch; teamd keeps a port
    /// pointer here, NULL for 0 or an unknown ifindex.
    port: Option<u32>,
    processed: bool,
}

#[derive(Debug, Clone)]
struct Port {
    ifindex: u32,
    stats: Stats,
    /// Bytes assigned in the current round.
    load: u64,
    unusable: bool,
}

/// One `lb_tx_hash_to_port_mapping` set to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// Array index of the mapping option.
    pub hash: u8,
    /// Value to set: the port's ifindex.
    pub port_ifindex: u32,
    /// The bucket's bytes since the previous event (teamd logs it on success).
    pub delta: u64,
}

/// The basic TX balancer of one team.
#[derive(Debug, Clone)]
pub struct Balancer {
    enabled: bool,
    buckets: [Bucket; HASH_COUNT],
    /// teamd's port order: most recently added first.
    ports: Vec<Port>,
    in_round: bool,
    pending: Option<Assignment>,
}

impl Balancer {
    /// `enabled` = `tx_balancer.name == "basic"`. A disabled balancer still tracks stats
    /// and the mapping but never rebalances, as in C teamd.
    pub fn new(enabled: bool) -> Self {
        Balancer {
            enabled,
            buckets: [Bucket::default(); HASH_COUNT],
            ports: Vec::new(),
            in_round: false,
            pending: None,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// A port joined teamd's list; it goes first and starts with fresh stats.
    pub fn port_added(&mut self, ifindex: u32) -> Result<(), BalancerError> {
        if self.port_pos(ifindex).is_some() {
            return Err(BalancerError::PortExists(ifindex));
        }
        self.ports.insert(
            0,
            Port {
                ifindex,
                stats: Stats::default(),
                load: 0,
                unusable: false,
            },
        );
        Ok(())
    }

    /// A port left teamd's list. Buckets mapped to it keep it until the next batch
    /// re-resolves the mapping (the kernel resets those entries when it disables a port).
    pub fn port_removed(&mut self, ifindex: u32) {
        if let Some(pos) = self.port_pos(ifindex) {
            self.ports.remove(pos);
        }
    }

    /// Applies one option batch; true if a rebalance is due (see the module doc).
    ///
    /// On error the batch is partly applied, as in C teamd, and no rebalance is due.
    pub fn on_options(&mut self, batch: &[OptionInstance<'_>]) -> Result<bool, BalancerError> {
        self.in_round = false;
        self.pending = None;

        let mut needed = false;
        for inst in batch {
            if inst.name == OPT_HASH_TO_PORT_MAPPING {
                let InstanceValue::U32(port) = inst.value else {
                    return Err(BalancerError::MappingType);
                };
                // An absent index reads as 0 through libteam.
                let index = inst.array_index.unwrap_or(0);
                let bucket =
                    self.buckets
                        .get_mut(index as usize)
                        .ok_or(BalancerError::ArrayIndex {
                            option: OPT_HASH_TO_PORT_MAPPING,
                            index,
                        })?;
                // libteam drops removed instances from its cache; teamd then no longer
                // refreshes that bucket's port.
                bucket.raw_port = (!inst.removed).then_some(port);
            }
            if inst.changed
                && !inst.removed
                && matches!(inst.name, OPT_HASH_STATS | OPT_PORT_STATS | OPT_ENABLED)
            {
                needed = true;
            }
        }
        // teamd walks libteam's whole option cache on every batch, so every known mapping
        // entry is re-resolved against the current port list, not just the changed ones.
        for i in 0..HASH_COUNT {
            if let Some(raw) = self.buckets[i].raw_port {
                self.buckets[i].port = self.port_pos(raw).map(|_| raw);
            }
        }
        if !needed {
            return Ok(false);
        }

        // Deltas are per event: every snapshot first catches up, then only instances
        // flagged changed move on, so unchanged counters read as zero traffic.
        for b in &mut self.buckets {
            b.stats.last = b.stats.curr;
        }
        for p in &mut self.ports {
            p.stats.last = p.stats.curr;
        }
        for inst in batch {
            if !inst.changed || inst.removed {
                continue;
            }
            let InstanceValue::Binary(data) = inst.value else {
                continue;
            };
            let bytes = stats_bytes(data);
            if inst.name == OPT_HASH_STATS {
                let index = inst.array_index.unwrap_or(0);
                let bucket =
                    self.buckets
                        .get_mut(index as usize)
                        .ok_or(BalancerError::ArrayIndex {
                            option: OPT_HASH_STATS,
                            index,
                        })?;
                bucket.stats.update(bytes);
            } else if inst.name == OPT_PORT_STATS {
                let ifindex = inst.port_ifindex.unwrap_or(0);
                let pos = self
                    .port_pos(ifindex)
                    .ok_or(BalancerError::UnknownPort(ifindex))?;
                self.ports[pos].stats.update(bytes);
            }
        }
        Ok(self.enabled)
    }

    /// Starts a round (a no-op round when disabled); drive it with the returned handle.
    pub fn rebalance(&mut self) -> Rebalance<'_> {
        self.start_round();
        Rebalance { balancer: self }
    }

    /// Starts a round without borrowing; continue with [`Balancer::next_assignment`].
    pub fn start_round(&mut self) {
        self.pending = None;
        self.in_round = self.enabled;
        for p in &mut self.ports {
            p.load = 0;
            p.unusable = false;
        }
        for b in &mut self.buckets {
            b.processed = false;
        }
    }

    /// The next set to perform in the current round, or None when the round is over.
    /// An unreported previous assignment counts as succeeded.
    pub fn next_assignment(&mut self) -> Option<Assignment> {
        if self.pending.is_some() {
            self.report::<()>(Ok(()));
        }
        if !self.in_round {
            return None;
        }
        while let (Some(hash), Some(port)) = (self.biggest_unprocessed(), self.least_loaded()) {
            let bucket = &self.buckets[hash];
            let delta = bucket.stats.delta();
            // Idle buckets that already have a port stay where they are.
            if bucket.port.is_some() && delta == 0 {
                self.buckets[hash].processed = true;
                continue;
            }
            let ifindex = self.ports[port].ifindex;
            let assignment = Assignment {
                hash: hash as u8,
                port_ifindex: ifindex,
                delta,
            };
            if bucket.port == Some(ifindex) {
                // Already mapped there: counts as a successful set without touching
                // the kernel.
                self.assigned(assignment);
                continue;
            }
            self.pending = Some(assignment);
            return Some(assignment);
        }
        self.in_round = false;
        None
    }

    /// Outcome of the last assignment's set. Any error makes that port unusable for the
    /// rest of the round; the bucket is offered again.
    pub fn report<E>(&mut self, result: Result<(), E>) {
        let Some(assignment) = self.pending.take() else {
            return;
        };
        match result {
            Ok(()) => self.assigned(assignment),
            Err(_) => {
                if let Some(pos) = self.port_pos(assignment.port_ifindex) {
                    self.ports[pos].unusable = true;
                }
            }
        }
    }

    /// Per usable port, in list order, the bytes assigned this round (teamd logs these as
    /// `Port <if> rebalanced, delta: <n>` when the round ends).
    pub fn port_loads(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.ports
            .iter()
            .filter(|p| !p.unusable)
            .map(|p| (p.ifindex, p.load))
    }

    /// Ports in teamd's order (most recently added first).
    pub fn ports(&self) -> impl Iterator<Item = u32> + '_ {
        self.ports.iter().map(|p| p.ifindex)
    }

    /// The port the bucket is known to be mapped to (None: unmapped or unknown port).
    pub fn mapping(&self, hash: u8) -> Option<u32> {
        self.buckets[usize::from(hash)].port
    }

    /// Bytes the bucket sent between the last two triggering events.
    pub fn hash_delta(&self, hash: u8) -> u64 {
        self.buckets[usize::from(hash)].stats.delta()
    }

    /// Bytes the port sent between the last two triggering events.
    pub fn port_delta(&self, ifindex: u32) -> Option<u64> {
        self.port_pos(ifindex).map(|p| self.ports[p].stats.delta())
    }

    fn assigned(&mut self, a: Assignment) {
        if let Some(pos) = self.port_pos(a.port_ifindex) {
            self.ports[pos].load = self.ports[pos].load.wrapping_add(a.delta);
        }
        self.buckets[usize::from(a.hash)].processed = true;
    }

    fn port_pos(&self, ifindex: u32) -> Option<usize> {
        self.ports.iter().position(|p| p.ifindex == ifindex)
    }

    /// Largest delta first; the lowest index wins ties.
    fn biggest_unprocessed(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, b) in self.buckets.iter().enumerate() {
            if b.processed {
                continue;
            }
            if best.is_none_or(|j| b.stats.delta() > self.buckets[j].stats.delta()) {
                best = Some(i);
            }
        }
        best
    }

    /// Smallest load first; earliest in list order (most recently added) wins ties.
    fn least_loaded(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, p) in self.ports.iter().enumerate() {
            if p.unusable {
                continue;
            }
            if best.is_none_or(|j| p.load < self.ports[j].load) {
                best = Some(i);
            }
        }
        best
    }
}

/// The `tx_bytes` counter of an `lb_hash_stats` / `lb_port_stats` payload (u64, host
/// order). The kernel always sends 8 bytes; shorter data is zero-extended rather than
/// read past its end as teamd would.
pub fn stats_bytes(data: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = data.len().min(8);
    buf[..n].copy_from_slice(&data[..n]);
    u64::from_ne_bytes(buf)
}

/// A rebalance round borrowed from its [`Balancer`].
#[derive(Debug)]
pub struct Rebalance<'a> {
    balancer: &'a mut Balancer,
}

impl Rebalance<'_> {
    /// See [`Balancer::next_assignment`].
    pub fn next_assignment(&mut self) -> Option<Assignment> {
        self.balancer.next_assignment()
    }

    /// See [`Balancer::report`].
    pub fn report<E>(&mut self, result: Result<(), E>) {
        self.balancer.report(result)
    }

    /// See [`Balancer::port_loads`].
    pub fn port_loads(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.balancer.port_loads()
    }

    /// Runs the whole round with a synchronous setter; returns the sets that succeeded.
    pub fn run<E>(mut self, mut set: impl FnMut(&Assignment) -> Result<(), E>) -> Vec<Assignment> {
        let mut done = Vec::new();
        while let Some(a) = self.next_assignment() {
            let result = set(&a);
            if result.is_ok() {
                done.push(a);
            }
            self.report(result);
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u32 = 10;
    const B: u32 = 11;

    /// name, port ifindex, array index, value, changed.
    type Item = (&'static str, Option<u32>, Option<u32>, Val, bool);

    /// An option batch under construction; binary payloads live in `bytes`.
    struct Ev {
        bytes: Vec<[u8; 8]>,
        items: Vec<Item>,
    }

    #[derive(Clone, Copy)]
    enum Val {
        U32(u32),
        Bytes(usize),
        Bool,
    }

    impl Ev {
        fn new() -> Self {
            Ev {
                bytes: Vec::new(),
                items: Vec::new(),
            }
        }
        fn hash(mut self, index: u32, bytes: u64, changed: bool) -> Self {
            self.bytes.push(bytes.to_ne_bytes());
            let slot = self.bytes.len() - 1;
            self.items
                .push((OPT_HASH_STATS, None, Some(index), Val::Bytes(slot), changed));
            self
        }
        fn port(mut self, ifindex: u32, bytes: u64) -> Self {
            self.bytes.push(bytes.to_ne_bytes());
            let slot = self.bytes.len() - 1;
            self.items
                .push((OPT_PORT_STATS, Some(ifindex), None, Val::Bytes(slot), true));
            self
        }
        fn map(mut self, index: u32, port: u32) -> Self {
            self.items.push((
                OPT_HASH_TO_PORT_MAPPING,
                None,
                Some(index),
                Val::U32(port),
                true,
            ));
            self
        }
        fn enabled(mut self, ifindex: u32) -> Self {
            self.items
                .push((OPT_ENABLED, Some(ifindex), None, Val::Bool, true));
            self
        }
        fn apply(&self, b: &mut Balancer) -> Result<bool, BalancerError> {
            let batch: Vec<OptionInstance<'_>> = self
                .items
                .iter()
                .map(
                    |&(name, port_ifindex, array_index, val, changed)| OptionInstance {
                        name,
                        port_ifindex,
                        array_index,
                        value: match val {
                            Val::U32(v) => InstanceValue::U32(v),
                            Val::Bytes(slot) => InstanceValue::Binary(&self.bytes[slot]),
                            Val::Bool => InstanceValue::Other,
                        },
                        changed,
                        removed: false,
                    },
                )
                .collect();
            b.on_options(&batch)
        }
    }

    /// Two ports, A added first (so B is first in the list), all buckets mapped to A.
    fn two_ports_mapped_to_a() -> Balancer {
        let mut b = Balancer::new(true);
        b.port_added(A).unwrap();
        b.port_added(B).unwrap();
        let mut ev = Ev::new();
        for i in 0..256 {
            ev = ev.map(i, A);
        }
        assert!(!ev.apply(&mut b).unwrap());
        b
    }

    fn pairs(v: &[Assignment]) -> Vec<(u8, u32)> {
        v.iter().map(|a| (a.hash, a.port_ifindex)).collect()
    }

    #[test]
    fn port_order_is_most_recent_first() {
        let mut b = Balancer::new(true);
        b.port_added(A).unwrap();
        b.port_added(B).unwrap();
        assert_eq!(b.ports().collect::<Vec<_>>(), [B, A]);
        assert_eq!(b.port_added(A), Err(BalancerError::PortExists(A)));
        b.port_removed(B);
        b.port_removed(B);
        assert_eq!(b.ports().collect::<Vec<_>>(), [A]);
    }

    #[test]
    fn first_sample_is_baseline_then_deltas_per_event() {
        let mut b = two_ports_mapped_to_a();
        // First sample: baseline only, no traffic, nothing to move.
        assert!(Ev::new().hash(1, 1000, true).apply(&mut b).unwrap());
        assert_eq!(b.hash_delta(1), 0);
        assert!(b.rebalance().run::<()>(|_| Ok(())).is_empty());

        assert!(Ev::new().hash(1, 1500, true).apply(&mut b).unwrap());
        assert_eq!(b.hash_delta(1), 500);
        // A later event without bucket 1 resets its delta to 0: last catches up first.
        assert!(Ev::new().hash(2, 7, true).apply(&mut b).unwrap());
        assert_eq!(b.hash_delta(1), 0);
        assert_eq!(b.hash_delta(2), 0);
        assert!(Ev::new().hash(2, 17, true).apply(&mut b).unwrap());
        assert_eq!(b.hash_delta(2), 10);
    }

    #[test]
    fn unchanged_instances_do_not_trigger_or_update() {
        let mut b = two_ports_mapped_to_a();
        assert!(Ev::new().hash(1, 10, true).apply(&mut b).unwrap());
        assert!(!Ev::new().hash(1, 99, false).apply(&mut b).unwrap());
        assert!(Ev::new()
            .hash(1, 30, true)
            .hash(2, 99, false)
            .apply(&mut b)
            .unwrap());
        assert_eq!(b.hash_delta(1), 20);
        assert_eq!(b.hash_delta(2), 0);
    }

    /// Deltas 0:100, 1:900, 2:500, 3:450 on top of [`two_ports_mapped_to_a`].
    fn skewed() -> Balancer {
        let mut b = two_ports_mapped_to_a();
        let base = (0..4).fold(Ev::new(), |ev, i| ev.hash(i, 0, true));
        base.apply(&mut b).unwrap();
        let ev = Ev::new()
            .hash(0, 100, true)
            .hash(1, 900, true)
            .hash(2, 500, true)
            .hash(3, 450, true);
        assert!(ev.apply(&mut b).unwrap());
        b
    }

    #[test]
    fn skewed_buckets_spread_over_two_ports() {
        let mut b = skewed();
        let mut rb = b.rebalance();
        let mut sets = Vec::new();
        while let Some(a) = rb.next_assignment() {
            sets.push(a);
            rb.report::<()>(Ok(()));
        }
        // 900 → B (list head, both idle); 500 and 450 → A, where they already are (no
        // set); 100 → B (900 < 950). Idle mapped buckets stay put.
        assert_eq!(pairs(&sets), [(1, B), (0, B)]);
        assert_eq!(sets[0].delta, 900);
        assert_eq!(rb.port_loads().collect::<Vec<_>>(), [(B, 1000), (A, 950)]);
        // The map follows the kernel's change events, not our own sets.
        assert_eq!(b.mapping(1), Some(A));
        Ev::new().map(1, B).map(0, B).apply(&mut b).unwrap();
        assert_eq!(b.mapping(1), Some(B));
    }

    #[test]
    fn failed_set_makes_port_unusable_and_retries_bucket() {
        let mut b = skewed();
        let mut tried = Vec::new();
        let done = b.rebalance().run(|a| {
            tried.push((a.hash, a.port_ifindex));
            if a.port_ifindex == B {
                Err("ENODEV")
            } else {
                Ok(())
            }
        });
        // Bucket 1 is offered to B, fails, then lands on A where it already is.
        assert_eq!(tried, [(1, B)]);
        assert!(done.is_empty());
        assert_eq!(b.port_loads().collect::<Vec<_>>(), [(A, 1950)]);
    }

    #[test]
    fn all_ports_failing_ends_round() {
        let mut b = Balancer::new(true);
        b.port_added(A).unwrap();
        b.port_added(B).unwrap();
        assert!(Ev::new().enabled(A).apply(&mut b).unwrap());
        let mut tried = Vec::new();
        b.rebalance().run(|a| {
            tried.push((a.hash, a.port_ifindex));
            Err(())
        });
        assert_eq!(tried, [(0, B), (0, A)]);
        assert_eq!(b.port_loads().count(), 0);
    }

    #[test]
    fn ties_lowest_bucket_and_newest_port() {
        // No mapping known: every idle bucket is assigned, all to the list head, because
        // loads stay equal (0) and the first port wins ties.
        let mut b = Balancer::new(true);
        b.port_added(A).unwrap();
        b.port_added(B).unwrap();
        assert!(Ev::new().enabled(B).apply(&mut b).unwrap());
        let sets = b.rebalance().run::<()>(|_| Ok(()));
        assert_eq!(sets.len(), 256);
        assert!(sets.iter().enumerate().all(|(i, a)| a.hash as usize == i));
        assert!(sets.iter().all(|a| a.port_ifindex == B && a.delta == 0));

        // Equal deltas: lower index first, and it takes the emptier port.
        let mut b = two_ports_mapped_to_a();
        Ev::new()
            .hash(5, 0, true)
            .hash(9, 0, true)
            .apply(&mut b)
            .unwrap();
        Ev::new()
            .hash(9, 300, true)
            .hash(5, 300, true)
            .apply(&mut b)
            .unwrap();
        let sets = b.rebalance().run::<()>(|_| Ok(()));
        // 5 → B (head), 9 → A (already there, no set).
        assert_eq!(pairs(&sets), [(5, B)]);
    }

    #[test]
    fn mapping_resolution() {
        let mut b = Balancer::new(true);
        b.port_added(A).unwrap();
        // 0 and unknown ifindexes count as unmapped.
        Ev::new()
            .map(0, 0)
            .map(1, 99)
            .map(2, A)
            .apply(&mut b)
            .unwrap();
        assert_eq!(
            (b.mapping(0), b.mapping(1), b.mapping(2)),
            (None, None, Some(A))
        );
        // Every batch re-resolves all known entries against the port list.
        b.port_added(99).unwrap();
        Ev::new().apply(&mut b).unwrap();
        assert_eq!(b.mapping(1), Some(99));
        b.port_removed(A);
        assert_eq!(b.mapping(2), Some(A));
        Ev::new().apply(&mut b).unwrap();
        assert_eq!(b.mapping(2), None);
        assert_eq!(b.mapping(3), None);
    }

    #[test]
    fn triggers() {
        let mut b = two_ports_mapped_to_a();
        assert!(!Ev::new().map(3, B).apply(&mut b).unwrap());
        assert!(Ev::new().enabled(A).apply(&mut b).unwrap());
        assert!(Ev::new().port(A, 5).apply(&mut b).unwrap());
        assert!(Ev::new().port(A, 25).apply(&mut b).unwrap());
        assert_eq!(b.port_delta(A), Some(20));
        assert_eq!(b.port_delta(B), Some(0));
        // A re-added port starts over.
        b.port_removed(A);
        b.port_added(A).unwrap();
        assert_eq!(b.port_delta(A), Some(0));
        // Removed instances are gone from libteam's cache: no trigger.
        let removed = OptionInstance {
            name: OPT_ENABLED,
            port_ifindex: Some(A),
            array_index: None,
            value: InstanceValue::Other,
            changed: true,
            removed: true,
        };
        assert!(!b.on_options(&[removed]).unwrap());
    }

    #[test]
    fn disabled_balancer_tracks_but_never_sets() {
        let mut b = Balancer::new(false);
        b.port_added(A).unwrap();
        assert!(!b.is_enabled());
        assert!(!Ev::new().hash(1, 5, true).apply(&mut b).unwrap());
        assert!(!Ev::new().hash(1, 50, true).apply(&mut b).unwrap());
        assert_eq!(b.hash_delta(1), 45);
        assert!(b.rebalance().next_assignment().is_none());
    }

    #[test]
    fn bad_batches() {
        let mut b = two_ports_mapped_to_a();
        assert_eq!(
            Ev::new().port(77, 1).apply(&mut b),
            Err(BalancerError::UnknownPort(77))
        );
        assert_eq!(
            Ev::new().hash(256, 1, true).apply(&mut b),
            Err(BalancerError::ArrayIndex {
                option: OPT_HASH_STATS,
                index: 256
            })
        );
        assert_eq!(
            Ev::new().map(256, A).apply(&mut b).unwrap_err().to_string(),
            "Wrong array index \"256\" for option lb_tx_hash_to_port_mapping."
        );
        let wrong = OptionInstance {
            name: OPT_HASH_TO_PORT_MAPPING,
            port_ifindex: None,
            array_index: Some(1),
            value: InstanceValue::Other,
            changed: true,
            removed: false,
        };
        assert_eq!(b.on_options(&[wrong]), Err(BalancerError::MappingType));
    }

    #[test]
    fn step_api_edges() {
        let mut b = skewed();
        b.report::<()>(Err(())); // nothing pending: ignored
        b.start_round();
        let first = b.next_assignment().unwrap();
        assert_eq!((first.hash, first.port_ifindex), (1, B));
        // Not reported, so it counts as success: B carries 900, A 950 after buckets 2
        // and 3, and bucket 0 goes to B (had it failed, B would be unusable).
        let second = b.next_assignment().unwrap();
        assert_eq!((second.hash, second.port_ifindex), (0, B));
        // A new batch cancels the round.
        Ev::new().apply(&mut b).unwrap();
        assert!(b.next_assignment().is_none());
        assert_eq!(
            stats_bytes(&[1]),
            u64::from_ne_bytes([1, 0, 0, 0, 0, 0, 0, 0])
        );
    }
}
