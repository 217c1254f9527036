//! Team ports as carried in `ITEM_PORT` (PORT_LIST_GET replies and port events).

use crate::consts::*;
use crate::nla::{NlaIter, NlaWriter};
use crate::DecodeError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortItem {
    pub ifindex: u32,
    pub changed: bool,
    pub linkup: bool,
    /// Mb/s; the kernel fills it from ethtool only while the link is up.
    pub speed: u32,
    /// 0 half, 1 full (ethtool's DUPLEX_* values).
    pub duplex: u8,
    pub removed: bool,
}

impl PortItem {
    pub(crate) fn emit(&self, w: &mut NlaWriter) {
        w.nest(ATTR_ITEM_PORT, |w| {
            w.put_u32(ATTR_PORT_IFINDEX, self.ifindex);
            if self.changed {
                w.put_flag(ATTR_PORT_CHANGED);
            }
            if self.linkup {
                w.put_flag(ATTR_PORT_LINKUP);
            }
            w.put_u32(ATTR_PORT_SPEED, self.speed);
            w.put_u8(ATTR_PORT_DUPLEX, self.duplex);
            if self.removed {
                w.put_flag(ATTR_PORT_REMOVED);
            }
        });
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut port = PortItem::default();
        let mut ifindex = None;
        for nla in NlaIter::new(buf) {
            let nla = nla?;
            match nla.kind {
                ATTR_PORT_IFINDEX => ifindex = Some(nla.u32("PORT_IFINDEX")?),
                ATTR_PORT_CHANGED => port.changed = true,
                ATTR_PORT_LINKUP => port.linkup = true,
                ATTR_PORT_SPEED => port.speed = nla.u32("PORT_SPEED")?,
                ATTR_PORT_DUPLEX => port.duplex = nla.u8("PORT_DUPLEX")?,
                ATTR_PORT_REMOVED => port.removed = true,
                _ => {}
            }
        }
        port.ifindex = ifindex.ok_or(DecodeError::Missing {
            attr: "PORT_IFINDEX",
        })?;
        Ok(port)
    }
}
