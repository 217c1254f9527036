//! `rteam-bench-monitor`: the independent observer of the benchmarks. It is neither teamd:
//! it reads what the kernel and the system bus announce and prints each event with a
//! CLOCK_MONOTONIC stamp (see `rteam_bench::event`).
//!
//! - `events`: link carrier changes (RTNLGRP_LINK), team port link changes and changes of
//!   the named Team options (the team genl `change_event` group), until killed.
//! - `stamp`: one `stamp` line, then optionally a write to a file (the trigger of a row
//!   that has no kernel event of its own, e.g. a peer told to stop answering ARP).
//! - `ready`: starts daemons itself and reports the time from just before the first start
//!   until every configured port is enslaved to its team and every team's D-Bus name is
//!   owned.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use rteam_bench::clock::now_ns;
use rteam_bench::event::Timed;
use team_nl_client::genl::{is_overrun, EVENT_BUFSIZE};
use team_nl_client::team_nl::OptionValue;
use team_nl_client::{LinkEvent, Rtnl, TeamGenl};

#[derive(Parser)]
#[command(
    name = "rteam-bench-monitor",
    about = "timestamped kernel and bus events"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print carrier changes and changes of the named team options until killed.
    Events {
        /// Team option names to report (e.g. activeport, enabled).
        #[arg(long = "option")]
        options: Vec<String>,
    },
    /// Print `<ns> stamp LABEL...`, then write VALUE to FILE if given.
    Stamp {
        #[arg(long, num_args = 2, value_names = ["FILE", "VALUE"])]
        write: Option<Vec<String>>,
        #[arg(required = true)]
        label: Vec<String>,
    },
    /// Start one daemon per config (`{}` in COMMAND is the config path) and time readiness.
    Ready {
        /// teamd config files; each gives "device" and the "ports" to wait for.
        #[arg(long = "config", required = true)]
        configs: Vec<PathBuf>,
        /// Also wait for org.libteam.teamd.DEVICE on the system bus.
        #[arg(long)]
        dbus: bool,
        /// Append the started pids here, one a line.
        #[arg(long)]
        pids: Option<PathBuf>,
        /// Daemons' stdout and stderr go here.
        #[arg(long)]
        log: Option<PathBuf>,
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rteam-bench-monitor: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.cmd {
            Cmd::Events { options } => events(&options).await,
            Cmd::Stamp { write, label } => stamp(&label, write.as_deref()),
            Cmd::Ready {
                configs,
                dbus,
                pids,
                log,
                timeout,
                command,
            } => {
                ready(
                    &configs,
                    dbus,
                    pids,
                    log,
                    Duration::from_secs(timeout),
                    &command,
                )
                .await
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rteam-bench-monitor: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// One event line, flushed at once: the reader may be a file tailed by the script.
fn emit(ns: u64, words: &[&str]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", Timed::new(ns, words))?;
    out.flush()?;
    Ok(())
}

fn stamp(label: &[String], write: Option<&[String]>) -> Result<()> {
    let mut words = vec!["stamp"];
    words.extend(label.iter().map(String::as_str));
    emit(now_ns(), &words)?;
    if let Some([file, value]) = write {
        fs::write(file, value).with_context(|| format!("cannot write {file}"))?;
    }
    Ok(())
}

/// Interface names by ifindex, filled from the dump and the events.
struct Names {
    rtnl: Rtnl,
    by_index: HashMap<u32, String>,
}

impl Names {
    async fn name(&mut self, ifindex: u32) -> String {
        if let Some(n) = self.by_index.get(&ifindex) {
            return n.clone();
        }
        match self.rtnl.link_by_index(ifindex).await {
            Ok(Some(l)) => {
                self.by_index.insert(ifindex, l.name.clone());
                l.name
            }
            _ => ifindex.to_string(),
        }
    }
}

async fn events(options: &[String]) -> Result<()> {
    let (rtnl, mut links) = Rtnl::connect_with_events()?;
    let genl = TeamGenl::connect().await?;
    let team_events = genl.events(EVENT_BUFSIZE)?;
    let mut carrier: HashMap<u32, bool> = HashMap::new();
    let mut port_link: HashMap<u32, bool> = HashMap::new();
    let mut names = Names {
        rtnl: rtnl.clone(),
        by_index: HashMap::new(),
    };
    for l in rtnl.links().await? {
        carrier.insert(l.ifindex, l.carrier);
        names.by_index.insert(l.ifindex, l.name);
    }
    emit(now_ns(), &["ready"])?;
    loop {
        tokio::select! {
            ev = links.next() => {
                let ns = now_ns();
                match ev {
                    None => bail!("rtnetlink event stream closed"),
                    Some(LinkEvent::Changed(l)) => {
                        names.by_index.insert(l.ifindex, l.name.clone());
                        if carrier.insert(l.ifindex, l.carrier) != Some(l.carrier) {
                            let state = if l.carrier { "up" } else { "down" };
                            emit(ns, &["link", &l.name, state])?;
                        }
                    }
                    Some(LinkEvent::Removed(l)) => {
                        carrier.remove(&l.ifindex);
                    }
                    Some(LinkEvent::Overrun) => emit(ns, &["overrun"])?,
                }
            }
            batch = team_events.next_batch() => {
                let ns = now_ns();
                let msgs = match batch {
                    Ok(m) => m,
                    Err(e) if is_overrun(&e) => {
                        emit(ns, &["overrun"])?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                for m in msgs {
                    let team = match m.team_ifindex {
                        Some(i) => names.name(i).await,
                        None => "-".to_string(),
                    };
                    // the team driver's own view of a port's link: it may reach
                    // teamd (and us) before the RTNLGRP_LINK message does
                    for p in m.ports.iter().flatten() {
                        if !p.changed || p.removed {
                            continue;
                        }
                        if port_link.insert(p.ifindex, p.linkup) == Some(p.linkup) {
                            continue;
                        }
                        let port = names.name(p.ifindex).await;
                        let state = if p.linkup { "up" } else { "down" };
                        emit(ns, &["port", &team, &port, state])?;
                    }
                    for o in m.options.iter().flatten() {
                        if !o.changed || o.removed || !options.contains(&o.name) {
                            continue;
                        }
                        let port = match o.port_ifindex {
                            Some(i) => names.name(i).await,
                            None => "-".to_string(),
                        };
                        let value = match &o.value {
                            // the active port by name, so patterns need no ifindex
                            OptionValue::U32(0) if o.name == "activeport" => "none".to_string(),
                            OptionValue::U32(i) if o.name == "activeport" => names.name(*i).await,
                            OptionValue::U32(v) => v.to_string(),
                            OptionValue::S32(v) => v.to_string(),
                            OptionValue::Bool(b) => b.to_string(),
                            OptionValue::String(s) if s.is_empty() => "\"\"".to_string(),
                            OptionValue::String(s) => s.replace(char::is_whitespace, "_"),
                            OptionValue::Binary(b) => format!("binary:{}", b.len()),
                            OptionValue::Unknown { .. } => "?".to_string(),
                        };
                        emit(ns, &["option", &team, &o.name, &port, &value])?;
                    }
                }
            }
        }
    }
}

/// The device and port names a teamd config asks for.
fn team_of_config(path: &PathBuf) -> Result<(String, Vec<String>)> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {path:?}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{path:?} is not JSON"))?;
    let dev = v
        .get("device")
        .and_then(|d| d.as_str())
        .with_context(|| format!("{path:?} has no device"))?
        .to_string();
    let ports = v
        .get("ports")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    Ok((dev, ports))
}

async fn ready(
    configs: &[PathBuf],
    dbus: bool,
    pids: Option<PathBuf>,
    log: Option<PathBuf>,
    timeout: Duration,
    command: &[String],
) -> Result<()> {
    // port name -> team name still to see enslaved; bus names still to see owned
    let mut pending_ports: HashMap<String, String> = HashMap::new();
    let mut pending_names: HashSet<String> = HashSet::new();
    for c in configs {
        let (dev, ports) = team_of_config(c)?;
        for p in ports {
            pending_ports.insert(p, dev.clone());
        }
        if dbus {
            pending_names.insert(teamd_dbus::bus_name(&dev));
        }
    }
    let (rtnl, mut links) = Rtnl::connect_with_events()?;
    // Names that got an owner, drained from the signal stream by a task of its own: a
    // stream left unread while this task awaits a bus reply fills up with the flood of
    // NameOwnerChanged signals many daemons cause, and zbus's reader then stalls before
    // it gets to the reply (a deadlock with 50 daemons).
    let (owned_tx, mut owned_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let bus = if dbus {
        let conn = zbus::Connection::system().await?;
        let proxy = zbus::fdo::DBusProxy::new(&conn).await?;
        let mut changes = proxy.receive_name_owner_changed().await?;
        tokio::spawn(async move {
            while let Some(sig) = changes.next().await {
                let Ok(args) = sig.args() else { continue };
                if args.new_owner().is_some() && owned_tx.send(args.name().to_string()).is_err() {
                    return;
                }
            }
        });
        Some((conn, proxy))
    } else {
        drop(owned_tx);
        None
    };
    let log_file = match &log {
        Some(p) => Some(
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open {p:?}"))?,
        ),
        None => None,
    };
    let (program, args) = command.split_first().context("no command")?;
    let mut started = Vec::new();
    let t0 = now_ns();
    for c in configs {
        let path = c.to_string_lossy();
        let mut cmd = Command::new(program);
        cmd.args(args.iter().map(|a| a.replace("{}", &path)))
            .stdin(Stdio::null());
        match &log_file {
            Some(f) => {
                cmd.stdout(f.try_clone()?).stderr(f.try_clone()?);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        started.push(child);
    }
    if let Some(p) = &pids {
        let text: String = started.iter().map(|c| format!("{}\n", c.id())).collect();
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)?
            .write_all(text.as_bytes())?;
    }

    let deadline = tokio::time::Instant::now() + timeout;
    // a safety net for lost events (a socket overrun with many daemons): re-read the state
    let mut resync = tokio::time::interval(Duration::from_millis(500));
    let mut team_index: HashMap<String, u32> = HashMap::new();
    let mut t_done = t0;
    while !pending_ports.is_empty() || !pending_names.is_empty() {
        let mut changed_links = Vec::new();
        tokio::select! {
            ev = links.next() => match ev {
                Some(LinkEvent::Changed(l)) => changed_links.push(l),
                // the resync timer below re-reads the state
                Some(LinkEvent::Removed(_) | LinkEvent::Overrun) => {}
                None => bail!("rtnetlink event stream closed"),
            },
            Some(name) = owned_rx.recv() => {
                if pending_names.remove(&name) {
                    t_done = now_ns();
                }
            }
            _ = resync.tick() => {
                // a daemon that gave up will never be ready: say so now, not at the timeout
                for c in &mut started {
                    if let Some(status) = c.try_wait()? {
                        bail!("daemon {} exited before it was ready: {status}", c.id());
                    }
                }
                changed_links = rtnl.links().await?;
                if let Some((_, proxy)) = &bus {
                    let mut owned = Vec::new();
                    for n in &pending_names {
                        let name = zbus::names::BusName::try_from(n.as_str())?;
                        if proxy.name_has_owner(name).await? {
                            owned.push(n.clone());
                        }
                    }
                    for n in owned {
                        pending_names.remove(&n);
                        t_done = now_ns();
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let mut missing: Vec<&String> = pending_ports.keys().collect();
                missing.extend(pending_names.iter());
                missing.sort();
                bail!("not ready after {} s: {missing:?}", timeout.as_secs());
            }
        }
        for l in &changed_links {
            if Rtnl::is_team(l) {
                team_index.insert(l.name.clone(), l.ifindex);
            }
        }
        for l in changed_links {
            let Some(team) = pending_ports.get(&l.name) else {
                continue;
            };
            if l.master.is_some() && team_index.get(team) == l.master.as_ref() {
                pending_ports.remove(&l.name);
                t_done = now_ns();
            }
        }
    }
    println!("{}", t_done - t0);
    Ok(())
}
