// SPDX-License-Identifier: GPL-2.0-only
//! The team option set: descriptors (name, type, scope) for the core and each
//! mode, option values, and their netlink encoding in `TEAM_ATTR_LIST_OPTION`
//! (OPTIONS_GET replies and events) and decoding of OPTIONS_SET items.

use super::abi;
use super::errno::Errno;
use super::nla::{AttrIter, AttrWriter};

/// Value types of options; the wire code is the netlink policy type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    U32,
    String,
    Binary,
    Bool,
    S32,
}

impl OptionType {
    pub const fn wire_code(self) -> u8 {
        match self {
            OptionType::U32 => abi::NLA_U32,
            OptionType::String => abi::NLA_STRING,
            OptionType::Binary => abi::NLA_BINARY,
            OptionType::Bool => abi::NLA_FLAG,
            OptionType::S32 => abi::NLA_S32,
        }
    }

    pub fn from_wire(code: u8) -> Option<OptionType> {
        [
            OptionType::U32,
            OptionType::String,
            OptionType::Binary,
            OptionType::Bool,
            OptionType::S32,
        ]
        .into_iter()
        .find(|t| t.wire_code() == code)
    }
}

/// Which option this is; the driver matches on it to get or set the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionId {
    Mode,
    NotifyPeersCount,
    NotifyPeersInterval,
    McastRejoinCount,
    McastRejoinInterval,
    Enabled,
    UserLinkup,
    UserLinkupEnabled,
    Priority,
    QueueId,
    ActivePort,
    BpfHashFunc,
    LbTxMethod,
    LbTxHashToPortMapping,
    LbHashStats,
    LbPortStats,
    LbStatsRefreshInterval,
}

/// A registered option: one instance per team, per port, or per array index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionDesc {
    pub id: OptionId,
    pub name: &'static str,
    pub ty: OptionType,
    pub per_port: bool,
    /// 0 for scalar options, else the number of array instances.
    pub array_size: u32,
}

const fn team(id: OptionId, name: &'static str, ty: OptionType) -> OptionDesc {
    OptionDesc {
        id,
        name,
        ty,
        per_port: false,
        array_size: 0,
    }
}

const fn port(id: OptionId, name: &'static str, ty: OptionType) -> OptionDesc {
    OptionDesc {
        id,
        name,
        ty,
        per_port: true,
        array_size: 0,
    }
}

/// Hash values are one byte, so loadbalance has 256 hash buckets.
pub const LB_HASH_BUCKETS: u32 = 256;

/// Always present, in team.ko's registration order.
pub const CORE_OPTIONS: [OptionDesc; 10] = [
    team(OptionId::Mode, "mode", OptionType::String),
    team(
        OptionId::NotifyPeersCount,
        "notify_peers_count",
        OptionType::U32,
    ),
    team(
        OptionId::NotifyPeersInterval,
        "notify_peers_interval",
        OptionType::U32,
    ),
    team(
        OptionId::McastRejoinCount,
        "mcast_rejoin_count",
        OptionType::U32,
    ),
    team(
        OptionId::McastRejoinInterval,
        "mcast_rejoin_interval",
        OptionType::U32,
    ),
    port(OptionId::Enabled, "enabled", OptionType::Bool),
    port(OptionId::UserLinkup, "user_linkup", OptionType::Bool),
    port(
        OptionId::UserLinkupEnabled,
        "user_linkup_enabled",
        OptionType::Bool,
    ),
    port(OptionId::Priority, "priority", OptionType::S32),
    port(OptionId::QueueId, "queue_id", OptionType::U32),
];

pub const ACTIVEBACKUP_OPTIONS: [OptionDesc; 1] =
    [team(OptionId::ActivePort, "activeport", OptionType::U32)];

pub const LOADBALANCE_OPTIONS: [OptionDesc; 6] = [
    team(OptionId::BpfHashFunc, "bpf_hash_func", OptionType::Binary),
    team(OptionId::LbTxMethod, "lb_tx_method", OptionType::String),
    OptionDesc {
        id: OptionId::LbTxHashToPortMapping,
        name: "lb_tx_hash_to_port_mapping",
        ty: OptionType::U32,
        per_port: false,
        array_size: LB_HASH_BUCKETS,
    },
    OptionDesc {
        id: OptionId::LbHashStats,
        name: "lb_hash_stats",
        ty: OptionType::Binary,
        per_port: false,
        array_size: LB_HASH_BUCKETS,
    },
    port(OptionId::LbPortStats, "lb_port_stats", OptionType::Binary),
    team(
        OptionId::LbStatsRefreshInterval,
        "lb_stats_refresh_interval",
        OptionType::U32,
    ),
];

/// An option value as carried in `TEAM_ATTR_OPTION_DATA`. Strings are without
/// their NUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionValue<'a> {
    U32(u32),
    Str(&'a [u8]),
    Binary(&'a [u8]),
    Bool(bool),
    S32(i32),
}

impl OptionValue<'_> {
    pub fn ty(&self) -> OptionType {
        match self {
            OptionValue::U32(_) => OptionType::U32,
            OptionValue::Str(_) => OptionType::String,
            OptionValue::Binary(_) => OptionType::Binary,
            OptionValue::Bool(_) => OptionType::Bool,
            OptionValue::S32(_) => OptionType::S32,
        }
    }
}

/// Which instance of an option an item talks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct InstanceKey {
    /// Port ifindex for per-port options, else 0.
    pub port_ifindex: u32,
    /// Index for array options, else `None`.
    pub array_index: Option<u32>,
}

/// Flags an instance carries in an OPTIONS_GET message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ItemFlags {
    pub changed: bool,
    pub removed: bool,
}

/// Writes one `TEAM_ATTR_ITEM_OPTION`; on `MsgSize` nothing of it remains.
pub fn write_option_item(
    w: &mut AttrWriter<'_>,
    desc: &OptionDesc,
    key: InstanceKey,
    value: OptionValue<'_>,
    flags: ItemFlags,
) -> Result<(), Errno> {
    if value.ty() != desc.ty {
        return Err(Errno::Inval);
    }
    let nest = w.nest_start(abi::ATTR_ITEM_OPTION)?;
    let body = write_option_body(w, desc, key, value, flags);
    match body {
        Ok(()) => w.nest_end(nest),
        Err(e) => {
            w.nest_cancel(nest);
            Err(e)
        }
    }
}

fn write_option_body(
    w: &mut AttrWriter<'_>,
    desc: &OptionDesc,
    key: InstanceKey,
    value: OptionValue<'_>,
    flags: ItemFlags,
) -> Result<(), Errno> {
    w.put_string(abi::ATTR_OPTION_NAME, desc.name.as_bytes())?;
    if desc.per_port {
        w.put_u32(abi::ATTR_OPTION_PORT_IFINDEX, key.port_ifindex)?;
    }
    if desc.array_size != 0 {
        w.put_u32(abi::ATTR_OPTION_ARRAY_INDEX, key.array_index.unwrap_or(0))?;
    }
    w.put_u8(abi::ATTR_OPTION_TYPE, desc.ty.wire_code())?;
    match value {
        OptionValue::U32(v) => w.put_u32(abi::ATTR_OPTION_DATA, v)?,
        OptionValue::Str(s) => w.put_string(abi::ATTR_OPTION_DATA, s)?,
        OptionValue::Binary(b) => w.put(abi::ATTR_OPTION_DATA, b)?,
        OptionValue::Bool(true) => w.put_flag(abi::ATTR_OPTION_DATA)?,
        OptionValue::Bool(false) => {}
        OptionValue::S32(v) => w.put_s32(abi::ATTR_OPTION_DATA, v)?,
    }
    if flags.removed {
        w.put_flag(abi::ATTR_OPTION_REMOVED)?;
    }
    if flags.changed {
        w.put_flag(abi::ATTR_OPTION_CHANGED)?;
    }
    Ok(())
}

/// One item of an OPTIONS_SET request, validated as team.ko validates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetItem<'a> {
    /// Name without NUL.
    pub name: &'a [u8],
    pub key: InstanceKey,
    pub value: OptionValue<'a>,
}

impl SetItem<'_> {
    /// Whether this item addresses the instance `desc`/`key` (team.ko's match:
    /// name, type, port and array index; array options need an index).
    pub fn matches(&self, desc: &OptionDesc, key: InstanceKey) -> bool {
        desc.name.as_bytes() == self.name
            && desc.ty == self.value.ty()
            && key.port_ifindex == self.key.port_ifindex
            && !(desc.array_size != 0 && self.key.array_index.is_none())
            && key.array_index.unwrap_or(0) == self.key.array_index.unwrap_or(0)
    }
}

/// Strips the terminating NUL a netlink string may carry (policy NLA_STRING).
fn nla_string(payload: &[u8]) -> &[u8] {
    match payload.iter().position(|&b| b == 0) {
        Some(n) => &payload[..n],
        None => payload,
    }
}

/// Decodes one `TEAM_ATTR_ITEM_OPTION` payload of an OPTIONS_SET request.
pub fn parse_set_item(item: &[u8]) -> Result<SetItem<'_>, Errno> {
    let mut name = None;
    let mut ty = None;
    let mut data = None;
    let mut port_ifindex = 0;
    let mut array_index = None;
    for attr in AttrIter::new(item) {
        let attr = attr?;
        match attr.ty {
            abi::ATTR_OPTION_NAME => {
                let s = nla_string(attr.payload);
                // Policy: string of at most TEAM_STRING_MAX_LEN bytes.
                if s.len() > abi::STRING_MAX_LEN {
                    return Err(Errno::Inval);
                }
                name = Some(s);
            }
            abi::ATTR_OPTION_TYPE => ty = Some(attr.u8()?),
            abi::ATTR_OPTION_DATA => data = Some(attr.payload),
            abi::ATTR_OPTION_PORT_IFINDEX => port_ifindex = attr.u32()?,
            abi::ATTR_OPTION_ARRAY_INDEX => array_index = Some(attr.u32()?),
            _ => {}
        }
    }
    let (Some(name), Some(ty)) = (name, ty) else {
        return Err(Errno::Inval);
    };
    let ty = OptionType::from_wire(ty).ok_or(Errno::Inval)?;
    let value = match (ty, data) {
        (OptionType::Bool, d) => OptionValue::Bool(d.is_some()),
        (_, None) => return Err(Errno::Inval),
        (OptionType::U32, Some(d)) => OptionValue::U32(read_u32(d)?),
        (OptionType::S32, Some(d)) => OptionValue::S32(read_u32(d)? as i32),
        (OptionType::Binary, Some(d)) => OptionValue::Binary(d),
        (OptionType::String, Some(d)) => {
            if d.len() > abi::STRING_MAX_LEN {
                return Err(Errno::Inval);
            }
            match d.iter().position(|&b| b == 0) {
                Some(n) => OptionValue::Str(&d[..n]),
                None => return Err(Errno::Inval),
            }
        }
    };
    Ok(SetItem {
        name,
        key: InstanceKey {
            port_ifindex,
            array_index,
        },
        value,
    })
}

fn read_u32(d: &[u8]) -> Result<u32, Errno> {
    match d.get(..4) {
        Some(b) => Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(Errno::Inval),
    }
}

/// Walks the items of a `TEAM_ATTR_LIST_OPTION` payload; anything but an
/// ITEM_OPTION is `Errno::Inval`, as in team.ko.
pub fn set_items(list: &[u8]) -> impl Iterator<Item = Result<SetItem<'_>, Errno>> {
    AttrIter::new(list).map(|attr| {
        let attr = attr?;
        if attr.ty != abi::ATTR_ITEM_OPTION {
            return Err(Errno::Inval);
        }
        parse_set_item(attr.payload)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(desc: &OptionDesc, key: InstanceKey, v: OptionValue<'_>, f: ItemFlags) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let mut w = AttrWriter::new(&mut buf);
        write_option_item(&mut w, desc, key, v, f).unwrap();
        w.bytes().to_vec()
    }

    #[test]
    fn core_table_matches_team_ko_order_and_types() {
        let names: Vec<_> = CORE_OPTIONS.iter().map(|o| o.name).collect();
        assert_eq!(
            names,
            [
                "mode",
                "notify_peers_count",
                "notify_peers_interval",
                "mcast_rejoin_count",
                "mcast_rejoin_interval",
                "enabled",
                "user_linkup",
                "user_linkup_enabled",
                "priority",
                "queue_id"
            ]
        );
        assert_eq!(CORE_OPTIONS.iter().filter(|o| o.per_port).count(), 5);
        assert_eq!(CORE_OPTIONS[8].ty.wire_code(), 14);
        assert!(LOADBALANCE_OPTIONS
            .iter()
            .all(|o| o.name.len() < abi::STRING_MAX_LEN));
    }

    #[test]
    fn string_item_bytes_are_what_team_ko_sends() {
        let b = encode(
            &CORE_OPTIONS[0],
            InstanceKey::default(),
            OptionValue::Str(b"roundrobin"),
            ItemFlags {
                changed: true,
                removed: false,
            },
        );
        let items: Vec<_> = AttrIter::new(&b).map(|a| a.unwrap()).collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].ty, abi::ATTR_ITEM_OPTION);
        let attrs: Vec<_> = items[0].nested().map(|a| a.unwrap()).collect();
        let tys: Vec<_> = attrs.iter().map(|a| a.ty).collect();
        assert_eq!(
            tys,
            [
                abi::ATTR_OPTION_NAME,
                abi::ATTR_OPTION_TYPE,
                abi::ATTR_OPTION_DATA,
                abi::ATTR_OPTION_CHANGED
            ]
        );
        assert_eq!(attrs[0].payload, b"mode\0");
        assert_eq!(attrs[1].payload, [abi::NLA_STRING]);
        assert_eq!(attrs[2].payload, b"roundrobin\0");
    }

    #[test]
    fn per_port_and_array_items_carry_their_keys() {
        let b = encode(
            &CORE_OPTIONS[5],
            InstanceKey {
                port_ifindex: 7,
                array_index: None,
            },
            OptionValue::Bool(false),
            ItemFlags {
                changed: false,
                removed: true,
            },
        );
        let item = AttrIter::new(&b).next().unwrap().unwrap();
        let attrs: Vec<_> = item.nested().map(|a| a.unwrap()).collect();
        let tys: Vec<_> = attrs.iter().map(|a| a.ty).collect();
        // false bool: no DATA at all.
        assert_eq!(
            tys,
            [
                abi::ATTR_OPTION_NAME,
                abi::ATTR_OPTION_PORT_IFINDEX,
                abi::ATTR_OPTION_TYPE,
                abi::ATTR_OPTION_REMOVED
            ]
        );
        assert_eq!(attrs[1].u32(), Ok(7));

        let b = encode(
            &LOADBALANCE_OPTIONS[2],
            InstanceKey {
                port_ifindex: 0,
                array_index: Some(200),
            },
            OptionValue::U32(9),
            ItemFlags::default(),
        );
        let item = AttrIter::new(&b).next().unwrap().unwrap();
        let idx = item
            .nested()
            .map(|a| a.unwrap())
            .find(|a| a.ty == abi::ATTR_OPTION_ARRAY_INDEX)
            .unwrap();
        assert_eq!(idx.u32(), Ok(200));
    }

    #[test]
    fn item_that_does_not_fit_leaves_no_partial_bytes() {
        let mut buf = [0u8; 24];
        let mut w = AttrWriter::new(&mut buf);
        let r = write_option_item(
            &mut w,
            &CORE_OPTIONS[1],
            InstanceKey::default(),
            OptionValue::U32(1),
            ItemFlags::default(),
        );
        assert_eq!(r, Err(Errno::MsgSize));
        assert!(w.is_empty());
        let r = write_option_item(
            &mut w,
            &CORE_OPTIONS[1],
            InstanceKey::default(),
            OptionValue::S32(1),
            ItemFlags::default(),
        );
        assert_eq!(r, Err(Errno::Inval));
    }

    fn set_request(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let mut w = AttrWriter::new(&mut buf);
        let n = w.nest_start(abi::ATTR_ITEM_OPTION).unwrap();
        for (ty, p) in attrs {
            w.put(*ty, p).unwrap();
        }
        w.nest_end(n).unwrap();
        w.bytes().to_vec()
    }

    #[test]
    fn parses_set_items_like_team_ko() {
        let req = set_request(&[
            (abi::ATTR_OPTION_NAME, b"queue_id\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_U32]),
            (abi::ATTR_OPTION_DATA, &3u32.to_ne_bytes()),
            (abi::ATTR_OPTION_PORT_IFINDEX, &5u32.to_ne_bytes()),
        ]);
        let items: Vec<_> = set_items(&req).collect();
        let item = items[0].unwrap();
        assert_eq!(item.name, b"queue_id");
        assert_eq!(item.value, OptionValue::U32(3));
        assert!(item.matches(
            &CORE_OPTIONS[9],
            InstanceKey {
                port_ifindex: 5,
                array_index: None
            }
        ));
        assert!(!item.matches(
            &CORE_OPTIONS[9],
            InstanceKey {
                port_ifindex: 6,
                array_index: None
            }
        ));
        assert!(!item.matches(&CORE_OPTIONS[1], InstanceKey::default()));

        // Bool without DATA means false; with DATA true.
        let req = set_request(&[
            (abi::ATTR_OPTION_NAME, b"enabled\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_FLAG]),
        ]);
        assert_eq!(
            set_items(&req).next().unwrap().unwrap().value,
            OptionValue::Bool(false)
        );
    }

    #[test]
    fn rejects_what_team_ko_rejects() {
        let no_type = set_request(&[(abi::ATTR_OPTION_NAME, b"mode\0")]);
        assert_eq!(set_items(&no_type).next(), Some(Err(Errno::Inval)));
        let no_data = set_request(&[
            (abi::ATTR_OPTION_NAME, b"mode\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_STRING]),
        ]);
        assert_eq!(set_items(&no_data).next(), Some(Err(Errno::Inval)));
        let long = [b'a'; 33];
        let too_long = set_request(&[
            (abi::ATTR_OPTION_NAME, b"mode\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_STRING]),
            (abi::ATTR_OPTION_DATA, &long),
        ]);
        assert_eq!(set_items(&too_long).next(), Some(Err(Errno::Inval)));
        let no_nul = set_request(&[
            (abi::ATTR_OPTION_NAME, b"mode\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_STRING]),
            (abi::ATTR_OPTION_DATA, b"abc"),
        ]);
        assert_eq!(set_items(&no_nul).next(), Some(Err(Errno::Inval)));
        let bad_type = set_request(&[
            (abi::ATTR_OPTION_NAME, b"mode\0"),
            (abi::ATTR_OPTION_TYPE, &[99]),
            (abi::ATTR_OPTION_DATA, b"x\0"),
        ]);
        assert_eq!(set_items(&bad_type).next(), Some(Err(Errno::Inval)));
        let short_u32 = set_request(&[
            (abi::ATTR_OPTION_NAME, b"queue_id\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_U32]),
            (abi::ATTR_OPTION_DATA, &[1, 2]),
        ]);
        assert_eq!(set_items(&short_u32).next(), Some(Err(Errno::Inval)));
        // Array options need an index.
        let req = set_request(&[
            (abi::ATTR_OPTION_NAME, b"lb_tx_hash_to_port_mapping\0"),
            (abi::ATTR_OPTION_TYPE, &[abi::NLA_U32]),
            (abi::ATTR_OPTION_DATA, &1u32.to_ne_bytes()),
        ]);
        let item = set_items(&req).next().unwrap().unwrap();
        assert!(!item.matches(
            &LOADBALANCE_OPTIONS[2],
            InstanceKey {
                port_ifindex: 0,
                array_index: Some(0)
            }
        ));
        // Not an ITEM_OPTION at the list level.
        let mut buf = [0u8; 16];
        let mut w = AttrWriter::new(&mut buf);
        w.put_u32(5, 1).unwrap();
        assert_eq!(set_items(w.bytes()).next(), Some(Err(Errno::Inval)));
    }
}
