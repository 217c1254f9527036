//! C's `strtoul`/`strtol` as glibc does them, because teamnl's accepted inputs
//! (and its quirks: "-1" parses as ULONG_MAX, "" as 0) are part of its interface.

/// Result of a C integer conversion: the value, whether it overflowed (errno
/// ERANGE), and the unparsed rest (`endptr`).
#[derive(Debug, PartialEq, Eq)]
pub struct Conv<'a, T> {
    pub value: T,
    pub overflow: bool,
    pub rest: &'a str,
}

fn split_sign(s: &str) -> (bool, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if let Some(r) = t.strip_prefix('-') {
        (true, r)
    } else {
        (false, t.strip_prefix('+').unwrap_or(t))
    }
}

/// Digits of `s` in `radix`, allowing a "0x" prefix in base 16 when a hex digit follows.
fn digits(s: &str, radix: u32) -> (&str, &str) {
    let s = if radix == 16 {
        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(r) if r.starts_with(|c: char| c.is_ascii_hexdigit()) => r,
            _ => s,
        }
    } else {
        s
    };
    let end = s.find(|c: char| !c.is_digit(radix)).unwrap_or(s.len());
    s.split_at(end)
}

/// `strtoul(s, &end, radix)` on a 64-bit unsigned long.
pub fn strtoul(s: &str, radix: u32) -> Conv<'_, u64> {
    let (neg, body) = split_sign(s);
    let (ds, rest) = digits(body, radix);
    if ds.is_empty() {
        return Conv {
            value: 0,
            overflow: false,
            rest: s,
        };
    }
    let mut overflow = false;
    let mut v: u64 = 0;
    for c in ds.chars() {
        let d = u64::from(c.to_digit(radix).unwrap_or(0));
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(d))
        {
            Some(n) => v = n,
            None => overflow = true,
        }
    }
    let value = if overflow {
        u64::MAX
    } else if neg {
        v.wrapping_neg()
    } else {
        v
    };
    Conv {
        value,
        overflow,
        rest,
    }
}

/// `strtol(s, &end, 10)` on a 64-bit long.
pub fn strtol(s: &str) -> Conv<'_, i64> {
    let (neg, body) = split_sign(s);
    let (ds, rest) = digits(body, 10);
    if ds.is_empty() {
        return Conv {
            value: 0,
            overflow: false,
            rest: s,
        };
    }
    let mut v: i128 = 0;
    for c in ds.chars() {
        v = (v * 10 + i128::from(c.to_digit(10).unwrap_or(0))).min(i128::from(i64::MAX) + 2);
    }
    let v = if neg { -v } else { v };
    match i64::try_from(v) {
        Ok(value) => Conv {
            value,
            overflow: false,
            rest,
        },
        Err(_) => Conv {
            value: if neg { i64::MIN } else { i64::MAX },
            overflow: true,
            rest,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_like_glibc() {
        assert_eq!(
            strtoul("42", 10),
            Conv {
                value: 42,
                overflow: false,
                rest: ""
            }
        );
        assert_eq!(
            strtoul(" +7x", 10),
            Conv {
                value: 7,
                overflow: false,
                rest: "x"
            }
        );
        assert_eq!(strtoul("-1", 10).value, u64::MAX);
        assert!(!strtoul("-1", 10).overflow);
        assert_eq!(
            strtoul("", 10),
            Conv {
                value: 0,
                overflow: false,
                rest: ""
            }
        );
        assert_eq!(strtoul("abc", 10).rest, "abc");
        assert!(strtoul("99999999999999999999999", 10).overflow);
        assert_eq!(strtoul("ff", 16).value, 255);
        assert_eq!(strtoul("0x1f", 16).value, 31);
        assert_eq!(
            strtoul("0x", 16),
            Conv {
                value: 0,
                overflow: false,
                rest: "x"
            }
        );
    }

    #[test]
    fn strtol_like_glibc() {
        assert_eq!(strtol("-12").value, -12);
        assert_eq!(strtol("12a").rest, "a");
        let big = strtol("-99999999999999999999");
        assert!(big.overflow);
        assert_eq!(big.value, i64::MIN);
    }
}
