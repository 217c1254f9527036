//! Classic BPF as teamd uses it: the instruction type shared by the
//! loadbalance hash program (`bpf_hash_func`) and the socket filters of the
//! packet sockets (LACP, ARP and NS/NA probes). Pure: no sockets here; the
//! daemon attaches programs with `SO_ATTACH_FILTER`.

#![forbid(unsafe_code)]

// Only tests run programs here (the kernel runs the real ones), so the
// interpreter stays out of the programs unless a dev-dependency asks for it.
#[cfg(feature = "interpreter")]
pub mod interp;

/// Instruction classes and fields (`linux/filter.h`, `linux/bpf_common.h`).
pub mod op {
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;

    pub const W: u16 = 0x00;
    pub const H: u16 = 0x08;
    pub const B: u16 = 0x10;

    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const IND: u16 = 0x40;
    pub const MEM: u16 = 0x60;
    pub const LEN: u16 = 0x80;
    pub const MSH: u16 = 0xa0;

    pub const ADD: u16 = 0x00;
    pub const SUB: u16 = 0x10;
    pub const MUL: u16 = 0x20;
    pub const DIV: u16 = 0x30;
    pub const OR: u16 = 0x40;
    pub const AND: u16 = 0x50;
    pub const LSH: u16 = 0x60;
    pub const RSH: u16 = 0x70;
    pub const NEG: u16 = 0x80;
    pub const MOD: u16 = 0x90;
    pub const XOR: u16 = 0xa0;

    pub const JA: u16 = 0x00;
    pub const JEQ: u16 = 0x10;
    pub const JGT: u16 = 0x20;
    pub const JGE: u16 = 0x30;
    pub const JSET: u16 = 0x40;

    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    pub const A: u16 = 0x10;

    pub const TAX: u16 = 0x00;
    pub const TXA: u16 = 0x80;
}

/// Ancillary data offsets (`SKF_AD_OFF + SKF_AD_*`), as u32.
pub mod ad {
    pub const OFF: u32 = 0xffff_f000;
    pub const PROTOCOL: u32 = OFF;
    pub const PKTTYPE: u32 = OFF + 4;
    pub const IFINDEX: u32 = OFF + 8;
    pub const ALU_XOR_X: u32 = OFF + 40;
    pub const VLAN_TAG: u32 = OFF + 44;
    pub const VLAN_TAG_PRESENT: u32 = OFF + 48;
}

/// One classic BPF instruction, as `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl SockFilter {
    pub const fn stmt(code: u16, k: u32) -> Self {
        Self {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Self { code, jt, jf, k }
    }
}

/// A program as `struct sock_filter[]` bytes: 8 bytes per instruction, host
/// byte order (the `bpf_hash_func` option payload).
pub fn to_bytes(program: &[SockFilter]) -> Vec<u8> {
    let mut out = Vec::with_capacity(program.len() * 8);
    for insn in program {
        out.extend_from_slice(&insn.code.to_ne_bytes());
        out.push(insn.jt);
        out.push(insn.jf);
        out.extend_from_slice(&insn.k.to_ne_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_follow_struct_sock_filter_layout() {
        let b = to_bytes(&[SockFilter::jump(0x15, 0x0806, 1, 2)]);
        let mut want = 0x15u16.to_ne_bytes().to_vec();
        want.extend_from_slice(&[1, 2]);
        want.extend_from_slice(&0x0806u32.to_ne_bytes());
        assert_eq!(b, want);
    }
}
