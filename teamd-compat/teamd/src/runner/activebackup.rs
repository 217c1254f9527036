//! `activebackup`: one port carries traffic; on link loss (or a better port
//! appearing, unless the active one is sticky) another takes over. The
//! decisions are `machine`'s; this adapter feeds it the daemon's events with
//! a view of the team and applies the actions it returns.

mod machine;

use serde_json::{json, Value};

use super::action::{self, Action};
use super::view::View;
use super::ItemSetError;
use crate::config::{Config, ConfigError};
use crate::kernel::{KResult, Kernel, ENODEV};
use crate::team::{Ctx, TimerKey};
use crate::warm::{field, mac_from_str, mac_to_str, opt_u32_at, str_at};

pub use machine::HwaddrPolicy;
use machine::{Machine, Note, WORK_REEVALUATE, WORK_SET_ACTIVE};

pub struct ActiveBackup {
    pub machine: Machine,
    /// Ports asked for through `runner.active_port`, oldest first.
    requested: Vec<u32>,
}

impl ActiveBackup {
    pub fn from_config(cfg: &mut Config) -> Result<Self, ConfigError> {
        for key in ["notify_peers", "mcast_rejoin"] {
            if cfg.get(&[key, "count"]).is_none() {
                cfg.set(&[key, "count"], json!(1));
            }
        }
        let policy = match cfg.string(&["runner", "hwaddr_policy"]) {
            None | Some("same_all") => HwaddrPolicy::SameAll,
            Some("by_active") => HwaddrPolicy::ByActive,
            Some("only_active") => HwaddrPolicy::OnlyActive,
            Some(other) => {
                return Err(ConfigError(format!(
                    "Unknown \"hwaddr_policy\" named \"{other}\" passed.\nFailed to load config values."
                )))
            }
        };
        Ok(Self {
            machine: Machine::new(policy),
            requested: Vec::new(),
        })
    }

    /// The state file's `runner_state` at a warm exit: the active port, and
    /// for `only_active` the MAC it had before it took the team's (which
    /// nobody else remembers).
    pub fn warm_state<K: Kernel>(&self, ctx: &Ctx<K>) -> Value {
        let m = &self.machine;
        let active = ctx.port(m.active);
        let orig = active
            .filter(|_| m.policy == HwaddrPolicy::OnlyActive)
            .map(|_| mac_to_str(&m.active_orig_hwaddr));
        json!({
            "active_port": active.map(|p| json!({"ifindex": p.ifindex, "ifname": p.ifname})),
            "active_orig_hwaddr": orig,
        })
    }

    /// A warm restart's state for this runner, kept for the adoption if
    /// `fresh` accepts its age (any state older than the longest LACP timeout
    /// is not from a restart).
    pub fn warm_restore(
        &mut self,
        runner_state: &Value,
        fresh: impl FnOnce(std::time::Duration) -> Result<(), String>,
    ) -> Result<(), String> {
        let port = field(runner_state, "active_port")?;
        let active = match port {
            Value::Null => None,
            p => opt_u32_at(p, "ifindex").map_err(|e| format!("active_port: {e}"))?,
        };
        let orig = match field(runner_state, "active_orig_hwaddr")? {
            Value::Null => Vec::new(),
            _ => {
                let s = str_at(runner_state, "active_orig_hwaddr")?;
                mac_from_str(s)
                    .ok_or_else(|| format!("\"active_orig_hwaddr\" {s:?} is not a MAC"))?
            }
        };
        fresh(crate::warm::LONGEST_PATIENCE)?;
        self.machine.saved = active.map(|a| (a, orig));
        Ok(())
    }

    /// Performs the machine's actions; see `action::apply`.
    async fn apply<K: Kernel>(&mut self, ctx: &mut Ctx<K>, actions: Vec<Action<Note>>) -> KResult {
        let machine = &mut self.machine;
        action::apply(ctx, actions, |n| {
            machine.noted(n);
            Ok(())
        })
        .await
    }

    pub async fn port_added<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        let actions = self.machine.port_added(&View::of(ctx), ifindex);
        self.apply(ctx, actions).await
    }

    pub async fn port_removed<K: Kernel>(&mut self, ctx: &mut Ctx<K>, _ifindex: u32) -> KResult {
        self.reevaluate(ctx).await
    }

    /// The ports found at start-up are all in: choose now.
    pub async fn adopt_done<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let actions = self.machine.adopt_done(&View::of(ctx));
        self.apply(ctx, actions).await
    }

    /// A link, priority or master change: choose again.
    pub async fn reevaluate<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let actions = self.machine.reevaluate(&View::of(ctx));
        self.apply(ctx, actions).await
    }

    pub async fn team_hwaddr_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let actions = self.machine.team_hwaddr_changed(&View::of(ctx));
        self.apply(ctx, actions).await
    }

    pub async fn port_hwaddr_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        let actions = self.machine.port_hwaddr_changed(&View::of(ctx), ifindex);
        self.apply(ctx, actions).await
    }

    /// `runner.active_port` written: queue the switch (applied after the reply).
    pub fn request_active<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifname: &str,
    ) -> Result<(), ItemSetError> {
        let port = ctx
            .port_by_name(ifname)
            .ok_or(ItemSetError::Failed(ENODEV))?;
        self.requested.push(port.ifindex);
        ctx.timers
            .arm(TimerKey::Runner(WORK_SET_ACTIVE), Default::default());
        Ok(())
    }

    pub async fn work<K: Kernel>(&mut self, ctx: &mut Ctx<K>, id: u32) -> KResult {
        if id == WORK_REEVALUATE {
            return self.reevaluate(ctx).await;
        }
        // one switch at a time: each sees the team as the previous one left it
        for ifindex in std::mem::take(&mut self.requested) {
            let view = View::of(ctx);
            if view.port(ifindex).is_none() {
                continue; // gone in between
            }
            let old = view.port(self.machine.active).map(|p| p.ifindex);
            let actions = self.machine.change(&view, old, ifindex);
            self.apply(ctx, actions).await?;
        }
        Ok(())
    }

    pub fn state<K: Kernel>(&self, ctx: &Ctx<K>) -> Value {
        let name = ctx
            .port(self.machine.active)
            .map(|p| p.ifname.clone())
            .unwrap_or_default();
        json!({ "active_port": name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{PortSettings, TeamSettings};
    use crate::kernel::fake::{Call, FakeKernel};
    use crate::linkwatch::{ethtool::Ethtool, LinkWatch, WatchKind};
    use crate::team::{Port, Setup};
    use team_nl_client::team_nl::PortItem;
    use team_nl_client::team_nl::{OptionItem, OptionValue};

    fn ctx(ports: &[(u32, &str, bool, i32, bool)]) -> Ctx<FakeKernel> {
        // (ifindex, name, link up, prio, sticky)
        let mut k = FakeKernel::new(1);
        let mut opts = vec![
            OptionItem::new("mode", OptionValue::String("activebackup".into())),
            OptionItem::new("activeport", OptionValue::U32(0)),
        ];
        let mut kports = Vec::new();
        for (i, _, up, prio, _) in ports {
            opts.push(OptionItem::new("enabled", OptionValue::Bool(false)).port(*i));
            opts.push(OptionItem::new("priority", OptionValue::S32(*prio)).port(*i));
            kports.push(PortItem {
                ifindex: *i,
                linkup: *up,
                speed: 1000,
                duplex: 1,
                ..Default::default()
            });
        }
        k.report(opts, kports);
        let config = Config::new(json!({"runner": {"name": "activebackup"}})).unwrap();
        let settings = TeamSettings::from_config(&config).unwrap();
        let mut ctx = Ctx::new(k, config, settings, Setup::default());
        ctx.ports = ports
            .iter()
            .rev()
            .map(|(i, n, up, prio, sticky)| Port {
                ifindex: *i,
                ifname: n.to_string(),
                settings: PortSettings {
                    prio: *prio,
                    sticky: *sticky,
                    ..Default::default()
                },
                watches: vec![LinkWatch {
                    id: 0,
                    up: *up,
                    down_count: 0,
                    kind: WatchKind::Ethtool(Ethtool::default()),
                }],
            })
            .collect();
        ctx
    }

    fn set_link(c: &mut Ctx<FakeKernel>, ifindex: u32, up: bool) {
        c.port_mut(ifindex).unwrap().watches[0].up = up;
    }

    fn ab() -> ActiveBackup {
        ActiveBackup::from_config(&mut Config::new(json!({})).unwrap()).unwrap()
    }

    fn active_in_kernel(c: &Ctx<FakeKernel>) -> u32 {
        c.kernel.team_u32("activeport").unwrap()
    }

    #[tokio::test]
    async fn picks_highest_prio_and_fails_over() {
        let mut c = ctx(&[(2, "eth0", true, 0, false), (3, "eth1", true, 10, false)]);
        let mut ab = ab();
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 3);
        assert_eq!(active_in_kernel(&c), 3);
        assert_eq!(c.kernel.port_enabled(3), Some(true));
        set_link(&mut c, 3, false);
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 2);
        assert_eq!(c.kernel.port_enabled(3), Some(false));
        assert_eq!(c.kernel.port_enabled(2), Some(true));
        // back up: higher prio wins again (not sticky)
        set_link(&mut c, 3, true);
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 3);
    }

    #[tokio::test]
    async fn sticky_active_port_stays() {
        let mut c = ctx(&[(2, "eth0", true, 0, true), (3, "eth1", false, 10, false)]);
        let mut ab = ab();
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 2);
        set_link(&mut c, 3, true);
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(
            ab.machine.active, 2,
            "sticky active port must not be replaced"
        );
    }

    #[tokio::test]
    async fn or_chain_quirk_depends_on_scan_order() {
        // eth0: prio 5 at 1000 Mb/s; eth1: prio 0 at 10000 Mb/s. "Better" is
        // prio > OR speed >, so the last port scanned that beats the running
        // best wins, and the scan order (newest port first) decides.
        let fast_eth1 = PortItem {
            ifindex: 3,
            linkup: true,
            speed: 10000,
            duplex: 1,
            ..Default::default()
        };
        // eth1 added last (scanned first): eth0 then beats it on prio
        let mut c = ctx(&[(2, "eth0", true, 5, false), (3, "eth1", true, 0, false)]);
        c.kernel.report(vec![], vec![fast_eth1.clone()]);
        let mut ab = ab();
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 2);
        // re-evaluation scans active, eth1, eth0: eth1 wins on speed, eth0 on prio again
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 2, "no flapping");
        // eth0 added last (scanned first): eth1 then beats it on speed
        let mut c = ctx(&[(3, "eth1", true, 0, false), (2, "eth0", true, 5, false)]);
        c.kernel.report(vec![], vec![fast_eth1]);
        let mut ab2 =
            super::ActiveBackup::from_config(&mut Config::new(json!({})).unwrap()).unwrap();
        ab2.reevaluate(&mut c).await.unwrap();
        assert_eq!(
            ab2.machine.active, 3,
            "the lower-prio port wins by scan order"
        );
    }

    #[tokio::test]
    async fn vanished_port_requeues_selection() {
        let mut c = ctx(&[(2, "eth0", true, 0, false)]);
        c.kernel.fail.push(("enabled".into(), Some(2), ENODEV));
        let mut ab = ab();
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 0);
        assert!(c.timers.is_armed(TimerKey::Runner(WORK_REEVALUATE)));
    }

    #[tokio::test]
    async fn active_port_item_switches_after_reply() {
        let mut c = ctx(&[(2, "eth0", true, 0, false), (3, "eth1", true, 10, false)]);
        let mut ab = ab();
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(
            ab.request_active(&mut c, "nope"),
            Err(ItemSetError::Failed(ENODEV))
        );
        ab.request_active(&mut c, "eth0").unwrap();
        assert_eq!(ab.machine.active, 3, "switch is deferred");
        ab.work(&mut c, WORK_SET_ACTIVE).await.unwrap();
        assert_eq!(ab.machine.active, 2);
        assert_eq!(ab.state(&c), json!({"active_port": "eth0"}));
    }

    /// A team as a previous teamd left it: eth0 (2) the enabled active port,
    /// eth1 (3) a disabled backup; the ports are being adopted.
    fn taken_over() -> Ctx<FakeKernel> {
        let mut c = ctx(&[(2, "eth0", true, 10, false), (3, "eth1", true, 0, false)]);
        c.kernel.report(
            vec![
                OptionItem::new("activeport", OptionValue::U32(2)),
                OptionItem::new("enabled", OptionValue::Bool(true)).port(2),
            ],
            vec![],
        );
        c.pre_add_ports = true;
        c
    }

    fn disabled(c: &Ctx<FakeKernel>, ifindex: u32) -> bool {
        c.kernel.calls.iter().any(|call| {
            matches!(call, Call::Set(o) if o.name == "enabled"
                && o.port_ifindex == Some(ifindex) && o.value == OptionValue::Bool(false))
        })
    }

    #[tokio::test]
    async fn takeover_keeps_the_active_port_whatever_the_adoption_order() {
        let mut c = taken_over();
        let mut ab = ab();
        // the kernel lists the backup first: no choice is made before all are in
        ab.port_added(&mut c, 3).await.unwrap();
        // eth1's watch reporting during the adoption (a link event): deferred
        ab.reevaluate(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 0);
        ab.port_added(&mut c, 2).await.unwrap();
        assert_eq!(ab.machine.active, 2);
        c.pre_add_ports = false;
        ab.adopt_done(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 2);
        assert!(
            !disabled(&c, 2),
            "the active port was dropped: {:?}",
            c.kernel.calls
        );
        assert_eq!(c.kernel.port_enabled(2), Some(true));
        assert_eq!(active_in_kernel(&c), 2);
        assert!(
            !c.kernel
                .calls
                .iter()
                .any(|call| matches!(call, Call::Set(o) if o.name == "activeport")),
            "no active port change: {:?}",
            c.kernel.calls
        );
        assert!(disabled(&c, 3), "a backup is disabled as C does");
    }

    #[tokio::test]
    async fn takeover_leaves_the_choice_to_the_runner() {
        // the active port's link is down now: dropped once all ports are in
        let mut c = taken_over();
        set_link(&mut c, 2, false);
        let mut ab = ab();
        ab.port_added(&mut c, 3).await.unwrap();
        ab.port_added(&mut c, 2).await.unwrap();
        c.pre_add_ports = false;
        ab.adopt_done(&mut c).await.unwrap();
        assert_eq!(ab.machine.active, 3);
        assert_eq!(c.kernel.port_enabled(2), Some(false));
        assert_eq!(active_in_kernel(&c), 3);
    }

    #[tokio::test]
    async fn only_active_takes_over_with_a_saved_own_mac_only() {
        let cfg = || {
            Config::new(json!({"runner": {"name": "activebackup", "hwaddr_policy": "only_active"}}))
                .unwrap()
        };
        // no state file: the port's own MAC is unknown, so C's way (disable, pick again)
        let mut c = taken_over();
        let mut ab = ActiveBackup::from_config(&mut cfg()).unwrap();
        ab.port_added(&mut c, 2).await.unwrap();
        assert!(disabled(&c, 2));
        // with one: kept, and its own MAC restored when it steps down later
        let mut c = taken_over();
        let mut ab = ActiveBackup::from_config(&mut cfg()).unwrap();
        let state = json!({"active_port": {"ifindex": 2, "ifname": "eth0"},
                           "active_orig_hwaddr": "02:00:00:00:00:02"});
        ab.warm_restore(&state, |_| Ok(())).unwrap();
        ab.port_added(&mut c, 3).await.unwrap();
        ab.port_added(&mut c, 2).await.unwrap();
        assert!(!disabled(&c, 2));
        assert_eq!(ab.machine.active_orig_hwaddr, vec![2, 0, 0, 0, 0, 2]);
        c.pre_add_ports = false;
        ab.adopt_done(&mut c).await.unwrap();
        assert_eq!(ab.warm_state(&c), state, "handed on as received");
        set_link(&mut c, 2, false);
        ab.reevaluate(&mut c).await.unwrap();
        assert!(c
            .kernel
            .calls
            .contains(&Call::Hwaddr(2, vec![2, 0, 0, 0, 0, 2])));
    }

    #[test]
    fn warm_state_round_trip_and_refusals() {
        let mut ab = ab();
        let st =
            json!({"active_port": {"ifindex": 2, "ifname": "eth0"}, "active_orig_hwaddr": null});
        ab.warm_restore(&st, |_| Ok(())).unwrap();
        assert_eq!(ab.machine.saved, Some((2, vec![])));
        // too old: nothing kept
        let mut ab2 =
            super::ActiveBackup::from_config(&mut Config::new(json!({})).unwrap()).unwrap();
        let e = ab2.warm_restore(&st, |p| {
            assert_eq!(p, crate::warm::LONGEST_PATIENCE);
            Err("too old".into())
        });
        assert_eq!(e, Err("too old".into()));
        assert_eq!(ab2.machine.saved, None);
        for bad in [
            json!({}),
            json!({"active_port": {"ifindex": "2"}, "active_orig_hwaddr": null}),
            json!({"active_port": null, "active_orig_hwaddr": "xx"}),
        ] {
            assert!(ab2.warm_restore(&bad, |_| Ok(())).is_err(), "{bad}");
        }
        // no active port at the exit
        let none = json!({"active_port": null, "active_orig_hwaddr": null});
        ab2.warm_restore(&none, |_| Ok(())).unwrap();
        assert_eq!(ab2.machine.saved, None);
    }

    #[test]
    fn config_defaults_and_bad_policy() {
        let mut cfg = Config::new(json!({"runner": {"name": "activebackup"}})).unwrap();
        let ab = ActiveBackup::from_config(&mut cfg).unwrap();
        assert_eq!(ab.machine.policy, HwaddrPolicy::SameAll);
        assert_eq!(cfg.int(&["notify_peers", "count"]), Some(1));
        assert_eq!(cfg.int(&["mcast_rejoin", "count"]), Some(1));
        let mut cfg = Config::new(json!({"runner": {"hwaddr_policy": "odd"}})).unwrap();
        assert!(ActiveBackup::from_config(&mut cfg).is_err());
    }
}
