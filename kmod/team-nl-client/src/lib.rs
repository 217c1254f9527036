//! `team-nl-client`: rteam's kernel layer, what libteam is in C.
//!
//! Owns every conversation with the kernel about team devices: the `team`
//! generic netlink family (options, ports, change events) in [`genl`], links
//! over rtnetlink in [`rtnl`], speed/duplex in [`ethtool`], and [`cache`], the
//! libteam-compatible mirror of a team's option and port lists that tools and
//! the daemon read. The wire format itself lives in the pure `team-nl` crate.

pub mod cache;
mod error;
pub mod ethtool;
pub mod genl;
pub mod rtnl;

pub use error::{strerror, Error, Result};
pub use genl::{TeamEvents, TeamGenl};
/// The rtnetlink crates this one speaks (message types for `Rtnl::add_link` and friends).
pub use rtnetlink;
pub use rtnl::{Link, LinkEvent, LinkEvents, Rtnl};
pub use team_nl;
