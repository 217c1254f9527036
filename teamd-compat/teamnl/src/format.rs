//! Text forms of options and ports, byte for byte as libteam's stringify.c
//! writes them (including its 120-byte line buffer), and values parsed from text.

use team_nl_client::cache::Ifinfo;
use team_nl_client::team_nl::{OptionItem, OptionType, OptionValue, PortItem};

use crate::cstr::{strtol, strtoul};

pub const EINVAL: i32 = 22;
pub const ERANGE: i32 = 34;

/// libteam formats list lines into a 120-byte buffer: at most 119 characters
/// survive, and the caller is told it was cut.
const LINE_BUF: usize = 120;

/// The bare value, as `getoption` prints it.
pub fn value_str(v: &OptionValue) -> String {
    match v {
        OptionValue::U32(n) => n.to_string(),
        OptionValue::S32(n) => n.to_string(),
        OptionValue::String(s) => s.clone(),
        OptionValue::Binary(b) => b.iter().map(|c| format!("\\{c:02x}")).collect(),
        OptionValue::Bool(b) => b.to_string(),
        OptionValue::Unknown { .. } => "<unknown>".into(),
    }
}

/// Cuts `s` as vsnprintf into a 120-byte buffer would; returns (text, truncated).
fn clip(s: String) -> (String, bool) {
    if s.len() < LINE_BUF {
        return (s, false);
    }
    let mut end = LINE_BUF - 1;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s[..end].to_string(), true)
}

/// ` name (port:IF) (arridx:N) value`, `*` first when changed.
pub fn option_line(o: &OptionItem, port_name: impl Fn(u32) -> Option<String>) -> (String, bool) {
    let mut s = format!("{}{} ", if o.changed { "*" } else { " " }, o.name);
    if let Some(p) = o.port_ifindex {
        s += &format!("(port:{}) ", port_name(p).unwrap_or_default());
    }
    if let Some(i) = o.array_index {
        s += &format!("(arridx:{i}) ");
    }
    s += &value_str(&o.value);
    clip(s)
}

/// `<flag><ifindex>: <ifname>: <up|down> <speed>Mbit <FD|HD>`.
pub fn port_line(p: &PortItem, name: Option<&str>) -> (String, bool) {
    let flag = if p.removed {
        "-"
    } else if p.changed {
        "*"
    } else {
        " "
    };
    clip(format!(
        "{flag}{}: {}: {} {}Mbit {}",
        p.ifindex as i32,
        name.unwrap_or("(removed)"),
        if p.linkup { "up" } else { "down" },
        p.speed,
        if p.duplex != 0 { "FD" } else { "HD" }
    ))
}

/// `<*>ifindex: <*>ifname: <*>hwaddr: <*>master`, a `*` before each part that changed.
pub fn ifinfo_line(i: &Ifinfo) -> (String, bool) {
    let star = |b: bool| if b { "*" } else { "" };
    let c = &i.changed;
    clip(format!(
        "{}{}: {}{}: {}{}: {}{}",
        if c.any() { "*" } else { " " },
        i.ifindex as i32,
        star(c.ifname),
        i.ifname,
        star(c.hwaddr || c.hwaddr_len),
        i.hwaddr_str(),
        star(c.master),
        i.master as i32
    ))
}

/// Parses `text` for an option of type `ty` as libteam's setoption does.
/// `Ok(None)`: libteam reports success without sending anything (its strtoul
/// check returns errno, which is 0, for "-1").
pub fn parse_value(ty: OptionType, text: &str) -> Result<Option<OptionValue>, i32> {
    match ty {
        OptionType::U32 => {
            let c = strtoul(text, 10);
            if c.value == u64::MAX {
                return if c.overflow { Err(ERANGE) } else { Ok(None) };
            }
            if !c.rest.is_empty() {
                return Err(EINVAL);
            }
            u32::try_from(c.value)
                .map(|v| Some(OptionValue::U32(v)))
                .map_err(|_| ERANGE)
        }
        OptionType::S32 => {
            let c = strtol(text);
            if c.value == i64::MIN || c.value == i64::MAX {
                return if c.overflow { Err(ERANGE) } else { Ok(None) };
            }
            if !c.rest.is_empty() {
                return Err(EINVAL);
            }
            i32::try_from(c.value)
                .map(|v| Some(OptionValue::S32(v)))
                .map_err(|_| ERANGE)
        }
        OptionType::String => Ok(Some(OptionValue::String(text.to_string()))),
        OptionType::Bool => match text {
            "true" => Ok(Some(OptionValue::Bool(true))),
            "false" => Ok(Some(OptionValue::Bool(false))),
            _ => Err(EINVAL),
        },
        OptionType::Binary => parse_binary(text).map(|b| Some(OptionValue::Binary(b))),
        OptionType::Unknown(_) => Err(EINVAL),
    }
}

/// `\hh` groups of exactly three characters each.
fn parse_binary(text: &str) -> Result<Vec<u8>, i32> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(3) {
        return Err(EINVAL);
    }
    bytes
        .chunks(3)
        .map(|g| {
            if g[0] != b'\\' {
                return Err(EINVAL);
            }
            let hex = std::str::from_utf8(&g[1..]).map_err(|_| EINVAL)?;
            let c = strtoul(hex, 16);
            if c.value == u64::MAX {
                // libteam leaves such a byte unset (garbage); we send 0.
                return if c.overflow { Err(ERANGE) } else { Ok(0) };
            }
            if !c.rest.is_empty() {
                return Err(EINVAL);
            }
            u8::try_from(c.value).map_err(|_| ERANGE)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_lines_match_libteam() {
        let mut o = OptionItem::new("enabled", OptionValue::Bool(true)).port(7);
        o.changed = true;
        let (s, t) = option_line(&o, |_| Some("eth1".into()));
        assert_eq!((s.as_str(), t), ("*enabled (port:eth1) true", false));
        let o = OptionItem::new("lb_tx_hash_to_port_mapping", OptionValue::U32(0)).index(255);
        assert_eq!(
            option_line(&o, |_| None).0,
            " lb_tx_hash_to_port_mapping (arridx:255) 0"
        );
        let o = OptionItem::new("priority", OptionValue::S32(-3)).port(9);
        assert_eq!(option_line(&o, |_| None).0, " priority (port:) -3");
    }

    #[test]
    fn long_lines_are_cut_at_119_characters() {
        let o = OptionItem::new("bpf_hash_func", OptionValue::Binary(vec![0xab; 60]));
        let (s, t) = option_line(&o, |_| None);
        assert!(t);
        assert_eq!(s.len(), 119);
        assert!(s.starts_with(" bpf_hash_func \\ab\\ab"));
        let o = OptionItem::new("bpf_hash_func", OptionValue::Binary(vec![1; 34]));
        // 15 + 34*3 = 117 characters: fits
        assert_eq!(
            option_line(&o, |_| None),
            (format!(" bpf_hash_func {}", "\\01".repeat(34)), false)
        );
    }

    #[test]
    fn port_lines_match_libteam() {
        let p = PortItem {
            ifindex: 4,
            linkup: true,
            speed: 10000,
            duplex: 1,
            ..Default::default()
        };
        assert_eq!(port_line(&p, Some("veth0")).0, " 4: veth0: up 10000Mbit FD");
        let p = PortItem {
            ifindex: 5,
            removed: true,
            ..Default::default()
        };
        assert_eq!(port_line(&p, None).0, "-5: (removed): down 0Mbit HD");
    }

    #[test]
    fn values_parse_like_libteam() {
        use OptionType::*;
        assert_eq!(parse_value(U32, "17"), Ok(Some(OptionValue::U32(17))));
        assert_eq!(parse_value(U32, "4294967296"), Err(ERANGE));
        assert_eq!(parse_value(U32, "12x"), Err(EINVAL));
        assert_eq!(parse_value(U32, "-1"), Ok(None));
        assert_eq!(parse_value(S32, "-5"), Ok(Some(OptionValue::S32(-5))));
        assert_eq!(parse_value(S32, "2147483648"), Err(ERANGE));
        assert_eq!(parse_value(Bool, "true"), Ok(Some(OptionValue::Bool(true))));
        assert_eq!(parse_value(Bool, "1"), Err(EINVAL));
        assert_eq!(
            parse_value(Binary, "\\06\\00\\ff"),
            Ok(Some(OptionValue::Binary(vec![6, 0, 255])))
        );
        assert_eq!(parse_value(Binary, "\\06\\0"), Err(EINVAL));
        assert_eq!(parse_value(Binary, "x06"), Err(EINVAL));
        assert_eq!(
            parse_value(Binary, ""),
            Ok(Some(OptionValue::Binary(vec![])))
        );
    }
}
