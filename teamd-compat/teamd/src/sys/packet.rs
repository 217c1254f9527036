//! AF_PACKET sockets for the protocols teamd speaks on ports (LACP, ARP and
//! NS/NA probes): one raw socket per (port, ethertype) with a classic-BPF
//! filter, so the daemon only wakes for frames it is waiting for. The
//! syscalls and their buffers live here; callers see owned fds and byte slices.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::sock::{check, setsockopt, socket};

use teamd_bpf::SockFilter;

/// What recvmsg said about one frame besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxMeta {
    pub len: usize,
    pub ifindex: u32,
    pub pkt_type: u8,
    pub vlan_tci: Option<u16>,
}

fn sockaddr_ll(ifindex: u32, ethertype: u16, dest: Option<&[u8]>) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = ethertype.to_be();
    sa.sll_ifindex = ifindex as i32;
    if let Some(mac) = dest {
        let n = mac.len().min(sa.sll_addr.len());
        sa.sll_addr[..n].copy_from_slice(&mac[..n]);
        sa.sll_halen = n as u8;
    }
    sa
}

/// Opens a non-blocking raw packet socket on `ifindex` for `ethertype`,
/// filter attached before the bind so no unfiltered frame is queued.
pub fn open(
    ifindex: u32,
    ethertype: u16,
    filter: &[SockFilter],
    multicast: &[[u8; 6]],
) -> io::Result<OwnedFd> {
    let fd = socket(
        libc::AF_PACKET,
        libc::SOCK_RAW,
        i32::from(ethertype.to_be()),
    )?;
    if !filter.is_empty() {
        let mut insns: Vec<libc::sock_filter> = filter
            .iter()
            .map(|f| libc::sock_filter {
                code: f.code,
                jt: f.jt,
                jf: f.jf,
                k: f.k,
            })
            .collect();
        let prog = libc::sock_fprog {
            len: insns.len() as u16,
            filter: insns.as_mut_ptr(),
        };
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)?;
    }
    let on: libc::c_int = 1;
    setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &on)?;
    let sa = sockaddr_ll(ifindex, ethertype, None);
    // SAFETY: `sa` is a valid sockaddr_ll and the length is its size.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    for mac in multicast {
        // SAFETY: packet_mreq is plain old data; all-zero is a valid value.
        let mut mr: libc::packet_mreq = unsafe { zeroed() };
        mr.mr_ifindex = ifindex as i32;
        mr.mr_type = libc::PACKET_MR_MULTICAST as u16;
        mr.mr_alen = 6;
        mr.mr_address[..6].copy_from_slice(mac);
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mr)?;
    }
    Ok(fd)
}

/// Reads one frame into `buf` (a longer frame is cut to `buf`'s size).
/// `WouldBlock` when nothing is queued.
pub fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<RxMeta> {
    // SAFETY: all-zero is valid for these plain C structs.
    let mut from: libc::sockaddr_ll = unsafe { zeroed() };
    // u64 elements keep the control buffer aligned for cmsghdr
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>();
    // SAFETY: every pointer in `msg` refers to a live buffer of the stated
    // length that outlives the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut vlan_tci = None;
    // SAFETY: the kernel filled msg_control/msg_controllen; CMSG_FIRSTHDR and
    // CMSG_NXTHDR stay within that buffer.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: a non-null cmsg from the CMSG_* macros points into `control`.
        let hdr = unsafe { &*cmsg };
        if hdr.cmsg_level == libc::SOL_PACKET && hdr.cmsg_type == libc::PACKET_AUXDATA {
            // SAFETY: PACKET_AUXDATA carries a tpacket_auxdata; read_unaligned
            // because CMSG_DATA gives no alignment promise for it.
            let aux: libc::tpacket_auxdata =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                vlan_tci = Some(aux.tp_vlan_tci);
            }
        }
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    Ok(RxMeta {
        len: (n as usize).min(buf.len()),
        ifindex: from.sll_ifindex as u32,
        pkt_type: from.sll_pkttype,
        vlan_tci,
    })
}

/// Sends a whole Ethernet frame (from the destination MAC on) out of `ifindex`.
pub fn send(fd: BorrowedFd<'_>, ifindex: u32, ethertype: u16, frame: &[u8]) -> io::Result<()> {
    let dest = frame.get(..6);
    let sa = sockaddr_ll(ifindex, ethertype, dest);
    // SAFETY: `frame` and `sa` are live for the call with the lengths given.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&sa as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
