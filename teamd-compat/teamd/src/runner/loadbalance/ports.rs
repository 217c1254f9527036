//! The loadbalance runner's decisions about its ports, apart from the
//! kernel: a port carries traffic (is enabled) exactly while its link is up,
//! and every port is on the team's MAC.

use super::super::action::{Action, Op, Then};
use super::super::view::View;

/// What holds only once the writes before it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The TX balancer takes the port.
    Balance(u32),
}

pub type Actions = Vec<Action<Note>>;

fn set_enabled(ifname: &str, ifindex: u32, enabled: bool) -> Action<Note> {
    let verb = if enabled { "enable" } else { "disable" };
    Action::kernel(
        Op::Enabled { ifindex, enabled },
        format!("{ifname}: Failed to {verb} port."),
        Then::FailUnlessGone,
    )
}

/// A new port: the team's MAC, disabled while the kernel has its link down,
/// then the balancer's.
pub fn added(v: &View, ifindex: u32) -> Actions {
    let Some(p) = v.port(ifindex) else {
        return Vec::new();
    };
    let mut acts = vec![Action::kernel(
        Op::PortHwaddr {
            ifindex,
            mac: v.team_hwaddr.clone(),
        },
        // C's loadbalance words this one differently from the other MAC errors
        format!("Failed to set port \"{}\" hardware address. ", p.ifname),
        Then::Fail,
    )];
    if !p.linkup {
        acts.push(set_enabled(&p.ifname, ifindex, false));
    }
    acts.push(Action::Note(Note::Balance(ifindex)));
    acts
}

/// C's `teamd_port_check_enable`: enabled exactly while the link watches
/// say up (after a link change, or someone else setting `enabled`).
pub fn check_enable(v: &View, ifindex: u32) -> Actions {
    let Some(p) = v.port(ifindex).filter(|p| p.present) else {
        return Vec::new();
    };
    match p.enabled {
        Some(enabled) if enabled != p.link_up => {
            let up = p.link_up;
            vec![
                Action::debug(format!(
                    "{}: {} port",
                    p.ifname,
                    if up { "Enabling" } else { "Disabling" }
                )),
                set_enabled(&p.ifname, ifindex, up),
            ]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::action::ops;
    use super::super::super::view::PortView;
    use super::*;

    const TEAM: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn view(link_up: bool, linkup: bool, enabled: Option<bool>) -> View {
        View {
            ports: vec![PortView {
                ifindex: 2,
                ifname: "eth0".into(),
                link_up,
                present: true,
                enabled,
                linkup,
                ..Default::default()
            }],
            team_hwaddr: TEAM.to_vec(),
            ..Default::default()
        }
    }

    fn enabled(v: bool) -> Op {
        Op::Enabled {
            ifindex: 2,
            enabled: v,
        }
    }

    #[test]
    fn a_new_port_takes_the_team_mac_and_waits_disabled_for_its_link() {
        let team_mac = Op::PortHwaddr {
            ifindex: 2,
            mac: TEAM.to_vec(),
        };
        let down = added(&view(false, false, Some(true)), 2);
        assert_eq!(ops(&down), vec![team_mac.clone(), enabled(false)]);
        assert_eq!(down.last(), Some(&Action::Note(Note::Balance(2))));
        let up = added(&view(true, true, Some(true)), 2);
        assert_eq!(ops(&up), vec![team_mac]);
        assert!(
            matches!(&up[0], Action::Kernel { log, then: Then::Fail, .. }
            if log == "Failed to set port \"eth0\" hardware address. ")
        );
    }

    #[test]
    fn enabled_follows_the_link_watches() {
        let acts = check_enable(&view(true, true, Some(false)), 2);
        assert_eq!(ops(&acts), vec![enabled(true)]);
        assert_eq!(acts[0], Action::debug("eth0: Enabling port"));
        assert!(
            matches!(&acts[1], Action::Kernel { log, then: Then::FailUnlessGone, .. }
            if log == "eth0: Failed to enable port.")
        );
        assert_eq!(
            ops(&check_enable(&view(false, true, Some(true)), 2)),
            vec![enabled(false)]
        );
        // already right, no option known yet, or not in the team
        assert!(check_enable(&view(true, true, Some(true)), 2).is_empty());
        assert!(check_enable(&view(true, true, None), 2).is_empty());
        assert!(check_enable(&view(true, true, Some(false)), 3).is_empty());
        let mut gone = view(true, true, Some(false));
        gone.ports[0].present = false;
        assert!(check_enable(&gone, 2).is_empty());
    }
}
