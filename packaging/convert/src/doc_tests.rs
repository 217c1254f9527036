//! Keeps teamd-convert(1) in step with the command line: every subcommand,
//! option and value has its place in the page.

#[allow(dead_code)]
#[path = "../../../teamd-compat/doc_check.rs"]
mod doc_check;

use clap::CommandFactory;

const PAGE: &str = include_str!("../../man/teamd-convert.1.scd");

#[test]
fn every_subcommand_option_and_value_is_in_the_page() {
    let cli = crate::Cli::command();
    let mut words = Vec::new();
    let mut entries = Vec::new();
    for sub in cli.get_subcommands() {
        words.push(sub.get_name().to_string());
        entries.push(format!("*{}*", sub.get_name()));
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long() {
                words.push(format!("--{long}"));
                if !matches!(long, "help" | "version") {
                    entries.push(format!("*--{long}*"));
                }
            }
            // flags list true/false as their values; only real choices count
            let choices = matches!(arg.get_action(), clap::ArgAction::Set);
            for v in arg.get_possible_values().into_iter().filter(|_| choices) {
                words.push(v.get_name().to_string());
            }
        }
    }
    doc_check::assert_mentions("teamd-convert.1.scd", PAGE, &words);
    // an entry is a line of its own starting with the term
    let missing: Vec<&String> = entries
        .iter()
        .filter(|e| !PAGE.lines().any(|l| l.starts_with(e.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "teamd-convert.1.scd has no entry {missing:?}"
    );
    for flag in ["*-h*, *--help*", "*-V*, *--version*"] {
        assert!(PAGE.contains(flag), "{flag}");
    }
}

#[test]
fn the_page_title_is_its_file_name() {
    assert!(PAGE.starts_with("teamd-convert(1) "));
}
