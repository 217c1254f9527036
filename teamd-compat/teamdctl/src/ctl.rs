//! What teamdctl gets from libteamdctl: transport selection, the reply cache
//! filled at connect time (ConfigDump, ConfigDumpActual, StateDump), and the
//! library's stderr log lines (`libteamdctl: <function>: <text>`), which
//! scripts see and which we therefore reproduce.

use nix::errno::Errno;
use teamd_ctl_proto::client::{ClientError, UsockClient};
use teamd_ctl_proto::usock::ReplyError;
use teamd_ctl_proto::Method;

/// syslog priorities libteamdctl compares against.
const LOG_ERR: i32 = 3;
const LOG_INFO: i32 = 6;
const LOG_DEBUG: i32 = 7;

/// A transport the user may force (`-U`, `-D`); tried in this order otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    Usock,
    Dbus,
}

impl Cli {
    fn name(self) -> &'static str {
        match self {
            Cli::Usock => "usock",
            Cli::Dbus => "dbus",
        }
    }
}

/// The connected transport.
enum Client {
    Usock(UsockClient),
    Dbus(DbusClient),
}

/// libdbus is blocking; zbus is async: a private runtime drives each call.
struct DbusClient {
    rt: tokio::runtime::Runtime,
    proxy: teamd_dbus::client::TeamdProxy<'static>,
}

/// libteamdctl's stderr logger with its priority threshold.
struct Log {
    priority: i32,
}

impl Log {
    /// Default LOG_ERR, overridden by `TEAMDCTL_LOG` as libteamdctl parses it.
    fn from_env() -> Log {
        let priority = std::env::var("TEAMDCTL_LOG").map_or(LOG_ERR, |v| parse_priority(&v));
        Log { priority }
    }

    fn err(&self, function: &str, text: &str) {
        if self.priority >= LOG_ERR {
            eprintln!("libteamdctl: {function}: {text}");
        }
    }
}

/// `strtol` with the whole (or whitespace-terminated) string a number, else a
/// name prefix `err`/`info`/`debug`, else 0 — as libteamdctl's `log_priority`.
fn parse_priority(s: &str) -> i32 {
    let trimmed = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (sign, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (-1i64, &trimmed[1..]),
        Some(b'+') => (1, &trimmed[1..]),
        _ => (1, trimmed),
    };
    let n_digits = digits.bytes().take_while(u8::is_ascii_digit).count();
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

/// A connected session with the three cached dumps.
pub struct Teamdctl {
    log: Log,
    client: Client,
    pub config: String,
    pub config_actual: String,
    pub state: String,
}

impl Teamdctl {
    /// `teamdctl_connect`: try each transport (or only the forced one), then
    /// fill the cache. Errors are logged as libteamdctl logs them; the returned
    /// errno is what teamdctl prints in `teamdctl_connect failed (...)`.
    pub fn connect(team: &str, forced: Option<Cli>) -> Result<Teamdctl, Errno> {
        let mut log = Log::from_env();
        let mut connected = None;
        for cli in [Cli::Usock, Cli::Dbus] {
            if forced.is_some_and(|f| f != cli) {
                continue;
            }
            // while probing, libteamdctl silences the transports' errors
            let orig = log.priority;
            if forced.is_none() && orig < LOG_DEBUG {
                log.priority = 0;
            }
            let result = match cli {
                Cli::Usock => init_usock(&log, team).map(Client::Usock),
                Cli::Dbus => init_dbus(&log, team).map(Client::Dbus),
            };
            log.priority = orig;
            match result {
                Ok(client) => {
                    connected = Some(client);
                    break;
                }
                Err(e) if forced.is_some() => {
                    log.err(
                        "teamdctl_connect",
                        &format!("Failed to connect using CLI \"{}\".", cli.name()),
                    );
                    return Err(e);
                }
                Err(_) => {}
            }
        }
        let Some(client) = connected else {
            log.err("teamdctl_connect", "Failed to connect using all CLIs.");
            return Err(Errno::EINVAL);
        };
        let mut tdc = Teamdctl {
            log,
            client,
            config: String::new(),
            config_actual: String::new(),
            state: String::new(),
        };
        tdc.config = tdc.call(Method::ConfigDump, &[])?;
        tdc.config_actual = tdc.call(Method::ConfigDumpActual, &[])?;
        tdc.state = tdc.call(Method::StateDump, &[])?;
        Ok(tdc)
    }

    /// One method call; failures are logged like libteamdctl's usock client.
    pub fn call(&mut self, method: Method, args: &[&str]) -> Result<String, Errno> {
        match &mut self.client {
            Client::Usock(c) => c.call(method, args).map_err(|e| {
                log_call_error(&self.log, &e);
                e.errno()
            }),
            Client::Dbus(c) => dbus_call(&self.log, c, method, args),
        }
    }
}

fn init_usock(log: &Log, team: &str) -> Result<UsockClient, Errno> {
    UsockClient::connect(team).map_err(|e| {
        let text = match &e {
            ClientError::Connect { path, .. } => {
                format!("usock: Failed to connect socket ({}).", path.display())
            }
            _ => "usock: Failed to create socket.".to_string(),
        };
        log.err("cli_usock_init", &text);
        e.errno()
    })
}

/// libteamdctl's dbus client: resolve the system bus, then a test call
/// (ConfigDump) proves the service is there.
fn init_dbus(log: &Log, team: &str) -> Result<DbusClient, Errno> {
    let name = teamd_dbus::bus_name(team);
    if zbus::names::BusName::try_from(name.as_str()).is_err() {
        log.err(
            "cli_dbus_init",
            &format!("dbus: Could not validate bus name: org.freedesktop.DBus.Error.InvalidArgs - Invalid bus name '{name}'"),
        );
        return Err(Errno::EINVAL);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| Errno::ENOMEM)?;
    let proxy = rt
        .block_on(teamd_dbus::client::connect(team))
        .map_err(|e| {
            // libdbus names a missing bus socket this way; scripts see the text
            let socket = system_bus_socket();
            let why = if std::path::Path::new(&socket).exists() {
                e.to_string()
            } else {
                format!(
                    "org.freedesktop.DBus.Error.FileNotFound - Failed to connect to socket {socket}: {}",
                    team_nl_client::strerror(Errno::ENOENT as i32)
                )
            };
            log.err(
                "cli_dbus_init",
                &format!("dbus: Could not acquire the system bus: {why}"),
            );
            Errno::EINVAL
        })?;
    let client = DbusClient { rt, proxy };
    dbus_call(log, &client, Method::ConfigDump, &[])?;
    Ok(client)
}

/// The system bus socket path: `DBUS_SYSTEM_BUS_ADDRESS`'s unix path, else
/// libdbus's default.
fn system_bus_socket() -> String {
    std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
        .ok()
        .and_then(|a| {
            a.strip_prefix("unix:path=")
                .map(|p| p.split(',').next().unwrap_or(p).to_string())
        })
        .unwrap_or_else(|| "/run/dbus/system_bus_socket".to_string())
}

fn dbus_call(log: &Log, c: &DbusClient, method: Method, args: &[&str]) -> Result<String, Errno> {
    c.rt.block_on(teamd_dbus::client::call(&c.proxy, method, args))
        .map_err(|e| {
            if e.name.is_empty() {
                log.err("cli_dbus_method_call", "dbus: Failed to get reply.");
            } else {
                const FN: &str = "cli_dbus_check_error_msg";
                log.err(FN, &format!("dbus: Error message received: \"{}\"", e.name));
                log.err(
                    FN,
                    &format!("dbus: Error message content: \"{}\"", e.message),
                );
            }
            Errno::EINVAL
        })
}

fn log_call_error(log: &Log, e: &ClientError) {
    const FN: &str = "cli_usock_process_msg";
    // libteamdctl's texts, including the doubled newline of the first two
    let incomplete = "usock: Incomplete message.\n";
    match e {
        ClientError::Remote { code, message } => {
            log.err(FN, &format!("usock: Error message received: \"{code}\""));
            log.err(FN, &format!("usock: Error message content: \"{message}\""));
        }
        ClientError::Decode(ReplyError::UnsupportedType { .. }) => {
            log.err(FN, "usock: Unsupported message type.\n");
        }
        ClientError::Decode(ReplyError::MissingErrorMessage { code }) => {
            log.err(FN, &format!("usock: Error message received: \"{code}\""));
            log.err(FN, incomplete);
        }
        ClientError::Decode(ReplyError::Empty | ReplyError::MissingErrorCode) => {
            log.err(FN, incomplete);
        }
        // libteamdctl would pass the bytes through; we cannot, so say why
        ClientError::Decode(other @ ReplyError::InvalidUtf8 { .. }) => {
            log.err(FN, &format!("usock: {other}"));
        }
        // send/wait/receive failures are silent there (timeouts are debug)
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_priority_parsing() {
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
}
