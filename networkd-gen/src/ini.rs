//! The syntax of systemd's configuration files, as systemd.syntax(7) and
//! `config_parse()` (src/shared/conf-parser.c) define it. Hand-written, because
//! neither INI crate keeps it: configparser merges repeated sections and keeps
//! only the last of repeated keys; rust-ini keeps both, but joins a continued
//! line without the space the backslash becomes and does not skip comment
//! lines inside a continuation (the example in systemd.syntax(7) comes out
//! wrong). Both were tried on the same text; see the crate README.
//!
//! What this keeps: every section in file order (repeated ones stay apart)
//! and every assignment in order (repeated keys stay apart, an empty value
//! stays as the empty string: the meaning of both is the key's business).

use crate::diag::{Diags, Origin};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// The file this section came from (a drop-in keeps its own path).
    pub file: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

impl Section {
    pub fn origin(&self, e: &Entry) -> Origin {
        Origin::file(&self.file)
            .at_line(e.line)
            .in_section(&self.name)
            .with_key(&e.key)
    }
}

const COMMENTS: &[char] = &['#', ';'];
const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

/// Parses one file. A malformed section header makes the whole file unusable
/// (systemd refuses such a file too: -EBADMSG); other bad lines are warned
/// about and skipped, as systemd does.
pub fn parse(text: &str, file: &str, diags: &mut Diags) -> Option<Vec<Section>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    let mut continuation: Option<(String, usize)> = None;
    let lines: Vec<&str> = text.split('\n').collect();
    let count = lines.len();
    for (i, raw) in lines.into_iter().enumerate() {
        let lineno = i + 1;
        if i + 1 == count && raw.is_empty() && continuation.is_none() {
            break;
        }
        // comment lines are dropped before joining, so a comment inside a
        // continued value is skipped and the value goes on after it
        let lead = raw.trim_start_matches(WHITESPACE);
        if lead.starts_with(COMMENTS) {
            continue;
        }
        let (mut joined, start) = match continuation.take() {
            Some((mut c, start)) => {
                c.push_str(raw);
                (c, start)
            }
            None => (raw.to_string(), lineno),
        };
        if ends_in_escape(&joined) {
            // the backslash becomes a space, as in systemd
            joined.pop();
            joined.push(' ');
            if i + 1 < count {
                continuation = Some((joined, start));
                continue;
            }
        }
        if !parse_line(&joined, start, file, &mut sections, diags) {
            // systemd stops reading the file at a bad section header
            return None;
        }
    }
    if let Some((rest, start)) = continuation {
        if !parse_line(&rest, start, file, &mut sections, diags) {
            return None;
        }
    }
    Some(sections)
}

/// Whether the text ends in a backslash that is not itself escaped.
fn ends_in_escape(s: &str) -> bool {
    let mut escaped = false;
    for c in s.chars() {
        escaped = if escaped { false } else { c == '\\' };
    }
    escaped
}

fn parse_line(
    line: &str,
    lineno: usize,
    file: &str,
    sections: &mut Vec<Section>,
    diags: &mut Diags,
) -> bool {
    let l = line.trim_matches(WHITESPACE);
    if l.is_empty() || l.starts_with(COMMENTS) {
        return true;
    }
    let at = || Origin::file(file).at_line(lineno);
    if let Some(rest) = l.strip_prefix('[') {
        let Some(name) = rest.strip_suffix(']') else {
            diags.error(at(), format!("invalid section header '{l}'"));
            return false;
        };
        if name.is_empty() || name.chars().any(|c| c.is_control()) {
            diags.error(at(), format!("invalid section header '{l}'"));
            return false;
        }
        sections.push(Section {
            name: name.to_string(),
            file: file.to_string(),
            line: lineno,
            entries: Vec::new(),
        });
        return true;
    }
    let Some((key, value)) = l.split_once('=') else {
        diags.warning(at(), "missing '=', ignoring line");
        return true;
    };
    let key = key.trim_matches(WHITESPACE);
    if key.is_empty() {
        diags.warning(at(), "missing key name before '=', ignoring line");
        return true;
    }
    let Some(section) = sections.last_mut() else {
        diags.warning(
            at(),
            format!("assignment '{key}=' outside of any section, ignoring"),
        );
        return true;
    };
    section.entries.push(Entry {
        key: key.to_string(),
        value: value.trim_matches(WHITESPACE).to_string(),
        line: lineno,
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Vec<Section> {
        let mut d = Diags::default();
        let s = parse(text, "t.network", &mut d).expect("parses");
        assert!(!d.has_errors(), "{:?}", d);
        s
    }

    fn kv(s: &Section) -> Vec<(&str, &str)> {
        s.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect()
    }

    /// Example 1 of systemd.syntax(7), verbatim.
    #[test]
    fn systemd_syntax_example() {
        let s = p(
            "[Section A]\nKeyOne=value 1\nKeyTwo=value 2\n\n# a comment\n\n\
                   [Section B]\nSetting=\"something\" \"some thing\" \"…\"\n\
                   KeyTwo=value 2 \\\n       value 2 continued\n\n\
                   [Section C]\nKeyThree=value 3\\\n# this line is ignored\n\
                   ; this line is ignored too\n       value 3 continued\n",
        );
        assert_eq!(s.len(), 3);
        assert_eq!(kv(&s[0]), [("KeyOne", "value 1"), ("KeyTwo", "value 2")]);
        // quotes are the key's business, not the file syntax's
        assert_eq!(s[1].entries[0].value, "\"something\" \"some thing\" \"…\"");
        // "value 2 " + the backslash as a space + the next line as it is
        assert_eq!(s[1].entries[1].value, "value 2         value 2 continued");
        assert_eq!(s[2].entries[0].value, "value 3        value 3 continued");
        assert_eq!(s[2].entries[0].line, 13);
    }

    #[test]
    fn repeated_sections_and_keys_stay_apart() {
        let s = p(
            "[Match]\nName=eth0\nName=eth1\n[Address]\nAddress=10.0.0.1/24\n\
                   [Address]\nAddress=10.0.0.2/24\nAddress=10.0.0.3/24\n[Network]\nDNS=\n",
        );
        assert_eq!(s.len(), 4);
        assert_eq!(kv(&s[0]), [("Name", "eth0"), ("Name", "eth1")]);
        assert_eq!(s[1].name, "Address");
        assert_eq!(s[2].name, "Address");
        assert_eq!(s[2].entries.len(), 2);
        // an empty assignment is kept: for a list it means "reset"
        assert_eq!(kv(&s[3]), [("DNS", "")]);
    }

    #[test]
    fn comments_whitespace_and_case() {
        let s = p("  # comment\n\t; comment\n[Team]\n  Runner = lacp  \nrunner=x\n;Runner=y\n");
        // keys are case-sensitive, as in systemd
        assert_eq!(kv(&s[0]), [("Runner", "lacp"), ("runner", "x")]);
    }

    #[test]
    fn escaped_backslash_does_not_continue() {
        let s = p("[A]\nK=C:\\\\\nL=1\n");
        assert_eq!(kv(&s[0]), [("K", "C:\\\\"), ("L", "1")]);
    }

    #[test]
    fn continuation_ends_at_empty_line_and_at_eof() {
        let s = p("[A]\nK=a\\\n\nL=b\\");
        assert_eq!(kv(&s[0]), [("K", "a"), ("L", "b")]);
    }

    #[test]
    fn bom_crlf_and_no_final_newline() {
        let s = p("\u{feff}[A]\r\nK=v\r\nL=w");
        assert_eq!(kv(&s[0]), [("K", "v"), ("L", "w")]);
    }

    #[test]
    fn bad_lines() {
        let mut d = Diags::default();
        let s = parse("K=outside\n[A]\nnoequals\n=v\n", "f", &mut d).expect("still usable");
        assert!(s[0].entries.is_empty());
        let msgs: Vec<String> = d.0.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "f:1: assignment 'K=' outside of any section, ignoring",
                "f:3: missing '=', ignoring line",
                "f:4: missing key name before '=', ignoring line",
            ]
        );
        let mut d = Diags::default();
        assert!(parse("[A\nK=v\n", "f", &mut d).is_none());
        assert_eq!(d.0[0].to_string(), "f:1: invalid section header '[A'");
    }
}
