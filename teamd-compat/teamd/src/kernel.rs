//! What teamd asks of the kernel, behind one trait so that runners and link
//! watches run against the real driver in the daemon and against a fake in
//! unit tests. The implementation keeps libteam's caches (options, ports,
//! links) current, including values this process just set.

use team_nl_client::cache::{IfinfoCache, TeamCache};
use team_nl_client::team_nl::{OptionItem, OptionValue, PortItem};
use team_nl_client::{Error, Link, Rtnl, TeamGenl};

use std::net::Ipv6Addr;

use crate::packet::{PacketSockets, SockKey, SockSpec};

pub type KResult<T = ()> = Result<T, Error>;

// errno values the daemon reports or matches, as C teamd's
pub const ENOENT: i32 = 2;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const ENODEV: i32 = 19;
pub const EINVAL: i32 = 22;
pub const EOPNOTSUPP: i32 = 95;

/// True for the errors C teamd treats as "the port/option went away meanwhile".
pub fn is_gone(e: &Error) -> bool {
    matches!(e.errno(), Some(ENOENT) | Some(ENODEV))
}

#[allow(async_fn_in_trait)]
pub trait Kernel {
    fn team_ifindex(&self) -> u32;
    /// Option and port lists as last reported (plus our own sets).
    fn cache(&self) -> &TeamCache;
    /// Every link of the namespace.
    fn ifinfos(&self) -> &IfinfoCache;
    fn cache_mut(&mut self) -> &mut TeamCache;
    fn ifinfos_mut(&mut self) -> &mut IfinfoCache;

    async fn set_option(&mut self, item: OptionItem) -> KResult;
    async fn set_hwaddr(&mut self, ifindex: u32, mac: &[u8]) -> KResult;
    async fn enslave(&mut self, port_ifindex: u32) -> KResult;
    async fn release(&mut self, port_ifindex: u32) -> KResult;
    /// Forces the team device's carrier (IFLA_CARRIER; the lacp runner).
    async fn set_carrier(&mut self, on: bool) -> KResult;

    // used by the lacp runner and the probe watches, which are being merged
    #[allow(dead_code)]
    /// Opens a packet socket on a port for `key`, replacing one it had.
    fn packet_open(&mut self, key: SockKey, spec: SockSpec) -> KResult;
    /// Closes `key`'s socket (no-op when it has none).
    fn packet_close(&mut self, key: SockKey);
    /// Closes every packet socket on a port.
    fn packet_close_port(&mut self, ifindex: u32);
    // used by the lacp runner and the probe watches, which are being merged
    #[allow(dead_code)]
    /// Sends a whole Ethernet frame (from the destination MAC on).
    fn packet_send(&mut self, key: SockKey, frame: &[u8]) -> KResult;
    /// Sends an ICMPv6 message to `dst` out of port `ifindex` through the
    /// IPv6 stack, which picks the source address and the checksum (how C
    /// teamd's nsna_ping sends its solicitations).
    fn icmp6_send(&mut self, ifindex: u32, dst: Ipv6Addr, message: &[u8]) -> KResult;

    fn kernel_port(&self, ifindex: u32) -> Option<&PortItem> {
        self.cache()
            .ports()
            .iter()
            .find(|p| p.ifindex == ifindex && !p.removed)
    }

    fn option(&self, name: &str, port: Option<u32>) -> Option<&OptionValue> {
        self.cache().option(name, port, None).map(|o| &o.value)
    }

    fn port_bool(&self, name: &str, ifindex: u32) -> Option<bool> {
        match self.option(name, Some(ifindex)) {
            Some(OptionValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    fn port_enabled(&self, ifindex: u32) -> Option<bool> {
        self.port_bool("enabled", ifindex)
    }

    fn port_priority(&self, ifindex: u32) -> i32 {
        match self.option("priority", Some(ifindex)) {
            Some(OptionValue::S32(p)) => *p,
            _ => 0,
        }
    }

    fn team_u32(&self, name: &str) -> Option<u32> {
        match self.option(name, None) {
            Some(OptionValue::U32(v)) => Some(*v),
            _ => None,
        }
    }

    fn team_mode(&self) -> Option<String> {
        match self.option("mode", None) {
            Some(OptionValue::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn ifname(&self, ifindex: u32) -> String {
        self.ifinfos()
            .get(ifindex)
            .map(|i| i.ifname.clone())
            .unwrap_or_default()
    }

    async fn set_port_bool(&mut self, name: &str, ifindex: u32, v: bool) -> KResult {
        self.set_option(OptionItem::new(name, OptionValue::Bool(v)).port(ifindex))
            .await
    }

    async fn set_port_enabled(&mut self, ifindex: u32, v: bool) -> KResult {
        self.set_port_bool("enabled", ifindex, v).await
    }
}

/// The real driver, over Team genl and rtnetlink.
pub struct RealKernel {
    pub genl: TeamGenl,
    pub rtnl: Rtnl,
    pub cache: TeamCache,
    pub ifinfos: IfinfoCache,
    pub ifindex: u32,
    pub packets: PacketSockets,
}

#[allow(dead_code)] // see Kernel::packet_open
fn packet_error(what: &str, key: SockKey, e: std::io::Error) -> Error {
    Error::kernel(
        format!("{what} packet socket {key:?}"),
        e.raw_os_error().unwrap_or(libc::EIO),
    )
}

impl RealKernel {
    fn link(&self, ifindex: u32) -> Link {
        let info = self.ifinfos.get(ifindex);
        Link {
            ifindex,
            name: info
                .map(|i| i.ifname.clone())
                .unwrap_or_else(|| format!("ifindex {ifindex}")),
            mac: info.map(|i| i.hwaddr.clone()).unwrap_or_default(),
            master: info.map(|i| i.master).filter(|m| *m != 0),
            admin_up: info.map(|i| i.admin_up).unwrap_or(false),
            carrier: false,
            mtu: 0,
            kind: None,
        }
    }
}

impl Kernel for RealKernel {
    fn team_ifindex(&self) -> u32 {
        self.ifindex
    }

    fn cache(&self) -> &TeamCache {
        &self.cache
    }

    fn ifinfos(&self) -> &IfinfoCache {
        &self.ifinfos
    }

    fn cache_mut(&mut self) -> &mut TeamCache {
        &mut self.cache
    }

    fn ifinfos_mut(&mut self) -> &mut IfinfoCache {
        &mut self.ifinfos
    }

    async fn set_option(&mut self, item: OptionItem) -> KResult {
        self.genl
            .options_set(self.ifindex, vec![item.clone()])
            .await?;
        self.cache.set_local(&item);
        Ok(())
    }

    async fn set_hwaddr(&mut self, ifindex: u32, mac: &[u8]) -> KResult {
        let link = self.link(ifindex);
        self.rtnl.set_address(&link, mac).await
    }

    async fn enslave(&mut self, port_ifindex: u32) -> KResult {
        let port = self.link(port_ifindex);
        let team = self.link(self.ifindex);
        self.rtnl.enslave(&port, &team).await
    }

    async fn release(&mut self, port_ifindex: u32) -> KResult {
        let port = self.link(port_ifindex);
        self.rtnl.release(&port).await
    }

    async fn set_carrier(&mut self, on: bool) -> KResult {
        let team = self.link(self.ifindex);
        self.rtnl.set_carrier(&team, on).await
    }

    fn packet_open(&mut self, key: SockKey, spec: SockSpec) -> KResult {
        self.packets
            .open(key, spec)
            .map_err(|e| packet_error("open", key, e))
    }

    fn packet_close(&mut self, key: SockKey) {
        self.packets.close(key);
    }

    fn packet_close_port(&mut self, ifindex: u32) {
        self.packets.close_port(ifindex);
    }

    fn packet_send(&mut self, key: SockKey, frame: &[u8]) -> KResult {
        self.packets
            .send(key, frame)
            .map_err(|e| packet_error("send on", key, e))
    }

    fn icmp6_send(&mut self, ifindex: u32, dst: Ipv6Addr, message: &[u8]) -> KResult {
        self.packets.send_icmp6(ifindex, dst, message).map_err(|e| {
            Error::kernel(
                format!("send ICMPv6 on ifindex {ifindex}"),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        })
    }
}

#[cfg(test)]
pub mod fake {
    //! A kernel for unit tests: caches filled by the test, calls recorded,
    //! failures scripted.

    use std::collections::BTreeMap;

    use super::*;
    use team_nl_client::team_nl::TeamMessage;

    /// A link that is up with carrier, no master, MAC 02:00:00:00:00:<ifindex>.
    pub fn up_link(ifindex: u32, name: &str) -> team_nl_client::Link {
        team_nl_client::Link {
            ifindex,
            name: name.into(),
            mac: vec![2, 0, 0, 0, 0, ifindex as u8],
            master: None,
            admin_up: true,
            carrier: true,
            mtu: 1500,
            kind: None,
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Call {
        Set(OptionItem),
        Hwaddr(u32, Vec<u8>),
        Enslave(u32),
        Release(u32),
        Carrier(bool),
    }

    pub struct FakeKernel {
        pub ifindex: u32,
        pub cache: TeamCache,
        pub ifinfos: IfinfoCache,
        pub calls: Vec<Call>,
        /// (option name, port) → errno to fail with.
        pub fail: Vec<(String, Option<u32>, i32)>,
        pub packet_socks: BTreeMap<SockKey, SockSpec>,
        /// Frames sent, in order.
        #[allow(dead_code)] // read by the lacp and probe tests being merged
        pub sent: Vec<(SockKey, Vec<u8>)>,
        /// ICMPv6 messages sent: (port, destination, message).
        pub icmp6_sent: Vec<(u32, Ipv6Addr, Vec<u8>)>,
        /// errno every send fails with, when set.
        pub send_errno: Option<i32>,
    }

    impl FakeKernel {
        pub fn new(ifindex: u32) -> Self {
            Self {
                ifindex,
                cache: TeamCache::new(ifindex),
                ifinfos: IfinfoCache::default(),
                calls: Vec::new(),
                fail: Vec::new(),
                packet_socks: BTreeMap::new(),
                sent: Vec::new(),
                icmp6_sent: Vec::new(),
                send_errno: None,
            }
        }

        /// Feeds kernel-side state as an event would.
        pub fn report(&mut self, options: Vec<OptionItem>, ports: Vec<PortItem>) {
            let mut m = TeamMessage::options_get(self.ifindex);
            if !options.is_empty() {
                m.options = Some(options);
            }
            if !ports.is_empty() {
                m.ports = Some(ports);
            }
            self.cache.apply_batch([&m]);
        }
    }

    impl Kernel for FakeKernel {
        fn team_ifindex(&self) -> u32 {
            self.ifindex
        }
        fn cache(&self) -> &TeamCache {
            &self.cache
        }
        fn ifinfos(&self) -> &IfinfoCache {
            &self.ifinfos
        }
        fn cache_mut(&mut self) -> &mut TeamCache {
            &mut self.cache
        }
        fn ifinfos_mut(&mut self) -> &mut IfinfoCache {
            &mut self.ifinfos
        }
        async fn set_option(&mut self, item: OptionItem) -> KResult {
            if let Some((_, _, errno)) = self
                .fail
                .iter()
                .find(|(n, p, _)| *n == item.name && *p == item.port_ifindex)
            {
                return Err(Error::kernel(format!("set {}", item.name), *errno));
            }
            self.calls.push(Call::Set(item.clone()));
            // The real driver echoes a set as an event; make it visible now.
            if self
                .cache
                .option(&item.name, item.port_ifindex, item.array_index)
                .is_none()
            {
                self.report(vec![item.clone()], vec![]);
            }
            self.cache.set_local(&item);
            Ok(())
        }
        async fn set_hwaddr(&mut self, ifindex: u32, mac: &[u8]) -> KResult {
            self.calls.push(Call::Hwaddr(ifindex, mac.to_vec()));
            Ok(())
        }
        async fn enslave(&mut self, port_ifindex: u32) -> KResult {
            self.calls.push(Call::Enslave(port_ifindex));
            Ok(())
        }
        async fn release(&mut self, port_ifindex: u32) -> KResult {
            self.calls.push(Call::Release(port_ifindex));
            Ok(())
        }
        async fn set_carrier(&mut self, on: bool) -> KResult {
            self.calls.push(Call::Carrier(on));
            Ok(())
        }
        fn packet_open(&mut self, key: SockKey, spec: SockSpec) -> KResult {
            self.packet_socks.insert(key, spec);
            Ok(())
        }
        fn packet_close(&mut self, key: SockKey) {
            self.packet_socks.remove(&key);
        }
        fn packet_close_port(&mut self, ifindex: u32) {
            self.packet_socks.retain(|k, _| k.ifindex() != ifindex);
        }
        fn packet_send(&mut self, key: SockKey, frame: &[u8]) -> KResult {
            if !self.packet_socks.contains_key(&key) {
                return Err(Error::kernel(format!("send on {key:?}"), libc::EBADF));
            }
            if let Some(errno) = self.send_errno {
                return Err(Error::kernel(format!("send on {key:?}"), errno));
            }
            self.sent.push((key, frame.to_vec()));
            Ok(())
        }
        fn icmp6_send(&mut self, ifindex: u32, dst: Ipv6Addr, message: &[u8]) -> KResult {
            if let Some(errno) = self.send_errno {
                return Err(Error::kernel("send ICMPv6", errno));
            }
            self.icmp6_sent.push((ifindex, dst, message.to_vec()));
            Ok(())
        }
    }
}
