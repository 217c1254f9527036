//! ARP (RFC 826) for Ethernet/IPv4 as `arp_ping` sends and checks it.

use std::net::Ipv4Addr;

use crate::eth::{EthHeader, Mac, BROADCAST, ETH_P_ARP, ETH_P_IP};
use crate::ProbeError;

/// `ARPHRD_ETHER`: the hardware type of Ethernet ports.
pub const HTYPE_ETHER: u16 = 1;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;
/// An Ethernet/IPv4 ARP body: the fixed header plus two MAC/IPv4 pairs.
pub const ARP_LEN: usize = 28;

/// An ARP body read at the fixed Ethernet/IPv4 positions, as C teamd reads
/// it into `struct arp_packet` whatever `hlen`/`plen` say; whether those
/// fields fit is for the reply check to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    pub htype: u16,
    pub ptype: u16,
    pub hlen: u8,
    pub plen: u8,
    pub op: u16,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

fn mac_at(b: &[u8], at: usize) -> Mac {
    let mut m = [0; 6];
    m.copy_from_slice(&b[at..at + 6]);
    m
}

impl ArpPacket {
    pub fn parse(body: &[u8]) -> Result<Self, ProbeError> {
        let b = body.get(..ARP_LEN).ok_or(ProbeError::Truncated {
            what: "ARP packet",
            len: body.len(),
            need: ARP_LEN,
        })?;
        Ok(Self {
            htype: u16::from_be_bytes([b[0], b[1]]),
            ptype: u16::from_be_bytes([b[2], b[3]]),
            hlen: b[4],
            plen: b[5],
            op: u16::from_be_bytes([b[6], b[7]]),
            sender_mac: mac_at(b, 8),
            sender_ip: ip_at(b, 14),
            target_mac: mac_at(b, 18),
            target_ip: ip_at(b, 24),
        })
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.htype.to_be_bytes());
        out.extend_from_slice(&self.ptype.to_be_bytes());
        out.push(self.hlen);
        out.push(self.plen);
        out.extend_from_slice(&self.op.to_be_bytes());
        out.extend_from_slice(&self.sender_mac);
        out.extend_from_slice(&self.sender_ip.octets());
        out.extend_from_slice(&self.target_mac);
        out.extend_from_slice(&self.target_ip.octets());
    }
}

/// A received ARP frame. `vlan_tci` is the in-band tag if the frame still
/// has one; the caller merges the tag the kernel moved into metadata.
pub fn parse_frame(frame: &[u8]) -> Result<(EthHeader, ArpPacket), ProbeError> {
    let (eth, body) = EthHeader::parse_type(frame, ETH_P_ARP)?;
    Ok((eth, ArpPacket::parse(body)?))
}

/// What one `arp_ping` watch asks: who has `target`, tell `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpProbe {
    pub source: Ipv4Addr,
    pub target: Ipv4Addr,
    /// 802.1Q VLAN id (0..=4095) to tag requests with; priority bits 0.
    pub vlanid: Option<u16>,
}

impl ArpProbe {
    /// The request as C teamd sends it: broadcast, target MAC all ones
    /// (not zero), sender = the port's current MAC and `source_host`.
    pub fn request(&self, port_mac: Mac) -> ArpPacket {
        ArpPacket {
            htype: HTYPE_ETHER,
            ptype: ETH_P_IP,
            hlen: 6,
            plen: 4,
            op: OP_REQUEST,
            sender_mac: port_mac,
            sender_ip: self.source,
            target_mac: BROADCAST,
            target_ip: self.target,
        }
    }

    /// The whole request frame, from the destination MAC on.
    pub fn request_frame(&self, port_mac: Mac) -> Vec<u8> {
        let eth = EthHeader {
            dst: BROADCAST,
            src: port_mac,
            vlan_tci: self.vlanid.map(|id| id & 0x0fff),
            ethertype: ETH_P_ARP,
        };
        let mut out = Vec::with_capacity(eth.wire_len() + crate::arp::ARP_LEN);
        eth.write(&mut out);
        self.request(port_mac).write(&mut out);
        out
    }

    /// C teamd's validation (`validate_active` / `validate_inactive`): an
    /// Ethernet/IPv4 reply either from the target to our source address or,
    /// as some responders answer, naming the target as its own target and
    /// our source as sender.
    pub fn is_reply(&self, arp: &ArpPacket) -> bool {
        if arp.htype != HTYPE_ETHER
            || arp.ptype != ETH_P_IP
            || arp.hlen != 6
            || arp.plen != 4
            || arp.op != OP_REPLY
        {
            return false;
        }
        (arp.target_ip == self.source && arp.sender_ip == self.target)
            || (arp.target_ip == self.target && arp.sender_ip == self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const PEER: Mac = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

    fn probe(vlanid: Option<u16>) -> ArpProbe {
        ArpProbe {
            source: Ipv4Addr::new(192, 0, 2, 1),
            target: Ipv4Addr::new(192, 0, 2, 2),
            vlanid,
        }
    }

    fn reply_to(p: &ArpProbe) -> ArpPacket {
        ArpPacket {
            htype: HTYPE_ETHER,
            ptype: ETH_P_IP,
            hlen: 6,
            plen: 4,
            op: OP_REPLY,
            sender_mac: PEER,
            sender_ip: p.target,
            target_mac: MAC,
            target_ip: p.source,
        }
    }

    #[test]
    fn request_frame_bytes() {
        let f = probe(None).request_frame(MAC);
        let mut want = vec![0xff; 6];
        want.extend_from_slice(&MAC);
        want.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
        want.extend_from_slice(&MAC);
        want.extend_from_slice(&[192, 0, 2, 1]);
        want.extend_from_slice(&[0xff; 6]);
        want.extend_from_slice(&[192, 0, 2, 2]);
        assert_eq!(f, want);
        let (eth, arp) = parse_frame(&f).unwrap();
        assert_eq!(eth.vlan_tci, None);
        assert_eq!(arp, probe(None).request(MAC));
    }

    #[test]
    fn tagged_request_carries_the_vlan_id_with_zero_priority() {
        let f = probe(Some(100)).request_frame(MAC);
        assert_eq!(&f[12..18], &[0x81, 0x00, 0x00, 100, 0x08, 0x06]);
        assert_eq!(f.len(), 14 + 4 + ARP_LEN);
        let (eth, arp) = parse_frame(&f).unwrap();
        assert_eq!(eth.vlan_tci, Some(100));
        assert_eq!(arp.op, OP_REQUEST);
    }

    #[test]
    fn reply_matching_follows_c_teamd() {
        let p = probe(None);
        let r = reply_to(&p);
        assert!(p.is_reply(&r));
        // The crossed form C also accepts.
        let crossed = ArpPacket {
            sender_ip: p.source,
            target_ip: p.target,
            ..r
        };
        assert!(p.is_reply(&crossed));
        // Our own request, a reply about someone else, wrong formats.
        assert!(!p.is_reply(&p.request(MAC)));
        assert!(!p.is_reply(&ArpPacket {
            sender_ip: Ipv4Addr::new(192, 0, 2, 9),
            ..r
        }));
        assert!(!p.is_reply(&ArpPacket { htype: 6, ..r }));
        assert!(!p.is_reply(&ArpPacket { ptype: 0x86dd, ..r }));
        assert!(!p.is_reply(&ArpPacket { hlen: 8, ..r }));
        assert!(!p.is_reply(&ArpPacket { plen: 16, ..r }));
        assert!(!p.is_reply(&ArpPacket { op: 3, ..r }));
    }

    #[test]
    fn truncated_and_foreign_frames_are_errors() {
        let f = probe(None).request_frame(MAC);
        for cut in 0..f.len() {
            assert!(parse_frame(&f[..cut]).is_err(), "cut at {cut}");
        }
        let mut ip = f.clone();
        ip[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(
            parse_frame(&ip).unwrap_err(),
            ProbeError::EtherType {
                got: 0x0800,
                want: ETH_P_ARP
            }
        );
    }

    #[test]
    fn trailing_padding_is_ignored() {
        let mut f = Vec::new();
        EthHeader {
            dst: MAC,
            src: PEER,
            vlan_tci: None,
            ethertype: ETH_P_ARP,
        }
        .write(&mut f);
        reply_to(&probe(None)).write(&mut f);
        f.resize(60, 0);
        let (_, arp) = parse_frame(&f).unwrap();
        assert!(probe(None).is_reply(&arp));
    }
}
