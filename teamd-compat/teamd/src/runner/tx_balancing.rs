//! What the `loadbalance` and `lacp` runners share: the kernel's TX hash
//! (`tx_hash` → `bpf_hash_func`), the optional "basic" TX balancer
//! (`tx_balancer`) driving `lb_tx_hash_to_port_mapping`, and keeping every
//! port on the team's MAC.

use serde_json::Value;
use team_nl_client::team_nl::{OptionItem, OptionValue};
use teamd_loadbalance::{
    program, to_option_bytes, Balancer, InstanceValue, OptionInstance, TxBalancerConfig, TxHash,
};

use crate::config::{Config, ConfigError};
use crate::kernel::{KResult, Kernel};
use crate::log;
use crate::team::Ctx;

pub struct TxBalancing {
    hash: TxHash,
    balancer_cfg: TxBalancerConfig,
    balancer: Balancer,
}

impl TxBalancing {
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

    /// Registers a new port with the balancer.
    pub fn port_added(&mut self, ifindex: u32) {
        if let Err(e) = self.balancer.port_added(ifindex) {
            log::err(&e.to_string());
        }
    }

    pub fn port_removed(&mut self, ifindex: u32) {
        self.balancer.port_removed(ifindex);
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
}

/// The team MAC changed: every port follows.
pub async fn team_hwaddr_to_ports<K: Kernel>(ctx: &mut Ctx<K>) -> KResult {
    let ports: Vec<u32> = ctx.ports.iter().map(|p| p.ifindex).collect();
    for p in ports {
        ctx.set_port_hwaddr_to_team_logged(p).await?;
    }
    Ok(())
}

/// A port's MAC drifted from the team's: set it back.
pub async fn port_hwaddr_back_to_team<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
    if !ctx.port_present(ifindex) {
        return Ok(());
    }
    if ctx.kernel.ifinfos().get(ifindex).map(|i| &i.hwaddr) == Some(&ctx.team_hwaddr()) {
        return Ok(());
    }
    ctx.set_port_hwaddr_to_team_logged(ifindex).await
}
