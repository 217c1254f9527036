//! `cargo xtask bench`: one guest boot runs tests/bench/guest/bench.sh against C teamd and
//! rteam's teamd; rteam-bench-report then turns its raw files into target/bench/report.md,
//! report.json and the plots. A benchmark reports, it never fails on a number: the exit
//! status only says whether the run itself worked.

use std::fs;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::qemu::{self, RunOpts};
use crate::{guest, util};

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
];

/// The programs the guest script needs from the staging directory.
const NEEDED_BINS: &[&str] = &["teamd", "rteam-bench-monitor", "rteam-bench-ctl"];

pub fn run(quick: bool, mut opts: RunOpts) -> Result<u8> {
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

    let outcome = qemu::run_script(&image, &bins, &script, opts, true)?.outcome;
    if !outcome.passed() {
        bail!("the bench run failed: {}", outcome.describe());
    }
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
