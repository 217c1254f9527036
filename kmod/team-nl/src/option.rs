//! Team options: one `OptionItem` is one option *instance* (a per-port option has
//! one per port, an array option one per index), as carried in `ITEM_OPTION`.

use std::fmt;

use crate::consts::*;
use crate::nla::{NlaIter, NlaWriter};
use crate::DecodeError;

/// The value of an option instance, typed by the option's `NLA_*` type code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    U32(u32),
    S32(i32),
    String(String),
    Binary(Vec<u8>),
    Bool(bool),
    /// A type code this codec does not know; kept so a newer kernel's options
    /// can be listed and skipped instead of failing the whole message.
    Unknown {
        type_code: u8,
        data: Option<Vec<u8>>,
    },
}

/// The option type alone, e.g. to parse a textual value for an existing option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    U32,
    S32,
    String,
    Binary,
    Bool,
    Unknown(u8),
}

impl OptionType {
    pub fn from_code(code: u8) -> Self {
        match code {
            NLA_U32 => Self::U32,
            NLA_S32 => Self::S32,
            NLA_STRING => Self::String,
            NLA_BINARY => Self::Binary,
            NLA_FLAG => Self::Bool,
            other => Self::Unknown(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::U32 => NLA_U32,
            Self::S32 => NLA_S32,
            Self::String => NLA_STRING,
            Self::Binary => NLA_BINARY,
            Self::Bool => NLA_FLAG,
            Self::Unknown(c) => c,
        }
    }
}

impl fmt::Display for OptionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::U32 => f.write_str("u32"),
            Self::S32 => f.write_str("s32"),
            Self::String => f.write_str("string"),
            Self::Binary => f.write_str("binary"),
            Self::Bool => f.write_str("bool"),
            Self::Unknown(c) => write!(f, "unknown type {c}"),
        }
    }
}

impl OptionValue {
    pub fn option_type(&self) -> OptionType {
        match self {
            Self::U32(_) => OptionType::U32,
            Self::S32(_) => OptionType::S32,
            Self::String(_) => OptionType::String,
            Self::Binary(_) => OptionType::Binary,
            Self::Bool(_) => OptionType::Bool,
            Self::Unknown { type_code, .. } => OptionType::Unknown(*type_code),
        }
    }
}

/// One option instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionItem {
    pub name: String,
    /// Set for per-port options.
    pub port_ifindex: Option<u32>,
    /// Set for array options.
    pub array_index: Option<u32>,
    pub value: OptionValue,
    /// The kernel marks instances changed since it last sent them.
    pub changed: bool,
    /// The instance is going away (port removed, mode changed).
    pub removed: bool,
}

impl OptionItem {
    /// An instance to send in OPTIONS_SET.
    pub fn new(name: impl Into<String>, value: OptionValue) -> Self {
        Self {
            name: name.into(),
            port_ifindex: None,
            array_index: None,
            value,
            changed: false,
            removed: false,
        }
    }

    pub fn port(mut self, ifindex: u32) -> Self {
        self.port_ifindex = Some(ifindex);
        self
    }

    pub fn index(mut self, index: u32) -> Self {
        self.array_index = Some(index);
        self
    }

    pub(crate) fn emit(&self, w: &mut NlaWriter) {
        w.nest(ATTR_ITEM_OPTION, |w| {
            w.put_cstr(ATTR_OPTION_NAME, &self.name);
            if let Some(i) = self.port_ifindex {
                w.put_u32(ATTR_OPTION_PORT_IFINDEX, i);
            }
            if let Some(i) = self.array_index {
                w.put_u32(ATTR_OPTION_ARRAY_INDEX, i);
            }
            w.put_u8(ATTR_OPTION_TYPE, self.value.option_type().code());
            match &self.value {
                OptionValue::U32(v) => w.put_u32(ATTR_OPTION_DATA, *v),
                OptionValue::S32(v) => w.put(ATTR_OPTION_DATA, &v.to_ne_bytes()),
                OptionValue::String(s) => w.put_cstr(ATTR_OPTION_DATA, s),
                OptionValue::Binary(b) => w.put(ATTR_OPTION_DATA, b),
                // A bool travels as the presence of the DATA flag.
                OptionValue::Bool(true) => w.put_flag(ATTR_OPTION_DATA),
                OptionValue::Bool(false) => {}
                OptionValue::Unknown { data, .. } => {
                    if let Some(d) = data {
                        w.put(ATTR_OPTION_DATA, d)
                    }
                }
            }
            // The kernel puts the state flags last; same order here.
            if self.removed {
                w.put_flag(ATTR_OPTION_REMOVED);
            }
            if self.changed {
                w.put_flag(ATTR_OPTION_CHANGED);
            }
        });
    }

    pub(crate) fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut name = None;
        let mut type_code = None;
        let mut data: Option<&[u8]> = None;
        let mut item = OptionItem::new(String::new(), OptionValue::Bool(false));
        for nla in NlaIter::new(buf) {
            let nla = nla?;
            match nla.kind {
                ATTR_OPTION_NAME => name = Some(nla.string("OPTION_NAME")?),
                ATTR_OPTION_CHANGED => item.changed = true,
                ATTR_OPTION_TYPE => type_code = Some(nla.u8("OPTION_TYPE")?),
                ATTR_OPTION_DATA => data = Some(nla.payload),
                ATTR_OPTION_REMOVED => item.removed = true,
                ATTR_OPTION_PORT_IFINDEX => {
                    item.port_ifindex = Some(nla.u32("OPTION_PORT_IFINDEX")?)
                }
                ATTR_OPTION_ARRAY_INDEX => item.array_index = Some(nla.u32("OPTION_ARRAY_INDEX")?),
                _ => {} // attributes added by newer kernels
            }
        }
        item.name = name.ok_or(DecodeError::Missing {
            attr: "OPTION_NAME",
        })?;
        let type_code = type_code.ok_or(DecodeError::Missing {
            attr: "OPTION_TYPE",
        })?;
        let need_data = || {
            data.ok_or(DecodeError::Missing {
                attr: "OPTION_DATA",
            })
        };
        let fixed4 = |d: &[u8]| -> Result<[u8; 4], DecodeError> {
            d.get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::BadAttrLength {
                    attr: "OPTION_DATA",
                    len: d.len(),
                })
        };
        item.value = match type_code {
            NLA_U32 => OptionValue::U32(u32::from_ne_bytes(fixed4(need_data()?)?)),
            NLA_S32 => OptionValue::S32(i32::from_ne_bytes(fixed4(need_data()?)?)),
            NLA_STRING => {
                let d = need_data()?;
                let end = d.iter().position(|b| *b == 0).unwrap_or(d.len());
                OptionValue::String(String::from_utf8(d[..end].to_vec()).map_err(|_| {
                    DecodeError::BadValue {
                        attr: "OPTION_DATA",
                        why: format!("string option {:?} is not UTF-8", item.name),
                    }
                })?)
            }
            NLA_BINARY => OptionValue::Binary(need_data()?.to_vec()),
            NLA_FLAG => OptionValue::Bool(data.is_some()),
            other => OptionValue::Unknown {
                type_code: other,
                data: data.map(<[u8]>::to_vec),
            },
        };
        Ok(item)
    }
}
