//! Process plumbing C teamd gets from libdaemon: the PID file, `-k`/`-e`,
//! and daemonizing with the parent waiting for the child's start-up result.
//! With [`packet`], [`icmp6`], [`resolve`] and [`heap`], the only modules allowed
//! `unsafe` (fork, packet and ICMPv6 sockets, getaddrinfo, malloc_trim).

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

pub mod deadline;
#[allow(unsafe_code)]
pub mod heap;
#[allow(unsafe_code)]
pub mod icmp6;
#[allow(unsafe_code)]
pub mod packet;
#[allow(unsafe_code)]
pub mod resolve;
#[allow(unsafe_code)]
mod sock;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

pub const RUN_DIR: &str = "/var/run/teamd/";

/// The PID a PID file names, if that process is alive. A stale or garbage file
/// reads as not running.
pub fn pid_file_running(path: &str) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    if pid <= 0 {
        return None;
    }
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => Some(pid),
        Err(_) => None,
    }
}

/// Creates the PID file exclusively (mode 0644, "<pid>\n").
pub fn pid_file_create(path: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)?;
    writeln!(f, "{}", std::process::id())
}

pub fn pid_file_remove(path: &str) {
    let _ = fs::remove_file(path);
}

/// `teamd -k`: SIGTERM to the PID file's process, then wait up to `secs` for it to go.
pub fn pid_file_kill_wait(path: &str, secs: u64) -> Result<(), Errno> {
    let pid = pid_file_running(path).ok_or(Errno::ESRCH)?;
    kill(Pid::from_raw(pid), Signal::SIGTERM)?;
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if kill(Pid::from_raw(pid), None).is_err() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(Errno::ETIMEDOUT)
}

/// The daemon's end of the start-up pipe: tells the waiting parent how init went.
pub struct Ready(Option<OwnedFd>);

impl Ready {
    /// Not daemonized: nobody to tell.
    pub fn none() -> Self {
        Ready(None)
    }

    /// 0 for success, else a positive errno.
    pub fn send(&mut self, code: i32) {
        if let Some(fd) = self.0.take() {
            let mut f = fs::File::from(fd);
            let _ = f.write_all(&code.to_ne_bytes());
        }
    }
}

pub enum Forked {
    /// The original process: exit with the child's init result.
    Parent(Result<(), i32>),
    Daemon(Ready),
}

/// Double fork + setsid, stdio to /dev/null, cwd /. The parent waits up to
/// 20 s for the daemon's init result. Must run before any thread exists.
#[allow(unsafe_code)]
pub fn daemonize() -> Result<Forked, Errno> {
    use nix::unistd::{fork, setsid, ForkResult};
    let (rd, wr) = nix::unistd::pipe()?;
    // SAFETY: called from main before the tokio runtime or any other thread
    // exists, so the child is a complete copy of a single-threaded process.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            drop(wr);
            Ok(Forked::Parent(wait_result(rd)))
        }
        ForkResult::Child => {
            drop(rd);
            setsid()?;
            // SAFETY: still single-threaded (the child of a single-threaded parent).
            match unsafe { fork() }? {
                ForkResult::Parent { .. } => std::process::exit(0),
                ForkResult::Child => {}
            }
            let _ = std::env::set_current_dir("/");
            if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
                let _ = nix::unistd::dup2_stdin(null.as_fd());
                let _ = nix::unistd::dup2_stdout(null.as_fd());
                let _ = nix::unistd::dup2_stderr(null.as_fd());
            }
            Ok(Forked::Daemon(Ready(Some(wr))))
        }
    }
}

fn wait_result(rd: OwnedFd) -> Result<(), i32> {
    let mut fds = [PollFd::new(rd.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(20_000u16)) {
        Ok(n) if n > 0 => {}
        _ => return Err(Errno::ETIMEDOUT as i32),
    }
    let mut buf = [0u8; 4];
    let mut f = fs::File::from(rd);
    match f.read_exact(&mut buf) {
        Ok(()) => match i32::from_ne_bytes(buf) {
            0 => Ok(()),
            e => Err(e),
        },
        Err(_) => Err(Errno::EIO as i32),
    }
}

/// Takes ownership of a descriptor a syscall just returned.
#[allow(unsafe_code)]
pub fn own_fd(raw: std::os::fd::RawFd) -> OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: `raw` is a fresh descriptor from accept4 owned by no one else.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// Registers `owner`, which must own its descriptor (hold it open, and close it only
/// when dropped), with the tokio reactor.
#[allow(unsafe_code)]
pub fn async_fd<T: std::os::fd::AsRawFd>(owner: T) -> std::io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: the descriptor stays open and refers to the same description until the
    // owner is dropped, which happens only with the AsyncFd that owns it.
    unsafe { tokio::io::unix::AsyncFd::register(owner) }.map_err(|e| e.into_parts().1)
}
