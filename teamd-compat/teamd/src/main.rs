//! `teamd`: the team daemon, a drop-in for libteam's. It accepts teamd's command
//! line and JSON config, drives the kernel team driver (runners, link watches,
//! port tracking) and serves the control interface that teamdctl, libteamdctl
//! and NetworkManager use. See the crate README for what is implemented.

mod bond;
mod cli;
mod config;
mod core;
mod ctl;
mod dbus;
#[cfg(test)]
mod doc_tests;
mod doorbell;
mod handler;
mod heap_future;
mod item_path;
mod kernel;
mod linkwatch;
mod log;
mod packet;
mod reload;
mod run;
mod runner;
mod state;
mod sys;
mod systemd;
mod team;
mod usock;
mod warm;

use std::process::ExitCode;

use serde_json::json;
use team_nl_client::strerror;

use crate::bond::Backend;
use crate::cli::Cmd;
use crate::config::Config;
use crate::heap_future::on_heap;
use crate::kernel::{EEXIST, EINVAL};
use crate::sys::{Forked, Ready};
use crate::team::Setup;

/// The libteam release whose behaviour this teamd reproduces.
pub const VERSION: &str = "1.32";

fn fail_init(lines: &[String], errno: i32, ready: &mut Ready) -> ExitCode {
    for l in lines {
        log::err(l);
    }
    log::err("teamd_init() failed.");
    ready.send(errno);
    log::err(&format!("Failed: {}", strerror(errno)));
    ExitCode::from(1)
}

/// Where the (daemon's) log goes: `-l`, else `TEAM_LOG_OUTPUT`, else syslog
/// when daemonized; `None` keeps stderr.
fn log_output(args: &cli::Args) -> Option<log::Output> {
    let output = args
        .log_output
        .clone()
        .or_else(|| std::env::var("TEAM_LOG_OUTPUT").ok());
    match output.as_deref() {
        Some("stdout") => Some(log::Output::Stdout),
        Some("stderr") => Some(log::Output::Stderr),
        Some("syslog") => Some(log::Output::Syslog),
        _ if args.daemonize => Some(log::Output::Syslog),
        _ => None,
    }
}

fn load_config(args: &cli::Args) -> Result<Config, ()> {
    let text = match (&args.config_text, &args.config_file) {
        (Some(t), file) => {
            if file.is_some() {
                log::warn("Command line config string is present, ignoring given config file.");
            }
            t.clone()
        }
        (None, Some(f)) => match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                log::err(&format!(
                    "Failed to parse config: unable to open {}: {} on line -1, column -1",
                    f.display(),
                    strerror(e.raw_os_error().unwrap_or(EINVAL))
                ));
                return Err(());
            }
        },
        (None, None) => "{}".to_string(),
    };
    let doc = teamd_ctl_proto::json::parse_strict(&text).map_err(|e| {
        log::err(&format!("Failed to parse config: {e}"));
    })?;
    Config::new(doc).map_err(|e| log::err(&format!("Failed to parse config: {e}")))
}

/// The first free `teamN` name.
fn generate_devname() -> String {
    (0..)
        .map(|i| format!("team{i}"))
        .find(|n| !std::path::Path::new("/sys/class/net").join(n).exists())
        .unwrap_or_else(|| "team0".into())
}

fn main() -> ExitCode {
    if let Err(e) = std::fs::create_dir(sys::RUN_DIR) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            eprintln!("Failed to create directory \"{}\": {e}", sys::RUN_DIR);
            return ExitCode::from(1);
        }
    }
    let argv: Vec<String> = std::env::args().collect();
    let Ok(args) = cli::parse(&argv) else {
        return ExitCode::from(1);
    };
    match args.cmd {
        Cmd::Help => {
            print!("{}", cli::help(&args.argv0));
            return ExitCode::SUCCESS;
        }
        Cmd::Version => {
            println!("{} {VERSION}", args.argv0);
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    if args.debug > 0 {
        log::set_debug_level(args.debug);
    }
    let Ok(mut config) = load_config(&args) else {
        log::err("Failed to load config.");
        return ExitCode::from(1);
    };
    let config_debug = config.int(&["debug_level"]);
    if let Some(level) = config_debug {
        if level > args.debug as i32 {
            log::set_debug_level(level as u32);
        }
    }
    // -t wins without reading `device`; a name from -t or generated is
    // written into the config, where C refuses a non-object root or a
    // non-string `device`
    let (device, write_back) = match &args.team_dev {
        Some(t) => (t.clone(), true),
        None => match config.string(&["device"]) {
            Some(d) => (d.to_string(), false),
            None if args.cmd == Cmd::Run => (generate_devname(), true),
            None => {
                log::err("Team device name not specified.");
                return ExitCode::from(1);
            }
        },
    };
    if write_back {
        if let Err(e) = config.try_set(&["device"], json!(device)) {
            log::err(&e.0);
            log::err("Failed to set team device name in config.");
            return ExitCode::from(1);
        }
    }
    let link_watch_policy = match config::link_watch_policy_setting(&config) {
        Ok(p) => p,
        Err(e) => {
            e.0.lines().for_each(log::err);
            return ExitCode::from(1);
        }
    };
    let pid_file = args
        .pid_file
        .clone()
        .unwrap_or_else(|| format!("{}{device}.pid", sys::RUN_DIR));
    let ident = format!("{}_{device}", args.argv0);
    log::dbg(1, || format!("Using PID file \"{pid_file}\""));
    match args.cmd {
        Cmd::Kill => {
            if sys::pid_file_running(&pid_file).is_none() {
                log::warn("Daemon not running");
                return ExitCode::from(1);
            }
            match sys::pid_file_kill_wait(&pid_file, 30) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    log::warn(&format!("Failed to kill daemon: {}", strerror(e as i32)));
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Check => {
            if sys::pid_file_running(&pid_file).is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        _ => {
            let read = (config_debug.unwrap_or(0), link_watch_policy);
            start(&args, config, read, pid_file, &ident)
        }
    }
}

/// `read`: the config's `debug_level` and `link_watch_policy`, read once by `main`.
fn start(
    args: &cli::Args,
    mut config: Config,
    read: (i32, config::LinkWatchPolicy),
    pid_file: String,
    ident: &str,
) -> ExitCode {
    if nix::unistd::getuid().is_root() {
        log::warn("This program is not intended to be run as root.");
    }
    if let Some(pid) = sys::pid_file_running(&pid_file) {
        log::err(&format!("Daemon already running on PID {pid}."));
        log::err(&format!("Failed: {}", strerror(EEXIST)));
        return ExitCode::from(1);
    }
    sys::pid_file_remove(&pid_file);
    if let Err(e) = sys::heap::opt_out_of_huge_pages() {
        log::dbg(1, || format!("Transparent huge pages stay on: {e}"));
    }
    let mut ready = Ready::none();
    if args.daemonize {
        match sys::daemonize() {
            Ok(Forked::Parent(Ok(()))) => return ExitCode::SUCCESS,
            Ok(Forked::Parent(Err(errno))) => {
                log::err("Daemon process failed.");
                log::err(&format!("Failed: {}", strerror(errno)));
                return ExitCode::from(1);
            }
            Ok(Forked::Daemon(r)) => ready = r,
            Err(e) => {
                log::err("Daemon fork failed.");
                log::err(&format!("Failed: {}", strerror(e as i32)));
                return ExitCode::from(1);
            }
        }
    }
    if let Some(out) = log_output(args) {
        log::set_output(out, ident);
    }
    if let Err(e) = sys::pid_file_create(&pid_file) {
        let errno = e.raw_os_error().unwrap_or(EINVAL);
        log::err("Could not create PID file.");
        ready.send(errno);
        log::err(&format!("Failed: {}", strerror(errno)));
        return ExitCode::from(1);
    }
    // after the fork, as C's teamd_init: with -d the details go to the
    // daemon's log and the foreground only says "Daemon process failed."
    // as given: the bond backend maps this, not teamd's runner defaults
    let given = config.clone();
    let (settings, runner) = match run::prepare(&mut config, read.0, read.1) {
        Ok(v) => v,
        Err(e) => {
            sys::pid_file_remove(&pid_file);
            return fail_init(&e.lines, e.errno, &mut ready);
        }
    };
    let setup = Setup {
        pid: std::process::id(),
        pid_file: pid_file.clone(),
        daemonized: args.daemonize,
        dbus_enabled: args.dbus,
        zmq_enabled: false,
        config_file: args
            .config_file
            .clone()
            .filter(|_| args.config_text.is_none()),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // epoll_wait's event array, allocated once: tokio's default 1024 slots are 12 KiB
        // of heap, where teamd rarely has more than a few fds ready at once (a larger
        // burst is taken in the next call)
        .max_io_events_per_tick(64)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            sys::pid_file_remove(&pid_file);
            return fail_init(&[format!("Team alloc failed: {e}")], EINVAL, &mut ready);
        }
    };
    let args = args.clone();
    // The daemon runs as a task, not as block_on's own future: on the current-thread
    // runtime a wake of that future always writes the driver's eventfd (one more
    // system call and one more loop of the driver per event), where a task woken on the
    // runtime's thread is only queued.
    let daemon = move || async move {
        if args.backend == Backend::Bond {
            return run_bond(&args, given, setup, &mut ready).await;
        }
        let started = on_heap(|| run::start(&args, config, settings, runner, setup.clone())).await;
        match started {
            Ok(running) => ExitCode::from(on_heap(|| running.serve(&mut ready)).await as u8),
            Err(e) if e.team_unsupported && args.backend == Backend::Auto => {
                e.lines.iter().for_each(|l| log::warn(l));
                log::warn(
                    "The kernel cannot create team devices (kind \"team\" unsupported): running the config on a bonding device instead (bond backend).",
                );
                run_bond(&args, given, setup, &mut ready).await
            }
            Err(e) => fail_init(&e.lines, e.errno, &mut ready),
        }
    };
    let code = rt.block_on(async {
        tokio::spawn(on_heap(daemon)).await.unwrap_or_else(|e| {
            log::err(&format!("The daemon's task ended abnormally: {e}"));
            ExitCode::from(1)
        })
    });
    sys::pid_file_remove(&pid_file);
    code
}

/// The config on a bonding device (`--backend bond`, or the fallback).
async fn run_bond(args: &cli::Args, config: Config, setup: Setup, ready: &mut Ready) -> ExitCode {
    match bond::run::start(args, config, setup).await {
        Ok(running) => ExitCode::from(running.serve(ready).await as u8),
        Err(e) => fail_init(&e.lines, e.errno, ready),
    }
}
