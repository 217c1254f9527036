//! Speed and duplex of a link from ethtool's netlink family (what teamd's
//! port key and `teamdctl state` speed/duplex come from).

use ethtool::{EthtoolAttr, EthtoolLinkModeAttr, EthtoolLinkModeDuplex};
use futures_util::stream::TryStreamExt;

use crate::{Error, Result};

/// Speed in Mb/s (0 when unknown) and full duplex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpeedDuplex {
    pub speed: u32,
    pub full_duplex: bool,
}

/// ethtool's "unknown speed" sentinel.
const SPEED_UNKNOWN: u32 = u32::MAX;

pub async fn speed_duplex(ifname: &str) -> Result<SpeedDuplex> {
    let op = format!("read ethtool link modes of {ifname}");
    let (conn, mut handle, _) = ethtool::new_connection().map_err(|e| Error::transport(&op, e))?;
    let task = tokio::spawn(conn);
    let mut out = SpeedDuplex::default();
    let result = async {
        let stream = handle
            .link_mode()
            .get(Some(ifname))
            .execute()
            .await
            .map_err(|e| Error::transport(&op, e))?;
        futures_util::pin_mut!(stream);
        while let Some(msg) = stream
            .try_next()
            .await
            .map_err(|e| Error::transport(&op, e))?
        {
            for attr in &msg.payload.nlas {
                if let EthtoolAttr::LinkMode(a) = attr {
                    match a {
                        EthtoolLinkModeAttr::Speed(s) if *s != SPEED_UNKNOWN => out.speed = *s,
                        EthtoolLinkModeAttr::Duplex(d) => {
                            out.full_duplex = matches!(d, EthtoolLinkModeDuplex::Full)
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(out)
    }
    .await;
    task.abort();
    result
}
