//! A blocking usock client with libteamdctl's behaviour (spec §4.2, §4.5):
//! connect to `/var/run/teamd/<dev>.sock` (AF_UNIX, SOCK_SEQPACKET), send one
//! request per call, wait up to 5 s for the reply message.

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self, AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use teamd_ctl_proto::method::Method;
use teamd_ctl_proto::usock::{Reply, ReplyError, Request};

/// teamd's run directory; the socket is `<RUN_DIR><dev>.sock`.
pub const RUN_DIR: &str = "/var/run/teamd/";

/// libteamdctl's `TEAMDCTL_REPLY_TIMEOUT`.
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(5000);

/// The usock path of team device `team`.
pub fn socket_path(team: &str) -> PathBuf {
    PathBuf::from(format!("{RUN_DIR}{team}.sock"))
}

/// What went wrong talking to teamd. [`ClientError::errno`] gives the errno
/// libteamdctl would return, which teamdctl prints with `strerror`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("usock: Failed to create socket: {0}")]
    Socket(#[source] Errno),
    #[error("usock: Failed to connect socket ({}): {source}", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("usock: failed to send request: {0}")]
    Send(#[source] Errno),
    #[error("usock: Wait for reply timed-out.")]
    Timeout,
    #[error("usock: failed to wait for reply: {0}")]
    Wait(#[source] Errno),
    #[error("usock: teamd closed the connection")]
    Closed,
    #[error("usock: failed to receive reply: {0}")]
    Recv(#[source] Errno),
    #[error("usock: malformed reply: {0}")]
    Decode(#[from] ReplyError),
    /// teamd answered with an error reply.
    #[error("usock: Error message received: \"{code}\", content: \"{message}\"")]
    Remote { code: String, message: String },
}

impl ClientError {
    /// The negative errno libteamdctl returns for this failure, as a positive
    /// `Errno`: every bad or error reply is `EINVAL` there, a closed peer `EPIPE`.
    pub fn errno(&self) -> Errno {
        match self {
            ClientError::Socket(e)
            | ClientError::Connect { source: e, .. }
            | ClientError::Send(e)
            | ClientError::Wait(e)
            | ClientError::Recv(e) => *e,
            ClientError::Timeout => Errno::ETIMEDOUT,
            ClientError::Closed => Errno::EPIPE,
            ClientError::Decode(_) | ClientError::Remote { .. } => Errno::EINVAL,
        }
    }
}

/// One connection to a teamd usock; requests go out one at a time.
#[derive(Debug)]
pub struct UsockClient {
    fd: OwnedFd,
    timeout: Duration,
}

impl UsockClient {
    /// Connects to the socket of team device `team`.
    pub fn connect(team: &str) -> Result<UsockClient, ClientError> {
        UsockClient::connect_path(&socket_path(team))
    }

    /// Connects to a socket at `path`.
    pub fn connect_path(path: &Path) -> Result<UsockClient, ClientError> {
        let fd = socket::socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(ClientError::Socket)?;
        let connect_err = |source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        };
        let addr = UnixAddr::new(path).map_err(connect_err)?;
        socket::connect(fd.as_raw_fd(), &addr).map_err(connect_err)?;
        Ok(UsockClient::from_fd(fd))
    }

    /// Wraps an already connected SEQPACKET socket (tests use a socketpair).
    pub fn from_fd(fd: OwnedFd) -> UsockClient {
        UsockClient {
            fd,
            timeout: REPLY_TIMEOUT,
        }
    }

    /// Changes how long [`UsockClient::call_raw`] waits for a reply.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Calls `method` and returns the success payload; an error reply becomes
    /// [`ClientError::Remote`].
    pub fn call(&mut self, method: Method, args: &[&str]) -> Result<String, ClientError> {
        match self.call_raw(&Request::new(method, args))? {
            Reply::Success(payload) => Ok(payload),
            Reply::Error { code, message } => Err(ClientError::Remote { code, message }),
        }
    }

    /// Sends any request and returns whatever reply comes back.
    pub fn call_raw(&mut self, request: &Request) -> Result<Reply, ClientError> {
        // MSG_NOSIGNAL: a teamd that went away must give EPIPE, not kill us
        socket::send(
            self.fd.as_raw_fd(),
            &request.encode(),
            MsgFlags::MSG_NOSIGNAL,
        )
        .map_err(ClientError::Send)?;
        self.wait_readable()?;
        let msg = self.recv_message()?;
        Ok(Reply::decode(&msg)?)
    }

    fn wait_readable(&self) -> Result<(), ClientError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) if Instant::now() >= deadline => return Err(ClientError::Timeout),
                Ok(0) | Err(Errno::EINTR) => continue,
                Ok(_) => return Ok(()),
                Err(e) => return Err(ClientError::Wait(e)),
            }
        }
    }

    /// Reads one whole SEQPACKET message, sized first with a truncating peek.
    fn recv_message(&self) -> Result<Vec<u8>, ClientError> {
        let fd = self.fd.as_raw_fd();
        let len = socket::recv(fd, &mut [], MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC)
            .map_err(ClientError::Recv)?;
        let mut buf = vec![0u8; len.max(1)];
        match socket::recv(fd, &mut buf, MsgFlags::empty()).map_err(ClientError::Recv)? {
            0 => Err(ClientError::Closed),
            n => {
                buf.truncate(n);
                Ok(buf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teamd_ctl_proto::method::ErrorCode;
    use teamd_ctl_proto::usock::Call;

    fn pair() -> (UsockClient, OwnedFd) {
        let (a, b) = socket::socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair");
        (UsockClient::from_fd(a), b)
    }

    /// A one-shot server: reads one request, answers with `reply(call)`.
    fn serve(
        fd: OwnedFd,
        reply: impl FnOnce(Call) -> Option<Vec<u8>> + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            let n = socket::recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()).expect("recv");
            let call = Call::decode(&buf[..n]).expect("request decodes");
            if let Some(msg) = reply(call) {
                socket::send(fd.as_raw_fd(), &msg, MsgFlags::empty()).expect("send");
            }
            // keep the peer open until the client is done
            std::thread::sleep(Duration::from_millis(300));
        })
    }

    #[test]
    fn success_and_error_replies() {
        let (mut client, server) = pair();
        let big = "x".repeat(200_000);
        let payload = big.clone();
        let t = serve(server, move |call| {
            assert_eq!(call.method, Method::StateItemValueGet);
            assert_eq!(call.args, ["a\nb\\c"]);
            Some(Reply::Success(payload).encode())
        });
        assert_eq!(
            client.call(Method::StateItemValueGet, &["a\nb\\c"]),
            Ok(big)
        );
        t.join().expect("server");

        let (mut client, server) = pair();
        let t = serve(server, |_| {
            Some(Reply::error(ErrorCode::NoSuchDev).encode())
        });
        let err = client.call(Method::PortAdd, &["eth9"]).unwrap_err();
        assert_eq!(
            err,
            ClientError::Remote {
                code: "NoSuchDev".into(),
                message: "No such device.".into()
            }
        );
        assert_eq!(err.errno(), Errno::EINVAL);
        t.join().expect("server");
    }

    #[test]
    fn timeout_closed_and_garbage() {
        let (mut client, server) = pair();
        client.set_timeout(Duration::from_millis(100));
        let t = serve(server, |_| None);
        let err = client.call(Method::StateDump, &[]).unwrap_err();
        assert_eq!(err, ClientError::Timeout);
        assert_eq!(err.errno(), Errno::ETIMEDOUT);
        t.join().expect("server");

        let (mut client, server) = pair();
        drop(server);
        let err = client.call(Method::StateDump, &[]).unwrap_err();
        assert_eq!(err.errno(), Errno::EPIPE);

        let (mut client, server) = pair();
        let t = serve(server, |_| Some(b"HELLO\n".to_vec()));
        let err = client.call(Method::ConfigDump, &[]).unwrap_err();
        assert!(matches!(
            err,
            ClientError::Decode(ReplyError::UnsupportedType { .. })
        ));
        t.join().expect("server");
    }

    #[test]
    fn connect_failure_names_path() {
        let path = std::env::temp_dir().join(format!("rteam-no-such-{}.sock", std::process::id()));
        let err = UsockClient::connect_path(&path).unwrap_err();
        assert_eq!(err.errno(), Errno::ENOENT);
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_eq!(socket_path("team0"), Path::new("/var/run/teamd/team0.sock"));
    }
}
