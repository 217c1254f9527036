//! teamd's command line, parsed like C teamd (getopt_long "hdkevf:c:p:gl:roNt:nDZ:Uu").

use std::path::PathBuf;

use rteam_getopt::{Getopt, HasArg, Spec};

use crate::runner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cmd {
    #[default]
    Run,
    Help,
    Version,
    Kill,
    Check,
}

#[derive(Debug, Clone, Default)]
pub struct Args {
    pub argv0: String,
    pub cmd: Cmd,
    pub daemonize: bool,
    pub config_file: Option<PathBuf>,
    pub config_text: Option<String>,
    pub pid_file: Option<String>,
    pub debug: u32,
    pub log_output: Option<String>,
    pub force_recreate: bool,
    pub take_over: bool,
    pub no_quit_destroy: bool,
    pub team_dev: Option<String>,
    pub no_ports: bool,
    pub dbus: bool,
    pub usock: bool,
    /// --backend (rteam's): the team driver, a bond, or the team with fallback.
    pub backend: crate::bond::Backend,
}

/// Also read by `doc_tests`, which checks the man page and completions against it.
pub(crate) const SPEC: Spec = Spec {
    short: "hdkevf:c:p:gl:roNt:nDZ:Uu",
    long: &[
        ("help", HasArg::No, 'h'),
        ("daemonize", HasArg::No, 'd'),
        ("kill", HasArg::No, 'k'),
        ("check", HasArg::No, 'e'),
        ("version", HasArg::No, 'v'),
        ("config-file", HasArg::Required, 'f'),
        ("config", HasArg::Required, 'c'),
        ("pid-file", HasArg::Required, 'p'),
        ("debug", HasArg::No, 'g'),
        ("log-output", HasArg::Required, 'l'),
        ("force-recreate", HasArg::No, 'r'),
        ("take-over", HasArg::No, 'o'),
        ("no-quit-destroy", HasArg::No, 'N'),
        ("team-dev", HasArg::Required, 't'),
        ("no-ports", HasArg::No, 'n'),
        ("dbus-enable", HasArg::No, 'D'),
        ("zmq-enable", HasArg::Required, 'Z'),
        ("usock-enable", HasArg::No, 'U'),
        ("usock-disable", HasArg::No, 'u'),
        // rteam's, long only
        ("backend", HasArg::Required, 'B'),
    ],
};

pub fn help(argv0: &str) -> String {
    format!(
        "{argv0} [options]
    -h --help                Show this help
    -d --daemonize           Daemonize after startup
    -k --kill                Kill running daemon instance
    -e --check               Return 0 if a daemon is already running
    -v --version             Show version
    -f --config-file=FILE    Load the specified configuration file
    -c --config=TEXT         Use given config string (This causes configuration
                             file will be ignored)
    -p --pid-file=FILE       Use the specified PID file
    -g --debug               Increase verbosity
    -l --log-output          Force teamd log output to stdout, stderr or syslog
    -r --force-recreate      Force team device recreation in case it
                             already exists
    -o --take-over           Take over the device if it already exists
    -N --no-quit-destroy     Do not destroy the device on quit
    -t --team-dev=DEVNAME    Use the specified team device
    -n --no-ports            Start without ports
    -D --dbus-enable         Enable D-Bus interface
    -Z --zmq-enable=ADDRESS  Enable ZeroMQ interface
    -U --usock-enable        Enable UNIX domain socket interface
    -u --usock-disable       Disable UNIX domain socket interface
       --backend=BACKEND     team, bond or auto (the default: team, or a bond
                             when the kernel cannot create team devices)
Available runners: {}
",
        runner::NAMES.join(", ")
    )
}

/// Parses argv; on error the message is printed (as C teamd does) and `Err` returned.
pub fn parse(argv: &[String]) -> Result<Args, ()> {
    let argv0 = argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_else(|| "teamd".into());
    let mut args = Args {
        argv0: argv0.clone(),
        usock: true,
        ..Args::default()
    };
    let prog = argv.first().cloned().unwrap_or_else(|| "teamd".into());
    let mut g = Getopt::new(&prog, SPEC, argv.get(1..).unwrap_or_default());
    for opt in g.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{e}");
                return Err(());
            }
        };
        let value = opt.value.clone().unwrap_or_default();
        match opt.name {
            'h' => args.cmd = Cmd::Help,
            'd' => args.daemonize = true,
            'k' => args.cmd = Cmd::Kill,
            'e' => args.cmd = Cmd::Check,
            'v' => args.cmd = Cmd::Version,
            'f' => match std::fs::canonicalize(&value) {
                Ok(p) => args.config_file = Some(p),
                Err(e) => {
                    eprintln!(
                        "Failed to get absolute path of \"{value}\": {}",
                        team_nl_client::strerror(e.raw_os_error().unwrap_or(0))
                    );
                    return Err(());
                }
            },
            'c' => args.config_text = Some(value),
            'p' => args.pid_file = Some(value),
            'g' => args.debug += 1,
            'l' => args.log_output = Some(value),
            'r' => args.force_recreate = true,
            'o' => args.take_over = true,
            'N' => args.no_quit_destroy = true,
            't' => args.team_dev = Some(value),
            'n' => args.no_ports = true,
            'D' => args.dbus = true,
            'Z' => {
                eprintln!("ZeroMQ support is not compiled-in");
                return Err(());
            }
            'U' => args.usock = true,
            'u' => args.usock = false,
            'B' => match crate::bond::Backend::parse(&value) {
                Some(b) => args.backend = b,
                None => {
                    eprintln!("Unknown backend \"{value}\" (team, bond or auto)");
                    return Err(());
                }
            },
            _ => return Err(()),
        }
    }
    if !g.operands().is_empty() {
        eprintln!("Too many arguments");
        return Err(());
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Args, ()> {
        let mut all = vec!["/usr/bin/teamd".to_string()];
        all.extend(v.iter().map(|s| s.to_string()));
        parse(&all)
    }

    #[test]
    fn options_as_nm_and_systemd_pass_them() {
        let a = p(&["-o", "-n", "-U", "-N", "-t", "team0", "-c", "{}", "-gg"]).unwrap();
        assert!(a.take_over && a.no_ports && a.usock && a.no_quit_destroy);
        assert_eq!(a.team_dev.as_deref(), Some("team0"));
        assert_eq!(a.debug, 2);
        assert_eq!(a.argv0, "teamd");
        let a = p(&["-u", "-k", "-p", "/run/x.pid"]).unwrap();
        assert!(!a.usock);
        assert_eq!(a.cmd, Cmd::Kill);
        assert_eq!(a.backend, crate::bond::Backend::Auto);
        let a = p(&["--backend=bond", "-t", "team0"]).unwrap();
        assert_eq!(a.backend, crate::bond::Backend::Bond);
        assert_eq!(
            p(&["--backend", "team"]).unwrap().backend,
            crate::bond::Backend::Team
        );
    }

    #[test]
    fn bad_command_lines_fail() {
        assert!(p(&["extra"]).is_err());
        assert!(p(&["-x"]).is_err());
        assert!(p(&["-f", "/nonexistent/file"]).is_err());
        assert!(p(&["-Z", "tcp://127.0.0.1:1"]).is_err());
        assert!(p(&["--backend", "ovs"]).is_err());
    }

    #[test]
    fn help_lists_runners() {
        assert!(help("teamd").ends_with(
            "Available runners: broadcast, roundrobin, random, activebackup, loadbalance, lacp\n"
        ));
    }
}
