//! `teamd-dbus`: the `org.libteam.teamd` D-Bus interface of teamd.
//!
//! The server side ([`server`]) is a thin zbus object that turns each method
//! call into a control [`Call`](teamd_ctl_proto::usock::Call) for the daemon's
//! one request handler (the same one the unix socket uses) and the handler's
//! [`Reply`](teamd_ctl_proto::usock::Reply) back into a return value or one of
//! teamd's error names (`org.libteam.teamdNoSuchDev`: no dot, as C teamd).
//! The bus name is taken only when the daemon is ready ([`server::expose_name`]).
//! [`client`] is the typed proxy used by `teamdctl -D` and libteamdctl. Both
//! are generated from one method table ([`methods`]), so they cannot drift.

pub mod client;
pub mod error;
pub mod methods;
pub mod server;

/// Object path and interface of every teamd.
pub const PATH: &str = "/org/libteam/teamd";
pub const INTERFACE: &str = "org.libteam.teamd";

/// The well-known name of the teamd of `dev`.
pub fn bus_name(dev: &str) -> String {
    format!("{INTERFACE}.{dev}")
}
