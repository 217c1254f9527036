//! `cargo xtask test`: the host checks, then each VM scenario in its own boot.

use std::collections::HashMap;
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use anyhow::{bail, Result};

use crate::guest::{self, Driver};
use crate::kernel::{self, Flavor};
use crate::package;
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
    ("networkd-team", Driver::Rust),
    ("networkd-cmdline", Driver::Rust),
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
        let mut jobs: Vec<(Target, String)> = Vec::new();
        match only {
            Some(name) => jobs.push((only_target, name.to_string())),
            None => {
                jobs.extend(scenario_names()?.into_iter().map(|n| (Target::Debian, n)));
                for (name, driver) in RUST_DRIVER_RUNS {
                    jobs.push((Target::Ours(Flavor::Rteam, *driver), name.to_string()));
                }
            }
        }
        // pkg-* scenarios install what `cargo xtask package` makes (and checks: lintian, rpm)
        let wants_packages = jobs.iter().any(|(_, name)| {
            util::scenario_path(name).is_ok_and(|path| qemu::needs_packages(&path))
        });
        if wants_packages {
            eprintln!("xtask: cargo xtask package");
            let started = Instant::now();
            let built = package::build(&package::default_out_dir());
            if let Err(e) = &built {
                eprintln!("xtask: error: {e:#}");
            }
            let took = format!("{:.1} s", started.elapsed().as_secs_f64());
            results.push(("cargo xtask package".into(), built.is_ok(), took));
        }
        let started = Instant::now();
        let outcome = run_jobs(jobs, &opts);
        eprintln!(
            "xtask: VM scenarios took {:.0} s ({} at a time)",
            started.elapsed().as_secs_f64(),
            vm_jobs()
        );
        skipped += outcome.skipped;
        results.extend(outcome.results);
        failure_tails.extend(outcome.failure_tails);
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

/// How many guests run at once: `RTEAM_VM_JOBS`, else 2. Each guest is one qemu TCG process
/// with 2 vCPUs; most scenarios spend much of their time waiting on timers, so two guests
/// share a 2-core machine well.
fn vm_jobs() -> usize {
    std::env::var("RTEAM_VM_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// What the VM part of a run produced, in job order.
#[derive(Default)]
struct JobsOutcome {
    results: Vec<(String, bool, String)>,
    failure_tails: Vec<(String, Vec<String>)>,
    skipped: usize,
}

/// Runs each (target, scenario) in a guest of its own, `vm_jobs()` guests at a time, in list
/// order. Each target's image is made once; our kernel's (a build of 15-25 minutes when not
/// cached) starts at once in a thread of its own, at the lowest CPU priority, while the
/// guests on Debian's kernel run, so the jobs that need it wait only for what is left of it.
/// A job whose image or build failed is reported and counted as skipped.
fn run_jobs(jobs: Vec<(Target, String)>, opts: &RunOpts) -> JobsOutcome {
    let bins = guest::build_and_stage_bins();
    // target label -> its image, or why there is none; made by whoever asks first
    type Made = std::result::Result<Arc<guest::Image>, String>;
    let mut images: HashMap<String, (Target, OnceLock<Made>)> = HashMap::new();
    for (target, _) in &jobs {
        images
            .entry(target.label())
            .or_insert_with(|| (*target, OnceLock::new()));
    }
    let image_for = |target: Target| -> Made {
        let Some((_, cell)) = images.get(&target.label()) else {
            return Err(format!("no image slot for{}", target.label()));
        };
        cell.get_or_init(|| match &bins {
            Ok(_) => target.image().map(Arc::new).map_err(|e| format!("{e:#}")),
            Err(e) => Err(format!("release build failed: {e:#}")),
        })
        .clone()
    };
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, JobResult)>> = Mutex::default();
    std::thread::scope(|scope| {
        for (target, _) in images.values() {
            if matches!(target, Target::Ours(..)) {
                let target = *target;
                scope.spawn(move || image_for(target));
            }
        }
        for _ in 0..vm_jobs().min(jobs.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((target, name)) = jobs.get(i) else {
                    break;
                };
                let result = match (image_for(*target), &bins) {
                    (Ok(image), Ok(bins)) => run_one(&image, bins, *target, name, opts),
                    (Err(why), _) => JobResult::NoImage(why),
                    (_, Err(e)) => JobResult::NoImage(format!("release build failed: {e:#}")),
                };
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, result));
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    let mut outcome = JobsOutcome::default();
    let mut reported_images = Vec::new();
    for (i, result) in done {
        let (target, name) = &jobs[i];
        let label = target.label();
        match result {
            JobResult::Ran {
                passed,
                detail,
                tail,
            } => {
                if !passed {
                    outcome.failure_tails.push((format!("{name}{label}"), tail));
                }
                outcome
                    .results
                    .push((format!("scenario {name}{label}"), passed, detail));
            }
            JobResult::NoImage(why) => {
                outcome.skipped += 1;
                // one line per broken image, not one per scenario
                if !reported_images.contains(&label) {
                    eprintln!("xtask: error: {why}");
                    outcome
                        .results
                        .push((format!("VM image{label}"), false, String::new()));
                    reported_images.push(label);
                }
            }
        }
    }
    outcome
}

/// How one job ended.
enum JobResult {
    Ran {
        passed: bool,
        detail: String,
        tail: Vec<String>,
    },
    NoImage(String),
}

fn run_one(
    image: &guest::Image,
    bins: &std::path::Path,
    target: Target,
    name: &str,
    opts: &RunOpts,
) -> JobResult {
    let label = target.label();
    eprintln!("xtask: scenario {name}{label}");
    let started = Instant::now();
    let finished = util::scenario_path(name)
        .and_then(|script| qemu::run_script(image, bins, &script, opts.clone(), false));
    match finished {
        Ok(finished) => JobResult::Ran {
            passed: finished.outcome.passed(),
            detail: format!(
                "{}, {:.1} s",
                finished.outcome.describe(),
                started.elapsed().as_secs_f64()
            ),
            tail: finished.failure_tail,
        },
        Err(e) => JobResult::Ran {
            passed: false,
            detail: format!("cannot run: {e:#}"),
            tail: Vec::new(),
        },
    }
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
