//! Keeps teamd(8), teamd.conf(5) and the shell completions in step with the code: every
//! option of the command line is in the page and both completions, every runner, hash
//! fragment and aggregator policy is in teamd.conf(5), and its examples load.

#[path = "../../doc_check.rs"]
mod doc_check;

use doc_check::{assert_bash_syntax, assert_mentions, bash_complete, option_words, packaging_file};

use crate::config::{self, Config};
use crate::runner::{self, Runner};

const PAGE: &str = include_str!("../../../packaging/man/teamd.8.scd");
const CONF_PAGE: &str = include_str!("../../../packaging/man/teamd.conf.5.scd");
const BASH: &str = include_str!("../../../packaging/completions/bash/teamd");
const ZSH: &str = include_str!("../../../packaging/completions/zsh/_teamd");

#[test]
fn every_option_is_in_the_page_and_the_completions() {
    let words = option_words(&crate::cli::SPEC);
    assert_mentions("teamd.8.scd", PAGE, &words);
    doc_check::assert_option_entries("teamd.8.scd", PAGE, &crate::cli::SPEC);
    assert_mentions("bash completion of teamd", BASH, &words);
    assert_mentions("zsh completion of teamd", ZSH, &words);
}

#[test]
fn bash_completion_offers_options_and_values() {
    let file = packaging_file(env!("CARGO_MANIFEST_DIR"), "completions/bash/teamd");
    assert_bash_syntax(&file);
    let complete = |words: &[&str]| bash_complete(&file, "_teamd", words);
    let Some(all) = complete(&["teamd", ""]) else {
        eprintln!("skipped: bash is not installed");
        return;
    };
    let mut offered = all;
    offered.sort();
    let mut words = option_words(&crate::cli::SPEC);
    words.sort();
    assert_eq!(offered, words, "teamd <TAB>");
    let value = |words: &[&str]| complete(words).unwrap_or_default();
    assert_eq!(
        value(&["teamd", "--no"]),
        ["--no-quit-destroy", "--no-ports"]
    );
    assert_eq!(value(&["teamd", "-l", ""]), ["stdout", "stderr", "syslog"]);
    assert_eq!(value(&["teamd", "--log-output", "=", "sy"]), ["syslog"]);
    assert_eq!(value(&["teamd", "-t", ""]), ["team0", "team1"]);
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.tom");
    assert_eq!(
        value(&["teamd", "--config-file", "=", manifest]),
        [concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")]
    );
    assert_eq!(value(&["teamd", "-c", ""]), Vec::<String>::new());
}

#[test]
fn every_runner_and_choice_is_in_teamd_conf() {
    assert_mentions("teamd.conf.5.scd", CONF_PAGE, &runner::NAMES);
    assert_mentions(
        "teamd.conf.5.scd",
        CONF_PAGE,
        &teamd_loadbalance::hash::FRAG_NAMES,
    );
    let policies: Vec<&str> = teamd_lacp::SelectPolicy::ALL
        .iter()
        .map(|p| p.name())
        .collect();
    assert_mentions("teamd.conf.5.scd", CONF_PAGE, &policies);
}

/// The page's literal blocks that hold a JSON object.
fn json_examples(page: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        if line.trim() == "```" {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(String::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks.retain(|b| b.trim_start().starts_with('{'));
    blocks
}

/// Reads an example as teamd does at start, ports and their link watches included.
fn load_example(text: &str) -> Result<(), String> {
    let doc = teamd_ctl_proto::json::parse_strict(text).map_err(|e| e.to_string())?;
    let mut cfg = Config::new(doc).map_err(|e| e.0)?;
    config::hwaddr_setting(&cfg).map_err(|e| e.0)?;
    config::link_watch_policy_setting(&cfg).map_err(|e| e.0)?;
    config::burst(&cfg, "notify_peers").map_err(|e| e.0)?;
    config::burst(&cfg, "mcast_rejoin").map_err(|e| e.0)?;
    Runner::from_config(&mut cfg).map_err(|e| e.0)?;
    for port in cfg.port_names() {
        crate::linkwatch::load(&mut cfg, &port, false)?;
    }
    Ok(())
}

#[test]
fn teamd_conf_examples_load() {
    let examples = json_examples(CONF_PAGE);
    assert!(examples.len() >= 4, "examples not found: {examples:?}");
    for example in &examples {
        if let Err(e) = load_example(example) {
            panic!("teamd.conf(5) example refused: {e}\n{example}");
        }
    }
    // the check itself refuses what teamd refuses
    assert!(load_example(r#"{"runner": {"name": "lacp", "min_ports": 0}}"#).is_err());
    assert!(load_example(r#"{"ports": {"eth1": {"link_watch": {"name": "tipc"}}}}"#).is_err());
}
