//! Why a frame is not a probe or a reply to one.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProbeError {
    #[error("{what} truncated: {len} bytes, need {need}")]
    Truncated {
        what: &'static str,
        len: usize,
        need: usize,
    },
    #[error("ethertype {got:#06x}, expected {want:#06x}")]
    EtherType { got: u16, want: u16 },
    #[error("not an IPv6 header (version {0})")]
    IpVersion(u8),
    #[error("IPv6 payload length {0}, a neighbour advertisement with one option has 32")]
    PayloadLength(u16),
    #[error("IPv6 next header {0}, expected ICMPv6 (58)")]
    NextHeader(u8),
    #[error("hop limit {0}, neighbour discovery requires 255")]
    HopLimit(u8),
    #[error("ICMPv6 type {0}, expected a neighbour advertisement (136)")]
    IcmpType(u8),
    #[error("ICMPv6 checksum {got:#06x}, computed {want:#06x}")]
    Checksum { got: u16, want: u16 },
    #[error(
        "first option type {kind} length {len}, expected target link-layer address (2) of length 1"
    )]
    NdOption { kind: u8, len: u8 },
}
