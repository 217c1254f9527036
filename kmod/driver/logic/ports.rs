// SPDX-License-Identifier: GPL-2.0-only
//! Port state as userspace sees it: the `TEAM_ATTR_ITEM_PORT` encoding of
//! PORT_LIST_GET replies and events, port link state and team carrier rules.

use super::abi;
use super::errno::Errno;
use super::nla::AttrWriter;

/// What one port item reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortReport {
    pub ifindex: u32,
    pub changed: bool,
    pub removed: bool,
    pub linkup: bool,
    /// Mb/s; 0 unless the link is up.
    pub speed: u32,
    /// 0 half, 1 full; 0 unless the link is up.
    pub duplex: u8,
}

/// Writes one `TEAM_ATTR_ITEM_PORT`; on `MsgSize` nothing of it remains.
pub fn write_port_item(w: &mut AttrWriter<'_>, p: &PortReport) -> Result<(), Errno> {
    let nest = w.nest_start(abi::ATTR_ITEM_PORT)?;
    let body = (|| {
        w.put_u32(abi::ATTR_PORT_IFINDEX, p.ifindex)?;
        if p.changed {
            w.put_flag(abi::ATTR_PORT_CHANGED)?;
        }
        if p.removed {
            w.put_flag(abi::ATTR_PORT_REMOVED)?;
        }
        if p.linkup {
            w.put_flag(abi::ATTR_PORT_LINKUP)?;
        }
        w.put_u32(abi::ATTR_PORT_SPEED, p.speed)?;
        w.put_u8(abi::ATTR_PORT_DUPLEX, p.duplex)
    })();
    match body {
        Ok(()) => w.nest_end(nest),
        Err(e) => {
            w.nest_cancel(nest);
            Err(e)
        }
    }
}

/// Per-port link inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PortLink {
    /// Carrier and oper state of the port device.
    pub carrier: bool,
    pub user_linkup: bool,
    pub user_linkup_enabled: bool,
}

impl PortLink {
    /// The port's link as the team sees it: userspace's word when it asked
    /// to be trusted, else the device carrier.
    pub fn linkup(&self) -> bool {
        if self.user_linkup_enabled {
            self.user_linkup
        } else {
            self.carrier
        }
    }
}

/// Team carrier: up when any port's link is up.
pub fn team_carrier(ports: impl IntoIterator<Item = bool>) -> bool {
    ports.into_iter().any(|up| up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::nla::AttrIter;

    #[test]
    fn port_item_layout() {
        let mut buf = [0u8; 64];
        let mut w = AttrWriter::new(&mut buf);
        let p = PortReport {
            ifindex: 4,
            changed: true,
            removed: false,
            linkup: true,
            speed: 10000,
            duplex: 1,
        };
        write_port_item(&mut w, &p).unwrap();
        let item = AttrIter::new(w.bytes()).next().unwrap().unwrap();
        assert_eq!(item.ty, abi::ATTR_ITEM_PORT);
        let attrs: Vec<_> = item.nested().map(|a| a.unwrap()).collect();
        let tys: Vec<_> = attrs.iter().map(|a| a.ty).collect();
        assert_eq!(
            tys,
            [
                abi::ATTR_PORT_IFINDEX,
                abi::ATTR_PORT_CHANGED,
                abi::ATTR_PORT_LINKUP,
                abi::ATTR_PORT_SPEED,
                abi::ATTR_PORT_DUPLEX
            ]
        );
        assert_eq!(attrs[3].u32(), Ok(10000));
        assert_eq!(attrs[4].u8(), Ok(1));
    }

    #[test]
    fn removed_port_has_no_linkup() {
        let mut buf = [0u8; 64];
        let mut w = AttrWriter::new(&mut buf);
        write_port_item(
            &mut w,
            &PortReport {
                ifindex: 9,
                removed: true,
                ..Default::default()
            },
        )
        .unwrap();
        let item = AttrIter::new(w.bytes()).next().unwrap().unwrap();
        let tys: Vec<_> = item.nested().map(|a| a.unwrap().ty).collect();
        assert_eq!(
            tys,
            [
                abi::ATTR_PORT_IFINDEX,
                abi::ATTR_PORT_REMOVED,
                abi::ATTR_PORT_SPEED,
                abi::ATTR_PORT_DUPLEX
            ]
        );
        let mut small = [0u8; 20];
        let mut w = AttrWriter::new(&mut small);
        assert_eq!(
            write_port_item(&mut w, &PortReport::default()),
            Err(Errno::MsgSize)
        );
        assert!(w.is_empty());
    }

    #[test]
    fn linkup_follows_user_only_when_enabled() {
        let mut l = PortLink {
            carrier: true,
            user_linkup: false,
            user_linkup_enabled: false,
        };
        assert!(l.linkup());
        l.user_linkup_enabled = true;
        assert!(!l.linkup());
        l.carrier = false;
        l.user_linkup = true;
        assert!(l.linkup());
        assert!(team_carrier([false, true]));
        assert!(!team_carrier([false, false]));
        assert!(!team_carrier([]));
    }
}
