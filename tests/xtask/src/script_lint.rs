//! A check over the project's shell scripts: no pipe into a reader that leaves early.
//!
//! Our guest scripts run with `set -o pipefail`. In `CMD | grep -q PAT`, grep exits at its
//! first match; if CMD writes again after that (ip(8) writes each link on its own), CMD dies of
//! SIGPIPE and the pipeline fails although the line was there. That failed a CI run once
//! (`ip -o link | grep -q 'p0.*master team0'`). lib.sh's `matches` and `first_lines` read to
//! the end instead; this check keeps the early readers out. Lines inside `sh -c` strings are
//! left alone: dash has no pipefail.

/// The (1-based) lines of `script` that pipe into `grep -q`/`-m`/`--quiet`/`--max-count` or
/// into `head`.
pub fn early_readers(script: &str) -> Vec<usize> {
    script
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.trim_start();
            !code.starts_with('#') && !code.contains("sh -c") && pipes_into_early_reader(code)
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn pipes_into_early_reader(line: &str) -> bool {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| {
            // a pipe, not either half of `||`
            bytes[i] == b'|' && bytes.get(i + 1) != Some(&b'|') && (i == 0 || bytes[i - 1] != b'|')
        })
        .any(|i| leaves_early(&line[i + 1..]))
}

/// Whether the command that starts `rest` may exit before reading all its input.
fn leaves_early(rest: &str) -> bool {
    let mut words = rest.split_whitespace();
    match words.next() {
        Some("head") => true,
        Some("grep") => {
            for word in words {
                if word == "--" || !word.starts_with('-') {
                    return false;
                }
                if matches!(word, "--quiet" | "--silent") || word.starts_with("--max-count") {
                    return true;
                }
                if !word.starts_with("--") && word[1..].contains(['q', 'm']) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn finds_the_early_readers() {
        let script = "\
ip -o link | grep -q 'p0.*master team0' || fail x
x=$(teamd_pids a | head -n1)
busctl list | grep -qx name
ip link | grep -Eq '^x' && y
ls | grep -m1 z
a | grep --quiet b
a | grep -c b
a || grep -q b file
ip -o link | matches 'p0'
wait_for sh -c \"ip link | grep -q team0\"
# a comment: x | grep -q y
grep -q pat <<<\"$x\"
a | grep -- -q
";
        assert_eq!(early_readers(script), vec![1, 2, 3, 4, 5, 6]);
    }

    /// Every tracked shell script in the workspace (and the CI entry point) is clean.
    #[test]
    fn project_scripts_read_their_pipes_to_the_end() {
        let root = crate::util::workspace_root();
        let mut scripts = vec![root.join(".ci/run")];
        for dir in [
            "tests",
            "packaging",
            "networkd-gen",
            "nm-plugin",
            "dbus",
            "teamd-compat",
        ] {
            collect_scripts(&root.join(dir), &mut scripts);
        }
        assert!(
            scripts.len() > 30,
            "found only {} scripts: is the walk looking in the right place?",
            scripts.len()
        );
        let mut bad = Vec::new();
        for path in &scripts {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            for line in early_readers(&text) {
                bad.push(format!("{}:{line}", path.display()));
            }
        }
        assert!(
            bad.is_empty(),
            "pipes into grep -q or head (use lib.sh's matches / first_lines): {bad:?}"
        );
    }

    fn collect_scripts(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    collect_scripts(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "sh") {
                out.push(path);
            }
        }
    }
}
