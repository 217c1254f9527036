// SPDX-License-Identifier: GPL-2.0-only
//! Errors the driver returns to the kernel, as the errno values team.ko uses.

/// A failure, mapped to a negative errno only at the kernel edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    Perm,
    NoEnt,
    NoMem,
    Busy,
    NoDev,
    Inval,
    MsgSize,
    OpNotSupp,
    AddrNotAvail,
}

impl Errno {
    /// The positive errno number (Linux x86/generic values).
    pub const fn code(self) -> i32 {
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::NoMem => 12,
            Errno::Busy => 16,
            Errno::NoDev => 19,
            Errno::Inval => 22,
            Errno::MsgSize => 90,
            Errno::OpNotSupp => 95,
            Errno::AddrNotAvail => 99,
        }
    }

    /// What a kernel callback returns for this error.
    pub const fn to_neg(self) -> i32 {
        -self.code()
    }
}
