//! `loadbalance`: the kernel hashes each packet with the BPF program built
//! from `tx_hash` and picks a port; teamd keeps only ports whose link is up
//! enabled, and with `tx_balancer: basic` moves hash buckets between ports by
//! measured load. The decisions are `ports`' and `same_mac`'s; this adapter
//! applies them.

mod ports;

use team_nl_client::team_nl::OptionItem;

use super::action::{self, Action};
use super::same_mac;
use super::tx_balancing::TxBalancing;
use super::view::View;
use crate::config::{Config, ConfigError};
use crate::kernel::{KResult, Kernel};
use crate::team::Ctx;
use ports::Note;

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

    /// Performs the decisions' actions; see `action::apply`.
    async fn apply<K: Kernel>(&mut self, ctx: &mut Ctx<K>, actions: Vec<Action<Note>>) -> KResult {
        let tx = &mut self.tx;
        action::apply(ctx, actions, |n| match n {
            Note::Balance(ifindex) => tx.port_added(ifindex),
        })
        .await
    }

    pub async fn port_added<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        let actions = ports::added(&View::of(ctx), ifindex);
        self.apply(ctx, actions).await
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
        let actions = ports::check_enable(&View::of(ctx), ifindex);
        self.apply(ctx, actions).await
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
        let actions = same_mac::team_changed(&View::of(ctx));
        self.apply(ctx, actions).await
    }

    pub async fn port_hwaddr_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        let actions = same_mac::port_changed(&View::of(ctx), ifindex);
        self.apply(ctx, actions).await
    }
}
