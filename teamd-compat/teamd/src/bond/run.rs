//! The bond backend's life: refuse what bonding cannot do, create the bond
//! with the mapped options, enslave the configured ports, serve the control
//! interfaces until a quit signal, then release the ports and delete the
//! bond (as teamd deletes its team device).

use std::time::Duration;

use teamd_ctl_proto::json::dump_pretty;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use super::daemon::BondDaemon;
use super::device;
use super::options::{self, Plan};
use super::view::BondView;
use crate::cli::Args;
use crate::config::Config;
use crate::ctl::{self, Lookup, Served};
use crate::dbus::DbusService;
use crate::doorbell::Doorbell;
use crate::kernel::{EBUSY, EEXIST, EINVAL, ENODEV};
use crate::log;
use crate::run::{open_control, InitError, RtnlLookup};
use crate::sys::Ready;
use crate::team::Setup;
use crate::usock::{self, CtlRequest};
use team_nl_client::{strerror, Rtnl};

pub struct BondRunning {
    daemon: BondDaemon,
    lookup: RtnlLookup,
    ctl_rx: mpsc::Receiver<CtlRequest>,
    dbus: Option<DbusService>,
    _usock: Option<usock::Usock>,
    no_quit_destroy: bool,
}

/// Checks the config against bonding before anything is created: `Err` lists
/// every setting bonding cannot do.
pub fn check(config: &Config, source: &str) -> Result<Plan, InitError> {
    let text = dump_pretty(config.doc());
    options::plan(&text, source).map_err(|refused| {
        let mut lines = vec![format!(
            "The bond backend cannot run this config: bonding cannot do {} of its settings:",
            refused.len()
        )];
        lines.extend(refused);
        lines.push("Failed to init runner.".into());
        InitError {
            lines,
            errno: EINVAL,
            team_unsupported: false,
        }
    })
}

/// `config`: as given (before teamd's runner defaults were added).
pub async fn start(args: &Args, config: Config, setup: Setup) -> Result<BondRunning, InitError> {
    let source = match &setup.config_file {
        Some(f) => f.display().to_string(),
        None => "config".to_string(),
    };
    let plan = check(&config, &source)?;
    let name = config.string(&["device"]).unwrap_or_default().to_string();
    let rtnl = Rtnl::connect().map_err(|e| InitError::kernel(&e, &["Bond alloc failed."]))?;
    let create_err =
        |e: &team_nl_client::Error| InitError::kernel(e, &["Failed to create bond device."]);
    match rtnl.link_by_name(&name).await.map_err(|e| create_err(&e))? {
        Some(l) if args.force_recreate => {
            rtnl.delete_link(l.ifindex)
                .await
                .map_err(|e| create_err(&e))?;
        }
        Some(_) if args.take_over => {
            return Err(InitError::new(
                EINVAL,
                &[
                    &format!("{name} exists: the bond backend cannot take a device over (-o)."),
                    "Failed to create bond device.",
                ],
            ));
        }
        Some(_) => {
            return Err(InitError::new(
                EEXIST,
                &[&format!("{name} exists."), "Failed to create bond device."],
            ))
        }
        None => {}
    }
    let bond = device::create(&rtnl, &name, &plan)
        .await
        .map_err(|e| create_err(&e))?;
    log::info(&format!(
        "Created bond {name} (mode {}) for the {} runner.",
        plan.mode_name,
        runner_of(&config)
    ));
    let result = start_on(args, config, setup, &rtnl, &bond, &plan).await;
    if result.is_err() {
        // nothing half-configured stays behind
        let _ = rtnl.delete_link(bond.ifindex).await;
    }
    result
}

fn runner_of(config: &Config) -> String {
    config
        .string(&["runner", "name"])
        .unwrap_or("roundrobin")
        .to_string()
}

async fn start_on(
    args: &Args,
    config: Config,
    setup: Setup,
    rtnl: &Rtnl,
    bond: &team_nl_client::Link,
    plan: &Plan,
) -> Result<BondRunning, InitError> {
    let mut view = BondView {
        ifindex: bond.ifindex,
        ifname: bond.name.clone(),
        ..BondView::default()
    };
    if let Ok(Some(v)) = device::read(rtnl, bond.ifindex).await {
        view = v;
    }
    let mut daemon = BondDaemon {
        rtnl: rtnl.clone(),
        runner: runner_of(&config),
        config,
        setup,
        view,
    };
    // This loop waits on its control queue itself; the bell the senders ring is unused.
    let (ctl_rx, mut dbus, usock) = open_control(args, &bond.name, &Doorbell::new()).await?;
    let lookup = RtnlLookup(rtnl.clone());
    if !args.no_ports {
        for port in &plan.ports {
            let link = lookup.link_by_name(port).await;
            match daemon.port_add(port, link).await {
                Ok(()) => {}
                Err(e) if e.errno() == Some(ENODEV) => {
                    log::warn(&format!("{port}: Skipped adding a missing port."));
                }
                Err(e) => {
                    let errno = e.errno().unwrap_or(EINVAL);
                    return Err(InitError::new(
                        errno,
                        &[
                            &format!("{port}: Failed to add port ({e})."),
                            "Failed to add ports.",
                        ],
                    ));
                }
            }
        }
        daemon
            .apply_primary(plan.primary.as_deref())
            .await
            .map_err(|e| InitError::kernel(&e, &["Failed to set the primary port."]))?;
    }
    if let Some(d) = dbus.as_mut() {
        d.expose_name(&bond.name)
            .await
            .map_err(|e| InitError::new(EBUSY, &[&e, "Failed to expose dbus name."]))?;
    }
    Ok(BondRunning {
        daemon,
        lookup,
        ctl_rx,
        dbus,
        _usock: usock,
        no_quit_destroy: args.no_quit_destroy,
    })
}

fn quit_signal() -> i32 {
    log::warn("Got SIGINT, SIGQUIT or SIGTERM.");
    0
}

/// How often the bond is checked for having gone (deleted by someone else).
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

impl BondRunning {
    pub async fn serve(mut self, ready: &mut Ready) -> i32 {
        ready.send(0);
        log::info(&format!(
            "{} successfully started (bond backend).",
            crate::VERSION
        ));
        let (mut sigint, mut sigterm, mut sigquit, mut sighup) = match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::quit()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
            _ => {
                log::err("Could not register signal handlers.");
                return 2;
            }
        };
        let mut tick = tokio::time::interval(WATCH_INTERVAL);
        let status = loop {
            tokio::select! {
                _ = sigint.recv() => break quit_signal(),
                _ = sigterm.recv() => break quit_signal(),
                _ = sigquit.recv() => break quit_signal(),
                _ = sighup.recv() => {
                    log::warn("SIGHUP ignored: the bond backend cannot reload a config.");
                }
                Some(req) = self.ctl_rx.recv() => {
                    if !self.daemon.refresh().await {
                        log::err("The bond device went away.");
                        break 1;
                    }
                    let reply = ctl::handle(&mut self.daemon, &self.lookup, &req.call).await;
                    let _ = req.reply.send(reply);
                }
                _ = tick.tick() => {
                    if !self.daemon.refresh().await {
                        log::err("The bond device went away.");
                        break 1;
                    }
                }
            }
        };
        log::info("Exiting...");
        self.shutdown().await;
        status
    }

    /// Releases the ports and deletes the bond (unless -N).
    async fn shutdown(&mut self) {
        if let Some(d) = self.dbus.as_mut() {
            d.shutdown();
        }
        if self.no_quit_destroy {
            return;
        }
        let ports: Vec<u32> = self.daemon.view.ports.iter().map(|p| p.ifindex).collect();
        for p in ports {
            if let Err(e) = self.daemon.port_remove(p).await {
                log::warn(&format!("Failed to release port ifindex {p}: {e}"));
            }
        }
        let ifindex = self.daemon.view.ifindex;
        match tokio::time::timeout(Duration::from_secs(5), self.lookup.0.delete_link(ifindex)).await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::err(&format!(
                "Failed to delete bond device: {e} ({})",
                strerror(e.errno().unwrap_or(EINVAL))
            )),
            Err(_) => log::err("Failed to delete bond device: no answer from the kernel."),
        }
    }
}
