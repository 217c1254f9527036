//! `cargo xtask fuzz [--seconds N] [TARGET]`: builds the libFuzzer targets of `fuzz/`
//! and runs each (or one) for N seconds, one after the other, then prints a table of
//! executions and coverage per target; fails when a target crashed, hung or ran out
//! of memory, naming the input libFuzzer saved.
//!
//! Stable Rust only: no cargo-fuzz and no `-Z` flag. SanitizerCoverage is switched on
//! by hand with the flags cargo-fuzz passes for `--sanitizer none` (`COVERAGE_FLAGS`);
//! libfuzzer-sys builds libFuzzer itself from C++ (g++). `--target` is given so the
//! flags reach the targets and their dependencies, not build scripts or proc macros.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::util;

/// rustc flags that instrument every crate of a target for libFuzzer.
const COVERAGE_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

/// What one run of one target gave.
struct Outcome {
    target: String,
    execs: Option<u64>,
    exec_per_sec: Option<u64>,
    seed_cov: Option<u64>,
    cov: Option<u64>,
    ft: Option<u64>,
    corpus: Option<u64>,
    /// `None` when the target ran its time out; else what went wrong.
    failure: Option<String>,
    /// The input libFuzzer saved for the failure.
    artifact: Option<String>,
    log: PathBuf,
}

pub fn run(seconds: u64, only: Option<&str>) -> Result<u8> {
    let root = util::workspace_root();
    let fuzz_dir = root.join("fuzz");
    let mut targets = list_targets(&fuzz_dir)?;
    if let Some(name) = only {
        anyhow::ensure!(
            targets.iter().any(|t| t == name),
            "no fuzz target {name}; there are: {}",
            targets.join(", ")
        );
        targets = vec![name.to_string()];
    }
    let work = root.join("target/fuzz");
    let bins = build(&fuzz_dir, &work, &targets)?;
    let mut outcomes = Vec::new();
    for target in &targets {
        eprintln!("xtask: fuzzing {target} for {seconds} s");
        outcomes.push(run_one(&root, &work, &bins, target, seconds)?);
    }
    print_table(&outcomes);
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    for o in &failed {
        eprintln!(
            "xtask: {}: {}; input: {}; log: {}",
            o.target,
            o.failure.as_deref().unwrap_or_default(),
            o.artifact.as_deref().unwrap_or("(none saved)"),
            o.log.display()
        );
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        eprintln!(
            "xtask: fix the parser, then copy each input to fuzz/regressions/<target>/ \
             (replayed by `cargo test -p rteam-fuzz-checks`)"
        );
        Ok(1)
    }
}

/// The targets: one file each in `fuzz/fuzz_targets/`.
fn list_targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    anyhow::ensure!(!names.is_empty(), "no fuzz targets in {}", dir.display());
    Ok(names)
}

/// Builds the targets (release, instrumented) and returns their directory.
fn build(fuzz_dir: &Path, work: &Path, targets: &[String]) -> Result<PathBuf> {
    let host = host_triple()?;
    // The workspace's versions: start from its lock file (cargo adds libFuzzer's).
    let lock = fuzz_dir.join("Cargo.lock");
    fs::copy(fuzz_dir.join("../Cargo.lock"), &lock)
        .with_context(|| format!("writing {}", lock.display()))?;
    let mut cmd = Command::new(util::cargo_program());
    cmd.current_dir(fuzz_dir)
        .args(["build", "--release", "--target", &host])
        .arg("--target-dir")
        .arg(work)
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", COVERAGE_FLAGS.join("\x1f"));
    for t in targets {
        cmd.args(["--bin", t]);
    }
    util::run(&mut cmd)?;
    Ok(work.join(host).join("release"))
}

fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = util::output(Command::new(rustc).arg("-vV"))?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .context("rustc -vV names no host")
}

fn run_one(root: &Path, work: &Path, bins: &Path, target: &str, seconds: u64) -> Result<Outcome> {
    // libFuzzer adds what it finds to the first directory only: ours, under target/.
    let corpus = work.join("corpus").join(target);
    let artifacts = work.join("artifacts").join(target);
    let logs = work.join("logs");
    for dir in [&corpus, &artifacts, &logs] {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let log = logs.join(format!("{target}.log"));
    let mut cmd = Command::new(bins.join(target));
    cmd.arg(&corpus)
        .arg(root.join("fuzz/seeds").join(target))
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    let regressions = root.join("fuzz/regressions").join(target);
    let extra = fs::read_to_string(root.join("fuzz/extra-seeds")).unwrap_or_default();
    let extra = extra
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(t, _)| *t == target)
        .map(|(_, dir)| root.join(dir.trim()))
        .chain([regressions]);
    for dir in extra.filter(|d| d.is_dir()) {
        cmd.arg(dir);
    }
    let started = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log)?)
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let text = fs::read_to_string(&log).unwrap_or_default();
    let mut o = parse_log(target, &text, log);
    if !status.success() && o.failure.is_none() {
        o.failure = Some(format!("exited with {status}"));
    }
    eprintln!(
        "xtask: {target}: {} after {} s",
        o.failure.as_deref().unwrap_or("ok"),
        started.elapsed().as_secs()
    );
    Ok(o)
}

/// Reads libFuzzer's output: the status lines (`#N INITED cov: X ft: Y corp: C/...`),
/// the final stats and, on failure, the saved input.
fn parse_log(target: &str, text: &str, log: PathBuf) -> Outcome {
    let mut o = Outcome {
        target: target.to_string(),
        execs: None,
        exec_per_sec: None,
        seed_cov: None,
        cov: None,
        ft: None,
        corpus: None,
        failure: None,
        artifact: None,
        log,
    };
    for line in text.lines() {
        if line.starts_with('#') && line.contains(" cov: ") {
            let field = |name: &str| -> Option<u64> {
                let rest = line.split(&format!(" {name}: ")).nth(1)?;
                let word = rest.split([' ', '/']).next()?;
                word.parse().ok()
            };
            if line.contains("INITED") {
                o.seed_cov = field("cov");
            }
            o.cov = field("cov").or(o.cov);
            o.ft = field("ft").or(o.ft);
            o.corpus = field("corp").or(o.corpus);
            o.exec_per_sec = field("exec/s").or(o.exec_per_sec);
        } else if let Some(v) = line.strip_prefix("stat::number_of_executed_units: ") {
            o.execs = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec: ") {
            o.exec_per_sec = v.trim().parse().ok();
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            o.artifact = Some(path.trim().to_string());
        } else if o.failure.is_none() {
            if let Some((_, what)) = line.split_once("ERROR: libFuzzer: ") {
                o.failure = Some(what.trim().to_string());
            } else if line.contains("panicked at") {
                o.failure = Some(line.trim().to_string());
            }
        }
    }
    o
}

fn print_table(outcomes: &[Outcome]) {
    let show = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    println!(
        "| target | result | execs | exec/s | cov (seeds) | cov | ft | corpus |\n\
         |---|---|---:|---:|---:|---:|---:|---:|"
    );
    for o in outcomes {
        let result = match (&o.failure, &o.artifact) {
            (None, _) => "ok".to_string(),
            (Some(f), Some(a)) => format!("FAILED: {f} ({a})"),
            (Some(f), None) => format!("FAILED: {f}"),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            o.target,
            result,
            show(o.execs),
            show(o.exec_per_sec),
            show(o.seed_cov),
            show(o.cov),
            show(o.ft),
            show(o.corpus)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_clean_run() {
        let log = "INFO: seed corpus: files: 3 min: 18b max: 124b total: 300b rss: 30Mb\n\
                   #4\tINITED cov: 120 ft: 150 corp: 3/300b exec/s: 0 rss: 31Mb\n\
                   #1024\tNEW    cov: 130 ft: 170 corp: 9/1Kb lim: 130 exec/s: 0 rss: 32Mb L: 5/124 MS: 1 ChangeBit-\n\
                   #200000\tDONE   cov: 140 ft: 190 corp: 12/2Kb lim: 4096 exec/s: 3333 rss: 40Mb\n\
                   Done 200000 runs in 61 second(s)\n\
                   stat::number_of_executed_units: 200000\n\
                   stat::average_exec_per_sec:     3278\n";
        let o = parse_log("lacpdu", log, PathBuf::from("x.log"));
        assert_eq!(o.execs, Some(200000));
        assert_eq!(o.exec_per_sec, Some(3278));
        assert_eq!(
            (o.seed_cov, o.cov, o.ft, o.corpus),
            (Some(120), Some(140), Some(190), Some(12))
        );
        assert!(o.failure.is_none());
    }

    #[test]
    fn reads_a_crash() {
        let log = "#4\tINITED cov: 120 ft: 150 corp: 3/300b exec/s: 0 rss: 31Mb\n\
                   thread '<unnamed>' panicked at src/lib.rs:5:9:\nindex out of bounds\n\
                   ==77== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='/t/artifacts/lacpdu/'; Test unit written to /t/artifacts/lacpdu/crash-ab12\n\
                   stat::number_of_executed_units: 5012\n";
        let o = parse_log("lacpdu", log, PathBuf::from("x.log"));
        assert_eq!(
            o.failure.as_deref(),
            Some("thread '<unnamed>' panicked at src/lib.rs:5:9:")
        );
        assert_eq!(
            o.artifact.as_deref(),
            Some("/t/artifacts/lacpdu/crash-ab12")
        );
        assert_eq!(o.execs, Some(5012));
    }
}
