//! teamdctl: the teamd control tool, a drop-in for libteam's.
//!
//! Owns the command line (getopt_long options, the command tree), the output
//! formats (re-serialised JSON dumps, the state view) and the messages and
//! exit codes scripts depend on. The wire protocol is `teamd-ctl-proto`'s;
//! what libteamdctl does (usock then D-Bus, the reply cache, its log lines) is
//! `teamd-ctl-client`'s. `-Z` fails the way a libteam built without ZeroMQ does.

mod cmd;
mod ctl;
#[cfg(test)]
mod doc_tests;
mod view;

use cmd::Action;
use ctl::{Cli, Teamdctl};
use nix::errno::Errno;
use rteam_getopt::{Getopt, HasArg, Spec};
use serde_json::Value;
use std::io::Write;
use std::process::ExitCode;
use teamd_ctl_proto::{json, Method};

const OPTIONS: Spec = Spec {
    short: "hvoDZ:U",
    long: &[
        ("help", HasArg::No, 'h'),
        ("verbose", HasArg::No, 'v'),
        ("oneline", HasArg::No, 'o'),
        ("force-dbus", HasArg::No, 'D'),
        ("force-zmq", HasArg::Required, 'Z'),
        ("force-usock", HasArg::No, 'U'),
    ],
};

/// The kernel's IFNAMSIZ; libteamdctl refuses longer port names itself.
const IFNAMSIZ: usize = 16;

/// Writes to stdout; like C stdio, a closed stdout is not an error.
fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// How JSON and the state view are printed (`-o`, `-v`).
struct Format {
    oneline: bool,
    verbosity: u32,
}

fn main() -> ExitCode {
    // C tools take argv as bytes; a non-UTF-8 argument must not panic here
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = argv.first().cloned().unwrap_or_else(|| "teamdctl".into());
    match run(&argv0, argv.get(1..).unwrap_or_default()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

/// Prints a usage error and the help, as every argument error does.
fn usage_error(argv0: &str, message: &str) -> Result<(), ()> {
    eprintln!("{message}");
    out(&cmd::help(argv0));
    Err(())
}

fn run(argv0: &str, args: &[String]) -> Result<(), ()> {
    let mut format = Format {
        oneline: false,
        verbosity: 0,
    };
    let (mut force_usock, mut force_dbus) = (false, false);
    let mut getopt = Getopt::new(argv0, OPTIONS, args);
    for opt in getopt.by_ref() {
        match opt {
            Ok(o) => match o.name {
                'h' => {
                    out(&cmd::help(argv0));
                    return Ok(());
                }
                'v' => format.verbosity += 1,
                'o' => format.oneline = true,
                'D' => force_dbus = true,
                'Z' => {
                    eprintln!("ZeroMQ support is not compiled-in");
                    return Err(());
                }
                _ => force_usock = true,
            },
            Err(e) => {
                eprintln!("{e}");
                return usage_error(argv0, "unknown option.");
            }
        }
    }
    if force_usock && force_dbus {
        return usage_error(
            argv0,
            "Only one interface could be forced at a time (UNIX domain socket, D-Bus, ZMQ).",
        );
    }
    let forced = if force_usock {
        Some(Cli::Usock)
    } else if force_dbus {
        Some(Cli::Dbus)
    } else {
        None
    };
    let operands = getopt.operands();
    let Some((team, words)) = operands.split_first() else {
        return usage_error(argv0, "No team device specified.");
    };
    let (action, params) = match cmd::find(words) {
        Ok(found) => found,
        Err(e) => return usage_error(argv0, &e.to_string()),
    };
    check_team_device(team)?;
    let mut tdc = Teamdctl::connect(team, forced).map_err(|e| {
        eprintln!(
            "teamdctl_connect failed ({})",
            team_nl_client::strerror(e as i32)
        );
    })?;
    check_teamd_device(&tdc, team)?;
    execute(&mut tdc, &format, action, params).map_err(|e| {
        eprintln!(
            "command call failed ({})",
            team_nl_client::strerror(e as i32)
        );
    })
}

/// The team netdev must exist. The lookup mirrors libteam's: an AF_PACKET
/// socket first (so non-root users get its EPERM), then SIOCGIFINDEX on the
/// name truncated to 15 bytes as the kernel would.
fn check_team_device(team: &str) -> Result<(), ()> {
    match ifindex(team) {
        Ok(0) => {
            eprintln!("Device \"{team}\" does not exist");
            Err(())
        }
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!(
                "Device \"{team}\" - failed to get interface index ({})",
                team_nl_client::strerror(e as i32)
            );
            Err(())
        }
    }
}

fn ifindex(name: &str) -> Result<u32, Errno> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    drop(socket(
        AddressFamily::Packet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?);
    let bytes = name.as_bytes();
    let truncated = &bytes[..bytes.len().min(IFNAMSIZ - 1)];
    match nix::net::if_::if_nametoindex(truncated) {
        Ok(index) => Ok(index),
        Err(Errno::ENODEV) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Parses a cached or fetched dump the way teamdctl does (duplicate keys
/// rejected); the error is printed here.
fn load(text: &str) -> Result<Value, Errno> {
    json::parse_strict(text).map_err(|_| {
        eprintln!("Failed to parse JSON dump.");
        Errno::EINVAL
    })
}

/// The connected teamd must control the device we were asked about.
fn check_teamd_device(tdc: &Teamdctl, team: &str) -> Result<(), ()> {
    let config = load(tdc.config()).map_err(drop)?;
    let Some(device) = config.get("device").and_then(Value::as_str) else {
        eprintln!("Failed to parse device name from config.");
        return Err(());
    };
    if device != team {
        eprintln!(
            "Unable to access to {team} through connected teamd daemon because it controls {device}."
        );
        return Err(());
    }
    Ok(())
}

fn print_json(format: &Format, value: &Value) {
    let text = if format.oneline {
        json::dump_compact(value)
    } else {
        json::dump_pretty(value)
    };
    out(&format!("{text}\n"));
}

fn execute(
    tdc: &mut Teamdctl,
    format: &Format,
    action: Action,
    params: &[String],
) -> Result<(), Errno> {
    let param = |i: usize| params.get(i).map_or("", String::as_str);
    match action {
        Action::ConfigDump => print_json(format, &load(tdc.config())?),
        Action::ConfigDumpNoports => {
            let mut config = load(tdc.config())?;
            if let Some(map) = config.as_object_mut() {
                map.remove("ports");
            }
            print_json(format, &config);
        }
        Action::ConfigDumpActual => print_json(format, &load(tdc.config_actual())?),
        Action::ConfigReload => {
            // the file is read here, so teamd needs no access to it; without
            // one, teamd re-reads the file it was started with
            let text = match params.first() {
                Some(path) => std::fs::read_to_string(path).map_err(|e| {
                    eprintln!("Failed to read config file \"{path}\": {e}");
                    Errno::from_raw(e.raw_os_error().unwrap_or(Errno::EIO as i32))
                })?,
                None => String::new(),
            };
            tdc.call(Method::ConfigReload, &[&text])?;
        }
        Action::StateDump => print_json(format, &load(tdc.state())?),
        Action::StateView => {
            let view = view::state_view(&load(tdc.state())?, format.verbosity);
            out(&view.text);
            view.result.map_err(|e| {
                eprintln!("{e}");
                Errno::EINVAL
            })?;
        }
        Action::StateItemGet => {
            let value = tdc.call(Method::StateItemValueGet, &[param(0)])?;
            out(&format!("{value}\n"));
        }
        Action::StateItemSet => {
            tdc.call(Method::StateItemValueSet, &[param(0), param(1)])?;
        }
        Action::PortAdd => {
            tdc.call(Method::PortAdd, &[param(0)])?;
        }
        Action::PortRemove => {
            tdc.call(Method::PortRemove, &[param(0)])?;
        }
        Action::PortPresent => {
            // answered from the cached StateDump: there is no such method
            let state = load(tdc.state())?;
            let present = state
                .get("ports")
                .and_then(Value::as_object)
                .is_some_and(|ports| ports.contains_key(param(0)));
            if !present {
                return Err(Errno::ENODEV);
            }
        }
        Action::PortConfigUpdate => {
            tdc.call(Method::PortConfigUpdate, &[param(0), param(1)])?;
        }
        Action::PortConfigDump => {
            if param(0).len() > IFNAMSIZ {
                return Err(Errno::EINVAL);
            }
            let config = tdc.call(Method::PortConfigDump, &[param(0)])?;
            print_json(format, &load(&config)?);
        }
    }
    Ok(())
}
