//! The library context (`struct teamdctl`): the log, the connected transport
//! and the reply cache. Cached replies are NUL-terminated so a C caller can
//! borrow them; each stays where it is until the same entry is refreshed or
//! the handle is dropped, which is the lifetime libteamdctl promises.

use std::ffi::{CStr, CString};

use nix::errno::Errno;
use teamd_ctl_proto::Method;

use crate::log::{Log, LOG_DEBUG, LOG_EMERG};
use crate::transport::{Cli, Client};

/// `IFNAMSIZ`: longer port names are refused before any call.
const IFNAMSIZ: usize = 16;
/// Cache key prefix of PortConfigDump replies.
const PORT_CONFIG_ID: &str = "_portcnf_";

/// One library context.
pub struct Handle {
    pub log: Log,
    client: Option<Client>,
    /// (id, reply) in insertion order; ids are method names or port keys.
    cache: Vec<(String, CString)>,
}

impl Default for Handle {
    fn default() -> Self {
        Handle::new()
    }
}

/// A reply as C sees it after `strdup`: cut at the first NUL.
fn c_reply(reply: String) -> CString {
    let mut bytes = reply.into_bytes();
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    CString::new(bytes).unwrap_or_default()
}

impl Handle {
    /// `teamdctl_alloc`: not connected, LOG_ERR or `TEAMDCTL_LOG`.
    pub fn new() -> Handle {
        Handle {
            log: Log::from_env(),
            client: None,
            cache: Vec::new(),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.client.is_some()
    }

    /// `teamdctl_connect`: `cli_type` names one transport, or `None` tries
    /// usock then dbus with their errors silenced; then the cache is filled.
    /// Errors are positive errnos (the C function returns them negated).
    pub fn connect(&mut self, team: &str, cli_type: Option<&str>) -> Result<(), Errno> {
        const FN: &str = "teamdctl_connect";
        if self.client.is_some() {
            return Err(Errno::EBUSY);
        }
        let mut connected = None;
        for cli in Cli::ALL {
            if cli_type.is_some_and(|t| t != cli.name()) {
                continue;
            }
            let orig = self.log.priority;
            if cli_type.is_none() && orig < LOG_DEBUG {
                self.log.priority = LOG_EMERG;
            }
            let result = Client::connect(cli, &mut self.log, team);
            self.log.priority = orig;
            match result {
                Ok(client) => {
                    connected = Some(client);
                    break;
                }
                Err(e) if cli_type.is_some() => {
                    self.log.err(
                        FN,
                        &format!("Failed to connect using CLI \"{}\".", cli.name()),
                    );
                    return Err(e);
                }
                Err(_) => {}
            }
        }
        let Some(client) = connected else {
            match cli_type {
                None => self.log.err(FN, "Failed to connect using all CLIs."),
                Some(t) => self
                    .log
                    .err(FN, &format!("Failed to connect using unknown CLI \"{t}\".")),
            }
            return Err(Errno::EINVAL);
        };
        self.client = Some(client);
        if let Err(e) = self.refresh() {
            self.client = None;
            return Err(e);
        }
        Ok(())
    }

    /// Uses an already connected transport (e.g. a usock at another path),
    /// then fills the cache as `connect` does.
    pub fn connect_client(&mut self, client: Client) -> Result<(), Errno> {
        if self.client.is_some() {
            return Err(Errno::EBUSY);
        }
        self.client = Some(client);
        if let Err(e) = self.refresh() {
            self.client = None;
            return Err(e);
        }
        Ok(())
    }

    /// `teamdctl_disconnect`: the cache stays.
    pub fn disconnect(&mut self) {
        self.client = None;
    }

    /// `teamdctl_refresh`: ConfigDump, ConfigDumpActual, StateDump into the cache.
    pub fn refresh(&mut self) -> Result<(), Errno> {
        for method in [
            Method::ConfigDump,
            Method::ConfigDumpActual,
            Method::StateDump,
        ] {
            self.cache_method(method)?;
        }
        Ok(())
    }

    /// One call on the connected transport; not connected → ENOTCONN (where
    /// libteamdctl would dereference a NULL transport).
    pub fn call(&mut self, method: Method, args: &[&str]) -> Result<String, Errno> {
        let Some(client) = self.client.as_mut() else {
            return Err(Errno::ENOTCONN);
        };
        client.call(&mut self.log, method, args)
    }

    /// Calls `method` and caches its reply under its name.
    pub fn cache_method(&mut self, method: Method) -> Result<&CStr, Errno> {
        let reply = self.call(method, &[])?;
        Ok(self.cache_update(method.name(), reply))
    }

    /// `teamdctl_port_config_get_raw_direct`: PortConfigDump, cached per port.
    pub fn port_config_direct(&mut self, port: &str) -> Result<&CStr, Errno> {
        if port.len() > IFNAMSIZ {
            return Err(Errno::EINVAL);
        }
        let reply = self.call(Method::PortConfigDump, &[port])?;
        Ok(self.cache_update(&format!("{PORT_CONFIG_ID}{port}"), reply))
    }

    /// A cached reply (`teamdctl_*_get_raw`): `None` before the first fetch.
    pub fn cached(&self, method: Method) -> Option<&CStr> {
        self.lookup(method.name())
    }

    /// The cached reply as text ("" when absent), for Rust callers.
    pub fn cached_str(&self, method: Method) -> &str {
        self.cached(method)
            .and_then(|c| c.to_str().ok())
            .unwrap_or_default()
    }

    fn lookup(&self, id: &str) -> Option<&CStr> {
        self.cache
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_c_str())
    }

    /// Replaces (or adds) entry `id`; only that entry's old text is freed.
    fn cache_update(&mut self, id: &str, reply: String) -> &CStr {
        let value = c_reply(reply);
        let index = match self.cache.iter().position(|(k, _)| k == id) {
            Some(i) => {
                self.cache[i].1 = value;
                i
            }
            None => {
                self.cache.push((id.to_string(), value));
                self.cache.len() - 1
            }
        };
        self.cache[index].1.as_c_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_cut_at_nul_like_strdup() {
        assert_eq!(c_reply("ab\0cd".into()).as_bytes(), b"ab");
        assert_eq!(c_reply("{}".into()).as_bytes(), b"{}");
        assert_eq!(c_reply(String::new()).as_bytes(), b"");
    }

    #[test]
    fn cache_entries_keep_their_address_until_replaced() {
        let mut h = Handle::new();
        let a = h.cache_update("ConfigDump", "one".into()).as_ptr();
        let b = h.cache_update("StateDump", "two".into()).as_ptr();
        // adding more entries (the Vec may move) keeps the texts in place
        for i in 0..64 {
            h.cache_update(&format!("{PORT_CONFIG_ID}p{i}"), "{}".into());
        }
        assert_eq!(h.cached(Method::ConfigDump).map(CStr::as_ptr), Some(a));
        assert_eq!(h.cached(Method::StateDump).map(CStr::as_ptr), Some(b));
        h.cache_update("ConfigDump", "three".into());
        assert_eq!(h.cached_str(Method::ConfigDump), "three");
        assert_eq!(h.cached(Method::StateDump).map(CStr::as_ptr), Some(b));
        assert!(h.cached(Method::ConfigDumpActual).is_none());
    }

    #[test]
    fn calls_need_a_connection() {
        let mut h = Handle::new();
        assert_eq!(h.call(Method::ConfigDump, &[]), Err(Errno::ENOTCONN));
        assert_eq!(h.refresh(), Err(Errno::ENOTCONN));
        assert_eq!(
            h.port_config_direct("a-name-longer-than-ifnamsiz"),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn unknown_transport_is_refused() {
        let mut h = Handle::new();
        h.log.priority = LOG_EMERG;
        assert_eq!(h.connect("team0", Some("zmq")), Err(Errno::EINVAL));
        assert!(!h.is_connected());
    }
}
