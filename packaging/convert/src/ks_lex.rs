//! Kickstart lexing as pykickstart does it: the file is cut into lines with
//! Python's `str.splitlines(True)`, blank and `#` lines are skipped
//! (`_isBlankOrComment`), and every other line is split with
//! `shlex.split(line, comments=True)` in POSIX mode.
//!
//! shlex facts that matter here: `'…'` is literal; in `"…"` a backslash
//! escapes only `"` and `\` (elsewhere it stays); outside quotes a backslash
//! takes the next character literally (a newline too); quotes join onto the
//! word around them; `#` starts a comment also in the middle of a word
//! (`a#b` is `a`); whitespace is only space, tab, CR and LF.

/// Why shlex gave up on a line (Python raises ValueError with these texts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexError {
    NoClosingQuotation,
    NoEscapedCharacter,
}

impl std::fmt::Display for LexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LexError::NoClosingQuotation => "No closing quotation",
            LexError::NoEscapedCharacter => "No escaped character",
        })
    }
}

/// Python's `str.splitlines(keepends=True)`: every line keeps its end.
pub fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' => match chars.peek() {
                Some((_, '\n')) => {
                    chars.next();
                    i + 2
                }
                _ => i + 1,
            },
            '\n' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        lines.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Python's `str.isspace()` for one character (Rust's White_Space plus the
/// four information separators, which Python counts as space).
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// pykickstart's `_isBlankOrComment`.
pub fn is_blank_or_comment(line: &str) -> bool {
    line.chars().all(py_isspace) || line.trim_start_matches(py_isspace).starts_with('#')
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Space,
    Word,
    Quote(char),
}

fn is_shlex_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// `shlex.split(line, comments=comments)` (POSIX mode, whitespace_split).
pub fn shlex_split(line: &str, comments: bool) -> Result<Vec<String>, LexError> {
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Space;
    let mut chars = line.chars();
    // shlex's comment: the rest of the line up to and with the next LF
    let skip_comment = |chars: &mut std::str::Chars| {
        for c in chars.by_ref() {
            if c == '\n' {
                break;
            }
        }
    };
    loop {
        let next = chars.next();
        match state {
            State::Space => match next {
                None => break,
                Some(c) if is_shlex_space(c) => {}
                Some('#') if comments => skip_comment(&mut chars),
                Some('\\') => escape(&mut chars, State::Word, &mut token, &mut state)?,
                Some(q @ ('\'' | '"')) => state = State::Quote(q),
                Some(c) => {
                    token.push(c);
                    state = State::Word;
                }
            },
            State::Quote(q) => {
                quoted = true;
                match next {
                    None => return Err(LexError::NoClosingQuotation),
                    Some(c) if c == q => state = State::Word,
                    Some('\\') if q == '"' => {
                        escape(&mut chars, State::Quote(q), &mut token, &mut state)?
                    }
                    Some(c) => token.push(c),
                }
            }
            State::Word => {
                let emit = match next {
                    None => true,
                    Some(c) if is_shlex_space(c) => true,
                    Some('#') if comments => {
                        skip_comment(&mut chars);
                        true
                    }
                    Some(q @ ('\'' | '"')) => {
                        state = State::Quote(q);
                        false
                    }
                    Some('\\') => {
                        escape(&mut chars, State::Word, &mut token, &mut state)?;
                        false
                    }
                    Some(c) => {
                        token.push(c);
                        false
                    }
                };
                if emit {
                    state = State::Space;
                    if !token.is_empty() || quoted {
                        tokens.push(std::mem::take(&mut token));
                    }
                    quoted = false;
                    if next.is_none() {
                        break;
                    }
                }
            }
        }
    }
    Ok(tokens)
}

/// shlex's escape state: the character after a backslash, taken literally;
/// inside double quotes the backslash stays unless it escapes `"` or `\`.
fn escape(
    chars: &mut std::str::Chars,
    back_to: State,
    token: &mut String,
    state: &mut State,
) -> Result<(), LexError> {
    let c = chars.next().ok_or(LexError::NoEscapedCharacter)?;
    if let State::Quote(q) = back_to {
        if c != '\\' && c != q {
            token.push('\\');
        }
    }
    token.push(c);
    *state = back_to;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        shlex_split(s, true).expect("lexes")
    }

    #[test]
    fn quotes_join_and_escape() {
        assert_eq!(split("a 'b c' \"d e\"\n"), ["a", "b c", "d e"]);
        assert_eq!(split("--x='a'\"b\"c"), ["--x=abc"]);
        assert_eq!(split(r#""a\"b\\c\d""#), [r#"a"b\c\d"#]);
        assert_eq!(split(r"'a\b'"), [r"a\b"]);
        assert_eq!(split(r"a\ b\'c"), ["a b'c"]);
        assert_eq!(split("'' \"\""), ["", ""]);
        assert_eq!(split("a\\\nb"), ["a\nb"]);
    }

    #[test]
    fn comments_even_inside_words() {
        assert_eq!(
            split("network --ip=1.2.3.4#x y"),
            ["network", "--ip=1.2.3.4"]
        );
        assert_eq!(split("a # b c"), ["a"]);
        assert_eq!(split("'#' \"#\" \\#"), ["#", "#", "#"]);
        assert_eq!(shlex_split("a#b", false).expect("lexes"), ["a#b"]);
    }

    #[test]
    fn teamconfig_in_both_quotings() {
        assert_eq!(
            split(r#"--teamconfig="{\"runner\": {\"name\": \"lacp\"}}""#),
            [r#"--teamconfig={"runner": {"name": "lacp"}}"#]
        );
        assert_eq!(
            split(r#"--teamconfig='{"runner": {"name": "lacp"}}'"#),
            [r#"--teamconfig={"runner": {"name": "lacp"}}"#]
        );
        assert_eq!(
            split(r#"--teamslaves="eth1'{\"prio\": 100}',eth2""#),
            [r#"--teamslaves=eth1'{"prio": 100}',eth2"#]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(shlex_split("a 'b", true), Err(LexError::NoClosingQuotation));
        assert_eq!(
            shlex_split("a \"b\\\"", true),
            Err(LexError::NoClosingQuotation)
        );
        assert_eq!(shlex_split("a \\", true), Err(LexError::NoEscapedCharacter));
    }

    #[test]
    fn lines_and_blanks() {
        assert_eq!(
            split_lines("a\r\nb\rc\x0bd\ne"),
            ["a\r\n", "b\r", "c\x0b", "d\n", "e"]
        );
        assert!(is_blank_or_comment("   \t\n"));
        assert!(is_blank_or_comment("  # x"));
        assert!(is_blank_or_comment(""));
        assert!(!is_blank_or_comment(" network"));
        // a vertical tab is whitespace to Python but not to shlex
        assert_eq!(split("a\x0bb"), ["a\x0bb"]);
    }
}
