//! `loadbalance`: the kernel hashes each packet with the BPF program built
//! from `tx_hash` and picks a port; teamd keeps only ports whose link is up
//! enabled, and with `tx_balancer: basic` moves hash buckets between ports by
//! measured load.

use team_nl_client::team_nl::OptionItem;

use super::tx_balancing::{self, TxBalancing};
use crate::config::{Config, ConfigError};
use crate::kernel::{is_gone, KResult, Kernel};
use crate::log;
use crate::team::Ctx;

pub struct LoadBalance {
    tx: TxBalancing,
}

impl LoadBalance {
    pub fn from_config(cfg: &mut Config) -> Result<Self, ConfigError> {
        Ok(Self {
            tx: TxBalancing::from_config(cfg)?,
        })
    }

    pub async fn init<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        self.tx.init(ctx).await
    }

    pub async fn port_added<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        let ifname = ctx.kernel.ifname(ifindex);
        // C's loadbalance words this one differently from the other MAC errors
        ctx.set_port_hwaddr_to_team(ifindex)
            .await
            .inspect_err(|_| {
                log::err(&format!(
                    "Failed to set port \"{ifname}\" hardware address. "
                ))
            })?;
        let link_up = ctx
            .kernel
            .kernel_port(ifindex)
            .map(|p| p.linkup)
            .unwrap_or(false);
        if !link_up {
            if let Err(e) = ctx.kernel.set_port_enabled(ifindex, false).await {
                log::err(&format!("{ifname}: Failed to disable port."));
                return if is_gone(&e) { Ok(()) } else { Err(e) };
            }
        }
        self.tx.port_added(ifindex);
        Ok(())
    }

    pub fn port_removed(&mut self, ifindex: u32) {
        self.tx.port_removed(ifindex);
    }

    /// Enabled exactly while the link summary is up (C's teamd_port_check_enable).
    pub async fn port_link_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        if !ctx.port_present(ifindex) || ctx.port(ifindex).is_none() {
            return Ok(());
        }
        let up = ctx.port_link_up(ifindex);
        let Some(enabled) = ctx.kernel.port_enabled(ifindex) else {
            return Ok(());
        };
        if enabled == up {
            return Ok(());
        }
        let ifname = ctx.kernel.ifname(ifindex);
        log::dbg(1, || {
            format!(
                "{ifname}: {} port",
                if up { "Enabling" } else { "Disabling" }
            )
        });
        if let Err(e) = ctx.kernel.set_port_enabled(ifindex, up).await {
            log::err(&format!(
                "{ifname}: Failed to {} port.",
                if up { "enable" } else { "disable" }
            ));
            if !is_gone(&e) {
                return Err(e);
            }
        }
        Ok(())
    }

    pub async fn option_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        opt: &OptionItem,
    ) -> KResult {
        match (opt.name.as_str(), opt.port_ifindex) {
            ("enabled", Some(ifindex)) => self.port_link_changed(ctx, ifindex).await,
            _ => Ok(()),
        }
    }

    pub async fn options_batch<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        self.tx.options_batch(ctx).await
    }

    pub async fn team_hwaddr_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        tx_balancing::team_hwaddr_to_ports(ctx).await
    }

    pub async fn port_hwaddr_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        tx_balancing::port_hwaddr_back_to_team(ctx, ifindex).await
    }
}
