//! Ethernet II header with an optional 802.1Q tag.

use crate::ProbeError;

pub const ETH_ALEN: usize = 6;
pub const ETH_HLEN: usize = 14;
pub const VLAN_HLEN: usize = 4;
pub const ETH_P_ALL: u16 = 0x0003;
pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_IPV6: u16 = 0x86dd;
pub const BROADCAST: [u8; ETH_ALEN] = [0xff; ETH_ALEN];

pub type Mac = [u8; ETH_ALEN];

/// The link-layer header of a frame; `vlan_tci` is set when the frame
/// carries an in-band 802.1Q tag (then `ethertype` is the inner type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthHeader {
    pub dst: Mac,
    pub src: Mac,
    pub vlan_tci: Option<u16>,
    pub ethertype: u16,
}

impl EthHeader {
    /// Bytes this header takes on the wire.
    pub fn wire_len(&self) -> usize {
        ETH_HLEN
            + if self.vlan_tci.is_some() {
                VLAN_HLEN
            } else {
                0
            }
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dst);
        out.extend_from_slice(&self.src);
        if let Some(tci) = self.vlan_tci {
            out.extend_from_slice(&ETH_P_8021Q.to_be_bytes());
            out.extend_from_slice(&tci.to_be_bytes());
        }
        out.extend_from_slice(&self.ethertype.to_be_bytes());
    }

    /// Splits a frame (from the destination MAC on) into header and payload.
    pub fn parse(frame: &[u8]) -> Result<(Self, &[u8]), ProbeError> {
        let truncated = |need| ProbeError::Truncated {
            what: "Ethernet header",
            len: frame.len(),
            need,
        };
        let base = frame.get(..ETH_HLEN).ok_or(truncated(ETH_HLEN))?;
        let mut dst = [0; ETH_ALEN];
        let mut src = [0; ETH_ALEN];
        dst.copy_from_slice(&base[..6]);
        src.copy_from_slice(&base[6..12]);
        let outer = u16::from_be_bytes([base[12], base[13]]);
        if outer != ETH_P_8021Q {
            let hdr = Self {
                dst,
                src,
                vlan_tci: None,
                ethertype: outer,
            };
            return Ok((hdr, &frame[ETH_HLEN..]));
        }
        let need = ETH_HLEN + VLAN_HLEN;
        let tag = frame.get(ETH_HLEN..need).ok_or(truncated(need))?;
        let hdr = Self {
            dst,
            src,
            vlan_tci: Some(u16::from_be_bytes([tag[0], tag[1]])),
            ethertype: u16::from_be_bytes([tag[2], tag[3]]),
        };
        Ok((hdr, &frame[need..]))
    }

    /// `parse`, then insist on one inner ethertype.
    pub fn parse_type(frame: &[u8], want: u16) -> Result<(Self, &[u8]), ProbeError> {
        let (hdr, payload) = Self::parse(frame)?;
        if hdr.ethertype != want {
            return Err(ProbeError::EtherType {
                got: hdr.ethertype,
                want,
            });
        }
        Ok((hdr, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_and_tagged_round_trip() {
        for tci in [None, Some(0x0064), Some(0xefff)] {
            let h = EthHeader {
                dst: BROADCAST,
                src: [2, 0, 0, 0, 0, 1],
                vlan_tci: tci,
                ethertype: ETH_P_ARP,
            };
            let mut out = Vec::new();
            h.write(&mut out);
            out.extend_from_slice(&[9, 9]);
            assert_eq!(out.len(), h.wire_len() + 2);
            let (back, payload) = EthHeader::parse(&out).unwrap();
            assert_eq!(back, h);
            assert_eq!(payload, &[9, 9]);
        }
    }

    #[test]
    fn truncated_headers_are_errors() {
        assert!(matches!(
            EthHeader::parse(&[0; 13]),
            Err(ProbeError::Truncated { need: 14, .. })
        ));
        let mut tagged = vec![0u8; 12];
        tagged.extend_from_slice(&[0x81, 0x00, 0x00]);
        assert!(matches!(
            EthHeader::parse(&tagged),
            Err(ProbeError::Truncated { need: 18, .. })
        ));
    }

    #[test]
    fn parse_type_rejects_other_types() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ETH_P_IP.to_be_bytes());
        assert_eq!(
            EthHeader::parse_type(&f, ETH_P_ARP).unwrap_err(),
            ProbeError::EtherType {
                got: ETH_P_IP,
                want: ETH_P_ARP
            }
        );
    }
}
