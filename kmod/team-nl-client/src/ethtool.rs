//! Speed and duplex of a link from ethtool's netlink family (what teamd's
//! port key and `teamdctl state` speed/duplex come from), over a blocking genl
//! socket like the Team requests.

use neli::genl::{Genlmsghdr, GenlmsghdrBuilder, NoUserHeader};
use neli::types::GenlBuffer;

use crate::genl::{attr, GenlSocket};
use crate::{Error, Result};

/// Speed in Mb/s (0 when unknown) and full duplex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpeedDuplex {
    pub speed: u32,
    pub full_duplex: bool,
}

// From the kernel's uapi linux/ethtool_netlink.h and linux/ethtool.h.
const ETHTOOL_GENL_NAME: &str = "ethtool";
const ETHTOOL_GENL_VERSION: u8 = 1;
const ETHTOOL_MSG_LINKMODES_GET: u8 = 4;
const ETHTOOL_A_LINKMODES_HEADER: u16 = 1;
const ETHTOOL_A_LINKMODES_SPEED: u16 = 5;
const ETHTOOL_A_LINKMODES_DUPLEX: u16 = 6;
const ETHTOOL_A_HEADER_DEV_NAME: u16 = 2;
const DUPLEX_FULL: u8 = 1;
/// ethtool's "unknown speed" sentinel.
const SPEED_UNKNOWN: u32 = u32::MAX;

pub async fn speed_duplex(ifname: &str) -> Result<SpeedDuplex> {
    let op = format!("read ethtool link modes of {ifname}");
    let err = |e: &dyn std::fmt::Display| Error::transport(&op, e.to_string());
    let genl = GenlSocket::open(&op)?;
    let (family, _) = genl.resolve(&op, ETHTOOL_GENL_NAME, None)?;
    let dev_name = attr(&op, ETHTOOL_A_HEADER_DEV_NAME, ifname)?;
    let header = attr(&op, ETHTOOL_A_LINKMODES_HEADER, Vec::<u8>::new())?
        .nest(&dev_name)
        .map_err(|e| err(&e))?;
    let request = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
        .cmd(ETHTOOL_MSG_LINKMODES_GET)
        .version(ETHTOOL_GENL_VERSION)
        .attrs(std::iter::once(header).collect::<GenlBuffer<_, _>>())
        .build()
        .map_err(|e| err(&e))?;
    let replies = genl.exchange::<u16, Genlmsghdr<u8, u16>>(&op, family, request)?;
    let mut out = SpeedDuplex::default();
    for reply in &replies {
        let attrs = reply.attrs().get_attr_handle();
        if let Ok(speed) = attrs.get_attr_payload_as::<u32>(ETHTOOL_A_LINKMODES_SPEED) {
            if speed != SPEED_UNKNOWN {
                out.speed = speed;
            }
        }
        if let Ok(duplex) = attrs.get_attr_payload_as::<u8>(ETHTOOL_A_LINKMODES_DUPLEX) {
            out.full_duplex = duplex == DUPLEX_FULL;
        }
    }
    Ok(out)
}
