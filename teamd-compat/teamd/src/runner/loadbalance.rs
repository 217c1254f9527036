//! `loadbalance`: the kernel hashes each packet with the BPF program built
//! from `tx_hash` and picks a port; teamd keeps only ports whose link is up
//! enabled, and with `tx_balancer: basic` moves hash buckets between ports by
//! measured load.

use serde_json::Value;
use team_nl_client::team_nl::{OptionItem, OptionValue};
use teamd_loadbalance::{
    program, to_option_bytes, Balancer, InstanceValue, OptionInstance, TxBalancerConfig, TxHash,
};

use crate::config::{Config, ConfigError};
use crate::kernel::{is_gone, KResult, Kernel};
use crate::log;
use crate::team::Ctx;

pub struct LoadBalance {
    hash: TxHash,
    balancer_cfg: TxBalancerConfig,
    balancer: Balancer,
}

impl LoadBalance {
    /// Reads `tx_hash` (writing the default list when absent, as C teamd does)
    /// and `tx_balancer`.
    pub fn from_config(cfg: &mut Config) -> Result<Self, ConfigError> {
        let hash = match cfg.get(&["runner", "tx_hash"]) {
            Some(v) => {
                let (hash, warnings) = TxHash::parse(v);
                for w in warnings {
                    if w.is_error_level() {
                        log::err(&w.to_string());
                    } else {
                        log::warn(&w.to_string());
                    }
                }
                hash
            }
            None => {
                cfg.set(&["runner", "tx_hash"], TxHash::default_json());
                TxHash::default_frags()
            }
        };
        let tb = cfg
            .get(&["runner", "tx_balancer"])
            .cloned()
            .unwrap_or(Value::Null);
        let (balancer_cfg, warnings) = TxBalancerConfig::parse(&tb);
        warnings.iter().for_each(|w| log::err(&w.to_string()));
        Ok(Self {
            hash,
            balancer_cfg,
            balancer: Balancer::new(balancer_cfg.enabled),
        })
    }

    /// Installs the hash program and the balancing method.
    pub async fn init<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let bpf = to_option_bytes(&program(&self.hash));
        ctx.kernel
            .set_option(OptionItem::new("bpf_hash_func", OptionValue::Binary(bpf)))
            .await
            .inspect_err(|_| log::err("Failed to set hash function."))?;
        let method = if self.balancer_cfg.enabled {
            "hash_to_port_mapping"
        } else {
            "hash"
        };
        ctx.kernel
            .set_option(OptionItem::new(
                "lb_tx_method",
                OptionValue::String(method.into()),
            ))
            .await
            .inspect_err(|_| log::err("Failed to set lb_tx_method."))?;
        log::info(&format!(
            "TX balancing {}.",
            if self.balancer_cfg.enabled {
                "enabled"
            } else {
                "disabled"
            }
        ));
        if self.balancer_cfg.enabled {
            let interval = self.balancer_cfg.balancing_interval;
            ctx.kernel
                .set_option(OptionItem::new(
                    "lb_stats_refresh_interval",
                    OptionValue::U32(interval),
                ))
                .await
                .inspect_err(|_| log::err("Failed to set lb_stats_refresh_interval."))?;
            log::info(&format!("Balancing interval {interval}."));
        }
        Ok(())
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
        if let Err(e) = self.balancer.port_added(ifindex) {
            log::err(&e.to_string());
        }
        Ok(())
    }

    pub fn port_removed(&mut self, ifindex: u32) {
        self.balancer.port_removed(ifindex);
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

    /// The balancer's look at an option batch (after the per-option watchers,
    /// as in C teamd), and the rebalance it may trigger.
    pub async fn options_batch<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let items: Vec<OptionItem> = ctx.kernel.cache().options().to_vec();
        let batch: Vec<OptionInstance> = items
            .iter()
            .map(|o| OptionInstance {
                name: &o.name,
                port_ifindex: o.port_ifindex,
                array_index: o.array_index,
                value: match &o.value {
                    OptionValue::U32(v) => InstanceValue::U32(*v),
                    OptionValue::Binary(b) => InstanceValue::Binary(b),
                    _ => InstanceValue::Other,
                },
                changed: o.changed,
                removed: o.removed,
            })
            .collect();
        let rebalance = match self.balancer.on_options(&batch) {
            Ok(r) => r,
            Err(e) => {
                log::err(&e.to_string());
                return Ok(());
            }
        };
        if !rebalance || !self.balancer.is_enabled() {
            return Ok(());
        }
        self.balancer.start_round();
        while let Some(a) = self.balancer.next_assignment() {
            let item = OptionItem::new(
                "lb_tx_hash_to_port_mapping",
                OptionValue::U32(a.port_ifindex),
            )
            .index(a.hash.into());
            let result = ctx.kernel.set_option(item).await;
            if result.is_ok() {
                log::dbg(1, || {
                    format!(
                        "Rebalanced hash {} to port {} ({} bytes).",
                        a.hash,
                        ctx.kernel.ifname(a.port_ifindex),
                        a.delta
                    )
                });
            }
            self.balancer.report(result);
        }
        Ok(())
    }

    pub async fn team_hwaddr_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let ports: Vec<u32> = ctx.ports.iter().map(|p| p.ifindex).collect();
        for p in ports {
            ctx.set_port_hwaddr_to_team_logged(p).await?;
        }
        Ok(())
    }

    pub async fn port_hwaddr_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        if !ctx.port_present(ifindex) {
            return Ok(());
        }
        if ctx.kernel.ifinfos().get(ifindex).map(|i| &i.hwaddr) == Some(&ctx.team_hwaddr()) {
            return Ok(());
        }
        ctx.set_port_hwaddr_to_team_logged(ifindex).await
    }
}
