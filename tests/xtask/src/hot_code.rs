//! `cargo xtask hot-code`: teamd's link order, `teamd-compat/teamd/hot-code.order`.
//!
//! teamd runs from the page cache (or tmpfs), where every page fault maps the 64 KiB around
//! it, so an idle teamd keeps resident nearly every text page that holds a function it ever
//! ran, and those functions are spread over all of `.text`. Placing them together shrinks
//! its resident text, and with it RSS and PSS (README, "Link order"). Which functions run
//! is measured, not guessed: tests/bench/guest/hot-code.sh runs teamd under callgrind in
//! the guest, and the order lists the functions each phase ran, first those of start-up to
//! idle (the bench's idle rows), then those that control calls and a failover add, then
//! those of the other runners and watches. teamd's build script hands the file to lld.
//!
//! The names are mangled symbols. They hold across edits of teamd, but every crate's
//! symbols carry a hash of its build settings, which cover the dependencies' features, so
//! they hold for one compiler version, one dependency set and one way of building: the
//! order is made from, and checked against, the workspace build that the guests and the
//! packages use (`guest::release_build`). `cargo build -p teamd` alone unifies features
//! differently, gets other names, and links in the linker's own order. `check_current`
//! (run by `cargo xtask test`) fails when too few of the names are still in the built
//! teamd: a stale order is seen, not silently lost.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::guest;
use crate::qemu::{self, RunOpts};
use crate::util;

/// The order file, relative to the workspace root.
pub const ORDER_FILE: &str = "teamd-compat/teamd/hot-code.order";
/// The callgrind dumps the guest script writes, in the order's phase order.
const PHASES: &[&str] = &["start", "control", "other-"];
/// Below this share of its names found in the built teamd, the order counts as stale.
const CURRENT_SHARE: f64 = 0.9;

pub fn run() -> Result<u8> {
    let image = guest::prepare()?;
    let bins = guest::build_and_stage_bins()?;
    stage_valgrind(&bins.join("vg"))?;
    let out = util::workspace_root().join("target/hot-code");
    util::remove_dir(&out)?;
    let script = util::workspace_root().join("tests/bench/guest/hot-code.sh");
    let opts = RunOpts {
        keep: false,
        timeout: Duration::from_secs(1800),
        results_to: Some(out.clone()),
        boot: None,
        cpus: None,
        icount: None,
    };
    let outcome = qemu::run_script(&image, &bins, &script, opts, true)?.outcome;
    if !outcome.passed() {
        bail!("the profile run failed: {}", outcome.describe());
    }
    let symbols = defined_symbols(&bins.join("teamd"))?;
    let order = order_from_dumps(&out, &symbols)?;
    let path = util::workspace_root().join(ORDER_FILE);
    fs::write(&path, order.join("\n") + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "{}: {} functions; rebuild teamd to link by it",
        path.display(),
        order.len()
    );
    Ok(0)
}

/// Fails when the order no longer names the functions of the built `teamd` (a new
/// compiler or dependency changes the symbols' hashes): `cargo xtask hot-code` renews it.
pub fn check_current(teamd: &Path) -> Result<()> {
    let path = util::workspace_root().join(ORDER_FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("cannot read {ORDER_FILE}"))?;
    let names: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let symbols = defined_symbols(teamd)?;
    let found = names.iter().filter(|n| symbols.contains(**n)).count();
    let share = found as f64 / names.len().max(1) as f64;
    println!(
        "xtask: {ORDER_FILE}: {found} of {} functions are in {}",
        names.len(),
        teamd.display()
    );
    if share < CURRENT_SHARE {
        bail!(
            "{ORDER_FILE} is stale: only {found} of its {} functions are in the built teamd \
             (a new compiler or dependency renames them); run `cargo xtask hot-code`",
            names.len()
        );
    }
    Ok(())
}

/// valgrind (callgrind only) from the host into the guest's staging dir, whose `vg/` the
/// guest script uses.
fn stage_valgrind(dir: &Path) -> Result<()> {
    util::ensure_host_packages(&["valgrind"])?;
    let lib = dir.join("lib");
    fs::create_dir_all(&lib).with_context(|| format!("cannot create {}", lib.display()))?;
    // Debian's valgrind is a shell wrapper that runs valgrind.bin, and its
    // callgrind_control looks for valgrind.bin processes: both go, as installed
    let files = [
        ("/usr/bin/valgrind", dir.join("valgrind")),
        ("/usr/bin/valgrind.bin", dir.join("valgrind.bin")),
        ("/usr/bin/vgdb", dir.join("vgdb")),
        ("/usr/bin/callgrind_control", dir.join("callgrind_control")),
        (
            "/usr/libexec/valgrind/callgrind-amd64-linux",
            lib.join("callgrind-amd64-linux"),
        ),
        (
            "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so",
            lib.join("vgpreload_core-amd64-linux.so"),
        ),
        (
            "/usr/libexec/valgrind/default.supp",
            lib.join("default.supp"),
        ),
    ];
    for (from, to) in &files {
        if *from == "/usr/bin/valgrind.bin" && !Path::new(from).exists() {
            continue; // a valgrind without the wrapper
        }
        fs::copy(from, to).with_context(|| format!("cannot copy {from}"))?;
    }
    Ok(())
}

/// Names of the functions and data defined in an executable's symbol table.
fn defined_symbols(exe: &Path) -> Result<HashSet<String>> {
    let listing = util::output(Command::new("nm").arg("--defined-only").arg(exe))?;
    Ok(listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_string)
        .collect())
}

/// The functions the dumps in `dir` name that `symbols` holds, phase by phase (files whose
/// name starts with each of `PHASES`), each function once, at its first phase.
fn order_from_dumps(dir: &Path, symbols: &HashSet<String>) -> Result<Vec<String>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for phase in PHASES {
        let mut any = false;
        for file in &files {
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.starts_with(phase) {
                continue;
            }
            any = true;
            let text = fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            for f in functions_in_dump(&text) {
                if symbols.contains(f) && seen.insert(f.to_string()) {
                    order.push(f.to_string());
                }
            }
        }
        if !any {
            bail!("no callgrind dump for phase {phase} in {}", dir.display());
        }
    }
    Ok(order)
}

/// Every function a callgrind dump names, as it first names it. A dump compresses names:
/// `fn=(7) name` defines id 7, a later `fn=(7)` or `cfn=(7)` refers to it. A function
/// defined in a `cfn=` line was called, so it ran as well.
fn functions_in_dump(dump: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in dump.lines() {
        let Some(rest) = line
            .strip_prefix("fn=")
            .or_else(|| line.strip_prefix("cfn="))
        else {
            continue;
        };
        let name = match rest.strip_prefix('(') {
            Some(compressed) => match compressed.split_once(") ") {
                Some((_, name)) => name,
                None => continue, // a reference to a name given before
            },
            None => rest,
        };
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_where_a_dump_defines_them() {
        let dump = "ob=(1) /tmp/teamd\nfn=(1) _ZN5teamd4main17h0123456789abcdefE\n\
                    0 12\ncfn=(2) malloc\ncalls=1 0\n0 40\nfn=(1)\n0 3\ncfn=(2)\n\
                    fn=plain_name\n0 1\n";
        assert_eq!(
            functions_in_dump(dump),
            vec!["_ZN5teamd4main17h0123456789abcdefE", "malloc", "plain_name"]
        );
    }

    #[test]
    fn orders_by_phase_each_function_once_and_only_ours() {
        let dir = std::env::temp_dir().join(format!("rteam-hot-code-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("start"), "fn=(1) a\ncfn=(2) malloc\nfn=(3) b\n").unwrap();
        fs::write(dir.join("control"), "fn=(1) b\nfn=(2) c\n").unwrap();
        fs::write(dir.join("other-arp.123"), "fn=(1) d\nfn=(2) a\n").unwrap();
        let symbols: HashSet<String> = ["a", "b", "c", "d"].map(String::from).into();
        let order = order_from_dumps(&dir, &symbols).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    #[test]
    fn a_missing_phase_is_an_error() {
        let dir = std::env::temp_dir().join(format!("rteam-hot-code-m-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("start"), "fn=(1) a\n").unwrap();
        let r = order_from_dumps(&dir, &HashSet::new());
        fs::remove_dir_all(&dir).unwrap();
        assert!(r.is_err());
    }
}
