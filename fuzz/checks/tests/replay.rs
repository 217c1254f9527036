//! Feeds every seed (`fuzz/seeds/<target>/`) and every crash reproducer
//! (`fuzz/regressions/<target>/`), and the test inputs named in `fuzz/extra-seeds`, to
//! its target's check, so `cargo test` catches a
//! regression without libFuzzer.

use std::fs;
use std::path::Path;

#[test]
fn seeds_and_regressions_replay() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let extra_seeds = fs::read_to_string(fuzz.join("extra-seeds")).unwrap();
    let mut seeds_seen = 0;
    for (name, check) in rteam_fuzz_checks::TARGETS {
        let mut inputs = 0;
        let extra = extra_seeds
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
            .filter(|(target, _)| target == name)
            .map(|(_, dir)| fuzz.join("..").join(dir.trim()));
        let dirs = ["seeds", "regressions"].map(|kind| fuzz.join(kind).join(name));
        for dir in dirs.into_iter().chain(extra) {
            let Ok(dir) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in dir {
                let path = entry.unwrap().path();
                let data = fs::read(&path).unwrap();
                let run = std::panic::catch_unwind(|| check(&data));
                assert!(run.is_ok(), "{name}: {} panics", path.display());
                inputs += 1;
            }
        }
        assert!(inputs > 0, "{name}: no seeds in fuzz/seeds/{name}/");
        seeds_seen += inputs;
    }
    eprintln!("replayed {seeds_seen} inputs");
}

#[test]
fn every_target_has_a_file() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, _) in rteam_fuzz_checks::TARGETS {
        let file = fuzz.join("fuzz_targets").join(format!("{name}.rs"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
}
