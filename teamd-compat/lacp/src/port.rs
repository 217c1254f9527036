//! One LACP port as C teamd keeps it: configuration, the actor and partner
//! information, the receive state (`disabled` / `current` / `expired` /
//! `defaulted`), the aggregator it is selected into, and the timing values
//! of the periodic transmission and the partner timeout.

use std::time::Duration;

use crate::lacpdu::{state, LacpduInfo};

/// Periodic transmission interval when the partner asks for fast LACPDUs.
pub const PERIODIC_FAST: Duration = Duration::from_secs(1);
/// Periodic transmission interval otherwise.
pub const PERIODIC_SLOW: Duration = Duration::from_secs(30);
/// The partner information expires after this many periods without a LACPDU.
pub const TIMEOUT_PERIODS: u32 = 3;

/// Partner timeout for our own rate (`fast_rate`), or forced fast while
/// `expired` so that a lost partner is given up within 3 s.
pub fn timeout(fast: bool) -> Duration {
    (if fast { PERIODIC_FAST } else { PERIODIC_SLOW }) * TIMEOUT_PERIODS
}

/// The receive state of a port, named as in the state dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PortState {
    #[default]
    Disabled,
    Current,
    Expired,
    Defaulted,
}

impl PortState {
    pub fn name(self) -> &'static str {
        match self {
            PortState::Disabled => "disabled",
            PortState::Current => "current",
            PortState::Expired => "expired",
            PortState::Defaulted => "defaulted",
        }
    }
}

/// The kernel's view of a port's link (team port list: linkup, speed, duplex).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Link {
    pub up: bool,
    /// Mb/s; 0 when unknown (virtio, veth report none).
    pub speed: u32,
    /// 0 half, anything else full (0xff = unknown).
    pub duplex: u8,
}

impl Link {
    /// Usable for LACP: up and not half duplex with a known speed. A link
    /// reporting neither speed nor duplex (virtio, veth) counts as usable.
    pub fn usable(&self) -> bool {
        self.up && ((self.duplex == 0) == (self.speed == 0))
    }
}

/// The `ports.<if>` settings the runner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortConfig {
    pub lacp_prio: u16,
    pub lacp_key: u16,
    pub sticky: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            lacp_prio: 255,
            lacp_key: 0,
            sticky: false,
        }
    }
}

/// The two timers each port runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortTimer {
    /// Periodic LACPDU transmission (re-armed by its own expiry).
    Periodic,
    /// The partner information times out (one shot).
    Timeout,
}

/// A port of the team as the LACP machine sees it.
#[derive(Debug, Clone)]
pub struct Port {
    pub ifindex: u32,
    pub ifname: String,
    /// The port's permanent MAC: source address of its LACPDUs (none = no
    /// Ethernet address of 6 bytes, so nothing is sent, as in C teamd).
    pub orig_mac: Option<[u8; 6]>,
    pub cfg: PortConfig,
    pub actor: LacpduInfo,
    pub partner: LacpduInfo,
    /// The partner as last seen by `partner_update`, to notice bit changes.
    pub(crate) partner_last: LacpduInfo,
    pub state: PortState,
    pub(crate) link_last: Link,
    /// Current kernel link (speed feeds the `bandwidth` policy).
    pub link: Link,
    /// Periodic transmission wanted by the state (not `disabled`).
    pub(crate) periodic_on: bool,
    /// Periodic timer actually running.
    pub(crate) periodic_running: bool,
    /// Lead port (ifindex) of the aggregator this port is selected into.
    pub agg_lead: Option<u32>,
    /// The kernel `enabled` option as the daemon last saw or set it.
    pub enabled: bool,
    /// The kernel `priority` option (`port_config` policy).
    pub prio: i32,
}

impl Port {
    pub fn new(ifindex: u32, ifname: &str, orig_mac: Option<[u8; 6]>, cfg: PortConfig) -> Port {
        Port {
            ifindex,
            ifname: ifname.to_string(),
            orig_mac,
            cfg,
            actor: LacpduInfo::default(),
            partner: LacpduInfo::default(),
            partner_last: LacpduInfo::default(),
            state: PortState::Disabled,
            link_last: Link::default(),
            link: Link::default(),
            periodic_on: false,
            periodic_running: false,
            agg_lead: None,
            enabled: false,
            prio: 0,
        }
    }

    pub fn selected(&self) -> bool {
        self.agg_lead.is_some()
    }

    pub fn is_agg_lead(&self) -> bool {
        self.agg_lead == Some(self.ifindex)
    }

    /// Periodic interval the partner asked for (its LACP_Timeout bit).
    pub fn periodic_interval(&self) -> Duration {
        if self.partner.state & state::LACP_TIMEOUT != 0 {
            PERIODIC_FAST
        } else {
            PERIODIC_SLOW
        }
    }

    /// Actor and partner on the same system: the port is looped back to us.
    pub fn looped_back(&self) -> bool {
        self.actor.system == self.partner.system
    }

    /// Same actor key, partner key and partner system: may share an aggregator.
    pub fn aggregable_with(&self, other: &Port) -> bool {
        self.partner.key == other.partner.key
            && self.actor.key == other.actor.key
            && self.partner.system == other.partner.system
    }

    /// C teamd's priority record: the (sysprio, system, port prio, port) of
    /// whichever side has the better system id (the partner on a tie), with
    /// key and state zeroed and the 16-bit fields in host byte order, ready
    /// for a byte-wise comparison (smaller is better). Host order is C's
    /// quirk: on little-endian machines the low byte decides first.
    pub fn prio_record(&self) -> [u8; 15] {
        let (a, p) = (&self.actor, &self.partner);
        let actor_better = a.system_priority < p.system_priority
            || (a.system_priority == p.system_priority && a.system < p.system);
        let side = if actor_better { a } else { p };
        let mut r = [0u8; 15];
        r[0..2].copy_from_slice(&side.system_priority.to_ne_bytes());
        r[2..8].copy_from_slice(&side.system);
        // key (8..10) and state (14) stay zero
        r[10..12].copy_from_slice(&side.port_priority.to_ne_bytes());
        r[12..14].copy_from_slice(&side.port.to_ne_bytes());
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_values() {
        assert_eq!(timeout(true), Duration::from_secs(3));
        assert_eq!(timeout(false), Duration::from_secs(90));
        let mut p = Port::new(2, "eth0", None, PortConfig::default());
        assert_eq!(p.periodic_interval(), PERIODIC_SLOW);
        p.partner.state = state::LACP_TIMEOUT;
        assert_eq!(p.periodic_interval(), PERIODIC_FAST);
    }

    #[test]
    fn link_usability_follows_c_teamd() {
        let l = |up, speed, duplex| Link { up, speed, duplex }.usable();
        assert!(l(true, 1000, 1));
        assert!(l(true, 0, 0), "virtio/veth report nothing");
        assert!(!l(true, 100, 0), "half duplex");
        assert!(!l(true, 0, 1));
        assert!(!l(false, 1000, 1));
    }

    #[test]
    fn prio_record_takes_the_better_system_and_host_order() {
        let mut p = Port::new(2, "eth0", None, PortConfig::default());
        p.actor = LacpduInfo {
            system_priority: 100,
            system: [2, 0, 0, 0, 0, 9],
            key: 7,
            port_priority: 0x0102,
            port: 3,
            state: 0x3f,
        };
        p.partner = LacpduInfo {
            system_priority: 200,
            system: [2, 0, 0, 0, 0, 1],
            ..LacpduInfo::default()
        };
        let r = p.prio_record();
        assert_eq!(&r[0..2], &100u16.to_ne_bytes());
        assert_eq!(&r[2..8], &[2, 0, 0, 0, 0, 9]);
        assert_eq!(&r[8..10], &[0, 0], "key not compared");
        assert_eq!(&r[10..12], &0x0102u16.to_ne_bytes());
        assert_eq!(r[14], 0, "state not compared");
        // equal system ids: the partner side is used
        p.partner.system_priority = 100;
        p.partner.system = p.actor.system;
        p.partner.port = 77;
        assert_eq!(&p.prio_record()[12..14], &77u16.to_ne_bytes());
    }
}
