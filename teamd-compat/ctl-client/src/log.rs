//! libteamdctl's logging: a priority threshold (default LOG_ERR, `TEAMDCTL_LOG`
//! overrides it) and a sink, stderr lines `libteamdctl: <function>: <text>`
//! unless the library user installs its own.

/// syslog priorities libteamdctl compares against.
pub const LOG_EMERG: i32 = 0;
pub const LOG_ERR: i32 = 3;
pub const LOG_INFO: i32 = 6;
pub const LOG_DEBUG: i32 = 7;

/// One message, with the C-style origin a custom log function receives.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub priority: i32,
    pub file: &'a str,
    pub line: u32,
    pub function: &'a str,
    pub text: &'a str,
}

/// Where messages go when they pass the threshold.
pub type Sink = Box<dyn FnMut(&Record<'_>)>;

/// The threshold and the sink.
pub struct Log {
    pub priority: i32,
    sink: Option<Sink>,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            priority: LOG_ERR,
            sink: None,
        }
    }
}

impl Log {
    /// LOG_ERR, or what `TEAMDCTL_LOG` says.
    pub fn from_env() -> Log {
        let mut log = Log::default();
        if let Ok(v) = std::env::var("TEAMDCTL_LOG") {
            log.priority = parse_priority(&v);
        }
        log
    }

    /// Replaces the sink; `None` restores the stderr lines.
    pub fn set_sink(&mut self, sink: Option<Sink>) {
        self.sink = sink;
    }

    /// Emits `text` from `function` at `priority` if the threshold allows it.
    pub fn emit(&mut self, priority: i32, function: &str, text: &str) {
        if self.priority < priority {
            return;
        }
        let record = Record {
            priority,
            file: file!(),
            line: line!(),
            function,
            text,
        };
        match self.sink.as_mut() {
            Some(sink) => sink(&record),
            None => eprintln!("libteamdctl: {function}: {text}"),
        }
    }

    pub fn err(&mut self, function: &str, text: &str) {
        self.emit(LOG_ERR, function, text);
    }

    pub fn debug(&mut self, function: &str, text: &str) {
        self.emit(LOG_DEBUG, function, text);
    }
}

/// `strtol` over the whole (or whitespace-terminated) string, else a name
/// prefix `err`/`info`/`debug`, else 0 — as libteamdctl reads `TEAMDCTL_LOG`.
pub fn parse_priority(s: &str) -> i32 {
    let trimmed = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (sign, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (-1i64, &trimmed[1..]),
        Some(b'+') => (1, &trimmed[1..]),
        _ => (1, trimmed),
    };
    let n_digits = digits.bytes().take_while(u8::is_ascii_digit).count();
    // strtol leaves the end pointer at the start when no digit was read
    let after = if n_digits == 0 {
        s
    } else {
        &digits[n_digits..]
    };
    if after.is_empty() || after.starts_with(|c: char| c.is_ascii_whitespace()) {
        let value = digits[..n_digits]
            .bytes()
            .fold(0i64, |acc, d| {
                acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
            })
            .saturating_mul(sign);
        // strtol's long, then the implicit conversion to int
        return value as i32;
    }
    if s.starts_with("err") {
        LOG_ERR
    } else if s.starts_with("info") {
        LOG_INFO
    } else if s.starts_with("debug") {
        LOG_DEBUG
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn priority_parsing() {
        assert_eq!(parse_priority("7"), 7);
        assert_eq!(parse_priority(" 5 "), 5);
        assert_eq!(parse_priority("-1"), -1);
        assert_eq!(parse_priority(""), 0);
        assert_eq!(parse_priority("err"), LOG_ERR);
        assert_eq!(parse_priority("errors"), LOG_ERR);
        assert_eq!(parse_priority("info"), LOG_INFO);
        assert_eq!(parse_priority("debug"), LOG_DEBUG);
        assert_eq!(parse_priority("5x"), 0);
        assert_eq!(parse_priority("loud"), 0);
    }

    #[test]
    fn threshold_and_custom_sink() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let mut log = Log::default();
        let s = seen.clone();
        log.set_sink(Some(Box::new(move |r: &Record<'_>| {
            s.borrow_mut()
                .push(format!("{} {} {}", r.priority, r.function, r.text));
        })));
        log.debug("f", "hidden at LOG_ERR");
        log.err("f", "shown");
        log.priority = LOG_DEBUG;
        log.debug("g", "now shown");
        log.priority = LOG_EMERG;
        log.err("h", "silenced");
        assert_eq!(*seen.borrow(), vec!["3 f shown", "7 g now shown"]);
    }
}
