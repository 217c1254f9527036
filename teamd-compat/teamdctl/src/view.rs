//! `teamdctl <dev> state [view]`: the human-readable rendering of a StateDump
//! (spec §5.1), as a pure function of the parsed JSON.
//!
//! Follows libteam's teamdctl line by line, including what it prints before
//! a required key turns out to be missing: the caller prints the partial text,
//! then the error.

use serde_json::{Map, Value};
use std::fmt;

/// A required key was missing or had the wrong type; the text is teamdctl's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewError {
    Setup,
    Port,
    LinkWatches,
    LinkWatch,
    Ethtool,
    ArpPing,
    NsnaPing,
    Tipc,
    UnknownLinkWatch,
    PortRunner,
    Lacpdu,
    Runner,
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ViewError::Setup => "Failed to parse JSON setup dump.",
            ViewError::Port => "Failed to parse JSON port dump.",
            ViewError::LinkWatches => "Failed to parse JSON port link watches dump.",
            ViewError::LinkWatch => "Failed to parse JSON port link watch dump.",
            ViewError::Ethtool => "Failed to parse JSON ethtool link watch dump.",
            ViewError::ArpPing => "Failed to parse JSON arp_ping link watch dump.",
            ViewError::NsnaPing => "Failed to parse JSON nsna_ping link watch dump.",
            // sic: the only one without a period
            ViewError::Tipc => "Failed to parse JSON tipc_bearer link watch dump",
            ViewError::UnknownLinkWatch => "Failed to parse JSON unknown link watch info dump.",
            ViewError::PortRunner => "Failed to parse JSON port runner dump.",
            ViewError::Lacpdu => "Failed to parse JSON port runner lacpdu dump.",
            ViewError::Runner => "Failed to parse JSON runner dump.",
        })
    }
}

/// The rendered text (possibly partial) and whether rendering completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub text: String,
    pub result: Result<(), ViewError>,
}

/// Renders `state` at verbosity `verbosity` (the number of `-v` options).
pub fn state_view(state: &Value, verbosity: u32) -> View {
    let mut out = Out {
        text: String::new(),
        indent: 0,
        verbosity,
    };
    let result = render(&mut out, state);
    View {
        text: out.text,
        result,
    }
}

/// Output with teamdctl's indentation (steps of 2, at most 32) and verbosity
/// filter (a level-1 line needs one `-v`).
struct Out {
    text: String,
    indent: usize,
    verbosity: u32,
}

impl Out {
    fn at(&mut self, level: u32, line: impl fmt::Display) {
        if level <= self.verbosity {
            self.text.extend(std::iter::repeat_n(' ', self.indent));
            self.text.push_str(&line.to_string());
            self.text.push('\n');
        }
    }

    fn line(&mut self, line: impl fmt::Display) {
        self.at(0, line);
    }

    fn line_v(&mut self, line: impl fmt::Display) {
        self.at(1, line);
    }

    fn inc(&mut self) {
        if self.indent + 2 <= 32 {
            self.indent += 2;
        }
    }

    fn dec(&mut self) {
        self.indent = self.indent.saturating_sub(2);
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn up_down(b: bool) -> &'static str {
    if b {
        "up"
    } else {
        "down"
    }
}

/// Typed member access with json_unpack's rules: the key must exist with
/// exactly that JSON type; integers are truncated to C `int`.
trait Unpack {
    fn obj(&self, key: &str) -> Option<&Map<String, Value>>;
    fn string(&self, key: &str) -> Option<&str>;
    fn int(&self, key: &str) -> Option<i32>;
    fn boolean(&self, key: &str) -> Option<bool>;
}

impl Unpack for Map<String, Value> {
    fn obj(&self, key: &str) -> Option<&Map<String, Value>> {
        self.get(key)?.as_object()
    }

    fn string(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    fn int(&self, key: &str) -> Option<i32> {
        // truncation, as the C assignment of a json_int_t to an int
        self.get(key)?.as_i64().map(|i| i as i32)
    }

    fn boolean(&self, key: &str) -> Option<bool> {
        self.get(key)?.as_bool()
    }
}

fn render(out: &mut Out, state: &Value) -> Result<(), ViewError> {
    out.line("setup:");
    let root = state.as_object().ok_or(ViewError::Setup)?;
    let runner_name = setup(out, root)?;
    if let Some(ports) = root.get("ports") {
        out.line("ports:");
        // a non-object "ports" iterates as empty in jansson
        for (name, port_json) in ports.as_object().into_iter().flatten() {
            out.inc();
            port(out, runner_name, name, port_json)?;
            out.dec();
        }
    }
    runner(out, runner_name, root)
}

fn setup<'a>(out: &mut Out, root: &'a Map<String, Value>) -> Result<&'a str, ViewError> {
    let s = root.obj("setup").ok_or(ViewError::Setup)?;
    let get = || {
        Some((
            s.string("runner_name")?,
            s.string("kernel_team_mode_name")?,
            s.boolean("dbus_enabled")?,
            s.boolean("zmq_enabled")?,
            s.int("debug_level")?,
            s.boolean("daemonized")?,
            s.int("pid")?,
            s.string("pid_file")?,
        ))
    };
    let (runner_name, mode, dbus, zmq, debug_level, daemonized, pid, pid_file) =
        get().ok_or(ViewError::Setup)?;
    out.inc();
    out.line(format_args!("runner: {runner_name}"));
    out.line_v(format_args!("kernel team mode: {mode}"));
    out.line_v(format_args!("D-BUS enabled: {}", yes_no(dbus)));
    out.line_v(format_args!("ZeroMQ enabled: {}", yes_no(zmq)));
    out.line_v(format_args!("debug level: {debug_level}"));
    out.line_v(format_args!("daemonized: {}", yes_no(daemonized)));
    out.line_v(format_args!("PID: {pid}"));
    out.line_v(format_args!("PID file: {pid_file}"));
    out.dec();
    Ok(runner_name)
}

fn port(out: &mut Out, runner_name: &str, name: &str, port_json: &Value) -> Result<(), ViewError> {
    let get = || {
        let p = port_json.as_object()?;
        let ifinfo = p.obj("ifinfo")?;
        let link = p.obj("link")?;
        Some((
            p,
            ifinfo.string("dev_addr")?,
            ifinfo.int("dev_addr_len")?,
            ifinfo.int("ifindex")?,
            ifinfo.string("ifname")?,
            link.string("duplex")?,
            link.int("speed")?,
            link.boolean("up")?,
            p.get("link_watches")?,
        ))
    };
    let (p, dev_addr, _addr_len, ifindex, _ifname, duplex, speed, up, link_watches_json) =
        get().ok_or(ViewError::Port)?;
    out.line(name);
    out.inc();
    out.line_v(format_args!("ifindex: {ifindex}"));
    out.line_v(format_args!("addr: {dev_addr}"));
    out.line_v(format_args!(
        "ethtool link: {speed}mbit/{duplex}duplex/{}",
        up_down(up)
    ));
    link_watches(out, link_watches_json)?;
    port_runner(out, runner_name, p)?;
    out.dec();
    Ok(())
}

fn link_watches(out: &mut Out, lw: &Value) -> Result<(), ViewError> {
    let lw = lw.as_object().ok_or(ViewError::LinkWatches)?;
    let up = lw.boolean("up").ok_or(ViewError::LinkWatches)?;
    out.line("link watches:");
    out.inc();
    out.line(format_args!("link summary: {}", up_down(up)));
    if let Some(list) = lw.get("list") {
        for (key, instance) in list.as_object().into_iter().flatten() {
            let get = || {
                let i = instance.as_object()?;
                Some((i, i.boolean("up")?, i.string("name")?, i.int("down_count")?))
            };
            let (i, up, name, down_count) = get().ok_or(ViewError::LinkWatch)?;
            out.line(format_args!("instance[{key}]:"));
            out.inc();
            out.line(format_args!("name: {name}"));
            out.line(format_args!("link: {}", up_down(up)));
            out.line(format_args!("down count: {down_count}"));
            link_watch_info(out, name, i)?;
            out.dec();
        }
    }
    out.dec();
    Ok(())
}

fn link_watch_info(out: &mut Out, name: &str, lw: &Map<String, Value>) -> Result<(), ViewError> {
    match name {
        "ethtool" => {
            let (up, down) = (|| Some((lw.int("delay_up")?, lw.int("delay_down")?)))()
                .ok_or(ViewError::Ethtool)?;
            out.line_v(format_args!("link up delay: {up}"));
            out.line_v(format_args!("link down delay: {down}"));
        }
        "arp_ping" => {
            let get = || {
                Some((
                    lw.string("source_host")?,
                    lw.string("target_host")?,
                    lw.int("interval")?,
                    lw.int("init_wait")?,
                    lw.boolean("validate_active")?,
                    lw.boolean("validate_inactive")?,
                    lw.boolean("send_always")?,
                    lw.int("missed_max")?,
                    lw.int("missed")?,
                ))
            };
            let (
                source,
                target,
                interval,
                init_wait,
                v_active,
                v_inactive,
                send_always,
                max,
                missed,
            ) = get().ok_or(ViewError::ArpPing)?;
            out.line_v(format_args!("source host: {source}"));
            out.line_v(format_args!("target host: {target}"));
            out.line_v(format_args!("interval: {interval}"));
            out.line_v(format_args!("missed packets: {missed}/{max}"));
            out.line_v(format_args!("validate_active: {}", yes_no(v_active)));
            out.line_v(format_args!("validate_inactive: {}", yes_no(v_inactive)));
            out.line_v(format_args!("send_always: {}", yes_no(send_always)));
            out.line_v(format_args!("initial wait: {init_wait}"));
        }
        "nsna_ping" => {
            let get = || {
                Some((
                    lw.string("target_host")?,
                    lw.int("interval")?,
                    lw.int("init_wait")?,
                    lw.int("missed_max")?,
                    lw.int("missed")?,
                ))
            };
            let (target, interval, init_wait, max, missed) = get().ok_or(ViewError::NsnaPing)?;
            out.line_v(format_args!("target host: {target}"));
            out.line_v(format_args!("interval: {interval}"));
            out.line_v(format_args!("missed packets: {missed}/{max}"));
            out.line_v(format_args!("initial wait: {init_wait}"));
        }
        "tipc" => {
            let bearer = lw.string("tipc_bearer").ok_or(ViewError::Tipc)?;
            out.line_v(format_args!("tipc bearer: {bearer}"));
        }
        _ => return Err(ViewError::UnknownLinkWatch),
    }
    Ok(())
}

fn port_runner(
    out: &mut Out,
    runner_name: &str,
    port: &Map<String, Value>,
) -> Result<(), ViewError> {
    if runner_name != "lacp" {
        return Ok(());
    }
    out.line("runner:");
    let get = || {
        let r = port.obj("runner")?;
        let agg = r.obj("aggregator")?;
        Some((
            r.boolean("selected")?,
            agg.int("id")?,
            agg.boolean("selected")?,
            r.string("state")?,
            r.int("key")?,
            r.int("prio")?,
            r.get("actor_lacpdu_info")?,
            r.get("partner_lacpdu_info")?,
        ))
    };
    let (selected, agg_id, agg_selected, state, key, prio, actor, partner) =
        get().ok_or(ViewError::PortRunner)?;
    out.inc();
    out.line(format_args!(
        "aggregator ID: {agg_id}{}",
        if agg_selected { ", Selected" } else { "" }
    ));
    out.line(format_args!("selected: {}", yes_no(selected)));
    out.line(format_args!("state: {state}"));
    out.line_v(format_args!("key: {key}"));
    out.line_v(format_args!("priority: {prio}"));
    out.line_v("actor LACPDU info:");
    out.inc();
    lacpdu(out, actor)?;
    out.dec();
    out.line_v("partner LACPDU info:");
    out.inc();
    lacpdu(out, partner)?;
    out.dec();
    out.dec();
    Ok(())
}

fn lacpdu(out: &mut Out, info: &Value) -> Result<(), ViewError> {
    let get = || {
        let i = info.as_object()?;
        Some((
            i.int("system_priority")?,
            i.string("system")?,
            i.int("key")?,
            i.int("port_priority")?,
            i.int("port")?,
            i.int("state")?,
        ))
    };
    let (sys_prio, system, key, port_prio, port, state) = get().ok_or(ViewError::Lacpdu)?;
    out.line_v(format_args!("system priority: {sys_prio}"));
    out.line_v(format_args!("system: {system}"));
    out.line_v(format_args!("key: {key}"));
    out.line_v(format_args!("port_priority: {port_prio}"));
    out.line_v(format_args!("port: {port}"));
    // %x of an int: negative values print as their unsigned bit pattern
    out.line_v(format_args!("state: 0x{:x}", state as u32));
    Ok(())
}

fn runner(out: &mut Out, runner_name: &str, root: &Map<String, Value>) -> Result<(), ViewError> {
    match runner_name {
        "activebackup" => {
            out.line("runner:");
            let active = root
                .obj("runner")
                .and_then(|r| r.string("active_port"))
                .ok_or(ViewError::Runner)?;
            out.inc();
            out.line(format_args!("active port: {active}"));
            out.dec();
        }
        "lacp" => {
            out.line("runner:");
            let get = || {
                let r = root.obj("runner")?;
                Some((
                    r.boolean("active")?,
                    r.int("sys_prio")?,
                    r.boolean("fast_rate")?,
                ))
            };
            let (active, sys_prio, fast_rate) = get().ok_or(ViewError::Runner)?;
            out.inc();
            out.line(format_args!("active: {}", yes_no(active)));
            out.line(format_args!("fast rate: {}", yes_no(fast_rate)));
            out.line_v(format_args!("system priority: {sys_prio}"));
            out.dec();
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
