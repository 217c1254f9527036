use thiserror::Error;

/// Why a Team genl message could not be decoded. Each variant says where.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("message too short: {what} needs {need} bytes, {have} left")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("attribute {attr}: length {len} is invalid")]
    BadAttrLength { attr: &'static str, len: usize },
    #[error("attribute {attr}: missing")]
    Missing { attr: &'static str },
    #[error("attribute {attr}: {why}")]
    BadValue { attr: &'static str, why: String },
}
