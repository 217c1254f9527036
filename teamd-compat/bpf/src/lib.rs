//! Classic BPF as teamd uses it: the instruction type shared by the
//! loadbalance hash program (`bpf_hash_func`) and the socket filters of the
//! packet sockets (LACP, ARP and NS/NA probes). Pure: no sockets here; the
//! daemon attaches programs with `SO_ATTACH_FILTER`.

#![forbid(unsafe_code)]

pub mod interp;

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
