//! RHEL's `ifcfg-*` files (integration.md §1.13) → teams. The syntax is
//! that of NM's ifcfg-rh reader (`shvar.c`): one `NAME=value` a line (the
//! last one wins), `'…'` literal, `"…"` with `\"` `\\` `\$` `` \` ``
//! escapes (and no `$` or backquote unescaped), `$'…'` ANSI-C quoting,
//! parts joined, a `\` escape outside quotes, trailing blanks, one `;` and
//! a `#` comment after the value allowed; anything else (unquoted spaces,
//! `|&()<>`, line continuation) makes the value invalid.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use networkd_gen::diag::{Diags, Origin};

use crate::team::{
    check_config, netmask_prefix, normalize_mac, valid_ifname, Ipv4, Ipv4Method, Ipv6, Ipv6Method,
    Port, Team,
};

/// One file's variables: name → (raw value after `=`, line).
#[derive(Debug, Clone)]
pub struct Ifcfg {
    pub path: String,
    /// The part of the file name after `ifcfg-`.
    pub suffix: String,
    vars: BTreeMap<String, (String, usize)>,
}

/// GLib's `g_ascii_isspace` (Rust's ASCII whitespace lacks the vertical tab).
fn g_ascii_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_name(k: &str) -> bool {
    let mut c = k.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

impl Ifcfg {
    /// Splits the file into assignments as `line_new_parse()` does; other
    /// lines (comments, garbage) are ignored as NM ignores them.
    pub fn parse(path: &str, suffix: &str, text: &str) -> Ifcfg {
        let mut vars = BTreeMap::new();
        for (i, line) in text.split('\n').enumerate() {
            let l = line.trim_start_matches(|c: char| c.is_ascii() && g_ascii_isspace(c as u8));
            if let Some((k, v)) = l.split_once('=') {
                if is_name(k) {
                    vars.insert(k.to_string(), (v.to_string(), i + 1));
                }
            }
        }
        Ifcfg {
            path: path.to_string(),
            suffix: suffix.to_string(),
            vars,
        }
    }

    pub fn origin(&self, key: &str) -> Origin {
        let o = Origin::file(&self.path).with_key(key);
        match self.vars.get(key) {
            Some((_, line)) => o.at_line(*line),
            None => o,
        }
    }

    /// The unescaped value; an invalid one is an error naming file, line and key.
    pub fn get(&self, key: &str, diags: &mut Diags) -> Option<String> {
        let (raw, _) = self.vars.get(key)?;
        match unescape(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                diags.error(self.origin(key), format!("{e} in {raw}"));
                None
            }
        }
    }

    /// `svParseBoolean`; a value that is neither is an error.
    pub fn boolean(&self, key: &str, default: bool, diags: &mut Diags) -> bool {
        let Some(v) = self.get(key, diags) else {
            return default;
        };
        match v.to_ascii_lowercase().as_str() {
            "yes" | "true" | "t" | "y" | "1" => true,
            "no" | "false" | "f" | "n" | "0" => false,
            "" => default,
            _ => {
                diags.error(self.origin(key), format!("\"{v}\" is not yes or no"));
                default
            }
        }
    }
}

/// `svUnescape()`: the value after `NAME=`.
pub fn unescape(value: &str) -> Result<String, &'static str> {
    let b = value.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    let old_style = looks_like_old_svescaped(b);
    while i < b.len() {
        let c = b[i];
        if g_ascii_isspace(c) || c == b';' {
            // only blanks, one ';' and a comment may follow the value
            let mut semicolon = c == b';';
            let mut j = i + 1;
            while j < b.len() && (g_ascii_isspace(b[j]) || (!semicolon && b[j] == b';')) {
                semicolon |= b[j] == b';';
                j += 1;
            }
            if j < b.len() && b[j] != b'#' {
                return Err("unquoted blank or ';'");
            }
            break;
        }
        match c {
            b'\\' => {
                let n = *b.get(i + 1).ok_or("line continuation")?;
                out.push(n);
                i += 2;
            }
            b'\'' => {
                let end = b[i + 1..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .ok_or("unterminated single quote")?;
                out.extend_from_slice(&b[i + 1..i + 1 + end]);
                i += end + 2;
            }
            b'"' => {
                i += 1;
                loop {
                    let c = *b.get(i).ok_or("unterminated double quote")?;
                    i += 1;
                    match c {
                        b'"' => break,
                        b'`' | b'$' => return Err("shell expansion"),
                        b'\\' => {
                            let n = *b.get(i).ok_or("line continuation")?;
                            i += 1;
                            match n {
                                b'$' | b'`' | b'"' | b'\\' => {}
                                // old svEscape() wrote these escaped
                                b'\'' | b'~' if old_style => {}
                                _ => out.push(b'\\'),
                            }
                            out.push(n);
                        }
                        c => out.push(c),
                    }
                }
            }
            b'$' if b.get(i + 1) == Some(&b'\'') => i = ansi_c(b, i + 2, &mut out)?,
            b'|' | b'&' | b'(' | b')' | b'<' | b'>' => return Err("unquoted shell metacharacter"),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    // a C string ends at NUL
    if let Some(nul) = out.iter().position(|&x| x == 0) {
        out.truncate(nul);
    }
    String::from_utf8(out).map_err(|_| "not UTF-8")
}

/// `_looks_like_old_svescaped()`: `"…"` whose specials are all escaped.
fn looks_like_old_svescaped(b: &[u8]) -> bool {
    let special = |c: u8| matches!(c, b'"' | b'\\' | b'$' | b'`' | b'\'' | b'~');
    if b.first() != Some(&b'"') {
        return false;
    }
    let mut k = 1;
    while k < b.len() {
        let c = b[k];
        if special(c) {
            match c {
                b'"' => return k + 1 == b.len(),
                b'\\' => {
                    k += 1;
                    if !b.get(k).is_some_and(|&n| special(n)) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        k += 1;
    }
    false
}

/// `$'…'` from `i` (after the quote); returns the index after the closing quote.
fn ansi_c(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> Result<usize, &'static str> {
    let hex = |c: u8| (c as char).to_digit(16);
    loop {
        let c = *b.get(i).ok_or("unterminated $' quote")?;
        i += 1;
        if c == b'\'' {
            return Ok(i);
        }
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *b.get(i).ok_or("line continuation")?;
        i += 1;
        let simple = match e {
            b'a' => Some(7),
            b'b' => Some(8),
            b'e' | b'E' => Some(0x1b),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'?' | b'"' | b'\\' | b'\'' => Some(e),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
        } else if (b'0'..b'8').contains(&e) {
            let mut v = u32::from(e - b'0');
            for _ in 0..2 {
                match b.get(i) {
                    Some(&d) if (b'0'..b'8').contains(&d) => {
                        v = v * 8 + u32::from(d - b'0');
                        i += 1;
                    }
                    _ => break,
                }
            }
            // bash cuts large values off: $'\772' is 0xfa
            out.push(v as u8);
        } else if matches!(e, b'x' | b'u' | b'U') {
            let max = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let mut v: u32 = 0;
            let mut n = 0;
            while n < max {
                match b.get(i).and_then(|&d| hex(d)) {
                    Some(d) => {
                        v = v.wrapping_mul(16).wrapping_add(d);
                        i += 1;
                        n += 1;
                    }
                    None => break,
                }
            }
            if n == 0 {
                out.extend_from_slice(&[b'\\', e]);
            } else if e == b'x' {
                out.push(v as u8);
            } else {
                let ch = char::from_u32(v).ok_or("invalid \\u escape")?;
                let mut buf = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
    }
}

/// File names NM's ifcfg-rh plugin skips.
pub fn ignored_name(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        ".bak", ".orig", ".rej", "~", ".rpmnew", ".rpmsave", ".rpmorig", ".augnew", ".augtmp",
    ];
    name == "ifcfg-lo" || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Teams from a directory's ifcfg files (given as (file name, path, text)).
pub fn teams(files: &[(String, String, String)], diags: &mut Diags) -> Vec<Team> {
    let parsed: Vec<Ifcfg> = files
        .iter()
        .filter_map(|(name, path, text)| {
            let suffix = name.strip_prefix("ifcfg-")?;
            (!ignored_name(name)).then(|| Ifcfg::parse(path, suffix, text))
        })
        .collect();
    let kind = |f: &Ifcfg, d: &mut Diags| {
        f.get("DEVICETYPE", d)
            .or_else(|| f.get("TEAM_CONFIG", d).map(|_| "Team".into()))
            .unwrap_or_default()
    };
    let mut teams: Vec<(Option<String>, Team)> = Vec::new();
    for f in parsed
        .iter()
        .filter(|f| kind(f, &mut Diags::default()) == "Team")
    {
        if let Some(t) = team(f, diags) {
            teams.push((f.get("UUID", &mut Diags::default()), t));
        }
    }
    for f in parsed
        .iter()
        .filter(|f| kind(f, &mut Diags::default()) == "TeamPort")
    {
        let Some(port) = port(f, diags) else { continue };
        // TEAM_MASTER_UUID wins over TEAM_MASTER, as in NM
        let by_uuid = f.get("TEAM_MASTER_UUID", diags);
        let by_name = f.get("TEAM_MASTER", diags);
        let found = teams.iter_mut().find(|(uuid, t)| match &by_uuid {
            Some(u) => uuid.as_deref() == Some(u.as_str()),
            None => by_name.as_deref() == Some(t.device.as_str()),
        });
        match (found, &by_uuid, &by_name) {
            (Some((_, t)), _, _) => t.ports.push(port),
            (None, None, None) => diags.error(
                f.origin("TEAM_MASTER"),
                "DEVICETYPE=TeamPort needs TEAM_MASTER= or TEAM_MASTER_UUID=",
            ),
            (None, Some(u), _) => diags.error(
                f.origin("TEAM_MASTER_UUID"),
                format!("no ifcfg file of a team has UUID={u}"),
            ),
            (None, None, Some(m)) => diags.error(
                f.origin("TEAM_MASTER"),
                format!("no ifcfg file of a team has DEVICE={m}"),
            ),
        }
    }
    teams.into_iter().map(|(_, t)| t).collect()
}

fn team(f: &Ifcfg, diags: &mut Diags) -> Option<Team> {
    let device = f.get("DEVICE", diags);
    let Some(device) = device.filter(|d| valid_ifname(d)) else {
        diags.error(
            f.origin("DEVICE"),
            "a team needs DEVICE= with its interface name",
        );
        return None;
    };
    let config = f.get("TEAM_CONFIG", diags).unwrap_or_default();
    if let Err(e) = check_config(&config) {
        diags.error(f.origin("TEAM_CONFIG"), e);
        return None;
    }
    let mtu = match f.get("MTU", diags) {
        None => None,
        Some(m) => match m.parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                diags.error(f.origin("MTU"), format!("\"{m}\" is not a number"));
                return None;
            }
        },
    };
    Some(Team {
        origin: Origin::file(&f.path),
        id: f
            .get("NAME", diags)
            .unwrap_or_else(|| format!("System {}", f.suffix)),
        uuid: f.get("UUID", diags),
        config,
        config_origin: f.origin("TEAM_CONFIG"),
        autoconnect: f.boolean("ONBOOT", true, diags),
        mtu,
        ipv4: ipv4(f, diags)?,
        ipv6: ipv6(f, diags)?,
        ports: Vec::new(),
        device,
    })
}

fn port(f: &Ifcfg, diags: &mut Diags) -> Option<Port> {
    let name = f.get("DEVICE", diags);
    if let Some(n) = name.as_ref().filter(|n| !valid_ifname(n)) {
        diags.error(
            f.origin("DEVICE"),
            format!("\"{n}\" is not an interface name"),
        );
        return None;
    }
    let mac = match f.get("HWADDR", diags) {
        None => None,
        Some(m) => match normalize_mac(&m) {
            Some(m) => Some(m),
            None => {
                diags.error(f.origin("HWADDR"), format!("\"{m}\" is not a MAC address"));
                return None;
            }
        },
    };
    if name.is_none() && mac.is_none() {
        diags.error(f.origin("DEVICE"), "a team port needs DEVICE= or HWADDR=");
        return None;
    }
    let config = f.get("TEAM_PORT_CONFIG", diags).unwrap_or_default();
    if let Err(e) = check_config(&config) {
        diags.error(f.origin("TEAM_PORT_CONFIG"), e);
        return None;
    }
    Some(Port {
        origin: f.origin("TEAM_PORT_CONFIG"),
        id: f
            .get("NAME", diags)
            .unwrap_or_else(|| format!("System {}", f.suffix)),
        uuid: f.get("UUID", diags),
        name,
        mac,
        config,
        autoconnect: f.boolean("ONBOOT", true, diags),
    })
}

/// IPADDR/PREFIX/NETMASK and their numbered forms (IPADDR0, IPADDR1, …).
fn ipv4(f: &Ifcfg, diags: &mut Diags) -> Option<Ipv4> {
    let proto = f
        .get("BOOTPROTO", diags)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut v4 = Ipv4::new(Ipv4Method::Manual);
    let mut ok = true;
    for n in std::iter::once(String::new()).chain((0..256).map(|i| i.to_string())) {
        let Some(addr) = f.get(&format!("IPADDR{n}"), diags) else {
            continue;
        };
        let Ok(a) = addr.parse::<Ipv4Addr>() else {
            diags.error(
                f.origin(&format!("IPADDR{n}")),
                format!("\"{addr}\" is not an IPv4 address"),
            );
            ok = false;
            continue;
        };
        let prefix = match (
            f.get(&format!("PREFIX{n}"), diags),
            f.get(&format!("NETMASK{n}"), diags),
        ) {
            (Some(p), _) => p.parse::<u8>().ok().filter(|p| *p <= 32),
            (None, Some(m)) => netmask_prefix(&m),
            // NM's default for an address without prefix or netmask
            (None, None) => Some(24),
        };
        match prefix {
            Some(p) => v4.addresses.push((a, p)),
            None => {
                diags.error(f.origin(&format!("PREFIX{n}")), "invalid PREFIX or NETMASK");
                ok = false;
            }
        }
    }
    if let Some(g) = f.get("GATEWAY", diags) {
        match g.parse() {
            Ok(g) => v4.gateway = Some(g),
            Err(_) => {
                diags.error(
                    f.origin("GATEWAY"),
                    format!("\"{g}\" is not an IPv4 address"),
                );
                ok = false;
            }
        }
    }
    for i in 1..=10 {
        if let Some(d) = f.get(&format!("DNS{i}"), diags) {
            match d.parse::<Ipv4Addr>() {
                Ok(a) => v4.dns.push(a),
                // an IPv6 DNS server belongs to [ipv6]; ipv6() picks it up
                Err(_) if d.parse::<Ipv6Addr>().is_ok() => {}
                Err(_) => {
                    diags.error(
                        f.origin(&format!("DNS{i}")),
                        format!("\"{d}\" is not an IP address"),
                    );
                    ok = false;
                }
            }
        }
    }
    v4.never_default = !f.boolean("DEFROUTE", true, diags);
    v4.method = match proto.as_str() {
        "dhcp" | "bootp" => Ipv4Method::Auto,
        "" | "none" | "static" if v4.addresses.is_empty() => Ipv4Method::Disabled,
        "" | "none" | "static" => Ipv4Method::Manual,
        other => {
            diags.error(
                f.origin("BOOTPROTO"),
                format!("\"{other}\" is not converted; use dhcp, none or static"),
            );
            return None;
        }
    };
    ok.then_some(v4)
}

/// IPV6INIT, IPV6ADDR(/prefix), IPV6_AUTOCONF, DHCPV6C, IPV6_DEFAULTGW.
fn ipv6(f: &Ifcfg, diags: &mut Diags) -> Option<Ipv6> {
    if !f.boolean("IPV6INIT", false, diags) {
        return Some(Ipv6::new(Ipv6Method::Ignore));
    }
    let mut v6 = Ipv6::new(Ipv6Method::Auto);
    if let Some(a) = f.get("IPV6ADDR", diags) {
        let (addr, prefix) = a.split_once('/').unwrap_or((&a, "64"));
        match (addr.parse(), prefix.parse::<u8>()) {
            (Ok(addr), Ok(p)) if p <= 128 => v6.addresses.push((addr, p)),
            _ => {
                diags.error(
                    f.origin("IPV6ADDR"),
                    format!("\"{a}\" is not an IPv6 address[/prefix]"),
                );
                return None;
            }
        }
    }
    let autoconf = f.boolean("IPV6_AUTOCONF", v6.addresses.is_empty(), diags);
    v6.method = if autoconf {
        Ipv6Method::Auto
    } else if f.boolean("DHCPV6C", false, diags) {
        Ipv6Method::Dhcp
    } else {
        Ipv6Method::Manual
    };
    if let Some(g) = f.get("IPV6_DEFAULTGW", diags) {
        match g.split('%').next().unwrap_or_default().parse() {
            Ok(g) => v6.gateway = Some(g),
            Err(_) => {
                diags.error(
                    f.origin("IPV6_DEFAULTGW"),
                    format!("\"{g}\" is not an IPv6 address"),
                );
                return None;
            }
        }
    }
    for i in 1..=10 {
        if let Some(a) = f
            .get(&format!("DNS{i}"), diags)
            .and_then(|d| d.parse().ok())
        {
            v6.dns.push(a);
        }
    }
    Some(v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shvar_quoting() {
        assert_eq!(unescape("abc").as_deref(), Ok("abc"));
        assert_eq!(
            unescape(r#"'{"runner": {"name": "lacp"}}'"#).as_deref(),
            Ok(r#"{"runner": {"name": "lacp"}}"#)
        );
        assert_eq!(
            unescape(r#""{\"prio\": 100, \"x\": \"\$a\\b\"}""#).as_deref(),
            Ok(r#"{"prio": 100, "x": "$a\b"}"#)
        );
        assert_eq!(unescape(r#""a\nb""#).as_deref(), Ok(r"a\nb"));
        assert_eq!(unescape(r#"'a'"b"c\ d"#).as_deref(), Ok("abc d"));
        assert_eq!(
            unescape(r"$'a\tb\x41\101\u00e9\''").as_deref(),
            Ok("a\tbAAé'")
        );
        assert_eq!(unescape("yes  # comment").as_deref(), Ok("yes"));
        assert_eq!(unescape("a; # c").as_deref(), Ok("a"));
        assert_eq!(unescape("a\x0b").as_deref(), Ok("a"));
        assert_eq!(unescape("").as_deref(), Ok(""));
        assert_eq!(unescape(" # only a comment").as_deref(), Ok(""));
        // old svEscape() output keeps \' and \~ readable
        assert_eq!(unescape(r#""it\'s""#).as_deref(), Ok("it's"));
        assert_eq!(unescape(r#""it\'s" "#).as_deref(), Ok(r"it\'s"));
        for bad in [
            "a b",
            "'open",
            "\"open",
            "\"$HOME\"",
            "a|b",
            "x\\",
            "a;;",
            "\"`x`\"",
        ] {
            assert!(unescape(bad).is_err(), "{bad}");
        }
    }

    /// Every value NM reads is read the same by bash, which ifup sourced
    /// them with (the old-svEscape compat case aside).
    #[test]
    fn values_read_as_bash_reads_them() {
        let values = [
            "abc",
            r#"'{"runner": {"name": "lacp"}}'"#,
            r#""{\"prio\": 100, \"x\": \"\$a\\b\"}""#,
            r#""a\nb""#,
            r#"'a'"b"c\ d"#,
            r"$'a\tb\x41\101\u00e9\''",
            "yes  # comment",
            "a; # c",
            r#""it\'s" "#,
            r"a\$b\'c",
        ];
        for v in values {
            let ours = unescape(v).expect("valid");
            let out = std::process::Command::new("bash")
                .args(["-c", &format!("X={v}\nprintf %s \"$X\"")])
                .output()
                .expect("bash runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), ours, "{v}");
        }
    }

    fn dir(files: &[(&str, &str)]) -> Vec<(String, String, String)> {
        files
            .iter()
            .map(|(n, t)| {
                (
                    n.to_string(),
                    format!("/etc/sysconfig/network-scripts/{n}"),
                    t.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn libteam_example_files() {
        let files = dir(&[
            (
                "ifcfg-team_test0",
                "DEVICE=team_test0\nDEVICETYPE=Team\nTEAM_CONFIG='{\"runner\": {\"name\": \"roundrobin\"}}'\n\
                 BOOTPROTO=none\nIPADDR=192.168.23.2\nPREFIX=24\nGATEWAY=192.168.23.1\nMTU=9000\nONBOOT=yes\n",
            ),
            ("ifcfg-eth1", "DEVICE=eth1\nHWADDR=52:54:00:00:00:01\nDEVICETYPE=TeamPort\nTEAM_MASTER=team_test0\n"),
            (
                "ifcfg-eth2",
                "# port\nDEVICE=eth2\nDEVICETYPE=TeamPort\nTEAM_MASTER=team_test0\nTEAM_PORT_CONFIG='{\"prio\": 100}'\nONBOOT=no\n",
            ),
            ("ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\n"),
            ("ifcfg-eth2.bak", "DEVICE=eth2\nDEVICETYPE=TeamPort\nTEAM_MASTER=nope\n"),
        ]);
        let mut d = Diags::default();
        let t = teams(&files, &mut d);
        assert!(d.0.is_empty(), "{:?}", d);
        assert_eq!(t.len(), 1);
        let t = &t[0];
        assert_eq!(
            (t.device.as_str(), t.id.as_str()),
            ("team_test0", "System team_test0")
        );
        assert_eq!(t.config, r#"{"runner": {"name": "roundrobin"}}"#);
        assert_eq!(t.ipv4.method, Ipv4Method::Manual);
        assert_eq!(
            t.ipv4.addresses,
            [("192.168.23.2".parse().expect("ip"), 24)]
        );
        assert_eq!(t.mtu, Some(9000));
        assert_eq!(t.ipv6.method, Ipv6Method::Ignore);
        let ports: Vec<(&str, &str, bool)> = t
            .ports
            .iter()
            .map(|p| (p.label(), p.config.as_str(), p.autoconnect))
            .collect();
        assert_eq!(
            ports,
            [("eth1", "", true), ("eth2", r#"{"prio": 100}"#, false)]
        );
        assert_eq!(t.ports[0].mac.as_deref(), Some("52:54:00:00:00:01"));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let files = dir(&[
            ("ifcfg-t0", "DEVICE=t0\nUUID=u-1\nDEVICETYPE=Team\nTEAM_CONFIG={\"runner\": 1}\n"),
            ("ifcfg-t1", "DEVICE=t1\nUUID=u-2\nTEAM_CONFIG='{\"runner\": {}}'\nBOOTPROTO=static\nIPADDR=10.0.0.300\n"),
            ("ifcfg-p1", "DEVICE=p1\nDEVICETYPE=TeamPort\nTEAM_MASTER=t0\nTEAM_MASTER_UUID=u-9\n"),
        ]);
        let mut d = Diags::default();
        teams(&files, &mut d);
        let msgs: Vec<String> = d.0.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "/etc/sysconfig/network-scripts/ifcfg-t0:4: \"TEAM_CONFIG\": unquoted blank or ';' in {\"runner\": 1}",
                "/etc/sysconfig/network-scripts/ifcfg-t1:5: \"IPADDR\": \"10.0.0.300\" is not an IPv4 address",
                "/etc/sysconfig/network-scripts/ifcfg-p1:4: \"TEAM_MASTER_UUID\": no ifcfg file of a team has UUID=u-9",
            ]
        );
    }
}
