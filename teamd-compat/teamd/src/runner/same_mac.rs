//! Keeping every port on the team's MAC, as loadbalance, lacp and
//! activebackup's `same_all` do: the decisions, as actions.

use super::action::{Action, Op, Then};
use super::view::View;

fn to_team<N>(v: &View, ifindex: u32, ifname: &str) -> Action<N> {
    Action::kernel(
        Op::PortHwaddr {
            ifindex,
            mac: v.team_hwaddr.clone(),
        },
        format!("{ifname}: Failed to set port hardware address."),
        Then::Fail,
    )
}

/// The team MAC changed: every port follows, stopping at the first failure.
pub fn team_changed<N>(v: &View) -> Vec<Action<N>> {
    v.ports
        .iter()
        .map(|p| to_team(v, p.ifindex, &p.ifname))
        .collect()
}

/// One port on the team's MAC, whatever it has now.
pub fn port_to_team<N>(v: &View, ifindex: u32) -> Action<N> {
    to_team(v, ifindex, v.ifname(ifindex))
}

/// A port's MAC changed: set it back unless it is the team's (or the port
/// has left the kernel's list).
pub fn port_changed<N>(v: &View, ifindex: u32) -> Vec<Action<N>> {
    match v.port(ifindex) {
        Some(p) if p.present && p.hwaddr.as_ref() != Some(&v.team_hwaddr) => {
            vec![port_to_team(v, ifindex)]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::action::ops;
    use super::super::view::PortView;
    use super::*;

    const TEAM: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn view() -> View {
        let port = |ifindex: u32, mac: Option<[u8; 6]>| PortView {
            ifindex,
            ifname: format!("eth{ifindex}"),
            present: true,
            hwaddr: mac.map(|m| m.to_vec()),
            ..Default::default()
        };
        View {
            ports: vec![
                port(3, Some([2, 0, 0, 0, 0, 3])),
                port(2, Some(TEAM)),
                port(4, None),
            ],
            team_hwaddr: TEAM.to_vec(),
            ..Default::default()
        }
    }

    fn to_team(ifindex: u32) -> Op {
        Op::PortHwaddr {
            ifindex,
            mac: TEAM.to_vec(),
        }
    }

    #[test]
    fn a_new_team_mac_goes_to_every_port_in_list_order() {
        let acts: Vec<Action<()>> = team_changed(&view());
        assert_eq!(ops(&acts), vec![to_team(3), to_team(2), to_team(4)]);
        match &acts[0] {
            Action::Kernel { log, then, .. } => {
                assert_eq!(log, "eth3: Failed to set port hardware address.");
                assert_eq!(*then, Then::Fail);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_drifted_port_mac_is_set_back_only_when_it_differs() {
        let v = view();
        assert_eq!(ops(&port_changed::<()>(&v, 3)), vec![to_team(3)]);
        assert!(port_changed::<()>(&v, 2).is_empty());
        // its link not known: set, as C compares against nothing
        assert_eq!(ops(&port_changed::<()>(&v, 4)), vec![to_team(4)]);
        let mut gone = v.clone();
        gone.ports[0].present = false;
        assert!(port_changed::<()>(&gone, 3).is_empty());
        assert!(port_changed::<()>(&v, 9).is_empty(), "not tracked");
    }
}
