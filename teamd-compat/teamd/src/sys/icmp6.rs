//! The raw ICMPv6 socket nsna_ping sends Neighbour Solicitations through, as
//! C teamd does: the kernel's IPv6 stack picks the source address and fills
//! in the checksum; the socket's receive filter blocks every ICMPv6 type (the
//! answers are read from a packet socket on the port instead).

use std::io;
use std::mem::{size_of, zeroed};
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};

use super::sock::{setsockopt, socket};

/// `ICMP6_FILTER` (netinet/icmp6.h) and its bitmap: a set bit blocks a type.
const ICMP6_FILTER: libc::c_int = 1;
const ICMP6_FILTER_BLOCK_ALL: [u32; 8] = [u32::MAX; 8];
const HOP_LIMIT: libc::c_int = 255;

pub fn open() -> io::Result<OwnedFd> {
    let fd = socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6)?;
    setsockopt(
        &fd,
        libc::IPPROTO_ICMPV6,
        ICMP6_FILTER,
        &ICMP6_FILTER_BLOCK_ALL,
    )?;
    setsockopt(
        &fd,
        libc::IPPROTO_IPV6,
        libc::IPV6_MULTICAST_HOPS,
        &HOP_LIMIT,
    )?;
    Ok(fd)
}

/// Sends one ICMPv6 message to `dst` scoped to interface `ifindex`.
pub fn send(fd: &OwnedFd, ifindex: u32, dst: Ipv6Addr, message: &[u8]) -> io::Result<()> {
    // SAFETY: sockaddr_in6 is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in6 = unsafe { zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_addr.s6_addr = dst.octets();
    sa.sin6_scope_id = ifindex;
    loop {
        // SAFETY: `message` and `sa` are live for the call with the lengths given.
        let n = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                message.as_ptr().cast(),
                message.len(),
                0,
                (&sa as *const libc::sockaddr_in6).cast(),
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
