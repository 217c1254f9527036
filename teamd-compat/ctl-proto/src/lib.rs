//! The teamd control protocol, shared by teamd's control front-ends and teamdctl.
//!
//! This crate owns the wire contract of spec §4: the method set and error codes
//! ([`method`]), the usock text framing ([`usock`]), the jansson-compatible JSON
//! dumps and duplicate-rejecting parser every dump and config goes through
//! ([`json`]), and a blocking usock client with libteamdctl's behaviour
//! ([`client`], the only module doing I/O).

pub mod client;
pub mod json;
pub mod method;
pub mod usock;

pub use method::{ErrorCode, Method};
pub use usock::{Call, Reply, Request};
