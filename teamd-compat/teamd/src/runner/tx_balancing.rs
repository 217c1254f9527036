//! What the `loadbalance` and `lacp` runners share: the kernel's TX hash
//! (`tx_hash` → `bpf_hash_func`), the optional "basic" TX balancer
//! (`tx_balancer`) driving `lb_tx_hash_to_port_mapping`. Keeping every port
//! on the team's MAC, which they share too, is `same_mac`.

use std::convert::Infallible;

use serde_json::Value;
use team_nl_client::team_nl::{OptionItem, OptionValue};
use team_nl_client::Error;
use teamd_loadbalance::{
    program, to_option_bytes, Assignment, Balancer, BalancerError, InstanceValue, OptionInstance,
    TxBalancerConfig, TxHash,
};

use super::action::{self, Action, Op, Then};
use crate::config::{Config, ConfigError};
use crate::kernel::{KResult, Kernel, EEXIST, EINVAL};
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

    /// The writes that install the hash program and the balancing method.
    pub fn init_actions<N>(&self) -> Vec<Action<N>> {
        let bpf = to_option_bytes(&program(&self.hash));
        let enabled = self.balancer_cfg.enabled;
        let method = if enabled {
            "hash_to_port_mapping"
        } else {
            "hash"
        };
        let mut acts = vec![
            Action::kernel(
                Op::Option(OptionItem::new("bpf_hash_func", OptionValue::Binary(bpf))),
                "Failed to set hash function.",
                Then::Fail,
            ),
            Action::kernel(
                Op::Option(OptionItem::new(
                    "lb_tx_method",
                    OptionValue::String(method.into()),
                )),
                "Failed to set lb_tx_method.",
                Then::Fail,
            ),
            Action::info(format!(
                "TX balancing {}.",
                if enabled { "enabled" } else { "disabled" }
            )),
        ];
        if enabled {
            let interval = self.balancer_cfg.balancing_interval;
            acts.push(Action::kernel(
                Op::Option(OptionItem::new(
                    "lb_stats_refresh_interval",
                    OptionValue::U32(interval),
                )),
                "Failed to set lb_stats_refresh_interval.",
                Then::Fail,
            ));
            acts.push(Action::info(format!("Balancing interval {interval}.")));
        }
        acts
    }

    /// Installs the hash program and the balancing method.
    pub async fn init<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        action::apply(ctx, self.init_actions(), |n: Infallible| match n {}).await
    }

    /// Registers a new port with the balancer; C fails the port's addition
    /// when the balancer has it already.
    pub fn port_added(&mut self, ifindex: u32) -> KResult {
        self.balancer.port_added(ifindex).map_err(|e| {
            log::err(&e.to_string());
            Error::kernel("TX balancer", EEXIST)
        })
    }

    pub fn port_removed(&mut self, ifindex: u32) {
        self.balancer.port_removed(ifindex);
    }

    /// The balancer's look at the kernel's options after a batch: whether a
    /// rebalance is due. A batch it refuses has been logged by then.
    pub fn observe(&mut self, options: &[OptionItem]) -> Result<bool, BalancerError> {
        let batch: Vec<OptionInstance> = options
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
        self.balancer
            .on_options(&batch)
            .inspect_err(|e| log::err(&e.to_string()))
    }

    /// The balancer's look at an option batch (after the per-option watchers,
    /// as in C teamd), and the rebalance it may trigger. A batch the balancer
    /// refuses fails the hook with EINVAL, as C's handler does.
    pub async fn options_batch<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let rebalance = self
            .observe(ctx.kernel.cache().options())
            .map_err(|_| Error::kernel("TX balancer", EINVAL))?;
        if !rebalance || !self.balancer.is_enabled() {
            return Ok(());
        }
        // each move is one action whose result goes back to the balancer: a
        // port that refuses is not offered again this round (C's way)
        self.balancer.start_round();
        while let Some(a) = self.balancer.next_assignment() {
            let result = action::perform(ctx, mapping(&a)).await;
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

/// The write a balancer move asks for.
fn mapping(a: &Assignment) -> Op {
    Op::Option(
        OptionItem::new(
            "lb_tx_hash_to_port_mapping",
            OptionValue::U32(a.port_ifindex),
        )
        .index(a.hash.into()),
    )
}

#[cfg(test)]
mod tests {
    use super::super::action::ops;
    use super::*;
    use serde_json::json;

    fn tx(runner: Value) -> TxBalancing {
        TxBalancing::from_config(&mut Config::new(json!({ "runner": runner })).unwrap()).unwrap()
    }

    fn names(acts: &[Action<Infallible>]) -> Vec<String> {
        ops(acts)
            .into_iter()
            .map(|op| match op {
                Op::Option(o) => o.name,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn init_sets_hash_then_method_then_interval() {
        let plain = tx(json!({"name": "loadbalance"}));
        assert_eq!(
            names(&plain.init_actions()),
            vec!["bpf_hash_func", "lb_tx_method"]
        );
        let balanced = tx(json!({"tx_balancer": {"name": "basic", "balancing_interval": 7}}));
        let acts = balanced.init_actions::<Infallible>();
        assert_eq!(
            names(&acts),
            vec!["bpf_hash_func", "lb_tx_method", "lb_stats_refresh_interval"]
        );
        assert!(acts.contains(&Action::info("Balancing interval 7.")));
        assert!(acts.contains(&Action::kernel(
            Op::Option(OptionItem::new(
                "lb_tx_method",
                OptionValue::String("hash_to_port_mapping".into())
            )),
            "Failed to set lb_tx_method.",
            Then::Fail
        )));
    }

    fn stats(name: &str, port: Option<u32>, index: Option<u32>, bytes: u64) -> OptionItem {
        let mut o = OptionItem::new(name, OptionValue::Binary(bytes.to_ne_bytes().to_vec()));
        o.port_ifindex = port;
        o.array_index = index;
        o.changed = true;
        o
    }

    fn mapped(hash: u32, port: u32) -> OptionItem {
        OptionItem::new("lb_tx_hash_to_port_mapping", OptionValue::U32(port)).index(hash)
    }

    /// Every move of one round, as the writes the glue performs (all succeed).
    fn round(tx: &mut TxBalancing) -> Vec<(u32, u32)> {
        let mut moves = Vec::new();
        tx.balancer.start_round();
        while let Some(a) = tx.balancer.next_assignment() {
            if let Op::Option(o) = mapping(&a) {
                assert_eq!(o.name, "lb_tx_hash_to_port_mapping");
                moves.push((o.array_index.unwrap_or(999), a.port_ifindex));
            }
            tx.balancer.report::<()>(Ok(()));
        }
        moves
    }

    #[test]
    fn balancer_moves_the_busiest_hash_off_the_loaded_port() {
        let mut tx = tx(json!({"tx_balancer": {"name": "basic"}}));
        tx.port_added(2).unwrap();
        tx.port_added(3).unwrap();
        // every bucket on port 2 (the kernel lists all 256); the first stats
        // sample is the baseline
        let mut opts: Vec<OptionItem> = (0..256).map(|h| mapped(h, 2)).collect();
        opts.push(stats("lb_hash_stats", None, Some(0), 0));
        opts.push(stats("lb_hash_stats", None, Some(1), 0));
        assert!(tx.observe(&opts).unwrap());
        // hash 0 sent 1000 bytes since, hash 1 sent 10, the others nothing
        opts[256] = stats("lb_hash_stats", None, Some(0), 1000);
        opts[257] = stats("lb_hash_stats", None, Some(1), 10);
        assert!(tx.observe(&opts).unwrap());
        // the busiest goes to the least loaded port (ties: the newest port),
        // hash 1 then finds port 2 the lighter and stays, idle ones stay
        assert_eq!(round(&mut tx), vec![(0, 3)]);
    }

    #[test]
    fn a_refused_batch_and_a_doubly_added_port_are_errors() {
        let mut tx = tx(json!({"tx_balancer": {"name": "basic"}}));
        tx.port_added(2).unwrap();
        assert_eq!(tx.port_added(2).unwrap_err().errno(), Some(EEXIST));
        let bad = OptionItem::new("lb_tx_hash_to_port_mapping", OptionValue::Bool(true));
        assert_eq!(tx.observe(&[bad]), Err(BalancerError::MappingType));
    }
}
