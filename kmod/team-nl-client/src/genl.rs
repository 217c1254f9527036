//! Requests to the `team` generic netlink family over a neli router, and the
//! change-event subscription on a socket of its own (so a flood of events can
//! never delay or be mistaken for a reply).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use neli::{
    consts::{
        genl::{CtrlAttr, CtrlAttrMcastGrp, CtrlCmd, Index, NlAttrType},
        nl::{GenlId, NlType, NlmF},
        socket::NlFamily,
    },
    err::SocketError,
    genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder, NoUserHeader},
    nl::{NlPayload, NlmsghdrBuilder},
    socket::{asynchronous, synchronous::NlSocketHandle},
    types::{Buffer, GenlBuffer},
    utils::Groups,
    FromBytesWithInput, Size, ToBytes,
};
use team_nl::{consts, OptionItem, PortItem, TeamMessage};

use crate::{Error, Result};

const ENOENT: i32 = 2;
const ENOBUFS: i32 = 105;

/// Default receive buffer for the event socket, as libteam's (`TEAM_EVENT_BUFSIZE`).
pub const EVENT_BUFSIZE: usize = 196_608;

/// A failed socket call: the reply timeout running out (SO_RCVTIMEO), a kernel errno, or
/// else the error's own text. The rtnetlink sockets share it.
pub(crate) fn io_error(op: &str, e: &std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::WouldBlock {
        return Error::transport(
            op,
            format!(
                "no reply from the kernel within {} s",
                REPLY_TIMEOUT.as_secs()
            ),
        );
    }
    match e.raw_os_error() {
        Some(errno) => Error::kernel(op, errno),
        None => Error::transport(op, e),
    }
}

fn socket_error(op: &str, e: SocketError) -> Error {
    match &e {
        SocketError::Io(io) => io_error(op, io),
        _ => Error::transport(op, e),
    }
}

/// A blocking generic netlink socket for requests, as libteam's: the kernel handles a
/// genl request inside `sendmsg` and has queued the whole reply (and its ACK) by the time
/// that returns, so the answer is one `recvmsg` away. Through neli's async router every
/// request cost a wake of its reader task and a channel hop besides (388-438 µs a write in
/// the bench guest, against 230-290 µs blocking), and option writes are on the failover
/// path.
pub(crate) struct GenlSocket {
    sock: NlSocketHandle,
    /// Held across a request's send and its replies, so two callers on different
    /// threads never read each other's answers.
    busy: Mutex<()>,
    seq: AtomicU32,
}

/// How long a request waits for its reply before giving up (a reply the kernel could
/// not queue would otherwise hang the daemon).
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

impl GenlSocket {
    pub(crate) fn open(op: &str) -> Result<Self> {
        let sock = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| socket_error(op, e))?;
        set_recv_timeout(&sock, REPLY_TIMEOUT).map_err(|e| io_error(op, &e))?;
        Ok(Self {
            sock,
            busy: Mutex::new(()),
            seq: AtomicU32::new(0),
        })
    }

    /// The id of genl family `name` and, if `group` is given, the id of that multicast
    /// group of it, from the genl controller. No such family is ENOENT.
    pub(crate) fn resolve(
        &self,
        op: &str,
        name: &str,
        group: Option<&str>,
    ) -> Result<(u16, Option<u32>)> {
        let name_attr = attr(op, CtrlAttr::FamilyName, name)?;
        let request = GenlmsghdrBuilder::<CtrlCmd, CtrlAttr, NoUserHeader>::default()
            .cmd(CtrlCmd::Getfamily)
            .version(2)
            .attrs(std::iter::once(name_attr).collect::<GenlBuffer<_, _>>())
            .build()
            .map_err(|e| Error::transport(op, e))?;
        let replies =
            self.exchange::<GenlId, Genlmsghdr<CtrlCmd, CtrlAttr>>(op, GenlId::Ctrl, request)?;
        let mut family = None;
        let mut group_id = None;
        for reply in &replies {
            let attrs = reply.attrs().get_attr_handle();
            if let Ok(id) = attrs.get_attr_payload_as::<u16>(CtrlAttr::FamilyId) {
                family = Some(id);
            }
            let Some(wanted) = group else {
                continue;
            };
            let Ok(groups) = attrs.get_nested_attributes::<Index>(CtrlAttr::McastGroups) else {
                continue;
            };
            for item in groups.iter() {
                let Ok(grp) = item.get_attr_handle::<CtrlAttrMcastGrp>() else {
                    continue;
                };
                let named = grp
                    .get_attr_payload_as_with_len::<String>(CtrlAttrMcastGrp::Name)
                    .is_ok_and(|n| n == wanted);
                if named {
                    group_id = grp.get_attr_payload_as::<u32>(CtrlAttrMcastGrp::Id).ok();
                }
            }
        }
        family
            .map(|f| (f, group_id))
            .ok_or_else(|| Error::kernel(op, ENOENT))
    }

    /// Sends one request with NLM_F_ACK and returns the payloads of its replies, up to
    /// the ACK (multipart replies end with NLMSG_DONE before it). Replies with another
    /// sequence number are left: they answer a request that timed out.
    pub(crate) fn exchange<T, P>(&self, op: &str, nl_type: T, payload: P) -> Result<Vec<P>>
    where
        T: NlType + std::fmt::Debug,
        P: Size + ToBytes + FromBytesWithInput<Input = usize> + Clone + std::fmt::Debug,
    {
        let _turn = self
            .busy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let seq = self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let msg = NlmsghdrBuilder::default()
            .nl_type(nl_type)
            .nl_flags(NlmF::REQUEST | NlmF::ACK)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(payload))
            .build()
            .map_err(|e| Error::transport(op, e))?;
        self.sock.send(&msg).map_err(|e| socket_error(op, e))?;
        let mut out = Vec::new();
        loop {
            let (replies, _) = self.sock.recv::<T, P>().map_err(|e| socket_error(op, e))?;
            for reply in replies {
                let reply = reply.map_err(|e| Error::transport(op, e))?;
                if *reply.nl_seq() != seq {
                    continue;
                }
                match reply.nl_payload() {
                    NlPayload::Ack(_) => return Ok(out),
                    NlPayload::Err(e) => return Err(Error::kernel(op, *e.error())),
                    NlPayload::Payload(_) => {
                        if let Some(p) = reply.get_payload() {
                            out.push(p.clone());
                        }
                    }
                    NlPayload::DumpExtAck(_) | NlPayload::Empty => {} // NLMSG_DONE
                }
            }
        }
    }
}

/// One genl attribute of type `nla_type` holding `payload` (a string gets its NUL).
pub(crate) fn attr<T, P>(op: &str, nla_type: T, payload: P) -> Result<Nlattr<T, Buffer>>
where
    T: NlAttrType,
    P: Size + ToBytes,
{
    let nla_type = AttrTypeBuilder::default()
        .nla_type(nla_type)
        .build()
        .map_err(|e| Error::transport(op, e))?;
    NlattrBuilder::default()
        .nla_type(nla_type)
        .nla_payload(payload)
        .build()
        .map_err(|e| Error::transport(op, e))
}

/// A connection to the `team` genl family.
pub struct TeamGenl {
    genl: GenlSocket,
    family: u16,
    group: u32,
}

impl TeamGenl {
    /// Resolves the family and its change group. Fails with ENOENT when no team
    /// driver is loaded.
    pub async fn connect() -> Result<Self> {
        let genl = GenlSocket::open("connect to team generic netlink")?;
        let (family, group) = genl.resolve(
            "resolve generic netlink family \"team\" (is the team module loaded?)",
            consts::GENL_NAME,
            Some(consts::CHANGE_EVENT_GROUP),
        )?;
        let group = group.ok_or_else(|| {
            Error::transport(
                "resolve team change_event group",
                "the controller's reply names no such group",
            )
        })?;
        Ok(Self {
            genl,
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
        let replies =
            self.genl
                .exchange::<u16, Buffer>(op, self.family, Buffer::from(msg.emit()))?;
        replies
            .iter()
            .map(|p| {
                TeamMessage::parse(p.as_ref()).map_err(|source| Error::Decode {
                    op: op.to_string(),
                    source,
                })
            })
            .collect()
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
        let sock = asynchronous::NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())
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
    sock: asynchronous::NlSocketHandle,
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

/// SO_RCVTIMEO on a blocking socket: its recv fails with EAGAIN after `timeout`. (neli
/// has no setter for it, and its socket is not `AsFd`, which socket2 and nix want.)
#[allow(unsafe_code)]
pub(crate) fn set_recv_timeout(
    sock: &impl std::os::unix::io::AsRawFd,
    timeout: Duration,
) -> std::io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: the fd is the socket's own, open for its lifetime; tv outlives the call and
    // its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::from_ref(&tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
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
