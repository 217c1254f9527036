//! Packet sockets on ports, owned by the runner (LACP) or a link watch (ARP,
//! NS/NA probes). Each open socket gets a reader task that forwards frames,
//! tagged with the owner's key, into one channel and rings the main loop's
//! doorbell once per batch; the core routes them back to their owner. Building
//! and parsing frames belongs to the pure protocol crates, not here.

// Users (the lacp runner, the arp_ping/nsna_ping watches) are being merged.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use teamd_bpf::SockFilter;

use crate::doorbell::{Doorbell, RingOnDrop, Source};
use crate::log;
use crate::sys;
use crate::sys::packet::{recv_frames, RxMeta, RECV_BATCH, RX_BUF};

/// Who owns a packet socket; received frames are routed back by this key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SockKey {
    /// The runner's socket on a port (LACP).
    Runner { ifindex: u32 },
    /// A link watch's socket on a port (`watch` is the watch's id).
    LinkWatch { ifindex: u32, watch: u32 },
}

impl SockKey {
    pub fn ifindex(&self) -> u32 {
        match *self {
            SockKey::Runner { ifindex } | SockKey::LinkWatch { ifindex, .. } => ifindex,
        }
    }
}

/// An AF_PACKET / SOCK_RAW socket bound to one port and one ethertype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockSpec {
    pub ifindex: u32,
    /// Host order, e.g. 0x8809 (slow protocols), 0x0806 (ARP), 0x86dd (IPv6).
    pub ethertype: u16,
    /// Attached with SO_ATTACH_FILTER; empty means no filter.
    pub filter: Vec<SockFilter>,
    /// Multicast MACs joined on the port (PACKET_MR_MULTICAST).
    pub multicast: Vec<[u8; 6]>,
}

/// A received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxFrame {
    /// The Ethernet frame from the destination MAC on. A VLAN tag the kernel
    /// stripped is not in the bytes but in `vlan_tci`.
    pub data: Vec<u8>,
    pub vlan_tci: Option<u16>,
    /// sll_pkttype: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing.
    pub pkt_type: u8,
}

pub type RxSender = mpsc::UnboundedSender<(SockKey, RxFrame)>;
pub type RxReceiver = mpsc::UnboundedReceiver<(SockKey, RxFrame)>;

struct Open {
    spec: SockSpec,
    fd: Arc<AsyncFd<OwnedFd>>,
    reader: JoinHandle<()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        // the fd closes once the aborted reader drops its Arc
        self.reader.abort();
    }
}

/// The open packet sockets of the daemon.
pub struct PacketSockets {
    open: BTreeMap<SockKey, Open>,
    tx: RxSender,
    bell: Arc<Doorbell>,
    /// nsna_ping's send-only ICMPv6 socket, opened on first use.
    icmp6: Option<OwnedFd>,
}

impl PacketSockets {
    /// Frames go to the receiver returned, each batch with a ring of `bell`.
    pub fn new(bell: Arc<Doorbell>) -> (Self, RxReceiver) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self {
                open: BTreeMap::new(),
                tx,
                bell,
                icmp6: None,
            },
            rx,
        )
    }

    /// Opens a socket for `key`, replacing one it already had.
    pub fn open(&mut self, key: SockKey, spec: SockSpec) -> std::io::Result<()> {
        self.open.remove(&key);
        let fd = sys::packet::open(spec.ifindex, spec.ethertype, &spec.filter, &spec.multicast)?;
        let fd = Arc::new(sys::async_fd(fd)?);
        let ring = RingOnDrop::new(self.bell.clone(), Source::Packet);
        let reader = tokio::spawn(read_frames(
            key,
            spec.ifindex,
            fd.clone(),
            (self.tx.clone(), ring),
        ));
        self.open.insert(key, Open { spec, fd, reader });
        Ok(())
    }

    pub fn close(&mut self, key: SockKey) {
        self.open.remove(&key);
    }

    /// Closes every socket on a port.
    pub fn close_port(&mut self, ifindex: u32) {
        self.open.retain(|k, _| k.ifindex() != ifindex);
    }

    pub fn send(&self, key: SockKey, frame: &[u8]) -> std::io::Result<()> {
        let o = self
            .open
            .get(&key)
            .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EBADF))?;
        sys::packet::send(
            o.fd.get_ref().as_fd(),
            o.spec.ifindex,
            o.spec.ethertype,
            frame,
        )
    }
}

impl PacketSockets {
    /// Sends an ICMPv6 message through the kernel's IPv6 stack, out of
    /// `ifindex` (the kernel picks the source address, as for C teamd).
    pub fn send_icmp6(
        &mut self,
        ifindex: u32,
        dst: std::net::Ipv6Addr,
        message: &[u8],
    ) -> std::io::Result<()> {
        let fd = match self.icmp6.take() {
            Some(fd) => fd,
            None => sys::icmp6::open()?,
        };
        let r = sys::icmp6::send(&fd, ifindex, dst, message);
        self.icmp6 = Some(fd);
        r
    }
}

async fn read_frames(
    key: SockKey,
    ifindex: u32,
    fd: Arc<AsyncFd<OwnedFd>>,
    (tx, ring): (RxSender, RingOnDrop),
) {
    let mut bufs = Box::new([[0u8; RX_BUF]; RECV_BATCH]);
    let mut meta = [RxMeta::default(); RECV_BATCH];
    loop {
        let mut guard = match fd.readable().await {
            Ok(g) => g,
            Err(e) => {
                log::err(&format!("Packet socket {key:?} failed: {e}"));
                return;
            }
        };
        match guard.try_io(|fd| recv_frames(fd.get_ref().as_fd(), &mut bufs, &mut meta)) {
            Ok(Ok(n)) => {
                if n < RECV_BATCH {
                    // The queue was empty behind these frames. Readiness is
                    // edge-triggered: a frame that comes after the call raises it
                    // again (and clear_ready keeps a rise the driver saw since).
                    guard.clear_ready();
                }
                for (m, buf) in meta.iter().zip(bufs.iter()).take(n) {
                    // frames queued between socket() and bind() may come from other links
                    if m.ifindex != ifindex {
                        continue;
                    }
                    let frame = RxFrame {
                        data: buf[..m.len].to_vec(),
                        vlan_tci: m.vlan_tci,
                        pkt_type: m.pkt_type,
                    };
                    if tx.send((key, frame)).is_err() {
                        return;
                    }
                }
                if n > 0 {
                    ring.ring();
                }
            }
            Ok(Err(e)) if matches!(e.raw_os_error(), Some(libc::ENETDOWN | libc::ENODEV)) => {
                // the port went down (the socket works again once it is up)
                // or away (its owner closes the socket when the port leaves)
                log::dbg(1, || format!("Packet socket {key:?}: {e}"));
            }
            Ok(Err(e)) => {
                log::err(&format!("Packet socket {key:?} receive failed: {e}"));
                // each error is reported once; pace a socket that keeps failing
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(_would_block) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loopback round trip through a real socket (needs CAP_NET_RAW, as teamd does).
    #[tokio::test]
    #[ignore = "needs CAP_NET_RAW: `cargo xtask test` runs it as root"]
    async fn frames_reach_the_owner_with_their_key_and_filter_applies() {
        const ETHERTYPE: u16 = 0x88b5; // IEEE local experimental
        let lo = 1; // the loopback device is always ifindex 1
        let bell = Doorbell::new();
        let (mut socks, mut rx) = PacketSockets::new(bell.clone());
        let key = SockKey::LinkWatch {
            ifindex: lo,
            watch: 7,
        };
        // accept only frames whose 15th byte (first payload byte) is 0x42
        let filter = vec![
            SockFilter::stmt(0x30, 14),         // ldb [14]
            SockFilter::jump(0x15, 0x42, 0, 1), // jeq #0x42
            SockFilter::stmt(0x06, 0xffff),     // ret #65535
            SockFilter::stmt(0x06, 0),          // ret #0
        ];
        let spec = SockSpec {
            ifindex: lo,
            ethertype: ETHERTYPE,
            filter,
            multicast: vec![],
        };
        socks.open(key, spec).expect("open packet socket");
        let frame = |first: u8| {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&ETHERTYPE.to_be_bytes());
            f.extend_from_slice(&[first, 1, 2, 3]);
            f.resize(60, 0);
            f
        };
        socks
            .send(key, &frame(0x41))
            .expect("send filtered-out frame");
        socks.send(key, &frame(0x42)).expect("send wanted frame");
        // the main loop's way: wait for the ring, then take without waiting
        let rung = tokio::time::timeout(std::time::Duration::from_secs(2), bell.rung())
            .await
            .expect("the bell rings");
        assert!(rung.contains(Source::Packet));
        let got = rx.try_recv().expect("a frame is queued");
        assert_eq!(got.0, key);
        assert_eq!(got.1.data, frame(0x42));
        assert_eq!(got.1.vlan_tci, None);
        // the 0x41 frame was filtered in the kernel, so nothing else is queued
        assert!(rx.try_recv().is_err());
        socks.close(key);
        assert!(socks.send(key, &frame(0x42)).is_err());
    }
}
