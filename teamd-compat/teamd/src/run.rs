//! Start-up and the main loop on the real kernel: create or take over the
//! team device, read its state, start the runner, enslave the configured
//! ports, then serve kernel events, timers, control requests and signals
//! until asked to quit; then release the ports and delete the device (a
//! cold exit, as C teamd), or leave all of it to the next teamd (a warm exit:
//! SIGUSR1, or SIGTERM while systemd restarts our unit; see `warm`).

use std::sync::Arc;
use std::time::Duration;

use team_nl_client::cache::{IfinfoCache, TeamCache};
use team_nl_client::team_nl::{OptionItem, OptionValue, TeamMessage};
use team_nl_client::{
    genl, strerror, Error, Link, LinkEvent, LinkEvents, Rtnl, TeamEvents, TeamGenl,
};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::cli::Args;
use crate::config::{self, Config, ConfigError, LinkWatchPolicy, TeamSettings};
use crate::core::Daemon;
use crate::ctl::{self, Lookup};
use crate::dbus::DbusService;
use crate::doorbell::{self, Doorbell, Rung, Source};
use crate::heap_future::on_heap;
// EOPNOTSUPP: what the kernel answers for a link kind it does not know (and cannot load)
use crate::kernel::{Kernel, RealKernel, EBUSY, EINVAL, ENODEV, EOPNOTSUPP};
use crate::log;
use crate::packet::{PacketSockets, RxReceiver};
use crate::runner::Runner;
use crate::sys::{self, Ready};
use crate::systemd;
use crate::team::{Ctx, Setup};
use crate::usock::{self, CtlRequest};
use crate::warm::{self, SavedPort, Stamp, WarmState};

/// An init failure: what to log, and the errno for `Failed: <strerror>`.
pub struct InitError {
    pub lines: Vec<String>,
    pub errno: i32,
    /// The kernel cannot create a team device (the kind `team` is unknown and
    /// its module cannot be loaded): the bond backend can take over.
    pub team_unsupported: bool,
}

impl InitError {
    pub(crate) fn new(errno: i32, lines: &[&str]) -> Self {
        Self {
            lines: lines.iter().map(|s| s.to_string()).collect(),
            errno,
            team_unsupported: false,
        }
    }

    pub(crate) fn kernel(e: &Error, lines: &[&str]) -> Self {
        let mut err = Self::new(e.errno().unwrap_or(EINVAL), lines);
        err.lines.insert(0, e.to_string());
        err
    }
}

pub(crate) struct RtnlLookup(pub(crate) Rtnl);

impl Lookup for RtnlLookup {
    async fn link_by_name(&self, name: &str) -> Option<Link> {
        self.0.link_by_name(name).await.ok().flatten()
    }
}

/// Everything the main loop serves.
pub struct Running {
    daemon: Daemon<RealKernel>,
    /// Team events, read by a task of their own (see [`read_team_events`]).
    team_rx: mpsc::Receiver<TeamBatch>,
    /// Link events, likewise; closed when the socket failed for good.
    link_rx: mpsc::Receiver<LinkEvent>,
    lookup: RtnlLookup,
    ctl_rx: mpsc::Receiver<CtlRequest>,
    packet_rx: RxReceiver,
    /// Rung by whatever feeds the queues above (see [`crate::doorbell`]).
    bell: Arc<Doorbell>,
    dbus: Option<DbusService>,
    _usock: Option<usock::Usock>,
    /// -N: leave ports and device as they are at exit.
    no_quit_destroy: bool,
    /// The signal that ended the loop, which decides how teamd exits.
    exit: ExitRequest,
}

/// How teamd was asked to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitRequest {
    /// SIGINT, SIGQUIT, or the device went away: cold, as C teamd.
    Cold,
    /// SIGTERM: cold, unless systemd is restarting our unit.
    Term,
    /// SIGUSR1: warm. C teamd (1.32) does not catch SIGUSR1; SONiC's teamd
    /// uses it for the same purpose (its warm-reboot shutdown).
    Warm,
}

/// Reads the kernel's full option and port lists as one batch.
async fn dump_team(genl: &TeamGenl, ifindex: u32) -> Result<Vec<TeamMessage>, Error> {
    let mut ports = TeamMessage::port_list_get(ifindex);
    ports.ports = Some(genl.port_list_get(ifindex).await?);
    let mut options = TeamMessage::options_get(ifindex);
    options.options = Some(genl.options_get(ifindex).await?);
    Ok(vec![ports, options])
}

/// Validates what can be validated before touching the kernel, so a bad
/// config never leaves a device behind. Checks run in C's init order
/// (hwaddr, runner, post-runner bursts), each failure with C's step line.
/// `debug_level` and `link_watch_policy` were read by `main` (C reads them
/// once, before the PID file).
pub fn prepare(
    config: &mut Config,
    debug_level: i32,
    link_watch_policy: LinkWatchPolicy,
) -> Result<(TeamSettings, Runner), InitError> {
    let step = |line: &'static str| move |e: ConfigError| InitError::new(EINVAL, &[&e.0, line]);
    let hwaddr = config::hwaddr_setting(config).map_err(step("Hardware address set failed."))?;
    let runner = Runner::from_config(config).map_err(step("Failed to init runner."))?;
    let post = "Failed to do post-runner initializations.";
    let notify_peers = config::burst(config, "notify_peers").map_err(step(post))?;
    let mcast_rejoin = config::burst(config, "mcast_rejoin").map_err(step(post))?;
    let settings = TeamSettings {
        hwaddr,
        debug_level,
        link_watch_policy,
        notify_peers,
        mcast_rejoin,
    };
    Ok((settings, runner))
}

pub async fn start(
    args: &Args,
    config: Config,
    settings: TeamSettings,
    runner: Runner,
    setup: Setup,
) -> Result<Running, InitError> {
    let name = config.string(&["device"]).unwrap_or_default().to_string();
    let (rtnl, link_events) =
        Rtnl::connect_with_events().map_err(|e| InitError::kernel(&e, &["Team alloc failed."]))?;
    let existing = rtnl
        .link_by_name(&name)
        .await
        .map_err(|e| InitError::kernel(&e, &["Failed to create team device."]))?;
    let taken_over = existing.is_some() && args.take_over;
    if !taken_over {
        forget_warm_state(&name);
    }
    let team = match existing {
        Some(l) if args.take_over => l,
        Some(l) if args.force_recreate => {
            rtnl.delete_link(l.ifindex)
                .await
                .map_err(|e| InitError::kernel(&e, &["Failed to create team device."]))?;
            rtnl.create_team(&name, None)
                .await
                .map_err(|e| InitError::kernel(&e, &["Failed to create team device."]))?
        }
        _ => rtnl.create_team(&name, None).await.map_err(|e| {
            let mut err = InitError::kernel(&e, &["Failed to create team device."]);
            err.team_unsupported = e.errno() == Some(EOPNOTSUPP);
            err
        })?,
    };
    let result = on_heap(|| {
        start_on(
            args,
            config,
            settings,
            runner,
            setup,
            &rtnl,
            link_events,
            (&team, taken_over),
        )
    })
    .await;
    if result.is_err() && !args.take_over {
        // never leave a half-configured device behind
        let _ = rtnl.delete_link(team.ifindex).await;
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn start_on(
    args: &Args,
    config: Config,
    settings: TeamSettings,
    runner: Runner,
    setup: Setup,
    rtnl: &Rtnl,
    link_events: LinkEvents,
    (team, taken_over): (&Link, bool),
) -> Result<Running, InitError> {
    let ifindex = team.ifindex;
    let init_err = |e: Error| InitError::kernel(&e, &["Team init failed."]);
    let genl = TeamGenl::connect().await.map_err(init_err)?;
    let events = genl.events(event_bufsize()).map_err(init_err)?;
    let mut cache = TeamCache::new(ifindex);
    let mut ifinfos = IfinfoCache::default();
    ifinfos.load(&rtnl.links().await.map_err(init_err)?);
    let dump = dump_team(&genl, ifindex).await.map_err(init_err)?;
    cache.apply_batch(dump.iter());
    let bell = Doorbell::new();
    let (packets, packet_rx) = PacketSockets::new(bell.clone());
    let kernel = RealKernel {
        genl,
        rtnl: rtnl.clone(),
        cache,
        ifinfos,
        ifindex,
        packets,
    };
    let mut ctx = Ctx::new(kernel, config, settings, setup);
    let mut runner = runner;
    if taken_over {
        adopt_warm_state(&ctx, &mut runner, team);
    }
    set_team_hwaddr(&mut ctx).await?;
    let mut daemon = Daemon {
        ctx,
        runner,
        quit: None,
    };
    daemon
        .runner
        .init(&mut daemon.ctx)
        .await
        .map_err(|e| InitError::new(EINVAL, &[&e, "Failed to init runner."]))?;
    set_bursts(&mut daemon.ctx).await?;

    let (ctl_rx, mut dbus, usock) = open_control(args, &team.name, &bell).await?;

    // Adopt what is already enslaved (take-over), without MAC adoption.
    daemon.ctx.pre_add_ports = true;
    let dump = dump_team(&daemon.ctx.kernel.genl, ifindex)
        .await
        .map_err(|e| InitError::kernel(&e, &["Team refresh failed."]))?;
    daemon.on_team_messages(&dump).await;
    daemon.ctx.pre_add_ports = false;
    if let Err(e) = daemon.runner.adopt_done(&mut daemon.ctx).await {
        log::warn(&format!("Taking over the team's ports: {e}"));
    }

    let lookup = RtnlLookup(rtnl.clone());
    daemon.ctx.config_ports = daemon.ctx.config.port_names().into_iter().collect();
    if !args.no_ports {
        for port in daemon.ctx.config.port_names() {
            let link = lookup.link_by_name(&port).await;
            match daemon.port_add(&port, link).await {
                Ok(()) => {}
                Err(e) if e.errno() == Some(ENODEV) => {
                    log::warn(&format!("{port}: Skipped adding a missing port."));
                }
                Err(e) => {
                    let errno = e.errno().unwrap_or(EINVAL);
                    return Err(InitError::new(
                        errno,
                        &[
                            &format!("{port}: Failed to add port ({}).", strerror(errno)),
                            "Failed to add ports.",
                        ],
                    ));
                }
            }
        }
    }
    // The name goes last: systemd (Type=dbus) and NetworkManager take it
    // as "teamd is ready", so the ports must already be in the team.
    if let Some(d) = dbus.as_mut() {
        on_heap(|| d.expose_name(&team.name))
            .await
            .map_err(|e| InitError::new(EBUSY, &[&e, "Failed to expose dbus name."]))?;
    }
    Ok(Running {
        daemon,
        team_rx: spawn_reader(events, read_team_events, (&bell, Source::Team)),
        link_rx: spawn_reader(link_events, read_link_events, (&bell, Source::Link)),
        lookup,
        ctl_rx,
        packet_rx,
        bell,
        dbus,
        _usock: usock,
        no_quit_destroy: args.no_quit_destroy,
        exit: ExitRequest::Cold,
    })
}

/// The control interfaces the command line asks for (D-Bus, unix socket),
/// both feeding one request channel; the D-Bus name is exposed later.
pub(crate) async fn open_control(
    args: &Args,
    device: &str,
    bell: &Arc<Doorbell>,
) -> Result<
    (
        mpsc::Receiver<CtlRequest>,
        Option<DbusService>,
        Option<usock::Usock>,
    ),
    InitError,
> {
    let (ctl_tx, ctl_rx) = doorbell::channel(bell, Source::Control, 16);
    let dbus = if args.dbus {
        Some(
            DbusService::connect(ctl_tx.clone())
                .await
                .map_err(|e| InitError::new(EINVAL, &[&e, "Failed to init dbus."]))?,
        )
    } else {
        None
    };
    let usock = if args.usock {
        let path = format!("{}{device}.sock", sys::RUN_DIR);
        Some(
            usock::listen(std::path::Path::new(&path), ctl_tx).map_err(|e| {
                InitError::new(
                    e.raw_os_error().unwrap_or(EINVAL),
                    &["Failed to init unix domain socket."],
                )
            })?,
        )
    } else {
        None
    };
    Ok((ctl_rx, dbus, usock))
}

/// A state file left for a device this start does not take over (none, a
/// new one, or -r) is of no use to anyone.
fn forget_warm_state(dev: &str) {
    let path = warm::path(dev);
    if warm::take(&path).is_some() {
        log::info(&format!(
            "Removed the warm restart state {}: {dev} is not taken over.",
            path.display()
        ));
    }
}

/// At a takeover: reads (and removes) the device's warm-restart state and
/// hands the runner its part if the state is this team's and fresh. Any
/// problem means an ordinary takeover, with the reason in the log.
fn adopt_warm_state(ctx: &Ctx<RealKernel>, runner: &mut Runner, team: &Link) {
    let path = warm::path(&team.name);
    let Some(text) = warm::take(&path) else {
        return;
    };
    let adopt = || -> Result<(WarmState, std::time::Duration), String> {
        let state = WarmState::parse(&text?)?;
        let ports: Vec<(u32, String)> = ctx
            .kernel
            .cache()
            .ports()
            .iter()
            .filter(|p| !p.removed)
            .map(|p| (p.ifindex, ctx.kernel.ifname(p.ifindex)))
            .collect();
        state.matches(team.ifindex, &team.name, runner.name(), &ports)?;
        let mode = ctx.kernel.team_mode().unwrap_or_default();
        if mode != runner.kernel_mode() {
            return Err(format!(
                "the team is in mode {mode:?}, the {} runner's is {}",
                runner.name(),
                runner.kernel_mode()
            ));
        }
        let now = Stamp::now()?;
        let mut age = std::time::Duration::ZERO;
        runner.warm_restore(&state.runner_state, |patience| {
            age = state.fresh(&now, patience)?;
            Ok(())
        })?;
        Ok((state, age))
    };
    match adopt() {
        Ok((state, age)) => log::info(&format!(
            "Warm restart: adopting {} as teamd {} left it {:.2} s ago (ports {}).",
            team.name,
            state.pid,
            age.as_secs_f64(),
            state
                .ports
                .iter()
                .map(|p| p.ifname.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Err(e) => log::warn(&format!(
            "Ignoring the warm restart state in {}: {e}; taking the team over as it is.",
            path.display()
        )),
    }
}

fn event_bufsize() -> usize {
    std::env::var("TEAM_EVENT_BUFSIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(genl::EVENT_BUFSIZE)
}

/// Applies `hwaddr` from the config if it differs from the device's.
async fn set_team_hwaddr(ctx: &mut Ctx<RealKernel>) -> Result<(), InitError> {
    let Some(mac) = ctx.settings.hwaddr.clone() else {
        return Ok(());
    };
    let current = ctx.team_hwaddr();
    if mac.len() != current.len() {
        return Err(InitError::new(
            EINVAL,
            &[
                &format!(
                    "Passed hardware address has different length ({}) than team device has ({}).",
                    mac.len(),
                    current.len()
                ),
                "Hardware address set failed.",
            ],
        ));
    }
    ctx.hwaddr_explicit = true;
    if mac == current {
        return Ok(());
    }
    let team = ctx.kernel.ifindex;
    ctx.kernel
        .set_hwaddr(team, &mac)
        .await
        .map_err(|e| InitError::kernel(&e, &["Hardware address set failed."]))?;
    // keep our view current until the link event arrives
    if let Some(mut link) = ctx.kernel.rtnl.link_by_index(team).await.ok().flatten() {
        link.mac = mac;
        ctx.kernel.ifinfos.on_newlink(&link);
        ctx.kernel.ifinfos.end_batch();
    }
    Ok(())
}

/// notify_peers / mcast_rejoin counts and intervals (C's post-runner init).
async fn set_bursts(ctx: &mut Ctx<RealKernel>) -> Result<(), InitError> {
    // read and validated by prepare(), after the runner added its defaults
    let s = &ctx.settings;
    let sets: Vec<(&str, u32)> = [
        ("notify_peers_count", s.notify_peers.count),
        ("notify_peers_interval", s.notify_peers.interval),
        ("mcast_rejoin_count", s.mcast_rejoin.count),
        ("mcast_rejoin_interval", s.mcast_rejoin.interval),
    ]
    .into_iter()
    .filter_map(|(opt, v)| Some((opt, v?)))
    .collect();
    for (opt, v) in sets {
        if let Err(e) = ctx
            .kernel
            .set_option(OptionItem::new(opt, OptionValue::U32(v)))
            .await
        {
            if crate::kernel::is_gone(&e) {
                log::warn(&format!(
                    "Failed to set \"{opt}\". Kernel probably does not support this option yet."
                ));
            } else {
                return Err(InitError::kernel(
                    &e,
                    &[&format!("Failed to set \"{opt}\".")],
                ));
            }
        }
    }
    Ok(())
}

/// One read of the team event socket.
type TeamBatch = Result<Vec<TeamMessage>, Error>;

/// Batches of kernel events a reader task may hold before it stops reading: the socket's
/// buffer then fills and the kernel reports the overrun, which the main loop answers by
/// re-reading the team (a flood costs a re-read, not unbounded memory).
const EVENT_QUEUE: usize = 8;

/// Each event socket is read by a task of its own that queues what it reads for the main
/// loop and rings its doorbell (a socket's receive future is costly to set up again on
/// each turn of the loop: neli takes a buffer from its pool for it).
fn spawn_reader<S, T, F>(
    source: S,
    read: fn(S, doorbell::Sender<T>) -> F,
    (bell, which): (&Arc<Doorbell>, Source),
) -> mpsc::Receiver<T>
where
    S: Send + 'static,
    T: Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = doorbell::channel(bell, which, EVENT_QUEUE);
    tokio::spawn(read(source, tx));
    rx
}

/// Until the main loop is gone, or the socket fails with something other than an
/// overrun (that error is passed on, then reading stops).
async fn read_team_events(events: TeamEvents, tx: doorbell::Sender<TeamBatch>) {
    loop {
        let batch = events.next_batch().await;
        let fatal = matches!(&batch, Err(e) if !genl::is_overrun(e));
        if tx.send(batch).await.is_err() || fatal {
            return;
        }
    }
}

/// Until the main loop is gone or the socket fails for good (the queue then closes).
async fn read_link_events(mut events: LinkEvents, tx: doorbell::Sender<LinkEvent>) {
    while let Some(ev) = events.next().await {
        if tx.send(ev).await.is_err() {
            return;
        }
    }
}

/// What a signal asks of the main loop.
enum SignalRequest {
    Quit(ExitRequest),
    Reload,
}

/// The signals teamd handles, forwarded by a task of their own (the main loop then waits
/// on its doorbell rather than setting up five signal waits on every turn).
fn forward_signals(bell: &Arc<Doorbell>) -> std::io::Result<mpsc::Receiver<SignalRequest>> {
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigquit = signal(SignalKind::quit())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigusr1 = signal(SignalKind::user_defined1())?;
    let (tx, rx) = doorbell::channel(bell, Source::Signal, 4);
    tokio::spawn(async move {
        loop {
            let request = tokio::select! {
                _ = sigint.recv() => SignalRequest::Quit(ExitRequest::Cold),
                _ = sigterm.recv() => SignalRequest::Quit(ExitRequest::Term),
                _ = sigquit.recv() => SignalRequest::Quit(ExitRequest::Cold),
                _ = sigusr1.recv() => SignalRequest::Quit(ExitRequest::Warm),
                _ = sighup.recv() => SignalRequest::Reload,
            };
            if tx.send(request).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// Events or control calls after which the heap is trimmed (start-up counts as many).
const TRIM_AFTER: usize = 64;
/// How long the daemon must have been quiet after such a burst before the trim: glibc
/// keeps what a burst freed (its trim threshold grows with the mmap threshold), so a
/// trim in the middle of a burst leaves the rest of the burst's garbage in place.
const TRIM_DELAY: Duration = Duration::from_secs(1);

impl Running {
    /// Serves until a quit signal or the device's removal; returns the exit status.
    pub async fn serve(mut self, ready: &mut Ready) -> i32 {
        ready.send(0);
        log::info(&format!("{} successfully started.", crate::VERSION));
        let mut signals = match forward_signals(&self.bell) {
            Ok(rx) => rx,
            Err(_) => {
                log::err("Could not register signal handlers.");
                return 2;
            }
        };
        // Work handled since the heap was last trimmed; after a burst, the heap is
        // trimmed once things have been quiet for a moment (each new piece of work moves
        // the trim on; timers and probe packets do not count as work).
        let mut busy_since_trim: usize = TRIM_AFTER;
        let mut busy_seen: usize = 0;
        // The trim's timer lives across turns of the loop and is moved only when more
        // work comes (one set up anew on every turn costs the runtime a registration
        // each time); the daemon's own timers share one timerfd (`sys::deadline`).
        let trim = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(trim);
        let mut trim_armed = false;
        let mut timer = match sys::deadline::DeadlineTimer::new() {
            Ok(t) => t,
            Err(e) => {
                log::err(&format!("Failed to create the timer: {e}"));
                return 2;
            }
        };
        let status = loop {
            if let Some(status) = self.daemon.quit {
                break status;
            }
            if busy_since_trim >= TRIM_AFTER && busy_since_trim != busy_seen {
                trim.as_mut()
                    .reset(tokio::time::Instant::now() + TRIM_DELAY);
                trim_armed = true;
            }
            busy_seen = busy_since_trim;
            if let Err(e) = timer.set(self.daemon.ctx.timers.next_deadline()) {
                log::err(&format!("Failed to set the timer: {e}"));
                break 2;
            }
            // unbiased: under a flood of events, timers still get their turns
            tokio::select! {
                rung = self.bell.rung() => {
                    match self.on_rung(rung, &mut signals, &mut busy_since_trim).await {
                        Ok(more) => self.bell.keep(more),
                        Err(status) => break status,
                    }
                }
                fired = timer.expired(), if timer.is_armed() => {
                    if let Err(e) = fired {
                        log::err(&format!("Failed to wait for the timer: {e}"));
                        break 2;
                    }
                    // the next turn arms it again for whatever is then next
                    let due = self.daemon.ctx.timers.take_due(std::time::Instant::now());
                    for key in due {
                        self.daemon.on_timer(key).await;
                    }
                    self.daemon.ctx.timers.dispatched();
                }
                _ = &mut trim, if trim_armed => {
                    trim_armed = false;
                    busy_since_trim = 0;
                    busy_seen = 0;
                    sys::heap::release_free_memory();
                }
            }
        };
        log::info("Exiting...");
        if self.exit_warm().await {
            self.leave_warm().await;
        } else {
            self.shutdown().await;
        }
        status
    }

    /// Serves one queued item of each source that rang, in [`Source::ALL`]'s order,
    /// until one asks teamd to quit; returns the sources that may hold more, or the exit
    /// status when a source failed for good.
    async fn on_rung(
        &mut self,
        rung: Rung,
        signals: &mut mpsc::Receiver<SignalRequest>,
        busy: &mut usize,
    ) -> Result<Rung, i32> {
        use mpsc::error::TryRecvError::{Disconnected, Empty};
        let mut more = Rung::default();
        for source in Source::ALL.into_iter().filter(|s| rung.contains(*s)) {
            let served = match source {
                Source::Signal => match signals.try_recv() {
                    Ok(SignalRequest::Quit(how)) => {
                        self.quit_signal(how);
                        true
                    }
                    Ok(SignalRequest::Reload) => {
                        self.reload_on_sighup().await;
                        true
                    }
                    // no more signals can come; not a reason to stop
                    Err(Empty | Disconnected) => false,
                },
                Source::Team => match self.team_rx.try_recv() {
                    Ok(batch) => {
                        self.on_team_batch(batch, busy).await?;
                        true
                    }
                    Err(Empty) => false,
                    Err(Disconnected) => {
                        log::err("Team handle events failed: the event reader stopped.");
                        return Err(2);
                    }
                },
                Source::Link => match self.link_rx.try_recv() {
                    Ok(ev) => {
                        *busy += 1;
                        self.on_link_event(ev).await;
                        true
                    }
                    Err(Empty) => false,
                    Err(Disconnected) => {
                        log::err("Link event connection closed.");
                        return Err(2);
                    }
                },
                Source::Packet => match self.packet_rx.try_recv() {
                    Ok((key, frame)) => {
                        self.daemon.on_packet(key, frame).await;
                        true
                    }
                    Err(Empty | Disconnected) => false,
                },
                Source::Control => match self.ctl_rx.try_recv() {
                    Ok(req) => {
                        *busy += 1;
                        let reply = ctl::handle(&mut self.daemon, &self.lookup, &req.call).await;
                        let _ = req.reply.send(reply);
                        true
                    }
                    Err(Empty | Disconnected) => false,
                },
            };
            if served {
                more.add(source);
            }
            if self.daemon.quit.is_some() {
                break;
            }
        }
        Ok(more)
    }

    /// A batch of team events, or the reader's error: an overrun re-reads the team, any
    /// other error ends the daemon (exit status 2).
    async fn on_team_batch(&mut self, batch: TeamBatch, busy: &mut usize) -> Result<(), i32> {
        match batch {
            Ok(msgs) => {
                *busy += msgs.len();
                self.daemon.on_team_messages(&msgs).await;
            }
            Err(e) if genl::is_overrun(&e) => {
                log::warn("Lost team events from the kernel; re-reading the team state.");
                let ifindex = self.daemon.ctx.kernel.ifindex;
                match dump_team(&self.daemon.ctx.kernel.genl, ifindex).await {
                    Ok(d) => self.daemon.on_team_messages(&d).await,
                    Err(e) => log::err(&format!("Team refresh failed: {e}")),
                }
            }
            Err(e) => {
                log::err(&format!("Team handle events failed: {e}"));
                return Err(2);
            }
        }
        Ok(())
    }

    /// Whether to leave the team to a successor rather than take it down.
    async fn exit_warm(&self) -> bool {
        match self.exit {
            ExitRequest::Cold => false,
            ExitRequest::Warm => true,
            ExitRequest::Term => {
                if !systemd::started_by_systemd(|k| std::env::var(k).ok()) {
                    return false;
                }
                match systemd::ask_system_bus(std::process::id()).await {
                    Ok(systemd::Verdict::Restart(unit)) => {
                        log::info(&format!(
                            "systemd is restarting {unit}: leaving the team to the next teamd."
                        ));
                        true
                    }
                    Ok(v) => {
                        log::dbg(1, || {
                            format!("systemd: no restart of ours ({v:?}): cold exit.")
                        });
                        false
                    }
                    Err(e) => {
                        log::warn(&format!(
                            "Could not ask systemd whether this is a restart ({e}): exiting as for a stop."
                        ));
                        false
                    }
                }
            }
        }
    }

    /// SIGHUP re-reads the config file (C teamd ignores SIGHUP; without a
    /// file there is nothing to re-read, so it still does nothing).
    async fn reload_on_sighup(&mut self) {
        if self.daemon.ctx.setup.config_file.is_none() {
            log::dbg(1, || "SIGHUP ignored: no config file to re-read.".into());
            return;
        }
        log::info("Got SIGHUP: reloading the config file.");
        let _ = ctl::config_reload(&mut self.daemon, &self.lookup, "").await;
    }

    fn quit_signal(&mut self, how: ExitRequest) {
        if how == ExitRequest::Warm {
            log::warn("Got SIGUSR1: leaving the team to the next teamd (warm restart).");
        } else {
            log::warn("Got SIGINT, SIGQUIT or SIGTERM.");
        }
        if self.daemon.quit.is_none() {
            self.exit = how;
        }
        self.daemon.quit.get_or_insert(0);
    }

    async fn on_link_event(&mut self, ev: LinkEvent) {
        let now = match &ev {
            // Events of links that are neither the team nor its ports (every link of the
            // host notifies every listener: hundreds when many teams start together) are
            // taken as they come; ours are re-read from the kernel, as libteam does.
            LinkEvent::Changed(link) if !self.concerns_us(link) => Some(link.clone()),
            // Nothing libteam tracks differs from what we hold (a port's carrier went,
            // say): a re-read could only show a change whose own notification is queued
            // behind this one, and is handled when that comes. This keeps a round trip
            // off the failover path, where the port's carrier message precedes the
            // team driver's port event.
            LinkEvent::Changed(link)
                if self
                    .daemon
                    .ctx
                    .kernel
                    .ifinfos()
                    .get(link.ifindex)
                    .is_some_and(|known| known.matches(link)) =>
            {
                Some(link.clone())
            }
            LinkEvent::Changed(l) | LinkEvent::Removed(l) => {
                self.lookup.0.link_by_index(l.ifindex).await.ok().flatten()
            }
            LinkEvent::Overrun => {
                self.resync_links().await;
                return;
            }
        };
        self.daemon.on_link_event(ev, now).await;
    }

    fn concerns_us(&self, link: &Link) -> bool {
        let team = self.daemon.ctx.kernel.team_ifindex();
        link.ifindex == team
            || link.master == Some(team)
            || self.daemon.ctx.port(link.ifindex).is_some()
    }

    /// Link events were lost (the event socket's buffer overran): every link is re-read
    /// and applied as if notified, links that went away as removed.
    async fn resync_links(&mut self) {
        log::warn("Link events were lost (socket buffer overrun); re-reading all links.");
        let links = match self.lookup.0.links().await {
            Ok(links) => links,
            Err(e) => {
                log::err(&format!("Failed to re-read links: {e}"));
                return;
            }
        };
        let gone: Vec<u32> = self
            .daemon
            .ctx
            .kernel
            .ifinfos()
            .list()
            .iter()
            .map(|i| i.ifindex)
            .filter(|ifindex| !links.iter().any(|l| l.ifindex == *ifindex))
            .collect();
        for link in links {
            let ev = LinkEvent::Changed(link.clone());
            self.daemon.on_link_event(ev, Some(link)).await;
        }
        for ifindex in gone {
            let ev = LinkEvent::Removed(Link::with_ifindex(ifindex));
            self.daemon.on_link_event(ev, None).await;
        }
    }

    /// A warm exit: the kernel stays exactly as it is (device, ports, their
    /// `enabled` options, the runner's options and carrier); the runner says
    /// what it must before going quiet, and its state goes to the state file
    /// for the next teamd.
    async fn leave_warm(&mut self) {
        if let Some(d) = self.dbus.as_mut() {
            d.shutdown();
        }
        let d = &mut self.daemon;
        d.runner.warm_exit(&mut d.ctx).await;
        let team = d.ctx.kernel.team_ifindex();
        let team_ifname = d.ctx.kernel.ifname(team);
        let path = warm::path(&team_ifname);
        let stamp = match Stamp::now() {
            Ok(s) => s,
            Err(e) => {
                log::err(&format!("No warm restart state written: {e}."));
                return;
            }
        };
        let state = WarmState {
            stamp,
            pid: std::process::id(),
            team_ifindex: team,
            team_ifname,
            runner: d.runner.name().to_string(),
            ports: d
                .ctx
                .ports
                .iter()
                .map(|p| SavedPort {
                    ifindex: p.ifindex,
                    ifname: p.ifname.clone(),
                    enabled: d.ctx.kernel.port_enabled(p.ifindex).unwrap_or(false),
                })
                .collect(),
            runner_state: d.runner.warm_state(&d.ctx),
        };
        match warm::write(&path, &state) {
            Ok(()) => log::info(&format!(
                "Left {} and its ports as they are; runner state in {}.",
                state.team_ifname,
                path.display()
            )),
            Err(e) => log::err(&format!(
                "Left {} as it is, but could not write {}: {e}.",
                state.team_ifname,
                path.display()
            )),
        }
    }

    /// Releases every port (unless -N) and waits for the kernel to confirm,
    /// then deletes the device (unless -N).
    async fn shutdown(&mut self) {
        // released first: watchers of the name learn teamd is going
        if let Some(d) = self.dbus.as_mut() {
            d.shutdown();
        }
        self.daemon.runner.fini(&mut self.daemon.ctx).await;
        if self.no_quit_destroy {
            return;
        }
        let ports: Vec<u32> = self.daemon.ctx.ports.iter().map(|p| p.ifindex).collect();
        for p in ports {
            let _ = self.daemon.port_remove(p).await;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !self.daemon.ctx.ports.is_empty() {
            match tokio::time::timeout_at(deadline, self.team_rx.recv()).await {
                Ok(Some(Ok(msgs))) => self.daemon.on_team_messages(&msgs).await,
                _ => break,
            }
        }
        // deleted also when taken over (-o), as C teamd does
        let ifindex = self.daemon.ctx.kernel.ifindex;
        // bounded: a reply lost to a notification overrun must not keep the daemon alive
        match tokio::time::timeout(Duration::from_secs(5), self.lookup.0.delete_link(ifindex)).await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::err(&format!("Failed to delete team device: {e}")),
            Err(_) => log::err("Failed to delete team device: no answer from the kernel."),
        }
    }
}
