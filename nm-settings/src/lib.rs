//! NetworkManager's `team` and `team-port` settings and the teamd config JSON
//! they stand for (integration.md §1.10–1.12), without I/O: for tools that
//! turn profiles into teamd configs or back (kickstart, networkd-gen).
//!
//! - [`team`] and [`port`]: the settings' properties, set by nmcli name with
//!   NM's "set unless default" rule, validated with NM's ranges and runner
//!   restrictions, read from and written to JSON;
//! - [`watcher`]: link-watcher dictionaries (nmcli text, JSON objects);
//! - [`nmjson`]: NM's own JSON spelling (`{ "k": v }`, key order, defaults left out);
//! - [`teamd`]: a whole teamd config split into the team's and each port's part.

pub mod nmjson;
pub mod port;
pub mod team;
pub mod teamd;
pub mod watcher;

/// Why a value, property or JSON text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("unknown property '{0}'")]
    UnknownProperty(String),
    #[error("invalid value '{value}' for {property}")]
    InvalidValue { property: String, value: String },
    #[error("{property}: {value} is out of range {min}..={max}")]
    OutOfRange {
        property: String,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{property} is only valid with runner {runners}")]
    RunnerMismatch { property: String, runners: String },
    #[error("{0}")]
    Invalid(String),
}

/// Parses nmcli's integer text.
pub(crate) fn parse_int(property: &str, value: &str) -> Result<i32, Error> {
    value.trim().parse().map_err(|_| Error::InvalidValue {
        property: property.to_string(),
        value: value.to_string(),
    })
}

/// Parses nmcli's boolean spellings.
pub(crate) fn parse_bool(property: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(Error::InvalidValue {
            property: property.to_string(),
            value: value.to_string(),
        }),
    }
}

/// `min..=max` or the error naming the property.
pub(crate) fn check_range(property: &str, value: i32, min: i32, max: i32) -> Result<(), Error> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            property: property.to_string(),
            value: value.into(),
            min: min.into(),
            max: max.into(),
        })
    }
}
