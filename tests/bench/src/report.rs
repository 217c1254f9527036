//! The report: which figures there are, how each is computed from the guest's raw files,
//! and how the table is written (markdown and JSON). Pure: the caller reads the files.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::event::Timed;
use crate::latency;
use crate::stats::{summarize, Summary};

/// The two daemons, in table order: (key used in file names, column title).
pub const IMPLS: [(&str, &str); 2] = [("C", "C teamd"), ("rteam", "rteam")];

/// Everything the guest wrote, keyed by (figure key, daemon key).
#[derive(Debug, Default)]
pub struct Inputs {
    pub events: HashMap<(String, String), Vec<Timed>>,
    /// Raw samples in nanoseconds.
    pub samples: HashMap<(String, String), Vec<f64>>,
    pub values: HashMap<(String, String), f64>,
    pub notes: HashMap<(String, String), String>,
    pub meta: Vec<(String, String)>,
    /// Section 9's device settings, keyed by (kind, driver key): kind `ethtool` is
    /// `ethtool -k team0` as printed, kind `limits` is `NAME VALUE` lines.
    pub offloads: HashMap<(String, String), String>,
}

impl Inputs {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Ms,
    Us,
    KiB,
    PerSec,
    /// Throughput (the kmod rows: higher is better).
    Mbps,
    /// Thousands of packets a second (the kmod rows: higher is better).
    Kpps,
    /// A count of packets (lost replies).
    Packets,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Us => "µs",
            Unit::KiB => "KiB",
            Unit::PerSec => "/s",
            Unit::Mbps => "Mbit/s",
            Unit::Kpps => "kpkt/s",
            Unit::Packets => "packets",
        }
    }

    /// Nanoseconds to this unit (for time units).
    fn scale_ns(self, ns: f64) -> f64 {
        match self {
            Unit::Ms => ns / 1e6,
            Unit::Us => ns / 1e3,
            _ => ns,
        }
    }
}

/// Where a figure comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// Latencies paired from the monitor's events of this row: start patterns (any of,
    /// the earliest witness), end patterns (all of).
    Events(&'static [&'static str], &'static [&'static str]),
    /// As `Events`, from the latest witness before the first end event.
    EventsAfterLast(&'static [&'static str], &'static [&'static str]),
    /// One sample per line (ns).
    Samples,
    /// One scalar, already in the unit (time scalars in ns are converted).
    Value { ns: bool },
    /// `after - before`, two scalars.
    Growth(&'static str, &'static str),
}

struct Spec {
    id: &'static str,
    key: &'static str,
    /// Which notes.txt key explains a missing figure.
    note_key: &'static str,
    title: &'static str,
    unit: Unit,
    source: Source,
    /// Show p99 beside the median.
    p99: bool,
}

const fn spec(
    id: &'static str,
    key: &'static str,
    note_key: &'static str,
    title: &'static str,
    unit: Unit,
    source: Source,
) -> Spec {
    Spec {
        id,
        key,
        note_key,
        title,
        unit,
        source,
        p99: false,
    }
}

const SPECS: &[Spec] = &[
    spec("1", "failover_ethtool", "failover_ethtool",
        "Failover, activebackup + ethtool: carrier down → `activeport` changed",
        Unit::Ms, Source::Events(&["link p0 down", "port team0 p0 down"], &["option team0 activeport - p1"])),
    // Row 1 split by the daemon's own writes, which both make in this order: p0's
    // user_linkup (its watch went down), p0 disabled, p1 enabled, then activeport.
    spec("1b", "failover_ethtool_wake", "failover_ethtool",
        "Failover split: carrier down → the daemon's first write (p0 `user_linkup` false)",
        Unit::Ms, Source::Events(&["link p0 down", "port team0 p0 down"], &["option team0 user_linkup p0 false"])),
    // 1b's daemon share: both daemons act on the team driver's port event, which the kernel
    // sends a variable while after the RTNLGRP_LINK message (its linkwatch work).
    spec("1b2", "failover_ethtool_decide", "failover_ethtool",
        "Failover split: the team driver's port event (p0 down) → the daemon's first write",
        Unit::Ms, Source::Events(&["port team0 p0 down"], &["option team0 user_linkup p0 false"])),
    // The kernel sends the port event and the RTNLGRP_LINK message in either order; when
    // the port event comes first, both daemons' writes land only after the link message
    // (the kernel's linkwatch work seems to hold them back): from the later of the two.
    spec("1b3", "failover_ethtool_react", "failover_ethtool",
        "Failover split: the later of the port event and the RTNLGRP_LINK message → the daemon's first write",
        Unit::Ms, Source::EventsAfterLast(&["link p0 down", "port team0 p0 down"], &["option team0 user_linkup p0 false"])),
    spec("1c", "failover_ethtool_enable", "failover_ethtool",
        "Failover split: first write → p1 `enabled` (two more writes)",
        Unit::Ms, Source::Events(&["option team0 user_linkup p0 false"], &["option team0 enabled p1 true"])),
    spec("1d", "failover_ethtool_active", "failover_ethtool",
        "Failover split: p1 `enabled` → `activeport` changed (one write)",
        Unit::Ms, Source::Events(&["option team0 enabled p1 true"], &["option team0 activeport - p1"])),
    spec("2", "failover_arp", "failover_arp",
        "Failover, activebackup + arp_ping 100 ms/missed_max 1: peer stops replying → port disabled",
        Unit::Ms, Source::Events(&["stamp noreply a0"], &["option team0 enabled a0 false"])),
    spec("3", "ready", "ready",
        "Start to ready (2 ports enslaved, D-Bus name owned)",
        Unit::Ms, Source::Samples),
    Spec { p99: true, ..spec("4a", "ctl_usock", "ctl_usock",
        "`StateDump` round trip, unix socket", Unit::Us, Source::Samples) },
    Spec { p99: true, ..spec("4b", "ctl_dbus", "ctl_dbus",
        "`StateDump` round trip, D-Bus", Unit::Us, Source::Samples) },
    spec("5a", "mem_idle2_rss", "ctl_usock", "RSS idle, 2 ports", Unit::KiB, Source::Value { ns: false }),
    spec("5a", "mem_idle2_pss", "ctl_usock", "PSS idle, 2 ports", Unit::KiB, Source::Value { ns: false }),
    spec("5a", "mem_idle2_anon", "ctl_usock", "Anonymous memory (heap, stacks) idle, 2 ports", Unit::KiB, Source::Value { ns: false }),
    spec("5b", "mem_many_rss", "mem_many", "RSS idle, many ports", Unit::KiB, Source::Value { ns: false }),
    spec("5b", "mem_many_pss", "mem_many", "PSS idle, many ports", Unit::KiB, Source::Value { ns: false }),
    spec("5b", "mem_many_anon", "mem_many", "Anonymous memory idle, many ports", Unit::KiB, Source::Value { ns: false }),
    spec("5c", "mem_after_rss", "mem_after", "RSS after control calls and port flaps", Unit::KiB, Source::Value { ns: false }),
    spec("5c", "mem_after_pss", "mem_after", "PSS after control calls and port flaps", Unit::KiB, Source::Value { ns: false }),
    spec("5c", "growth_rss", "mem_after", "RSS growth under load (leak check)", Unit::KiB,
        Source::Growth("mem_idle2_rss", "mem_after_rss")),
    spec("5c", "growth_pss", "mem_after", "PSS growth under load (leak check)", Unit::KiB,
        Source::Growth("mem_idle2_pss", "mem_after_pss")),
    spec("5c", "growth_anon", "mem_after", "Anonymous memory growth under load (leak check)", Unit::KiB,
        Source::Growth("mem_idle2_anon", "mem_after_anon")),
    spec("6a", "ready_many", "mem_many", "Start to ready, many ports", Unit::Ms, Source::Value { ns: true }),
    spec("6a", "ready_big", "mem_big", "Start to ready, one team of big ports", Unit::Ms, Source::Value { ns: true }),
    spec("6a", "mem_big_rss", "mem_big", "RSS, one team of big ports", Unit::KiB, Source::Value { ns: false }),
    spec("6a", "mem_big_pss", "mem_big", "PSS, one team of big ports", Unit::KiB, Source::Value { ns: false }),
    spec("6a", "mem_big_anon", "mem_big", "Anonymous memory, one team of big ports", Unit::KiB, Source::Value { ns: false }),
    spec("6b", "ready_teams", "mem_teams", "All teams ready (daemons started together)", Unit::Ms, Source::Value { ns: true }),
    spec("6b", "mem_teams_rss", "mem_teams", "Total RSS of all teams' daemons", Unit::KiB, Source::Value { ns: false }),
    spec("6b", "mem_teams_pss", "mem_teams", "Total PSS of all teams' daemons", Unit::KiB, Source::Value { ns: false }),
    spec("7", "lacp", "lacp",
        "LACP, both ends up → both ports selected and enabled",
        Unit::Ms, Source::Events(&["link l0 up", "port team0 l0 up"], &["option team0 enabled l0 true", "option team0 enabled l1 true"])),
    spec("8a", "idle_arp_cpu_ms", "idle_arp", "Idle CPU time, arp_ping on 4 ports", Unit::Ms, Source::Value { ns: false }),
    spec("8a", "idle_arp_wakeups", "idle_arp", "Idle wakeups (context switches), arp_ping on 4 ports", Unit::PerSec, Source::Value { ns: false }),
    spec("8b", "idle_eth_cpu_ms", "idle_eth", "Idle CPU time, ethtool on 4 ports", Unit::Ms, Source::Value { ns: false }),
    spec("8b", "idle_eth_wakeups", "idle_eth", "Idle wakeups (context switches), ethtool on 4 ports", Unit::PerSec, Source::Value { ns: false }),
    spec("9a", "kmod_tcp_roundrobin", "kmod_roundrobin", "Driver: TCP throughput, roundrobin (C column: team.ko, rteam column: team_rs.ko)", Unit::Mbps, Source::Samples),
    spec("9a", "kmod_udp_roundrobin", "kmod_roundrobin", "Driver: UDP packet rate, 64-byte payloads, roundrobin", Unit::Kpps, Source::Samples),
    spec("9b", "kmod_tcp_activebackup", "kmod_activebackup", "Driver: TCP throughput, activebackup", Unit::Mbps, Source::Samples),
    spec("9b", "kmod_udp_activebackup", "kmod_activebackup", "Driver: UDP packet rate, 64-byte payloads, activebackup", Unit::Kpps, Source::Samples),
    spec("9c", "kmod_tcp_loadbalance", "kmod_loadbalance", "Driver: TCP throughput, loadbalance (BPF tx hash)", Unit::Mbps, Source::Samples),
    spec("9c", "kmod_udp_loadbalance", "kmod_loadbalance", "Driver: UDP packet rate, 64-byte payloads, loadbalance", Unit::Kpps, Source::Samples),
    spec("10a", "nm_change_lw_silence", "nm_change_lw", "NetworkManager: `con mod` link watch + `con up`: longest ping silence (NM detaches the ports itself)", Unit::Ms, Source::Samples),
    spec("10a", "nm_change_lw_lost", "nm_change_lw", "NetworkManager: `con mod` link watch + `con up`: echo requests sent and not answered, 5-ms ping", Unit::Packets, Source::Samples),
    spec("10b", "nm_change_prio_silence", "nm_change_prio", "NetworkManager: `con mod` port prio + `con up`: longest ping silence", Unit::Ms, Source::Samples),
    spec("10b", "nm_change_prio_lost", "nm_change_prio", "NetworkManager: `con mod` port prio + `con up`: echo requests sent and not answered, 5-ms ping", Unit::Packets, Source::Samples),
];

/// One daemon's figure.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A distribution: its summary and the samples, in the row's unit.
    Dist {
        summary: Summary,
        samples: Vec<f64>,
        /// Starts without a complete end (latency rows only).
        unpaired: usize,
    },
    Value(f64),
    /// Not measured, and why.
    Missing(String),
}

impl Cell {
    /// The figure compared in the ratio: the median, or the value.
    pub fn central(&self) -> Option<f64> {
        match self {
            Cell::Dist { summary, .. } => Some(summary.median),
            Cell::Value(v) => Some(*v),
            Cell::Missing(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub key: String,
    pub title: String,
    pub unit: Unit,
    pub p99: bool,
    /// In [`IMPLS`] order.
    pub cells: Vec<Cell>,
    /// rteam / C, when both are there and C's is not zero.
    pub ratio: Option<f64>,
}

fn cell(spec: &Spec, inputs: &Inputs, imp: &str) -> Cell {
    let k = |key: &str| (key.to_string(), imp.to_string());
    let missing = || {
        Cell::Missing(
            inputs
                .notes
                .get(&k(spec.note_key))
                .or_else(|| inputs.notes.get(&k(spec.key)))
                .cloned()
                .unwrap_or_else(|| "no data".to_string()),
        )
    };
    let dist = |ns: Vec<f64>, unpaired: usize, extra: String| {
        let samples: Vec<f64> = ns.iter().map(|&x| spec.unit.scale_ns(x)).collect();
        match summarize(&samples) {
            Some(summary) => Cell::Dist {
                summary,
                samples,
                unpaired,
            },
            None if extra.is_empty() => missing(),
            None => Cell::Missing(extra),
        }
    };
    match spec.source {
        // a row split from another (1b-1d) reads that row's run: its note key's events
        Source::Events(start, ends) | Source::EventsAfterLast(start, ends) => match inputs
            .events
            .get(&k(spec.key))
            .or_else(|| inputs.events.get(&k(spec.note_key)))
        {
            Some(ev) => {
                let p = if matches!(spec.source, Source::EventsAfterLast(..)) {
                    latency::pair_after_last(ev, start, ends)
                } else {
                    latency::pair(ev, start, ends)
                };
                let why = if p.missed > 0 {
                    format!("no end event after any of {} starts", p.missed)
                } else {
                    String::new()
                };
                dist(p.ns.iter().map(|&x| x as f64).collect(), p.missed, why)
            }
            None => missing(),
        },
        Source::Samples => match inputs.samples.get(&k(spec.key)) {
            Some(s) => dist(s.clone(), 0, String::new()),
            None => missing(),
        },
        Source::Value { ns } => match inputs.values.get(&k(spec.key)) {
            Some(&v) if ns => Cell::Value(spec.unit.scale_ns(v)),
            Some(&v) => Cell::Value(v),
            None => missing(),
        },
        Source::Growth(before, after) => {
            match (inputs.values.get(&k(before)), inputs.values.get(&k(after))) {
                (Some(b), Some(a)) => Cell::Value(a - b),
                _ => missing(),
            }
        }
    }
}

/// Every row of the report, computed from the inputs.
pub fn build(inputs: &Inputs) -> Vec<Row> {
    SPECS
        .iter()
        .map(|s| {
            let cells: Vec<Cell> = IMPLS.iter().map(|(imp, _)| cell(s, inputs, imp)).collect();
            let ratio = match (cells[0].central(), cells[1].central()) {
                (Some(c), Some(r)) if c != 0.0 && !matches!(s.source, Source::Growth(..)) => {
                    Some(r / c)
                }
                _ => None,
            };
            Row {
                id: s.id.to_string(),
                key: s.key.to_string(),
                title: s.title.to_string(),
                unit: s.unit,
                p99: s.p99,
                cells,
                ratio,
            }
        })
        .collect()
}

/// A number with precision suited to its size.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 || x == x.trunc() && a < 1e15 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn cell_text(row: &Row, c: &Cell) -> String {
    match c {
        Cell::Dist { summary: s, .. } if row.p99 => format!(
            "p50 {} / p99 {} ({}–{}, n={})",
            num(s.median),
            num(s.p99),
            num(s.min),
            num(s.max),
            s.n
        ),
        Cell::Dist {
            summary: s,
            unpaired,
            ..
        } => format!(
            "{} ({}–{}, n={}{})",
            num(s.median),
            num(s.min),
            num(s.max),
            s.n,
            if *unpaired > 0 {
                format!(", {unpaired} unpaired")
            } else {
                String::new()
            }
        ),
        Cell::Value(v) => num(*v),
        Cell::Missing(why) => format!("— {why}"),
    }
}

/// Titles with the run's sizes filled in (ports, teams, window).
fn title(row: &Row, inputs: &Inputs) -> String {
    let m = |k| inputs.meta(k).unwrap_or("?");
    let t = row
        .title
        .replace("many ports", &format!("{} ports", m("many_ports")))
        .replace("big ports", &format!("{} ports", m("big_ports")))
        .replace("All teams", &format!("All {} teams", m("teams")))
        .replace("all teams'", &format!("all {} teams'", m("teams")));
    match row.key.as_str() {
        "ctl_usock" | "ctl_dbus" => format!("{t}, {} calls", m("calls")),
        k if k.starts_with("growth") || k.starts_with("mem_after") => format!(
            "{t} ({} + 2×{} calls, {} flaps)",
            m("leak_calls"),
            m("calls"),
            m("flaps")
        ),
        k if k.starts_with("idle_") && k.ends_with("cpu_ms") => {
            format!("{t}, over {} s", m("idle_secs"))
        }
        _ => t,
    }
}

/// The markdown table alone (README's Performance section reuses it).
pub fn table_md(rows: &[Row], inputs: &Inputs) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| # | figure | unit | {} | {} | rteam/C |",
        IMPLS[0].1, IMPLS[1].1
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for r in rows {
        let ratio = r.ratio.map(|x| format!("{x:.2}")).unwrap_or("—".into());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.id,
            title(r, inputs),
            r.unit.label(),
            cell_text(r, &r.cells[0]),
            cell_text(r, &r.cells[1]),
            ratio
        );
    }
    s
}

/// The whole report.md; `plots` lists (file name, what it shows).
pub fn render_md(rows: &[Row], inputs: &Inputs, plots: &[(String, String)]) -> String {
    let m = |k| inputs.meta(k).unwrap_or("?");
    let mut s = String::new();
    let _ = writeln!(s, "# rteam vs C teamd: benchmark report\n");
    let _ = writeln!(
        s,
        "Made by `cargo xtask bench{}`. Both daemons ran in the same boot of the same qemu \
         (TCG) guest, one after the other, observed by `rteam-bench-monitor`, a separate \
         process. Under emulation absolute times mean little: compare the ratios. \
         Distributions: median (min–max, n = repetitions).\n",
        if m("mode") == "quick" { " --quick" } else { "" }
    );
    let _ = writeln!(
        s,
        "Guest: kernel {}, {} vCPUs; C teamd from libteam-utils {}. Repetitions {}, \
         idle window {} s.\n",
        m("kernel"),
        m("cpus"),
        m("c_teamd"),
        m("reps"),
        m("idle_secs")
    );
    if inputs.meta("kmod_kernel").is_some() {
        let _ = writeln!(
            s,
            "Section 9: kernel {}, guest clock {}, {} rounds of {} s a run.\n",
            m("kmod_kernel"),
            m("kmod_clock"),
            m("kmod_reps"),
            m("kmod_secs")
        );
    }
    s.push_str(&table_md(rows, inputs));
    let _ = writeln!(s, "\n## How each figure is taken\n");
    for line in [
        "1. Two veth ports, far ends in a netns. The far end of the active port goes down; from the monitor's receipt of the first witness of the carrier loss (the RTNLGRP_LINK message or the team driver's port event, whichever came first) to its receipt of the Team `change_event` with `activeport` = the backup port.",
        "1b-1d. Row 1 cut at the daemon's own option writes, seen by the same monitor: both daemons write p0's `user_linkup` (false), p0's `enabled` (false), p1's `enabled` (true) and `activeport`, in that order, each a Team netlink request answered before the next. 1b is the kernel event reaching the daemon plus its decision and first request; 1c and 1d are request round trips.",
        "1b2. From the team driver's port event (the one both daemons act on) to the first write.",
        "1b3. From the later of the two kernel messages (port event, RTNLGRP_LINK message) that came before the first write. The kernel sends them in either order, milliseconds apart. Whenever the port event came first, both daemons' first writes landed 0.4 to 1.4 ms after the link message (2026-12-07's full runs), not after the port event, as if the write waited for what the kernel's linkwatch work holds until the link message is out (the RTNL is the likely lock; not traced in the kernel). 1b2 counts the kernel's gap in those cases; 1b3 does not.",
        "2. Each port's far end alone in a netns answering ARP for the target. The monitor stamps, in the far end's netns, just before setting its `arp_ignore` to 8 (answer nothing); the end is the Team event `enabled` = false for that port.",
        "3. The monitor starts the daemon itself (`teamd -D -f CONF`): from just before the fork to the last of: every configured port's RTM_NEWLINK with the team as master, and the D-Bus `NameOwnerChanged` for `org.libteam.teamd.team0`.",
        "4. `rteam-bench-ctl`: one connection, calls one at a time; unix socket via `teamd-ctl-client`, D-Bus via `teamd-dbus`'s zbus proxy on the system bus.",
        "5. Rss and Pss from `/proc/PID/smaps_rollup`, 2 s after ready (ports up). Load: the timed calls of 4, then more `StateDump` calls over the socket, then port flaps (each a port set admin down and up, in batches of 100 by `ip -batch`; admin state reaches teamd at once, where a far end's carrier would be rate-limited by the kernel's linkwatch). Growth = after − idle.",
        "6. As 3 and 5 for one team with many ports, and for many teams started at once (one daemon per team, 2 ports each; the time is until every team is ready).",
        "7. Both ends run the lacp runner (active, fast rate); the partner is always C teamd in a netns. Both far ports are set up in one `ip -batch`; from the first witness of the first port's carrier-up (as in 1) to both ports' `enabled` = true.",
        "8. CPU time (utime + stime of `/proc/PID/stat`) and wakeups (voluntary + involuntary context switches of all the daemon's threads) over the idle window, team up with 4 ports.",
        "9. The kernel driver, not the daemon: a second boot, on our own 6.12 kernel (`cargo xtask kernel`), loads C `team.ko` (C column) and then the Rust `team_rs.ko` (rteam column). team0 and a far team1 in a netns (2 veth ports each, set up by rteam's teamd in the mode named); iperf3 from team0 to team1: TCP with 4 streams (receiver's bits/s) and UDP with 64-byte payloads at full speed (packets received per second). Higher is better here: a ratio above 1 means team_rs.ko is faster. Each repetition runs every mode on both drivers, the drivers' order swapped every repetition, so both share the host's drift. The tables after this list set both drivers' `ethtool -k team0` and `ip -d link` limits side by side.",
        "10. NetworkManager 1.42 (Debian's, unchanged) runs an activebackup team (ethtool watch, 2 veth ports to a bridge in a netns) with C teamd, then with ours bound over /usr/bin/teamd in NM's mount namespace. With `ping -D -i 0.005` across the team: `nmcli con mod` (the team's `team.config` link watch, or a port profile's `team-port.prio`), then `nmcli con up` of the team; the longest gap between two replies, and the echo requests the kernel sent (`/proc/net/snmp` OutEchos) minus the replies (a request sent while no port is enslaved fails and is not counted). NM itself detaches both ports before it stops teamd and attaches them to the new one, and refuses `nmcli dev reapply` for team settings, so no teamd can make this loss-free; what teamd adds is its start to ready.",
    ] {
        let _ = writeln!(s, "{line}");
    }
    s.push_str(&offloads_md(inputs));
    if !plots.is_empty() {
        let _ = writeln!(s, "\n## Plots\n");
        let _ = writeln!(
            s,
            "Cumulative distributions (the crate's bitmap backend is built without text \
             support, so axes are described here): x from 0 to the figure's largest sample, \
             y from 0 to 1; blue = C teamd, red = rteam; grey grid lines as stated.\n"
        );
        for (file, what) in plots {
            let _ = writeln!(s, "- `{file}`: {what}\n\n  ![{file}]({file})");
        }
    }
    s
}

/// The drivers of section 9 in column order: (driver key, column title).
pub const DRIVERS: [(&str, &str); 2] = [("C", "team.ko"), ("rteam", "team_rs.ko")];

/// `(name, value)` pairs of one settings file: `ethtool -k` lines (`name: value`, the
/// `Features for DEV:` header skipped) or `NAME VALUE` lines.
pub fn settings(kind: &str, text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with("Features for"))
        .filter_map(|l| match kind {
            "ethtool" => l.split_once(':'),
            _ => l.split_once(' '),
        })
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// One settings table of both drivers: every name in team.ko's order (then any only
/// team_rs.ko has), each driver's value, whether they differ. `None` when neither driver's
/// file is there.
pub fn settings_rows(inputs: &Inputs, kind: &str) -> Option<Vec<(String, [Option<String>; 2])>> {
    let per: Vec<Option<Vec<(String, String)>>> = DRIVERS
        .iter()
        .map(|(d, _)| {
            inputs
                .offloads
                .get(&(kind.to_string(), d.to_string()))
                .map(|t| settings(kind, t))
        })
        .collect();
    if per.iter().all(Option::is_none) {
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    for (name, _) in per.iter().flatten().flatten() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let value = |i: usize, name: &str| {
        per[i]
            .as_ref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Some(
        names
            .into_iter()
            .map(|n| {
                let vals = [value(0, &n), value(1, &n)];
                (n, vals)
            })
            .collect(),
    )
}

/// Section 9's offload tables (markdown), or "" when the run left no settings files.
pub fn offloads_md(inputs: &Inputs) -> String {
    let mut s = String::new();
    for (kind, heading) in [
        ("ethtool", "`ethtool -k team0`"),
        (
            "limits",
            "size limits and queues of `ip -d link show team0`",
        ),
    ] {
        let Some(rows) = settings_rows(inputs, kind) else {
            continue;
        };
        let differ = rows.iter().filter(|(_, v)| v[0] != v[1]).count();
        let verdict = if differ == 0 {
            "the same on both drivers".to_string()
        } else {
            format!("{differ} of {} differ (marked ≠)", rows.len())
        };
        let _ = writeln!(
            s,
            "\n## 9. Driver settings: {heading}, team.ko vs team_rs.ko\n\n\
             With both ports in, before the first measurement: {verdict}.\n"
        );
        let _ = writeln!(s, "| setting | {} | {} | |", DRIVERS[0].1, DRIVERS[1].1);
        let _ = writeln!(s, "|---|---|---|---|");
        for (name, v) in &rows {
            let show = |x: &Option<String>| x.clone().unwrap_or_else(|| "—".into());
            let mark = if v[0] != v[1] { "≠" } else { "" };
            let _ = writeln!(s, "| {name} | {} | {} | {mark} |", show(&v[0]), show(&v[1]));
        }
    }
    s
}

/// The same tables for report.json: per kind, each driver's settings and the names whose
/// values differ.
fn offloads_json(inputs: &Inputs) -> Value {
    let mut o = serde_json::Map::new();
    for kind in ["ethtool", "limits"] {
        let Some(rows) = settings_rows(inputs, kind) else {
            continue;
        };
        let mut k = json!({
            "differ": rows.iter().filter(|(_, v)| v[0] != v[1]).map(|(n, _)| n).collect::<Vec<_>>(),
        });
        for (i, (d, _)) in DRIVERS.iter().enumerate() {
            let m: serde_json::Map<String, Value> = rows
                .iter()
                .filter_map(|(n, v)| Some((n.clone(), json!(v[i].as_ref()?))))
                .collect();
            k[*d] = Value::Object(m);
        }
        o.insert(kind.to_string(), k);
    }
    Value::Object(o)
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Dist {
            summary: s,
            samples,
            unpaired,
        } => json!({
            "n": s.n, "median": s.median, "min": s.min, "max": s.max, "p99": s.p99,
            "unpaired": unpaired, "samples": samples,
        }),
        Cell::Value(v) => json!({ "value": v }),
        Cell::Missing(why) => json!({ "missing": why }),
    }
}

/// report.json: the same figures, machine-readable.
pub fn to_json(rows: &[Row], inputs: &Inputs) -> Value {
    let meta: serde_json::Map<String, Value> = inputs
        .meta
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut o = json!({
                "id": r.id, "key": r.key, "title": title(r, inputs), "unit": r.unit.label(),
                "ratio_rteam_over_c": r.ratio,
            });
            for ((imp, _), c) in IMPLS.iter().zip(&r.cells) {
                o[*imp] = cell_json(c);
            }
            o
        })
        .collect();
    json!({ "meta": meta, "rows": rows, "kmod_offloads": offloads_json(inputs) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_log;

    fn key(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn latency_row_from_events_and_ratio() {
        let mut inputs = Inputs::default();
        let c = "0 ready\n1000000 link p0 down\n3000000 option team0 activeport - p1\n";
        let r = "0 ready\n1000000 link p0 down\n2000000 option team0 activeport - p1\n";
        inputs
            .events
            .insert(key("failover_ethtool", "C"), parse_log(c).0);
        inputs
            .events
            .insert(key("failover_ethtool", "rteam"), parse_log(r).0);
        let rows = build(&inputs);
        let row = rows.iter().find(|r| r.key == "failover_ethtool").unwrap();
        assert_eq!(row.cells[0].central(), Some(2.0));
        assert_eq!(row.cells[1].central(), Some(1.0));
        assert_eq!(row.ratio, Some(0.5));
    }

    #[test]
    fn missing_rows_say_why() {
        let mut inputs = Inputs::default();
        inputs.notes.insert(
            key("failover_arp", "rteam"),
            "arp_ping not available".into(),
        );
        let rows = build(&inputs);
        let row = rows.iter().find(|r| r.key == "failover_arp").unwrap();
        assert_eq!(row.cells[1], Cell::Missing("arp_ping not available".into()));
        assert_eq!(row.cells[0], Cell::Missing("no data".into()));
        assert_eq!(row.ratio, None);
        let md = table_md(&rows, &inputs);
        assert!(md.contains("— arp_ping not available"));
    }

    #[test]
    fn growth_is_after_minus_before() {
        let mut inputs = Inputs::default();
        inputs.values.insert(key("mem_idle2_rss", "C"), 1000.0);
        inputs.values.insert(key("mem_after_rss", "C"), 1200.0);
        let rows = build(&inputs);
        let row = rows.iter().find(|r| r.key == "growth_rss").unwrap();
        assert_eq!(row.cells[0], Cell::Value(200.0));
        assert_eq!(row.ratio, None);
    }

    #[test]
    fn offloads_side_by_side() {
        let mut inputs = Inputs::default();
        assert_eq!(offloads_md(&inputs), "");
        let c = "Features for team0:\nrx-checksumming: off [fixed]\ntcp-segmentation-offload: on\n";
        let r =
            "Features for team0:\nrx-checksumming: off [fixed]\ntcp-segmentation-offload: off\n";
        inputs.offloads.insert(key("ethtool", "C"), c.into());
        inputs.offloads.insert(key("ethtool", "rteam"), r.into());
        inputs
            .offloads
            .insert(key("limits", "C"), "gso_max_size 65536\n".into());
        let md = offloads_md(&inputs);
        assert!(md.contains("1 of 2 differ"), "{md}");
        assert!(md.contains("| rx-checksumming | off [fixed] | off [fixed] |  |"));
        assert!(md.contains("| tcp-segmentation-offload | on | off | ≠ |"));
        assert!(md.contains("| gso_max_size | 65536 | — | ≠ |"));
        let j = offloads_json(&inputs);
        assert_eq!(j["ethtool"]["differ"], json!(["tcp-segmentation-offload"]));
        assert_eq!(
            j["ethtool"]["rteam"]["rx-checksumming"],
            json!("off [fixed]")
        );
        assert_eq!(j["limits"]["rteam"], json!({}));
    }

    #[test]
    fn numbers_are_rounded_by_size() {
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(3.0), "3");
    }
}
