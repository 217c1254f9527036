//! The bond backend: teamd's config run on a bonding device of the same name,
//! for kernels whose team driver cannot be used (`--backend bond`, or by
//! itself when creating the team device fails because the kernel does not
//! know the kind `team`).
//!
//! - [`options`]: config → bond mode and IFLA_BOND_* options, with
//!   teamd-convert's team2bond mapping; what bonding cannot do is refused.
//! - [`device`]: the bond over rtnetlink (create, enslave, primary, read).
//! - [`view`]: the bond as the kernel reports it, and teamd's state document.
//! - [`daemon`]: the model the control handler (`ctl::handle`) serves.
//! - [`run`]: start-up, the main loop and the exit.

pub mod daemon;
pub mod device;
pub mod options;
pub mod run;
pub mod view;

/// Which kernel device teamd runs the config on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// The team driver; the bond backend when the kernel cannot make a team.
    #[default]
    Auto,
    /// The team driver only.
    Team,
    /// A bonding device.
    Bond,
}

impl Backend {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "team" => Some(Self::Team),
            "bond" => Some(Self::Bond),
            _ => None,
        }
    }
}
