//! `team-nl`: the Linux Team generic netlink family as pure data.
//!
//! Owns the wire format of the `team` genl family (commands, attributes, option
//! and port items) and nothing else: no sockets, no async, no netlink header.
//! The transport (`team-nl-client`) wraps these payloads in netlink messages.
//! Parsing never panics on kernel input; every error names the attribute.

pub mod consts;
mod error;
mod message;
pub mod nla;
mod option;
mod port;

pub use error::DecodeError;
pub use message::{Command, TeamMessage, GENL_HDR_LEN};
pub use option::{OptionItem, OptionType, OptionValue};
pub use port::PortItem;
