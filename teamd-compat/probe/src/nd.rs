//! IPv6 Neighbour Discovery (RFC 4861) as `nsna_ping` uses it: the Neighbour
//! Solicitation it sends for `target_host` and the Neighbour Advertisement
//! it accepts back.

use std::net::Ipv6Addr;

use crate::eth::{EthHeader, Mac, ETH_P_IPV6};
use crate::ProbeError;

pub const IPPROTO_ICMPV6: u8 = 58;
pub const ND_NEIGHBOR_SOLICIT: u8 = 135;
pub const ND_NEIGHBOR_ADVERT: u8 = 136;
pub const OPT_SOURCE_LINKADDR: u8 = 1;
pub const OPT_TARGET_LINKADDR: u8 = 2;
pub const IPV6_HLEN: usize = 40;
/// ICMPv6 header, reserved/flags word, target, one 8-byte link-layer option.
pub const ND_MSG_LEN: usize = 32;
/// Neighbour discovery is link-local only: sent and required with 255.
pub const ND_HOP_LIMIT: u8 = 255;

/// The solicited-node group of `addr`: `ff02::1:ff00:0/104` with the low 24 bits of `addr`.
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The Ethernet multicast address of an IPv6 group: `33:33` + its low 32 bits.
pub fn multicast_mac(group: Ipv6Addr) -> Mac {
    let o = group.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

fn sum16(bytes: &[u8], mut acc: u32) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

/// The ICMPv6 checksum over the IPv6 pseudo-header and `icmp` (whose own
/// checksum field must be zero, or hold the checksum to verify: then the
/// result is 0).
pub fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, icmp: &[u8]) -> u16 {
    let mut acc = sum16(&src.octets(), 0);
    acc = sum16(&dst.octets(), acc);
    let len = u32::try_from(icmp.len()).unwrap_or(u32::MAX);
    acc += len >> 16;
    acc += len & 0xffff;
    acc += u32::from(IPPROTO_ICMPV6);
    acc = sum16(icmp, acc);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// What one `nsna_ping` watch asks: who has `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsProbe {
    pub target: Ipv6Addr,
}

impl NsProbe {
    /// Where the solicitation goes: the target's solicited-node group.
    pub fn destination(&self) -> Ipv6Addr {
        solicited_node(self.target)
    }

    /// The ICMPv6 message as C teamd hands it to its raw ICMPv6 socket:
    /// checksum 0 (the kernel fills it in), target, and a source link-layer
    /// address option with the port's MAC.
    pub fn icmp_message(&self, port_mac: Mac) -> [u8; ND_MSG_LEN] {
        let mut m = [0u8; ND_MSG_LEN];
        m[0] = ND_NEIGHBOR_SOLICIT;
        m[8..24].copy_from_slice(&self.target.octets());
        m[24] = OPT_SOURCE_LINKADDR;
        m[25] = 1;
        m[26..32].copy_from_slice(&port_mac);
        m
    }

    /// The same solicitation as a whole Ethernet frame from `source` (for a
    /// packet socket), checksum computed, hop limit 255.
    pub fn frame(&self, port_mac: Mac, source: Ipv6Addr) -> Vec<u8> {
        let dst = self.destination();
        let mut icmp = self.icmp_message(port_mac);
        let sum = icmpv6_checksum(source, dst, &icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        let mut out = Vec::with_capacity(14 + IPV6_HLEN + ND_MSG_LEN);
        EthHeader {
            dst: multicast_mac(dst),
            src: port_mac,
            vlan_tci: None,
            ethertype: ETH_P_IPV6,
        }
        .write(&mut out);
        write_ipv6_header(&mut out, source, dst);
        out.extend_from_slice(&icmp);
        out
    }

    /// Is `na` the advertisement for our target (C teamd's check; the
    /// advertisement's flags are not looked at).
    pub fn is_reply(&self, na: &NeighbourAdvert) -> bool {
        na.target == self.target
    }
}

fn write_ipv6_header(out: &mut Vec<u8>, src: Ipv6Addr, dst: Ipv6Addr) {
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&(ND_MSG_LEN as u16).to_be_bytes());
    out.push(IPPROTO_ICMPV6);
    out.push(ND_HOP_LIMIT);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
}

/// A Neighbour Advertisement in the only shape C teamd accepts: one target
/// link-layer address option, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourAdvert {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// Router / Solicited / Override bits, as the top three bits.
    pub flags: u32,
    pub target: Ipv6Addr,
    pub target_mac: Mac,
}

impl NeighbourAdvert {
    /// The whole advertisement as an Ethernet frame (for tests and peers).
    pub fn frame(&self, src_mac: Mac, dst_mac: Mac) -> Vec<u8> {
        let mut icmp = [0u8; ND_MSG_LEN];
        icmp[0] = ND_NEIGHBOR_ADVERT;
        icmp[4..8].copy_from_slice(&self.flags.to_be_bytes());
        icmp[8..24].copy_from_slice(&self.target.octets());
        icmp[24] = OPT_TARGET_LINKADDR;
        icmp[25] = 1;
        icmp[26..32].copy_from_slice(&self.target_mac);
        let sum = icmpv6_checksum(self.src, self.dst, &icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        let mut out = Vec::new();
        EthHeader {
            dst: dst_mac,
            src: src_mac,
            vlan_tci: None,
            ethertype: ETH_P_IPV6,
        }
        .write(&mut out);
        write_ipv6_header(&mut out, self.src, self.dst);
        out.extend_from_slice(&icmp);
        out
    }
}

fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(o)
}

/// Parses an IPv6 packet (from the version byte on) as a Neighbour
/// Advertisement, with C teamd's checks (version 6, payload length 32, next
/// header ICMPv6, hop limit 255, type 136, first option a 1-unit target
/// link-layer address) plus the ICMPv6 checksum.
pub fn parse_na(ip: &[u8]) -> Result<NeighbourAdvert, ProbeError> {
    let need = IPV6_HLEN + ND_MSG_LEN;
    let truncated = |need| ProbeError::Truncated {
        what: "neighbour advertisement",
        len: ip.len(),
        need,
    };
    let h = ip.get(..IPV6_HLEN).ok_or(truncated(IPV6_HLEN))?;
    let version = h[0] >> 4;
    if version != 6 {
        return Err(ProbeError::IpVersion(version));
    }
    let plen = u16::from_be_bytes([h[4], h[5]]);
    if usize::from(plen) != ND_MSG_LEN {
        return Err(ProbeError::PayloadLength(plen));
    }
    if h[6] != IPPROTO_ICMPV6 {
        return Err(ProbeError::NextHeader(h[6]));
    }
    if h[7] != ND_HOP_LIMIT {
        return Err(ProbeError::HopLimit(h[7]));
    }
    let p = ip.get(..need).ok_or(truncated(need))?;
    let src = addr_at(p, 8);
    let dst = addr_at(p, 24);
    let icmp = &p[IPV6_HLEN..];
    if icmp[0] != ND_NEIGHBOR_ADVERT {
        return Err(ProbeError::IcmpType(icmp[0]));
    }
    if icmp[24] != OPT_TARGET_LINKADDR || icmp[25] != 1 {
        return Err(ProbeError::NdOption {
            kind: icmp[24],
            len: icmp[25],
        });
    }
    if icmpv6_checksum(src, dst, icmp) != 0 {
        let mut zeroed = [0u8; ND_MSG_LEN];
        zeroed.copy_from_slice(icmp);
        zeroed[2] = 0;
        zeroed[3] = 0;
        return Err(ProbeError::Checksum {
            got: u16::from_be_bytes([icmp[2], icmp[3]]),
            want: icmpv6_checksum(src, dst, &zeroed),
        });
    }
    let mut target_mac = [0u8; 6];
    target_mac.copy_from_slice(&icmp[26..32]);
    Ok(NeighbourAdvert {
        src,
        dst,
        flags: u32::from_be_bytes([icmp[4], icmp[5], icmp[6], icmp[7]]),
        target: addr_at(icmp, 8),
        target_mac,
    })
}

/// A received frame (from the destination MAC on) as a Neighbour
/// Advertisement.
pub fn parse_na_frame(frame: &[u8]) -> Result<(EthHeader, NeighbourAdvert), ProbeError> {
    let (eth, ip) = EthHeader::parse_type(frame, ETH_P_IPV6)?;
    Ok((eth, parse_na(ip)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: Mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const PEER: Mac = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

    fn target() -> Ipv6Addr {
        "fd00::2:3456:789a".parse().unwrap()
    }

    fn ll() -> Ipv6Addr {
        "fe80::11:22ff:fe33:4455".parse().unwrap()
    }

    fn advert() -> NeighbourAdvert {
        NeighbourAdvert {
            src: target(),
            dst: ll(),
            flags: 0x6000_0000,
            target: target(),
            target_mac: PEER,
        }
    }

    #[test]
    fn solicited_node_group_and_mac() {
        let g = solicited_node(target());
        assert_eq!(g, "ff02::1:ff56:789a".parse::<Ipv6Addr>().unwrap());
        assert_eq!(multicast_mac(g), [0x33, 0x33, 0xff, 0x56, 0x78, 0x9a]);
    }

    #[test]
    fn checksum_matches_a_known_value() {
        // RFC 1071 style: a message whose checksum field holds the computed
        // value sums to zero, and changing any byte changes the sum.
        let p = NsProbe { target: target() };
        let f = p.frame(MAC, ll());
        let icmp = &f[14 + IPV6_HLEN..];
        assert_eq!(icmpv6_checksum(ll(), p.destination(), icmp), 0);
        let mut bad = icmp.to_vec();
        bad[10] ^= 1;
        assert_ne!(icmpv6_checksum(ll(), p.destination(), &bad), 0);
        // Odd lengths pad with a zero byte: 1 (length) + 58 + 0x0100.
        assert_eq!(
            icmpv6_checksum(Ipv6Addr::UNSPECIFIED, Ipv6Addr::UNSPECIFIED, &[0x01]),
            !0x013bu16
        );
    }

    #[test]
    fn checksum_of_a_hand_computed_message() {
        // src ::1, dst ::2, 4-byte body 0x8000_0000: pseudo sum
        // = 1 + 2 + 4 (length) + 58 + 0x8000 = 0x8041, complement 0x7fbe.
        let got = icmpv6_checksum(
            Ipv6Addr::LOCALHOST,
            "::2".parse().unwrap(),
            &[0x80, 0x00, 0x00, 0x00],
        );
        assert_eq!(got, 0x7fbe);
    }

    #[test]
    fn ns_message_and_frame_layout() {
        let p = NsProbe { target: target() };
        let m = p.icmp_message(MAC);
        assert_eq!(m[0], ND_NEIGHBOR_SOLICIT);
        assert_eq!(&m[1..8], &[0; 7]);
        assert_eq!(&m[8..24], &target().octets());
        assert_eq!(&m[24..26], &[1, 1]);
        assert_eq!(&m[26..], &MAC);
        let f = p.frame(MAC, ll());
        assert_eq!(&f[..6], &[0x33, 0x33, 0xff, 0x56, 0x78, 0x9a]);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        assert_eq!(&f[18..22], &[0, 32, 58, 255]);
        assert_eq!(f.len(), 14 + 40 + 32);
    }

    #[test]
    fn na_round_trip_and_reply_check() {
        let f = advert().frame(PEER, MAC);
        let (_, na) = parse_na_frame(&f).unwrap();
        assert_eq!(na, advert());
        let p = NsProbe { target: target() };
        assert!(p.is_reply(&na));
        let other = NsProbe {
            target: "fd00::9".parse().unwrap(),
        };
        assert!(!other.is_reply(&na));
    }

    #[test]
    fn na_checks_are_typed_errors() {
        let good = advert().frame(PEER, MAC);
        let ip = 14;
        let set = |at: usize, v: u8| {
            let mut f = good.clone();
            f[at] = v;
            parse_na_frame(&f).unwrap_err()
        };
        assert_eq!(set(ip, 0x40), ProbeError::IpVersion(4));
        assert_eq!(set(ip + 5, 40), ProbeError::PayloadLength(40));
        assert_eq!(set(ip + 6, 17), ProbeError::NextHeader(17));
        assert_eq!(set(ip + 7, 64), ProbeError::HopLimit(64));
        assert_eq!(set(ip + 40, 135), ProbeError::IcmpType(135));
        assert_eq!(set(ip + 64, 1), ProbeError::NdOption { kind: 1, len: 1 });
        assert_eq!(set(ip + 65, 2), ProbeError::NdOption { kind: 2, len: 2 });
        assert!(matches!(set(ip + 50, 0x77), ProbeError::Checksum { .. }));
        // Our own solicitation is not an advertisement.
        let ns = NsProbe { target: target() }.frame(MAC, ll());
        assert_eq!(parse_na_frame(&ns).unwrap_err(), ProbeError::IcmpType(135));
    }

    #[test]
    fn truncations_are_errors() {
        let f = advert().frame(PEER, MAC);
        for cut in 0..f.len() {
            assert!(parse_na_frame(&f[..cut]).is_err(), "cut at {cut}");
        }
    }
}
