//! Value syntaxes of systemd's files (booleans, time spans) and the checks
//! for interface and unit names. A small parser for time spans rather than a
//! crate: humantime, the usual one, refuses a bare number, which systemd
//! reads as seconds, and knows other unit spellings.

/// systemd's `parse_boolean()`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

const USEC_PER_SEC: f64 = 1_000_000.0;

/// (unit, microseconds), longest spelling first where one is a prefix of
/// another ("ms" before "m", "min" before "m", "months" before "month").
const UNITS: &[(&str, f64)] = &[
    ("seconds", USEC_PER_SEC),
    ("second", USEC_PER_SEC),
    ("sec", USEC_PER_SEC),
    ("s", USEC_PER_SEC),
    ("minutes", 60.0 * USEC_PER_SEC),
    ("minute", 60.0 * USEC_PER_SEC),
    ("min", 60.0 * USEC_PER_SEC),
    ("months", 2_629_800.0 * USEC_PER_SEC),
    ("month", 2_629_800.0 * USEC_PER_SEC),
    ("M", 2_629_800.0 * USEC_PER_SEC),
    ("msec", 1000.0),
    ("ms", 1000.0),
    ("m", 60.0 * USEC_PER_SEC),
    ("hours", 3600.0 * USEC_PER_SEC),
    ("hour", 3600.0 * USEC_PER_SEC),
    ("hr", 3600.0 * USEC_PER_SEC),
    ("h", 3600.0 * USEC_PER_SEC),
    ("days", 86400.0 * USEC_PER_SEC),
    ("day", 86400.0 * USEC_PER_SEC),
    ("d", 86400.0 * USEC_PER_SEC),
    ("weeks", 604_800.0 * USEC_PER_SEC),
    ("week", 604_800.0 * USEC_PER_SEC),
    ("w", 604_800.0 * USEC_PER_SEC),
    ("years", 31_557_600.0 * USEC_PER_SEC),
    ("year", 31_557_600.0 * USEC_PER_SEC),
    ("y", 31_557_600.0 * USEC_PER_SEC),
    ("usec", 1.0),
    ("us", 1.0),
    ("µs", 1.0),
    ("μs", 1.0),
];

/// A time span in systemd's syntax ("2s", "1min 30s", "1.5s", "250 ms"; a
/// bare number is seconds) in microseconds.
pub fn parse_timespan_us(v: &str) -> Result<u64, String> {
    let bad = || format!("invalid time span \"{v}\" (examples: 500ms, 2s, 1min 30s)");
    let mut rest = v.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num.starts_with('.') && num.len() == 1 {
            return Err(bad());
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| c.is_whitespace() || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let mult = if unit.is_empty() {
            USEC_PER_SEC
        } else {
            UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, m)| *m)
                .ok_or_else(bad)?
        };
        total += n * mult;
        rest = rest[unit_len..].trim_start();
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(total.round() as u64)
}

/// A time span for a teamd millisecond key: whole milliseconds that fit a C
/// int, as teamd reads it.
pub fn parse_ms(v: &str) -> Result<i64, String> {
    let us = parse_timespan_us(v)?;
    if us % 1000 != 0 {
        return Err(format!(
            "\"{v}\" is not a whole number of milliseconds, teamd's unit"
        ));
    }
    let ms = us / 1000;
    if ms > i32::MAX as u64 {
        return Err(format!("\"{v}\" is too long (at most {}ms)", i32::MAX));
    }
    Ok(ms as i64)
}

/// An integer in `min..=max`.
pub fn parse_int(v: &str, min: i64, max: i64) -> Result<i64, String> {
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "\"{v}\" is not an integer in the range {min}…{max}"
        )),
    }
}

/// The kernel's `dev_valid_name()`: 1–15 bytes, not "." or "..", no '/',
/// ':' or whitespace.
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
}

/// An interface name that is also safe as a `[Match] Name=` value: no glob
/// characters, no leading '!' (networkd would read a pattern).
pub fn plain_ifname(name: &str) -> bool {
    valid_ifname(name) && !name.starts_with('!') && !name.contains(['*', '?', '[', ']'])
}

/// Whether `teamd@NAME.service` gives teamd the name back unchanged: the
/// unit uses `%i`, the instance as written, so it must need no escaping.
pub fn instance_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-'))
}

/// The device unit systemd makes for a network interface
/// (`sys-subsystem-net-devices-NAME.device`, udev's SYSTEMD_ALIAS), with the
/// name escaped as `systemd-escape --path` does.
pub fn net_device_unit(ifname: &str) -> String {
    let mut out = String::from("sys-subsystem-net-devices-");
    // a leading '.' is escaped only at the start of the whole name, which
    // here is "sys"
    for b in ifname.bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push_str(".device");
    out
}

/// A MAC address as networkd's MACAddress= takes it (`xx:xx:xx:xx:xx:xx`,
/// `xx-xx-…`, or `xxxx.xxxx.xxxx`), in teamd's colon form.
pub fn parse_mac(v: &str) -> Option<String> {
    let bytes: Vec<u8> = if v.contains('.') {
        let groups: Vec<&str> = v.split('.').collect();
        if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
            return None;
        }
        let mut out = Vec::new();
        for g in groups {
            let n = u16::from_str_radix(g, 16).ok()?;
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    } else {
        let sep = if v.contains('-') { '-' } else { ':' };
        let parts: Vec<&str> = v.split(sep).collect();
        if parts.len() != 6 || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
            return None;
        }
        parts
            .iter()
            .map(|p| u8::from_str_radix(p, 16).ok())
            .collect::<Option<Vec<u8>>>()?
    };
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// A DNS name as teamd's getaddrinfo() would take it (letters, digits, '-',
/// '.'), for link watch targets that are not literal addresses.
pub fn valid_hostname(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for t in ["1", "yes", "Y", "true", "t", "ON"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "no", "n", "False", "f", "off"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_bool(""), None);
    }

    #[test]
    fn time_spans() {
        // the examples of systemd.time(7) and systemd.syntax(7)
        assert_eq!(parse_ms("50").unwrap(), 50_000);
        assert_eq!(parse_ms("2min 200ms").unwrap(), 120_200);
        assert_eq!(parse_ms("100ms").unwrap(), 100);
        assert_eq!(parse_ms("2s").unwrap(), 2000);
        assert_eq!(parse_ms("1.5s").unwrap(), 1500);
        assert_eq!(parse_ms("1min30s").unwrap(), 90_000);
        assert_eq!(parse_ms("250 ms").unwrap(), 250);
        assert_eq!(parse_ms("2h").unwrap(), 7_200_000);
        assert_eq!(parse_ms("1m").unwrap(), 60_000);
        assert_eq!(parse_ms("0").unwrap(), 0);
        assert_eq!(parse_timespan_us("3us").unwrap(), 3);
        assert_eq!(parse_timespan_us("1 µs").unwrap(), 1);
        for bad in ["", "ms", "5 parsecs", "1.2.3s", "-1s", "."] {
            assert!(parse_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_ms("1500us").unwrap_err(),
            "\"1500us\" is not a whole number of milliseconds, teamd's unit"
        );
        assert!(parse_ms("1y").is_err(), "beyond a C int of milliseconds");
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("7", 0, 10), Ok(7));
        assert!(parse_int("11", 0, 10).is_err());
        assert!(parse_int("x", 0, 10).is_err());
        assert!(parse_int("-1", 0, 10).is_err());
    }

    #[test]
    fn interface_and_unit_names() {
        assert!(valid_ifname("team0"));
        assert!(valid_ifname("eth1.100"));
        assert!(!valid_ifname("averyveryverylong"));
        assert!(!valid_ifname("a/b"));
        assert!(!valid_ifname("a:b"));
        assert!(!valid_ifname(".."));
        assert!(!valid_ifname(""));
        assert!(plain_ifname("eth1.100"));
        assert!(!plain_ifname("eth*"));
        assert!(!plain_ifname("!eth0"));
        assert!(instance_safe("team-0"));
        assert!(instance_safe("t.1:x_y"));
        assert!(!instance_safe("team@0"));
        assert!(!instance_safe("tëam"));
        assert_eq!(
            net_device_unit("eth1"),
            "sys-subsystem-net-devices-eth1.device"
        );
        // what `systemd-escape --path /sys/subsystem/net/devices/en-p1.2` gives
        assert_eq!(
            net_device_unit("en-p1.2"),
            "sys-subsystem-net-devices-en\\x2dp1.2.device"
        );
        assert_eq!(net_device_unit(".x"), "sys-subsystem-net-devices-.x.device");
    }

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("02:00:00:00:00:0A").as_deref(),
            Some("02:00:00:00:00:0a")
        );
        assert_eq!(
            parse_mac("02-00-00-00-00-0a").as_deref(),
            Some("02:00:00:00:00:0a")
        );
        assert_eq!(
            parse_mac("0200.0000.000a").as_deref(),
            Some("02:00:00:00:00:0a")
        );
        assert_eq!(parse_mac("02:00:00:00:00"), None);
        assert_eq!(parse_mac("02:00:00:00:00:0g"), None);
    }

    #[test]
    fn hostnames() {
        assert!(valid_hostname("gw.example"));
        assert!(!valid_hostname("-x"));
        assert!(!valid_hostname("a..b"));
        assert!(!valid_hostname("a_b"));
    }
}
