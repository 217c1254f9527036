//! Live config reload (`teamdctl <dev> config reload [FILE]`, SIGHUP): a new
//! config document is validated completely first (`plan`), and only then
//! applied to the running team (`apply`), so a refused config changes nothing.
//!
//! What changes live: port `prio`, `sticky`, `queue_id`, `lacp_prio`,
//! `lacp_key`; link watch lists and their options (global and per port) and
//! `link_watch_policy`; runner options; the runner itself (same kernel mode:
//! swapped in place; another kernel mode: the ports are released, the mode
//! set and the ports enslaved again, because the driver refuses a mode change
//! while it has ports — the device, its addresses and MAC stay); ports listed
//! in the new config are added, ports only the old config listed are released
//! (ports added over the control interface stay, with their settings);
//! `notify_peers`, `mcast_rejoin`, `debug_level`. Refused: a different
//! `device` or `hwaddr` (both identify the device; restart teamd for them).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use team_nl_client::team_nl::{OptionItem, OptionValue};
use teamd_ctl_proto::json::parse_strict;

use crate::config::{self, Config, PortSettings, TeamSettings};
use crate::core::Daemon;
use crate::ctl::Lookup;
use crate::kernel::{KResult, Kernel, ENODEV};
use crate::linkwatch::{self, LinkWatch};
use crate::log;
use crate::runner::Runner;

/// A validated reload, ready to apply.
pub struct Plan {
    config: Config,
    settings: TeamSettings,
    /// Port names the new document lists (before defaults were written).
    listed: BTreeSet<String>,
    /// The new runner when its section (after defaults) differs.
    runner: Option<Runner>,
    /// Per tracked port: new settings and, when they changed, new watches.
    ports: Vec<PortPlan>,
    /// Tracked ports to release: listed by the old config, not by the new.
    remove: Vec<u32>,
    /// Ports to enslave: listed by the new config, not in the team.
    add: Vec<String>,
    debug_level: Option<i32>,
}

struct PortPlan {
    ifindex: u32,
    settings: PortSettings,
    watches: Option<Vec<LinkWatch>>,
}

fn refused(what: &str) -> String {
    format!("Config reload refused: {what}")
}

/// The watch configuration that applies to a port: its own list and the global one.
fn watch_source(cfg: &Config, ifname: &str) -> (Option<Value>, Option<Value>) {
    (
        cfg.get(&["ports", ifname, "link_watch"]).cloned(),
        cfg.get(&["link_watch"]).cloned(),
    )
}

/// Parses and validates `text` against the running team; changes nothing.
pub fn plan<K: Kernel>(d: &Daemon<K>, text: &str) -> Result<Plan, String> {
    let ctx = &d.ctx;
    let doc = parse_strict(text).map_err(|e| refused(&format!("Failed to parse config: {e}")))?;
    let mut cfg = Config::new(doc).map_err(|e| refused(&format!("Failed to parse config: {e}")))?;
    let team_name = ctx.kernel.ifname(ctx.kernel.team_ifindex());
    match cfg.get(&["device"]) {
        None => cfg.set(&["device"], json!(team_name)),
        Some(Value::String(dev)) if *dev == team_name => {}
        Some(other) => {
            return Err(refused(&format!(
                "\"device\" cannot change on a running team ({team_name} → {}); restart teamd for that.",
                other.as_str().map(String::from).unwrap_or_else(|| other.to_string())
            )))
        }
    }
    let hwaddr = config::hwaddr_setting(&cfg).map_err(|e| refused(&e.0))?;
    if hwaddr != ctx.settings.hwaddr {
        return Err(refused(
            "\"hwaddr\" cannot change on a running team; restart teamd for that.",
        ));
    }
    let listed: BTreeSet<String> = cfg.port_names().into_iter().collect();
    // ports added over the control interface keep what they were given
    for p in &ctx.ports {
        if !listed.contains(&p.ifname) && !ctx.config_ports.contains(&p.ifname) {
            if let Some(v) = ctx.config.port(&p.ifname) {
                cfg.set(&["ports", &p.ifname], v.clone());
            }
        }
    }
    let link_watch_policy = config::link_watch_policy_setting(&cfg).map_err(|e| refused(&e.0))?;
    let runner = Runner::from_config(&mut cfg).map_err(|e| refused(&e.0))?;
    let runner = if cfg.get(&["runner"]) == ctx.config.get(&["runner"]) {
        None
    } else {
        Some(runner)
    };
    let settings = TeamSettings {
        hwaddr,
        debug_level: ctx.settings.debug_level,
        link_watch_policy,
        notify_peers: config::burst(&cfg, "notify_peers").map_err(|e| refused(&e.0))?,
        mcast_rejoin: config::burst(&cfg, "mcast_rejoin").map_err(|e| refused(&e.0))?,
    };
    let mut ports = Vec::new();
    for p in ctx.ports.iter().rev() {
        let settings = PortSettings::from_config(&cfg, &p.ifname);
        if let Some(q) = settings.queue_id {
            if q < 0 {
                return Err(refused(&format!(
                    "{}: \"queue_id\" must not be negative number.",
                    p.ifname
                )));
            }
        }
        let up = ctx
            .kernel
            .port_bool("user_linkup", p.ifindex)
            .unwrap_or(false);
        let watches = linkwatch::load(&mut cfg, &p.ifname, up).map_err(|e| refused(&e))?;
        let changed = watch_source(&cfg, &p.ifname) != watch_source(&ctx.config, &p.ifname);
        ports.push(PortPlan {
            ifindex: p.ifindex,
            settings,
            watches: changed.then_some(watches),
        });
    }
    // ports about to be enslaved must have valid watches too
    for name in &listed {
        if ctx.port_by_name(name).is_none() {
            let mut probe = cfg.clone();
            linkwatch::load(&mut probe, name, false).map_err(|e| refused(&e))?;
        }
    }
    let remove = ctx
        .ports
        .iter()
        .filter(|p| ctx.config_ports.contains(&p.ifname) && !listed.contains(&p.ifname))
        .map(|p| p.ifindex)
        .collect();
    let add = listed
        .iter()
        .filter(|n| ctx.port_by_name(n).is_none())
        .cloned()
        .collect();
    let debug_level = match (cfg.int(&["debug_level"]), ctx.config.int(&["debug_level"])) {
        (new, old) if new != old => Some(new.unwrap_or(0)),
        _ => None,
    };
    Ok(Plan {
        config: cfg,
        settings,
        listed,
        runner,
        ports,
        remove,
        add,
        debug_level,
    })
}

/// Applies a validated plan; returns what changed, one line each.
pub async fn apply<K: Kernel, L: Lookup>(
    d: &mut Daemon<K>,
    lookup: &L,
    plan: Plan,
) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    let old_settings = d.ctx.settings.clone();
    d.ctx.config = plan.config;
    d.ctx.config_ports = plan.listed;
    d.ctx.settings = plan.settings;
    if let Some(level) = plan.debug_level {
        log::set_debug_level(level.max(0) as u32);
        done.push(format!("debug_level {level}"));
    }
    let mut recreated = BTreeSet::new();
    if let Some(runner) = plan.runner {
        let mode_change = runner.kernel_mode() != d.runner.kernel_mode();
        done.push(format!("runner {} → {}", d.runner.name(), runner.name()));
        if mode_change {
            recreated = swap_runner_new_mode(d, runner).await?;
        } else {
            swap_runner_same_mode(d, runner).await?;
        }
    }
    for pp in plan.ports {
        if recreated.contains(&pp.ifindex) || d.ctx.port(pp.ifindex).is_none() {
            continue;
        }
        let name = d.ctx.kernel.ifname(pp.ifindex);
        let old = d
            .ctx
            .port(pp.ifindex)
            .map(|p| p.settings.clone())
            .unwrap_or_default();
        if old != pp.settings {
            apply_port_settings(d, pp.ifindex, &old, &pp.settings)
                .await
                .map_err(|e| format!("{name}: Failed to apply port settings: {e}"))?;
            done.push(format!("{name}: port settings"));
        }
        if let Some(watches) = pp.watches {
            linkwatch::stop_port(&mut d.ctx, pp.ifindex);
            if let Some(p) = d.ctx.port_mut(pp.ifindex) {
                p.watches = watches;
            }
            linkwatch::start_port(&mut d.ctx, pp.ifindex).await?;
            d.link_changed(pp.ifindex).await;
            done.push(format!("{name}: link watches"));
        } else if old_settings.link_watch_policy != d.ctx.settings.link_watch_policy {
            d.link_changed(pp.ifindex).await;
        }
    }
    apply_bursts(d, &old_settings)
        .await
        .map_err(|e| format!("Failed to set burst options: {e}"))?;
    for ifindex in plan.remove {
        let name = d.ctx.kernel.ifname(ifindex);
        d.port_remove(ifindex)
            .await
            .map_err(|e| format!("{name}: Failed to remove port: {e}"))?;
        done.push(format!("{name}: removed"));
    }
    for name in plan.add {
        match d.port_add(&name, lookup.link_by_name(&name).await).await {
            Ok(()) => done.push(format!("{name}: added")),
            Err(e) if e.errno() == Some(ENODEV) => {
                log::warn(&format!("{name}: Skipped adding a missing port."));
            }
            Err(e) => return Err(format!("{name}: Failed to add port: {e}")),
        }
    }
    Ok(done)
}

/// Same kernel mode: the old runner lets go, the new one takes the ports as
/// they are (oldest first, as they were added).
async fn swap_runner_same_mode<K: Kernel>(d: &mut Daemon<K>, runner: Runner) -> Result<(), String> {
    d.runner.fini(&mut d.ctx).await;
    d.runner = runner;
    d.runner
        .init(&mut d.ctx)
        .await
        .map_err(|e| format!("Failed to init runner: {e}"))?;
    let ports: Vec<u32> = d.ctx.ports.iter().rev().map(|p| p.ifindex).collect();
    for ifindex in ports {
        d.runner
            .port_added(&mut d.ctx, ifindex)
            .await
            .map_err(|e| {
                format!(
                    "{}: runner failed to take the port: {e}",
                    d.ctx.kernel.ifname(ifindex)
                )
            })?;
    }
    Ok(())
}

/// Another kernel mode: release the ports, set the mode, enslave them again;
/// the core re-creates them (new runner, new config) from the kernel's events.
async fn swap_runner_new_mode<K: Kernel>(
    d: &mut Daemon<K>,
    runner: Runner,
) -> Result<BTreeSet<u32>, String> {
    d.runner.fini(&mut d.ctx).await;
    let ports: Vec<u32> = d.ctx.ports.iter().rev().map(|p| p.ifindex).collect();
    for &ifindex in &ports {
        if let Err(e) = d.ctx.kernel.release(ifindex).await {
            return Err(format!(
                "{}: Failed to release port for the mode change: {e}",
                d.ctx.kernel.ifname(ifindex)
            ));
        }
        d.forget_port(ifindex);
    }
    d.runner = runner;
    d.runner
        .init(&mut d.ctx)
        .await
        .map_err(|e| format!("Failed to init runner: {e}"))?;
    for &ifindex in &ports {
        // the team keeps its MAC: no adoption from the first port again
        d.ctx.keep_team_hwaddr.insert(ifindex);
        if let Err(e) = d.ctx.kernel.enslave(ifindex).await {
            d.ctx.keep_team_hwaddr.remove(&ifindex);
            return Err(format!(
                "{}: Failed to enslave port after the mode change: {e}",
                d.ctx.kernel.ifname(ifindex)
            ));
        }
    }
    Ok(ports.into_iter().collect())
}

async fn apply_port_settings<K: Kernel>(
    d: &mut Daemon<K>,
    ifindex: u32,
    old: &PortSettings,
    new: &PortSettings,
) -> KResult {
    if let Some(p) = d.ctx.port_mut(ifindex) {
        p.settings = new.clone();
    }
    if new.queue_id != old.queue_id {
        let q = new.queue_id.unwrap_or(0).max(0) as u32;
        d.ctx
            .kernel
            .set_option(OptionItem::new("queue_id", OptionValue::U32(q)).port(ifindex))
            .await?;
    }
    if new.prio != old.prio {
        d.ctx
            .kernel
            .set_option(OptionItem::new("priority", OptionValue::S32(new.prio)).port(ifindex))
            .await?;
    }
    d.runner.port_config_changed(&mut d.ctx, ifindex).await
}

async fn apply_bursts<K: Kernel>(d: &mut Daemon<K>, old: &TeamSettings) -> KResult {
    let s = d.ctx.settings.clone();
    let pairs = [
        (
            "notify_peers_count",
            s.notify_peers.count,
            old.notify_peers.count,
        ),
        (
            "notify_peers_interval",
            s.notify_peers.interval,
            old.notify_peers.interval,
        ),
        (
            "mcast_rejoin_count",
            s.mcast_rejoin.count,
            old.mcast_rejoin.count,
        ),
        (
            "mcast_rejoin_interval",
            s.mcast_rejoin.interval,
            old.mcast_rejoin.interval,
        ),
    ];
    for (opt, new, old) in pairs {
        // as at start-up, an unset key leaves the kernel's value alone
        if let (Some(v), true) = (new, new != old) {
            d.ctx
                .kernel
                .set_option(OptionItem::new(opt, OptionValue::U32(v)))
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::fake::{Call, FakeKernel};
    use crate::team::{Ctx, Setup};
    use team_nl_client::team_nl::{PortItem, TeamMessage};
    use team_nl_client::Link;

    struct NoLinks;
    impl Lookup for NoLinks {
        async fn link_by_name(&self, _name: &str) -> Option<Link> {
            None
        }
    }

    const LINKS: [(u32, &str); 4] = [(1, "team0"), (2, "eth1"), (3, "eth2"), (4, "eth3")];

    /// A running team on the fake kernel with `cfg`'s ports enslaved.
    async fn daemon(cfg: Value) -> Daemon<FakeKernel> {
        let mut k = FakeKernel::new(1);
        for (ifindex, name) in LINKS {
            k.ifinfos
                .on_newlink(&crate::kernel::fake::up_link(ifindex, name));
        }
        k.ifinfos.end_batch();
        k.report(
            vec![OptionItem::new(
                "mode",
                OptionValue::String("*NOMODE*".into()),
            )],
            vec![],
        );
        let mut config = Config::new(cfg).unwrap();
        let runner = Runner::from_config(&mut config).unwrap();
        let settings = TeamSettings::from_config(&config).unwrap();
        let mut d = Daemon {
            ctx: Ctx::new(k, config, settings, Setup::default()),
            runner,
            quit: None,
        };
        d.ctx.config_ports = d.ctx.config.port_names().into_iter().collect();
        d.runner.init(&mut d.ctx).await.unwrap();
        let ports = d
            .ctx
            .config
            .port_names()
            .iter()
            .map(|n| PortItem {
                ifindex: LINKS.iter().find(|(_, l)| l == n).unwrap().0,
                changed: true,
                linkup: true,
                speed: 1000,
                duplex: 1,
                removed: false,
            })
            .collect();
        let mut m = TeamMessage::options_get(1);
        m.ports = Some(ports);
        d.on_team_messages(&[m]).await;
        d.ctx.kernel.calls.clear();
        d
    }

    async fn reload(d: &mut Daemon<FakeKernel>, cfg: Value) -> Result<Vec<String>, String> {
        let p = plan(d, &cfg.to_string())?;
        apply(d, &NoLinks, p).await
    }

    fn sets(d: &Daemon<FakeKernel>, name: &str) -> Vec<OptionItem> {
        d.ctx
            .kernel
            .calls
            .iter()
            .filter_map(|c| match c {
                Call::Set(o) if o.name == name => Some(o.clone()),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn port_prio_and_sticky_change_live() {
        let mut d = daemon(json!({"runner": {"name": "activebackup"},
            "ports": {"eth1": {"prio": 1}, "eth2": {}}}))
        .await;
        let done = reload(
            &mut d,
            json!({"runner": {"name": "activebackup"},
                "ports": {"eth1": {"prio": 1}, "eth2": {"prio": 50, "sticky": true}}}),
        )
        .await
        .unwrap();
        assert_eq!(done, ["eth2: port settings"]);
        let prio = sets(&d, "priority");
        assert_eq!(prio.len(), 1);
        assert_eq!(prio[0].port_ifindex, Some(3));
        assert_eq!(prio[0].value, OptionValue::S32(50));
        let eth2 = d.ctx.port(3).unwrap();
        assert!(eth2.settings.sticky);
        assert!(!d.ctx.kernel.calls.contains(&Call::Release(2)));
    }

    #[tokio::test]
    async fn the_same_config_changes_nothing() {
        let cfg = json!({"runner": {"name": "loadbalance"}, "ports": {"eth1": {}, "eth2": {}}});
        let mut d = daemon(cfg.clone()).await;
        assert_eq!(reload(&mut d, cfg).await.unwrap(), Vec::<String>::new());
        assert!(d.ctx.kernel.calls.is_empty(), "{:?}", d.ctx.kernel.calls);
    }

    #[tokio::test]
    async fn refused_configs_change_nothing() {
        let cfg = json!({"device": "team0", "runner": {"name": "activebackup"},
            "ports": {"eth1": {"prio": 3}}});
        let mut d = daemon(cfg.clone()).await;
        let before = d.ctx.config.doc().clone();
        let cases = [
            (
                json!({"device": "team7", "ports": {"eth1": {"prio": 9}}}),
                "\"device\" cannot change",
            ),
            (
                json!({"hwaddr": "02:00:00:00:00:99"}),
                "\"hwaddr\" cannot change",
            ),
            (
                json!({"runner": {"name": "bogus"}}),
                "No runner named \"bogus\"",
            ),
            (
                json!({"ports": {"eth1": {"prio": 9, "link_watch": {"name": "smoke_signal"}}}}),
                "No link_watch named \"smoke_signal\"",
            ),
            (json!({"link_watch_policy": "most"}), "link_watch_policy"),
            (
                json!({"notify_peers": {"count": -1}}),
                "must not be negative",
            ),
            (
                json!({"ports": {"eth1": {"queue_id": -2}}}),
                "\"queue_id\" must not be negative",
            ),
        ];
        for (bad, why) in cases {
            let e = reload(&mut d, bad.clone()).await.unwrap_err();
            assert!(e.starts_with("Config reload refused: "), "{e}");
            assert!(e.contains(why), "{bad}: {e}");
            assert_eq!(d.ctx.config.doc(), &before);
            assert!(d.ctx.kernel.calls.is_empty());
        }
        let e = plan(&d, "{\"runner\": ").err().unwrap();
        assert!(e.contains("Failed to parse config"), "{e}");
    }

    #[tokio::test]
    async fn watches_are_replaced_only_where_their_config_changed() {
        let mut d = daemon(json!({"runner": {"name": "roundrobin"},
            "ports": {"eth1": {}, "eth2": {"link_watch": {"name": "ethtool"}}}}))
        .await;
        let done = reload(
            &mut d,
            json!({"runner": {"name": "roundrobin"},
                "ports": {"eth1": {"link_watch": [{"name": "ethtool", "delay_up": 100},
                                                   {"name": "ethtool"}]},
                          "eth2": {"link_watch": {"name": "ethtool"}}}}),
        )
        .await
        .unwrap();
        assert_eq!(done, ["eth1: link watches"]);
        assert_eq!(d.ctx.port(2).unwrap().watches.len(), 2);
        assert_eq!(d.ctx.port(3).unwrap().watches.len(), 1);
    }

    #[tokio::test]
    async fn runner_options_swap_the_runner_in_place() {
        let mut d = daemon(
            json!({"runner": {"name": "loadbalance", "tx_hash": ["eth"]},
            "ports": {"eth1": {}, "eth2": {}}}),
        )
        .await;
        let done = reload(
            &mut d,
            json!({"runner": {"name": "loadbalance", "tx_hash": ["ipv4", "l4"]},
                "ports": {"eth1": {}, "eth2": {}}}),
        )
        .await
        .unwrap();
        assert_eq!(done, ["runner loadbalance → loadbalance"]);
        assert_eq!(sets(&d, "bpf_hash_func").len(), 1);
        assert!(sets(&d, "mode").is_empty());
        let calls = &d.ctx.kernel.calls;
        assert!(!calls.iter().any(|c| matches!(c, Call::Release(_))));
        assert_eq!(
            d.ctx.config.get(&["runner", "tx_hash"]),
            Some(&json!(["ipv4", "l4"]))
        );
    }

    #[tokio::test]
    async fn another_kernel_mode_re_enslaves_the_ports_keeping_the_team_mac() {
        let mut d = daemon(json!({"runner": {"name": "activebackup"},
            "ports": {"eth1": {}, "eth2": {}}}))
        .await;
        // oldest first, as they were added
        let order: Vec<u32> = d.ctx.ports.iter().rev().map(|p| p.ifindex).collect();
        reload(
            &mut d,
            json!({"runner": {"name": "roundrobin"}, "ports": {"eth1": {}, "eth2": {}}}),
        )
        .await
        .unwrap();
        let calls: Vec<&Call> = d
            .ctx
            .kernel
            .calls
            .iter()
            .filter(|c| !matches!(c, Call::Set(o) if o.name != "mode"))
            .collect();
        assert_eq!(
            calls,
            [
                &Call::Release(order[0]),
                &Call::Release(order[1]),
                &Call::Set(OptionItem::new(
                    "mode",
                    OptionValue::String("roundrobin".into())
                )),
                &Call::Enslave(order[0]),
                &Call::Enslave(order[1]),
            ]
        );
        assert!(
            d.ctx.ports.is_empty(),
            "re-created from the kernel's events"
        );
        assert_eq!(d.ctx.keep_team_hwaddr.len(), 2);
        assert_eq!(d.runner.name(), "roundrobin");
    }

    #[tokio::test]
    async fn only_ports_the_old_config_listed_are_released() {
        let mut d = daemon(json!({"runner": {"name": "roundrobin"},
            "ports": {"eth1": {}, "eth2": {}}}))
        .await;
        // eth3 joins over the control interface, with a prio of its own
        d.ctx.config.set(&["ports", "eth3", "prio"], json!(7));
        let mut m = TeamMessage::options_get(1);
        m.ports = Some(vec![PortItem {
            ifindex: 4,
            changed: true,
            linkup: true,
            ..Default::default()
        }]);
        d.on_team_messages(&[m]).await;
        d.ctx.kernel.calls.clear();
        let done = reload(
            &mut d,
            json!({"runner": {"name": "roundrobin"}, "ports": {"eth1": {}}}),
        )
        .await
        .unwrap();
        assert_eq!(done, ["eth2: removed"]);
        assert_eq!(d.ctx.kernel.calls, [Call::Release(3)]);
        assert_eq!(d.ctx.config.int(&["ports", "eth3", "prio"]), Some(7));
    }
}
