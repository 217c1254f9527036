//! Any bytes through every probe parser and filter: no panic allowed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use teamd_bpf::interp::{run, Skb};
use teamd_probe::{arp, eth::EthHeader, filter, nd};

fuzz_target!(|data: &[u8]| {
    let _ = EthHeader::parse(data);
    let _ = arp::parse_frame(data);
    let _ = nd::parse_na_frame(data);
    let _ = nd::parse_na(data);
    let protocol = data
        .get(12..14)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let skb = Skb {
        data,
        protocol,
        pkt_type: 0,
        ifindex: 1,
        vlan_tci: data.first().map(|b| u16::from(*b)),
    };
    for prog in [filter::arp(None), filter::arp(Some(7)), filter::na()] {
        assert!(run(&prog, &skb).is_ok());
    }
});
