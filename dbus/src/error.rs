//! teamd's D-Bus errors: `org.libteam.teamd` + code with no dot in between
//! (C teamd builds them with `asprintf("%s%s")`), message = the code's text.

use teamd_ctl_proto::method::ErrorCode;

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.libteam")]
pub enum TeamdError {
    #[zbus(error)]
    ZBus(zbus::Error),
    #[zbus(name = "teamdInvalidArgs")]
    InvalidArgs(String),
    #[zbus(name = "teamdNoSuchDev")]
    NoSuchDev(String),
    #[zbus(name = "teamdConfigUpdateFail")]
    ConfigUpdateFail(String),
    #[zbus(name = "teamdConfigDumpFail")]
    ConfigDumpFail(String),
    #[zbus(name = "teamdPortAddFail")]
    PortAddFail(String),
    #[zbus(name = "teamdPortRemoveFail")]
    PortRemoveFail(String),
    #[zbus(name = "teamdConfigDumpActualFail")]
    ConfigDumpActualFail(String),
    #[zbus(name = "teamdStateDumpFail")]
    StateDumpFail(String),
    #[zbus(name = "teamdPathDoesNotExist")]
    PathDoesNotExist(String),
    #[zbus(name = "teamdItemValueGetFail")]
    ItemValueGetFail(String),
    #[zbus(name = "teamdOpNotSupp")]
    OpNotSupp(String),
    #[zbus(name = "teamdItemValueSetFail")]
    ItemValueSetFail(String),
    #[zbus(name = "teamdConfigReloadFail")]
    ConfigReloadFail(String),
}

impl TeamdError {
    /// The D-Bus error for a control error code and its message.
    pub fn from_code(code: ErrorCode, message: String) -> Self {
        match code {
            ErrorCode::InvalidArgs => TeamdError::InvalidArgs(message),
            ErrorCode::NoSuchDev => TeamdError::NoSuchDev(message),
            ErrorCode::ConfigUpdateFail => TeamdError::ConfigUpdateFail(message),
            ErrorCode::ConfigDumpFail => TeamdError::ConfigDumpFail(message),
            ErrorCode::PortAddFail => TeamdError::PortAddFail(message),
            ErrorCode::PortRemoveFail => TeamdError::PortRemoveFail(message),
            ErrorCode::ConfigDumpActualFail => TeamdError::ConfigDumpActualFail(message),
            ErrorCode::StateDumpFail => TeamdError::StateDumpFail(message),
            ErrorCode::PathDoesNotExist => TeamdError::PathDoesNotExist(message),
            ErrorCode::ItemValueGetFail => TeamdError::ItemValueGetFail(message),
            ErrorCode::OpNotSupp => TeamdError::OpNotSupp(message),
            ErrorCode::ItemValueSetFail => TeamdError::ItemValueSetFail(message),
            ErrorCode::ConfigReloadFail => TeamdError::ConfigReloadFail(message),
        }
    }
}
