//! The classic BPF socket filter for a port's LACP socket: the socket is
//! already bound to the Slow Protocols EtherType, and the filter keeps only
//! subtype 1 (LACP), so Marker and OAM frames never wake the daemon.

use teamd_bpf::SockFilter;

use crate::lacpdu::{offset, ETH_P_SLOW, SUBTYPE_LACP};

// opcodes (linux/filter.h)
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;

/// Accept a frame whole.
const ACCEPT: u32 = u32::MAX;

/// `ldh [12]; jne 0x8809 drop; ldb [14]; jne 1 drop; ret all; drop: ret 0`.
/// Offsets count from the destination MAC, which is where a SOCK_RAW packet
/// socket's filter starts (a VLAN tag the kernel stripped is not in the bytes).
pub fn lacp_filter() -> Vec<SockFilter> {
    vec![
        SockFilter::stmt(LD_H_ABS, offset::ETHERTYPE as u32),
        SockFilter::jump(JEQ_K, u32::from(ETH_P_SLOW), 0, 3),
        SockFilter::stmt(LD_B_ABS, offset::SUBTYPE as u32),
        SockFilter::jump(JEQ_K, u32::from(SUBTYPE_LACP), 0, 1),
        SockFilter::stmt(RET_K, ACCEPT),
        SockFilter::stmt(RET_K, 0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacpdu::{Lacpdu, LacpduInfo};

    /// A tiny interpreter for the instructions the filter uses, so the test
    /// checks what the program does, not how it is spelled.
    fn run(prog: &[SockFilter], pkt: &[u8]) -> u32 {
        let mut a: u32 = 0;
        let mut pc = 0usize;
        loop {
            let Some(i) = prog.get(pc) else {
                panic!("ran off the end")
            };
            match i.code {
                LD_H_ABS => {
                    let k = i.k as usize;
                    let Some(b) = pkt.get(k..k + 2) else { return 0 };
                    a = u32::from(u16::from_be_bytes([b[0], b[1]]));
                }
                LD_B_ABS => {
                    let Some(b) = pkt.get(i.k as usize) else {
                        return 0;
                    };
                    a = u32::from(*b);
                }
                JEQ_K => {
                    pc += usize::from(if a == i.k { i.jt } else { i.jf });
                }
                RET_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn keeps_lacp_and_drops_other_slow_protocols() {
        let prog = lacp_filter();
        let lacp = Lacpdu::new(
            [2, 0, 0, 0, 0, 1],
            LacpduInfo::default(),
            LacpduInfo::default(),
        )
        .to_frame();
        assert_eq!(run(&prog, &lacp), ACCEPT);
        let mut marker = lacp;
        marker[14] = 2;
        assert_eq!(run(&prog, &marker), 0);
        let mut oam = lacp;
        oam[14] = 3;
        assert_eq!(run(&prog, &oam), 0);
        let mut ip = lacp;
        ip[12] = 0x08;
        ip[13] = 0x00;
        assert_eq!(run(&prog, &ip), 0);
        assert_eq!(run(&prog, &lacp[..10]), 0, "a runt frame is dropped");
    }
}
