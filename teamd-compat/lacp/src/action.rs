//! What the LACP machine asks the daemon to do. The daemon applies the
//! actions in order; none of them reports back except through later events.

use std::time::Duration;

use crate::lacpdu::Lacpdu;
use crate::port::PortTimer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this LACPDU on the port.
    Send {
        ifindex: u32,
        pdu: Lacpdu,
    },
    /// Set the kernel `enabled` option of the port.
    SetEnabled {
        ifindex: u32,
        enabled: bool,
    },
    /// Force the team device's carrier (IFLA_CARRIER).
    SetCarrier(bool),
    /// (Re)arm a port timer to fire once after `after` (zero: at once).
    ArmTimer {
        ifindex: u32,
        timer: PortTimer,
        after: Duration,
    },
    /// Re-arm a port timer that just fired for `period` after the moment it
    /// was due, not after now: periodic LACPDUs keep their phase when the
    /// daemon is late (as C's periodic timerfd), so a busy host delays one
    /// LACPDU rather than every one after it.
    RepeatTimer {
        ifindex: u32,
        timer: PortTimer,
        period: Duration,
    },
    CancelTimer {
        ifindex: u32,
        timer: PortTimer,
    },
    Log {
        level: LogLevel,
        msg: String,
    },
}
