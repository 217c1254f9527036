//! A classic BPF interpreter with the kernel's semantics for the subset teamd
//! uses: socket filters (ARP and NS/NA probes, LACP) and the loadbalance hash
//! program. Pure, for tests: it lets unit tests run a filter against a frame
//! and see what `SO_ATTACH_FILTER` would do with it. Built only with the
//! `interpreter` feature, which only dev-dependencies (and fuzz targets) enable.
//!
//! Kernel semantics kept: loads past the end of the packet end the program
//! with 0 (drop); division by a zero X returns 0; ancillary loads
//! (`SKF_AD_OFF + n`) read skb metadata whatever the load size; the last
//! reachable instruction must be a return (the kernel's checker refuses the
//! program otherwise, here it is an [`InterpError`]).

use crate::{ad, op, SockFilter};

/// What a filter sees of a received frame: the bytes from where the socket
/// type starts them (the destination MAC for `SOCK_RAW`) and the skb
/// metadata the ancillary loads read.
#[derive(Debug, Clone, Copy)]
pub struct Skb<'a> {
    pub data: &'a [u8],
    /// `skb->protocol`, host order (the inner type when the VLAN tag was
    /// taken out of the frame into metadata).
    pub protocol: u16,
    pub pkt_type: u8,
    pub ifindex: u32,
    /// `skb->vlan_tci` when a tag is in metadata.
    pub vlan_tci: Option<u16>,
}

/// A program the kernel would not have accepted, or one this interpreter
/// does not implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    UnknownOpcode { pc: usize, code: u16 },
    UnknownAncillary { pc: usize, k: u32 },
    JumpOutOfProgram { pc: usize },
    NoReturn,
    BadScratch { pc: usize, k: u32 },
}

impl std::fmt::Display for InterpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOpcode { pc, code } => write!(f, "insn {pc}: unknown opcode {code:#x}"),
            Self::UnknownAncillary { pc, k } => {
                write!(f, "insn {pc}: unknown ancillary load {k:#x}")
            }
            Self::JumpOutOfProgram { pc } => write!(f, "insn {pc}: jump out of the program"),
            Self::NoReturn => write!(f, "program ends without a return"),
            Self::BadScratch { pc, k } => write!(f, "insn {pc}: scratch slot {k} out of range"),
        }
    }
}

impl std::error::Error for InterpError {}

fn load(data: &[u8], off: u32, size: u16) -> Option<u32> {
    let off = usize::try_from(off).ok()?;
    let len = match size {
        op::W => 4,
        op::H => 2,
        _ => 1,
    };
    let bytes = data.get(off..off.checked_add(len)?)?;
    Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

fn ancillary(skb: &Skb<'_>, k: u32, x: u32, a: u32, pc: usize) -> Result<u32, InterpError> {
    Ok(match k {
        ad::PROTOCOL => u32::from(skb.protocol),
        ad::PKTTYPE => u32::from(skb.pkt_type),
        ad::IFINDEX => skb.ifindex,
        ad::ALU_XOR_X => a ^ x,
        ad::VLAN_TAG => u32::from(skb.vlan_tci.unwrap_or(0)),
        ad::VLAN_TAG_PRESENT => u32::from(skb.vlan_tci.is_some()),
        _ => return Err(InterpError::UnknownAncillary { pc, k }),
    })
}

fn jump_target(pc: usize, off: u32, len: usize) -> Result<usize, InterpError> {
    let target = usize::try_from(off)
        .ok()
        .and_then(|o| pc.checked_add(1)?.checked_add(o))
        .ok_or(InterpError::JumpOutOfProgram { pc })?;
    if target >= len {
        return Err(InterpError::JumpOutOfProgram { pc });
    }
    Ok(target)
}

/// Runs `program` on `skb`; returns the filter's verdict (0 = drop, else the
/// number of bytes to keep) or, for the hash program, the value it returns.
pub fn run(program: &[SockFilter], skb: &Skb<'_>) -> Result<u32, InterpError> {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    let pkt_len = u32::try_from(skb.data.len()).unwrap_or(u32::MAX);
    while let Some(insn) = program.get(pc) {
        let code = insn.code;
        let k = insn.k;
        let class = code & 0x07;
        match class {
            op::LD | op::LDX => {
                let mode = code & 0xe0;
                let size = code & 0x18;
                let value = match mode {
                    op::IMM => k,
                    op::LEN => pkt_len,
                    op::MEM => *mem
                        .get(k as usize)
                        .ok_or(InterpError::BadScratch { pc, k })?,
                    op::ABS if class == op::LD => {
                        if k >= ad::OFF {
                            ancillary(skb, k, x, a, pc)?
                        } else {
                            match load(skb.data, k, size) {
                                Some(v) => v,
                                None => return Ok(0),
                            }
                        }
                    }
                    op::IND if class == op::LD => {
                        match x.checked_add(k).and_then(|o| load(skb.data, o, size)) {
                            Some(v) => v,
                            None => return Ok(0),
                        }
                    }
                    op::MSH if class == op::LDX && size == op::B => {
                        match load(skb.data, k, op::B) {
                            Some(v) => (v & 0x0f) << 2,
                            None => return Ok(0),
                        }
                    }
                    _ => return Err(InterpError::UnknownOpcode { pc, code }),
                };
                if class == op::LD {
                    a = value;
                } else {
                    x = value;
                }
                pc += 1;
            }
            op::ST | op::STX => {
                let slot = mem
                    .get_mut(k as usize)
                    .ok_or(InterpError::BadScratch { pc, k })?;
                *slot = if class == op::ST { a } else { x };
                pc += 1;
            }
            op::ALU => {
                let operand = if code & op::X != 0 { x } else { k };
                a = match code & 0xf0 {
                    op::ADD => a.wrapping_add(operand),
                    op::SUB => a.wrapping_sub(operand),
                    op::MUL => a.wrapping_mul(operand),
                    op::DIV => match a.checked_div(operand) {
                        Some(v) => v,
                        None => return Ok(0),
                    },
                    op::MOD => match a.checked_rem(operand) {
                        Some(v) => v,
                        None => return Ok(0),
                    },
                    op::OR => a | operand,
                    op::AND => a & operand,
                    op::XOR => a ^ operand,
                    op::LSH => a.checked_shl(operand).unwrap_or(0),
                    op::RSH => a.checked_shr(operand).unwrap_or(0),
                    op::NEG => a.wrapping_neg(),
                    _ => return Err(InterpError::UnknownOpcode { pc, code }),
                };
                pc += 1;
            }
            op::JMP => {
                let operand = if code & op::X != 0 { x } else { k };
                let taken = match code & 0xf0 {
                    op::JA => {
                        pc = jump_target(pc, k, program.len())?;
                        continue;
                    }
                    op::JEQ => a == operand,
                    op::JGT => a > operand,
                    op::JGE => a >= operand,
                    op::JSET => a & operand != 0,
                    _ => return Err(InterpError::UnknownOpcode { pc, code }),
                };
                let off = if taken { insn.jt } else { insn.jf };
                pc = jump_target(pc, u32::from(off), program.len())?;
            }
            op::RET => {
                return match code & 0x18 {
                    op::K => Ok(k),
                    op::A => Ok(a),
                    _ => Err(InterpError::UnknownOpcode { pc, code }),
                };
            }
            _ => {
                // MISC: TAX / TXA.
                match code & 0xf8 {
                    op::TAX => x = a,
                    op::TXA => a = x,
                    _ => return Err(InterpError::UnknownOpcode { pc, code }),
                }
                pc += 1;
            }
        }
    }
    Err(InterpError::NoReturn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skb(data: &[u8]) -> Skb<'_> {
        Skb {
            data,
            protocol: 0x0800,
            pkt_type: 0,
            ifindex: 3,
            vlan_tci: None,
        }
    }

    const LD_H_ABS: u16 = op::LD | op::H | op::ABS;
    const LD_B_ABS: u16 = op::LD | op::B | op::ABS;
    const JEQ_K: u16 = op::JMP | op::JEQ | op::K;
    const RET_K: u16 = op::RET | op::K;
    const RET_A: u16 = op::RET | op::A;

    #[test]
    fn loads_are_big_endian_and_out_of_bounds_drops() {
        let prog = [SockFilter::stmt(LD_H_ABS, 1), SockFilter::stmt(RET_A, 0)];
        assert_eq!(run(&prog, &skb(&[0x01, 0x02, 0x03])), Ok(0x0203));
        assert_eq!(run(&prog, &skb(&[0x01, 0x02])), Ok(0));
        let w = [
            SockFilter::stmt(op::LD | op::W | op::ABS, 0),
            SockFilter::stmt(RET_A, 0),
        ];
        assert_eq!(run(&w, &skb(&[1, 2, 3, 4])), Ok(0x0102_0304));
    }

    #[test]
    fn conditional_jumps_pick_jt_or_jf() {
        let prog = [
            SockFilter::stmt(LD_B_ABS, 0),
            SockFilter::jump(JEQ_K, 7, 0, 1),
            SockFilter::stmt(RET_K, 111),
            SockFilter::stmt(RET_K, 222),
        ];
        assert_eq!(run(&prog, &skb(&[7])), Ok(111));
        assert_eq!(run(&prog, &skb(&[8])), Ok(222));
    }

    #[test]
    fn ancillary_loads_read_metadata_whatever_the_size() {
        let prog = [
            SockFilter::stmt(LD_B_ABS, ad::PROTOCOL),
            SockFilter::stmt(RET_A, 0),
        ];
        let mut s = skb(&[]);
        s.protocol = 0x0806;
        assert_eq!(run(&prog, &s), Ok(0x0806));
        let tag = [
            SockFilter::stmt(LD_B_ABS, ad::VLAN_TAG),
            SockFilter::stmt(RET_A, 0),
        ];
        let present = [
            SockFilter::stmt(LD_B_ABS, ad::VLAN_TAG_PRESENT),
            SockFilter::stmt(RET_A, 0),
        ];
        assert_eq!(run(&present, &s), Ok(0));
        s.vlan_tci = Some(0x2064);
        assert_eq!(run(&tag, &s), Ok(0x2064));
        assert_eq!(run(&present, &s), Ok(1));
        let unknown = [
            SockFilter::stmt(LD_B_ABS, ad::OFF + 56),
            SockFilter::stmt(RET_A, 0),
        ];
        assert!(matches!(
            run(&unknown, &s),
            Err(InterpError::UnknownAncillary { .. })
        ));
    }

    #[test]
    fn msh_ind_scratch_and_alu() {
        // X = IHL*4 of an IPv4 header at offset 0, then load the half word at X+2.
        let prog = [
            SockFilter::stmt(op::LDX | op::B | op::MSH, 0),
            SockFilter::stmt(op::LD | op::H | op::IND, 2),
            SockFilter::stmt(op::ST, 3),
            SockFilter::stmt(op::LD | op::IMM, 0x10),
            SockFilter::stmt(op::LDX | op::MEM, 3),
            SockFilter::stmt(op::ALU | op::XOR | op::X, 0),
            SockFilter::stmt(op::ALU | op::AND | op::K, 0xff),
            SockFilter::stmt(RET_A, 0),
        ];
        let mut pkt = vec![0x45u8];
        pkt.extend_from_slice(&[0; 19]);
        pkt.extend_from_slice(&[0, 0, 0x12, 0x34]);
        assert_eq!(run(&prog, &skb(&pkt)), Ok((0x1234 ^ 0x10) & 0xff));
        // IND past the end drops.
        assert_eq!(run(&prog, &skb(&pkt[..22])), Ok(0));
    }

    #[test]
    fn division_by_zero_returns_zero() {
        let prog = [
            SockFilter::stmt(op::LD | op::IMM, 9),
            SockFilter::stmt(op::ALU | op::DIV | op::X, 0),
            SockFilter::stmt(RET_K, 5),
        ];
        assert_eq!(run(&prog, &skb(&[])), Ok(0));
    }

    #[test]
    fn invalid_programs_are_errors() {
        assert_eq!(run(&[], &skb(&[])), Err(InterpError::NoReturn));
        let past_end = [SockFilter::jump(JEQ_K, 0, 5, 5), SockFilter::stmt(RET_K, 0)];
        assert_eq!(
            run(&past_end, &skb(&[])),
            Err(InterpError::JumpOutOfProgram { pc: 0 })
        );
        let bad = [SockFilter::stmt(0xffff, 0)];
        assert!(matches!(
            run(&bad, &skb(&[])),
            Err(InterpError::UnknownOpcode { .. })
        ));
        let scratch = [SockFilter::stmt(op::ST, 16), SockFilter::stmt(RET_K, 0)];
        assert!(matches!(
            run(&scratch, &skb(&[])),
            Err(InterpError::BadScratch { .. })
        ));
    }
}
