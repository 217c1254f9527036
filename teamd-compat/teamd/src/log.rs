//! teamd's log: plain lines on stderr (or stdout, or syslog when daemonized),
//! with C teamd's levels. Info is shown by default, debug only with `-g` or
//! `debug_level`; setting the debug level back to 0 at runtime hides info too
//! (C teamd drops to LOG_WARNING then).

use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Err = 3,
    Warn = 4,
    Info = 6,
    Debug = 7,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stderr = 0,
    Stdout = 1,
    Syslog = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Level::Info as u8);
static DEBUG: AtomicU32 = AtomicU32::new(0);
static OUTPUT: AtomicU8 = AtomicU8::new(Output::Stderr as u8);
static SYSLOG: Mutex<Option<syslog::Logger<syslog::LoggerBackend, syslog::Formatter3164>>> =
    Mutex::new(None);

pub fn set_output(out: Output, ident: &str) {
    OUTPUT.store(out as u8, Ordering::Relaxed);
    if out == Output::Syslog {
        let formatter = syslog::Formatter3164 {
            facility: syslog::Facility::LOG_DAEMON,
            hostname: None,
            process: ident.to_string(),
            pid: std::process::id(),
        };
        if let Ok(mut guard) = SYSLOG.lock() {
            *guard = syslog::unix(formatter).ok();
        }
    }
}

pub fn debug_level() -> u32 {
    DEBUG.load(Ordering::Relaxed)
}

/// Sets the debug level; 0 after a non-zero level lowers verbosity to warnings.
pub fn set_debug_level(level: u32) {
    let old = DEBUG.swap(level, Ordering::Relaxed);
    let verbosity = if level > 0 {
        Level::Debug
    } else if old > 0 {
        Level::Warn
    } else {
        Level::Info
    };
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
}

pub fn log(level: Level, msg: &str) {
    if level as u8 > VERBOSITY.load(Ordering::Relaxed) {
        return;
    }
    match OUTPUT.load(Ordering::Relaxed) {
        1 => {
            let _ = writeln!(std::io::stdout().lock(), "{msg}");
        }
        2 => {
            if let Ok(mut guard) = SYSLOG.lock() {
                if let Some(logger) = guard.as_mut() {
                    let _ = match level {
                        Level::Err => logger.err(msg),
                        Level::Warn => logger.warning(msg),
                        Level::Info => logger.info(msg),
                        Level::Debug => logger.debug(msg),
                    };
                }
            }
        }
        _ => {
            let _ = writeln!(std::io::stderr().lock(), "{msg}");
        }
    }
}

pub fn err(msg: &str) {
    log(Level::Err, msg);
}

pub fn warn(msg: &str) {
    log(Level::Warn, msg);
}

pub fn info(msg: &str) {
    log(Level::Info, msg);
}

/// Debug messages of level `lvl` (1 normal, 2 extra).
pub fn dbg(lvl: u32, msg: impl FnOnce() -> String) {
    if debug_level() >= lvl {
        log(Level::Debug, &msg());
    }
}
