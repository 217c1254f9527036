//! teamd-convert's conversions, without I/O: kickstart `network` lines and
//! ifcfg files become a [`team::Team`] each, which the writers turn into
//! NetworkManager keyfiles, systemd-networkd files or teamd JSON; a teamd
//! config becomes a bond ([`bond`]) written as keyfiles, networkd files or
//! `ip link` commands. Messages (file, line, key) are networkd-gen's
//! [`networkd_gen::diag`] ones. Files are read and written by `main` and
//! [`output`] only.

#![forbid(unsafe_code)]

pub mod bond;
pub mod bond_out;
pub mod ifcfg;
pub mod keyfile;
pub mod kickstart;
pub mod ks_lex;
pub mod ks_network;
pub mod network_scripts;
pub mod networkd;
pub mod output;
pub mod team;
pub mod teamd_json;

use networkd_gen::diag::Diags;

/// What a team is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamFormat {
    Nm,
    Networkd,
    Teamd,
}

/// All files for `teams` in one format; problems go to `diags`.
pub fn team_outputs(
    teams: &[team::Team],
    format: TeamFormat,
    new_uuid: &mut dyn FnMut() -> String,
    diags: &mut Diags,
) -> Vec<output::OutFile> {
    teams
        .iter()
        .flat_map(|t| match format {
            TeamFormat::Nm => keyfile::team_files(t, new_uuid),
            TeamFormat::Networkd => networkd::team_files(t, diags),
            TeamFormat::Teamd => teamd_json::team_files(t, diags),
        })
        .collect()
}
