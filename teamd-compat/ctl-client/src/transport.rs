//! The two transports libteamdctl has in Debian's build (usock and dbus; no
//! zmq): how each connects, calls a method, and logs its failures.

use std::time::Duration;

use nix::errno::Errno;
use teamd_ctl_proto::usock::ReplyError;
use teamd_ctl_proto::Method;

use crate::log::Log;
use crate::usock::{ClientError, UsockClient, REPLY_TIMEOUT};

/// A transport by the name `teamdctl_connect` takes in `cli_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    Usock,
    Dbus,
}

impl Cli {
    /// The transports in the order libteamdctl tries them.
    pub const ALL: [Cli; 2] = [Cli::Usock, Cli::Dbus];

    pub fn name(self) -> &'static str {
        match self {
            Cli::Usock => "usock",
            Cli::Dbus => "dbus",
        }
    }

    /// libdbus clients prove the peer is there with a ConfigDump at connect.
    fn needs_test_call(self) -> bool {
        self == Cli::Dbus
    }
}

/// A connected transport.
pub enum Client {
    Usock(UsockClient),
    Dbus(DbusClient),
}

/// libdbus is blocking; zbus is async: a private single-thread runtime drives
/// each call (no threads of our own in the caller's process).
pub struct DbusClient {
    rt: tokio::runtime::Runtime,
    proxy: teamd_dbus::client::TeamdProxy<'static>,
    timeout: Duration,
}

impl Client {
    /// Connects with `cli` to the teamd of `team`, including dbus's test call.
    pub fn connect(cli: Cli, log: &mut Log, team: &str) -> Result<Client, Errno> {
        let mut client = match cli {
            Cli::Usock => Client::Usock(init_usock(log, team)?),
            Cli::Dbus => Client::Dbus(init_dbus(log, team)?),
        };
        if cli.needs_test_call() {
            client.call(log, Method::ConfigDump, &[])?;
        }
        Ok(client)
    }

    /// One method call; the success payload (empty for methods without one).
    pub fn call(&mut self, log: &mut Log, method: Method, args: &[&str]) -> Result<String, Errno> {
        match self {
            Client::Usock(c) => c.call(method, args).map_err(|e| {
                log_usock_error(log, &e);
                e.errno()
            }),
            Client::Dbus(c) => dbus_call(log, c, method, args),
        }
    }
}

fn init_usock(log: &mut Log, team: &str) -> Result<UsockClient, Errno> {
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

/// libteamdctl's dbus init: validate the bus name, reach the system bus.
fn init_dbus(log: &mut Log, team: &str) -> Result<DbusClient, Errno> {
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
    Ok(DbusClient {
        rt,
        proxy,
        timeout: REPLY_TIMEOUT,
    })
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

fn dbus_call(
    log: &mut Log,
    c: &DbusClient,
    method: Method,
    args: &[&str],
) -> Result<String, Errno> {
    let call = teamd_dbus::client::call(&c.proxy, method, args);
    // libteamdctl gives every call the 5 s reply timeout
    let result =
        c.rt.block_on(async { tokio::time::timeout(c.timeout, call).await });
    match result {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) if !e.name.is_empty() => {
            const FN: &str = "cli_dbus_check_error_msg";
            log.err(FN, &format!("dbus: Error message received: \"{}\"", e.name));
            log.err(
                FN,
                &format!("dbus: Error message content: \"{}\"", e.message),
            );
            Err(Errno::EINVAL)
        }
        Ok(Err(_)) | Err(_) => {
            log.err("cli_dbus_method_call", "dbus: Failed to get reply.");
            Err(Errno::EINVAL)
        }
    }
}

fn log_usock_error(log: &mut Log, e: &ClientError) {
    const FN: &str = "cli_usock_process_msg";
    // libteamdctl's texts, including the doubled newline of some
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
        // send/receive failures and timeouts are silent there
        _ => {}
    }
}
