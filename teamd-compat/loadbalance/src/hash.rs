//! `runner.tx_hash` → the classic BPF program installed as the kernel's `bpf_hash_func`.
//!
//! The program XOR-folds selected header fields into X with the `SKF_AD_ALU_XOR_X` ancillary
//! load and returns X. It must match C teamd's instruction for instruction (it is visible
//! through `teamnl getoption bpf_hash_func`), including the unreachable code and the IPv6
//! quirks listed in spec §8.3.1, so the emission order below follows teamd's layout.

use serde_json::Value;

use crate::config::ConfigWarning;

pub use teamd_bpf::SockFilter;

/// Serialises a program as the `bpf_hash_func` option payload.
pub fn to_option_bytes(program: &[SockFilter]) -> Vec<u8> {
    teamd_bpf::to_bytes(program)
}

/// The `tx_hash` fragment names C teamd accepts, in its lookup order.
pub const FRAG_NAMES: [&str; 10] = [
    "eth", "vlan", "ipv4", "ipv6", "ip", "l3", "l4", "tcp", "udp", "sctp",
];

/// `runner.tx_hash` written into the config when the key is absent.
pub const DEFAULT_TX_HASH: [&str; 3] = ["eth", "ipv4", "ipv6"];

// Internal field flags. A fragment enables the tagged and untagged variant together; the
// split still matters because "done" is tracked per variant during emission.
const ETH: u32 = 1 << 0;
const VLAN: u32 = 1 << 1;
const VLAN_IPV4: u32 = 1 << 2;
const VLAN_IPV6: u32 = 1 << 3;
const VLAN_UDP4: u32 = 1 << 4;
const VLAN_TCP4: u32 = 1 << 5;
const VLAN_SCTP4: u32 = 1 << 6;
const VLAN_UDP6: u32 = 1 << 7;
const VLAN_TCP6: u32 = 1 << 8;
const VLAN_SCTP6: u32 = 1 << 9;
const NOVLAN_IPV4: u32 = 1 << 10;
const NOVLAN_IPV6: u32 = 1 << 11;
const NOVLAN_UDP4: u32 = 1 << 12;
const NOVLAN_TCP4: u32 = 1 << 13;
const NOVLAN_SCTP4: u32 = 1 << 14;
const NOVLAN_UDP6: u32 = 1 << 15;
const NOVLAN_TCP6: u32 = 1 << 16;
const NOVLAN_SCTP6: u32 = 1 << 17;

const IPV4: u32 = VLAN_IPV4 | NOVLAN_IPV4;
const IPV6: u32 = VLAN_IPV6 | NOVLAN_IPV6;
const TCP: u32 = VLAN_TCP4 | VLAN_TCP6 | NOVLAN_TCP4 | NOVLAN_TCP6;
const UDP: u32 = VLAN_UDP4 | VLAN_UDP6 | NOVLAN_UDP4 | NOVLAN_UDP6;
const SCTP: u32 = VLAN_SCTP4 | VLAN_SCTP6 | NOVLAN_SCTP4 | NOVLAN_SCTP6;
const L4V4: u32 = VLAN_TCP4 | VLAN_UDP4 | VLAN_SCTP4 | NOVLAN_TCP4 | NOVLAN_UDP4 | NOVLAN_SCTP4;
const L4V6: u32 = VLAN_TCP6 | VLAN_UDP6 | VLAN_SCTP6 | NOVLAN_TCP6 | NOVLAN_UDP6 | NOVLAN_SCTP6;
const NOVLAN_L3L4: u32 = NOVLAN_IPV4
    | NOVLAN_IPV6
    | NOVLAN_TCP4
    | NOVLAN_UDP4
    | NOVLAN_SCTP4
    | NOVLAN_TCP6
    | NOVLAN_UDP6
    | NOVLAN_SCTP6;

/// The set of header fields selected by `runner.tx_hash`. Order and duplicates in the
/// list do not matter; an empty set gives a program hashing everything to 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxHash {
    flags: u32,
}

impl TxHash {
    /// Adds the fields of one fragment name; false (nothing added) if the name is unknown.
    pub fn add_frag(&mut self, name: &str) -> bool {
        let bits = match name {
            "eth" => ETH,
            "vlan" => VLAN,
            "ipv4" => IPV4,
            "ipv6" => IPV6,
            "ip" | "l3" => IPV4 | IPV6,
            "tcp" => TCP,
            "udp" => UDP,
            "sctp" => SCTP,
            "l4" => TCP | UDP | SCTP,
            _ => return false,
        };
        self.flags |= bits;
        true
    }

    /// Builds the set from the `runner.tx_hash` value as C teamd reads it: a non-array counts
    /// as empty, non-string entries and unknown names are skipped with a warning each.
    /// An absent key is the caller's business (use [`TxHash::default_frags`]), because C
    /// teamd also writes the default list into the config then.
    pub fn parse(value: &Value) -> (TxHash, Vec<ConfigWarning>) {
        let mut hash = TxHash::default();
        let mut warnings = Vec::new();
        for entry in value.as_array().map(Vec::as_slice).unwrap_or_default() {
            match entry.as_str() {
                Some(name) => {
                    if !hash.add_frag(name) {
                        warnings.push(ConfigWarning::UnknownHashFrag(name.to_owned()));
                    }
                }
                None => warnings.push(ConfigWarning::NotAString("runner.tx_hash[]")),
            }
        }
        (hash, warnings)
    }

    /// The set for [`DEFAULT_TX_HASH`].
    pub fn default_frags() -> TxHash {
        let mut hash = TxHash::default();
        for name in DEFAULT_TX_HASH {
            hash.add_frag(name);
        }
        hash
    }

    /// [`DEFAULT_TX_HASH`] as the JSON array C teamd stores into `runner.tx_hash`.
    pub fn default_json() -> Value {
        Value::Array(DEFAULT_TX_HASH.iter().map(|s| Value::from(*s)).collect())
    }
}

// Opcodes (linux/filter.h class | size | mode).
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LD_H_IND: u16 = 0x48;
const LDX_B_MSH: u16 = 0xb1;
const LDX_MEM: u16 = 0x61;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU_AND_K: u16 = 0x54;
const TAX: u16 = 0x07;
const TXA: u16 = 0x87;
const RET_A: u16 = 0x16;
const JA: u16 = 0x05;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;

// Ancillary loads: SKF_AD_OFF (-0x1000) + SKF_AD_ALU_XOR_X / VLAN_TAG / VLAN_TAG_PRESENT.
const AD_XOR_X: u32 = 0xffff_f000 + 40;
const AD_VLAN_TAG: u32 = 0xffff_f000 + 44;
const AD_VLAN_TAG_PRESENT: u32 = 0xffff_f000 + 48;

const ETHERTYPE: u32 = 12;
const VLAN_TCI: u32 = 14;
const ETH_P_IP: u32 = 0x0800;
const ETH_P_IPV6: u32 = 0x86dd;
const ETH_P_8021Q: u32 = 0x8100;
const IPPROTO_TCP: u32 = 6;
const IPPROTO_UDP: u32 = 17;
const IPPROTO_SCTP: u32 = 132;

/// Which half of the program: untagged frames, or frames with an in-band 802.1Q header
/// (every L3/L4 offset 4 bytes further).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Untagged,
    Tagged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    VlanBranch,
    VlanTagSkip,
    Ipv6(Tag),
    Ipv6Continue(Tag),
    TryUdp4(Tag),
    TrySctp4(Tag),
    L4v4Hash(Tag),
    L4v4Out(Tag),
    TryUdp6(Tag),
    TrySctp6(Tag),
    L4v6Hash(Tag),
    L4v6Out(Tag),
}

/// A jump target: the following instruction (offset 0) or a label.
#[derive(Debug, Clone, Copy)]
enum To {
    Next,
    L(Label),
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    K,
    Jt,
    Jf,
}

/// A tiny assembler: instructions plus label definitions and uses, resolved into
/// relative offsets (target − source − 1) once everything is emitted.
#[derive(Default)]
struct Asm {
    insns: Vec<SockFilter>,
    labels: Vec<(Label, usize)>,
    fixups: Vec<(usize, Slot, Label)>,
}

impl Asm {
    fn stmt(&mut self, code: u16, k: u32) {
        self.insns.push(SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        });
    }

    fn jump(&mut self, code: u16, k: u32, jt: To, jf: To) {
        let at = self.insns.len();
        for (to, slot) in [(jt, Slot::Jt), (jf, Slot::Jf)] {
            if let To::L(label) = to {
                self.fixups.push((at, slot, label));
            }
        }
        self.stmt(code, k);
    }

    fn ja(&mut self, label: Label) {
        self.fixups.push((self.insns.len(), Slot::K, label));
        self.stmt(JA, 0);
    }

    fn label(&mut self, label: Label) {
        debug_assert!(
            self.labels.iter().all(|(l, _)| *l != label),
            "{label:?} twice"
        );
        self.labels.push((label, self.insns.len()));
    }

    fn finish(mut self) -> Vec<SockFilter> {
        for (at, slot, label) in self.fixups {
            let target = self
                .labels
                .iter()
                .find(|(l, _)| *l == label)
                .map(|(_, addr)| *addr);
            // Every label used is defined on every emission path and all jumps are forward
            // within at most 165 instructions; the exhaustive test over all fragment sets
            // checks both, so a failure here is a generator bug.
            let offset = target
                .and_then(|t| t.checked_sub(at + 1))
                .and_then(|off| u8::try_from(off).ok())
                .unwrap_or_else(|| panic!("bpf generator: bad jump to {label:?} at {at}"));
            let insn = &mut self.insns[at];
            match slot {
                Slot::K => insn.k = u32::from(offset),
                Slot::Jt => insn.jt = offset,
                Slot::Jf => insn.jf = offset,
            }
        }
        self.insns
    }
}

/// Emission state: the assembler plus teamd's required/built flag pair. "Built" only
/// feeds the two "all done?" checks, but those decide where the program is cut short.
struct Gen {
    asm: Asm,
    required: u32,
    built: u32,
}

impl Gen {
    /// Whether the field is wanted; marks it built either way (teamd's test-and-set).
    fn take(&mut self, flag: u32) -> bool {
        if self.required & flag != 0 {
            self.built |= flag;
            true
        } else {
            false
        }
    }

    fn wants_any(&self, flags: u32) -> bool {
        self.required & flags != 0
    }

    fn complete(&self) -> bool {
        self.built == self.required
    }

    /// A ^= X (ancillary load), then X = A.
    fn hash_field(&mut self, load: u16, offset: u32) {
        self.asm.stmt(load, offset);
        self.asm.stmt(LD_B_ABS, AD_XOR_X);
        self.asm.stmt(TAX, 0);
    }

    fn ret(&mut self) {
        self.asm.stmt(TXA, 0);
        self.asm.stmt(RET_A, 0);
    }

    fn eth(&mut self) {
        // Destination then source MAC, each as a word at +2 and a half at +0.
        for base in [0, 6] {
            self.hash_field(LD_W_ABS, base + 2);
            self.hash_field(LD_H_ABS, base);
        }
    }

    /// IPv4 / IPv6 / L4 part, emitted once per [`Tag`] and entered with the ethertype in A.
    fn l3l4(&mut self, tag: Tag) {
        let (shift, ipv4, ipv6, tcp4, udp4, sctp4, tcp6, udp6) = match tag {
            Tag::Untagged => (
                0,
                NOVLAN_IPV4,
                NOVLAN_IPV6,
                NOVLAN_TCP4,
                NOVLAN_UDP4,
                NOVLAN_SCTP4,
                NOVLAN_TCP6,
                NOVLAN_UDP6,
            ),
            Tag::Tagged => (
                4, VLAN_IPV4, VLAN_IPV6, VLAN_TCP4, VLAN_UDP4, VLAN_SCTP4, VLAN_TCP6, VLAN_UDP6,
            ),
        };
        self.asm
            .jump(JEQ_K, ETH_P_IP, To::Next, To::L(Label::Ipv6(tag)));

        if self.take(ipv4) {
            self.hash_field(LD_W_ABS, 26 + shift);
            self.hash_field(LD_W_ABS, 30 + shift);
        }
        if !self.wants_any(L4V4) {
            // teamd returns here but still emits the (unreachable) L4 code below.
            self.ret();
        }
        // Non-first fragments carry no ports.
        self.asm.stmt(LD_H_ABS, 20 + shift);
        self.asm
            .jump(JSET_K, 0x1fff, To::L(Label::L4v4Out(tag)), To::Next);
        self.asm.stmt(LD_B_ABS, 23 + shift);
        self.l4_dispatch(
            [tcp4, udp4, sctp4],
            Label::TryUdp4(tag),
            Label::TrySctp4(tag),
            Label::L4v4Hash(tag),
            Label::L4v4Out(tag),
        );
        self.asm.label(Label::L4v4Hash(tag));
        // The IHL-derived port offset needs X, so the running hash is parked in M[0].
        self.asm.stmt(STX, 0);
        self.asm.stmt(LDX_B_MSH, 14 + shift);
        self.asm.stmt(LD_H_IND, 14 + shift);
        self.asm.stmt(LDX_MEM, 0);
        self.asm.stmt(LD_B_ABS, AD_XOR_X);
        self.asm.stmt(ST, 0);
        self.asm.stmt(LDX_B_MSH, 14 + shift);
        self.asm.stmt(LD_H_IND, 16 + shift);
        self.asm.stmt(LDX_MEM, 0);
        self.asm.stmt(LD_B_ABS, AD_XOR_X);
        self.asm.stmt(TAX, 0);
        self.asm.label(Label::L4v4Out(tag));
        self.ret();

        self.asm.label(Label::Ipv6(tag));
        self.asm
            .jump(JEQ_K, ETH_P_IPV6, To::L(Label::Ipv6Continue(tag)), To::Next);
        self.ret();
        self.asm.label(Label::Ipv6Continue(tag));
        if self.take(ipv6) {
            // Source and destination address: 8 words from offset 22.
            for word in 0..8 {
                self.hash_field(LD_W_ABS, 22 + shift + 4 * word);
            }
        }
        if !self.wants_any(L4V6) {
            self.ret();
        }
        // Next Header only; extension headers are not walked.
        self.asm.stmt(LD_B_ABS, 20 + shift);
        // Quirk kept from teamd: the SCTP decision tests the IPv4 SCTP flag.
        self.l4_dispatch(
            [tcp6, udp6, sctp4],
            Label::TryUdp6(tag),
            Label::TrySctp6(tag),
            Label::L4v6Hash(tag),
            Label::L4v6Out(tag),
        );
        self.asm.label(Label::L4v6Hash(tag));
        // Quirk kept from teamd: X is not updated after the source port, so only the
        // destination port ends up in the hash.
        self.asm.stmt(LD_H_ABS, 54 + shift);
        self.asm.stmt(LD_B_ABS, AD_XOR_X);
        self.asm.stmt(LD_H_ABS, 56 + shift);
        self.asm.stmt(LD_B_ABS, AD_XOR_X);
        self.asm.stmt(TAX, 0);
        self.asm.label(Label::L4v6Out(tag));
        self.ret();
    }

    /// Protocol byte in A: TCP, UDP, SCTP each jump to `hash` if wanted, else `out`.
    fn l4_dispatch(
        &mut self,
        [tcp, udp, sctp]: [u32; 3],
        try_udp: Label,
        try_sctp: Label,
        hash: Label,
        out: Label,
    ) {
        self.asm.jump(JEQ_K, IPPROTO_TCP, To::Next, To::L(try_udp));
        let tcp_to = if self.take(tcp) { hash } else { out };
        self.asm.ja(tcp_to);
        self.asm.label(try_udp);
        self.asm.jump(JEQ_K, IPPROTO_UDP, To::Next, To::L(try_sctp));
        let udp_to = if self.take(udp) { hash } else { out };
        self.asm.ja(udp_to);
        self.asm.label(try_sctp);
        self.asm.jump(JEQ_K, IPPROTO_SCTP, To::Next, To::L(out));
        // SCTP falls through into the hash code when wanted.
        if !self.take(sctp) {
            self.asm.ja(out);
        }
    }
}

/// The `bpf_hash_func` program C teamd generates for this field set.
pub fn program(hash: &TxHash) -> Vec<SockFilter> {
    let mut g = Gen {
        asm: Asm::default(),
        required: hash.flags,
        built: 0,
    };
    if g.take(ETH) {
        g.eth();
    }
    if g.complete() {
        g.ret();
        return g.asm.finish();
    }

    g.asm.stmt(LD_H_ABS, ETHERTYPE);
    g.asm
        .jump(JEQ_K, ETH_P_8021Q, To::L(Label::VlanBranch), To::Next);
    // No in-band tag, but the tag may have been offloaded into skb metadata.
    if g.take(VLAN) {
        g.asm.stmt(LD_B_ABS, AD_VLAN_TAG_PRESENT);
        g.asm.jump(JEQ_K, 0, To::L(Label::VlanTagSkip), To::Next);
        g.hash_field(LD_B_ABS, AD_VLAN_TAG);
        g.asm.label(Label::VlanTagSkip);
    }
    if !g.wants_any(NOVLAN_L3L4) {
        g.ret();
    }
    if g.wants_any(VLAN) {
        // A was overwritten by the tag loads.
        g.asm.stmt(LD_H_ABS, ETHERTYPE);
    }
    g.l3l4(Tag::Untagged);

    g.asm.label(Label::VlanBranch);
    if g.take(VLAN) {
        g.asm.stmt(LD_H_ABS, VLAN_TCI);
        g.asm.stmt(ALU_AND_K, 0x0fff);
        g.asm.stmt(LD_B_ABS, AD_XOR_X);
        g.asm.stmt(TAX, 0);
    }
    if g.complete() {
        g.ret();
        return g.asm.finish();
    }
    g.asm.stmt(LD_H_ABS, ETHERTYPE + 4);
    g.l3l4(Tag::Tagged);
    g.asm.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prog(list: Value) -> Vec<SockFilter> {
        let (hash, warnings) = TxHash::parse(&list);
        assert!(warnings.is_empty(), "{warnings:?}");
        program(&hash)
    }

    // The notation of spec §8.3.1: code and k in hex, but jt/jf in decimal (its "74"
    // reaches instruction 13 + 1 + 74 = the VLAN branch; 0x74 would overshoot the end).
    fn hex(p: &[SockFilter]) -> String {
        p.iter()
            .map(|i| format!("{:x}:{}:{}:{:x}", i.code, i.jt, i.jf, i.k))
            .collect::<Vec<_>>()
            .join(" ")
    }

    // Spec §8.3.1, the default program as printed there (see `hex` for the notation).
    const DEFAULT_PROGRAM: &str = "
20:0:0:2 30:0:0:fffff028 7:0:0:0 28:0:0:0 30:0:0:fffff028 7:0:0:0 20:0:0:8 30:0:0:fffff028
7:0:0:0 28:0:0:6 30:0:0:fffff028 7:0:0:0 28:0:0:c 15:74:0:8100 15:0:30:800 20:0:0:1a
30:0:0:fffff028 7:0:0:0 20:0:0:1e 30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0 28:0:0:14
45:18:0:1fff 30:0:0:17 15:0:1:6 5:0:0:f 15:0:1:11 5:0:0:d 15:0:12:84 5:0:0:b
3:0:0:0 b1:0:0:e 48:0:0:e 61:0:0:0 30:0:0:fffff028 2:0:0:0 b1:0:0:e 48:0:0:10
61:0:0:0 30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0 15:2:0:86dd 87:0:0:0 16:0:0:0
20:0:0:16 30:0:0:fffff028 7:0:0:0 20:0:0:1a 30:0:0:fffff028 7:0:0:0 20:0:0:1e 30:0:0:fffff028
7:0:0:0 20:0:0:22 30:0:0:fffff028 7:0:0:0 20:0:0:26 30:0:0:fffff028 7:0:0:0 20:0:0:2a
30:0:0:fffff028 7:0:0:0 20:0:0:2e 30:0:0:fffff028 7:0:0:0 20:0:0:32 30:0:0:fffff028 7:0:0:0
87:0:0:0 16:0:0:0 30:0:0:14 15:0:1:6 5:0:0:9 15:0:1:11 5:0:0:7 15:0:6:84
5:0:0:5 28:0:0:36 30:0:0:fffff028 28:0:0:38 30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0
28:0:0:10 15:0:30:800 20:0:0:1e 30:0:0:fffff028 7:0:0:0 20:0:0:22 30:0:0:fffff028 7:0:0:0
87:0:0:0 16:0:0:0 28:0:0:18 45:18:0:1fff 30:0:0:1b 15:0:1:6 5:0:0:f 15:0:1:11
5:0:0:d 15:0:12:84 5:0:0:b 3:0:0:0 b1:0:0:12 48:0:0:12 61:0:0:0 30:0:0:fffff028
2:0:0:0 b1:0:0:12 48:0:0:14 61:0:0:0 30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0
15:2:0:86dd 87:0:0:0 16:0:0:0 20:0:0:1a 30:0:0:fffff028 7:0:0:0 20:0:0:1e 30:0:0:fffff028
7:0:0:0 20:0:0:22 30:0:0:fffff028 7:0:0:0 20:0:0:26 30:0:0:fffff028 7:0:0:0 20:0:0:2a
30:0:0:fffff028 7:0:0:0 20:0:0:2e 30:0:0:fffff028 7:0:0:0 20:0:0:32 30:0:0:fffff028 7:0:0:0
20:0:0:36 30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0 30:0:0:18 15:0:1:6 5:0:0:9
15:0:1:11 5:0:0:7 15:0:6:84 5:0:0:5 28:0:0:3a 30:0:0:fffff028 28:0:0:3c 30:0:0:fffff028
7:0:0:0 87:0:0:0 16:0:0:0
";

    #[test]
    fn default_program_matches_spec() {
        let want = DEFAULT_PROGRAM.split_whitespace().collect::<Vec<_>>();
        let got = program(&TxHash::default_frags());
        assert_eq!(hex(&got), want.join(" "));
        assert_eq!(got, prog(json!(["eth", "ipv4", "ipv6"])));
    }

    #[test]
    fn instruction_counts_match_spec() {
        let cases = [
            (json!([]), 2),
            (json!(["eth"]), 14),
            (json!(["vlan"]), 60),
            (json!(["ipv4"]), 103),
            (json!(["tcp"]), 83),
            (json!(["l4"]), 79),
            (json!(["eth", "vlan"]), 72),
            (json!(["l3"]), 151),
            (json!(["ip", "l4"]), 139),
            (json!(["eth", "vlan", "ipv4", "ipv6", "tcp", "udp"]), 165),
            (json!(["eth", "ipv4", "ipv6"]), 163),
        ];
        for (list, count) in cases {
            assert_eq!(prog(list.clone()).len(), count, "{list}");
        }
    }

    #[test]
    fn empty_and_eth_only_programs() {
        assert_eq!(hex(&prog(json!([]))), "87:0:0:0 16:0:0:0");
        let eth = prog(json!(["eth"]));
        assert_eq!(hex(&eth[12..]), "87:0:0:0 16:0:0:0");
    }

    #[test]
    fn order_and_duplicates_do_not_matter() {
        assert_eq!(
            prog(json!(["ipv6", "eth", "ipv4", "eth"])),
            prog(json!(["eth", "ipv4", "ipv6"]))
        );
        assert_eq!(prog(json!(["l3"])), prog(json!(["ipv4", "ipv6"])));
        assert_eq!(prog(json!(["ip"])), prog(json!(["l3"])));
        assert_eq!(prog(json!(["l4"])), prog(json!(["sctp", "udp", "tcp"])));
    }

    #[test]
    fn vlan_only_program() {
        let p = hex(&prog(json!(["vlan"])));
        // Offloaded tag first, then the in-band TCI masked to the VID.
        assert!(p.starts_with(
            "28:0:0:c 15:52:0:8100 30:0:0:fffff030 15:3:0:0 30:0:0:fffff02c \
             30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0 28:0:0:c 15:0:24:800"
        ));
        assert!(p.ends_with("28:0:0:e 54:0:0:fff 30:0:0:fffff028 7:0:0:0 87:0:0:0 16:0:0:0"));
    }

    #[test]
    fn ipv6_quirks_kept() {
        // SCTP over IPv6 is decided by the IPv4 SCTP flag, which "sctp" always sets too;
        // a wanted protocol falls through (no `ja`), hence 4 fewer instructions than udp.
        assert_eq!(prog(json!(["sctp"])).len(), 79);
        assert_eq!(prog(json!(["udp"])).len(), 83);
        // Only the destination port survives: ldh [54]; xor; ldh [56]; xor; tax.
        let l4 = hex(&prog(json!(["l4"])));
        assert!(l4.contains("28:0:0:36 30:0:0:fffff028 28:0:0:38 30:0:0:fffff028 7:0:0:0"));
        assert!(l4.contains("28:0:0:3a 30:0:0:fffff028 28:0:0:3c 30:0:0:fffff028 7:0:0:0"));
    }

    #[test]
    fn every_fragment_set_assembles() {
        // Exhaustive over the 8 independent fragments (ip/l3/l4 are unions of them):
        // the assembler panics on an undefined label or an out-of-range jump.
        let base = ["eth", "vlan", "ipv4", "ipv6", "tcp", "udp", "sctp"];
        for mask in 0u32..(1 << base.len()) {
            let mut h = TxHash::default();
            for (i, name) in base.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    h.add_frag(name);
                }
            }
            let p = program(&h);
            assert!(p.len() <= 200);
            let last = p.last().copied();
            assert_eq!(last.map(|i| i.code), Some(RET_A));
            for (at, insn) in p.iter().enumerate() {
                let targets: &[usize] = match insn.code {
                    JA => &[insn.k as usize],
                    JEQ_K | JSET_K => &[insn.jt as usize, insn.jf as usize],
                    _ => &[],
                };
                for off in targets {
                    assert!(at + 1 + off < p.len(), "mask {mask:#x} insn {at}");
                }
            }
        }
    }

    #[test]
    fn parse_warnings() {
        let (h, w) = TxHash::parse(&json!(["eth", "bogus", 7, {"a": 1}, "ipv4"]));
        let (want, _) = TxHash::parse(&json!(["eth", "ipv4"]));
        assert_eq!(h, want);
        let text: Vec<String> = w.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "Hash frag named \"bogus\" not found.",
                "Failed to get string from non-string object",
                "Failed to get string from non-string object",
            ]
        );
        // A non-array value reads as an empty list, silently.
        let (h, w) = TxHash::parse(&json!("eth"));
        assert_eq!((h, w.len()), (TxHash::default(), 0));
        assert!(FRAG_NAMES.iter().all(|n| TxHash::default().add_frag(n)));
    }

    #[test]
    fn default_json_list() {
        assert_eq!(TxHash::default_json(), json!(["eth", "ipv4", "ipv6"]));
    }

    #[test]
    fn option_bytes_are_host_order_sock_filters() {
        let p = [SockFilter {
            code: 0x15,
            jt: 1,
            jf: 2,
            k: 0x0102_0304,
        }];
        let mut want = 0x15u16.to_ne_bytes().to_vec();
        want.extend([1, 2]);
        want.extend(0x0102_0304u32.to_ne_bytes());
        assert_eq!(to_option_bytes(&p), want);
        assert_eq!(
            to_option_bytes(&program(&TxHash::default_frags())).len(),
            163 * 8
        );
    }
}

#[cfg(test)]
mod interp_tests {
    //! The generated program run by the classic BPF interpreter: it is a
    //! valid program and hashes what it says it hashes.

    use teamd_bpf::interp::{run, Skb};

    use super::*;

    fn ipv4_udp(src_port: u16) -> Vec<u8> {
        let mut f = vec![0x02; 6];
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        f.extend_from_slice(&src_port.to_be_bytes());
        f.extend_from_slice(&[0x13, 0x88, 0, 8, 0, 0]);
        f
    }

    fn hash_of(prog: &[SockFilter], frame: &[u8]) -> u32 {
        let skb = Skb {
            data: frame,
            protocol: 0x0800,
            pkt_type: 0,
            ifindex: 1,
            vlan_tci: None,
        };
        run(prog, &skb).expect("the generated program is valid")
    }

    #[test]
    fn l4_hash_follows_ports_and_l3_hash_ignores_them() {
        let mut l4 = TxHash::default();
        assert!(l4.add_frag("l4"));
        let prog = program(&l4);
        let hashes: std::collections::BTreeSet<u32> =
            (1000..1016).map(|p| hash_of(&prog, &ipv4_udp(p))).collect();
        assert!(hashes.len() > 1, "source port must change the hash");
        let mut l3 = TxHash::default();
        assert!(l3.add_frag("ipv4"));
        let prog = program(&l3);
        assert_eq!(
            hash_of(&prog, &ipv4_udp(1000)),
            hash_of(&prog, &ipv4_udp(2000))
        );
    }
}
