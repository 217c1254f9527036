// SPDX-License-Identifier: GPL-2.0-only
//! Option instances in team.ko's list order: team-wide core options, then
//! the mode's team-wide and array options (a mode is only set while the team
//! has no ports, so they come before any port's), then per port (port-list
//! order) its core and mode per-port options.

use super::modes::Mode;
use super::options::{OptionDesc, CORE_OPTIONS};

/// One option instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub desc: &'static OptionDesc,
    /// Position in the port list, for per-port options.
    pub port: Option<usize>,
    pub array_index: Option<u32>,
}

fn team_wide(descs: &'static [OptionDesc]) -> impl Iterator<Item = Instance> {
    descs.iter().filter(|d| !d.per_port).flat_map(|desc| {
        let (n, array) = if desc.array_size == 0 {
            (1, false)
        } else {
            (desc.array_size, true)
        };
        (0..n).map(move |i| Instance {
            desc,
            port: None,
            array_index: array.then_some(i),
        })
    })
}

fn per_port(descs: &'static [OptionDesc], port: usize) -> impl Iterator<Item = Instance> {
    descs
        .iter()
        .filter(|d| d.per_port)
        .map(move |desc| Instance {
            desc,
            port: Some(port),
            array_index: None,
        })
}

/// All instances of a team with `mode` and `port_count` ports.
pub fn all(mode: Option<Mode>, port_count: usize) -> impl Iterator<Item = Instance> {
    let mode_opts: &'static [OptionDesc] = mode.map_or(&[], Mode::options);
    team_wide(&CORE_OPTIONS).chain(team_wide(mode_opts)).chain(
        (0..port_count).flat_map(move |p| per_port(&CORE_OPTIONS, p).chain(per_port(mode_opts, p))),
    )
}

/// The instances belonging to one port (added or removed with it).
pub fn of_port(mode: Option<Mode>, port: usize) -> impl Iterator<Item = Instance> {
    let mode_opts: &'static [OptionDesc] = mode.map_or(&[], Mode::options);
    per_port(&CORE_OPTIONS, port).chain(per_port(mode_opts, port))
}

/// The instances a mode adds (or removes when it goes).
pub fn of_mode(mode: Mode) -> impl Iterator<Item = Instance> {
    team_wide(mode.options())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(
        it: impl Iterator<Item = Instance>,
    ) -> Vec<(&'static str, Option<usize>, Option<u32>)> {
        it.map(|i| (i.desc.name, i.port, i.array_index)).collect()
    }

    #[test]
    fn no_mode_no_ports_is_the_five_team_options() {
        let v = names(all(None, 0));
        assert_eq!(v.len(), 5);
        assert_eq!(v[0], ("mode", None, None));
        assert_eq!(v[4], ("mcast_rejoin_interval", None, None));
    }

    #[test]
    fn activebackup_with_two_ports_in_team_ko_order() {
        let v = names(all(Some(Mode::ActiveBackup), 2));
        assert_eq!(v.len(), 5 + 1 + 2 * 5);
        assert_eq!(v[5], ("activeport", None, None));
        assert_eq!(v[6], ("enabled", Some(0), None));
        assert_eq!(v[10], ("queue_id", Some(0), None));
        assert_eq!(v[11], ("enabled", Some(1), None));
    }

    #[test]
    fn loadbalance_arrays_and_port_stats() {
        let v = names(all(Some(Mode::LoadBalance), 1));
        // 5 core + bpf + method + 256 mapping + 256 hash stats + interval + 6 per port.
        assert_eq!(v.len(), 5 + 2 + 512 + 1 + 6);
        assert_eq!(v[7], ("lb_tx_hash_to_port_mapping", None, Some(0)));
        assert_eq!(v[7 + 255], ("lb_tx_hash_to_port_mapping", None, Some(255)));
        assert_eq!(v[7 + 256], ("lb_hash_stats", None, Some(0)));
        assert_eq!(v[7 + 512], ("lb_stats_refresh_interval", None, None));
        assert_eq!(*v.last().unwrap(), ("lb_port_stats", Some(0), None));
        assert_eq!(names(of_port(Some(Mode::LoadBalance), 3)).len(), 6);
        assert_eq!(names(of_mode(Mode::LoadBalance)).len(), 515);
        assert_eq!(names(of_mode(Mode::Broadcast)).len(), 0);
    }
}
