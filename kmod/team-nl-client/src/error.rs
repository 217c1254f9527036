use team_nl::DecodeError;
use thiserror::Error;

/// An operation on the kernel failed. Every variant carries what was attempted
/// (`op`, e.g. "enslave eth1 to team0"), and kernel refusals carry the errno.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{op}: {}", strerror(*errno))]
    Kernel { op: String, errno: i32 },
    #[error("{op}: bad reply from the kernel: {source}")]
    Decode {
        op: String,
        #[source]
        source: DecodeError,
    },
    #[error("{op}: {msg}")]
    Transport { op: String, msg: String },
}

impl Error {
    /// The kernel's errno (positive), when the kernel refused.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// A kernel refusal of `op` with `errno` (sign ignored).
    pub fn kernel(op: impl Into<String>, errno: i32) -> Self {
        Error::Kernel {
            op: op.into(),
            errno: errno.abs(),
        }
    }

    pub(crate) fn transport(op: impl Into<String>, msg: impl ToString) -> Self {
        Error::Transport {
            op: op.into(),
            msg: msg.to_string(),
        }
    }
}

/// The C library's text for an errno ("Device or resource busy"), exactly as
/// libteam's tools print it: std asks libc (`strerror_r`) and appends
/// " (os error N)", which is cut off here.
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    #[test]
    fn strerror_is_the_c_library_text() {
        assert_eq!(super::strerror(34), "Numerical result out of range");
        assert_eq!(super::strerror(16), "Device or resource busy");
    }
}
