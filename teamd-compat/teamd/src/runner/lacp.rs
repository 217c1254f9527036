//! `lacp`: IEEE 802.3ad / 802.1AX link aggregation (kernel mode
//! `loadbalance`). The protocol lives in the pure `teamd-lacp` crate; this
//! adapter feeds it the daemon's events (port add/remove, kernel port
//! changes, LACPDUs from each port's packet socket, port timers, team admin
//! state and MAC) and applies the actions it returns: send a LACPDU, set a
//! port's `enabled` option, force the team carrier, arm or cancel a timer.
//! TX hashing and the basic balancer are the loadbalance runner's.
//!
//! Beyond C teamd (see `teamd_lacp::machine`): a LACPDU is sent at once on
//! every actor state change, and `runner.fallback: true` keeps one port
//! enabled while no partner has ever spoken LACP.

mod config;
mod state;
pub mod warm;

use std::convert::Infallible;

use serde_json::Value;
use teamd_lacp::lacpdu::{ETH_P_SLOW, SLOW_PROTOCOLS_MAC};
use teamd_lacp::{lacp_filter, Action, Lacp as Machine, Link, LogLevel, PortTimer, Snapshot};

use super::action;
use super::same_mac;
use super::tx_balancing::TxBalancing;
use super::view::View;
use super::ItemSetError;
use crate::config::{Config, ConfigError};
use crate::kernel::{is_gone, KResult, Kernel, EINVAL, EOPNOTSUPP};
use crate::log;
use crate::packet::{RxFrame, SockKey, SockSpec};
use crate::team::{Ctx, TimerKey};

/// PACKET_OUTGOING: our own frames, never a partner's.
const PKT_OUTGOING: u8 = 4;

pub struct Lacp {
    cfg: teamd_lacp::Config,
    tx: TxBalancing,
    /// Built at init, when the team's MAC and admin state are known.
    machine: Option<Machine>,
    /// Ports whose aggregator a state item write asked to select.
    select_requests: Vec<u32>,
    /// A warm restart's saved protocol state, until `init` builds the machine from it.
    restore: Option<Snapshot>,
    /// Ports found in the team at a warm start that the saved state does not
    /// know: added as new once the known ones are restored (`adopt_done`).
    deferred: Vec<(u32, teamd_lacp::PortConfig)>,
}

/// Runner timer id of the deferred aggregator selection.
const SELECT_WORK: u32 = 0;

fn timer_id(t: PortTimer) -> u32 {
    match t {
        PortTimer::Periodic => 0,
        PortTimer::Timeout => 1,
    }
}

fn timer_of(id: u32) -> Option<PortTimer> {
    match id {
        0 => Some(PortTimer::Periodic),
        1 => Some(PortTimer::Timeout),
        _ => None,
    }
}

fn mac6(v: &[u8]) -> Option<[u8; 6]> {
    v.try_into().ok()
}

/// The port's own MAC (what it had before it was enslaved), if teamd saw it.
fn own_mac<K: Kernel>(ctx: &Ctx<K>, ifindex: u32) -> Option<[u8; 6]> {
    ctx.kernel
        .ifinfos()
        .get(ifindex)
        .and_then(|i| mac6(&i.orig_hwaddr))
}

/// The source MAC of a new port's LACPDUs: its own, or, for a port found
/// enslaved at a takeover (whose own MAC teamd never saw), the one it has.
/// C teamd sends nothing from such a port, so a team it takes over never
/// aggregates again; the partner does not care about the source address.
fn lacpdu_source<K: Kernel>(ctx: &Ctx<K>, ifindex: u32) -> Option<[u8; 6]> {
    own_mac(ctx, ifindex).or_else(|| mac6(&ctx.port_hwaddr(ifindex)))
}

fn kernel_link<K: Kernel>(ctx: &Ctx<K>, ifindex: u32) -> Link {
    ctx.kernel
        .kernel_port(ifindex)
        .map(|p| Link {
            up: p.linkup,
            speed: p.speed,
            duplex: p.duplex,
        })
        .unwrap_or_default()
}

impl Lacp {
    /// Reads `runner.*` (writing the default `tx_hash`, as C teamd does).
    pub fn from_config(cfg: &mut Config) -> Result<Self, ConfigError> {
        let tx = TxBalancing::from_config(cfg)?;
        let cfg = config::runner_config(cfg)?;
        Ok(Self {
            cfg,
            tx,
            machine: None,
            select_requests: Vec::new(),
            restore: None,
            deferred: Vec::new(),
        })
    }

    /// A warm restart's state for this runner (the state file's
    /// `runner_state`), kept for `init` if `fresh` accepts the time the
    /// partners wait for us after the old daemon's last LACPDU.
    pub fn warm_restore(
        &mut self,
        runner_state: &Value,
        fresh: impl FnOnce(std::time::Duration) -> Result<(), String>,
    ) -> Result<(), String> {
        let snap = warm::from_json(runner_state)?;
        fresh(snap.partner_patience())?;
        self.restore = Some(snap);
        Ok(())
    }

    /// The state file's `runner_state` at a warm exit.
    pub fn warm_state(&self) -> Value {
        match &self.machine {
            Some(m) => warm::to_json(&m.snapshot()),
            None => Value::Null,
        }
    }

    /// A warm exit: one last LACPDU on every port, so that each partner's
    /// timeout of us starts now; the carrier and ports stay as they are.
    pub async fn warm_exit<K: Kernel>(&mut self, ctx: &mut Ctx<K>) {
        let actions = match self.observe(ctx) {
            Some(m) => m.warm_exit(),
            None => Vec::new(),
        };
        let _ = self.apply(ctx, actions).await;
    }

    pub async fn init<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> Result<(), String> {
        let Some(mac) = mac6(&ctx.team_hwaddr()) else {
            log::err("Unsupported device type.");
            return Err("Unsupported device type.".into());
        };
        self.tx.init(ctx).await.map_err(|e| format!("{e}"))?;
        let team = ctx.kernel.team_ifindex();
        let admin_up = ctx.kernel.ifinfos().get(team).is_some_and(|i| i.admin_up);
        if let Some(snap) = self.restore.take() {
            // the carrier stays as the old daemon left it
            self.machine = Some(Machine::restored(self.cfg, mac, admin_up, &snap));
            return Ok(());
        }
        let (machine, actions) = Machine::new(self.cfg, mac, admin_up);
        self.machine = Some(machine);
        self.apply(ctx, actions).await.map_err(|e| {
            log::err("Failed to initialize carrier.");
            format!("{e}")
        })
    }

    /// The carrier goes down with the runner.
    pub async fn fini<K: Kernel>(&mut self, ctx: &mut Ctx<K>) {
        if let Err(e) = set_carrier(ctx, false).await {
            log::err(&format!("Failed to set carrier down. ({e})"));
        }
    }

    /// Brings the machine's view of the kernel options up to date.
    fn observe<K: Kernel>(&mut self, ctx: &Ctx<K>) -> Option<&mut Machine> {
        let m = self.machine.as_mut()?;
        let ports: Vec<u32> = m.ports.list.iter().map(|p| p.ifindex).collect();
        for ifindex in ports {
            let enabled = ctx.kernel.port_enabled(ifindex).unwrap_or(false);
            m.observe_kernel(ifindex, enabled, ctx.kernel.port_priority(ifindex));
        }
        Some(m)
    }

    /// Applies every action; a failure does not skip the rest (timers and
    /// logs still matter), the first one is returned.
    async fn apply<K: Kernel>(&mut self, ctx: &mut Ctx<K>, actions: Vec<Action>) -> KResult {
        let mut result = Ok(());
        for a in actions {
            match a {
                Action::Send { ifindex, pdu } => {
                    let key = SockKey::Runner { ifindex };
                    if let Err(e) = ctx.kernel.packet_send(key, &pdu.to_frame()) {
                        // a port whose link is down refuses; its state says so
                        log::dbg(1, || {
                            format!("{}: LACPDU not sent ({e})", ctx.kernel.ifname(ifindex))
                        });
                    }
                }
                Action::SetEnabled { ifindex, enabled } => {
                    if let Err(e) = set_enabled(ctx, ifindex, enabled).await {
                        result = result.and(Err(e));
                    }
                }
                Action::SetCarrier(on) => {
                    if let Err(e) = set_carrier(ctx, on).await {
                        result = result.and(Err(e));
                    }
                }
                Action::ArmTimer {
                    ifindex,
                    timer,
                    after,
                } => {
                    let id = timer_id(timer);
                    ctx.timers.arm(TimerKey::RunnerPort { ifindex, id }, after);
                }
                Action::RepeatTimer {
                    ifindex,
                    timer,
                    period,
                } => {
                    let id = timer_id(timer);
                    ctx.timers
                        .rearm_periodic(TimerKey::RunnerPort { ifindex, id }, period);
                }
                Action::CancelTimer { ifindex, timer } => {
                    let id = timer_id(timer);
                    ctx.timers.cancel(TimerKey::RunnerPort { ifindex, id });
                }
                Action::Log { level, msg } => match level {
                    LogLevel::Warn => log::warn(&msg),
                    LogLevel::Info => log::info(&msg),
                    LogLevel::Debug => log::dbg(1, || msg),
                },
            }
        }
        result
    }

    /// C's order: port config, socket + slow-protocols multicast, disable,
    /// team MAC, then the protocol state from the kernel link. At a warm
    /// start, a port the saved state knows keeps its `enabled` option and
    /// takes up its saved protocol state; one it does not know waits until
    /// they are all restored.
    pub async fn port_added<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        let restoring = ctx.pre_add_ports && self.machine.as_ref().is_some_and(|m| m.restoring());
        let known = restoring
            && self
                .machine
                .as_ref()
                .and_then(|m| m.port_snapshot(ifindex))
                .is_some();
        let pcfg = self.prepare_port(ctx, ifindex, known).await?;
        if known {
            let ifname = ctx.kernel.ifname(ifindex);
            let orig = own_mac(ctx, ifindex);
            let link = kernel_link(ctx, ifindex);
            if let Some(m) = self.observe(ctx) {
                m.port_restored(ifindex, &ifname, orig, pcfg, link);
            }
            return self.tx.port_added(ifindex);
        }
        if restoring {
            self.deferred.push((ifindex, pcfg));
        } else {
            self.start_port(ctx, ifindex, pcfg).await?;
        }
        self.tx.port_added(ifindex)
    }

    /// The kernel side of a new port: its socket, disabled (unless `keep`),
    /// on the team MAC.
    async fn prepare_port<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        keep: bool,
    ) -> KResult<teamd_lacp::PortConfig> {
        let ifname = ctx.kernel.ifname(ifindex);
        let settings = ctx
            .port(ifindex)
            .map(|p| p.settings.clone())
            .unwrap_or_default();
        let pcfg = match config::port_config(&ifname, &settings) {
            Ok(c) => c,
            Err(msg) => {
                log::err(&msg);
                return Err(team_nl_client::Error::kernel(msg, EINVAL));
            }
        };
        ctx.kernel.packet_open(
            SockKey::Runner { ifindex },
            SockSpec {
                ifindex,
                ethertype: ETH_P_SLOW,
                filter: lacp_filter(),
                multicast: vec![SLOW_PROTOCOLS_MAC],
            },
        )?;
        if !keep {
            if let Err(e) = ctx.kernel.set_port_enabled(ifindex, false).await {
                log::err(&format!("{ifname}: Failed to disable port."));
                if !is_gone(&e) {
                    return Err(e);
                }
            }
        }
        // a port that has it already is left alone: a MAC change is a
        // NETDEV_CHANGEADDR for everyone listening
        if !keep || ctx.port_hwaddr(ifindex) != ctx.team_hwaddr() {
            ctx.set_port_hwaddr_to_team(ifindex)
                .await
                .inspect_err(|_| {
                    log::err(&format!("{ifname}: Failed to set hardware address. "))
                })?;
        }
        Ok(pcfg)
    }

    /// The protocol side of a new port.
    async fn start_port<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        pcfg: teamd_lacp::PortConfig,
    ) -> KResult {
        let ifname = ctx.kernel.ifname(ifindex);
        let orig = lacpdu_source(ctx, ifindex);
        let link = kernel_link(ctx, ifindex);
        let actions = match self.observe(ctx) {
            Some(m) => m.port_added(ifindex, &ifname, orig, pcfg, link),
            None => Vec::new(),
        };
        self.apply(ctx, actions).await
    }

    /// After the ports found at start-up are in: a warm restore ends (see
    /// `teamd_lacp::warm`), then the ports it did not know start afresh.
    pub async fn adopt_done<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let actions = match self.observe(ctx) {
            Some(m) if m.restoring() => m.restore_done(),
            _ => return Ok(()),
        };
        let mut result = self.apply(ctx, actions).await;
        for (ifindex, pcfg) in std::mem::take(&mut self.deferred) {
            if ctx.port(ifindex).is_none() {
                continue; // gone meanwhile
            }
            if let Err(e) = self.start_port(ctx, ifindex, pcfg).await {
                result = result.and(Err(e));
            }
        }
        result
    }

    pub async fn port_removed<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        let actions = match self.observe(ctx) {
            Some(m) => m.port_removed(ifindex),
            None => Vec::new(),
        };
        self.tx.port_removed(ifindex);
        self.apply(ctx, actions).await
    }

    /// The kernel reported the port (link up/down, speed, duplex).
    pub async fn port_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
        let link = kernel_link(ctx, ifindex);
        let actions = match self.observe(ctx) {
            Some(m) => m.link_changed(ifindex, link),
            None => Vec::new(),
        };
        self.apply(ctx, actions).await
    }

    pub async fn team_admin_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let team = ctx.kernel.team_ifindex();
        let up = ctx.kernel.ifinfos().get(team).is_some_and(|i| i.admin_up);
        let actions = match self.observe(ctx) {
            Some(m) if m.admin_up() != up => m.admin_state_changed(up),
            _ => Vec::new(),
        };
        self.apply(ctx, actions).await
    }

    /// Every port follows the team MAC, which is also the actor system id.
    pub async fn team_hwaddr_changed<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        let actions = same_mac::team_changed(&View::of(ctx));
        action::apply(ctx, actions, |n: Infallible| match n {}).await?;
        if let (Some(m), Some(mac)) = (self.machine.as_mut(), mac6(&ctx.team_hwaddr())) {
            let actions = m.team_hwaddr_changed(mac);
            self.apply(ctx, actions).await?;
        }
        Ok(())
    }

    pub async fn port_hwaddr_changed<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
    ) -> KResult {
        let actions = same_mac::port_changed(&View::of(ctx), ifindex);
        action::apply(ctx, actions, |n: Infallible| match n {}).await
    }

    pub async fn options_batch<K: Kernel>(&mut self, ctx: &mut Ctx<K>) -> KResult {
        self.tx.options_batch(ctx).await
    }

    pub async fn port_timer<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        id: u32,
    ) -> KResult {
        let Some(timer) = timer_of(id) else {
            return Ok(());
        };
        let actions = match self.observe(ctx) {
            Some(m) => m.timer_fired(ifindex, timer),
            None => Vec::new(),
        };
        self.apply(ctx, actions).await
    }

    pub async fn packet<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        frame: &RxFrame,
    ) -> KResult {
        if frame.pkt_type == PKT_OUTGOING || !ctx.port_present(ifindex) {
            return Ok(());
        }
        let actions = match self.observe(ctx) {
            Some(m) => m.frame_received(ifindex, &frame.data),
            None => Vec::new(),
        };
        self.apply(ctx, actions).await
    }

    pub fn state(&self) -> Value {
        state::runner(&self.cfg)
    }

    pub fn port_state(&self, ifindex: u32) -> Option<Value> {
        state::port(self.machine.as_ref()?, ifindex)
    }

    /// `ports.<if>.runner.aggregator.selected`: only `true`, only for a
    /// selected port; as in C the switch runs as deferred work right after
    /// the reply.
    pub fn port_item_set<K: Kernel>(
        &mut self,
        ctx: &mut Ctx<K>,
        ifindex: u32,
        path: &str,
        value: &str,
    ) -> Result<(), ItemSetError> {
        if path != "runner.aggregator.selected" {
            return Err(ItemSetError::NoPath);
        }
        let v = if value.eq_ignore_ascii_case("true") {
            true
        } else if value.eq_ignore_ascii_case("false") {
            false
        } else {
            return Err(ItemSetError::Failed(EINVAL));
        };
        if !v {
            return Err(ItemSetError::Failed(EOPNOTSUPP));
        }
        let selected = self
            .machine
            .as_ref()
            .and_then(|m| m.port(ifindex))
            .is_some_and(|p| p.selected());
        if !selected {
            return Err(ItemSetError::Failed(EINVAL));
        }
        self.select_requests.push(ifindex);
        ctx.timers
            .arm(TimerKey::Runner(SELECT_WORK), std::time::Duration::ZERO);
        Ok(())
    }

    /// The deferred aggregator selections (runner timer `SELECT_WORK`).
    pub async fn work<K: Kernel>(&mut self, ctx: &mut Ctx<K>, id: u32) -> KResult {
        if id != SELECT_WORK {
            return Ok(());
        }
        let mut result = Ok(());
        for ifindex in std::mem::take(&mut self.select_requests) {
            // the port may have gone or been unselected meanwhile: then nothing
            let actions = match self.observe(ctx) {
                Some(m) => m.select_aggregator_of(ifindex, true).unwrap_or_default(),
                None => Vec::new(),
            };
            if let Err(e) = self.apply(ctx, actions).await {
                result = result.and(Err(e));
            }
        }
        result
    }
}

async fn set_enabled<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, enabled: bool) -> KResult {
    if !ctx.port_present(ifindex) {
        return Ok(());
    }
    let ifname = ctx.kernel.ifname(ifindex);
    let verb = if enabled { "enable" } else { "disable" };
    log::dbg(1, || {
        format!(
            "{ifname}: {} port",
            if enabled { "Enabling" } else { "Disabling" }
        )
    });
    if let Err(e) = ctx.kernel.set_port_enabled(ifindex, enabled).await {
        log::err(&format!("{ifname}: Failed to {verb} port."));
        if !is_gone(&e) {
            return Err(e);
        }
    }
    Ok(())
}

/// Forces the team carrier; a device without carrier control is fine.
async fn set_carrier<K: Kernel>(ctx: &mut Ctx<K>, on: bool) -> KResult {
    match ctx.kernel.set_carrier(on).await {
        Err(e) if e.errno() == Some(EOPNOTSUPP) => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{PortSettings, TeamSettings};
    use crate::kernel::fake::{Call, FakeKernel};
    use crate::team::{Port, Setup};
    use serde_json::json;
    use team_nl_client::team_nl::{OptionItem, OptionValue, PortItem};
    use team_nl_client::Link as NlLink;
    use teamd_lacp::lacpdu::state as bits;
    use teamd_lacp::{Lacpdu, LacpduInfo};

    const TEAM_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0x10];
    const PARTNER: [u8; 6] = [2, 0, 0, 0, 0, 0x99];

    fn nl_link(ifindex: u32, name: &str, mac: [u8; 6], up: bool) -> NlLink {
        NlLink {
            ifindex,
            name: name.into(),
            mac: mac.to_vec(),
            master: None,
            admin_up: up,
            carrier: false,
            mtu: 1500,
            kind: None,
        }
    }

    fn ctx(config: serde_json::Value) -> Ctx<FakeKernel> {
        let mut k = FakeKernel::new(1);
        k.ifinfos.on_newlink(&nl_link(1, "team0", TEAM_MAC, false));
        for (i, n) in [(2, "eth0"), (3, "eth1")] {
            k.ifinfos
                .on_newlink(&nl_link(i, n, [2, 0, 0, 0, 0, i as u8], true));
        }
        k.ifinfos.end_batch();
        ctx_on(k, &[(2, true), (3, true)], config)
    }

    /// The Ctx over `k` once the kernel reported the team in loadbalance mode with
    /// `ports` (ifindex, enabled), each link up at 1000 Mb/s full duplex.
    fn ctx_on(
        mut k: FakeKernel,
        ports: &[(u32, bool)],
        config: serde_json::Value,
    ) -> Ctx<FakeKernel> {
        let mut opts = vec![OptionItem::new(
            "mode",
            OptionValue::String("loadbalance".into()),
        )];
        let mut kports = Vec::new();
        for &(i, enabled) in ports {
            opts.push(OptionItem::new("enabled", OptionValue::Bool(enabled)).port(i));
            opts.push(OptionItem::new("priority", OptionValue::S32(0)).port(i));
            kports.push(PortItem {
                ifindex: i,
                linkup: true,
                speed: 1000,
                duplex: 1,
                ..Default::default()
            });
        }
        k.report(opts, kports);
        let config = Config::new(config).unwrap();
        let settings = TeamSettings::from_config(&config).unwrap();
        Ctx::new(k, config, settings, Setup::default())
    }

    async fn add_port(c: &mut Ctx<FakeKernel>, l: &mut Lacp, ifindex: u32, name: &str) {
        let settings = PortSettings::from_config(&c.config, name);
        c.ports.insert(
            0,
            Port {
                ifindex,
                ifname: name.into(),
                settings,
                watches: Vec::new(),
            },
        );
        l.port_added(c, ifindex).await.unwrap();
    }

    fn partner_pdu(port: u16, sync: bool) -> RxFrame {
        let actor = LacpduInfo {
            system_priority: 65535,
            system: PARTNER,
            key: 0,
            port_priority: 255,
            port,
            state: bits::LACP_ACTIVITY
                | bits::AGGREGATION
                | if sync { bits::SYNCHRONIZATION } else { 0 },
        };
        RxFrame {
            data: Lacpdu::new(PARTNER, actor, LacpduInfo::default())
                .to_frame()
                .to_vec(),
            vlan_tci: None,
            pkt_type: 2,
        }
    }

    #[tokio::test]
    async fn ports_aggregate_once_the_partner_is_in_sync() {
        let mut cfg = Config::new(json!({"runner": {"name": "lacp", "fast_rate": true},
            "ports": {"eth0": {"lacp_prio": 7}, "eth1": {}}}))
        .unwrap();
        let mut l = Lacp::from_config(&mut cfg).unwrap();
        // the default hash list is written into the config, as C does
        assert_eq!(
            cfg.get(&["runner", "tx_hash"]),
            Some(&json!(["eth", "ipv4", "ipv6"]))
        );
        let mut c = ctx(cfg.doc().clone());
        l.init(&mut c).await.unwrap();
        assert!(c.kernel.calls.contains(&Call::Carrier(false)));
        add_port(&mut c, &mut l, 2, "eth0").await;
        add_port(&mut c, &mut l, 3, "eth1").await;

        // a socket per port for the slow protocols, filtered, with the multicast address
        let spec = &c.kernel.packet_socks[&SockKey::Runner { ifindex: 2 }];
        assert_eq!(spec.ethertype, 0x8809);
        assert_eq!(spec.filter, lacp_filter());
        assert_eq!(spec.multicast, vec![SLOW_PROTOCOLS_MAC]);
        // disabled and on the team MAC; nothing sent while the team is down
        assert_eq!(c.kernel.port_enabled(2), Some(false));
        assert!(c.kernel.calls.contains(&Call::Hwaddr(2, TEAM_MAC.to_vec())));
        assert!(c.kernel.sent.is_empty());

        // team up: ports expire and talk at once
        c.kernel
            .ifinfos
            .on_newlink(&nl_link(1, "team0", TEAM_MAC, true));
        l.team_admin_changed(&mut c).await.unwrap();
        c.kernel.ifinfos.end_batch();
        let first = c
            .kernel
            .sent
            .iter()
            .find(|(k, _)| *k == SockKey::Runner { ifindex: 2 })
            .map(|(_, f)| Lacpdu::parse(f).unwrap())
            .expect("a LACPDU on eth0");
        assert_eq!(first.src, [2, 0, 0, 0, 0, 2], "the port's own MAC");
        assert_eq!(first.actor.system, TEAM_MAC);
        assert_eq!(first.actor.port_priority, 7);
        assert_eq!(first.actor.port, 2);
        assert_ne!(first.actor.state & bits::EXPIRED, 0);
        assert!(c
            .timers
            .is_armed(TimerKey::RunnerPort { ifindex: 2, id: 1 }));

        // the partner answers, not yet in sync: selected, still disabled
        l.packet(&mut c, 2, &partner_pdu(12, false)).await.unwrap();
        assert_eq!(c.kernel.port_enabled(2), Some(false));
        let st = l.port_state(2).unwrap();
        assert_eq!(st["state"], "current");
        assert_eq!(st["selected"], true);
        assert_eq!(st["aggregator"]["id"], 2);
        assert_eq!(st["partner_lacpdu_info"]["port"], 12);
        assert_eq!(st["partner_lacpdu_info"]["system"], "02:00:00:00:00:99");
        // in sync on both ports: both enabled, one aggregator, carrier up
        l.packet(&mut c, 2, &partner_pdu(12, true)).await.unwrap();
        l.packet(&mut c, 3, &partner_pdu(13, true)).await.unwrap();
        assert_eq!(c.kernel.port_enabled(2), Some(true));
        assert_eq!(c.kernel.port_enabled(3), Some(true));
        assert_eq!(
            c.kernel
                .calls
                .iter()
                .rev()
                .find(|x| matches!(x, Call::Carrier(_))),
            Some(&Call::Carrier(true))
        );
        assert_eq!(
            l.port_state(3).unwrap()["aggregator"]["id"],
            l.port_state(2).unwrap()["aggregator"]["id"]
        );
        assert_eq!(
            l.state(),
            json!({"active": true, "fast_rate": true, "sys_prio": 65535, "select_policy": "lacp_prio"})
        );

        // the partner expires on eth1 (3 s without LACPDUs): disabled
        l.port_timer(&mut c, 3, 1).await.unwrap();
        assert_eq!(l.port_state(3).unwrap()["state"], "expired");
        assert_eq!(c.kernel.port_enabled(3), Some(false));
        assert_eq!(c.kernel.port_enabled(2), Some(true));

        // the aggregator item: false is not supported, an unselected port refused
        assert_eq!(
            l.port_item_set(&mut c, 2, "runner.aggregator.selected", "false"),
            Err(ItemSetError::Failed(EOPNOTSUPP))
        );
        l.port_timer(&mut c, 3, 1).await.unwrap(); // expired -> defaulted
        assert_eq!(
            l.port_item_set(&mut c, 3, "runner.aggregator.selected", "true"),
            Err(ItemSetError::Failed(EINVAL))
        );
        assert_eq!(
            l.port_item_set(&mut c, 2, "runner.aggregator.selected", "TRUE"),
            Ok(())
        );
        assert!(c.timers.is_armed(TimerKey::Runner(SELECT_WORK)));
        l.work(&mut c, SELECT_WORK).await.unwrap();

        // a Marker PDU and our own outgoing frames change nothing
        let mut marker = partner_pdu(12, false);
        marker.data[14] = 2;
        l.packet(&mut c, 2, &marker).await.unwrap();
        let mut outgoing = partner_pdu(12, false);
        outgoing.pkt_type = PKT_OUTGOING;
        l.packet(&mut c, 2, &outgoing).await.unwrap();
        assert_eq!(c.kernel.port_enabled(2), Some(true));

        l.fini(&mut c).await;
        assert_eq!(c.kernel.calls.last(), Some(&Call::Carrier(false)));
    }

    /// As C teamd 1.31: with the team device down the ports still follow
    /// their link and the partner (expired, then current and selected), but
    /// nothing is sent and nothing enabled until the team comes up.
    #[tokio::test]
    async fn admin_down_team_follows_the_partner_without_speaking() {
        let mut cfg = Config::new(json!({"runner": {"name": "lacp", "fast_rate": true},
            "ports": {"eth0": {}, "eth1": {}}}))
        .unwrap();
        let mut l = Lacp::from_config(&mut cfg).unwrap();
        let mut c = ctx(cfg.doc().clone());
        l.init(&mut c).await.unwrap();
        add_port(&mut c, &mut l, 2, "eth0").await;
        add_port(&mut c, &mut l, 3, "eth1").await;
        assert_eq!(l.port_state(2).unwrap()["state"], "expired");
        assert_eq!(l.port_state(3).unwrap()["state"], "expired");
        assert!(c
            .timers
            .is_armed(TimerKey::RunnerPort { ifindex: 2, id: 1 }));

        // a partner that never heard us is not in sync
        l.packet(&mut c, 2, &partner_pdu(12, false)).await.unwrap();
        let st = l.port_state(2).unwrap();
        assert_eq!(st["state"], "current");
        assert_eq!(st["selected"], true);
        assert_eq!(st["aggregator"]["selected"], true);
        assert_eq!(st["partner_lacpdu_info"]["port"], 12);
        // so nothing is enabled; and nothing sent
        assert!(c.kernel.sent.is_empty());
        assert_eq!(c.kernel.port_enabled(2), Some(false));
        // the periodic timer runs on, still silent
        l.port_timer(&mut c, 2, 0).await.unwrap();
        assert!(c.kernel.sent.is_empty());
        // eth1's partner stays silent: expired -> defaulted after 3 s
        l.port_timer(&mut c, 3, 1).await.unwrap();
        assert_eq!(l.port_state(3).unwrap()["state"], "defaulted");

        // team up: every port expired, and each speaks at once
        c.kernel
            .ifinfos
            .on_newlink(&nl_link(1, "team0", TEAM_MAC, true));
        l.team_admin_changed(&mut c).await.unwrap();
        c.kernel.ifinfos.end_batch();
        assert_eq!(l.port_state(2).unwrap()["state"], "expired");
        assert_eq!(l.port_state(3).unwrap()["state"], "expired");
        for ifindex in [2, 3] {
            let pdu = c
                .kernel
                .sent
                .iter()
                .find(|(k, _)| *k == SockKey::Runner { ifindex })
                .map(|(_, f)| Lacpdu::parse(f).unwrap());
            assert!(
                pdu.is_some_and(|p| p.actor.state & bits::EXPIRED != 0),
                "an expired LACPDU on {ifindex}"
            );
        }
        // team down again: disabled, partner forgotten
        c.kernel
            .ifinfos
            .on_newlink(&nl_link(1, "team0", TEAM_MAC, false));
        l.team_admin_changed(&mut c).await.unwrap();
        c.kernel.ifinfos.end_batch();
        let st = l.port_state(2).unwrap();
        assert_eq!(st["state"], "disabled");
        assert_eq!(st["partner_lacpdu_info"]["port"], 0);
    }

    /// The kernel as a teamd finds it at a takeover: team0 up, eth0 (2) and
    /// eth1 (3) enslaved and enabled on the team MAC (so their own MACs are
    /// not to be seen), and eth2 (4), enslaved meanwhile, disabled.
    fn taken_over_ctx(config: serde_json::Value) -> Ctx<FakeKernel> {
        let mut k = FakeKernel::new(1);
        k.ifinfos.on_newlink(&nl_link(1, "team0", TEAM_MAC, true));
        for (i, n) in [(2, "eth0"), (3, "eth1"), (4, "eth2")] {
            let mut l = nl_link(i, n, TEAM_MAC, true);
            l.master = Some(1);
            k.ifinfos.on_newlink(&l);
        }
        k.ifinfos.end_batch();
        ctx_on(k, &[(2, true), (3, true), (4, false)], config)
    }

    fn kernel_changes(c: &Ctx<FakeKernel>) -> Vec<&Call> {
        c.kernel
            .calls
            .iter()
            .filter(|call| match call {
                Call::Set(o) => o.name == "enabled",
                Call::Carrier(_) => true,
                _ => false,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_warm_restart_hands_the_aggregate_over_untouched() {
        let doc = json!({"runner": {"name": "lacp", "fast_rate": true},
            "ports": {"eth0": {}, "eth1": {}, "eth2": {}}});
        // the old daemon: team up, both ports aggregated
        let mut cfg = Config::new(doc.clone()).unwrap();
        let mut old = Lacp::from_config(&mut cfg).unwrap();
        let mut c = ctx(cfg.doc().clone());
        c.kernel
            .ifinfos
            .on_newlink(&nl_link(1, "team0", TEAM_MAC, true));
        c.kernel.ifinfos.end_batch();
        old.init(&mut c).await.unwrap();
        add_port(&mut c, &mut old, 2, "eth0").await;
        add_port(&mut c, &mut old, 3, "eth1").await;
        l_sync(&mut c, &mut old).await;
        // its warm exit: a LACPDU on each port, nothing else
        let (calls, sent) = (c.kernel.calls.len(), c.kernel.sent.len());
        old.warm_exit(&mut c).await;
        assert_eq!(c.kernel.calls.len(), calls);
        assert_eq!(c.kernel.sent.len(), sent + 2);
        let state = old.warm_state();
        let text = serde_json::to_string(&state).unwrap();

        // the new daemon, on the kernel the old one left, with a port added meanwhile
        let mut cfg = Config::new(doc).unwrap();
        let mut new = Lacp::from_config(&mut cfg).unwrap();
        let mut c = taken_over_ctx(cfg.doc().clone());
        new.warm_restore(&serde_json::from_str(&text).unwrap(), |patience| {
            // the partner here asks for slow LACPDUs: it waits 90 s for us
            assert_eq!(patience, std::time::Duration::from_secs(90));
            Ok(())
        })
        .unwrap();
        new.init(&mut c).await.unwrap();
        c.pre_add_ports = true;
        for (i, n) in [(2, "eth0"), (3, "eth1"), (4, "eth2")] {
            add_port(&mut c, &mut new, i, n).await;
        }
        assert!(c.kernel.sent.is_empty(), "nothing said before all are in");
        c.pre_add_ports = false;
        new.adopt_done(&mut c).await.unwrap();

        // eth0 and eth1 untouched; eth2, new, disabled until it negotiates
        let changes = kernel_changes(&c);
        assert_eq!(
            changes,
            vec![&Call::Set(
                OptionItem::new("enabled", OptionValue::Bool(false)).port(4)
            )],
            "{:?}",
            c.kernel.calls
        );
        // no MAC set on ports that have the team's already
        assert!(!c
            .kernel
            .calls
            .iter()
            .any(|x| matches!(x, Call::Hwaddr(2 | 3, _))));
        for (ifindex, own) in [(2u32, 2u8), (3, 3)] {
            let pdu = c
                .kernel
                .sent
                .iter()
                .find(|(k, _)| *k == SockKey::Runner { ifindex })
                .map(|(_, f)| Lacpdu::parse(f).unwrap())
                .expect("a LACPDU at once");
            assert_eq!(
                pdu.src,
                [2, 0, 0, 0, 0, own],
                "from the port's saved own MAC"
            );
            assert_ne!(pdu.actor.state & bits::DISTRIBUTING, 0);
            assert_eq!(pdu.partner.system, PARTNER);
            let st = new.port_state(ifindex).unwrap();
            assert_eq!(st["state"], "current");
            assert_eq!(st["selected"], true);
            assert_eq!(st["aggregator"]["selected"], true);
        }
        assert_eq!(new.port_state(4).unwrap()["state"], "expired");
        // the partner's next LACPDU changes nothing
        let before = c.kernel.calls.len();
        new.packet(&mut c, 2, &partner_pdu(12, true)).await.unwrap();
        assert_eq!(kernel_changes(&c).len(), 1);
        assert!(c.kernel.calls.len() >= before);
        assert!(c
            .timers
            .is_armed(TimerKey::RunnerPort { ifindex: 3, id: 1 }));
    }

    /// Both ports in sync with the partner (the old daemon's steady state).
    async fn l_sync(c: &mut Ctx<FakeKernel>, l: &mut Lacp) {
        l.packet(c, 2, &partner_pdu(12, true)).await.unwrap();
        l.packet(c, 3, &partner_pdu(13, true)).await.unwrap();
        assert_eq!(c.kernel.port_enabled(2), Some(true));
        assert_eq!(c.kernel.port_enabled(3), Some(true));
    }

    #[tokio::test]
    async fn port_config_limits_refuse_the_port() {
        let mut cfg = Config::new(json!({"runner": {"name": "lacp"},
            "ports": {"eth0": {"lacp_prio": 65536}}}))
        .unwrap();
        let mut l = Lacp::from_config(&mut cfg).unwrap();
        let mut c = ctx(cfg.doc().clone());
        l.init(&mut c).await.unwrap();
        let settings = PortSettings::from_config(&c.config, "eth0");
        c.ports.insert(
            0,
            Port {
                ifindex: 2,
                ifname: "eth0".into(),
                settings,
                watches: Vec::new(),
            },
        );
        assert!(l.port_added(&mut c, 2).await.is_err());
        assert!(c.kernel.packet_socks.is_empty());
    }
}
