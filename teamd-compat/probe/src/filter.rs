//! The socket filters of the probe sockets: C teamd's ARP and NA filters
//! with the same logic, for packet sockets of type `SOCK_RAW` (C uses
//! `SOCK_DGRAM`, where offsets start at the network header; here they start
//! at the destination MAC, so every packet offset is shifted by the 14-byte
//! Ethernet header the kernel has already untagged).
//!
//! The ARP filter keeps requests and replies (any ARP seen counts as life
//! unless reply validation is on); without `vlanid` it rejects frames that
//! carried a non-zero VLAN tag, with `vlanid` it keeps only that VLAN. The NA
//! filter keeps ICMPv6 neighbour advertisements.

use teamd_bpf::{ad, op, SockFilter};

use crate::arp::{OP_REPLY, OP_REQUEST};
use crate::eth::{ETH_HLEN, ETH_P_ARP, ETH_P_IPV6};
use crate::nd::{IPPROTO_ICMPV6, IPV6_HLEN, ND_NEIGHBOR_ADVERT};

const LD_B_ABS: u16 = op::LD | op::B | op::ABS;
const LD_H_ABS: u16 = op::LD | op::H | op::ABS;
const JEQ_K: u16 = op::JMP | op::JEQ | op::K;
const AND_K: u16 = op::ALU | op::AND | op::K;
const RET_K: u16 = op::RET | op::K;

/// The ARP opcode, 6 bytes into the ARP header.
const ARP_OP: u32 = ETH_HLEN as u32 + 6;
/// IPv6 next header, 6 bytes into the IPv6 header.
const IPV6_NEXT_HEADER: u32 = ETH_HLEN as u32 + 6;
/// The ICMPv6 type right after the fixed IPv6 header.
const ICMPV6_TYPE: u32 = (ETH_HLEN + IPV6_HLEN) as u32;

const ACCEPT: u32 = u32::MAX;
const DROP: u32 = 0;

/// ARP requests and replies; `vlanid` as the `arp_ping` option.
pub fn arp(vlanid: Option<u16>) -> Vec<SockFilter> {
    let tail = [
        SockFilter::stmt(LD_H_ABS, ARP_OP),
        SockFilter::jump(JEQ_K, u32::from(OP_REPLY), 1, 0),
        SockFilter::jump(JEQ_K, u32::from(OP_REQUEST), 0, 1),
        SockFilter::stmt(RET_K, ACCEPT),
        SockFilter::stmt(RET_K, DROP),
    ];
    let mut prog = vec![SockFilter::stmt(LD_B_ABS, ad::PROTOCOL)];
    match vlanid {
        None => prog.extend_from_slice(&[
            SockFilter::jump(JEQ_K, u32::from(ETH_P_ARP), 0, 6),
            SockFilter::stmt(LD_B_ABS, ad::VLAN_TAG_PRESENT),
            SockFilter::jump(JEQ_K, 0, 2, 0),
            SockFilter::stmt(LD_B_ABS, ad::VLAN_TAG),
            SockFilter::jump(JEQ_K, 0, 0, 4),
        ]),
        Some(id) => prog.extend_from_slice(&[
            SockFilter::jump(JEQ_K, u32::from(ETH_P_ARP), 0, 9),
            SockFilter::stmt(LD_B_ABS, ad::VLAN_TAG_PRESENT),
            SockFilter::jump(JEQ_K, 0, 7, 0),
            SockFilter::stmt(LD_B_ABS, ad::VLAN_TAG),
            SockFilter::stmt(AND_K, 0x0fff),
            SockFilter::jump(JEQ_K, u32::from(id & 0x0fff), 0, 4),
        ]),
    }
    prog.extend_from_slice(&tail);
    prog
}

/// ICMPv6 neighbour advertisements (the full checks are in `nd::parse_na`).
pub fn na() -> Vec<SockFilter> {
    vec![
        SockFilter::stmt(LD_B_ABS, ad::PROTOCOL),
        SockFilter::jump(JEQ_K, u32::from(ETH_P_IPV6), 0, 5),
        SockFilter::stmt(LD_B_ABS, IPV6_NEXT_HEADER),
        SockFilter::jump(JEQ_K, u32::from(IPPROTO_ICMPV6), 0, 3),
        SockFilter::stmt(LD_B_ABS, ICMPV6_TYPE),
        SockFilter::jump(JEQ_K, u32::from(ND_NEIGHBOR_ADVERT), 0, 1),
        SockFilter::stmt(RET_K, ACCEPT),
        SockFilter::stmt(RET_K, DROP),
    ]
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use teamd_bpf::interp::{run, Skb};

    use super::*;
    use crate::arp::{ArpPacket, ArpProbe};
    use crate::eth::{EthHeader, Mac};
    use crate::nd::{NeighbourAdvert, NsProbe};

    const MAC: Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const PEER: Mac = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

    /// Delivers `frame` as the kernel hands it to a `SOCK_RAW` packet socket:
    /// an in-band tag moved into metadata, `skb->protocol` the inner type.
    fn deliver(prog: &[SockFilter], frame: &[u8]) -> u32 {
        let (eth, _) = EthHeader::parse(frame).expect("test frames have a header");
        let mut untagged;
        let data = if eth.vlan_tci.is_some() {
            untagged = frame[..12].to_vec();
            untagged.extend_from_slice(&frame[16..]);
            &untagged[..]
        } else {
            frame
        };
        let skb = Skb {
            data,
            protocol: eth.ethertype,
            pkt_type: 0,
            ifindex: 2,
            vlan_tci: eth.vlan_tci,
        };
        run(prog, &skb).expect("filters are valid programs")
    }

    fn probe(vlanid: Option<u16>) -> ArpProbe {
        ArpProbe {
            source: Ipv4Addr::new(10, 0, 0, 1),
            target: Ipv4Addr::new(10, 0, 0, 2),
            vlanid,
        }
    }

    fn reply_frame(vlan: Option<u16>) -> Vec<u8> {
        let p = probe(None);
        let mut f = Vec::new();
        EthHeader {
            dst: MAC,
            src: PEER,
            vlan_tci: vlan,
            ethertype: ETH_P_ARP,
        }
        .write(&mut f);
        ArpPacket {
            op: OP_REPLY,
            sender_mac: PEER,
            sender_ip: p.target,
            target_mac: MAC,
            target_ip: p.source,
            ..p.request(MAC)
        }
        .write(&mut f);
        f
    }

    #[test]
    fn filters_match_c_teamd_instruction_for_instruction() {
        // Same length and shape as arp_novlan_rpl_flt / arp_vlan_rpl_flt /
        // na_flt; only packet offsets differ (+14).
        assert_eq!(arp(None).len(), 11);
        assert_eq!(arp(Some(5)).len(), 12);
        assert_eq!(arp(Some(5))[6].k, 5);
        assert_eq!(na().len(), 8);
        assert_eq!(arp(None)[6].k, 20);
        assert_eq!(na()[2].k, 20);
        assert_eq!(na()[4].k, 54);
    }

    #[test]
    fn untagged_arp_filter() {
        let f = arp(None);
        assert_eq!(deliver(&f, &reply_frame(None)), ACCEPT);
        assert_eq!(deliver(&f, &probe(None).request_frame(PEER)), ACCEPT);
        // Priority-only tag (VLAN 0, TCI 0) still counts as untagged.
        assert_eq!(deliver(&f, &reply_frame(Some(0))), ACCEPT);
        assert_eq!(deliver(&f, &reply_frame(Some(7))), DROP);
        // Opcode 3 (RARP request) and IPv4 frames are dropped.
        let mut rarp = reply_frame(None);
        rarp[21] = 3;
        assert_eq!(deliver(&f, &rarp), DROP);
        let mut ip = reply_frame(None);
        ip[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(deliver(&f, &ip), DROP);
        // Too short for the opcode load.
        assert_eq!(deliver(&f, &reply_frame(None)[..21]), DROP);
    }

    #[test]
    fn vlan_arp_filter() {
        let f = arp(Some(100));
        assert_eq!(deliver(&f, &reply_frame(Some(100))), ACCEPT);
        // Priority bits are masked off.
        assert_eq!(deliver(&f, &reply_frame(Some(0xe000 | 100))), ACCEPT);
        assert_eq!(deliver(&f, &reply_frame(Some(101))), DROP);
        assert_eq!(deliver(&f, &reply_frame(None)), DROP);
        assert_eq!(deliver(&f, &probe(Some(100)).request_frame(PEER)), ACCEPT);
    }

    #[test]
    fn na_filter() {
        let f = na();
        let target: Ipv6Addr = "fd00::2".parse().unwrap();
        let na = NeighbourAdvert {
            src: target,
            dst: "fe80::1".parse().unwrap(),
            flags: 0x4000_0000,
            target,
            target_mac: PEER,
        };
        assert_eq!(deliver(&f, &na.frame(PEER, MAC)), ACCEPT);
        let ns = NsProbe { target }.frame(MAC, "fe80::1".parse().unwrap());
        assert_eq!(deliver(&f, &ns), DROP);
        let mut udp = na.frame(PEER, MAC);
        udp[20] = 17;
        assert_eq!(deliver(&f, &udp), DROP);
        assert_eq!(deliver(&f, &reply_frame(None)), DROP);
        assert_eq!(deliver(&f, &na.frame(PEER, MAC)[..54]), DROP);
    }
}
