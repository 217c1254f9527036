//! Requests to the `team` generic netlink family over a neli router, and the
//! change-event subscription on a socket of its own (so a flood of events can
//! never delay or be mistaken for a reply).

use neli::{
    consts::{nl::NlmF, socket::NlFamily},
    err::{RouterError, SocketError},
    nl::NlPayload,
    router::asynchronous::NlRouter,
    socket::asynchronous::NlSocketHandle,
    types::Buffer,
    utils::Groups,
};
use team_nl::{consts, OptionItem, PortItem, TeamMessage};

use crate::{Error, Result};

const ENOENT: i32 = 2;
const ENOBUFS: i32 = 105;

/// Default receive buffer for the event socket, as libteam's (`TEAM_EVENT_BUFSIZE`).
pub const EVENT_BUFSIZE: usize = 196_608;

fn router_error<T: std::fmt::Debug, P: std::fmt::Debug>(op: &str, e: RouterError<T, P>) -> Error {
    match e {
        RouterError::Nlmsgerr(m) => Error::kernel(op, *m.error()),
        RouterError::Socket(SocketError::Io(io)) => match io.raw_os_error() {
            Some(errno) => Error::kernel(op, errno),
            None => Error::transport(op, io),
        },
        other => Error::transport(op, other),
    }
}

fn socket_error(op: &str, e: SocketError) -> Error {
    match &e {
        SocketError::Io(io) => match io.raw_os_error() {
            Some(errno) => Error::kernel(op, errno),
            None => Error::transport(op, e),
        },
        _ => Error::transport(op, e),
    }
}

/// A connection to the `team` genl family.
pub struct TeamGenl {
    router: NlRouter,
    family: u16,
    group: u32,
}

impl TeamGenl {
    /// Resolves the family and its change group. Fails with ENOENT when no team
    /// driver is loaded.
    pub async fn connect() -> Result<Self> {
        let op = "connect to team generic netlink";
        let (router, _unsolicited) = NlRouter::connect(NlFamily::Generic, None, Groups::empty())
            .await
            .map_err(|e| router_error(op, e))?;
        let family = router
            .resolve_genl_family(consts::GENL_NAME)
            .await
            .map_err(|e| match e {
                RouterError::Nlmsgerr(m) => Error::kernel(
                    "resolve generic netlink family \"team\" (is the team module loaded?)",
                    *m.error(),
                ),
                other => router_error(op, other),
            })?;
        let group = router
            .resolve_nl_mcast_group(consts::GENL_NAME, consts::CHANGE_EVENT_GROUP)
            .await
            .map_err(|e| router_error("resolve team change_event group", e))?;
        Ok(Self {
            router,
            family,
            group,
        })
    }

    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Sends one request and collects every Team message of the reply
    /// (OPTIONS_GET replies are multipart, ended by NLMSG_DONE).
    async fn request(&self, op: &str, msg: &TeamMessage) -> Result<Vec<TeamMessage>> {
        let mut recv = self
            .router
            .send::<u16, Buffer, u16, Buffer>(
                self.family,
                NlmF::ACK,
                NlPayload::Payload(Buffer::from(msg.emit())),
            )
            .await
            .map_err(|e| router_error(op, e))?;
        let mut out = Vec::new();
        while let Some(reply) = recv.next::<u16, Buffer>().await {
            let reply = reply.map_err(|e| router_error(op, e))?;
            if *reply.nl_type() != self.family {
                continue; // NLMSG_DONE and the ACK
            }
            if let NlPayload::Payload(p) = reply.nl_payload() {
                out.push(
                    TeamMessage::parse(p.as_ref()).map_err(|source| Error::Decode {
                        op: op.to_string(),
                        source,
                    })?,
                );
            }
        }
        Ok(out)
    }

    /// Every option instance of the team, in the kernel's order.
    pub async fn options_get(&self, team_ifindex: u32) -> Result<Vec<OptionItem>> {
        let op = format!("get options of team ifindex {team_ifindex}");
        let replies = self
            .request(&op, &TeamMessage::options_get(team_ifindex))
            .await?;
        Ok(replies
            .into_iter()
            .filter(|m| m.team_ifindex == Some(team_ifindex))
            .flat_map(|m| m.options.unwrap_or_default())
            .collect())
    }

    /// Sets option instances; the kernel applies them in order and stops at the
    /// first failure (ENOENT for no such instance, EINVAL for a wrong type).
    pub async fn options_set(&self, team_ifindex: u32, items: Vec<OptionItem>) -> Result<()> {
        let names: Vec<_> = items.iter().map(|i| i.name.clone()).collect();
        let op = format!(
            "set option {} of team ifindex {team_ifindex}",
            names.join(",")
        );
        self.request(&op, &TeamMessage::options_set(team_ifindex, items))
            .await
            .map(drop)
    }

    pub async fn port_list_get(&self, team_ifindex: u32) -> Result<Vec<PortItem>> {
        let op = format!("get port list of team ifindex {team_ifindex}");
        let replies = self
            .request(&op, &TeamMessage::port_list_get(team_ifindex))
            .await?;
        Ok(replies
            .into_iter()
            .filter(|m| m.team_ifindex == Some(team_ifindex))
            .flat_map(|m| m.ports.unwrap_or_default())
            .collect())
    }

    /// Subscribes to the change_event group on a new socket.
    pub fn events(&self, rcvbuf: usize) -> Result<TeamEvents> {
        let op = "subscribe to team change events";
        let sock = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| socket_error(op, e))?;
        sock.set_recv_buffer_size(rcvbuf)
            .map_err(|e| socket_error(op, e))?;
        sock.add_mcast_membership(Groups::new_groups(&[self.group]))
            .map_err(|e| socket_error(op, e))?;
        Ok(TeamEvents {
            sock,
            family: self.family,
        })
    }
}

/// The team change-event stream: option and port changes of every team.
pub struct TeamEvents {
    sock: NlSocketHandle,
    family: u16,
}

impl TeamEvents {
    /// The messages of the next datagram. `Err` with ENOBUFS means events were
    /// lost (the socket overflowed): the caller must re-read the full state.
    pub async fn next_batch(&self) -> Result<Vec<TeamMessage>> {
        let op = "receive team change events";
        let (iter, _groups) = self
            .sock
            .recv::<u16, Buffer>()
            .await
            .map_err(|e| socket_error(op, e))?;
        let mut out = Vec::new();
        for msg in iter {
            let msg = msg.map_err(|e| Error::transport(op, e))?;
            if *msg.nl_type() != self.family {
                continue;
            }
            if let NlPayload::Payload(p) = msg.nl_payload() {
                out.push(
                    TeamMessage::parse(p.as_ref()).map_err(|source| Error::Decode {
                        op: op.to_string(),
                        source,
                    })?,
                );
            }
        }
        Ok(out)
    }
}

/// True for the error that means "events were lost, resynchronise".
pub fn is_overrun(e: &Error) -> bool {
    e.errno() == Some(ENOBUFS)
}

/// True for "no such option instance" / "no team family".
pub fn is_not_found(e: &Error) -> bool {
    e.errno() == Some(ENOENT)
}
