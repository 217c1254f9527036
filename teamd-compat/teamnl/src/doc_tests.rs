//! Keeps teamnl(8) and the shell completions in step with the code: every option and
//! command is in the page and both completions.

#[path = "../../doc_check.rs"]
mod doc_check;

use doc_check::{
    assert_bash_syntax, assert_mentions, bash_complete, mentions, option_words, packaging_file,
};

const PAGE: &str = include_str!("../../../packaging/man/teamnl.8.scd");
const BASH: &str = include_str!("../../../packaging/completions/bash/teamnl");
const ZSH: &str = include_str!("../../../packaging/completions/zsh/_teamnl");

fn command_names() -> Vec<&'static str> {
    crate::COMMANDS.iter().map(|(name, _)| *name).collect()
}

#[test]
fn every_option_and_command_is_in_the_page_and_the_completions() {
    let options = option_words(&crate::OPTIONS);
    let commands = command_names();
    assert_mentions("teamnl.8.scd", PAGE, &options);
    assert_mentions("teamnl.8.scd", PAGE, &commands);
    doc_check::assert_option_entries("teamnl.8.scd", PAGE, &crate::OPTIONS);
    for name in &commands {
        let term = format!("*{name}*");
        assert!(
            PAGE.lines().any(|l| l.starts_with(&term)),
            "teamnl.8.scd has no entry for {name}"
        );
    }
    for (name, params) in crate::COMMANDS {
        for param in params {
            assert!(
                mentions(PAGE, param) || PAGE.contains(&format!("_{param}_")),
                "teamnl.8.scd does not mention {param} of {name}"
            );
        }
    }
    for (what, text) in [("bash completion", BASH), ("zsh completion", ZSH)] {
        assert_mentions(&format!("{what} of teamnl"), text, &options);
        assert_mentions(&format!("{what} of teamnl"), text, &commands);
        // a prefix picks the first command that matches: the order matters too
        let in_order = commands.join(" ");
        assert!(
            text.contains(&in_order),
            "{what} of teamnl lacks \"{in_order}\""
        );
    }
}

#[test]
fn bash_completion_offers_teams_commands_and_arguments() {
    let file = packaging_file(env!("CARGO_MANIFEST_DIR"), "completions/bash/teamnl");
    assert_bash_syntax(&file);
    let complete = |words: &[&str]| bash_complete(&file, "_teamnl", words);
    let Some(teams) = complete(&["teamnl", ""]) else {
        eprintln!("skipped: bash is not installed");
        return;
    };
    assert_eq!(teams, ["team0", "team1"]);
    let value = |words: &[&str]| complete(words).unwrap_or_default();
    let mut offered = value(&["teamnl", "-"]);
    offered.sort();
    let mut options = option_words(&crate::OPTIONS);
    options.sort();
    assert_eq!(offered, options, "teamnl -<TAB>");
    assert_eq!(value(&["teamnl", "team0", ""]), command_names());
    assert_eq!(
        value(&["teamnl", "-a", "3", "team0", "getopt"]),
        ["getoption"]
    );
    assert_eq!(value(&["teamnl", "team0", "g", ""]), ["enabled", "mode"]);
    assert_eq!(
        value(&["teamnl", "--port_name", "=", "eth1", "team0", "s", "e"]),
        ["enabled"]
    );
    assert_eq!(value(&["teamnl", "team0", "m", ""]), ["all", "changed"]);
    assert!(value(&["teamnl", "team0", "x", ""]).is_empty());
}
