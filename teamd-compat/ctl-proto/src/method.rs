//! The teamd control method set and its error codes (spec §4.1), shared by the
//! usock, D-Bus and ZeroMQ transports.

use std::fmt;

/// The D-Bus interface and the prefix of every D-Bus error name.
pub const DBUS_INTERFACE: &str = "org.libteam.teamd";

/// The control methods: C teamd's nine, plus `ConfigReload` (rteam's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    ConfigDump,
    ConfigDumpActual,
    StateDump,
    StateItemValueGet,
    StateItemValueSet,
    PortAdd,
    PortRemove,
    PortConfigUpdate,
    PortConfigDump,
    /// Applies a new config document live; an empty argument re-reads the
    /// file teamd was started with.
    ConfigReload,
}

impl Method {
    /// Every method, in the order of the spec's table.
    pub const ALL: [Method; 10] = [
        Method::ConfigDump,
        Method::ConfigDumpActual,
        Method::StateDump,
        Method::StateItemValueGet,
        Method::StateItemValueSet,
        Method::PortAdd,
        Method::PortRemove,
        Method::PortConfigUpdate,
        Method::PortConfigDump,
        Method::ConfigReload,
    ];

    /// The wire name, identical on every transport.
    pub const fn name(self) -> &'static str {
        match self {
            Method::ConfigDump => "ConfigDump",
            Method::ConfigDumpActual => "ConfigDumpActual",
            Method::StateDump => "StateDump",
            Method::StateItemValueGet => "StateItemValueGet",
            Method::StateItemValueSet => "StateItemValueSet",
            Method::PortAdd => "PortAdd",
            Method::PortRemove => "PortRemove",
            Method::PortConfigUpdate => "PortConfigUpdate",
            Method::PortConfigDump => "PortConfigDump",
            Method::ConfigReload => "ConfigReload",
        }
    }

    /// Exact (case-sensitive) lookup, as teamd's `strcmp` does.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The names of the string arguments, as teamd's D-Bus introspection XML
    /// declares them; their count is what the method takes on every transport.
    pub const fn arg_names(self) -> &'static [&'static str] {
        match self {
            Method::ConfigDump | Method::ConfigDumpActual | Method::StateDump => &[],
            Method::StateItemValueGet => &["state_item_path"],
            Method::StateItemValueSet => &["state_item_path", "value"],
            Method::PortAdd | Method::PortRemove | Method::PortConfigDump => &["port_devname"],
            Method::PortConfigUpdate => &["port_devname", "port_config"],
            Method::ConfigReload => &["config"],
        }
    }

    /// How many string arguments the method takes.
    pub const fn arg_count(self) -> usize {
        self.arg_names().len()
    }

    /// Whether a successful reply carries a payload (D-Bus signature `s`).
    pub const fn returns_payload(self) -> bool {
        matches!(
            self,
            Method::ConfigDump
                | Method::ConfigDumpActual
                | Method::StateDump
                | Method::StateItemValueGet
                | Method::PortConfigDump
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Defines `ErrorCode` from one table so that code, message and D-Bus name
/// cannot drift apart.
macro_rules! error_codes {
    ($($variant:ident => $msg:literal,)*) => {
        /// An error a control method can return; the code and message texts are
        /// part of the wire protocol.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of the spec's list.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent on the wire (`NoSuchDev`).
            pub const fn code(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => stringify!($variant),)*
                }
            }

            /// The fixed human-readable message teamd sends with the code.
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $msg,)*
                }
            }

            /// The D-Bus error name: the interface name directly followed by the
            /// code, without a dot (`org.libteam.teamdNoSuchDev`), as teamd sends it.
            pub const fn dbus_name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!("org.libteam.teamd", stringify!($variant)),)*
                }
            }
        }
    };
}

error_codes! {
    InvalidArgs => "Did not receive correct message arguments.",
    NoSuchDev => "No such device.",
    ConfigUpdateFail => "Failed to update config.",
    ConfigDumpFail => "Failed to dump config.",
    PortAddFail => "Failed to add port.",
    PortRemoveFail => "Failed to del port.",
    ConfigDumpActualFail => "Failed to dump actual config.",
    StateDumpFail => "Failed to dump state.",
    PathDoesNotExist => "Item path does not exist.",
    ItemValueGetFail => "Failed to get item value.",
    OpNotSupp => "Operation not supported.",
    ItemValueSetFail => "Failed to set item value.",
    ConfigReloadFail => "Failed to reload config.",
}

impl ErrorCode {
    /// Lookup by wire code (`"NoSuchDev"`).
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// Lookup by D-Bus error name (`"org.libteam.teamdNoSuchDev"`).
    pub fn from_dbus_name(name: &str) -> Option<ErrorCode> {
        name.strip_prefix(DBUS_INTERFACE)
            .and_then(ErrorCode::from_code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_and_arity() {
        let expect = [
            ("ConfigDump", 0),
            ("ConfigDumpActual", 0),
            ("StateDump", 0),
            ("StateItemValueGet", 1),
            ("StateItemValueSet", 2),
            ("PortAdd", 1),
            ("PortRemove", 1),
            ("PortConfigUpdate", 2),
            ("PortConfigDump", 1),
            ("ConfigReload", 1),
        ];
        for (m, (name, n)) in Method::ALL.iter().zip(expect) {
            assert_eq!(m.name(), name);
            assert_eq!(m.arg_count(), n);
            assert_eq!(Method::from_name(name), Some(*m));
        }
        assert_eq!(Method::from_name("configdump"), None);
        assert_eq!(Method::from_name("PortPresent"), None);
        assert!(Method::StateItemValueGet.returns_payload());
        assert!(!Method::PortAdd.returns_payload());
    }

    #[test]
    fn error_texts() {
        let expect = [
            ("InvalidArgs", "Did not receive correct message arguments."),
            ("NoSuchDev", "No such device."),
            ("ConfigUpdateFail", "Failed to update config."),
            ("ConfigDumpFail", "Failed to dump config."),
            ("PortAddFail", "Failed to add port."),
            ("PortRemoveFail", "Failed to del port."),
            ("ConfigDumpActualFail", "Failed to dump actual config."),
            ("StateDumpFail", "Failed to dump state."),
            ("PathDoesNotExist", "Item path does not exist."),
            ("ItemValueGetFail", "Failed to get item value."),
            ("OpNotSupp", "Operation not supported."),
            ("ItemValueSetFail", "Failed to set item value."),
            ("ConfigReloadFail", "Failed to reload config."),
        ];
        assert_eq!(ErrorCode::ALL.len(), expect.len());
        for (c, (code, msg)) in ErrorCode::ALL.iter().zip(expect) {
            assert_eq!(c.code(), code);
            assert_eq!(c.message(), msg);
            assert_eq!(c.dbus_name(), format!("org.libteam.teamd{code}"));
            assert_eq!(ErrorCode::from_code(code), Some(*c));
            assert_eq!(ErrorCode::from_dbus_name(c.dbus_name()), Some(*c));
        }
        assert_eq!(
            ErrorCode::from_dbus_name("org.libteam.teamd.NoSuchDev"),
            None
        );
    }
}
