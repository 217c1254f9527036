//! What the activebackup and loadbalance runners' decisions may look at: a
//! read-only snapshot of the team taken from `Ctx` right before a decision,
//! so that the decisions are plain functions a test can feed by hand.

use crate::kernel::Kernel;
use crate::team::Ctx;

/// One port teamd tracks, as the kernel and the link watches see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortView {
    pub ifindex: u32,
    /// The kernel's name for it (what C's log lines print).
    pub ifname: String,
    /// The link watches' summary (C's `teamd_link_watch_port_up`).
    pub link_up: bool,
    /// In the kernel's port list (C's `teamd_port_present`).
    pub present: bool,
    /// The port's `enabled` option, when the kernel reported one.
    pub enabled: Option<bool>,
    /// The port's `priority` option.
    pub prio: i32,
    /// The kernel's own view of the link: carrier, speed, duplex.
    pub linkup: bool,
    pub speed: u32,
    pub duplex: u8,
    /// The port's current MAC, when its link is known.
    pub hwaddr: Option<Vec<u8>>,
    /// `ports.<if>.sticky` (activebackup).
    pub sticky: bool,
}

impl PortView {
    /// The port's MAC, empty when unknown (as C compares a zeroed buffer).
    pub fn mac(&self) -> Vec<u8> {
        self.hwaddr.clone().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// teamd's ports, most recently added first (C's iteration order).
    pub ports: Vec<PortView>,
    pub team_hwaddr: Vec<u8>,
    /// The team's `activeport` option.
    pub active_port: Option<u32>,
    /// The ports found in the team at start-up are being adopted.
    pub adopting: bool,
}

impl View {
    pub fn of<K: Kernel>(ctx: &Ctx<K>) -> View {
        let k = &ctx.kernel;
        let ports = ctx
            .ports
            .iter()
            .map(|p| {
                let kp = k.kernel_port(p.ifindex);
                PortView {
                    ifindex: p.ifindex,
                    ifname: k.ifname(p.ifindex),
                    link_up: ctx.port_link_up(p.ifindex),
                    present: kp.is_some(),
                    enabled: k.port_enabled(p.ifindex),
                    prio: k.port_priority(p.ifindex),
                    linkup: kp.is_some_and(|kp| kp.linkup),
                    speed: kp.map_or(0, |kp| kp.speed),
                    duplex: kp.map_or(0, |kp| kp.duplex),
                    hwaddr: k.ifinfos().get(p.ifindex).map(|i| i.hwaddr.clone()),
                    sticky: p.settings.sticky,
                }
            })
            .collect();
        View {
            ports,
            team_hwaddr: ctx.team_hwaddr(),
            active_port: k.team_u32("activeport"),
            adopting: ctx.pre_add_ports,
        }
    }

    /// A port teamd tracks.
    pub fn port(&self, ifindex: u32) -> Option<&PortView> {
        self.ports.iter().find(|p| p.ifindex == ifindex)
    }

    /// A tracked port in the kernel's list.
    pub fn present(&self, ifindex: u32) -> bool {
        self.port(ifindex).is_some_and(|p| p.present)
    }

    /// The link watches' summary; a port teamd does not track counts as up
    /// (as `Ctx::port_link_up`).
    pub fn link_up(&self, ifindex: u32) -> bool {
        self.port(ifindex).is_none_or(|p| p.link_up)
    }

    /// The kernel's name of a tracked port (empty otherwise, as the kernel's
    /// name of an unknown link).
    pub fn ifname(&self, ifindex: u32) -> &str {
        self.port(ifindex).map_or("", |p| p.ifname.as_str())
    }
}
