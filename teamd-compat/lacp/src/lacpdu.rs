//! The LACPDU as a whole Ethernet frame (IEEE 802.3ad 43.4.2.2, spec §8.4.1):
//! 14 bytes of Ethernet header and the 110-byte slow-protocol payload, 124
//! bytes in all. Parse and serialise only.
//!
//! Receive checks are C teamd's (and 43.4.12's): the subtype must be LACP and
//! the four TLV lengths must be right; version, TLV types, reserved bytes and
//! the destination address are not checked, so that newer (version 2)
//! partners still aggregate. A frame is refused only when it ends before the
//! terminator TLV (C teamd reads whatever came into a zeroed buffer; we say
//! what is missing instead).

use thiserror::Error;

/// Destination of every LACPDU: the Slow Protocols multicast address.
pub const SLOW_PROTOCOLS_MAC: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x02];
/// EtherType of the Slow Protocols.
pub const ETH_P_SLOW: u16 = 0x8809;
/// Slow-protocol subtype of LACP (2 is the Marker protocol, 3 OAM).
pub const SUBTYPE_LACP: u8 = 1;
/// Version we send.
pub const VERSION: u8 = 1;
/// Length of the frame we send, Ethernet header included.
pub const FRAME_LEN: usize = 124;
/// A received frame must reach at least through the terminator TLV.
pub const MIN_FRAME_LEN: usize = 74;

/// Offsets into the frame (from the destination MAC on).
pub mod offset {
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
    pub const SUBTYPE: usize = 14;
    pub const VERSION: usize = 15;
    pub const ACTOR_TLV: usize = 16;
    pub const ACTOR_INFO: usize = 18;
    pub const PARTNER_TLV: usize = 36;
    pub const PARTNER_INFO: usize = 38;
    pub const COLLECTOR_TLV: usize = 56;
    pub const COLLECTOR_MAX_DELAY: usize = 58;
    pub const TERMINATOR_TLV: usize = 72;
    /// Within an actor/partner information block.
    pub const INFO_SYSTEM_PRIORITY: usize = 0;
    pub const INFO_SYSTEM: usize = 2;
    pub const INFO_KEY: usize = 8;
    pub const INFO_PORT_PRIORITY: usize = 10;
    pub const INFO_PORT: usize = 12;
    pub const INFO_STATE: usize = 14;
}

/// TLV types and lengths (the length counts the type and length bytes).
pub mod tlv {
    pub const ACTOR: u8 = 1;
    pub const PARTNER: u8 = 2;
    pub const COLLECTOR: u8 = 3;
    pub const TERMINATOR: u8 = 0;
    pub const ACTOR_LEN: u8 = 0x14;
    pub const PARTNER_LEN: u8 = 0x14;
    pub const COLLECTOR_LEN: u8 = 0x10;
    pub const TERMINATOR_LEN: u8 = 0;
}

/// Bits of the actor/partner state byte.
pub mod state {
    pub const LACP_ACTIVITY: u8 = 0x01;
    pub const LACP_TIMEOUT: u8 = 0x02;
    pub const AGGREGATION: u8 = 0x04;
    pub const SYNCHRONIZATION: u8 = 0x08;
    pub const COLLECTING: u8 = 0x10;
    pub const DISTRIBUTING: u8 = 0x20;
    pub const DEFAULTED: u8 = 0x40;
    pub const EXPIRED: u8 = 0x80;
}

/// One side's information block (actor or partner), in host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct LacpduInfo {
    pub system_priority: u16,
    pub system: [u8; 6],
    pub key: u16,
    pub port_priority: u16,
    pub port: u16,
    pub state: u8,
}

impl LacpduInfo {
    const LEN: usize = 15;

    fn read(b: &[u8]) -> LacpduInfo {
        use offset::*;
        let be = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
        let mut system = [0u8; 6];
        system.copy_from_slice(&b[INFO_SYSTEM..INFO_SYSTEM + 6]);
        LacpduInfo {
            system_priority: be(INFO_SYSTEM_PRIORITY),
            system,
            key: be(INFO_KEY),
            port_priority: be(INFO_PORT_PRIORITY),
            port: be(INFO_PORT),
            state: b[INFO_STATE],
        }
    }

    fn write(&self, b: &mut [u8]) {
        use offset::*;
        b[INFO_SYSTEM_PRIORITY..INFO_SYSTEM_PRIORITY + 2]
            .copy_from_slice(&self.system_priority.to_be_bytes());
        b[INFO_SYSTEM..INFO_SYSTEM + 6].copy_from_slice(&self.system);
        b[INFO_KEY..INFO_KEY + 2].copy_from_slice(&self.key.to_be_bytes());
        b[INFO_PORT_PRIORITY..INFO_PORT_PRIORITY + 2]
            .copy_from_slice(&self.port_priority.to_be_bytes());
        b[INFO_PORT..INFO_PORT + 2].copy_from_slice(&self.port.to_be_bytes());
        b[INFO_STATE] = self.state;
    }
}

/// A LACPDU with its Ethernet addressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lacpdu {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub version: u8,
    pub actor: LacpduInfo,
    pub partner: LacpduInfo,
    pub collector_max_delay: u16,
}

/// Why a frame is not a LACPDU we act on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LacpduError {
    #[error("frame of {len} bytes is too short for a LACPDU (need {MIN_FRAME_LEN})")]
    TooShort { len: usize },
    #[error("EtherType {0:#06x} is not the Slow Protocols'")]
    NotSlowProtocol(u16),
    /// Another slow protocol (Marker, OAM, ...): ignored silently, as C teamd does.
    #[error("slow protocol subtype {0} is not LACP")]
    ForeignSubtype(u8),
    /// C teamd's "malformed LACP PDU came." case.
    #[error("malformed LACP PDU: {tlv} TLV length {len:#04x}, expected {expected:#04x}")]
    BadTlvLength {
        tlv: &'static str,
        len: u8,
        expected: u8,
    },
}

impl Lacpdu {
    /// A LACPDU from `src` to the Slow Protocols address.
    pub fn new(src: [u8; 6], actor: LacpduInfo, partner: LacpduInfo) -> Lacpdu {
        Lacpdu {
            dst: SLOW_PROTOCOLS_MAC,
            src,
            version: VERSION,
            actor,
            partner,
            collector_max_delay: 0,
        }
    }

    /// Reads a whole Ethernet frame (destination MAC first, no VLAN tag).
    pub fn parse(frame: &[u8]) -> Result<Lacpdu, LacpduError> {
        use offset::*;
        // The subtype decides first whether the frame is ours at all, so a
        // short Marker PDU is reported as foreign rather than short.
        if frame.len() <= SUBTYPE {
            return Err(LacpduError::TooShort { len: frame.len() });
        }
        let ethertype = u16::from_be_bytes([frame[ETHERTYPE], frame[ETHERTYPE + 1]]);
        if ethertype != ETH_P_SLOW {
            return Err(LacpduError::NotSlowProtocol(ethertype));
        }
        if frame[SUBTYPE] != SUBTYPE_LACP {
            return Err(LacpduError::ForeignSubtype(frame[SUBTYPE]));
        }
        if frame.len() < MIN_FRAME_LEN {
            return Err(LacpduError::TooShort { len: frame.len() });
        }
        let lengths = [
            ("actor", ACTOR_TLV + 1, tlv::ACTOR_LEN),
            ("partner", PARTNER_TLV + 1, tlv::PARTNER_LEN),
            ("collector", COLLECTOR_TLV + 1, tlv::COLLECTOR_LEN),
            ("terminator", TERMINATOR_TLV + 1, tlv::TERMINATOR_LEN),
        ];
        for (name, at, expected) in lengths {
            if frame[at] != expected {
                return Err(LacpduError::BadTlvLength {
                    tlv: name,
                    len: frame[at],
                    expected,
                });
            }
        }
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[DST..DST + 6]);
        let mut src = [0u8; 6];
        src.copy_from_slice(&frame[SRC..SRC + 6]);
        Ok(Lacpdu {
            dst,
            src,
            version: frame[VERSION],
            actor: LacpduInfo::read(&frame[ACTOR_INFO..ACTOR_INFO + LacpduInfo::LEN]),
            partner: LacpduInfo::read(&frame[PARTNER_INFO..PARTNER_INFO + LacpduInfo::LEN]),
            collector_max_delay: u16::from_be_bytes([
                frame[COLLECTOR_MAX_DELAY],
                frame[COLLECTOR_MAX_DELAY + 1],
            ]),
        })
    }

    /// The 124-byte frame, reserved bytes and padding zero.
    pub fn to_frame(&self) -> [u8; FRAME_LEN] {
        use offset::*;
        let mut f = [0u8; FRAME_LEN];
        f[DST..DST + 6].copy_from_slice(&self.dst);
        f[SRC..SRC + 6].copy_from_slice(&self.src);
        f[ETHERTYPE..ETHERTYPE + 2].copy_from_slice(&ETH_P_SLOW.to_be_bytes());
        f[SUBTYPE] = SUBTYPE_LACP;
        f[VERSION] = self.version;
        f[ACTOR_TLV] = tlv::ACTOR;
        f[ACTOR_TLV + 1] = tlv::ACTOR_LEN;
        self.actor
            .write(&mut f[ACTOR_INFO..ACTOR_INFO + LacpduInfo::LEN]);
        f[PARTNER_TLV] = tlv::PARTNER;
        f[PARTNER_TLV + 1] = tlv::PARTNER_LEN;
        self.partner
            .write(&mut f[PARTNER_INFO..PARTNER_INFO + LacpduInfo::LEN]);
        f[COLLECTOR_TLV] = tlv::COLLECTOR;
        f[COLLECTOR_TLV + 1] = tlv::COLLECTOR_LEN;
        f[COLLECTOR_MAX_DELAY..COLLECTOR_MAX_DELAY + 2]
            .copy_from_slice(&self.collector_max_delay.to_be_bytes());
        f[TERMINATOR_TLV] = tlv::TERMINATOR;
        f[TERMINATOR_TLV + 1] = tlv::TERMINATOR_LEN;
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lacpdu {
        Lacpdu::new(
            [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
            LacpduInfo {
                system_priority: 0x1234,
                system: [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee],
                key: 0x5678,
                port_priority: 0x9abc,
                port: 0xdef0,
                state: 0x3d,
            },
            LacpduInfo {
                system_priority: 0x8000,
                system: [0x00, 0x01, 0x02, 0x03, 0x04, 0x05],
                key: 0x0009,
                port_priority: 0x00ff,
                port: 0x0102,
                state: 0x47,
            },
        )
    }

    #[test]
    fn round_trip() {
        let pdu = sample();
        let frame = pdu.to_frame();
        assert_eq!(frame.len(), 124);
        assert_eq!(Lacpdu::parse(&frame), Ok(pdu));
    }

    #[test]
    fn every_field_at_its_offset() {
        let f = sample().to_frame();
        let want: &[(usize, &[u8])] = &[
            (0, &[0x01, 0x80, 0xc2, 0x00, 0x00, 0x02]),
            (6, &[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]),
            (12, &[0x88, 0x09]),
            (14, &[1]),
            (15, &[1]),
            (16, &[1, 0x14]),
            (18, &[0x12, 0x34]),
            (20, &[0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]),
            (26, &[0x56, 0x78]),
            (28, &[0x9a, 0xbc]),
            (30, &[0xde, 0xf0]),
            (32, &[0x3d]),
            (33, &[0, 0, 0]),
            (36, &[2, 0x14]),
            (38, &[0x80, 0x00]),
            (40, &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05]),
            (46, &[0x00, 0x09]),
            (48, &[0x00, 0xff]),
            (50, &[0x01, 0x02]),
            (52, &[0x47]),
            (53, &[0, 0, 0]),
            (56, &[3, 0x10]),
            (58, &[0, 0]),
            (60, &[0; 12]),
            (72, &[0, 0]),
            (74, &[0; 50]),
        ];
        let mut covered = 0;
        for (at, bytes) in want {
            assert_eq!(&f[*at..*at + bytes.len()], *bytes, "offset {at}");
            covered += bytes.len();
        }
        assert_eq!(covered, FRAME_LEN, "table covers the whole frame");
    }

    #[test]
    fn collector_delay_round_trips() {
        let mut pdu = sample();
        pdu.collector_max_delay = 0x0a0b;
        let f = pdu.to_frame();
        assert_eq!(&f[58..60], &[0x0a, 0x0b]);
        assert_eq!(Lacpdu::parse(&f).map(|p| p.collector_max_delay), Ok(0x0a0b));
    }

    #[test]
    fn foreign_subtypes_are_typed_errors() {
        for subtype in [0u8, 2, 3, 10, 0xff] {
            let mut f = sample().to_frame();
            f[14] = subtype;
            assert_eq!(Lacpdu::parse(&f), Err(LacpduError::ForeignSubtype(subtype)));
        }
        // a 60-byte Marker PDU is foreign, not short
        let mut marker = [0u8; 60];
        marker[12] = 0x88;
        marker[13] = 0x09;
        marker[14] = 2;
        assert_eq!(Lacpdu::parse(&marker), Err(LacpduError::ForeignSubtype(2)));
    }

    #[test]
    fn wrong_ethertype_is_refused() {
        let mut f = sample().to_frame();
        f[12] = 0x08;
        f[13] = 0x00;
        assert_eq!(Lacpdu::parse(&f), Err(LacpduError::NotSlowProtocol(0x0800)));
    }

    #[test]
    fn each_wrong_tlv_length_is_malformed() {
        for (at, name, expected) in [
            (17usize, "actor", 0x14u8),
            (37, "partner", 0x14),
            (57, "collector", 0x10),
            (73, "terminator", 0),
        ] {
            let mut f = sample().to_frame();
            f[at] = expected.wrapping_add(1);
            assert_eq!(
                Lacpdu::parse(&f),
                Err(LacpduError::BadTlvLength {
                    tlv: name,
                    len: expected.wrapping_add(1),
                    expected
                }),
                "{name}"
            );
        }
    }

    #[test]
    fn version_tlv_types_reserved_and_destination_are_not_checked() {
        // 43.4.12 and C teamd: a version 2 partner still aggregates
        let mut f = sample().to_frame();
        f[0] = 0xff; // destination
        f[15] = 2; // version
        f[16] = 9; // actor TLV type
        f[36] = 9; // partner TLV type
        f[56] = 9; // collector TLV type
        f[72] = 9; // terminator type
        f[33] = 0xee; // reserved
        f[100] = 0xee; // padding
        let pdu = Lacpdu::parse(&f).unwrap();
        assert_eq!(pdu.version, 2);
        assert_eq!(pdu.actor, sample().actor);
        assert_eq!(pdu.partner, sample().partner);
    }

    #[test]
    fn short_frames_are_refused_at_every_length() {
        let f = sample().to_frame();
        for len in 0..MIN_FRAME_LEN {
            assert_eq!(
                Lacpdu::parse(&f[..len]),
                Err(LacpduError::TooShort { len }),
                "len {len}"
            );
        }
        // through the terminator is enough; the padding may be missing
        assert_eq!(Lacpdu::parse(&f[..MIN_FRAME_LEN]), Ok(sample()));
        // trailing bytes (e.g. a longer read buffer) are ignored
        let mut long = f.to_vec();
        long.extend_from_slice(&[0xaa; 30]);
        assert_eq!(Lacpdu::parse(&long), Ok(sample()));
    }

    /// xorshift64*, so the test is deterministic without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn random_and_mutated_buffers_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let good = sample().to_frame();
        let mut accepted = 0;
        for round in 0..20_000 {
            let len = (rng.next() % 200) as usize;
            let mut buf: Vec<u8> = if round % 2 == 0 {
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                // a valid frame, truncated or extended, with a few bytes flipped
                let mut b = good.to_vec();
                b.resize(len, 0);
                for _ in 0..(rng.next() % 4) {
                    if !b.is_empty() {
                        let i = (rng.next() as usize) % b.len();
                        b[i] ^= rng.next() as u8;
                    }
                }
                b
            };
            if round % 7 == 0 && buf.len() > 14 {
                buf[12] = 0x88;
                buf[13] = 0x09;
                buf[14] = 1;
            }
            if let Ok(pdu) = Lacpdu::parse(&buf) {
                accepted += 1;
                // whatever parsed serialises to a frame that parses the same
                let again = Lacpdu::parse(&pdu.to_frame());
                assert_eq!(again.as_ref(), Ok(&pdu));
            }
        }
        assert!(accepted > 0, "the mutations also produce valid PDUs");
    }
}
