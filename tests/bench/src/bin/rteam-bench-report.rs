//! `rteam-bench-report RESULTS OUT`: reads what the guest wrote to RESULTS (see
//! tests/bench/guest/bench.sh) and writes OUT/report.md, OUT/report.json, OUT/table.md and
//! a PNG per latency figure. Runs on the host after the VM.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rteam_bench::event::parse_log;
use rteam_bench::plot;
use rteam_bench::report::{self, Cell, Inputs, IMPLS};

fn main() -> std::process::ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [results, out] = args.as_slice() else {
        eprintln!("usage: rteam-bench-report RESULTS_DIR OUT_DIR");
        return std::process::ExitCode::from(2);
    };
    match run(results, out) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rteam-bench-report: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `KEY.IMPL.EXT` → (KEY, IMPL)
fn key_impl(path: &Path) -> Option<(String, String)> {
    let stem = path.file_stem()?.to_str()?;
    let (key, imp) = stem.rsplit_once('.')?;
    Some((key.to_string(), imp.to_string()))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Lines `A B REST` of a file (missing file: none).
fn triples(path: &Path) -> Vec<(String, String, String)> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            Some((
                it.next()?.to_string(),
                it.next()?.to_string(),
                it.next().unwrap_or("").trim().to_string(),
            ))
        })
        .collect()
}

fn read_inputs(results: &Path) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    for f in files(&results.join("events")) {
        if let Some(k) = key_impl(&f) {
            let (ev, bad) = parse_log(&fs::read_to_string(&f)?);
            if bad > 0 {
                eprintln!(
                    "rteam-bench-report: {}: {bad} bad lines skipped",
                    f.display()
                );
            }
            inputs.events.insert(k, ev);
        }
    }
    for f in files(&results.join("samples")) {
        if let Some(k) = key_impl(&f) {
            let s = fs::read_to_string(&f)?
                .lines()
                .filter_map(|l| l.trim().parse::<f64>().ok())
                .collect();
            inputs.samples.insert(k, s);
        }
    }
    // section 9's device settings: offloads/KIND.DRIVER.txt
    for f in files(&results.join("offloads")) {
        if let Some(k) = key_impl(&f) {
            inputs.offloads.insert(k, fs::read_to_string(&f)?);
        }
    }
    for (k, imp, v) in triples(&results.join("values.txt")) {
        if let Ok(v) = v.parse::<f64>() {
            inputs.values.insert((k, imp), v);
        }
    }
    for (k, imp, why) in triples(&results.join("notes.txt")) {
        // the first reason given for a figure is the one that counts
        inputs.notes.entry((k, imp)).or_insert(why);
    }
    inputs.meta = fs::read_to_string(results.join("meta.txt"))
        .with_context(|| format!("no meta.txt in {}", results.display()))?
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    Ok(inputs)
}

fn run(results: &Path, out: &Path) -> Result<()> {
    let inputs = read_inputs(results)?;
    let rows = report::build(&inputs);
    fs::create_dir_all(out)?;
    let mut plots = Vec::new();
    for r in &rows {
        let samples: Vec<&[f64]> = r
            .cells
            .iter()
            .map(|c| match c {
                Cell::Dist { samples, .. } => samples.as_slice(),
                _ => &[],
            })
            .collect();
        if samples.iter().all(|s| s.is_empty()) {
            continue;
        }
        let file = format!("{}.png", r.key);
        let (max, step) = plot::cdf_png(&out.join(&file), samples[0], samples[1])
            .map_err(|e| anyhow::anyhow!("plot {file}: {e}"))?;
        let who: Vec<&str> = IMPLS
            .iter()
            .zip(&samples)
            .filter(|(_, s)| !s.is_empty())
            .map(|((_, name), _)| *name)
            .collect();
        plots.push((
            file,
            format!(
                "{} ({}); x 0–{} {}, grid every {} {}",
                r.title,
                who.join(" and "),
                report::num(max),
                r.unit.label(),
                report::num(step),
                r.unit.label()
            ),
        ));
    }
    fs::write(
        out.join("report.md"),
        report::render_md(&rows, &inputs, &plots),
    )?;
    fs::write(out.join("table.md"), report::table_md(&rows, &inputs))?;
    fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report::to_json(&rows, &inputs))? + "\n",
    )?;
    Ok(())
}
