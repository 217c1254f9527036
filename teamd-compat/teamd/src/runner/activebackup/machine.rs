//! The activebackup runner's decisions, apart from the kernel: which port is
//! active, and what each event asks of the kernel for it, as actions in C
//! teamd's order with C's error handling (see `action`). The choice repeats
//! C's quirks: candidates are scanned active-first then in port list order,
//! and "better" is the OR-chain prio > or speed > or (speed == and duplex >),
//! not a lexicographic order.

use super::super::action::{Action, IfGone, Op, Then};
use super::super::same_mac;
use super::super::view::View;

/// Work-queue ids (C teamd defers these to its work queue).
pub const WORK_REEVALUATE: u32 = 1;
pub const WORK_SET_ACTIVE: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HwaddrPolicy {
    SameAll,
    ByActive,
    OnlyActive,
}

/// What holds only once the writes before it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The port is now the active one.
    Active(u32),
    /// only_active: the MAC the new active port had, restored when it steps
    /// down (recorded before its MAC is set, as C does).
    OwnMac(Vec<u8>),
}

pub type Actions = Vec<Action<Note>>;

#[derive(Debug, Clone)]
pub struct Machine {
    /// 0: none.
    pub active: u32,
    pub policy: HwaddrPolicy,
    /// only_active: the active port's own MAC, restored when it steps down.
    pub active_orig_hwaddr: Vec<u8>,
    /// A warm restart's saved active port and, for `only_active`, its own MAC.
    pub saved: Option<(u32, Vec<u8>)>,
}

impl Machine {
    pub fn new(policy: HwaddrPolicy) -> Self {
        Self {
            active: 0,
            policy,
            active_orig_hwaddr: Vec::new(),
            saved: None,
        }
    }

    /// Takes a note `apply` reached.
    pub fn noted(&mut self, note: Note) {
        match note {
            Note::Active(ifindex) => self.active = ifindex,
            Note::OwnMac(mac) => self.active_orig_hwaddr = mac,
        }
    }

    /// At a takeover, the port the kernel has as enabled active port stays
    /// so (C teamd disables it and picks again, dropping traffic meanwhile);
    /// `only_active` needs the port's own MAC for that, which only a warm
    /// restart's state has.
    fn keeps_active(&mut self, v: &View, ifindex: u32) -> bool {
        if !v.adopting
            || v.active_port != Some(ifindex)
            || v.port(ifindex).and_then(|p| p.enabled) != Some(true)
        {
            return false;
        }
        if self.policy == HwaddrPolicy::OnlyActive {
            match &self.saved {
                Some((active, orig)) if *active == ifindex && !orig.is_empty() => {
                    self.active_orig_hwaddr = orig.clone();
                }
                _ => return false,
            }
        }
        true
    }

    /// New ports start disabled (except an active port taken over);
    /// same_all gives them the team MAC.
    pub fn port_added(&mut self, v: &View, ifindex: u32) -> Actions {
        let ifname = v.ifname(ifindex);
        let same_all = self.policy == HwaddrPolicy::SameAll;
        if self.keeps_active(v, ifindex) {
            self.active = ifindex;
            let mut acts = vec![Action::info(format!(
                "{ifname}: Keeping the active port the team had."
            ))];
            let mac = v.port(ifindex).map(|p| p.mac()).unwrap_or_default();
            if same_all && mac != v.team_hwaddr {
                acts.push(same_mac::port_to_team(v, ifindex));
            }
            return acts;
        }
        let mut acts = vec![Action::kernel(
            Op::Enabled {
                ifindex,
                enabled: false,
            },
            format!("{ifname}: Failed to disable port."),
            Then::FailUnlessGone,
        )];
        if same_all {
            acts.push(same_mac::port_to_team(v, ifindex));
        }
        acts
    }

    /// C's `ab_clear_active_port`: no active port; the old one, if still in
    /// the team, is disabled (and under only_active gets its own MAC back).
    fn clear(&mut self, v: &View, old: Option<u32>) -> Actions {
        self.active = 0;
        let Some(ifindex) = old.filter(|i| v.present(*i)) else {
            return Vec::new();
        };
        let ifname = v.ifname(ifindex);
        let mut acts = vec![
            Action::debug(format!("Clearing active port \"{ifname}\".")),
            Action::kernel(
                Op::Enabled {
                    ifindex,
                    enabled: false,
                },
                format!("{ifname}: Failed to disable active port."),
                Then::Fail,
            ),
        ];
        if self.policy == HwaddrPolicy::OnlyActive {
            acts.push(Action::kernel(
                Op::PortHwaddr {
                    ifindex,
                    mac: self.active_orig_hwaddr.clone(),
                },
                format!("{ifname}: Failed to set port hardware address."),
                Then::Fail,
            ));
        }
        acts
    }

    /// C's `ab_set_active_port`: enable, make active, then the MAC policy;
    /// a failure after the enable disables the port again.
    fn set(&self, v: &View, ifindex: u32) -> Actions {
        let ifname = v.ifname(ifindex);
        let undo = || {
            Then::UndoAndFail(Op::Enabled {
                ifindex,
                enabled: false,
            })
        };
        let mut acts = vec![
            Action::kernel(
                Op::Enabled {
                    ifindex,
                    enabled: true,
                },
                format!("{ifname}: Failed to enable active port."),
                Then::Fail,
            ),
            Action::kernel(
                Op::ActivePort(ifindex),
                format!("{ifname}: Failed to set as active port."),
                undo(),
            ),
        ];
        let own = v.port(ifindex).map(|p| p.mac()).unwrap_or_default();
        match self.policy {
            HwaddrPolicy::SameAll => {}
            HwaddrPolicy::ByActive => acts.push(Action::kernel(
                Op::TeamHwaddr(own),
                "Failed to set team hardware address.",
                undo(),
            )),
            HwaddrPolicy::OnlyActive => {
                acts.push(Action::Note(Note::OwnMac(own)));
                acts.push(Action::kernel(
                    Op::PortHwaddr {
                        ifindex,
                        mac: v.team_hwaddr.clone(),
                    },
                    format!("{ifname}: Failed to set port hardware address."),
                    undo(),
                ));
            }
        }
        acts.push(Action::Note(Note::Active(ifindex)));
        acts.push(Action::info(format!(
            "Changed active port to \"{ifname}\"."
        )));
        acts
    }

    /// C's `ab_change_active_port`: an old port that vanished does not stop
    /// the change; a new one that vanished means choosing again soon.
    pub fn change(&mut self, v: &View, old: Option<u32>, new: u32) -> Actions {
        let clear = self.clear(v, old);
        let set = self.set(v, new);
        let mut acts = Vec::new();
        if !clear.is_empty() {
            acts.push(Action::Call {
                steps: clear,
                if_gone: IfGone::GoOn,
            });
        }
        acts.push(Action::Call {
            steps: set,
            if_gone: IfGone::Retry(WORK_REEVALUATE),
        });
        acts
    }

    /// C teamd's `ab_link_watch_handler`: drop an active port that went down
    /// (or that someone else replaced in the kernel), then pick the best one.
    /// Not while the ports found at start-up are adopted (see `adopt_done`).
    pub fn reevaluate(&mut self, v: &View) -> Actions {
        if v.adopting {
            return Vec::new();
        }
        let mut acts = Vec::new();
        let mut active = v.port(self.active).map(|p| p.ifindex);
        if let Some(a) = active {
            if !v.link_up(a) || v.active_port.unwrap_or(0) != a {
                acts.extend(self.clear(v, Some(a)));
                active = None;
            }
        }
        let Some(best) = best_port(v, active) else {
            return acts;
        };
        if Some(best) == active {
            return acts;
        }
        let sticky = active.and_then(|a| v.port(a)).is_some_and(|p| p.sticky);
        if active.is_none() || !sticky {
            acts.extend(self.change(v, active, best));
        }
        acts
    }

    /// The ports found at start-up are all in: choose (deferred till now so
    /// that a taken-over active port is not replaced by a port adopted
    /// before it).
    pub fn adopt_done(&mut self, v: &View) -> Actions {
        self.saved = None;
        self.reevaluate(v)
    }

    pub fn team_hwaddr_changed(&self, v: &View) -> Actions {
        match self.policy {
            HwaddrPolicy::SameAll => same_mac::team_changed(v),
            HwaddrPolicy::OnlyActive if v.present(self.active) => {
                vec![same_mac::port_to_team(v, self.active)]
            }
            _ => Vec::new(),
        }
    }

    pub fn port_hwaddr_changed(&self, v: &View, ifindex: u32) -> Actions {
        let Some(p) = v.port(ifindex) else {
            return Vec::new();
        };
        if !p.present || self.policy != HwaddrPolicy::SameAll || p.mac() == v.team_hwaddr {
            return Vec::new();
        }
        vec![same_mac::port_to_team(v, ifindex)]
    }
}

/// The best port whose link is up: the active one (if still in the team)
/// is looked at first, then every port in list order.
fn best_port(v: &View, active: Option<u32>) -> Option<u32> {
    let first = active.filter(|a| v.present(*a));
    let mut best: Option<(u32, i32, u32, u8)> = None;
    for p in first
        .and_then(|a| v.port(a))
        .into_iter()
        .chain(v.ports.iter())
    {
        if !p.link_up || best.map(|b| b.0) == Some(p.ifindex) {
            continue;
        }
        // the kernel's speed and duplex (zero for a port not in its list)
        let better = match best {
            None => true,
            Some((_, bprio, bspeed, bduplex)) => {
                p.prio > bprio || p.speed > bspeed || (p.speed == bspeed && p.duplex > bduplex)
            }
        };
        if better {
            best = Some((p.ifindex, p.prio, p.speed, p.duplex));
        }
    }
    best.map(|b| b.0)
}

#[cfg(test)]
mod tests {
    use super::super::super::action::{ops, Level};
    use super::super::super::view::PortView;
    use super::*;

    const TEAM: [u8; 6] = [2, 0, 0, 0, 0, 0x10];

    fn own(ifindex: u32) -> Vec<u8> {
        vec![2, 0, 0, 0, 0, ifindex as u8]
    }

    /// (ifindex, link up, prio, sticky), newest port first; all in the
    /// kernel at 1000 Mb/s full duplex, disabled, on their own MACs.
    fn view(ports: &[(u32, bool, i32, bool)]) -> View {
        View {
            ports: ports
                .iter()
                .map(|&(ifindex, up, prio, sticky)| PortView {
                    ifindex,
                    ifname: format!("eth{ifindex}"),
                    link_up: up,
                    present: true,
                    enabled: Some(false),
                    prio,
                    linkup: up,
                    speed: 1000,
                    duplex: 1,
                    hwaddr: Some(own(ifindex)),
                    sticky,
                })
                .collect(),
            team_hwaddr: TEAM.to_vec(),
            active_port: Some(0),
            adopting: false,
        }
    }

    /// The machine's actions taken as all succeeding: its notes are
    /// recorded and the kernel's active port follows.
    fn run(m: &mut Machine, v: &mut View, acts: Actions) -> Vec<Op> {
        fn walk(m: &mut Machine, v: &mut View, acts: &Actions) {
            for a in acts {
                match a {
                    Action::Note(n) => m.noted(n.clone()),
                    Action::Call { steps, .. } => walk(m, v, steps),
                    Action::Kernel {
                        op: Op::ActivePort(i),
                        ..
                    } => v.active_port = Some(*i),
                    _ => {}
                }
            }
        }
        walk(m, v, &acts);
        ops(&acts)
    }

    fn machine(policy: HwaddrPolicy) -> Machine {
        Machine::new(policy)
    }

    fn enabled(ifindex: u32, enabled: bool) -> Op {
        Op::Enabled { ifindex, enabled }
    }

    fn port_mac(ifindex: u32, mac: Vec<u8>) -> Op {
        Op::PortHwaddr { ifindex, mac }
    }

    #[test]
    fn picks_the_highest_prio_with_link_and_fails_over() {
        let mut v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        let mut m = machine(HwaddrPolicy::SameAll);
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(3, true), Op::ActivePort(3)]
        );
        assert_eq!(m.active, 3);
        // its link goes: cleared (a write that must succeed), eth2 takes over
        v.ports[0].link_up = false;
        let acts = m.reevaluate(&v);
        assert_eq!(acts[0], Action::debug("Clearing active port \"eth3\"."));
        assert!(matches!(
            &acts[1],
            Action::Kernel {
                then: Then::Fail,
                ..
            }
        ));
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(3, false), enabled(2, true), Op::ActivePort(2)]
        );
        assert_eq!(m.active, 2);
        // back: the higher prio wins again
        v.ports[0].link_up = true;
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(2, false), enabled(3, true), Op::ActivePort(3)]
        );
        assert_eq!(m.active, 3);
        // nothing better: nothing to do
        assert!(m.reevaluate(&v).is_empty());
    }

    #[test]
    fn no_port_with_link_means_no_choice() {
        let mut v = view(&[(3, false, 10, false), (2, false, 0, false)]);
        let mut m = machine(HwaddrPolicy::SameAll);
        assert!(m.reevaluate(&v).is_empty());
        assert_eq!(m.active, 0);
        v.ports[1].link_up = true;
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(2, true), Op::ActivePort(2)]
        );
    }

    #[test]
    fn a_sticky_active_port_stays_until_its_link_goes() {
        let mut v = view(&[(3, false, 10, false), (2, true, 0, true)]);
        let mut m = machine(HwaddrPolicy::SameAll);
        let acts = m.reevaluate(&v);
        run(&mut m, &mut v, acts);
        assert_eq!(m.active, 2);
        v.ports[0].link_up = true;
        assert!(m.reevaluate(&v).is_empty(), "sticky: not replaced");
        v.ports[1].link_up = false;
        let acts = m.reevaluate(&v);
        run(&mut m, &mut v, acts);
        assert_eq!(m.active, 3);
    }

    #[test]
    fn an_active_port_replaced_behind_our_back_is_cleared() {
        let mut v = view(&[(3, true, 0, false), (2, true, 10, false)]);
        let mut m = machine(HwaddrPolicy::SameAll);
        let acts = m.reevaluate(&v);
        run(&mut m, &mut v, acts);
        assert_eq!(m.active, 2);
        v.active_port = Some(3); // someone else set it
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(2, false), enabled(2, true), Op::ActivePort(2)]
        );
    }

    #[test]
    fn the_new_port_vanishing_means_choosing_again_soon() {
        let v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        let mut m = machine(HwaddrPolicy::SameAll);
        let acts = m.reevaluate(&v);
        let [Action::Call { steps, if_gone }] = acts.as_slice() else {
            panic!("{acts:?}");
        };
        assert_eq!(*if_gone, IfGone::Retry(WORK_REEVALUATE));
        // the enable is not undone; a later failure is
        assert!(
            matches!(&steps[0], Action::Kernel { then: Then::Fail, log, .. }
            if log == "eth3: Failed to enable active port.")
        );
        assert!(matches!(&steps[1], Action::Kernel {
            then: Then::UndoAndFail(Op::Enabled { ifindex: 3, enabled: false }), log, .. }
            if log == "eth3: Failed to set as active port."));
        // the record and C's line only after the writes
        assert_eq!(
            steps[steps.len() - 2..],
            [
                Action::Note(Note::Active(3)),
                Action::Log(Level::Info, "Changed active port to \"eth3\".".into())
            ]
        );
    }

    #[test]
    fn same_all_gives_every_port_the_team_mac() {
        let mut v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        let mut m = machine(HwaddrPolicy::SameAll);
        assert_eq!(
            ops(&m.port_added(&v, 3)),
            vec![enabled(3, false), port_mac(3, TEAM.to_vec())]
        );
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(3, true), Op::ActivePort(3)],
            "no MAC change on activation"
        );
        let mut moved = v.clone();
        moved.team_hwaddr = vec![2, 0, 0, 0, 0, 0x20];
        assert_eq!(
            ops(&m.team_hwaddr_changed(&moved)),
            vec![
                port_mac(3, moved.team_hwaddr.clone()),
                port_mac(2, moved.team_hwaddr.clone())
            ]
        );
        assert_eq!(
            ops(&m.port_hwaddr_changed(&v, 2)),
            vec![port_mac(2, TEAM.to_vec())]
        );
        v.ports[1].hwaddr = Some(TEAM.to_vec());
        assert!(m.port_hwaddr_changed(&v, 2).is_empty());
    }

    #[test]
    fn by_active_gives_the_team_the_active_ports_mac() {
        let mut v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        let mut m = machine(HwaddrPolicy::ByActive);
        assert_eq!(ops(&m.port_added(&v, 3)), vec![enabled(3, false)]);
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(3, true), Op::ActivePort(3), Op::TeamHwaddr(own(3))]
        );
        v.ports[0].link_up = false;
        let acts = m.reevaluate(&v);
        let steps = match &acts[acts.len() - 1] {
            Action::Call { steps, .. } => steps.clone(),
            other => panic!("{other:?}"),
        };
        assert!(steps.contains(&Action::kernel(
            Op::TeamHwaddr(own(2)),
            "Failed to set team hardware address.",
            Then::UndoAndFail(enabled(2, false)),
        )));
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![
                enabled(3, false),
                enabled(2, true),
                Op::ActivePort(2),
                Op::TeamHwaddr(own(2))
            ]
        );
        // the ports keep their own MACs whatever the team's does
        assert!(m.team_hwaddr_changed(&v).is_empty());
        assert!(m.port_hwaddr_changed(&v, 2).is_empty());
    }

    #[test]
    fn only_active_lends_the_team_mac_to_the_active_port_and_takes_it_back() {
        let mut v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        let mut m = machine(HwaddrPolicy::OnlyActive);
        assert_eq!(ops(&m.port_added(&v, 2)), vec![enabled(2, false)]);
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![
                enabled(3, true),
                Op::ActivePort(3),
                port_mac(3, TEAM.to_vec())
            ]
        );
        assert_eq!(m.active_orig_hwaddr, own(3));
        // the port now shows the team's MAC; its own comes back when it steps down
        v.ports[0].hwaddr = Some(TEAM.to_vec());
        v.ports[0].link_up = false;
        let acts = m.reevaluate(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![
                enabled(3, false),
                port_mac(3, own(3)),
                enabled(2, true),
                Op::ActivePort(2),
                port_mac(2, TEAM.to_vec())
            ]
        );
        assert_eq!(m.active_orig_hwaddr, own(2));
        // a new team MAC goes to the active port only
        let mut moved = v.clone();
        moved.team_hwaddr = vec![2, 0, 0, 0, 0, 0x20];
        assert_eq!(
            ops(&m.team_hwaddr_changed(&moved)),
            vec![port_mac(2, moved.team_hwaddr.clone())]
        );
    }

    #[test]
    fn only_active_keeps_the_old_own_mac_until_the_new_port_gets_that_far() {
        let v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        let mut m = machine(HwaddrPolicy::OnlyActive);
        m.active = 2;
        m.active_orig_hwaddr = own(2);
        let mut v2 = v.clone();
        v2.active_port = Some(2);
        let acts = m.change(&v2, Some(2), 3);
        // decided, not yet applied: the record moves only when reached
        assert_eq!(m.active_orig_hwaddr, own(2));
        assert_eq!(m.active, 0);
        let Action::Call { steps, if_gone } = &acts[0] else {
            panic!("{acts:?}");
        };
        assert_eq!(
            *if_gone,
            IfGone::GoOn,
            "a vanished old port does not stop the change"
        );
        assert_eq!(ops(steps), vec![enabled(2, false), port_mac(2, own(2))]);
    }

    #[test]
    fn nothing_is_chosen_while_the_ports_found_at_start_are_adopted() {
        let mut v = view(&[(3, true, 10, false), (2, true, 0, false)]);
        v.adopting = true;
        let mut m = machine(HwaddrPolicy::SameAll);
        assert!(m.reevaluate(&v).is_empty());
        v.adopting = false;
        assert!(!m.adopt_done(&v).is_empty());
    }

    #[test]
    fn a_taken_over_active_port_is_kept_without_writes() {
        let mut v = view(&[(3, true, 0, false), (2, true, 10, false)]);
        v.adopting = true;
        v.active_port = Some(3);
        v.ports[0].enabled = Some(true);
        v.ports[0].hwaddr = Some(TEAM.to_vec());
        let mut m = machine(HwaddrPolicy::SameAll);
        let acts = m.port_added(&v, 3);
        assert_eq!(
            acts,
            vec![Action::info("eth3: Keeping the active port the team had.")]
        );
        assert_eq!(m.active, 3);
        // a backup is disabled as C does; a vanished one is no failure
        let acts = m.port_added(&v, 2);
        assert!(
            matches!(&acts[0], Action::Kernel { then: Then::FailUnlessGone, log, .. }
            if log == "eth2: Failed to disable port.")
        );
        // once all are in, the higher prio wins as usual
        v.adopting = false;
        let acts = m.adopt_done(&v);
        assert_eq!(
            run(&mut m, &mut v, acts),
            vec![enabled(3, false), enabled(2, true), Op::ActivePort(2)]
        );
    }

    #[test]
    fn only_active_takes_over_only_with_the_saved_own_mac() {
        let mut v = view(&[(2, true, 0, false)]);
        v.adopting = true;
        v.active_port = Some(2);
        v.ports[0].enabled = Some(true);
        let mut m = machine(HwaddrPolicy::OnlyActive);
        assert_eq!(ops(&m.port_added(&v, 2)), vec![enabled(2, false)]);
        let mut m = machine(HwaddrPolicy::OnlyActive);
        m.saved = Some((2, own(2)));
        assert!(ops(&m.port_added(&v, 2)).is_empty());
        assert_eq!((m.active, m.active_orig_hwaddr.clone()), (2, own(2)));
    }

    #[test]
    fn the_or_chain_lets_scan_order_decide() {
        // eth2: prio 5 at 1000 Mb/s; eth3: prio 0 at 10000 Mb/s
        let mut v = view(&[(3, true, 0, false), (2, true, 5, false)]);
        v.ports[0].speed = 10000;
        // eth3 scanned first: eth2 beats it on prio
        assert_eq!(best_port(&v, None), Some(2));
        v.ports.reverse();
        // eth2 scanned first: eth3 beats it on speed
        assert_eq!(best_port(&v, None), Some(3));
        // the active port is looked at first: eth2 beats it, and it eth2
        // again, so the active one stays (no flapping)
        assert_eq!(best_port(&v, Some(3)), Some(3));
    }
}
