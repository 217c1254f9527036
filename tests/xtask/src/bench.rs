//! `cargo xtask bench`: one guest boot runs tests/bench/guest/bench.sh against C teamd and
//! rteam's teamd; rteam-bench-report then turns its raw files into target/bench/report.md,
//! report.json and the plots. A benchmark reports, it never fails on a number: the exit
//! status only says whether the run itself worked.

use std::fs;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::guest::{self, Driver};
use crate::kernel::{self, Flavor};
use crate::qemu::{self, RunOpts};
use crate::util;

/// Sizes of a full run (the issue's) and of `--quick` (development on a shared machine).
const FULL: &[(&str, &str)] = &[
    ("BENCH_MODE", "full"),
    ("BENCH_REPS", "20"),
    ("BENCH_CALLS", "1000"),
    ("BENCH_LEAK_CALLS", "10000"),
    ("BENCH_FLAPS", "1000"),
    ("BENCH_MANY_PORTS", "32"),
    ("BENCH_BIG_PORTS", "64"),
    ("BENCH_TEAMS", "50"),
    ("BENCH_IDLE_SECS", "60"),
    ("BENCH_NM_REPS", "5"),
];
const QUICK: &[(&str, &str)] = &[
    ("BENCH_MODE", "quick"),
    ("BENCH_REPS", "3"),
    ("BENCH_CALLS", "200"),
    ("BENCH_LEAK_CALLS", "1000"),
    ("BENCH_FLAPS", "100"),
    ("BENCH_MANY_PORTS", "8"),
    ("BENCH_BIG_PORTS", "16"),
    ("BENCH_TEAMS", "5"),
    ("BENCH_IDLE_SECS", "5"),
    ("BENCH_NM_REPS", "1"),
];

/// Sizes of the driver section (9): runs per driver and mode, seconds per run.
const KMOD_FULL: &[(&str, &str)] = &[("BENCH_KMOD_REPS", "5"), ("BENCH_KMOD_SECS", "4")];
const KMOD_QUICK: &[(&str, &str)] = &[("BENCH_KMOD_REPS", "2"), ("BENCH_KMOD_SECS", "2")];
/// The same on instruction-counted time (`--kmod-icount`), where runs repeat closely.
const KMOD_ICOUNT: &[(&str, &str)] = &[("BENCH_KMOD_REPS", "2"), ("BENCH_KMOD_SECS", "3")];
/// Seconds a section 9 boot may take on instruction-counted time (one-thread TCG).
const KMOD_ICOUNT_TIMEOUT: u64 = 3600;

/// The programs the guest script needs from the staging directory.
const NEEDED_BINS: &[&str] = &["teamd", "rteam-bench-monitor", "rteam-bench-ctl"];

pub fn run(quick: bool, kmod_icount: Option<u32>, mut opts: RunOpts) -> Result<u8> {
    let image = guest::prepare()?;
    let bins = guest::build_and_stage_bins()?;
    for b in NEEDED_BINS.iter().chain(&["rteam-bench-report"]) {
        if !bins.join(b).is_file() {
            bail!("{b} was not built and staged");
        }
    }
    let out = util::workspace_root().join("target/bench");
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    // The job script only sets the sizes; the bench itself is read from the checkout
    // (mounted at /opt/rteam/src), so the guest runs this tree's version.
    let mut wrapper = String::from("#!/bin/bash\n");
    for (k, v) in if quick { QUICK } else { FULL } {
        wrapper.push_str(&format!("export {k}={v}\n"));
    }
    wrapper.push_str("exec bash /opt/rteam/src/tests/bench/guest/bench.sh\n");
    let script = out.join("bench.sh");
    fs::write(&script, wrapper)?;
    let raw = out.join("raw");
    opts.results_to = Some(raw.clone());

    let outcome = qemu::run_script(&image, &bins, &script, opts.clone(), true)?.outcome;
    if !outcome.passed() {
        bail!("the bench run failed: {}", outcome.describe());
    }
    kmod_bench(quick, kmod_icount, &bins, &out, &raw, opts)?;
    let mode = if quick { "quick" } else { "full" };
    fs::write(
        raw.join("meta.txt"),
        fs::read_to_string(raw.join("meta.txt"))? + &format!("mode {mode}\n"),
    )?;
    util::run(
        Command::new(bins.join("rteam-bench-report"))
            .arg(&raw)
            .arg(&out),
    )?;
    eprintln!("xtask: bench report in {}", out.join("report.md").display());
    print!("{}", fs::read_to_string(out.join("table.md"))?);
    Ok(0)
}

/// Section 9, the drivers: a second boot on our kernel (built first if needed) with no team
/// driver loaded; tests/bench/guest/kmod-bench.sh loads team.ko, then team_rs.ko. Its
/// samples, notes and meta lines join the main run's raw files. A kernel that cannot be
/// built or a failed boot leaves a note on those rows rather than failing the bench.
fn kmod_bench(
    quick: bool,
    icount: Option<u32>,
    bins: &std::path::Path,
    out: &std::path::Path,
    raw: &std::path::Path,
    mut opts: RunOpts,
) -> Result<()> {
    let why_not =
        match kernel::prepare(Flavor::Rteam).and_then(|k| guest::prepare_on(&k, Driver::None)) {
            Err(e) => {
                eprintln!("xtask: bench: no driver section: {e:#}");
                Some(format!("our kernel could not be built: {e}"))
            }
            Ok(image) => {
                let mut wrapper = String::from("#!/bin/bash\n");
                let sizes = match (icount, quick) {
                    (Some(_), _) => KMOD_ICOUNT,
                    (None, true) => KMOD_QUICK,
                    (None, false) => KMOD_FULL,
                };
                for (k, v) in sizes {
                    wrapper.push_str(&format!("export {k}={v}\n"));
                }
                if let Some(shift) = icount {
                    // the report says which clock the figures were taken on
                    wrapper.push_str(&format!("export BENCH_KMOD_ICOUNT={shift}\n"));
                    opts.icount = Some(shift);
                    opts.timeout = opts
                        .timeout
                        .max(std::time::Duration::from_secs(KMOD_ICOUNT_TIMEOUT));
                }
                wrapper.push_str("exec bash /opt/rteam/src/tests/bench/guest/kmod-bench.sh\n");
                let script = out.join("kmod-bench.sh");
                fs::write(&script, wrapper)?;
                let kmod_raw = out.join("raw-kmod");
                opts.results_to = Some(kmod_raw.clone());
                let outcome = qemu::run_script(&image, bins, &script, opts, true)?.outcome;
                if outcome.passed() {
                    merge_raw(&kmod_raw, raw)?;
                    None
                } else {
                    Some(format!("the driver boot failed: {}", outcome.describe()))
                }
            }
        };
    if let Some(why) = why_not {
        let mut notes = fs::read_to_string(raw.join("notes.txt")).unwrap_or_default();
        for mode in ["roundrobin", "activebackup", "loadbalance"] {
            for imp in ["C", "rteam"] {
                notes.push_str(&format!("kmod_{mode} {imp} {}\n", why.replace('\n', " ")));
            }
        }
        fs::write(raw.join("notes.txt"), notes)?;
    }
    Ok(())
}

/// Append the driver boot's raw files to the main run's.
fn merge_raw(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    for file in ["notes.txt", "meta.txt"] {
        let add = fs::read_to_string(from.join(file)).unwrap_or_default();
        let have = fs::read_to_string(to.join(file)).unwrap_or_default();
        fs::write(to.join(file), have + &add)?;
    }
    // samples/: the figures; offloads/: the drivers' settings shown side by side
    for dir in ["samples", "offloads"] {
        if let Ok(entries) = fs::read_dir(from.join(dir)) {
            fs::create_dir_all(to.join(dir))?;
            for entry in entries {
                let path = entry?.path();
                if let Some(name) = path.file_name() {
                    fs::copy(&path, to.join(dir).join(name))?;
                }
            }
        }
    }
    Ok(())
}
