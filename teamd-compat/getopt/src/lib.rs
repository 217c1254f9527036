//! GNU `getopt_long` semantics for rteam's drop-in tools (teamd, teamdctl, teamnl).
//!
//! Scripts call libteam's tools with every form glibc accepts — grouped flags
//! (`-gg`), attached values (`-tteam0`), options after operands, abbreviated long
//! names (`--team=team0`) — and read glibc's diagnostics, so the drop-ins parse
//! the same way. clap's grammar differs in these corners, hence this small crate.
//! Options come out one at a time, in command-line order, so a tool can act on
//! `-h` before later options are even looked at, as the C tools do.

/// Whether a long option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    No,
    Required,
}

/// A long option: name, value rule, and the short option character it maps to.
pub type LongOpt = (&'static str, HasArg, char);

/// The option grammar: a getopt short string ("hp:a:") and the long options.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub short: &'static str,
    pub long: &'static [LongOpt],
}

/// One recognised option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    pub name: char,
    pub value: Option<String>,
}

/// glibc's diagnostic for a bad option, without the trailing newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetoptError(pub String);

impl std::fmt::Display for GetoptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Spec {
    fn short_arg(&self, c: char) -> Option<HasArg> {
        let mut chars = self.short.chars().peekable();
        while let Some(s) = chars.next() {
            let takes = chars.peek() == Some(&':');
            if takes {
                chars.next();
            }
            if s == c && c != ':' {
                return Some(if takes { HasArg::Required } else { HasArg::No });
            }
        }
        None
    }
}

/// Walks argv (without argv[0]) yielding options; operands are collected for
/// [`Getopt::operands`], GNU-style permutation included.
pub struct Getopt<'a> {
    prog: String,
    spec: Spec,
    args: std::slice::Iter<'a, String>,
    /// Short options still pending from a group like `-gg`.
    group: Vec<char>,
    operands: Vec<String>,
}

impl<'a> Getopt<'a> {
    pub fn new(prog: &str, spec: Spec, args: &'a [String]) -> Self {
        Self {
            prog: prog.to_string(),
            spec,
            args: args.iter(),
            group: Vec::new(),
            operands: Vec::new(),
        }
    }

    /// Operands in order; complete once the iterator has returned `None`.
    pub fn operands(&self) -> &[String] {
        &self.operands
    }

    fn short(&mut self, c: char) -> Result<Opt, GetoptError> {
        let prog = &self.prog;
        match self.spec.short_arg(c) {
            None => Err(GetoptError(format!("{prog}: invalid option -- '{c}'"))),
            Some(HasArg::No) => Ok(Opt {
                name: c,
                value: None,
            }),
            Some(HasArg::Required) => {
                let value = if self.group.is_empty() {
                    self.args.next().cloned().ok_or_else(|| {
                        GetoptError(format!("{prog}: option requires an argument -- '{c}'"))
                    })?
                } else {
                    self.group.drain(..).collect()
                };
                Ok(Opt {
                    name: c,
                    value: Some(value),
                })
            }
        }
    }

    fn long(&mut self, body: &str) -> Result<Opt, GetoptError> {
        let prog = &self.prog;
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let exact = self.spec.long.iter().find(|(l, _, _)| *l == name);
        let candidates: Vec<&LongOpt> = self
            .spec
            .long
            .iter()
            .filter(|(l, _, _)| l.starts_with(name))
            .collect();
        let (lname, has_arg, c) = match (exact, candidates.as_slice()) {
            (Some(o), _) => *o,
            (None, [o]) => **o,
            (None, []) => {
                // glibc quotes the whole argument, "=value" included
                return Err(GetoptError(format!(
                    "{prog}: unrecognized option '--{body}'"
                )));
            }
            (None, many) => {
                let list: Vec<String> = many.iter().map(|(l, _, _)| format!("'--{l}'")).collect();
                return Err(GetoptError(format!(
                    "{prog}: option '--{body}' is ambiguous; possibilities: {}",
                    list.join(" ")
                )));
            }
        };
        match (has_arg, inline) {
            (HasArg::No, Some(_)) => Err(GetoptError(format!(
                "{prog}: option '--{lname}' doesn't allow an argument"
            ))),
            (HasArg::No, None) => Ok(Opt {
                name: c,
                value: None,
            }),
            (HasArg::Required, Some(v)) => Ok(Opt {
                name: c,
                value: Some(v),
            }),
            (HasArg::Required, None) => match self.args.next() {
                Some(v) => Ok(Opt {
                    name: c,
                    value: Some(v.clone()),
                }),
                None => Err(GetoptError(format!(
                    "{prog}: option '--{lname}' requires an argument"
                ))),
            },
        }
    }
}

impl Iterator for Getopt<'_> {
    type Item = Result<Opt, GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.group.is_empty() {
            let c = self.group.remove(0);
            return Some(self.short(c));
        }
        loop {
            let arg = self.args.next()?;
            if arg == "--" {
                self.operands.extend(self.args.by_ref().cloned());
                return None;
            }
            if let Some(body) = arg.strip_prefix("--") {
                return Some(self.long(body));
            }
            match arg.strip_prefix('-') {
                Some(shorts) if !shorts.is_empty() => {
                    let mut chars = shorts.chars();
                    let first = chars.next()?;
                    self.group = chars.collect();
                    return Some(self.short(first));
                }
                _ => self.operands.push(arg.clone()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        short: "hgt:p:",
        long: &[
            ("help", HasArg::No, 'h'),
            ("debug", HasArg::No, 'g'),
            ("team-dev", HasArg::Required, 't'),
            ("pid-file", HasArg::Required, 'p'),
            ("pid-other", HasArg::No, 'x'),
        ],
    };

    fn run(args: &[&str]) -> (Vec<Result<Opt, GetoptError>>, Vec<String>) {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut g = Getopt::new("prog", SPEC, &v);
        let opts: Vec<_> = g.by_ref().collect();
        (opts, g.operands().to_vec())
    }

    fn opt(name: char, value: Option<&str>) -> Result<Opt, GetoptError> {
        Ok(Opt {
            name,
            value: value.map(String::from),
        })
    }

    #[test]
    fn groups_attached_values_and_permutation() {
        let (o, ops) = run(&[
            "a",
            "-ggtteam0",
            "b",
            "--team=x",
            "--pid-file",
            "f",
            "--",
            "-g",
        ]);
        assert_eq!(
            o,
            [
                opt('g', None),
                opt('g', None),
                opt('t', Some("team0")),
                opt('t', Some("x")),
                opt('p', Some("f")),
            ]
        );
        assert_eq!(ops, ["a", "b", "-g"]);
        let (o, _) = run(&["-t", "-g"]);
        assert_eq!(o, [opt('t', Some("-g"))]);
        let (_, ops) = run(&["-", "x"]);
        assert_eq!(ops, ["-", "x"]);
    }

    #[test]
    fn glibc_diagnostics() {
        let err = |args: &[&str]| run(args).0.into_iter().find_map(Result::err).unwrap().0;
        assert_eq!(err(&["-q"]), "prog: invalid option -- 'q'");
        assert_eq!(err(&["-t"]), "prog: option requires an argument -- 't'");
        assert_eq!(err(&["--nope"]), "prog: unrecognized option '--nope'");
        assert_eq!(err(&["--nope=1"]), "prog: unrecognized option '--nope=1'");
        assert_eq!(
            err(&["--pid"]),
            "prog: option '--pid' is ambiguous; possibilities: '--pid-file' '--pid-other'"
        );
        assert_eq!(
            err(&["--help=1"]),
            "prog: option '--help' doesn't allow an argument"
        );
        assert_eq!(
            err(&["--team-dev"]),
            "prog: option '--team-dev' requires an argument"
        );
    }
}
