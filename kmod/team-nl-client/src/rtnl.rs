//! Links over rtnetlink: create and delete team devices, enslave and release
//! ports, admin state, MAC, carrier, and a stream of link events.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use rtnetlink::packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use rtnetlink::packet_route::link::{
    InfoKind, LinkAttribute, LinkFlags, LinkInfo as RtLinkInfo, LinkMessage,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{protocols::NETLINK_ROUTE, AsyncSocket, AsyncSocketExt, Socket, TokioSocket};
use rtnetlink::{LinkTeam, LinkUnspec};

use crate::genl::{io_error, set_recv_timeout, REPLY_TIMEOUT};
use crate::{Error, Result};

const ENODEV: i32 = 19;
const ENOBUFS: i32 = 105;
const EOPNOTSUPP: i32 = 95;
/// RTNLGRP_LINK: link add/change/delete notifications.
const RTNLGRP_LINK: u32 = 1;
/// Receive buffer of the link event socket.
const EVENT_RCVBUF: usize = 1 << 20;

/// What the daemon and tools need to know of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub ifindex: u32,
    pub name: String,
    pub mac: Vec<u8>,
    /// Ifindex of the master (team) device, if enslaved.
    pub master: Option<u32>,
    pub admin_up: bool,
    pub carrier: bool,
    pub mtu: u32,
    /// `IFLA_INFO_KIND`, e.g. "team", "veth".
    pub kind: Option<String>,
}

impl Link {
    fn from_message(msg: &LinkMessage) -> Self {
        let mut link = Link {
            ifindex: msg.header.index,
            name: String::new(),
            mac: Vec::new(),
            master: None,
            admin_up: msg.header.flags.contains(LinkFlags::Up),
            carrier: msg.header.flags.contains(LinkFlags::LowerUp),
            mtu: 0,
            kind: None,
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => link.name = n.clone(),
                LinkAttribute::Address(a) => link.mac = a.clone(),
                LinkAttribute::Controller(m) if *m != 0 => link.master = Some(*m),
                LinkAttribute::Carrier(c) => link.carrier = *c != 0,
                LinkAttribute::Mtu(m) => link.mtu = *m,
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        if let RtLinkInfo::Kind(k) = info {
                            link.kind = Some(k.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        link
    }
}

/// A link event from RTNLGRP_LINK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// New or changed link (RTM_NEWLINK).
    Changed(Link),
    /// Link gone (RTM_DELLINK).
    Removed(Link),
    /// Events were lost: the socket's receive buffer overran (ENOBUFS). Whoever tracks
    /// links must re-read them.
    Overrun,
}

impl Link {
    /// A link known only by its index (a removal whose message is not at hand).
    pub fn with_ifindex(ifindex: u32) -> Self {
        Link {
            ifindex,
            name: String::new(),
            mac: Vec::new(),
            master: None,
            admin_up: false,
            carrier: false,
            mtu: 0,
            kind: None,
        }
    }
}

/// Every netlink message in one datagram.
fn messages_in(op: &str, datagram: &[u8]) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(rest)
            .map_err(|e| Error::transport(op, e))?;
        // a message's length is padded to 4 in the datagram
        let len = (msg.header.length as usize).div_ceil(4) * 4;
        out.push(msg);
        if len == 0 || len >= rest.len() {
            break;
        }
        rest = &rest[len..];
    }
    Ok(out)
}

/// The request socket: blocking, as libteam's. The kernel handles an rtnetlink request
/// inside `sendmsg` (under the RTNL lock), so the reply is queued by the time that returns;
/// a dump's later parts are produced as it is read. No I/O task and no channel per request
/// (netlink-proto's connection task cost a wake and a hop for each).
struct RequestSocket {
    sock: Mutex<Socket>,
    seq: AtomicU32,
}

impl RequestSocket {
    fn open() -> Result<Self> {
        let op = "connect to rtnetlink";
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| io_error(op, &e))?;
        sock.bind_auto().map_err(|e| io_error(op, &e))?;
        set_recv_timeout(&sock, REPLY_TIMEOUT).map_err(|e| io_error(op, &e))?;
        Ok(Self {
            sock: Mutex::new(sock),
            seq: AtomicU32::new(0),
        })
    }

    /// Sends `msg` with `flags` (NLM_F_REQUEST added; NLM_F_ACK added unless it is a dump)
    /// and returns the messages that answer it: a dump's parts up to NLMSG_DONE, or a
    /// request's reply up to its ACK. A kernel error comes back as `Error::Kernel`.
    /// Messages with another sequence number (a request that timed out) are skipped.
    fn exchange(
        &self,
        op: &str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut req = NetlinkMessage::from(msg);
        req.header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        req.header.sequence_number = self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        req.finalize();
        let seq = req.header.sequence_number;
        let mut bytes = vec![0; req.buffer_len()];
        req.serialize(&mut bytes);

        let sock = self
            .sock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sock.send(&bytes, 0).map_err(|e| io_error(op, &e))?;
        let mut out = Vec::new();
        loop {
            let (datagram, _) = sock.recv_from_full().map_err(|e| io_error(op, &e))?;
            for reply in messages_in(op, &datagram)? {
                if reply.header.sequence_number != seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Error(e) if e.code.is_some() => {
                        return Err(Error::kernel(op, e.raw_code()))
                    }
                    NetlinkPayload::Error(_) | NetlinkPayload::Done(_) => return Ok(out),
                    _ => {}
                }
            }
        }
    }
}

fn new_links(replies: Vec<RouteNetlinkMessage>) -> Vec<LinkMessage> {
    replies
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(l),
            _ => None,
        })
        .collect()
}

/// An rtnetlink connection for requests. Clones share the socket.
#[derive(Clone)]
pub struct Rtnl {
    requests: Arc<RequestSocket>,
}

impl Rtnl {
    pub fn connect() -> Result<Self> {
        Ok(Self {
            requests: Arc::new(RequestSocket::open()?),
        })
    }

    /// A connection for requests plus link notifications on a socket of their own, as
    /// libteam has it: a burst of notifications can then never crowd out (and make the
    /// kernel drop) the reply to a request, and an overrun is seen as such.
    pub fn connect_with_events() -> Result<(Self, LinkEvents)> {
        let rtnl = Self::connect()?;
        let op = "subscribe to rtnetlink link events";
        let mut events = TokioSocket::new(NETLINK_ROUTE).map_err(|e| io_error(op, &e))?;
        let socket = events.socket_mut();
        // Bound to a port of its own: an unbound socket keeps port 0, the kernel's, and
        // the kernel never delivers a notification back to the port it came from.
        socket.bind_auto().map_err(|e| io_error(op, &e))?;
        socket
            .add_membership(RTNLGRP_LINK)
            .map_err(|e| io_error(op, &e))?;
        // room for a burst (the kernel may cap it at net.core.rmem_max)
        socket
            .set_rx_buf_sz(EVENT_RCVBUF)
            .map_err(|e| io_error(op, &e))?;
        Ok((
            rtnl,
            LinkEvents {
                socket: events,
                pending: std::collections::VecDeque::new(),
            },
        ))
    }

    /// One link by index or name, or `None` when there is no such link (ENODEV).
    fn get_one(&self, op: &str, msg: LinkMessage) -> Result<Option<LinkMessage>> {
        match self
            .requests
            .exchange(op, RouteNetlinkMessage::GetLink(msg), 0)
        {
            Ok(replies) => Ok(new_links(replies).into_iter().next()),
            Err(e) if e.errno() == Some(ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn set(&self, op: &str, msg: LinkMessage) -> Result<()> {
        self.requests
            .exchange(op, RouteNetlinkMessage::SetLink(msg), 0)
            .map(drop)
    }

    pub async fn link_by_name(&self, name: &str) -> Result<Option<Link>> {
        let op = format!("look up link {name}");
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        Ok(self.get_one(&op, msg)?.as_ref().map(Link::from_message))
    }

    pub async fn link_by_index(&self, ifindex: u32) -> Result<Option<Link>> {
        Ok(self
            .link_message(ifindex)
            .await?
            .as_ref()
            .map(Link::from_message))
    }

    /// Every link of the namespace.
    pub async fn links(&self) -> Result<Vec<Link>> {
        let messages = self.link_messages().await?;
        Ok(messages.iter().map(Link::from_message).collect())
    }

    /// Resolves a name, failing with ENODEV as libteam does for a missing device.
    pub async fn require(&self, name: &str) -> Result<Link> {
        self.link_by_name(name)
            .await?
            .ok_or_else(|| Error::kernel(format!("look up link {name}"), ENODEV))
    }

    /// Creates a team device (no mode yet); returns it as the kernel reports it.
    pub async fn create_team(&self, name: &str, mac: Option<[u8; 6]>) -> Result<Link> {
        let op = format!("create team device {name}");
        let mut builder = LinkTeam::new(name);
        if let Some(mac) = mac {
            builder = builder.address(mac.to_vec());
        }
        self.requests.exchange(
            &op,
            RouteNetlinkMessage::NewLink(builder.build()),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.require(name).await
    }

    pub async fn delete_link(&self, ifindex: u32) -> Result<()> {
        let op = format!("delete link ifindex {ifindex}");
        let mut msg = LinkMessage::default();
        msg.header.index = ifindex;
        self.requests
            .exchange(&op, RouteNetlinkMessage::DelLink(msg), 0)
            .map(drop)
    }

    /// Makes `port` a port of `team`. The kernel refuses an admin-up port
    /// (EBUSY); as libteam does, a master that did not change is EOPNOTSUPP.
    pub async fn enslave(&self, port: &Link, team: &Link) -> Result<()> {
        let op = format!("enslave {} to {}", port.name, team.name);
        self.set(
            &op,
            LinkUnspec::new_with_index(port.ifindex)
                .controller(team.ifindex)
                .build(),
        )?;
        match self.link_by_index(port.ifindex).await? {
            Some(l) if l.master == Some(team.ifindex) => Ok(()),
            _ => Err(Error::kernel(op, EOPNOTSUPP)),
        }
    }

    pub async fn release(&self, port: &Link) -> Result<()> {
        let op = format!("release port {}", port.name);
        self.set(
            &op,
            LinkUnspec::new_with_index(port.ifindex)
                .nocontroller()
                .build(),
        )
    }

    pub async fn set_admin_up(&self, link: &Link, up: bool) -> Result<()> {
        let op = format!("set {} {}", link.name, if up { "up" } else { "down" });
        let b = LinkUnspec::new_with_index(link.ifindex);
        let b = if up { b.up() } else { b.down() };
        self.set(&op, b.build())
    }

    pub async fn set_address(&self, link: &Link, mac: &[u8]) -> Result<()> {
        let op = format!("set hardware address of {}", link.name);
        self.set(
            &op,
            LinkUnspec::new_with_index(link.ifindex)
                .address(mac.to_vec())
                .build(),
        )
    }

    /// Sets the carrier; after the first write the kernel stops managing it.
    pub async fn set_carrier(&self, link: &Link, on: bool) -> Result<()> {
        let op = format!("set carrier of {}", link.name);
        self.set(
            &op,
            LinkUnspec::new_with_index(link.ifindex).carrier(on).build(),
        )
    }

    /// Creates a link from a whole RTM_NEWLINK message (teamd's bond backend builds
    /// the bond's with its options); returns it as the kernel reports it.
    pub async fn add_link(&self, name: &str, msg: LinkMessage) -> Result<Link> {
        let op = format!("create device {name}");
        self.requests.exchange(
            &op,
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.require(name).await
    }

    /// Changes an existing link (the message's index) with RTM_NEWLINK without
    /// NLM_F_CREATE: the kernel's changelink of the link's kind, which takes
    /// IFLA_LINKINFO data such as bond options (RTM_SETLINK ignores that).
    pub async fn change_link(&self, what: &str, msg: LinkMessage) -> Result<()> {
        self.requests
            .exchange(what, RouteNetlinkMessage::NewLink(msg), 0)
            .map(drop)
    }

    /// The kernel's whole message for a link (every attribute, such as a bond's
    /// IFLA_BOND_* and a bond port's IFLA_BOND_SLAVE_*).
    pub async fn link_message(&self, ifindex: u32) -> Result<Option<LinkMessage>> {
        let op = format!("look up link ifindex {ifindex}");
        let mut msg = LinkMessage::default();
        msg.header.index = ifindex;
        self.get_one(&op, msg)
    }

    /// Every link of the namespace as the kernel's whole messages.
    pub async fn link_messages(&self) -> Result<Vec<LinkMessage>> {
        let replies = self.requests.exchange(
            "dump links",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(new_links(replies))
    }

    /// A link as this crate reads it, from the kernel's message.
    pub fn link_of(msg: &LinkMessage) -> Link {
        Link::from_message(msg)
    }

    /// Whether this link is a team device.
    pub fn is_team(link: &Link) -> bool {
        link.kind.as_deref() == Some(InfoKind::Team.to_string().as_str())
    }
}

/// Link notifications, in kernel order.
pub struct LinkEvents {
    socket: TokioSocket,
    /// The rest of the last datagram's messages.
    pending: std::collections::VecDeque<NetlinkMessage<RouteNetlinkMessage>>,
}

impl LinkEvents {
    /// The next link event; `None` when the socket failed for good.
    pub async fn next(&mut self) -> Option<LinkEvent> {
        let op = "receive rtnetlink link events";
        loop {
            let Some(msg) = self.pending.pop_front() else {
                match self.socket.recv_from_full().await {
                    // one undecodable datagram is skipped, not the end of events
                    Ok((datagram, _)) => {
                        if let Ok(msgs) = messages_in(op, &datagram) {
                            self.pending.extend(msgs);
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(ENOBUFS) => return Some(LinkEvent::Overrun),
                    Err(_) => return None,
                }
                continue;
            };
            match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                    return Some(LinkEvent::Changed(Link::from_message(&l)))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                    return Some(LinkEvent::Removed(Link::from_message(&l)))
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtnetlink::packet_core::{DoneMessage, NLM_F_MULTIPART};

    fn emit(msg: &mut NetlinkMessage<RouteNetlinkMessage>, into: &mut Vec<u8>) {
        msg.finalize();
        let mut bytes = vec![0; msg.buffer_len()];
        msg.serialize(&mut bytes);
        into.extend_from_slice(&bytes);
        // the kernel pads each message to 4 bytes within the datagram
        into.resize(into.len().div_ceil(4) * 4, 0);
    }

    fn link(ifindex: u32, name: &str) -> NetlinkMessage<RouteNetlinkMessage> {
        let mut l = LinkMessage::default();
        l.header.index = ifindex;
        l.attributes.push(LinkAttribute::IfName(name.into()));
        let mut m = NetlinkMessage::from(RouteNetlinkMessage::NewLink(l));
        m.header.flags = NLM_F_MULTIPART;
        m
    }

    #[test]
    fn reads_every_message_of_a_dump_datagram() {
        let mut datagram = Vec::new();
        // odd-length names, so the padding between messages is exercised
        emit(&mut link(1, "lo"), &mut datagram);
        emit(&mut link(7, "team0"), &mut datagram);
        let mut done = NetlinkMessage::<RouteNetlinkMessage>::new(
            Default::default(),
            NetlinkPayload::Done(DoneMessage::default()),
        );
        emit(&mut done, &mut datagram);
        let msgs = messages_in("test", &datagram).expect("a well-formed datagram");
        let names: Vec<_> = msgs
            .iter()
            .filter_map(|m| match &m.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                    Some((l.header.index, Link::from_message(l).name))
                }
                _ => None,
            })
            .collect();
        assert_eq!(names, vec![(1, "lo".to_string()), (7, "team0".to_string())]);
        assert!(matches!(
            msgs.last().map(|m| &m.payload),
            Some(NetlinkPayload::Done(_))
        ));
    }

    #[test]
    fn a_truncated_datagram_is_an_error_not_a_panic() {
        let mut datagram = Vec::new();
        emit(&mut link(7, "team0"), &mut datagram);
        for cut in [1, 15, 16, datagram.len() - 1] {
            assert!(
                messages_in("test", &datagram[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}
