//! The teamd control protocol, shared by teamd's control front-ends and teamdctl.
//!
//! This crate owns the wire contract of spec §4: the method set and error codes
//! ([`method`]), the usock text framing ([`usock`]), the jansson-compatible JSON
//! dumps and duplicate-rejecting parser every dump and config goes through
//! ([`json`]). It parses and serialises only, with no I/O, so every parser
//! here can be fuzzed and used from any transport; the blocking usock client
//! is `teamd-ctl-client`'s.

pub mod json;
pub mod method;
pub mod usock;

pub use method::{ErrorCode, Method};
pub use usock::{Call, Reply, Request};
