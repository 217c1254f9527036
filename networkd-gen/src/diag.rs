//! Messages about the configuration: each names where it comes from (file and
//! line, or the kernel command line), the section and the key, so that a
//! journal line alone is enough to find the mistake.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    /// The syslog priority prefix systemd reads from stderr and /dev/kmsg.
    pub fn syslog_prefix(self) -> &'static str {
        match self {
            Level::Error => "<3>",
            Level::Warning => "<4>",
            Level::Info => "<6>",
        }
    }
}

/// Where a setting was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// A path, or "kernel command line".
    pub source: String,
    pub line: Option<usize>,
    /// `[Section]`, or None where the source has no sections.
    pub section: Option<String>,
    /// The key (`Runner`), a JSON key path (`runner.name`) or a command-line
    /// word (`team`).
    pub key: Option<String>,
}

impl Origin {
    pub fn file(source: impl Into<String>) -> Self {
        Origin {
            source: source.into(),
            line: None,
            section: None,
            key: None,
        }
    }

    pub fn cmdline(key: &str) -> Self {
        Origin {
            source: "kernel command line".into(),
            line: None,
            section: None,
            key: Some(key.into()),
        }
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn in_section(mut self, section: &str) -> Self {
        self.section = Some(section.into());
        self
    }

    pub fn with_key(mut self, key: &str) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match (&self.section, &self.key) {
            (Some(s), Some(k)) => write!(f, ": [{s}] {k}="),
            (Some(s), None) => write!(f, ": [{s}]"),
            (None, Some(k)) if self.source == "kernel command line" => write!(f, ": {k}="),
            (None, Some(k)) => write!(f, ": \"{k}\""),
            (None, None) => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub level: Level,
    pub origin: Origin,
    pub message: String,
}

impl Diag {
    pub fn error(origin: Origin, message: impl Into<String>) -> Self {
        Diag {
            level: Level::Error,
            origin,
            message: message.into(),
        }
    }

    pub fn warning(origin: Origin, message: impl Into<String>) -> Self {
        Diag {
            level: Level::Warning,
            origin,
            message: message.into(),
        }
    }

    pub fn info(origin: Origin, message: impl Into<String>) -> Self {
        Diag {
            level: Level::Info,
            origin,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Collected messages; parsing goes on after an error so that one run shows
/// every mistake.
#[derive(Debug, Default)]
pub struct Diags(pub Vec<Diag>);

impl Diags {
    pub fn push(&mut self, d: Diag) {
        self.0.push(d);
    }

    pub fn error(&mut self, origin: Origin, message: impl Into<String>) {
        self.push(Diag::error(origin, message));
    }

    pub fn warning(&mut self, origin: Origin, message: impl Into<String>) {
        self.push(Diag::warning(origin, message));
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.level == Level::Error)
    }

    pub fn extend(&mut self, other: Diags) {
        self.0.extend(other.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_section_and_key() {
        let d = Diag::error(
            Origin::file("/etc/systemd/network/team0.netdev")
                .at_line(7)
                .in_section("Team")
                .with_key("Runner"),
            "unknown runner \"x\"",
        );
        assert_eq!(
            d.to_string(),
            "/etc/systemd/network/team0.netdev:7: [Team] Runner=: unknown runner \"x\""
        );
        assert_eq!(
            Diag::error(Origin::cmdline("team"), "bad").to_string(),
            "kernel command line: team=: bad"
        );
        assert_eq!(
            Diag::error(Origin::file("/etc/teamd/t.conf").with_key("device"), "bad").to_string(),
            "/etc/teamd/t.conf: \"device\": bad"
        );
    }
}
