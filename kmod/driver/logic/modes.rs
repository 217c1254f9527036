// SPDX-License-Identifier: GPL-2.0-only
//! Team modes: their names, mode-change rules and how each picks transmit
//! ports. Ports are given in the team's port-list order; `enabled_index` is
//! the port's slot among enabled ports (team.ko's `port->index`).

use super::errno::Errno;
use super::options::{OptionDesc, ACTIVEBACKUP_OPTIONS, LOADBALANCE_OPTIONS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    RoundRobin,
    ActiveBackup,
    Broadcast,
    Random,
    LoadBalance,
}

/// What the `mode` option reads before a mode is set.
pub const NO_MODE_NAME: &str = "*NOMODE*";

impl Mode {
    pub const ALL: [Mode; 5] = [
        Mode::RoundRobin,
        Mode::ActiveBackup,
        Mode::Broadcast,
        Mode::Random,
        Mode::LoadBalance,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Mode::RoundRobin => "roundrobin",
            Mode::ActiveBackup => "activebackup",
            Mode::Broadcast => "broadcast",
            Mode::Random => "random",
            Mode::LoadBalance => "loadbalance",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name().as_bytes() == name)
    }

    /// Options the mode registers while active.
    pub fn options(self) -> &'static [OptionDesc] {
        match self {
            Mode::ActiveBackup => &ACTIVEBACKUP_OPTIONS,
            Mode::LoadBalance => &LOADBALANCE_OPTIONS,
            _ => &[],
        }
    }

    /// Modes that give every port the team's MAC (team_modeop_port_enter).
    pub fn sets_port_mac(self) -> bool {
        matches!(self, Mode::RoundRobin | Mode::Broadcast | Mode::Random)
    }
}

/// team.ko's checks on a `mode` write, in its order.
pub fn check_mode_change(
    current: Option<Mode>,
    requested: &[u8],
    port_count: usize,
) -> Result<Mode, Errno> {
    if port_count != 0 {
        return Err(Errno::Busy);
    }
    if current.map(|m| m.name().as_bytes()) == Some(requested) {
        return Err(Errno::Inval);
    }
    Mode::from_name(requested).ok_or(Errno::Inval)
}

/// A port as the transmit path sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxPort {
    pub enabled_index: Option<usize>,
    /// Enabled and link up.
    pub txable: bool,
}

/// List position of the enabled port with slot `num % en_count`.
pub fn port_by_number(ports: &[TxPort], num: u32, en_count: usize) -> Option<usize> {
    let slot = if en_count == 0 {
        0
    } else {
        num as usize % en_count
    };
    ports.iter().position(|p| p.enabled_index == Some(slot))
}

/// From list position `start`, the first txable port, wrapping once round.
pub fn first_txable_from(ports: &[TxPort], start: usize) -> Option<usize> {
    let n = ports.len();
    (0..n).map(|i| (start + i) % n).find(|&i| ports[i].txable)
}

/// roundrobin and random: the numbered enabled port, or the next txable one.
pub fn pick_numbered(ports: &[TxPort], num: u32, en_count: usize) -> Option<usize> {
    let start = port_by_number(ports, num, en_count)?;
    first_txable_from(ports, start)
}

/// Folds a BPF hash result to the one-byte bucket (XOR of its bytes).
pub fn fold_hash(h: u32) -> u8 {
    let b = h.to_ne_bytes();
    b[0] ^ b[1] ^ b[2] ^ b[3]
}

/// `lb_tx_method` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbTxMethod {
    Hash,
    HashToPortMapping,
}

impl LbTxMethod {
    pub const fn name(self) -> &'static str {
        match self {
            LbTxMethod::Hash => "hash",
            LbTxMethod::HashToPortMapping => "hash_to_port_mapping",
        }
    }

    pub fn from_name(name: &[u8]) -> Result<LbTxMethod, Errno> {
        [LbTxMethod::Hash, LbTxMethod::HashToPortMapping]
            .into_iter()
            .find(|m| m.name().as_bytes() == name)
            .ok_or(Errno::Inval)
    }
}

/// loadbalance: the list position to send a frame with bucket `hash` on.
/// `mapped` is the position of the port the mapping table names, if any.
/// No link check: teamd disables ports that are down.
pub fn lb_pick(
    ports: &[TxPort],
    hash: u8,
    en_count: usize,
    method: LbTxMethod,
    mapped: Option<usize>,
) -> Option<usize> {
    if method == LbTxMethod::HashToPortMapping {
        if let Some(pos) = mapped {
            return Some(pos);
        }
    }
    port_by_number(ports, hash as u32, en_count)
}

/// activebackup: an `activeport` write must name a port of the team; 0
/// names none, so it is refused too (team.ko cannot clear it either).
pub fn check_active_port(
    requested: u32,
    team_ports: impl IntoIterator<Item = u32>,
) -> Result<u32, Errno> {
    if team_ports.into_iter().any(|i| i == requested) {
        Ok(requested)
    } else {
        Err(Errno::NoEnt)
    }
}

/// loadbalance: a mapping entry may only name an enabled port of the team
/// (0 is not one: team.ko answers ENODEV).
pub fn check_mapped_port(
    requested: u32,
    enabled_ports: impl IntoIterator<Item = u32>,
) -> Result<u32, Errno> {
    if requested != 0 && enabled_ports.into_iter().any(|i| i == requested) {
        Ok(requested)
    } else {
        Err(Errno::NoDev)
    }
}

/// A port as queue override sees it (team.ko's `queue_id` and `priority`
/// port options).
#[derive(Clone, Copy, Debug)]
pub struct QueuePort {
    pub queue_id: u16,
    pub priority: i32,
    pub enabled_index: Option<usize>,
}

/// Queue override, in every mode: the list position of the port that frames
/// on the team's tx queue `queue` go out on, if any. Among the enabled ports
/// with that queue id the lowest `priority` value wins, a tie goes to the
/// lower enabled index (team.ko's order of its per-queue lists). Queue 0 is
/// the default queue and never overridden. No link check, as team.ko.
pub fn queue_override_port(
    ports: impl IntoIterator<Item = QueuePort>,
    queue: u16,
) -> Option<usize> {
    if queue == 0 {
        return None;
    }
    ports
        .into_iter()
        .enumerate()
        .filter_map(|(pos, p)| match p.enabled_index {
            Some(i) if p.queue_id == queue => Some((p.priority, i, pos)),
            _ => None,
        })
        .min()
        .map(|(_, _, pos)| pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(spec: &[(Option<usize>, bool)]) -> Vec<TxPort> {
        spec.iter()
            .map(|&(enabled_index, txable)| TxPort {
                enabled_index,
                txable,
            })
            .collect()
    }

    #[test]
    fn names_round_trip_and_unknown_is_none() {
        for m in Mode::ALL {
            assert_eq!(Mode::from_name(m.name().as_bytes()), Some(m));
        }
        assert_eq!(Mode::from_name(b"lacp"), None);
        assert_eq!(Mode::ActiveBackup.options()[0].name, "activeport");
        assert_eq!(Mode::LoadBalance.options().len(), 6);
        assert!(Mode::Broadcast.sets_port_mac() && !Mode::ActiveBackup.sets_port_mac());
    }

    #[test]
    fn mode_change_rules() {
        assert_eq!(
            check_mode_change(None, b"roundrobin", 0),
            Ok(Mode::RoundRobin)
        );
        assert_eq!(check_mode_change(None, b"roundrobin", 1), Err(Errno::Busy));
        assert_eq!(
            check_mode_change(Some(Mode::Random), b"random", 0),
            Err(Errno::Inval)
        );
        assert_eq!(
            check_mode_change(Some(Mode::Random), b"bogus", 0),
            Err(Errno::Inval)
        );
        assert_eq!(
            check_mode_change(Some(Mode::Random), b"broadcast", 0),
            Ok(Mode::Broadcast)
        );
    }

    #[test]
    fn roundrobin_cycles_over_enabled_ports_and_skips_down_ones() {
        // Port list: A (enabled 0), B (disabled), C (enabled 1).
        let p = ports(&[(Some(0), true), (None, false), (Some(1), true)]);
        let picks: Vec<_> = (0..4).map(|n| pick_numbered(&p, n, 2)).collect();
        assert_eq!(picks, [Some(0), Some(2), Some(0), Some(2)]);
        // C enabled but link down: its turn goes to the next txable, wrapping to A.
        let p = ports(&[(Some(0), true), (None, false), (Some(1), false)]);
        assert_eq!(pick_numbered(&p, 1, 2), Some(0));
        // Nothing txable.
        let p = ports(&[(Some(0), false), (Some(1), false)]);
        assert_eq!(pick_numbered(&p, 0, 2), None);
        // No enabled ports at all.
        assert_eq!(pick_numbered(&ports(&[(None, false)]), 3, 0), None);
        assert_eq!(pick_numbered(&[], 3, 0), None);
    }

    #[test]
    fn hash_fold_is_xor_of_bytes() {
        assert_eq!(fold_hash(0), 0);
        assert_eq!(fold_hash(0x0102_0408), 0x0f);
        assert_eq!(fold_hash(0xffff_ffff), 0);
        assert_eq!(fold_hash(0x0000_00ab), 0xab);
    }

    #[test]
    fn loadbalance_pick_uses_mapping_only_when_asked() {
        let p = ports(&[(Some(0), true), (Some(1), true), (Some(2), true)]);
        assert_eq!(lb_pick(&p, 4, 3, LbTxMethod::Hash, Some(2)), Some(1));
        assert_eq!(
            lb_pick(&p, 4, 3, LbTxMethod::HashToPortMapping, Some(2)),
            Some(2)
        );
        assert_eq!(
            lb_pick(&p, 4, 3, LbTxMethod::HashToPortMapping, None),
            Some(1)
        );
        // No link check: a port that is down still gets its bucket.
        let p = ports(&[(Some(0), false), (Some(1), true)]);
        assert_eq!(lb_pick(&p, 2, 2, LbTxMethod::Hash, None), Some(0));
        assert_eq!(
            LbTxMethod::from_name(b"hash_to_port_mapping"),
            Ok(LbTxMethod::HashToPortMapping)
        );
        assert_eq!(LbTxMethod::from_name(b"xor"), Err(Errno::Inval));
    }

    #[test]
    fn queue_override_takes_the_lowest_priority_then_the_lower_enabled_index() {
        let q = |queue_id, priority, enabled_index| QueuePort {
            queue_id,
            priority,
            enabled_index,
        };
        let set = [q(2, 5, Some(0)), q(2, 1, Some(1)), q(3, 0, Some(2))];
        assert_eq!(queue_override_port(set, 2), Some(1));
        assert_eq!(queue_override_port(set, 3), Some(2));
        assert_eq!(queue_override_port(set, 4), None);
        // queue 0 is the default queue, never overridden
        assert_eq!(queue_override_port([q(0, 0, Some(0))], 0), None);
        // equal priorities: the lower enabled index, wherever it is in the list
        let set = [q(2, 1, Some(1)), q(2, 1, Some(0))];
        assert_eq!(queue_override_port(set, 2), Some(1));
        // a disabled port takes part in no override, whatever its priority
        let set = [q(2, -9, None), q(2, 3, Some(0))];
        assert_eq!(queue_override_port(set, 2), Some(1));
        assert_eq!(queue_override_port([q(2, -9, None)], 2), None);
    }

    #[test]
    fn activeport_must_be_a_team_port() {
        assert_eq!(check_active_port(0, [3, 4]), Err(Errno::NoEnt));
        assert_eq!(check_active_port(4, [3, 4]), Ok(4));
        assert_eq!(check_active_port(5, [3, 4]), Err(Errno::NoEnt));
        assert_eq!(check_mapped_port(3, [3]), Ok(3));
        assert_eq!(check_mapped_port(4, [3]), Err(Errno::NoDev));
        assert_eq!(check_mapped_port(0, [3]), Err(Errno::NoDev));
    }
}
