//! `teamnl`: reads and sets team driver options and ports over the Team generic
//! netlink family, and monitors their changes. Same command line, output bytes
//! and exit codes as libteam's teamnl (utils/teamnl.c), so scripts and
//! people cannot tell the two apart.

mod cstr;
#[cfg(test)]
mod doc_tests;
mod format;

use std::io::Write;
use std::process::ExitCode;

use rteam_getopt::{Getopt, HasArg, Spec};
use team_nl_client::cache::{Changes, Ifinfo, IfinfoCache, TeamCache};
use team_nl_client::team_nl::{OptionItem, TeamMessage};
use team_nl_client::{genl, strerror, Error, LinkEvent, LinkEvents, Rtnl, TeamEvents, TeamGenl};

const ENODEV: i32 = 19;
const ENOENT: i32 = 2;
const EINVAL: i32 = format::EINVAL;
const ERANGE: i32 = format::ERANGE;

/// Commands in libteam's order: a prefix picks the first that matches.
const OPTIONS: Spec = Spec {
    short: "hp:a:",
    long: &[
        ("help", HasArg::No, 'h'),
        ("port_name", HasArg::Required, 'p'),
        ("array_index", HasArg::Required, 'a'),
    ],
};

/// What the command line asked for.
#[derive(Default)]
struct Args {
    port: Option<String>,
    array_index: Option<String>,
}

const COMMANDS: [(&str, &[&str]); 5] = [
    ("ports", &[]),
    ("options", &[]),
    ("getoption", &["OPT_NAME"]),
    ("setoption", &["OPT_NAME", "OPT_VALUE"]),
    ("monitor", &["OPT_STYLE"]),
];

fn print_help(argv0: &str) {
    let mut s = format!(
        "{argv0} [options] teamdevname command [command args]\n\
         \t-h --help                Show this help\n\
         \t-p --port_name           team slave port name\n\
         \t-a --array_index         team option array index\n\
         Commands:\n"
    );
    for (name, params) in COMMANDS {
        s += &format!("\t{name}");
        for p in params {
            s += &format!(" {p}");
        }
        s += "\n";
    }
    print!("{s}");
}

/// A team as libteam's `team_handle` sees it after `team_init`.
struct Team {
    genl: TeamGenl,
    ifindex: u32,
    cache: TeamCache,
    ifinfos: IfinfoCache,
    /// Link notifications, subscribed before the first dump as libteam does.
    link_events: LinkEvents,
    /// Team change events. Held from the start as libteam does: the kernel
    /// fails OPTIONS_SET with ESRCH when its change event has no listener.
    events: TeamEvents,
}

impl Team {
    fn port_name(&self, ifindex: u32) -> Option<String> {
        self.cache
            .ports()
            .iter()
            .any(|p| p.ifindex == ifindex)
            .then(|| self.link_name(ifindex))
            .flatten()
    }

    fn link_name(&self, ifindex: u32) -> Option<String> {
        self.ifinfos.get(ifindex).map(|i| i.ifname.clone())
    }
}

fn libteam_err(func: &str, msg: &str) {
    eprintln!("libteam: {func}: {msg}");
}

fn errno_of(e: &Error) -> i32 {
    e.errno().unwrap_or(EINVAL)
}

async fn team_init(ifindex: u32) -> Result<(Team, Rtnl), i32> {
    let genl = TeamGenl::connect().await.map_err(|e| {
        libteam_err("team_init", "Failed to resolve netlink family.");
        errno_of(&e)
    })?;
    let events = genl.events(genl::EVENT_BUFSIZE).map_err(|e| {
        libteam_err("team_init", "Failed to add netlink membership.");
        errno_of(&e)
    })?;
    let (rtnl, link_events) = Rtnl::connect_with_events().map_err(|e| errno_of(&e))?;
    let links = rtnl.links().await.map_err(|e| {
        libteam_err("team_init", "Failed to init interface information list.");
        errno_of(&e)
    })?;
    let mut ifinfos = IfinfoCache::default();
    ifinfos.load(&links);
    let mut cache = TeamCache::new(ifindex);
    let ports = genl.port_list_get(ifindex).await.map_err(|e| {
        libteam_err("port_list_init", "Failed to get port list.");
        libteam_err("team_init", "Failed to init port list.");
        errno_of(&e)
    })?;
    let options = genl.options_get(ifindex).await.map_err(|e| {
        libteam_err("option_list_init", "Failed to get options.");
        libteam_err("team_init", "Failed to init option list.");
        errno_of(&e)
    })?;
    let mut m = TeamMessage::port_list_get(ifindex);
    m.ports = Some(ports);
    cache.apply_batch([&m]);
    let mut m = TeamMessage::options_get(ifindex);
    m.options = Some(options);
    cache.apply_batch([&m]);
    Ok((
        Team {
            genl,
            ifindex,
            cache,
            ifinfos,
            link_events,
            events,
        },
        rtnl,
    ))
}

struct CmdCtx {
    params: Vec<String>,
    port: Option<u32>,
    array_index: Option<u32>,
}

fn cmd_ports(team: &Team) -> Result<(), i32> {
    let mut out = String::new();
    for p in team.cache.ports() {
        let (line, trunc) = format::port_line(p, team.link_name(p.ifindex).as_deref());
        out += &format!("{line} {}\n", if trunc { "<trunc>" } else { "" });
    }
    print!("{out}");
    Ok(())
}

fn cmd_options(team: &Team) -> Result<(), i32> {
    let mut out = String::new();
    for o in team.cache.options() {
        let (line, trunc) = format::option_line(o, |i| team.port_name(i));
        out += &format!("{line} {}\n", if trunc { "<trunc>" } else { "" });
    }
    print!("{out}");
    Ok(())
}

fn find_option<'a>(team: &'a Team, cmd: &str, ctx: &CmdCtx) -> Result<&'a OptionItem, i32> {
    let Some(name) = ctx.params.first() else {
        eprintln!("{cmd}: Option name as a command line parameter expected.");
        return Err(EINVAL);
    };
    team.cache
        .option(name, ctx.port, ctx.array_index)
        .ok_or(ENOENT)
}

fn cmd_getoption(team: &Team, cmd: &str, ctx: &CmdCtx) -> Result<(), i32> {
    let o = find_option(team, cmd, ctx)?;
    println!("{}", format::value_str(&o.value));
    Ok(())
}

async fn cmd_setoption(team: &mut Team, cmd: &str, ctx: &CmdCtx) -> Result<(), i32> {
    if ctx.params.is_empty() {
        eprintln!("{cmd}: Option name as a command line parameter expected.");
        return Err(EINVAL);
    }
    let Some(text) = ctx.params.get(1) else {
        eprintln!("{cmd}: Option value as a command line parameter expected.");
        return Err(EINVAL);
    };
    let o = find_option(team, cmd, ctx)?;
    let Some(value) = format::parse_value(o.value.option_type(), text)? else {
        return Ok(());
    };
    let mut item = OptionItem::new(o.name.clone(), value);
    item.port_ifindex = o.port_ifindex;
    item.array_index = o.array_index;
    team.genl
        .options_set(team.ifindex, vec![item.clone()])
        .await
        .map_err(|e| errno_of(&e))?;
    team.cache.set_local(&item);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Changed,
    All,
}

/// Which lists a wake-up touched, ifinfos included.
#[derive(Default, Clone, Copy)]
struct Touched {
    ports: bool,
    options: bool,
    ifinfos: bool,
}

impl From<Changes> for Touched {
    fn from(c: Changes) -> Self {
        Touched {
            ports: c.ports,
            options: c.options,
            ifinfos: false,
        }
    }
}

fn monitor_print(team: &Team, style: Style, changes: Touched) {
    let show = |changed: bool| style == Style::All || changed;
    let mut out = String::new();
    if changes.ports && team.cache.ports().iter().any(|p| show(p.changed)) {
        out += "ports:\n";
        for p in team.cache.ports().iter().filter(|p| show(p.changed)) {
            let (line, trunc) = format::port_line(p, team.link_name(p.ifindex).as_deref());
            out += &format!("  {line} {}\n", if trunc { "..." } else { "" });
        }
    }
    if changes.options && team.cache.options().iter().any(|o| show(o.changed)) {
        out += "options:\n";
        for o in team.cache.options().iter().filter(|o| show(o.changed)) {
            let (line, trunc) = format::option_line(o, |i| team.port_name(i));
            out += &format!(
                "  {line}{}{}\n",
                if trunc { "..." } else { "" },
                if o.changed { " changed" } else { "" }
            );
        }
    }
    // libteam lists only "linked" links: the team itself and its ports.
    let linked = |i: &&Ifinfo| {
        i.ifindex == team.ifindex || team.cache.ports().iter().any(|p| p.ifindex == i.ifindex)
    };
    let ifinfos: Vec<&Ifinfo> = team.ifinfos.list().iter().filter(linked).collect();
    if changes.ifinfos && ifinfos.iter().any(|i| show(i.changed.any())) {
        out += "ifinfos:\n";
        for i in ifinfos.iter().filter(|i| show(i.changed.any())) {
            let (line, trunc) = format::ifinfo_line(i);
            out += &format!("  {line} {}\n", if trunc { "..." } else { "" });
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A monitor is read live: flush each block (C's stdio would buffer on a pipe).
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

/// Applies one link notification as libteam does: re-read the link from the kernel.
async fn apply_link_event(team: &mut Team, rtnl: &Rtnl, ev: LinkEvent) -> bool {
    match ev {
        LinkEvent::Changed(l) => match rtnl.link_by_index(l.ifindex).await {
            Ok(Some(now)) => team.ifinfos.on_newlink(&now),
            _ => false,
        },
        LinkEvent::Removed(l) => {
            let exists = matches!(rtnl.link_by_index(l.ifindex).await, Ok(Some(_)));
            team.ifinfos.on_dellink(l.ifindex, exists)
        }
        // lost events: what the ports are now is what matters to the monitor
        LinkEvent::Overrun => {
            let mut changed = false;
            for link in rtnl.links().await.unwrap_or_default() {
                changed |= team.ifinfos.on_newlink(&link);
            }
            changed
        }
    }
}

async fn cmd_monitor(team: &mut Team, rtnl: &Rtnl, ctx: &CmdCtx) -> Result<(), i32> {
    let style = match ctx.params.first() {
        None => Style::Changed,
        Some(s) if "all".starts_with(s.as_str()) => Style::All,
        Some(s) if "changed".starts_with(s.as_str()) => Style::Changed,
        Some(s) => {
            eprintln!("Unknown monitor style \"{s}\"");
            return Err(EINVAL);
        }
    };
    use tokio::signal::unix::{signal, SignalKind};
    // SIGTERM keeps its default action, as in libteam's teamnl.
    let mut sigint = signal(SignalKind::interrupt()).map_err(|_| EINVAL)?;
    let mut sigquit = signal(SignalKind::quit()).map_err(|_| EINVAL)?;
    loop {
        tokio::select! {
            _ = sigint.recv() => return Ok(()),
            _ = sigquit.recv() => return Ok(()),
            batch = team.events.next_batch() => {
                let batch = batch.map_err(|e| {
                    eprintln!("Team handle events failed");
                    errno_of(&e)
                })?;
                let changes = team.cache.apply_batch(batch.iter());
                monitor_print(team, style, changes.into());
                team.ifinfos.end_batch();
            }
            ev = team.link_events.next() => {
                let Some(ev) = ev else {
                    eprintln!("Team handle events failed");
                    return Err(EINVAL);
                };
                let changed = apply_link_event(team, rtnl, ev).await;
                monitor_print(team, style, Touched { ifinfos: changed, ..Touched::default() });
                team.ifinfos.end_batch();
            }
        }
    }
}

async fn resolve_port(rtnl: &Rtnl, team: &Team, name: &str) -> Result<u32, i32> {
    let ifindex = rtnl
        .link_by_name(name)
        .await
        .ok()
        .flatten()
        .map(|l| l.ifindex);
    let Some(ifindex) = ifindex else {
        eprintln!("Netdevice \"{name}\" not found.");
        return Err(ENODEV);
    };
    if team.cache.ports().iter().any(|p| p.ifindex == ifindex) {
        Ok(ifindex)
    } else {
        eprintln!("Netdevice \"{name}\" is not port of this team.");
        Err(ENODEV)
    }
}

fn parse_array_index(text: &str) -> Result<Option<u32>, i32> {
    let c = cstr::strtoul(text, 10);
    if c.value == u64::MAX {
        eprintln!("Failed to parse array index.");
        // libteam returns -errno here, which is 0 for "-1": no index, no error.
        return if c.overflow { Err(ERANGE) } else { Ok(None) };
    }
    if !c.rest.is_empty() {
        eprintln!("Failed to parse array index.");
        return Err(EINVAL);
    }
    match u32::try_from(c.value) {
        Ok(v) => Ok(Some(v)),
        Err(_) => {
            eprintln!("Array index too big.");
            Err(ERANGE)
        }
    }
}

async fn call_cmd(team_name: &str, cmd: &str, a: &Args, params: Vec<String>) -> Result<(), i32> {
    let lookup = Rtnl::connect().map_err(|e| errno_of(&e))?;
    let Some(link) = lookup.link_by_name(team_name).await.ok().flatten() else {
        eprintln!("Netdevice \"{team_name}\" not found.");
        return Err(ENODEV);
    };
    let (mut team, rtnl) = team_init(link.ifindex).await.inspect_err(|_| {
        eprintln!("Team init failed.");
    })?;
    let mut ctx = CmdCtx {
        params,
        port: None,
        array_index: None,
    };
    if let Some(p) = &a.port {
        ctx.port = Some(resolve_port(&rtnl, &team, p).await?);
    }
    if let Some(i) = &a.array_index {
        ctx.array_index = parse_array_index(i)?;
    }
    match COMMANDS.iter().position(|(n, _)| n.starts_with(cmd)) {
        Some(0) => cmd_ports(&team),
        Some(1) => cmd_options(&team),
        Some(2) => cmd_getoption(&team, cmd, &ctx),
        Some(3) => cmd_setoption(&mut team, cmd, &ctx).await,
        _ => cmd_monitor(&mut team, &rtnl, &ctx).await,
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let argv0 = argv.first().cloned().unwrap_or_else(|| "teamnl".into());
    let mut a = Args::default();
    let mut getopt = Getopt::new(&argv0, OPTIONS, argv.get(1..).unwrap_or_default());
    for opt in getopt.by_ref() {
        match opt {
            Ok(o) if o.name == 'h' => {
                print_help(&argv0);
                return ExitCode::SUCCESS;
            }
            Ok(o) if o.name == 'p' => a.port = o.value,
            Ok(o) => a.array_index = o.value,
            Err(e) => {
                eprintln!("{e}");
                eprintln!("unknown option.");
                print_help(&argv0);
                return ExitCode::FAILURE;
            }
        }
    }
    let operands = getopt.operands().to_vec();
    let mut ops = operands.iter();
    let Some(team_name) = ops.next() else {
        eprintln!("No team device specified.");
        println!();
        print_help(&argv0);
        return ExitCode::FAILURE;
    };
    let Some(cmd) = ops.next() else {
        eprintln!("No command specified.");
        println!();
        print_help(&argv0);
        return ExitCode::FAILURE;
    };
    if !COMMANDS.iter().any(|(n, _)| n.starts_with(cmd.as_str())) {
        eprintln!("Unknown command \"{cmd}\".");
        println!();
        print_help(&argv0);
        return ExitCode::FAILURE;
    }
    let params: Vec<String> = ops.cloned().collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Team alloc failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(call_cmd(team_name, cmd, &a, params)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(errno) => {
            eprintln!("Command failed: {}", strerror(errno));
            ExitCode::FAILURE
        }
    }
}
