//! teamdctl's command tree: prefix matching level by level, parameter checks
//! and the help text, as libteam's teamdctl resolves commands (spec §5).

use std::fmt;

/// An executable command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ConfigDump,
    ConfigDumpNoports,
    ConfigDumpActual,
    ConfigReload,
    StateView,
    StateDump,
    StateItemGet,
    StateItemSet,
    PortAdd,
    PortRemove,
    PortPresent,
    PortConfigUpdate,
    PortConfigDump,
}

/// One tree node; `parent` indexes [`TREE`]. Order matters: the first node
/// whose name starts with the typed word wins, and help lists them in order.
struct Node {
    parent: Option<usize>,
    name: &'static str,
    params: &'static [&'static str],
    action: Option<Action>,
}

const fn node(
    parent: Option<usize>,
    name: &'static str,
    params: &'static [&'static str],
    action: Option<Action>,
) -> Node {
    Node {
        parent,
        name,
        params,
        action,
    }
}

const CONFIG: usize = 0;
const CONFIG_DUMP: usize = 1;
const STATE: usize = 5;
const STATE_ITEM: usize = 8;
const PORT: usize = 11;
const PORT_CONFIG: usize = 15;

const TREE: &[Node] = &[
    node(None, "config", &[], None),
    node(Some(CONFIG), "dump", &[], Some(Action::ConfigDump)),
    node(
        Some(CONFIG_DUMP),
        "noports",
        &[],
        Some(Action::ConfigDumpNoports),
    ),
    node(
        Some(CONFIG_DUMP),
        "actual",
        &[],
        Some(Action::ConfigDumpActual),
    ),
    // rteam's own; the bracketed parameter is optional
    node(
        Some(CONFIG),
        "reload",
        &["[FILE]"],
        Some(Action::ConfigReload),
    ),
    node(None, "state", &[], Some(Action::StateView)),
    node(Some(STATE), "dump", &[], Some(Action::StateDump)),
    node(Some(STATE), "view", &[], Some(Action::StateView)),
    node(Some(STATE), "item", &[], None),
    node(
        Some(STATE_ITEM),
        "get",
        &["ITEMPATH"],
        Some(Action::StateItemGet),
    ),
    node(
        Some(STATE_ITEM),
        "set",
        &["ITEMPATH", "VALUE"],
        Some(Action::StateItemSet),
    ),
    node(None, "port", &[], None),
    node(Some(PORT), "add", &["PORTDEV"], Some(Action::PortAdd)),
    node(Some(PORT), "remove", &["PORTDEV"], Some(Action::PortRemove)),
    node(
        Some(PORT),
        "present",
        &["PORTDEV"],
        Some(Action::PortPresent),
    ),
    node(Some(PORT), "config", &[], None),
    node(
        Some(PORT_CONFIG),
        "update",
        &["PORTDEV", "PORTCONFIG"],
        Some(Action::PortConfigUpdate),
    ),
    node(
        Some(PORT_CONFIG),
        "dump",
        &["PORTDEV"],
        Some(Action::PortConfigDump),
    ),
];

/// Why the words after the device name do not form a command; the texts are
/// teamdctl's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    Incomplete,
    Unknown(String),
    MissingParam(&'static str),
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Incomplete => f.write_str("None or incomplete command"),
            CmdError::Unknown(word) => write!(f, "Unknown command \"{word}\"."),
            CmdError::MissingParam(p) => write!(f, "Command line parameter \"{p}\" expected."),
        }
    }
}

/// Resolves `words` to a command and its arguments. A node that can execute
/// is chosen once at most as many words remain as it takes parameters;
/// otherwise the next word selects a child. Extra arguments beyond the
/// parameters cannot occur: they would have been taken as a child name.
pub fn find(words: &[String]) -> Result<(Action, &[String]), CmdError> {
    let mut parent = None;
    let mut rest = words;
    loop {
        let (word, tail) = rest.split_first().ok_or(CmdError::Incomplete)?;
        rest = tail;
        let (index, node) = TREE
            .iter()
            .enumerate()
            .find(|(_, n)| n.parent == parent && n.name.starts_with(word.as_str()))
            .ok_or_else(|| CmdError::Unknown(word.clone()))?;
        if let Some(action) = node.action {
            if node.params.len() >= rest.len() {
                if let Some(missing) = node.params.get(rest.len()) {
                    if !missing.starts_with('[') {
                        return Err(CmdError::MissingParam(missing));
                    }
                }
                return Ok((action, rest));
            }
        }
        parent = Some(index);
    }
}

fn full_name(index: usize) -> String {
    let node = &TREE[index];
    match node.parent {
        Some(p) => format!("{} {}", full_name(p), node.name),
        None => node.name.to_string(),
    }
}

/// Every node of the tree as its words ("port config update") with its parameters, in
/// tree order; for the tests that keep the man page and completions in step.
#[cfg(test)]
pub fn tree() -> Vec<(String, &'static [&'static str])> {
    (0..TREE.len())
        .map(|i| (full_name(i), TREE[i].params))
        .collect()
}

/// Whether the node with these words runs a command (rather than only grouping others).
#[cfg(test)]
pub fn is_command(words: &str) -> bool {
    (0..TREE.len()).any(|i| TREE[i].action.is_some() && full_name(i) == words)
}

/// The help text, printed to stdout by `-h` and after every usage error.
pub fn help(argv0: &str) -> String {
    let mut text = format!(
        "{argv0} [options] teamdevname command [command args]
    -h --help                Show this help
    -v --verbose             Increase output verbosity
    -o --oneline             Force output to one line if possible
    -D --force-dbus          Force to use D-Bus interface
    -Z --force-zmq=ADDRESS   Force to use ZeroMQ interface [-Z[Address]]
    -U --force-usock         Force to use UNIX domain socket interface
Commands:
"
    );
    for (index, node) in TREE.iter().enumerate() {
        if node.action.is_none() {
            continue;
        }
        text.push_str("    ");
        text.push_str(&full_name(index));
        for p in node.params {
            text.push(' ');
            text.push_str(p);
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_str(words: &[&str]) -> Result<(Action, Vec<String>), CmdError> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        find(&words).map(|(a, rest)| (a, rest.to_vec()))
    }

    #[test]
    fn prefixes() {
        let cases: &[(&[&str], Action)] = &[
            (&["config", "dump"], Action::ConfigDump),
            (&["c", "d"], Action::ConfigDump),
            (&["c", "d", "n"], Action::ConfigDumpNoports),
            (&["c", "d", "a"], Action::ConfigDumpActual),
            (&["state"], Action::StateView),
            (&["s"], Action::StateView),
            (&["s", "d"], Action::StateDump),
            (&["s", "v"], Action::StateView),
            (&["s", "i", "g", "x"], Action::StateItemGet),
            (&["s", "i", "s", "x", "1"], Action::StateItemSet),
            (&["p", "a", "eth0"], Action::PortAdd),
            (&["p", "r", "eth0"], Action::PortRemove),
            (&["p", "p", "eth0"], Action::PortPresent),
            (&["p", "c", "u", "eth0", "{}"], Action::PortConfigUpdate),
            (&["p", "c", "d", "eth0"], Action::PortConfigDump),
            (&["config", "reload"], Action::ConfigReload),
            (&["c", "r", "/etc/teamd/team0.conf"], Action::ConfigReload),
            // the empty word is a prefix of everything: first match wins
            (&["", ""], Action::ConfigDump),
            (&["", "", ""], Action::ConfigDumpNoports),
        ];
        for (words, action) in cases {
            assert_eq!(find_str(words).map(|r| r.0), Ok(*action), "{words:?}");
        }
        assert_eq!(
            find_str(&["port", "config", "update", "eth0", "{\"prio\": 1}"]),
            Ok((
                Action::PortConfigUpdate,
                vec!["eth0".into(), "{\"prio\": 1}".into()]
            ))
        );
    }

    #[test]
    fn errors() {
        assert_eq!(find_str(&[]), Err(CmdError::Incomplete));
        assert_eq!(find_str(&["config"]), Err(CmdError::Incomplete));
        assert_eq!(find_str(&["s", "item"]), Err(CmdError::Incomplete));
        assert_eq!(find_str(&["bogus"]), Err(CmdError::Unknown("bogus".into())));
        assert_eq!(
            find_str(&["configx"]),
            Err(CmdError::Unknown("configx".into()))
        );
        assert_eq!(
            find_str(&["state", "dump", "extra"]),
            Err(CmdError::Unknown("extra".into()))
        );
        assert_eq!(
            find_str(&["port", "add"]),
            Err(CmdError::MissingParam("PORTDEV"))
        );
        assert_eq!(
            find_str(&["port", "config", "update", "eth0"]),
            Err(CmdError::MissingParam("PORTCONFIG"))
        );
        // one word too many: "x" is looked up as a child of "add"
        assert_eq!(
            find_str(&["port", "add", "eth0", "x"]),
            Err(CmdError::Unknown("eth0".into()))
        );
        assert_eq!(
            CmdError::Unknown("x".into()).to_string(),
            "Unknown command \"x\"."
        );
        assert_eq!(
            CmdError::MissingParam("VALUE").to_string(),
            "Command line parameter \"VALUE\" expected."
        );
    }

    #[test]
    fn help_lists_executables() {
        let h = help("teamdctl");
        assert!(h.starts_with("teamdctl [options] teamdevname command [command args]\n"));
        assert!(h.ends_with(
            "Commands:
    config dump
    config dump noports
    config dump actual
    config reload [FILE]
    state
    state dump
    state view
    state item get ITEMPATH
    state item set ITEMPATH VALUE
    port add PORTDEV
    port remove PORTDEV
    port present PORTDEV
    port config update PORTDEV PORTCONFIG
    port config dump PORTDEV
"
        ));
    }
}
