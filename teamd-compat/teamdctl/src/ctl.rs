//! teamdctl's view of libteamdctl: a connected [`Handle`] and its cached
//! dumps. The library logic (transport order, cache, log lines) is shared
//! with the drop-in libteamdctl.so.0 in `teamd-ctl-client`.

use nix::errno::Errno;
use teamd_ctl_client::Handle;
use teamd_ctl_proto::Method;

pub use teamd_ctl_client::Cli;

/// A connected session.
pub struct Teamdctl {
    handle: Handle,
}

impl Teamdctl {
    /// `teamdctl_connect` with the forced transport, if any; the errno is what
    /// teamdctl prints in `teamdctl_connect failed (...)`.
    pub fn connect(team: &str, forced: Option<Cli>) -> Result<Teamdctl, Errno> {
        let mut handle = Handle::new();
        handle.connect(team, forced.map(Cli::name))?;
        Ok(Teamdctl { handle })
    }

    /// The ConfigDump cached at connect.
    pub fn config(&self) -> &str {
        self.handle.cached_str(Method::ConfigDump)
    }

    /// The ConfigDumpActual cached at connect.
    pub fn config_actual(&self) -> &str {
        self.handle.cached_str(Method::ConfigDumpActual)
    }

    /// The StateDump cached at connect.
    pub fn state(&self) -> &str {
        self.handle.cached_str(Method::StateDump)
    }

    /// One method call, failures logged as libteamdctl logs them.
    pub fn call(&mut self, method: Method, args: &[&str]) -> Result<String, Errno> {
        self.handle.call(method, args)
    }
}
