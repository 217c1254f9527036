//! Keeps teamdctl(8) and the shell completions in step with the code: every option and
//! command is in the page and both completions, and the bash completion walks the same
//! command tree as `cmd::find`.

#[path = "../../doc_check.rs"]
mod doc_check;

use doc_check::{
    assert_bash_syntax, assert_mentions, bash_complete, mentions, option_words, packaging_file,
};

use crate::cmd;

const PAGE: &str = include_str!("../../../packaging/man/teamdctl.8.scd");
const BASH: &str = include_str!("../../../packaging/completions/bash/teamdctl");
const ZSH: &str = include_str!("../../../packaging/completions/zsh/_teamdctl");

/// Every word of the command tree, once each.
fn command_words() -> Vec<String> {
    let mut words: Vec<String> = cmd::tree()
        .iter()
        .flat_map(|(path, _)| path.split(' ').map(String::from).collect::<Vec<_>>())
        .collect();
    words.sort();
    words.dedup();
    words
}

#[test]
fn every_option_and_command_word_is_in_the_completions() {
    let options = option_words(&crate::OPTIONS);
    let words = command_words();
    for (what, text) in [("bash completion", BASH), ("zsh completion", ZSH)] {
        assert_mentions(&format!("{what} of teamdctl"), text, &options);
        assert_mentions(&format!("{what} of teamdctl"), text, &words);
    }
}

/// Each node's children in the tree's order (the root's under ""), for nodes that have
/// some.
fn children() -> Vec<(String, Vec<String>)> {
    let tree = cmd::tree();
    let parents = std::iter::once(String::new()).chain(tree.iter().map(|(p, _)| p.clone()));
    parents
        .map(|parent| {
            let depth = parent.split(' ').filter(|w| !w.is_empty()).count();
            let kids = tree
                .iter()
                .filter(|(p, _)| p.split(' ').count() == depth + 1)
                .filter(|(p, _)| parent.is_empty() || p.starts_with(&format!("{parent} ")))
                .filter_map(|(p, _)| p.rsplit(' ').next().map(String::from))
                .collect();
            (parent, kids)
        })
        .filter(|(_, kids): &(String, Vec<String>)| !kids.is_empty())
        .collect()
}

#[test]
fn both_completions_hold_the_command_tree_in_order() {
    // a prefix picks the first child that matches, so each level is listed in order
    for (parent, kids) in children() {
        let in_order = kids.join(" ");
        for (what, text) in [("bash completion", BASH), ("zsh completion", ZSH)] {
            assert!(
                text.contains(&in_order),
                "{what} of teamdctl lacks \"{in_order}\" (under \"{parent}\")"
            );
        }
    }
}

#[test]
fn every_option_and_command_is_in_the_page() {
    assert_mentions("teamdctl.8.scd", PAGE, &option_words(&crate::OPTIONS));
    doc_check::assert_option_entries("teamdctl.8.scd", PAGE, &crate::OPTIONS);
    for (path, params) in cmd::tree() {
        if !cmd::is_command(&path) {
            continue;
        }
        // a command is a term of the page: `*port config update* _PORTDEV_ ...`,
        // `*state*, *state view*`
        assert!(
            PAGE.lines()
                .any(|l| l.starts_with('*') && l.contains(&format!("*{path}*"))),
            "teamdctl.8.scd has no entry for \"{path}\""
        );
        for param in params {
            let name = param.trim_matches(|c| c == '[' || c == ']');
            assert!(
                mentions(PAGE, name) || PAGE.contains(&format!("_{name}_")),
                "teamdctl.8.scd does not mention {name} of \"{path}\""
            );
        }
    }
}

#[test]
fn bash_completion_walks_the_command_tree() {
    let file = packaging_file(env!("CARGO_MANIFEST_DIR"), "completions/bash/teamdctl");
    assert_bash_syntax(&file);
    let complete = |words: &[&str]| bash_complete(&file, "_teamdctl", words);
    let Some(teams) = complete(&["teamdctl", ""]) else {
        eprintln!("skipped: bash is not installed");
        return;
    };
    // and any running teamd's socket
    assert!(teams.iter().any(|t| t == "team0") && teams.iter().any(|t| t == "team1"));
    let mut offered = complete(&["teamdctl", "-"]).unwrap_or_default();
    offered.sort();
    let mut options = option_words(&crate::OPTIONS);
    options.sort();
    assert_eq!(offered, options, "teamdctl -<TAB>");

    // after each node (and at the root), exactly its children, in the tree's order
    for (parent, kids) in children() {
        let mut words = vec!["teamdctl", "-o", "team0"];
        words.extend(parent.split(' ').filter(|w| !w.is_empty()));
        words.push("");
        assert_eq!(
            complete(&words).unwrap_or_default(),
            kids,
            "teamdctl team0 {parent} <TAB>"
        );
    }

    // arguments: a file for config reload, nothing for JSON
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.tom");
    assert_eq!(
        complete(&["teamdctl", "team0", "config", "reload", manifest]).unwrap_or_default(),
        [concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")]
    );
    assert!(complete(&["teamdctl", "team0", "p", "c", "u", "eth1", ""])
        .unwrap_or_default()
        .is_empty());

    // prefixes resolve as `cmd::find` resolves them
    assert_eq!(
        complete(&["teamdctl", "team0", "s", "i", ""]).unwrap_or_default(),
        ["get", "set"]
    );
    assert_eq!(
        complete(&["teamdctl", "team0", "c", "d", ""]).unwrap_or_default(),
        ["noports", "actual"]
    );
    assert!(complete(&["teamdctl", "team0", "bogus", ""])
        .unwrap_or_default()
        .is_empty());
    // an option's value is no operand
    assert_eq!(
        complete(&["teamdctl", "--force-zmq", "=", "tcp://x", "team0", "p", ""])
            .unwrap_or_default(),
        ["add", "remove", "present", "config"]
    );
}
