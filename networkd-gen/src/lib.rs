//! systemd-networkd users get team devices: `.netdev` files with
//! `Kind=team` and a `[Team]` section, port `.network` files with
//! `[Network] Team=`, `/etc/teamd/DEV.conf` and dracut's `team=` on the
//! kernel command line become `teamd@DEV` instances, their
//! `/run/teamd/DEV.conf`, and `/run/systemd/network` files that keep
//! networkd off the ports.
//!
//! Two programs share this library: `teamd-networkd-generator` (units,
//! drop-ins and symlinks only, as a generator must) and
//! `teamd-networkd-helper` (the oneshot service that writes the files and
//! makes running teams follow changes). Everything here but `load`,
//! `helper::apply` and `generator::write` is pure.

#![forbid(unsafe_code)]

pub mod cmdline;
pub mod diag;
pub mod generator;
pub mod helper;
pub mod ini;
pub mod keys;
pub mod load;
pub mod model;
pub mod netdev_team;
pub mod network;
pub mod output;
pub mod values;

use diag::Diags;

/// Writes the messages, one line each with the syslog priority prefix that
/// journald (stderr of a service) and the kernel log (/dev/kmsg) read.
pub fn log_diags(diags: &Diags, tag: &str, out: &mut dyn std::io::Write) {
    for d in &diags.0 {
        // one write per line: /dev/kmsg makes a record of each write
        let line = format!("{}{tag}: {d}\n", d.level.syslog_prefix());
        // a lost log line is no reason to stop
        let _ = out.write_all(line.as_bytes());
    }
}
