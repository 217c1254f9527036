//! Runners: the policy that decides which ports carry traffic. One file per
//! runner; the daemon holds one `Runner` and calls its hooks from the core
//! loop with the team context. Chosen by a `match` on the config's name.
//!
//! Each runner's decisions are kept apart from the kernel: lacp's in the
//! `teamd-lacp` crate, activebackup's and loadbalance's as functions of an
//! event and a `view::View` that return `action::Action`s. A runner's hook
//! builds the view, asks for the actions and applies them; a hook's error is
//! the one C's hook returns, which the core logs as C's loop does.

mod action;
pub mod activebackup;
pub mod basic;
pub mod lacp;
pub mod loadbalance;
mod same_mac;
pub mod tx_balancing;
mod view;

use std::convert::Infallible;

use serde_json::{json, Value};
use team_nl_client::team_nl::{OptionItem, OptionValue};

use self::action::{Action, Op, Then};
use crate::config::{Config, ConfigError};
use crate::kernel::{KResult, Kernel};
use crate::packet::RxFrame;
use crate::team::Ctx;

/// The write that puts the team in `mode`, unless it is there already (the
/// kernel refuses an equal mode with EINVAL and any change while ports
/// exist with EBUSY).
fn mode_actions(current: Option<&str>, mode: &str) -> Vec<Action<Infallible>> {
    if current == Some(mode) {
        return Vec::new();
    }
    vec![Action::kernel(
        Op::Option(OptionItem::new("mode", OptionValue::String(mode.into()))),
        format!("Failed to set team mode \"{mode}\"."),
        Then::Fail,
    )]
}

pub const NAMES: [&str; 6] = [
    "broadcast",
    "roundrobin",
    "random",
    "activebackup",
    "loadbalance",
    "lacp",
];

/// A runner's answer to a state item write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemSetError {
    /// No such item for this runner.
    NoPath,
    /// The value was refused (errno).
    Failed(i32),
}

pub enum Runner {
    Basic(basic::Basic),
    ActiveBackup(activebackup::ActiveBackup),
    // boxed: the balancer's 256 buckets dwarf the other runners
    LoadBalance(Box<loadbalance::LoadBalance>),
    Lacp(Box<lacp::Lacp>),
}

impl Runner {
    /// Picks the runner named in the config (writing the default `roundrobin`
    /// when absent) and reads its options, adding the defaults C teamd adds.
    pub fn from_config(cfg: &mut Config) -> Result<Runner, ConfigError> {
        let name = match cfg.string(&["runner", "name"]) {
            Some(n) => n.to_string(),
            None => {
                // C refuses to overwrite a non-string name (and so fails)
                cfg.try_set(&["runner", "name"], json!("roundrobin"))
                    .map_err(|e| {
                        ConfigError(format!(
                            "{}\nFailed to set default team runner name in config.",
                            e.0
                        ))
                    })?;
                "roundrobin".to_string()
            }
        };
        match name.as_str() {
            "broadcast" | "roundrobin" | "random" => Ok(Runner::Basic(basic::Basic::new(&name))),
            "activebackup" => Ok(Runner::ActiveBackup(
                activebackup::ActiveBackup::from_config(cfg)?,
            )),
            "loadbalance" => Ok(Runner::LoadBalance(Box::new(
                loadbalance::LoadBalance::from_config(cfg)?,
            ))),
            "lacp" => Ok(Runner::Lacp(Box::new(lacp::Lacp::from_config(cfg)?))),
            other => Err(ConfigError(format!(
                "No runner named \"{other}\" available."
            ))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Runner::Basic(b) => b.name(),
            Runner::ActiveBackup(_) => "activebackup",
            Runner::LoadBalance(_) => "loadbalance",
            Runner::Lacp(_) => "lacp",
        }
    }

    /// The kernel team mode this runner drives.
    pub fn kernel_mode(&self) -> &'static str {
        match self {
            Runner::Basic(b) => b.name(),
            Runner::ActiveBackup(_) => "activebackup",
            Runner::LoadBalance(_) | Runner::Lacp(_) => "loadbalance",
        }
    }

    /// Sets the kernel mode (see `mode_actions`), then the runner's own set-up.
    pub async fn init<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> Result<(), String> {
        let actions = mode_actions(ctx.kernel.team_mode().as_deref(), self.kernel_mode());
        action::apply(ctx, actions, |n: Infallible| match n {})
            .await
            .map_err(|e| format!("{e}"))?;
        match self {
            Runner::LoadBalance(lb) => lb.init(ctx).await.map_err(|e| format!("{e}")),
            Runner::Lacp(l) => l.init(ctx).await,
            _ => Ok(()),
        }
    }

    /// The runner's part of a new port, after the core's (prio, watches).
    pub async fn port_added<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        match self {
            Runner::Basic(_) => Ok(()),
            Runner::ActiveBackup(ab) => ab.port_added(ctx, ifindex).await,
            Runner::LoadBalance(lb) => lb.port_added(ctx, ifindex).await,
            Runner::Lacp(l) => l.port_added(ctx, ifindex).await,
        }
    }

    /// A port left the team (already gone from the kernel's list).
    pub async fn port_removed<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        match self {
            Runner::Basic(_) => Ok(()),
            Runner::ActiveBackup(ab) => ab.port_removed(ctx, ifindex).await,
            Runner::LoadBalance(lb) => {
                lb.port_removed(ifindex);
                Ok(())
            }
            Runner::Lacp(l) => l.port_removed(ctx, ifindex).await,
        }
    }

    /// A port's link summary changed.
    pub async fn port_link_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        match self {
            Runner::Basic(_) => Ok(()),
            Runner::ActiveBackup(ab) => ab.reevaluate(ctx).await,
            Runner::LoadBalance(lb) => lb.port_link_changed(ctx, ifindex).await,
            // LACP follows the kernel's port state (port_changed), which the
            // watches feed through user_linkup
            Runner::Lacp(_) => Ok(()),
        }
    }

    /// The kernel reported a port change (link, speed, duplex).
    pub async fn port_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        match self {
            Runner::Lacp(l) => l.port_changed(ctx, ifindex).await,
            _ => Ok(()),
        }
    }

    /// The team device went administratively up or down.
    pub async fn team_admin_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        match self {
            Runner::Lacp(l) => l.team_admin_changed(ctx).await,
            _ => Ok(()),
        }
    }

    /// A port's settings (prio, sticky, lacp_*) changed by a config reload.
    pub async fn port_config_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        match self {
            Runner::ActiveBackup(ab) => ab.reevaluate(ctx).await,
            // lacp_prio/lacp_key are part of the port's LACP identity: the
            // port starts its protocol state afresh and renegotiates
            Runner::Lacp(l) => {
                l.port_removed(ctx, ifindex).await?;
                l.port_added(ctx, ifindex).await
            }
            _ => Ok(()),
        }
    }

    /// A port's master changed (someone released or moved it).
    pub async fn port_master_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        _ifindex: u32,
    ) -> KResult {
        match self {
            Runner::ActiveBackup(ab) => ab.reevaluate(ctx).await,
            _ => Ok(()),
        }
    }

    /// A kernel option instance changed (flagged in an event).
    pub async fn option_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        opt: &OptionItem,
    ) -> KResult {
        match self {
            Runner::Basic(_) => Ok(()),
            Runner::ActiveBackup(ab) if opt.name == "priority" => ab.reevaluate(ctx).await,
            Runner::ActiveBackup(_) => Ok(()),
            Runner::LoadBalance(lb) => lb.option_changed(ctx, opt).await,
            Runner::Lacp(_) => Ok(()),
        }
    }

    /// After the per-option hooks of a batch (the TX balancer looks at all of it).
    pub async fn options_batch<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        match self {
            Runner::LoadBalance(lb) => lb.options_batch(ctx).await,
            Runner::Lacp(l) => l.options_batch(ctx).await,
            _ => Ok(()),
        }
    }

    pub async fn team_hwaddr_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        match self {
            Runner::Basic(_) => Ok(()),
            Runner::ActiveBackup(ab) => ab.team_hwaddr_changed(ctx).await,
            Runner::LoadBalance(lb) => lb.team_hwaddr_changed(ctx).await,
            Runner::Lacp(l) => l.team_hwaddr_changed(ctx).await,
        }
    }

    pub async fn port_hwaddr_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        match self {
            Runner::Basic(_) => Ok(()),
            Runner::ActiveBackup(ab) => ab.port_hwaddr_changed(ctx, ifindex).await,
            Runner::LoadBalance(lb) => lb.port_hwaddr_changed(ctx, ifindex).await,
            Runner::Lacp(l) => l.port_hwaddr_changed(ctx, ifindex).await,
        }
    }

    /// A runner timer (`TimerKey::Runner(id)`) fired.
    pub async fn timer<K: Kernel>(&mut self, ctx: &mut Ctx<K>, id: u32) -> KResult {
        match self {
            Runner::ActiveBackup(ab) => ab.work(ctx, id).await,
            Runner::Lacp(l) => l.work(ctx, id).await,
            _ => Ok(()),
        }
    }

    /// A timer of one port (`TimerKey::RunnerPort`) fired.
    pub async fn port_timer<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        id: u32,
    ) -> KResult {
        match self {
            Runner::Lacp(l) => l.port_timer(ctx, ifindex, id).await,
            _ => Ok(()),
        }
    }

    /// A frame arrived on the runner's socket of a port (`SockKey::Runner`).
    pub async fn packet<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        frame: &RxFrame,
    ) -> KResult {
        match self {
            Runner::Lacp(l) => l.packet(ctx, ifindex, frame).await,
            _ => Ok(()),
        }
    }

    /// A warm restart's saved state for this runner (the state file's
    /// `runner_state`), taken before `init` if it parses and `fresh` accepts
    /// how long after the old daemon's exit it still holds (what its
    /// partners wait for); nothing is kept otherwise.
    pub fn warm_restore(
        &mut self,
        runner_state: &Value,
        fresh: impl FnOnce(std::time::Duration) -> Result<(), String>,
    ) -> Result<(), String> {
        match self {
            Runner::ActiveBackup(ab) => ab.warm_restore(runner_state, fresh),
            Runner::Lacp(l) => l.warm_restore(runner_state, fresh),
            Runner::Basic(_) | Runner::LoadBalance(_) => fresh(crate::warm::LONGEST_PATIENCE),
        }
    }

    /// The ports found in the team at start-up have all been added.
    pub async fn adopt_done<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        match self {
            Runner::ActiveBackup(ab) => ab.adopt_done(ctx).await,
            Runner::Lacp(l) => l.adopt_done(ctx).await,
            Runner::Basic(_) | Runner::LoadBalance(_) => Ok(()),
        }
    }

    /// The state file's `runner_state` at a warm exit.
    pub fn warm_state<K: Kernel>(&self, ctx: &Ctx<K>) -> Value {
        match self {
            Runner::ActiveBackup(ab) => ab.warm_state(ctx),
            Runner::Lacp(l) => l.warm_state(),
            Runner::Basic(_) | Runner::LoadBalance(_) => json!({}),
        }
    }

    /// Instead of `fini` when the team is left to the next teamd: what must
    /// be said before going quiet (LACPDUs); nothing in the kernel changes.
    pub async fn warm_exit<K: Kernel>(&mut self, ctx: &mut Ctx<K>) {
        if let Runner::Lacp(l) = self {
            l.warm_exit(ctx).await;
        }
    }

    /// Before the ports are released at shutdown.
    pub async fn fini<K: Kernel>(&mut self, ctx: &mut Ctx<K>) {
        if let Runner::Lacp(l) = self {
            l.fini(ctx).await;
        }
    }

    /// The `ports.<if>.runner` section of the state dump, if the runner has one.
    pub fn port_state<K: Kernel>(&self, _ctx: &Ctx<K>, ifindex: u32) -> Option<Value> {
        match self {
            Runner::Lacp(l) => l.port_state(ifindex),
            _ => None,
        }
    }

    /// The top-level `runner` section of the state dump, if the runner has one.
    pub fn state<K: Kernel>(&self, ctx: &Ctx<K>) -> Option<Value> {
        match self {
            Runner::ActiveBackup(ab) => Some(ab.state(ctx)),
            Runner::Lacp(l) => Some(l.state()),
            _ => None,
        }
    }

    /// Writes a `ports.<if>.runner.*` state item.
    pub fn port_item_set<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        path: &str,
        value: &str,
    ) -> Result<(), ItemSetError> {
        match self {
            Runner::Lacp(l) => l.port_item_set(ctx, ifindex, path, value),
            _ => Err(ItemSetError::NoPath),
        }
    }

    /// Writes a `runner.*` state item.
    pub fn item_set<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        path: &str,
        value: &str,
    ) -> Result<(), ItemSetError> {
        match self {
            Runner::ActiveBackup(ab) if path == "runner.active_port" => {
                ab.request_active(ctx, value)
            }
            _ => Err(ItemSetError::NoPath),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_set_only_when_it_differs() {
        assert!(mode_actions(Some("activebackup"), "activebackup").is_empty());
        let acts = mode_actions(Some("roundrobin"), "loadbalance");
        assert_eq!(
            acts,
            vec![Action::kernel(
                Op::Option(OptionItem::new(
                    "mode",
                    OptionValue::String("loadbalance".into())
                )),
                "Failed to set team mode \"loadbalance\".",
                Then::Fail,
            )]
        );
        assert_eq!(mode_actions(None, "random").len(), 1);
    }
}
