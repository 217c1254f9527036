//! The monitor's event lines: `<ns> <words...>`, one event a line.
//!
//! Words are `ready`, `link IF up|down`, `port TEAM IF up|down`,
//! `option TEAM NAME PORT|- VALUE` and
//! `stamp LABEL...`. Events are matched by word prefix (see [`Timed::matches`]), so a
//! pattern such as `option team0 activeport` picks every active-port change.

use std::fmt;

/// One event with its CLOCK_MONOTONIC stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    pub ns: u64,
    /// The event's words, without the stamp.
    pub words: Vec<String>,
}

/// A line that is not `<ns> <word>...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine(pub String);

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an event line: {:?}", self.0)
    }
}

impl std::error::Error for BadLine {}

impl Timed {
    pub fn new(ns: u64, words: &[&str]) -> Self {
        Timed {
            ns,
            words: words.iter().map(|w| w.to_string()).collect(),
        }
    }

    /// Parses one line.
    pub fn parse(line: &str) -> Result<Timed, BadLine> {
        let mut it = line.split_whitespace();
        let ns = it
            .next()
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| BadLine(line.to_string()))?;
        let words: Vec<String> = it.map(str::to_string).collect();
        if words.is_empty() {
            return Err(BadLine(line.to_string()));
        }
        Ok(Timed { ns, words })
    }

    /// True if the event's words start with the pattern's words.
    pub fn matches(&self, pattern: &str) -> bool {
        let mut words = self.words.iter();
        pattern
            .split_whitespace()
            .all(|p| words.next().is_some_and(|w| w == p))
    }
}

impl fmt::Display for Timed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ns, self.words.join(" "))
    }
}

/// Parses a whole log; bad lines (a monitor killed mid-line) are skipped and counted.
pub fn parse_log(text: &str) -> (Vec<Timed>, usize) {
    let mut bad = 0;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match Timed::parse(line) {
            Ok(t) => out.push(t),
            Err(_) => bad += 1,
        }
    }
    out.sort_by_key(|t| t.ns);
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = Timed::new(12, &["option", "team0", "activeport", "-", "p1"]);
        assert_eq!(Timed::parse(&t.to_string()), Ok(t));
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(Timed::parse("").is_err());
        assert!(Timed::parse("12").is_err());
        assert!(Timed::parse("x link p0 up").is_err());
        assert!(Timed::parse("-5 link p0 up").is_err());
    }

    #[test]
    fn prefix_matching() {
        let t = Timed::new(1, &["option", "team0", "enabled", "p0", "false"]);
        assert!(t.matches("option team0 enabled"));
        assert!(t.matches("option team0 enabled p0 false"));
        assert!(!t.matches("option team0 enabled p0 true"));
        assert!(!t.matches("option team0 enabled p0 false extra"));
        assert!(!t.matches("link p0"));
    }

    #[test]
    fn log_is_sorted_and_bad_lines_counted() {
        let (ev, bad) = parse_log("5 link p0 up\ngarbage\n\n3 stamp x\n7 link p0 dow");
        assert_eq!(bad, 1);
        assert_eq!(ev.iter().map(|e| e.ns).collect::<Vec<_>>(), vec![3, 5, 7]);
    }
}
