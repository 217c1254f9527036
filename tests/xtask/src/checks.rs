//! `cargo xtask test`: the host checks, then each VM scenario in its own boot.

use std::fs;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::qemu::{self, RunOpts};
use crate::{guest, util};

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

pub fn test_all(no_vm: bool, only: Option<&str>, opts: RunOpts) -> Result<u8> {
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
    // (scenario, last lines of its output) for each failed scenario
    let mut failure_tails: Vec<(String, Vec<String>)> = Vec::new();
    if !no_vm {
        let scenarios = scenario_names(only)?;
        // A broken image or build fails the run but still ends in the summary below.
        match guest::prepare().and_then(|image| Ok((image, guest::build_and_stage_bins()?))) {
            Err(e) => {
                eprintln!("xtask: error: {e:#}");
                results.push(("VM image and release build".into(), false, String::new()));
                skipped = scenarios.len();
            }
            Ok((image, bins)) => {
                for name in scenarios {
                    eprintln!("xtask: scenario {name}");
                    let started = Instant::now();
                    let script = util::scenario_path(&name)?;
                    let finished = qemu::run_script(&image, &bins, &script, opts.clone(), false)?;
                    let detail = format!(
                        "{}, {:.1} s",
                        finished.outcome.describe(),
                        started.elapsed().as_secs_f64()
                    );
                    if !finished.outcome.passed() {
                        failure_tails.push((name.clone(), finished.failure_tail));
                    }
                    results.push((
                        format!("scenario {name}"),
                        finished.outcome.passed(),
                        detail,
                    ));
                }
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
        println!("--- {name}: last lines of its output ---");
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
fn scenario_names(only: Option<&str>) -> Result<Vec<String>> {
    if let Some(name) = only {
        util::scenario_path(name)?;
        return Ok(vec![name.to_string()]);
    }
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
