//! The bonding device over rtnetlink: create it with its options, enslave
//! and release ports, make a port primary, read it back, delete it.

use team_nl_client::rtnetlink::packet_route::link::{
    InfoBond, InfoData, InfoKind, LinkAttribute, LinkInfo, LinkMessage,
};
use team_nl_client::{Error, Link, Rtnl};

use super::options::Plan;
use super::view::{self, BondView};

/// The RTM_NEWLINK message that creates `name` as planned.
pub fn create_message(name: &str, plan: &Plan) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    if let Some(mac) = &plan.hwaddr {
        msg.attributes.push(LinkAttribute::Address(mac.clone()));
    }
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Bond),
        LinkInfo::Data(InfoData::Bond(plan.options.clone())),
    ]));
    msg
}

fn change_message(ifindex: u32, options: Vec<InfoBond>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = ifindex;
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Bond),
        LinkInfo::Data(InfoData::Bond(options)),
    ]));
    msg
}

pub async fn create(rtnl: &Rtnl, name: &str, plan: &Plan) -> Result<Link, Error> {
    rtnl.add_link(name, create_message(name, plan)).await
}

/// Makes `port` the bond's primary port (IFLA_BOND_PRIMARY).
pub async fn set_primary(rtnl: &Rtnl, bond: u32, port: &Link) -> Result<(), Error> {
    rtnl.change_link(
        &format!("make {} the primary port", port.name),
        change_message(bond, vec![InfoBond::Primary(port.ifindex)]),
    )
    .await
}

/// Enslaves `port`: bonding takes a port that is down and brings it up.
pub async fn enslave(rtnl: &Rtnl, port: &Link, bond: &Link) -> Result<(), Error> {
    if port.admin_up {
        rtnl.set_admin_up(port, false).await?;
    }
    rtnl.enslave(port, bond).await
}

/// Reads the bond and its ports; `None` when the bond is gone.
pub async fn read(rtnl: &Rtnl, ifindex: u32) -> Result<Option<BondView>, Error> {
    let Some(bond) = rtnl.link_message(ifindex).await? else {
        return Ok(None);
    };
    let links = rtnl.link_messages().await?;
    let mut v = view::read(&bond, &links);
    for p in &mut v.ports {
        // speed and duplex as teamd's ethtool query; unknown when it fails
        if let Ok(sd) = team_nl_client::ethtool::speed_duplex(&p.ifname).await {
            p.speed = sd.speed as i32;
            p.full_duplex = sd.full_duplex;
        }
    }
    Ok(Some(v))
}
