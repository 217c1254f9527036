//! Wire formats of teamd's probing link watches (`arp_ping`, `nsna_ping`):
//! Ethernet framing with an optional 802.1Q tag, ARP requests and replies,
//! IPv6 Neighbour Solicitations and Advertisements with their ICMPv6
//! checksum, the "is this the answer to my probe" checks C teamd applies,
//! and the classic BPF socket filters that pre-select those frames. Pure: no
//! sockets, no clocks; malformed input is a [`ProbeError`], never a panic.

#![forbid(unsafe_code)]

pub mod arp;
pub mod error;
pub mod eth;
pub mod filter;
pub mod nd;

pub use error::ProbeError;

#[cfg(test)]
mod robustness {
    //! Many pseudo-random cuts and byte flips of valid frames through every
    //! parser: each must return (Ok or a typed error), never panic.

    use std::net::{Ipv4Addr, Ipv6Addr};

    use crate::arp::{self, ArpProbe};
    use crate::eth::EthHeader;
    use crate::nd::{self, NeighbourAdvert, NsProbe};

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn seeds() -> Vec<Vec<u8>> {
        let mac = [2, 0, 0, 0, 0, 1];
        let target: Ipv6Addr = "fd00::2".parse().unwrap_or(Ipv6Addr::LOCALHOST);
        let ap = ArpProbe {
            source: Ipv4Addr::new(10, 0, 0, 1),
            target: Ipv4Addr::new(10, 0, 0, 2),
            vlanid: Some(12),
        };
        let na = NeighbourAdvert {
            src: target,
            dst: Ipv6Addr::LOCALHOST,
            flags: 0,
            target,
            target_mac: mac,
        };
        vec![
            ap.request_frame(mac),
            ArpProbe { vlanid: None, ..ap }.request_frame(mac),
            NsProbe { target }.frame(mac, Ipv6Addr::LOCALHOST),
            na.frame(mac, mac),
        ]
    }

    fn parse_all(f: &[u8]) -> usize {
        let ok = [
            EthHeader::parse(f).is_ok(),
            arp::parse_frame(f).is_ok(),
            nd::parse_na_frame(f).is_ok(),
            f.get(14..).is_some_and(|ip| nd::parse_na(ip).is_ok()),
        ];
        ok.iter().filter(|b| **b).count()
    }

    #[test]
    fn random_truncations_and_flips_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let seeds = seeds();
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut f = seeds[rng.below(seeds.len())].clone();
            for _ in 0..rng.below(4) {
                let at = rng.below(f.len());
                f[at] = rng.next() as u8;
            }
            let cut = rng.below(f.len() + 1);
            accepted += parse_all(&f[..cut]);
        }
        // Some survive (whole frames with harmless flips), most do not.
        assert!(accepted > 0);
    }
}
