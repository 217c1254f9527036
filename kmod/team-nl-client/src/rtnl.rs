//! Links over rtnetlink: create and delete team devices, enslave and release
//! ports, admin state, MAC, carrier, and a stream of link events.

use futures_channel::mpsc::UnboundedReceiver;
use futures_util::stream::TryStreamExt;
use futures_util::StreamExt;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::link::{
    InfoKind, LinkAttribute, LinkFlags, LinkInfo as RtLinkInfo, LinkMessage,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::AsyncSocket;
use rtnetlink::{Handle, LinkTeam, LinkUnspec};

use crate::{Error, Result};

const ENODEV: i32 = 19;
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

fn rt_error(op: &str, e: rtnetlink::Error) -> Error {
    match &e {
        rtnetlink::Error::NetlinkError(m) if m.raw_code() != 0 => Error::kernel(op, m.raw_code()),
        _ => Error::transport(op, e),
    }
}

/// An rtnetlink connection (its I/O task runs on the current tokio runtime).
#[derive(Clone)]
pub struct Rtnl {
    handle: Handle,
}

impl Rtnl {
    pub fn connect() -> Result<Self> {
        let (conn, handle, _) =
            rtnetlink::new_connection().map_err(|e| Error::transport("connect to rtnetlink", e))?;
        tokio::spawn(conn);
        Ok(Self { handle })
    }

    /// A connection for requests plus link notifications on a socket of their own, as
    /// libteam has it: a burst of notifications can then never crowd out (and make the
    /// kernel drop) the reply to a request, and an overrun is seen as such.
    pub fn connect_with_events() -> Result<(Self, LinkEvents)> {
        let rtnl = Self::connect()?;
        let op = "subscribe to rtnetlink link events";
        let (mut conn, handle, messages) =
            rtnetlink::new_connection().map_err(|e| Error::transport(op, e))?;
        let socket = conn.socket_mut().socket_mut();
        let os_error = |e: std::io::Error| match e.raw_os_error() {
            Some(errno) => Error::kernel(op, errno),
            None => Error::transport(op, e),
        };
        // Bound to a port of its own: an unbound socket keeps port 0, the kernel's, and
        // the kernel never delivers a notification back to the port it came from.
        socket.bind_auto().map_err(os_error)?;
        socket.add_membership(RTNLGRP_LINK).map_err(os_error)?;
        // room for a burst (the kernel may cap it at net.core.rmem_max)
        socket.set_rx_buf_sz(EVENT_RCVBUF).map_err(os_error)?;
        tokio::spawn(conn);
        Ok((
            rtnl,
            LinkEvents {
                messages,
                _open: handle,
            },
        ))
    }

    async fn get_one(&self, op: &str, req: rtnetlink::LinkGetRequest) -> Result<Option<Link>> {
        let mut stream = req.execute();
        match stream.try_next().await {
            Ok(Some(msg)) => Ok(Some(Link::from_message(&msg))),
            Ok(None) => Ok(None),
            Err(rtnetlink::Error::NetlinkError(m)) if m.raw_code().abs() == ENODEV => Ok(None),
            Err(e) => Err(rt_error(op, e)),
        }
    }

    pub async fn link_by_name(&self, name: &str) -> Result<Option<Link>> {
        let op = format!("look up link {name}");
        self.get_one(&op, self.handle.link().get().match_name(name.to_string()))
            .await
    }

    pub async fn link_by_index(&self, ifindex: u32) -> Result<Option<Link>> {
        let op = format!("look up link ifindex {ifindex}");
        self.get_one(&op, self.handle.link().get().match_index(ifindex))
            .await
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
        self.handle
            .link()
            .add(builder.build())
            .execute()
            .await
            .map_err(|e| rt_error(&op, e))?;
        self.require(name).await
    }

    pub async fn delete_link(&self, ifindex: u32) -> Result<()> {
        let op = format!("delete link ifindex {ifindex}");
        self.handle
            .link()
            .del(ifindex)
            .execute()
            .await
            .map_err(|e| rt_error(&op, e))
    }

    async fn set(&self, op: &str, msg: LinkMessage) -> Result<()> {
        self.handle
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(|e| rt_error(op, e))
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
        )
        .await?;
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
        .await
    }

    pub async fn set_admin_up(&self, link: &Link, up: bool) -> Result<()> {
        let op = format!("set {} {}", link.name, if up { "up" } else { "down" });
        let b = LinkUnspec::new_with_index(link.ifindex);
        let b = if up { b.up() } else { b.down() };
        self.set(&op, b.build()).await
    }

    pub async fn set_address(&self, link: &Link, mac: &[u8]) -> Result<()> {
        let op = format!("set hardware address of {}", link.name);
        self.set(
            &op,
            LinkUnspec::new_with_index(link.ifindex)
                .address(mac.to_vec())
                .build(),
        )
        .await
    }

    /// Sets the carrier; after the first write the kernel stops managing it.
    pub async fn set_carrier(&self, link: &Link, on: bool) -> Result<()> {
        let op = format!("set carrier of {}", link.name);
        self.set(
            &op,
            LinkUnspec::new_with_index(link.ifindex).carrier(on).build(),
        )
        .await
    }

    /// Creates a link from a whole RTM_NEWLINK message (teamd's bond backend builds
    /// the bond's with its options); returns it as the kernel reports it.
    pub async fn add_link(&self, name: &str, msg: LinkMessage) -> Result<Link> {
        let op = format!("create device {name}");
        self.handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(|e| rt_error(&op, e))?;
        self.require(name).await
    }

    /// Changes an existing link (the message's index) with RTM_NEWLINK without
    /// NLM_F_CREATE: the kernel's changelink of the link's kind, which takes
    /// IFLA_LINKINFO data such as bond options (RTM_SETLINK ignores that).
    pub async fn change_link(&self, what: &str, msg: LinkMessage) -> Result<()> {
        use rtnetlink::packet_core::{NLM_F_ACK, NLM_F_REQUEST};
        self.handle
            .link()
            .add(msg)
            .set_flags(NLM_F_REQUEST | NLM_F_ACK)
            .execute()
            .await
            .map_err(|e| rt_error(what, e))
    }

    /// The kernel's whole message for a link (every attribute, such as a bond's
    /// IFLA_BOND_* and a bond port's IFLA_BOND_SLAVE_*).
    pub async fn link_message(&self, ifindex: u32) -> Result<Option<LinkMessage>> {
        let op = format!("look up link ifindex {ifindex}");
        let mut stream = self.handle.link().get().match_index(ifindex).execute();
        match stream.try_next().await {
            Ok(m) => Ok(m),
            Err(rtnetlink::Error::NetlinkError(m)) if m.raw_code().abs() == ENODEV => Ok(None),
            Err(e) => Err(rt_error(&op, e)),
        }
    }

    /// Every link of the namespace as the kernel's whole messages.
    pub async fn link_messages(&self) -> Result<Vec<LinkMessage>> {
        let mut stream = self.handle.link().get().execute();
        let mut out = Vec::new();
        while let Some(msg) = stream
            .try_next()
            .await
            .map_err(|e| rt_error("dump links", e))?
        {
            out.push(msg);
        }
        Ok(out)
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
    messages: UnboundedReceiver<(
        NetlinkMessage<RouteNetlinkMessage>,
        rtnetlink::sys::SocketAddr,
    )>,
    /// The connection's task ends when its last handle goes: this one keeps it running.
    _open: Handle,
}

impl LinkEvents {
    /// The next link event; `None` when the connection closed.
    pub async fn next(&mut self) -> Option<LinkEvent> {
        loop {
            let (msg, _) = self.messages.next().await?;
            match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                    return Some(LinkEvent::Changed(Link::from_message(&l)))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                    return Some(LinkEvent::Removed(Link::from_message(&l)))
                }
                // netlink-proto reports a receive error of ENOBUFS this way
                NetlinkPayload::Overrun(_) => return Some(LinkEvent::Overrun),
                _ => {}
            }
        }
    }
}
