//! `cargo xtask test`: the host checks, then each VM scenario in its own boot.

use std::collections::HashMap;
use std::fs;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

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

/// Unit tests that need root (raw sockets) are `#[ignore]`d, so a run without root shows them
/// as ignored rather than passed; as root (CI), the test step runs them too.
const ROOT_ONLY_TESTS: &[&str] = &["--", "--include-ignored"];

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective user
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The scenario run by `cargo xtask demo`, not by `test`.
const DEMO: &str = "demo";

/// Scenarios that also run on our own kernel with the Rust driver (`team_rs.ko`), and the
/// driver each loads (`None`: the script loads C and Rust drivers itself). Names are looked
/// up in tests/vm/scenarios, then tests/vm/kmod.
const RUST_DRIVER_RUNS: &[(&str, Driver)] = &[
    ("team-rs-compat", Driver::None),
    // the longest first, so it does not leave the other guest slot idle at the end
    ("lacp-select", Driver::Rust),
    ("teamnl-compat", Driver::Rust),
    ("teamd-failover", Driver::Rust),
    ("teamd-ctl", Driver::Rust),
    ("teamd-config", Driver::Rust),
    ("nm-team", Driver::Rust),
    ("networkd-team", Driver::Rust),
    ("networkd-cmdline", Driver::Rust),
    ("nm-restart", Driver::Rust),
    ("dbus-compat", Driver::Rust),
    ("teamd-reload", Driver::Rust),
    ("teamd-nsna", Driver::Rust),
    ("lb-hash-compat", Driver::Rust),
    ("lacp-state", Driver::Rust),
    ("lacp-interop-bond", Driver::Rust),
    ("lacp-interop-teamd", Driver::Rust),
    ("teamd-arp", Driver::Rust),
    ("teamd-restart", Driver::Rust),
    ("teamdctl-compat", Driver::Rust),
    ("nm-libteamdctl", Driver::Rust),
    ("teamd-bond-backend", Driver::Rust),
    ("smoke", Driver::Rust),
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
}

/// One flavor of our kernel, built at most once per run. A full run starts the build before
/// the host checks, in a thread of its own (its `make` is niced, see kernel.rs), so it uses
/// the CPU that the checks and the guests on Debian's kernel leave idle.
struct KernelSlot {
    flavor: Flavor,
    started: Mutex<Option<JoinHandle<Result<kernel::Kernel>>>>,
    made: OnceLock<std::result::Result<Arc<kernel::Kernel>, String>>,
}

impl KernelSlot {
    fn new(flavor: Flavor, started: Option<JoinHandle<Result<kernel::Kernel>>>) -> KernelSlot {
        KernelSlot {
            flavor,
            started: Mutex::new(started),
            made: OnceLock::new(),
        }
    }

    fn start(flavor: Flavor) -> KernelSlot {
        KernelSlot::new(
            flavor,
            Some(std::thread::spawn(move || kernel::prepare(flavor))),
        )
    }

    /// The kernel, waiting for its build; an error says why there is none.
    fn get(&self) -> std::result::Result<Arc<kernel::Kernel>, String> {
        self.made
            .get_or_init(|| {
                let started = self
                    .started
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                let built = match started {
                    Some(handle) => handle
                        .join()
                        .map_err(|_| {
                            anyhow!("the {} kernel build thread panicked", self.flavor.name())
                        })
                        .and_then(|built| built),
                    None => kernel::prepare(self.flavor),
                };
                built.map(Arc::new).map_err(|e| format!("{e:#}"))
            })
            .clone()
    }

    fn is_ready(&self) -> bool {
        self.made.get().is_some()
    }
}

/// fmt, clippy and unit tests, then every scenario on Debian's kernel, then the Rust-driver
/// runs on our kernel. With `only`, just that scenario on `only_target`.
pub fn test_all(no_vm: bool, only: Option<&str>, only_target: Target, opts: RunOpts) -> Result<u8> {
    // (what, passed, detail)
    let mut results: Vec<(String, bool, String)> = Vec::new();
    // The full suite's team_rs.ko runs need our kernel: start it now, beside the checks.
    let early_kernel = (only.is_none() && !no_vm).then(|| KernelSlot::start(Flavor::Rteam));
    if only.is_none() {
        for (name, args) in CHECKS {
            let mut args = args.to_vec();
            if *name == "test" {
                if running_as_root() {
                    args.extend(ROOT_ONLY_TESTS);
                } else {
                    eprintln!("xtask: not root: the root-only unit tests are left out");
                }
            }
            eprintln!("xtask: cargo {}", args.join(" "));
            let started = Instant::now();
            let passed = util::run(util::cargo().args(&args)).is_ok();
            let took = format!("{:.1} s", started.elapsed().as_secs_f64());
            results.push((format!("cargo {name}"), passed, took));
        }
    }
    if only.is_none() && !no_vm {
        // the link order must still name teamd's functions (hot_code.rs)
        let started = Instant::now();
        let checked = guest::release_build().and_then(|built| {
            let teamd = built
                .executables
                .iter()
                .find(|e| e.file_name().is_some_and(|n| n == "teamd"))
                .context("the release build has no teamd")?;
            crate::hot_code::check_current(teamd)
        });
        if let Err(e) = &checked {
            eprintln!("xtask: {e:#}");
        }
        let took = format!("{:.1} s", started.elapsed().as_secs_f64());
        results.push((
            "teamd link order is current".to_string(),
            checked.is_ok(),
            took,
        ));
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
        let started = Instant::now();
        let outcome = run_jobs(jobs, early_kernel, &opts);
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

/// vCPUs per guest when `vm_jobs()` guests run at once: the host's cores shared out, at least
/// one. Each vCPU is a host thread under TCG; with more vCPUs than cores, a guest kernel
/// waiting on a preempted vCPU (a lock holder, a TLB shootdown) burns whole host time
/// slices. Measured on 2 cores, teamd-ctl in two guests side by side: the one with 1 vCPU
/// took 155 s, the one with 2 took 301 s.
fn cpus_per_guest() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / vm_jobs()).max(1)
}

/// What the VM part of a run produced, in job order.
#[derive(Default)]
struct JobsOutcome {
    results: Vec<(String, bool, String)>,
    failure_tails: Vec<(String, Vec<String>)>,
    skipped: usize,
}

/// Runs each (target, scenario) in a guest of its own, `vm_jobs()` guests at a time. Each
/// target's image is made once; our kernel (a build of 15-25 minutes when not cached) is
/// built in a thread of its own, at the lowest CPU priority, while the guests on Debian's
/// kernel run. A free guest slot takes the first job in list order whose image can be had
/// without waiting for that build, and only waits for it when nothing else is left.
/// A job whose image or build failed is reported and counted as skipped.
fn run_jobs(
    jobs: Vec<(Target, String)>,
    early_kernel: Option<KernelSlot>,
    opts: &RunOpts,
) -> JobsOutcome {
    let bins = guest::build_and_stage_bins();
    // pkg-* scenarios (`# vm-needs: packages`) install what `cargo xtask package` makes
    // and checks (lintian, rpm); it is built beside the first guests, once the binaries are.
    let needs_packages: Vec<bool> = jobs
        .iter()
        .map(|(_, name)| util::scenario_path(name).is_ok_and(|path| qemu::needs_packages(&path)))
        .collect();
    // the build's outcome and how long it took
    let packages: OnceLock<(std::result::Result<(), String>, f64)> = OnceLock::new();
    let packages_built = || {
        packages
            .get_or_init(|| {
                eprintln!("xtask: cargo xtask package");
                let started = Instant::now();
                let built = match &bins {
                    Ok(_) => package::build(&package::default_out_dir())
                        .map(|_| ())
                        .map_err(|e| format!("{e:#}")),
                    Err(e) => Err(format!("release build failed: {e:#}")),
                };
                if let Err(e) = &built {
                    eprintln!("xtask: error: {e}");
                }
                (built, started.elapsed().as_secs_f64())
            })
            .0
            .clone()
    };
    let opts = &RunOpts {
        cpus: Some(cpus_per_guest()),
        ..opts.clone()
    };
    // flavor name -> its kernel; the one started early is reused
    let mut kernels: HashMap<&'static str, KernelSlot> = HashMap::new();
    if let Some(slot) = early_kernel {
        kernels.insert(slot.flavor.name(), slot);
    }
    for (target, _) in &jobs {
        if let Target::Ours(flavor, _) = target {
            kernels
                .entry(flavor.name())
                .or_insert_with(|| KernelSlot::new(*flavor, None));
        }
    }
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
        cell.get_or_init(|| {
            if let Err(e) = &bins {
                return Err(format!("release build failed: {e:#}"));
            }
            let made = match target {
                Target::Debian => guest::prepare(),
                Target::Ours(flavor, driver) => {
                    let Some(slot) = kernels.get(flavor.name()) else {
                        return Err(format!("no kernel slot for {}", flavor.name()));
                    };
                    let kernel = slot.get()?;
                    guest::prepare_on(&kernel, driver)
                }
            };
            made.map(Arc::new).map_err(|e| format!("{e:#}"))
        })
        .clone()
    };
    // A job is ready when what it needs (our kernel, the packages) is built.
    let ready = |i: usize| {
        let kernel_ready = match &jobs[i].0 {
            Target::Debian => true,
            Target::Ours(flavor, _) => kernels.get(flavor.name()).is_none_or(KernelSlot::is_ready),
        };
        kernel_ready && (!needs_packages[i] || packages.get().is_some())
    };
    let claimed = Mutex::new(vec![false; jobs.len()]);
    let claim_next = || -> Option<usize> {
        let mut claimed = claimed.lock().unwrap_or_else(|e| e.into_inner());
        let free = |i: &usize| !claimed[*i];
        let i = (0..jobs.len())
            .filter(free)
            .find(|i| ready(*i))
            .or_else(|| (0..jobs.len()).find(free))?;
        claimed[i] = true;
        Some(i)
    };
    let done: Mutex<Vec<(usize, JobResult)>> = Mutex::default();
    std::thread::scope(|scope| {
        for (target, _) in images.values() {
            if matches!(target, Target::Ours(..)) {
                let target = *target;
                scope.spawn(move || image_for(target));
            }
        }
        if needs_packages.contains(&true) {
            scope.spawn(packages_built);
        }
        for _ in 0..vm_jobs().min(jobs.len()) {
            scope.spawn(|| {
                while let Some(i) = claim_next() {
                    let (target, name) = &jobs[i];
                    if needs_packages[i] && packages_built().is_err() {
                        done.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((i, JobResult::NoPackages));
                        continue;
                    }
                    let result = match (image_for(*target), &bins) {
                        (Ok(image), Ok(bins)) => run_one(&image, bins, *target, name, opts),
                        (Err(why), _) => JobResult::NoImage(why),
                        (_, Err(e)) => JobResult::NoImage(format!("release build failed: {e:#}")),
                    };
                    done.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, result));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    let mut outcome = JobsOutcome::default();
    if let Some((built, took)) = packages.get() {
        outcome.results.push((
            "cargo xtask package".into(),
            built.is_ok(),
            format!("{took:.1} s"),
        ));
    }
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
            JobResult::NoPackages => outcome.skipped += 1,
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
    /// The package build it needs failed (that build's line says why).
    NoPackages,
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
