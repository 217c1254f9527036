//! libteamdctl's behaviour in safe Rust, shared by `teamdctl` and the
//! drop-in `libteamdctl.so.0` (`nm-plugin`).
//!
//! This crate owns what the C library does between its API and the wire:
//! which transport `teamdctl_connect` picks and in what order ([`transport`]),
//! the per-handle reply cache and its lifetime rules ([`handle`]), and the log
//! threshold and stderr lines ([`log`]), and the blocking unix-socket client
//! ([`usock`]). The wire formats themselves live in `teamd-ctl-proto` and
//! `teamd-dbus`.

pub mod handle;
pub mod log;
pub mod transport;
pub mod usock;

pub use handle::Handle;
pub use transport::Cli;
