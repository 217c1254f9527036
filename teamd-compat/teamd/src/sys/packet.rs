//! AF_PACKET sockets for the protocols teamd speaks on ports (LACP, ARP and
//! NS/NA probes): one raw socket per (port, ethertype) with a classic-BPF
//! filter, so the daemon only wakes for frames it is waiting for. The
//! syscalls and their buffers live here; callers see owned fds and byte slices.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::sock::{check, setsockopt, socket};

use teamd_bpf::SockFilter;

/// Size of each receive buffer: the frames teamd reads (LACPDUs, ARP, NA) are far
/// smaller; a longer one is cut to this.
pub const RX_BUF: usize = 2048;

/// What recvmsg said about one frame besides its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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

/// How many frames one `recv_frames` call can take. Two, so that a call that gets one
/// frame has also found the queue empty behind it: the reader then need not make a
/// second call only to hear EAGAIN (one frame per wake is the usual case).
pub const RECV_BATCH: usize = 2;

/// Reads up to `RECV_BATCH` queued frames, one into each buffer (a longer frame is cut
/// to its buffer's size), without waiting; returns how many came, their details in
/// `meta`. `WouldBlock` when nothing is queued.
pub fn recv_frames(
    fd: BorrowedFd<'_>,
    bufs: &mut [[u8; RX_BUF]; RECV_BATCH],
    meta: &mut [RxMeta; RECV_BATCH],
) -> io::Result<usize> {
    // SAFETY: all-zero is valid for these plain C structs.
    let mut from: [libc::sockaddr_ll; RECV_BATCH] = unsafe { zeroed() };
    // u64 elements keep each control buffer aligned for cmsghdr
    let mut control = [[0u64; 16]; RECV_BATCH];
    let mut iov: [libc::iovec; RECV_BATCH] = std::array::from_fn(|i| libc::iovec {
        iov_base: bufs[i].as_mut_ptr().cast(),
        iov_len: RX_BUF,
    });
    // SAFETY: mmsghdr is plain old data; all-zero is a valid value.
    let mut msgs: [libc::mmsghdr; RECV_BATCH] = unsafe { zeroed() };
    for (i, m) in msgs.iter_mut().enumerate() {
        m.msg_hdr.msg_name = std::ptr::from_mut(&mut from[i]).cast();
        m.msg_hdr.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        m.msg_hdr.msg_iov = &mut iov[i];
        m.msg_hdr.msg_iovlen = 1;
        m.msg_hdr.msg_control = control[i].as_mut_ptr().cast();
        m.msg_hdr.msg_controllen = size_of::<[u64; 16]>();
    }
    // SAFETY: every pointer in `msgs` refers to a live buffer of the stated length that
    // outlives the call; the count is the array's length.
    let n = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            msgs.as_mut_ptr(),
            RECV_BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = (n as usize).min(RECV_BATCH);
    for i in 0..n {
        meta[i] = RxMeta {
            len: (msgs[i].msg_len as usize).min(RX_BUF),
            ifindex: from[i].sll_ifindex as u32,
            pkt_type: from[i].sll_pkttype,
            vlan_tci: vlan_tci(&msgs[i].msg_hdr),
        };
    }
    Ok(n)
}

/// The VLAN tag the kernel took off a frame (PACKET_AUXDATA), from a filled msghdr.
fn vlan_tci(msg: &libc::msghdr) -> Option<u16> {
    let mut vlan_tci = None;
    // SAFETY: the kernel filled msg_control/msg_controllen; CMSG_FIRSTHDR and
    // CMSG_NXTHDR stay within that buffer.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: a non-null cmsg from the CMSG_* macros points into the control buffer.
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
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
    vlan_tci
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
