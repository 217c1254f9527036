//! `cargo xtask test`: the host checks, then each VM scenario in its own boot.

use std::fs;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::guest::{self, Driver};
use crate::kernel::{self, Flavor};
use crate::qemu::{self, RunOpts};
use crate::util;

/// Host-side checks, in order; a failure is reported and the rest still run.
const CHECKS: &[(&str, &[&str])] = &[
    ("fmt", &["fmt", "--all", "--", "--check"]),
    (
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ),
    ("test", &["test", "--workspace"]),
];

/// The scenario run by `cargo xtask demo`, not by `test`.
const DEMO: &str = "demo";

/// Scenarios that also run on our own kernel with the Rust driver (`team_rs.ko`), and the
/// driver each loads (`None`: the script loads C and Rust drivers itself). Names are looked
/// up in tests/vm/scenarios, then tests/vm/kmod.
const RUST_DRIVER_RUNS: &[(&str, Driver)] = &[
    ("team-rs-compat", Driver::None),
    ("teamnl-compat", Driver::Rust),
    ("teamd-failover", Driver::Rust),
    ("teamd-ctl", Driver::Rust),
    ("teamd-config", Driver::Rust),
    ("nm-team", Driver::Rust),
];

/// Where `cargo xtask test` runs scenarios: Debian's kernel, or ours with a given driver.
#[derive(Clone, Copy)]
pub enum Target {
    Debian,
    Ours(Flavor, Driver),
}

impl Target {
    fn label(self) -> String {
        match self {
            Target::Debian => String::new(),
            Target::Ours(flavor, driver) => {
                format!(" [{} kernel, {driver:?} driver]", flavor.name()).to_lowercase()
            }
        }
    }

    fn image(self) -> Result<guest::Image> {
        match self {
            Target::Debian => guest::prepare(),
            Target::Ours(flavor, driver) => guest::prepare_on(&kernel::prepare(flavor)?, driver),
        }
    }
}

/// fmt, clippy and unit tests, then every scenario on Debian's kernel, then the Rust-driver
/// runs on our kernel. With `only`, just that scenario on `only_target`.
pub fn test_all(no_vm: bool, only: Option<&str>, only_target: Target, opts: RunOpts) -> Result<u8> {
    // (what, passed, detail)
    let mut results: Vec<(String, bool, String)> = Vec::new();
    if only.is_none() {
        for (name, args) in CHECKS {
            eprintln!("xtask: cargo {}", args.join(" "));
            let started = Instant::now();
            let passed = util::run(util::cargo().args(*args)).is_ok();
            let took = format!("{:.1} s", started.elapsed().as_secs_f64());
            results.push((format!("cargo {name}"), passed, took));
        }
    }
    let mut skipped = 0;
    // (scenario, its FAIL lines and last lines of output) for each failed scenario
    let mut failure_tails: Vec<(String, Vec<String>)> = Vec::new();
    if !no_vm {
        let mut stages: Vec<(Target, Vec<String>)> = Vec::new();
        match only {
            Some(name) => stages.push((only_target, vec![name.to_string()])),
            None => {
                stages.push((Target::Debian, scenario_names()?));
                for (name, driver) in RUST_DRIVER_RUNS {
                    stages.push((Target::Ours(Flavor::Rteam, *driver), vec![name.to_string()]));
                }
            }
        }
        let bins = guest::build_and_stage_bins();
        for (target, scenarios) in stages {
            let label = target.label();
            // A broken image, kernel or build fails the run but still ends in the summary.
            let ready = match &bins {
                Ok(bins) => target.image().map(|image| (image, bins)),
                Err(e) => Err(anyhow::anyhow!("release build failed: {e:#}")),
            };
            let (image, bins) = match ready {
                Ok(ready) => ready,
                Err(e) => {
                    eprintln!("xtask: error: {e:#}");
                    results.push((format!("VM image{label}"), false, String::new()));
                    skipped += scenarios.len();
                    continue;
                }
            };
            for name in scenarios {
                eprintln!("xtask: scenario {name}{label}");
                let started = Instant::now();
                let script = util::scenario_path(&name)?;
                let finished = qemu::run_script(&image, bins, &script, opts.clone(), false)?;
                let detail = format!(
                    "{}, {:.1} s",
                    finished.outcome.describe(),
                    started.elapsed().as_secs_f64()
                );
                if !finished.outcome.passed() {
                    failure_tails.push((format!("{name}{label}"), finished.failure_tail));
                }
                results.push((
                    format!("scenario {name}{label}"),
                    finished.outcome.passed(),
                    detail,
                ));
            }
        }
    }

    let failed = results.iter().filter(|(_, ok, _)| !ok).count();
    println!();
    for (what, ok, detail) in &results {
        let verdict = if *ok { "PASS" } else { "FAIL" };
        if detail.is_empty() {
            println!("{verdict} {what}");
        } else {
            println!("{verdict} {what} ({detail})");
        }
    }
    let skipped_note = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    // After the verdicts, so a log read from its end shows why (a CI log often is).
    for (name, tail) in &failure_tails {
        println!("--- {name}: its FAIL lines, then the last lines of its output ---");
        for line in tail {
            println!("{line}");
        }
    }
    println!(
        "{} passed, {failed} failed{skipped_note}",
        results.len() - failed
    );
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Scenario names (file stems) in `tests/vm/scenarios`, sorted, without the demo.
fn scenario_names() -> Result<Vec<String>> {
    let dir = util::workspace_root().join("tests/vm/scenarios");
    let mut names: Vec<String> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|n| n != DEMO)
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("no scenarios in {}", dir.display());
    }
    Ok(names)
}
