//! The unix-socket control interface (`/var/run/teamd/<dev>.sock`,
//! SOCK_SEQPACKET): one request per message, answered by the core's shared
//! request handler. Unlike C teamd, a request that is not understood gets a
//! reply saying so where the protocol allows one.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sys::socket::{self, AddressFamily, Backlog, MsgFlags, SockFlag, SockType, UnixAddr};
use teamd_ctl_proto::method::ErrorCode;
use teamd_ctl_proto::usock::{Call, Reply};
use tokio::io::unix::AsyncFd;
use tokio::sync::oneshot;

use crate::doorbell;
use crate::log;

/// A decoded request on its way to the core, with the way back.
pub struct CtlRequest {
    pub call: Call,
    pub reply: oneshot::Sender<Reply>,
}

/// The way into the core's control queue, shared by D-Bus and the unix socket.
pub type CtlSender = doorbell::Sender<CtlRequest>;

pub struct Usock {
    path: PathBuf,
}

impl Drop for Usock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn seqpacket() -> nix::Result<OwnedFd> {
    socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// Binds the socket (removing a stale file first) and serves it on the
/// current runtime; requests go to `tx`. Dropping the result unlinks the file.
pub fn listen(path: &Path, tx: CtlSender) -> std::io::Result<Usock> {
    let _ = std::fs::remove_file(path);
    let fd = seqpacket()?;
    let addr = UnixAddr::new(path)?;
    socket::bind(fd.as_raw_fd(), &addr)?;
    socket::listen(&fd, Backlog::new(10)?)?;
    let listener = crate::sys::async_fd(fd)?;
    tokio::spawn(accept_loop(listener, tx));
    Ok(Usock {
        path: path.to_path_buf(),
    })
}

async fn accept_loop(listener: AsyncFd<OwnedFd>, tx: CtlSender) {
    loop {
        let Ok(mut guard) = listener.readable().await else {
            return;
        };
        match guard.try_io(|fd| {
            socket::accept4(
                fd.get_ref().as_raw_fd(),
                SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            )
            .map_err(std::io::Error::from)
        }) {
            Ok(Ok(raw)) => {
                let conn = crate::sys::own_fd(raw);
                if let Ok(conn) = crate::sys::async_fd(conn) {
                    tokio::spawn(serve_conn(conn, tx.clone()));
                }
            }
            Ok(Err(e)) => log::dbg(1, || format!("usock: accept failed: {e}")),
            Err(_would_block) => continue,
        }
    }
}

/// Receives one whole SEQPACKET message; `None` when the peer closed.
async fn recv_msg(conn: &AsyncFd<OwnedFd>) -> std::io::Result<Option<Vec<u8>>> {
    loop {
        let mut guard = conn.readable().await?;
        let res = guard.try_io(|fd| {
            let raw = fd.get_ref().as_raw_fd();
            // learn the size first so no request is ever cut
            let mut probe = [0u8; 1];
            let len = socket::recv(raw, &mut probe, MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC)
                .map_err(std::io::Error::from)?;
            let mut buf = vec![0u8; len.max(1)];
            let n = socket::recv(raw, &mut buf, MsgFlags::empty()).map_err(std::io::Error::from)?;
            buf.truncate(n);
            Ok((len, buf))
        });
        match res {
            Ok(Ok((0, _))) => return Ok(None),
            Ok(Ok((_, buf))) => return Ok(Some(buf)),
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => continue,
        }
    }
}

async fn send_msg(conn: &AsyncFd<OwnedFd>, msg: &[u8]) -> std::io::Result<()> {
    loop {
        let mut guard = conn.writable().await?;
        match guard.try_io(|fd| {
            socket::send(fd.get_ref().as_raw_fd(), msg, MsgFlags::MSG_NOSIGNAL)
                .map_err(std::io::Error::from)
        }) {
            Ok(r) => return r.map(drop),
            Err(_would_block) => continue,
        }
    }
}

async fn serve_conn(conn: AsyncFd<OwnedFd>, tx: CtlSender) {
    loop {
        let msg = match recv_msg(&conn).await {
            Ok(Some(m)) => m,
            Ok(None) | Err(_) => return,
        };
        let reply = match Call::decode(&msg) {
            Ok(call) => {
                let (rtx, rrx) = oneshot::channel();
                if tx.send(CtlRequest { call, reply: rtx }).await.is_err() {
                    return;
                }
                match rrx.await {
                    Ok(r) => Some(r),
                    Err(_) => return,
                }
            }
            Err(e) => {
                // C teamd stays silent on some of these and the client hangs
                // for 5 s; we always answer, saying what was wrong.
                log::dbg(1, || format!("usock: bad request: {e}"));
                Some(e.reply().unwrap_or_else(|| Reply::Error {
                    code: ErrorCode::InvalidArgs.code().to_string(),
                    message: format!("Bad request: {e}."),
                }))
            }
        };
        if let Some(r) = reply {
            if send_msg(&conn, &r.encode()).await.is_err() {
                return;
            }
        }
    }
}
