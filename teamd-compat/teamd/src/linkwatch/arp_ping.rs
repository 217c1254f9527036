//! The `arp_ping` watcher: broadcasts ARP requests for `target_host` from
//! each port and takes ARP traffic seen on the port (by default any request
//! or reply; with `validate_active`/`validate_inactive` only the reply to
//! our request) as proof the link works.

use std::net::Ipv4Addr;

use serde_json::{json, Map, Value};
use teamd_probe::arp::{self, ArpProbe};
use teamd_probe::eth::ETH_P_ALL;
use teamd_probe::filter;

use super::periodic::{self, Periodic};
use crate::config::{bool_of, int_of, str_of};
use crate::kernel::{KResult, Kernel};
use crate::log;
use crate::packet::{RxFrame, SockKey, SockSpec};
use crate::sys::resolve;
use crate::team::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPing {
    pub periodic: Periodic,
    pub probe: ArpProbe,
    pub validate_active: bool,
    pub validate_inactive: bool,
    pub send_always: bool,
}

impl ArpPing {
    pub fn from_config(v: &Value) -> Result<Self, String> {
        let periodic = Periodic::from_config(v)?;
        // RFC 5227 probes use 0.0.0.0 when no source is given.
        let source = match str_of(v.get("source_host")) {
            Some(host) => resolve::ipv4(host)?,
            None => Ipv4Addr::UNSPECIFIED,
        };
        log::dbg(1, || format!("source address \"{source}\"."));
        let target_host = str_of(v.get("target_host"))
            .ok_or_else(|| "Failed to get \"target_host\" link-watch option.".to_string())?;
        let target = resolve::ipv4(target_host)?;
        log::dbg(1, || format!("target address \"{target}\"."));
        let flag = |key: &str| {
            let b = bool_of(v.get(key)).unwrap_or(false);
            log::dbg(1, || format!("{key} \"{}\".", u8::from(b)));
            b
        };
        let validate_active = flag("validate_active");
        let validate_inactive = flag("validate_inactive");
        let send_always = flag("send_always");
        let vlanid = match int_of(v.get("vlanid")) {
            Some(id) if !(0..4096).contains(&id) => {
                return Err("Wrong \"vlanid\" option value.".into())
            }
            Some(id) => {
                log::dbg(1, || format!("vlan id \"{id}\"."));
                Some(id as u16)
            }
            None => None,
        };
        Ok(Self {
            periodic,
            probe: ArpProbe {
                source,
                target,
                vlanid,
            },
            validate_active,
            validate_inactive,
            send_always,
        })
    }

    /// C teamd's state keys, in its order.
    pub fn state(&self, m: &mut Map<String, Value>) {
        m.insert("source_host".into(), json!(self.probe.source.to_string()));
        m.insert("target_host".into(), json!(self.probe.target.to_string()));
        self.periodic.insert_interval(m);
        m.insert("validate_active".into(), json!(self.validate_active));
        m.insert("validate_inactive".into(), json!(self.validate_inactive));
        m.insert("send_always".into(), json!(self.send_always));
        self.periodic.insert_missed(m);
    }

    /// The socket: every ARP frame of the port (ETH_P_ALL, as C teamd, so
    /// VLAN tags are still in the metadata the filter reads).
    pub fn sock_spec(&self, ifindex: u32) -> SockSpec {
        SockSpec {
            ifindex,
            ethertype: ETH_P_ALL,
            filter: filter::arp(self.probe.vlanid),
            multicast: Vec::new(),
        }
    }

    /// Sends a request if this port probes now.
    pub fn send<K: Kernel>(&self, ctx: &mut Ctx<K>, ifindex: u32, watch: u32) -> KResult {
        if !(periodic::forced_send(ctx, ifindex) || self.send_always) {
            return Ok(());
        }
        let Ok(mac) = <[u8; 6]>::try_from(ctx.port_hwaddr(ifindex).as_slice()) else {
            log::err("Unexpected length of hw address.");
            return Ok(());
        };
        let frame = self.probe.request_frame(mac);
        periodic::send_result(
            ctx.kernel
                .packet_send(SockKey::LinkWatch { ifindex, watch }, &frame),
        )
    }

    /// A frame from the socket: is it the sign of life we count?
    pub fn receive<K: Kernel>(&self, ctx: &mut Ctx<K>, ifindex: u32, watch: u32, frame: &RxFrame) {
        let (eth, packet) = match arp::parse_frame(&frame.data) {
            Ok(p) => p,
            Err(e) => return periodic::dropped(ctx, ifindex, watch, &e),
        };
        // The filter already checked the tag; checked again so that nothing
        // depends on the kernel having run it.
        let tci = frame.vlan_tci.or(eth.vlan_tci);
        let vlan_ok = match self.probe.vlanid {
            None => tci.unwrap_or(0) == 0,
            Some(id) => tci.is_some_and(|t| t & 0x0fff == id),
        };
        if !vlan_ok {
            return periodic::dropped(ctx, ifindex, watch, &"other VLAN");
        }
        let enabled = ctx.kernel.port_enabled(ifindex).unwrap_or(false);
        let validate = if enabled {
            self.validate_active
        } else {
            self.validate_inactive
        };
        if validate && !self.probe.is_reply(&packet) {
            return periodic::dropped(ctx, ifindex, watch, &"not a reply to our request");
        }
        periodic::reply_received(ctx, ifindex, watch);
    }
}
