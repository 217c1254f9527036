//! The `nsna_ping` watcher: sends IPv6 Neighbour Solicitations for
//! `target_host` from enabled ports and takes the matching Neighbour
//! Advertisement as proof the link works. Solicitations go through the
//! kernel's IPv6 stack (which picks the port's address as source); the
//! advertisements are read from a packet socket on the port, since the IPv6
//! stack does not deliver them for inactive ports.

use std::net::Ipv6Addr;

use serde_json::{json, Map, Value};
use teamd_probe::eth::ETH_P_ALL;
use teamd_probe::filter;
use teamd_probe::nd::{self, NsProbe};

use super::periodic::{self, Periodic};
use crate::config::str_of;
use crate::kernel::{KResult, Kernel};
use crate::log;
use crate::packet::{RxFrame, SockSpec};
use crate::sys::resolve;
use crate::team::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsnaPing {
    pub periodic: Periodic,
    pub probe: NsProbe,
    /// The scope id getaddrinfo gave `target_host` (`fe80::1%eth0`).
    pub scope_id: u32,
}

/// getnameinfo(NI_NUMERICHOST) text: the address, `%scope` when scoped.
fn numeric_host(addr: Ipv6Addr, scope_id: u32) -> String {
    if scope_id == 0 {
        addr.to_string()
    } else {
        format!("{addr}%{scope_id}")
    }
}

impl NsnaPing {
    pub fn from_config(v: &Value) -> Result<Self, String> {
        let periodic = Periodic::from_config(v)?;
        let host = str_of(v.get("target_host"))
            .ok_or_else(|| "Failed to get \"target_host\" link-watch option.".to_string())?;
        let target = resolve::ipv6(host)?;
        log::dbg(1, || {
            format!(
                "target address \"{}\".",
                numeric_host(target.addr, target.scope_id)
            )
        });
        Ok(Self {
            periodic,
            probe: NsProbe {
                target: target.addr,
            },
            scope_id: target.scope_id,
        })
    }

    /// C teamd's state keys, in its order.
    pub fn state(&self, m: &mut Map<String, Value>) {
        m.insert(
            "target_host".into(),
            json!(numeric_host(self.probe.target, self.scope_id)),
        );
        self.periodic.insert_interval(m);
        self.periodic.insert_missed(m);
    }

    pub fn sock_spec(&self, ifindex: u32) -> SockSpec {
        SockSpec {
            ifindex,
            ethertype: ETH_P_ALL,
            filter: filter::na(),
            multicast: Vec::new(),
        }
    }

    /// Sends a solicitation if this port probes now (never `send_always`).
    pub fn send<K: Kernel>(&self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        if !periodic::forced_send(ctx, ifindex) {
            return Ok(());
        }
        let Ok(mac) = <[u8; 6]>::try_from(ctx.port_hwaddr(ifindex).as_slice()) else {
            log::err("Unexpected length of hw address.");
            return Ok(());
        };
        let message = self.probe.icmp_message(mac);
        periodic::send_result(
            ctx.kernel
                .icmp6_send(ifindex, self.probe.destination(), &message),
        )
    }

    pub fn receive<K: Kernel>(&self, ctx: &mut Ctx<K>, ifindex: u32, watch: u32, frame: &RxFrame) {
        match nd::parse_na_frame(&frame.data) {
            Ok((_, na)) if self.probe.is_reply(&na) => {
                periodic::reply_received(ctx, ifindex, watch)
            }
            Ok((_, na)) => periodic::dropped(
                ctx,
                ifindex,
                watch,
                &format_args!("advertisement for {}", na.target),
            ),
            Err(e) => periodic::dropped(ctx, ifindex, watch, &e),
        }
    }
}
