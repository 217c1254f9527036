//! `teamd-networkd-helper [--root=DIR] [--dry-run]`: run by
//! teamd-networkd.service. Writes /run/teamd/DEV.conf and the
//! /run/systemd/network files for every team, removes those of teams that
//! are gone, and reloads, restarts, starts or stops `teamd@DEV` to match
//! (see the library's `helper` module). Logs to stderr with syslog prefixes,
//! which journald reads. Exit status 1 when a team's settings have errors
//! (the other teams are set up all the same).
//!
//! `TEAMD_NETWORKD_SYSTEMCTL` and `TEAMD_NETWORKD_NETWORKCTL` name other
//! programs to call instead of systemctl and networkctl (tests, dry runs in
//! a guest).

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use networkd_gen::diag::Diags;
use networkd_gen::helper::{self, Action, System};
use networkd_gen::load::Roots;
use networkd_gen::log_diags;
use networkd_gen::model::{self, Inputs};

const TAG: &str = "teamd-networkd-helper";

/// The program to run for `name` (systemctl, networkctl).
fn program(name: &str) -> String {
    let var = format!("TEAMD_NETWORKD_{}", name.to_ascii_uppercase());
    std::env::var(var).unwrap_or_else(|_| name.to_string())
}

struct Systemctl;

impl System for Systemctl {
    fn is_active(&mut self, unit: &str) -> bool {
        Command::new(program("systemctl"))
            .args(["is-active", "--quiet", unit])
            .stdin(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

fn run(action: &Action) -> Result<(), String> {
    let argv = action.argv();
    let status = Command::new(program(&argv[0]))
        .args(&argv[1..])
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", argv.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", argv.join(" ")))
    }
}

fn main() -> ExitCode {
    let mut root = std::env::var_os("TEAMD_NETWORKD_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut dry_run = false;
    for a in std::env::args().skip(1) {
        if let Some(r) = a.strip_prefix("--root=") {
            root = PathBuf::from(r);
        } else if a == "--dry-run" {
            dry_run = true;
        } else {
            eprintln!("usage: {TAG} [--root=DIR] [--dry-run]");
            return ExitCode::from(2);
        }
    }
    let roots = Roots::new(root);
    let mut diags = Diags::default();
    let inputs = Inputs::load(&roots, &mut diags);
    let model = model::build(&inputs, &roots, &mut diags);
    log_diags(&diags, TAG, &mut std::io::stderr());
    let old = helper::read_manifest(&roots);
    let read = |p: &str| std::fs::read_to_string(roots.path(p)).ok();
    let plan = helper::plan(&model, old.as_ref(), &read, &mut Systemctl);
    let mut failed = diags.has_errors();
    if dry_run {
        for p in plan.writes.keys() {
            println!("write {p}");
        }
        for p in &plan.removes {
            println!("remove {p}");
        }
        for a in &plan.actions {
            println!("run {}", a.argv().join(" "));
        }
        return if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    for e in helper::apply(&plan, &roots) {
        eprintln!("<3>{TAG}: {e}");
        failed = true;
    }
    for a in &plan.actions {
        eprintln!("<6>{TAG}: {}", a.argv().join(" "));
        if let Err(e) = run(a) {
            eprintln!("<3>{TAG}: {e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
