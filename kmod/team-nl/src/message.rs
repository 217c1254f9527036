//! A whole Team genl payload: the 4-byte genl header and the top-level attributes.
//! The netlink header around it belongs to the transport.

use crate::consts::*;
use crate::nla::{NlaIter, NlaWriter};
use crate::{DecodeError, OptionItem, PortItem};

pub const GENL_HDR_LEN: usize = 4;

/// The Team family's commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Noop,
    OptionsSet,
    OptionsGet,
    PortListGet,
    Other(u8),
}

impl Command {
    pub fn from_code(code: u8) -> Self {
        match code {
            CMD_NOOP => Self::Noop,
            CMD_OPTIONS_SET => Self::OptionsSet,
            CMD_OPTIONS_GET => Self::OptionsGet,
            CMD_PORT_LIST_GET => Self::PortListGet,
            other => Self::Other(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::Noop => CMD_NOOP,
            Self::OptionsSet => CMD_OPTIONS_SET,
            Self::OptionsGet => CMD_OPTIONS_GET,
            Self::PortListGet => CMD_PORT_LIST_GET,
            Self::Other(c) => c,
        }
    }
}

/// One Team genl message: a request, a reply part, or a change event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMessage {
    pub cmd: Command,
    pub version: u8,
    pub team_ifindex: Option<u32>,
    /// `None` when LIST_OPTION is absent (not the same as an empty list).
    pub options: Option<Vec<OptionItem>>,
    pub ports: Option<Vec<PortItem>>,
}

impl TeamMessage {
    fn request(cmd: Command, team_ifindex: u32) -> Self {
        Self {
            cmd,
            // libteam sends version 0; the kernel does not check it.
            version: 0,
            team_ifindex: Some(team_ifindex),
            options: None,
            ports: None,
        }
    }

    pub fn options_get(team_ifindex: u32) -> Self {
        Self::request(Command::OptionsGet, team_ifindex)
    }

    pub fn port_list_get(team_ifindex: u32) -> Self {
        Self::request(Command::PortListGet, team_ifindex)
    }

    pub fn options_set(team_ifindex: u32, items: Vec<OptionItem>) -> Self {
        Self {
            options: Some(items),
            ..Self::request(Command::OptionsSet, team_ifindex)
        }
    }

    /// Serialises the genl header and attributes.
    pub fn emit(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[self.cmd.code(), self.version, 0, 0]);
        let mut w = NlaWriter::new(buf);
        if let Some(i) = self.team_ifindex {
            w.put_u32(ATTR_TEAM_IFINDEX, i);
        }
        if let Some(options) = &self.options {
            w.nest(ATTR_LIST_OPTION, |w| options.iter().for_each(|o| o.emit(w)));
        }
        if let Some(ports) = &self.ports {
            w.nest(ATTR_LIST_PORT, |w| ports.iter().for_each(|p| p.emit(w)));
        }
        w.finish()
    }

    /// Parses a genl payload. Never panics; a malformed part is an error naming it.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let hdr = buf.get(..GENL_HDR_LEN).ok_or(DecodeError::Truncated {
            what: "generic netlink header",
            need: GENL_HDR_LEN,
            have: buf.len(),
        })?;
        let mut msg = TeamMessage {
            cmd: Command::from_code(hdr[0]),
            version: hdr[1],
            team_ifindex: None,
            options: None,
            ports: None,
        };
        for nla in NlaIter::new(&buf[GENL_HDR_LEN..]) {
            let nla = nla?;
            match nla.kind {
                ATTR_TEAM_IFINDEX => msg.team_ifindex = Some(nla.u32("TEAM_IFINDEX")?),
                ATTR_LIST_OPTION => {
                    let mut items = Vec::new();
                    for item in NlaIter::new(nla.payload) {
                        let item = item?;
                        if item.kind == ATTR_ITEM_OPTION {
                            items.push(OptionItem::parse(item.payload)?);
                        }
                    }
                    msg.options = Some(items);
                }
                ATTR_LIST_PORT => {
                    let mut items = Vec::new();
                    for item in NlaIter::new(nla.payload) {
                        let item = item?;
                        if item.kind == ATTR_ITEM_PORT {
                            items.push(PortItem::parse(item.payload)?);
                        }
                    }
                    msg.ports = Some(items);
                }
                _ => {}
            }
        }
        Ok(msg)
    }
}
