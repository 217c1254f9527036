//! The team description every reader produces and every writer takes: the
//! team device, its teamd config text, its ports and the IP settings of
//! the team link, with where each came from for messages.

use std::net::{Ipv4Addr, Ipv6Addr};

use networkd_gen::diag::Origin;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Where the team was defined (kickstart line, ifcfg file).
    pub origin: Origin,
    pub device: String,
    /// NM profile id.
    pub id: String,
    /// NM profile UUID when the source had one.
    pub uuid: Option<String>,
    /// teamd config without device and ports, as given ("" = teamd's defaults).
    pub config: String,
    /// Where `config` came from (file, line and key).
    pub config_origin: Origin,
    pub autoconnect: bool,
    pub mtu: Option<u32>,
    pub ipv4: Ipv4,
    pub ipv6: Ipv6,
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub origin: Origin,
    pub id: String,
    pub uuid: Option<String>,
    /// Bound by interface name, by MAC address, or both.
    pub name: Option<String>,
    pub mac: Option<String>,
    /// The port's teamd config ("" = none).
    pub config: String,
    pub autoconnect: bool,
}

impl Port {
    /// What to call the port in messages.
    pub fn label(&self) -> &str {
        self.name.as_deref().or(self.mac.as_deref()).unwrap_or("?")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ipv4Method {
    #[default]
    Auto,
    Manual,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ipv6Method {
    #[default]
    Auto,
    Dhcp,
    Manual,
    Ignore,
}

/// One address family's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ip<A, M> {
    pub method: M,
    pub addresses: Vec<(A, u8)>,
    pub gateway: Option<A>,
    pub dns: Vec<A>,
    /// Never the default route (kickstart's `--nodefroute`, ifcfg's `DEFROUTE=no`).
    pub never_default: bool,
}

pub type Ipv4 = Ip<Ipv4Addr, Ipv4Method>;
pub type Ipv6 = Ip<Ipv6Addr, Ipv6Method>;

impl<A, M> Ip<A, M> {
    pub fn new(method: M) -> Ip<A, M> {
        Ip {
            method,
            addresses: Vec::new(),
            gateway: None,
            dns: Vec::new(),
            never_default: false,
        }
    }
}

/// A dotted netmask's prefix length; None unless its ones are contiguous.
pub fn netmask_prefix(mask: &str) -> Option<u8> {
    let m = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let ones = m.leading_ones();
    (m.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// A MAC address (`aa:bb:…` or `aa-bb-…`, as networkd-gen reads them) in
/// NM's upper-case colon spelling.
pub fn normalize_mac(s: &str) -> Option<String> {
    if s.contains('.') {
        return None;
    }
    networkd_gen::values::parse_mac(s).map(|m| m.to_ascii_uppercase())
}

pub use networkd_gen::values::valid_ifname;

/// Checks that a config text is a JSON object as teamd and NM read it
/// (duplicate keys refused); "" passes.
pub fn check_config(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Ok(());
    }
    let v = teamd_ctl_proto::json::parse_strict(text).map_err(|e| format!("invalid JSON: {e}"))?;
    if v.is_object() {
        Ok(())
    } else {
        Err("the JSON is not an object".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_macs_names() {
        assert_eq!(netmask_prefix("255.255.255.0"), Some(24));
        assert_eq!(netmask_prefix("255.255.255.255"), Some(32));
        assert_eq!(netmask_prefix("0.0.0.0"), Some(0));
        assert_eq!(netmask_prefix("255.0.255.0"), None);
        assert_eq!(netmask_prefix("24"), None);
        assert_eq!(
            normalize_mac("52:54:00:ab:cd:ef").as_deref(),
            Some("52:54:00:AB:CD:EF")
        );
        assert_eq!(normalize_mac("52:54:00:ab:cd"), None);
        assert!(valid_ifname("eth0") && !valid_ifname("a:b") && !valid_ifname("0123456789abcdef"));
        assert!(check_config("").is_ok() && check_config("[]").is_err());
        assert!(check_config(r#"{"a": 1, "a": 2}"#).is_err());
    }
}
