//! Netlink attribute (TLV) reading and writing: 4-byte header `{u16 len, u16 type}`,
//! payload, padding to 4 bytes. Host byte order, as netlink uses.

use crate::consts::{NLA_F_NESTED, NLA_TYPE_MASK};
use crate::DecodeError;

const HDR: usize = 4;

fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// One attribute as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nla<'a> {
    /// Type with the NESTED/NET_BYTEORDER flags masked off.
    pub kind: u16,
    pub nested: bool,
    pub payload: &'a [u8],
}

impl<'a> Nla<'a> {
    pub fn u8(&self, attr: &'static str) -> Result<u8, DecodeError> {
        match self.payload {
            [b, ..] => Ok(*b),
            _ => Err(DecodeError::BadAttrLength { attr, len: 0 }),
        }
    }

    pub fn u32(&self, attr: &'static str) -> Result<u32, DecodeError> {
        let bytes: [u8; 4] = self
            .payload
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .ok_or(DecodeError::BadAttrLength {
                attr,
                len: self.payload.len(),
            })?;
        Ok(u32::from_ne_bytes(bytes))
    }

    /// A C string: the payload up to the first NUL (or all of it).
    pub fn string(&self, attr: &'static str) -> Result<String, DecodeError> {
        let end = self
            .payload
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.payload.len());
        String::from_utf8(self.payload[..end].to_vec()).map_err(|_| DecodeError::BadValue {
            attr,
            why: "not UTF-8".into(),
        })
    }
}

/// Iterates the attributes of `buf`; a malformed header ends the walk with an error.
pub struct NlaIter<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> NlaIter<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, failed: false }
    }
}

impl<'a> Iterator for NlaIter<'a> {
    type Item = Result<Nla<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let Some(hdr) = self.buf.get(..HDR) else {
            self.failed = true;
            return Some(Err(DecodeError::Truncated {
                what: "attribute header",
                need: HDR,
                have: self.buf.len(),
            }));
        };
        let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
        let raw_type = u16::from_ne_bytes([hdr[2], hdr[3]]);
        if len < HDR || len > self.buf.len() {
            self.failed = true;
            return Some(Err(DecodeError::BadAttrLength {
                attr: "netlink attribute",
                len,
            }));
        }
        let nla = Nla {
            kind: raw_type & NLA_TYPE_MASK,
            nested: raw_type & NLA_F_NESTED != 0,
            payload: &self.buf[HDR..len],
        };
        // The last attribute may omit its padding.
        self.buf = self.buf.get(align(len)..).unwrap_or(&[]);
        Some(Ok(nla))
    }
}

/// Appends attributes to a buffer.
#[derive(Debug, Default)]
pub struct NlaWriter {
    buf: Vec<u8>,
}

impl NlaWriter {
    pub fn new(buf: Vec<u8>) -> Self {
        Self { buf }
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    pub fn put(&mut self, kind: u16, payload: &[u8]) {
        // Payloads here are bounded (names ≤ 32 bytes, binary options ≤ a few KiB);
        // a longer one is a caller bug, clamp rather than emit a lying header.
        let len = (HDR + payload.len()).min(usize::from(u16::MAX));
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(&payload[..len - HDR]);
        self.pad();
    }

    pub fn put_u8(&mut self, kind: u16, v: u8) {
        self.put(kind, &[v]);
    }

    pub fn put_u32(&mut self, kind: u16, v: u32) {
        self.put(kind, &v.to_ne_bytes());
    }

    pub fn put_flag(&mut self, kind: u16) {
        self.put(kind, &[]);
    }

    /// A C string, NUL-terminated as `nla_put_string` writes it.
    pub fn put_cstr(&mut self, kind: u16, s: &str) {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.put(kind, &v);
    }

    /// Writes a nested attribute whose content `fill` appends. Without
    /// NLA_F_NESTED: the kernel's team dumps and libteam's requests both omit it.
    pub fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut NlaWriter)) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        let mut inner = NlaWriter::new(std::mem::take(&mut self.buf));
        fill(&mut inner);
        self.buf = inner.finish();
        let len = (self.buf.len() - start).min(usize::from(u16::MAX)) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn pad(&mut self) {
        let padded = align(self.buf.len());
        self.buf.resize(padded, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_padding_and_nesting() {
        let mut w = NlaWriter::default();
        w.put_u8(3, 7);
        w.nest(2, |w| {
            w.put_cstr(1, "mode");
            w.put_flag(2);
        });
        let buf = w.finish();
        assert_eq!(buf.len() % 4, 0);
        let attrs: Vec<_> = NlaIter::new(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0].kind, 3);
        assert_eq!(attrs[0].payload, &[7]);
        assert!(!attrs[1].nested);
        let inner: Vec<_> = NlaIter::new(attrs[1].payload)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(inner[0].string("name").unwrap(), "mode");
        assert_eq!(inner[1].payload, &[] as &[u8]);
    }

    #[test]
    fn truncated_header_and_overlong_length_are_errors() {
        let errs: Vec<_> = NlaIter::new(&[1, 0]).collect();
        assert!(matches!(errs[0], Err(DecodeError::Truncated { .. })));
        // len 12 but only 8 bytes present
        let buf = [12u8, 0, 1, 0, 0, 0, 0, 0];
        let errs: Vec<_> = NlaIter::new(&buf).collect();
        assert_eq!(errs.len(), 1);
        assert!(matches!(
            errs[0],
            Err(DecodeError::BadAttrLength { len: 12, .. })
        ));
        // len below the header size
        let buf = [2u8, 0, 1, 0];
        assert!(NlaIter::new(&buf).next().unwrap().is_err());
    }

    #[test]
    fn nested_flag_is_masked_off_the_type() {
        let buf = [4u8, 0, 2, 0x80];
        let a = NlaIter::new(&buf).next().unwrap().unwrap();
        assert_eq!((a.kind, a.nested), (2, true));
    }

    #[test]
    fn last_attribute_without_padding_is_accepted() {
        let buf = [5u8, 0, 1, 0, 9];
        let a = NlaIter::new(&buf).next().unwrap().unwrap();
        assert_eq!(a.payload, &[9]);
    }

    #[test]
    fn short_u32_is_an_error() {
        let a = Nla {
            kind: 1,
            nested: false,
            payload: &[1, 2],
        };
        assert!(a.u32("x").is_err());
    }
}
