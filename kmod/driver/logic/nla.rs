// SPDX-License-Identifier: GPL-2.0-only
//! Netlink attributes over plain byte buffers: a writer that fills a fixed
//! buffer (an skb's tailroom in the kernel) and a bounds-checked reader.
//! Host byte order, 4-byte alignment, as `nla_put`/`nla_for_each_attr`.

use super::errno::Errno;

const HDR_LEN: usize = 4;
/// Flag and byte-order bits carried in the upper bits of `nla_type`.
const TYPE_MASK: u16 = 0x3fff;

/// Rounds up to the netlink attribute alignment.
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Appends attributes to a caller-owned buffer; `Errno::MsgSize` when full,
/// leaving what was written before the failing call intact.
pub struct AttrWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

/// Where an open nest starts, for `AttrWriter::nest_end`/`nest_cancel`.
#[derive(Clone, Copy, Debug)]
pub struct Nest(usize);

impl<'a> AttrWriter<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        AttrWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The written bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn header(&mut self, ty: u16, payload_len: usize) -> Result<usize, Errno> {
        let total = HDR_LEN + payload_len;
        let end = self.len + align(total);
        if end > self.buf.len() || total > u16::MAX as usize {
            return Err(Errno::MsgSize);
        }
        let start = self.len;
        self.buf[start..start + 2].copy_from_slice(&(total as u16).to_ne_bytes());
        self.buf[start + 2..start + 4].copy_from_slice(&ty.to_ne_bytes());
        // Padding is zeroed so replies carry no stale buffer contents.
        self.buf[start + total..end].fill(0);
        self.len = end;
        Ok(start + HDR_LEN)
    }

    /// Appends one attribute with `payload` as its data.
    pub fn put(&mut self, ty: u16, payload: &[u8]) -> Result<(), Errno> {
        let at = self.header(ty, payload.len())?;
        self.buf[at..at + payload.len()].copy_from_slice(payload);
        Ok(())
    }

    pub fn put_u8(&mut self, ty: u16, v: u8) -> Result<(), Errno> {
        self.put(ty, &[v])
    }

    pub fn put_u32(&mut self, ty: u16, v: u32) -> Result<(), Errno> {
        self.put(ty, &v.to_ne_bytes())
    }

    pub fn put_s32(&mut self, ty: u16, v: i32) -> Result<(), Errno> {
        self.put(ty, &v.to_ne_bytes())
    }

    pub fn put_flag(&mut self, ty: u16) -> Result<(), Errno> {
        self.put(ty, &[])
    }

    /// A NUL-terminated string attribute (`nla_put_string`).
    pub fn put_string(&mut self, ty: u16, s: &[u8]) -> Result<(), Errno> {
        let at = self.header(ty, s.len() + 1)?;
        self.buf[at..at + s.len()].copy_from_slice(s);
        self.buf[at + s.len()] = 0;
        Ok(())
    }

    /// Opens a nested attribute; its length is fixed by `nest_end`.
    pub fn nest_start(&mut self, ty: u16) -> Result<Nest, Errno> {
        let start = self.len;
        self.header(ty, 0)?;
        Ok(Nest(start))
    }

    pub fn nest_end(&mut self, nest: Nest) -> Result<(), Errno> {
        let total = self.len - nest.0;
        if total > u16::MAX as usize {
            return Err(Errno::MsgSize);
        }
        self.buf[nest.0..nest.0 + 2].copy_from_slice(&(total as u16).to_ne_bytes());
        Ok(())
    }

    /// Drops the nest and everything written into it.
    pub fn nest_cancel(&mut self, nest: Nest) {
        self.len = nest.0;
    }
}

/// One attribute as read from a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    pub ty: u16,
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    pub fn u8(&self) -> Result<u8, Errno> {
        self.payload.first().copied().ok_or(Errno::Inval)
    }

    pub fn u32(&self) -> Result<u32, Errno> {
        match self.payload.get(..4) {
            Some(b) => Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
            None => Err(Errno::Inval),
        }
    }

    pub fn s32(&self) -> Result<i32, Errno> {
        self.u32().map(|v| v as i32)
    }

    /// Attributes nested inside this one.
    pub fn nested(&self) -> AttrIter<'a> {
        AttrIter::new(self.payload)
    }
}

/// Walks the attributes of a buffer; a truncated or malformed header ends the
/// walk with `Errno::Inval`.
pub struct AttrIter<'a> {
    rest: &'a [u8],
}

impl<'a> AttrIter<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        AttrIter { rest: buf }
    }
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Result<Attr<'a>, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        // Fewer bytes than a header are trailing padding, as the kernel's
        // nla_for_each_attr treats them.
        if self.rest.len() < HDR_LEN {
            return None;
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        let ty = u16::from_ne_bytes([self.rest[2], self.rest[3]]) & TYPE_MASK;
        if len < HDR_LEN || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(Errno::Inval));
        }
        let payload = &self.rest[HDR_LEN..len];
        let next = align(len).min(self.rest.len());
        self.rest = &self.rest[next..];
        Some(Ok(Attr { ty, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_aligned_attributes_and_reads_them_back() {
        let mut buf = [0xaau8; 64];
        let mut w = AttrWriter::new(&mut buf);
        w.put_u8(3, 11).unwrap();
        w.put_string(1, b"mode").unwrap();
        w.put_flag(2).unwrap();
        assert_eq!(w.len(), 8 + 12 + 4);
        assert_eq!(&w.bytes()[..8], &[5, 0, 3, 0, 11, 0, 0, 0]);
        let attrs: Vec<_> = AttrIter::new(w.bytes()).map(|a| a.unwrap()).collect();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[0].u8(), Ok(11));
        assert_eq!(attrs[1].payload, b"mode\0");
        assert_eq!(
            attrs[2],
            Attr {
                ty: 2,
                payload: &[]
            }
        );
    }

    #[test]
    fn nest_length_covers_children_and_cancel_rewinds() {
        let mut buf = [0u8; 64];
        let mut w = AttrWriter::new(&mut buf);
        let n = w.nest_start(2).unwrap();
        w.put_u32(1, 7).unwrap();
        w.nest_end(n).unwrap();
        assert_eq!(&w.bytes()[..4], &[12, 0, 2, 0]);
        let keep = w.len();
        let n2 = w.nest_start(2).unwrap();
        w.put_u32(1, 8).unwrap();
        w.nest_cancel(n2);
        assert_eq!(w.len(), keep);
        let outer = AttrIter::new(w.bytes()).next().unwrap().unwrap();
        let inner = outer.nested().next().unwrap().unwrap();
        assert_eq!(inner.u32(), Ok(7));
    }

    #[test]
    fn full_buffer_is_msgsize_and_keeps_earlier_data() {
        let mut buf = [0u8; 10];
        let mut w = AttrWriter::new(&mut buf);
        w.put_u32(1, 1).unwrap();
        assert_eq!(w.put_u32(1, 2), Err(Errno::MsgSize));
        assert_eq!(w.len(), 8);
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        // Length below the header size.
        assert_eq!(AttrIter::new(&[2, 0, 1, 0]).next(), Some(Err(Errno::Inval)));
        // Length beyond the buffer.
        assert_eq!(
            AttrIter::new(&[40, 0, 1, 0, 0]).next(),
            Some(Err(Errno::Inval))
        );
        // Short payloads for fixed-size reads.
        let a = Attr {
            ty: 1,
            payload: &[1, 2],
        };
        assert_eq!(a.u32(), Err(Errno::Inval));
        assert_eq!(
            Attr {
                ty: 1,
                payload: &[]
            }
            .u8(),
            Err(Errno::Inval)
        );
        // Flag bits are masked from the type.
        let v: Vec<_> = AttrIter::new(&[4, 0, 2, 0x80]).collect();
        assert_eq!(
            v,
            vec![Ok(Attr {
                ty: 2,
                payload: &[]
            })]
        );
    }
}
