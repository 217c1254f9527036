//! The core: turns kernel events (team port/option changes, link changes),
//! timers and control requests into calls on the link watches and the runner,
//! in C teamd's order. Generic over the kernel so it runs on a fake in tests.

use team_nl_client::cache::Changes;
use team_nl_client::team_nl::{OptionItem, OptionValue};
use team_nl_client::{Error, Link, LinkEvent};

use crate::config::PortSettings;
use crate::kernel::{is_gone, KResult, Kernel, ENODEV};
use crate::linkwatch::{self, ethtool};
use crate::log;
use crate::packet::{RxFrame, SockKey};
use crate::runner::Runner;
use crate::team::{Ctx, Port, TimerKey};

pub struct Daemon<K> {
    pub ctx: Ctx<K>,
    pub runner: Runner,
    /// Set when the loop should end: the exit status.
    pub quit: Option<i32>,
}

impl<K: Kernel> Daemon<K> {
    /// Team genl messages of one datagram/reply, already parsed.
    pub async fn on_team_messages(&mut self, msgs: &[team_nl_client::team_nl::TeamMessage]) {
        let changes = self.ctx.kernel.cache_mut().apply_batch(msgs.iter());
        self.on_team_changes(changes).await;
    }

    pub async fn on_team_changes(&mut self, changes: Changes) {
        if changes.ports {
            self.port_pass().await;
        }
        if changes.options {
            self.option_pass().await;
        }
    }

    /// C teamd's port change handler: create new ports, pass port events to the
    /// watches, drop removed ports, in the kernel list's order.
    async fn port_pass(&mut self) {
        let kports = self.ctx.kernel.cache().ports().to_vec();
        for kp in kports {
            if self.ctx.port(kp.ifindex).is_none() {
                if kp.removed {
                    continue;
                }
                if let Err(e) = self.create_port(kp.ifindex).await {
                    log::err(&format!("Failed to add port ifindex {}: {e}", kp.ifindex));
                    continue;
                }
            }
            if kp.changed {
                self.port_changed(kp.ifindex).await;
            }
            if kp.removed {
                self.destroy_port(kp.ifindex).await;
            }
        }
    }

    async fn create_port(&mut self, ifindex: u32) -> Result<(), String> {
        let ifname = self.ctx.kernel.ifname(ifindex);
        let settings = PortSettings::from_config(&self.ctx.config, &ifname);
        self.ctx.ports.insert(
            0,
            Port {
                ifindex,
                ifname: ifname.clone(),
                settings,
                watches: Vec::new(),
            },
        );
        let failed = match self.port_added(ifindex).await {
            Ok(()) => self
                .runner
                .port_added(&mut self.ctx, ifindex)
                .await
                .map_err(|e| {
                    (
                        format!("{ifname}: runner failed to set the port up: {e}"),
                        true,
                    )
                }),
            Err(msg) => Err((msg, false)),
        };
        if let Err((msg, runner_saw_it)) = failed {
            log::err(&msg);
            // undo: tell the runner (only if its hook ran: C calls a runner's
            // port-removed hook only for ports its port-added hook took, so a
            // port refused earlier makes no active-port change), release
            // from the kernel, forget it
            if runner_saw_it {
                let _ = self.runner.port_removed(&mut self.ctx, ifindex).await;
            }
            if let Err(e) = self.ctx.kernel.release(ifindex).await {
                log::err(&format!("{ifname}: Failed to remove port. ({e})"));
            }
            self.forget_port(ifindex);
            return Err(msg);
        }
        Ok(())
    }

    /// The core's port_added handlers in C teamd's registration order (the
    /// runner's comes after them, in `create_port`).
    async fn port_added(&mut self, ifindex: u32) -> Result<(), String> {
        let ifname = self.ctx.kernel.ifname(ifindex);
        if !self.ctx.pre_add_ports {
            self.adopt_port_hwaddr(ifindex).await?;
        }
        let settings = self
            .ctx
            .port(ifindex)
            .map(|p| p.settings.clone())
            .unwrap_or_default();
        if let Some(q) = settings.queue_id {
            if q < 0 {
                return Err(format!(
                    "{ifname}: \"queue_id\" must not be negative number."
                ));
            }
            self.ctx
                .kernel
                .set_option(OptionItem::new("queue_id", OptionValue::U32(q as u32)).port(ifindex))
                .await
                .map_err(|e| format!("{ifname}: Failed to set \"queue_id\". ({e})"))?;
        }
        self.ctx
            .kernel
            .set_option(OptionItem::new("priority", OptionValue::S32(settings.prio)).port(ifindex))
            .await
            .map_err(|e| format!("{ifname}: Failed to set \"priority\". ({e})"))?;
        let up = self
            .ctx
            .kernel
            .port_bool("user_linkup", ifindex)
            .unwrap_or(false);
        let watches = linkwatch::load(&mut self.ctx.config, &ifname, up)?;
        if let Some(p) = self.ctx.port_mut(ifindex) {
            p.watches = watches;
        }
        linkwatch::start_port(&mut self.ctx, ifindex).await
    }

    /// The team takes the MAC of its first port unless one was configured.
    async fn adopt_port_hwaddr(&mut self, ifindex: u32) -> Result<(), String> {
        let keep = self.ctx.keep_team_hwaddr.remove(&ifindex);
        if self.ctx.ports.len() != 1 || self.ctx.hwaddr_explicit || keep {
            return Ok(());
        }
        let ifname = self.ctx.kernel.ifname(ifindex);
        let orig = self
            .ctx
            .kernel
            .ifinfos()
            .get(ifindex)
            .map(|i| i.orig_hwaddr.clone())
            .unwrap_or_default();
        let team_len = self.ctx.team_hwaddr().len();
        if orig.len() != team_len {
            return Err(format!(
                "{ifname}: Port original hardware address has different length ({}) than team device has ({team_len}).",
                orig.len()
            ));
        }
        let team = self.ctx.kernel.team_ifindex();
        self.ctx
            .kernel
            .set_hwaddr(team, &orig)
            .await
            .map_err(|e| format!("Failed to set team device hardware address. ({e})"))
    }

    async fn port_changed(&mut self, ifindex: u32) {
        if ethtool::on_port_changed(&mut self.ctx, ifindex) {
            self.link_changed(ifindex).await;
        }
        // the kernel's own view of the port (C's port_changed event watch)
        if let Err(e) = self.runner.port_changed(&mut self.ctx, ifindex).await {
            log::warn(&format!("Loop callback failed with: {e}"));
        }
    }

    /// A watcher flipped: push the summary to the kernel, tell the runner.
    pub async fn link_changed(&mut self, ifindex: u32) {
        if let Err(e) = linkwatch::refresh_user_linkup(&mut self.ctx, ifindex).await {
            log::err(&format!(
                "{}: Failed to refresh user link state. ({e})",
                self.ctx.kernel.ifname(ifindex)
            ));
        }
        if let Err(e) = self.runner.port_link_changed(&mut self.ctx, ifindex).await {
            log::warn(&format!("Loop callback failed with: {e}"));
        }
    }

    /// Drops a port from the model with its watches' and runner's sockets and timers.
    pub fn forget_port(&mut self, ifindex: u32) {
        linkwatch::stop_port(&mut self.ctx, ifindex);
        self.ctx.kernel.packet_close_port(ifindex);
        self.ctx.timers.cancel_port(ifindex);
        self.ctx.ports.retain(|p| p.ifindex != ifindex);
    }

    async fn destroy_port(&mut self, ifindex: u32) {
        self.forget_port(ifindex);
        // C's port_removed hooks return nothing: a runner's failure there
        // ends with the line its failing write logged, not in the loop's
        let _ = self.runner.port_removed(&mut self.ctx, ifindex).await;
    }

    /// Changed option instances go to the runner, in the cache's list order.
    async fn option_pass(&mut self) {
        let changed: Vec<OptionItem> = self
            .ctx
            .kernel
            .cache()
            .options()
            .iter()
            .filter(|o| o.changed)
            .cloned()
            .collect();
        for opt in changed {
            if let Err(e) = self.runner.option_changed(&mut self.ctx, &opt).await {
                // as C: its option watch stops at the first failing watcher,
                // and libteam skips the batch's later handlers (the balancer)
                log::warn(&format!("Loop callback failed with: {e}"));
                return;
            }
        }
        if let Err(e) = self.runner.options_batch(&mut self.ctx).await {
            log::warn(&format!("Loop callback failed with: {e}"));
        }
    }

    /// A link notification, with the link as it stands now (None when it is gone).
    pub async fn on_link_event(&mut self, ev: LinkEvent, now: Option<Link>) {
        let ifindex = match &ev {
            LinkEvent::Changed(l) | LinkEvent::Removed(l) => l.ifindex,
            LinkEvent::Overrun => return,
        };
        let changed = match (&ev, &now) {
            (LinkEvent::Changed(_), Some(link)) => self.ctx.kernel.ifinfos_mut().on_newlink(link),
            (LinkEvent::Changed(_), None) => false,
            (LinkEvent::Overrun, _) => false,
            (LinkEvent::Removed(_), now) => self
                .ctx
                .kernel
                .ifinfos_mut()
                .on_dellink(ifindex, now.is_some()),
        };
        if changed {
            self.ifinfo_changed(ifindex).await;
        }
        self.ctx.kernel.ifinfos_mut().end_batch();
    }

    async fn ifinfo_changed(&mut self, ifindex: u32) {
        let Some(info) = self.ctx.kernel.ifinfos().get(ifindex).cloned() else {
            return;
        };
        let team = self.ctx.kernel.team_ifindex();
        if ifindex == team && info.changed.removed {
            log::warn("Team device removal detected.");
            self.quit.get_or_insert(0);
            return;
        }
        let tracked = self.ctx.port(ifindex).is_some();
        if info.changed.hwaddr || info.changed.hwaddr_len {
            let r = if ifindex == team {
                self.runner.team_hwaddr_changed(&mut self.ctx).await
            } else if tracked {
                self.runner
                    .port_hwaddr_changed(&mut self.ctx, ifindex)
                    .await
            } else {
                Ok(())
            };
            if let Err(e) = r {
                log::warn(&format!("Loop callback failed with: {e}"));
            }
        }
        if info.changed.admin_state && ifindex == team {
            if let Err(e) = self.runner.team_admin_changed(&mut self.ctx).await {
                log::warn(&format!("Loop callback failed with: {e}"));
            }
        }
        if info.changed.ifname && tracked {
            if let Some(p) = self.ctx.port_mut(ifindex) {
                p.ifname = info.ifname.clone();
            }
        }
        if info.changed.master && tracked {
            if let Err(e) = self
                .runner
                .port_master_changed(&mut self.ctx, ifindex)
                .await
            {
                log::warn(&format!("Loop callback failed with: {e}"));
            }
        }
    }

    pub async fn on_timer(&mut self, key: TimerKey) {
        match key {
            TimerKey::EthtoolDelay { ifindex, watch } => {
                if ethtool::on_delay_expired(&mut self.ctx, ifindex, watch) {
                    self.link_changed(ifindex).await;
                }
            }
            TimerKey::Runner(id) => {
                if let Err(e) = self.runner.timer(&mut self.ctx, id).await {
                    log::warn(&format!("Loop callback failed with: {e}"));
                }
            }
            TimerKey::RunnerPort { ifindex, id } => {
                if let Err(e) = self.runner.port_timer(&mut self.ctx, ifindex, id).await {
                    log::warn(&format!("Loop callback failed with: {e}"));
                }
            }
            TimerKey::LinkWatch { ifindex, watch, id } => {
                match linkwatch::on_timer(&mut self.ctx, ifindex, watch, id).await {
                    Ok(true) => self.link_changed(ifindex).await,
                    Ok(false) => {}
                    Err(e) => log::warn(&format!("Loop callback failed with: {e}")),
                }
            }
        }
    }

    /// A frame from a packet socket, routed to the socket's owner.
    pub async fn on_packet(&mut self, key: SockKey, frame: RxFrame) {
        match key {
            SockKey::Runner { ifindex } => {
                if self.ctx.port(ifindex).is_none() {
                    return; // queued before the port went away
                }
                if let Err(e) = self.runner.packet(&mut self.ctx, ifindex, &frame).await {
                    log::warn(&format!("Loop callback failed with: {e}"));
                }
            }
            SockKey::LinkWatch { ifindex, watch } => {
                if linkwatch::on_packet(&mut self.ctx, ifindex, watch, &frame) {
                    self.link_changed(ifindex).await;
                }
            }
        }
    }

    /// Enslaves a port by name (PortAdd, config ports). ENODEV when missing.
    pub async fn port_add(&mut self, ifname: &str, lookup: Option<Link>) -> KResult {
        let Some(link) = lookup else {
            return Err(Error::kernel(format!("add port {ifname}"), ENODEV));
        };
        if self.ctx.kernel.ifinfos().get(link.ifindex).is_none() {
            self.ctx.kernel.ifinfos_mut().on_newlink(&link);
            self.ctx.kernel.ifinfos_mut().end_batch();
        }
        log::dbg(1, || {
            format!(
                "{ifname}: Adding port (found ifindex \"{}\").",
                link.ifindex
            )
        });
        // the port's own MAC, for a team that adopts its first port's
        self.ctx
            .kernel
            .ifinfos_mut()
            .hold_orig_hwaddr(link.ifindex, true);
        let r = self.ctx.kernel.enslave(link.ifindex).await;
        if r.is_err() {
            self.ctx
                .kernel
                .ifinfos_mut()
                .hold_orig_hwaddr(link.ifindex, false);
        }
        r
    }

    /// Releases a tracked port (PortRemove, shutdown).
    pub async fn port_remove(&mut self, ifindex: u32) -> KResult {
        let ifname = self.ctx.kernel.ifname(ifindex);
        log::dbg(1, || {
            format!("{ifname}: Removing port (found ifindex \"{ifindex}\").")
        });
        self.ctx.kernel.release(ifindex).await.inspect_err(|e| {
            if !is_gone(e) {
                log::err(&format!("{ifname}: Failed to remove port."));
            }
        })
    }
}
