//! Test helper shared by teamd, teamdctl and teamnl (each includes this file with
//! `#[path]`): the words of a command line that its man page and shell completions must
//! mention, so that neither can drift from the CLI definitions.

use std::path::Path;
use std::process::Command;

use rteam_getopt::Spec;

/// A file of `packaging/` (the man page sources and the completions live there).
pub fn packaging_file(manifest_dir: &str, relative: &str) -> std::path::PathBuf {
    Path::new(manifest_dir)
        .join("../../packaging")
        .join(relative)
}

/// `-x` for each short option and `--name` for each long one, in the Spec's order.
pub fn option_words(spec: &Spec) -> Vec<String> {
    let short = spec
        .short
        .chars()
        .filter(|c| *c != ':')
        .map(|c| format!("-{c}"));
    let long = spec.long.iter().map(|(name, _, _)| format!("--{name}"));
    short.chain(long).collect()
}

/// Characters that continue a word: `--config` is not mentioned by `--config-file`, nor
/// `-h` by `--help`.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether `text` has `word` standing on its own (not as part of a longer word).
pub fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// Panics naming the `words` that `text` (the file `what`) does not mention.
pub fn assert_mentions<S: AsRef<str>>(what: &str, text: &str, words: &[S]) {
    let missing: Vec<&str> = words
        .iter()
        .map(AsRef::as_ref)
        .filter(|w| !mentions(text, w))
        .collect();
    assert!(missing.is_empty(), "{what} does not mention {missing:?}");
}

/// Panics unless the scdoc page `page` has an entry for each option, a line starting
/// `*-x*, *--name*` (`*--name*` for a long-only option; mentioning a word in passing is not documenting it).
pub fn assert_option_entries(what: &str, page: &str, spec: &Spec) {
    let missing: Vec<String> = spec
        .long
        .iter()
        .map(|(name, _, short)| {
            // a long-only option (its letter is not in the short list)
            if spec.short.contains(*short) {
                format!("*-{short}*, *--{name}*")
            } else {
                format!("*--{name}*")
            }
        })
        .filter(|term| !page.lines().any(|l| l.starts_with(term.as_str())))
        .collect();
    assert!(missing.is_empty(), "{what} has no entry {missing:?}");
}

/// Runs the bash completion function `function` of the completion file `file` as bash
/// would for `words` (the command line split into words, the last being the word under the
/// cursor) and returns what it offers, in its order. `ip` and `teamnl` are stubbed: the
/// team devices are team0 and team1, the driver options mode and enabled. None when bash
/// cannot be run.
pub fn bash_complete(file: &Path, function: &str, words: &[&str]) -> Option<Vec<String>> {
    const SCRIPT: &str = r#"
ip() { printf '7: team0: <BROADCAST,MULTICAST> mtu 1500\n9: team1@x: <BROADCAST> mtu 1500\n'; }
teamnl() { printf ' mode activebackup\n*enabled (port:eth1) true\n enabled (port:eth2) false\n'; }
source "$1" || exit 2
COMP_WORDS=("${@:3}")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
"$2"
if ((${#COMPREPLY[@]})); then printf '%s\n' "${COMPREPLY[@]}"; fi
"#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", SCRIPT, "bash"])
        .arg(file)
        .arg(function)
        .args(words)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "bash failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect(),
    )
}

/// `bash -n`: the completion file parses.
pub fn assert_bash_syntax(file: &Path) {
    let Ok(out) = Command::new("bash").arg("-n").arg(file).output() else {
        eprintln!("skipped: bash is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mentions_whole_words_only() {
    assert!(mentions("*-h*, *--help*", "-h"));
    assert!(!mentions("*--help*", "-h"));
    assert!(!mentions("--config-file=FILE", "--config"));
    assert!(mentions("--config-file=FILE", "--config-file"));
    assert!(!mentions("--port_name", "--port"));
    assert!(mentions("{-f+,--config-file=}", "-f"));
}
