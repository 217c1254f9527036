//! Numbers of the Team generic netlink ABI (`include/uapi/linux/if_team.h`,
//! `Documentation/netlink/specs/team.yaml`). One place, used by the codec and
//! the client; `tests` at the bottom pin them to the uapi values.

pub const GENL_NAME: &str = "team";
pub const GENL_VERSION: u8 = 1;
pub const CHANGE_EVENT_GROUP: &str = "change_event";
/// Longest string option payload, NUL included.
pub const STRING_MAX_LEN: usize = 32;

pub const CMD_NOOP: u8 = 0;
pub const CMD_OPTIONS_SET: u8 = 1;
pub const CMD_OPTIONS_GET: u8 = 2;
pub const CMD_PORT_LIST_GET: u8 = 3;

pub const ATTR_TEAM_IFINDEX: u16 = 1;
pub const ATTR_LIST_OPTION: u16 = 2;
pub const ATTR_LIST_PORT: u16 = 3;

pub const ATTR_ITEM_OPTION: u16 = 1;
pub const ATTR_OPTION_NAME: u16 = 1;
pub const ATTR_OPTION_CHANGED: u16 = 2;
pub const ATTR_OPTION_TYPE: u16 = 3;
pub const ATTR_OPTION_DATA: u16 = 4;
pub const ATTR_OPTION_REMOVED: u16 = 5;
pub const ATTR_OPTION_PORT_IFINDEX: u16 = 6;
pub const ATTR_OPTION_ARRAY_INDEX: u16 = 7;

pub const ATTR_ITEM_PORT: u16 = 1;
pub const ATTR_PORT_IFINDEX: u16 = 1;
pub const ATTR_PORT_CHANGED: u16 = 2;
pub const ATTR_PORT_LINKUP: u16 = 3;
pub const ATTR_PORT_SPEED: u16 = 4;
pub const ATTR_PORT_DUPLEX: u16 = 5;
pub const ATTR_PORT_REMOVED: u16 = 6;

/// Option type codes are netlink policy type numbers (`NLA_*`).
pub const NLA_U32: u8 = 3;
pub const NLA_STRING: u8 = 5;
pub const NLA_FLAG: u8 = 6;
pub const NLA_BINARY: u8 = 11;
pub const NLA_S32: u8 = 14;

/// Netlink attribute header flags (upper bits of `nla_type`).
pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
