//! The `network` command's options, parsed as pykickstart's F39/RHEL9
//! handler does with argparse: `--opt=value` or `--opt value`, unique
//! prefixes accepted (`--dev=team0`), a repeated option overrides, flags
//! refuse `=value`, and anything else is "unrecognized arguments".

/// How argparse treats one option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Value,
    /// store_true
    Flag,
    /// `--no-activate`: store_false into `activate`
    NoActivate,
}

/// Every option of the F39 (= RHEL9) `network` command.
const OPTIONS: &[(&str, Kind)] = &[
    ("--bootproto", Kind::Value),
    ("--dhcpclass", Kind::Value),
    ("--device", Kind::Value),
    ("--essid", Kind::Value),
    ("--ethtool", Kind::Value),
    ("--gateway", Kind::Value),
    ("--hostname", Kind::Value),
    ("--ip", Kind::Value),
    ("--mtu", Kind::Value),
    ("--nameserver", Kind::Value),
    ("--netmask", Kind::Value),
    ("--nodns", Kind::Flag),
    ("--onboot", Kind::Value),
    ("--wepkey", Kind::Value),
    ("--notksdevice", Kind::Flag),
    ("--noipv4", Kind::Flag),
    ("--noipv6", Kind::Flag),
    ("--ipv6", Kind::Value),
    ("--activate", Kind::Flag),
    ("--nodefroute", Kind::Flag),
    ("--wpakey", Kind::Value),
    ("--bondslaves", Kind::Value),
    ("--bondopts", Kind::Value),
    ("--vlanid", Kind::Value),
    ("--ipv6gateway", Kind::Value),
    ("--teamslaves", Kind::Value),
    ("--teamconfig", Kind::Value),
    ("--interfacename", Kind::Value),
    ("--bridgeslaves", Kind::Value),
    ("--bridgeopts", Kind::Value),
    ("--no-activate", Kind::NoActivate),
    ("--bindto", Kind::Value),
    ("--ipv4-dns-search", Kind::Value),
    ("--ipv6-dns-search", Kind::Value),
    ("--ipv4-ignore-auto-dns", Kind::Flag),
    ("--ipv6-ignore-auto-dns", Kind::Flag),
];

const BOOTPROTOS: &[&str] = &["dhcp", "bootp", "static", "query", "ibft"];

/// One `network` line as pykickstart's NetworkData holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Options given, by full name, with their last value ("" for flags).
    pub given: Vec<(String, String)>,
    pub device: String,
    /// "dhcp" unless given; "" with `--noipv4` (F24).
    pub bootproto: String,
    pub onboot: bool,
    pub activate: Option<bool>,
    pub noipv4: bool,
    pub noipv6: bool,
    pub nodefroute: bool,
    /// None without `--teamslaves`.
    pub teamslaves: Option<Vec<(String, String)>>,
    pub teamconfig: String,
}

impl Network {
    /// The last value of an option given as a value option.
    pub fn value(&self, option: &str) -> Option<&str> {
        self.given
            .iter()
            .rev()
            .find(|(k, _)| k == option)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, option: &str) -> bool {
        self.given.iter().any(|(k, _)| k == option)
    }
}

/// pykickstart's `ksboolean`.
fn ksboolean(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "on" | "yes" | "true" | "1" => Some(true),
        "off" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// `--teamslaves`' value: `DEV1['JSON1'],DEV2['JSON2'],…` → (dev, json)
/// pairs, exactly as F20_Network._teamslaves_cb splits it (on `'`).
pub fn teamslaves(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if value.is_empty() {
        return out;
    }
    let mut parts: Vec<&str> = value.split('\'').collect();
    if parts.len() % 2 == 1 {
        if parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        } else {
            parts.push("");
        }
    }
    for pair in parts.chunks(2) {
        let devs: Vec<&str> = pair[0].trim_matches(',').split(',').collect();
        let cfg = pair.get(1).copied().unwrap_or_default();
        if let Some((last, first)) = devs.split_last() {
            out.extend(first.iter().map(|d| (d.to_string(), String::new())));
            out.push((last.to_string(), cfg.to_string()));
        }
    }
    out
}

/// argparse's reading of one argument: an option (with its `=value`), or a
/// plain argument.
enum Arg<'a> {
    Option(&'static str, Kind, Option<&'a str>),
    Unknown(&'a str),
    Plain(&'a str),
}

fn is_negative_number(a: &str) -> bool {
    let Some(rest) = a.strip_prefix('-') else {
        return false;
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    (!rest.is_empty() && digits(rest))
        || rest
            .split_once('.')
            .is_some_and(|(a, b)| digits(a) && !b.is_empty() && digits(b))
}

/// argparse's `_parse_optional` for an option table of long options only.
fn classify(a: &str) -> Result<Arg<'_>, String> {
    if !a.starts_with('-') || a == "-" {
        return Ok(Arg::Plain(a));
    }
    if let Some(&(name, kind)) = OPTIONS.iter().find(|(n, _)| *n == a) {
        return Ok(Arg::Option(name, kind, None));
    }
    let (prefix, explicit) = match a.split_once('=') {
        Some((p, v)) => (p, Some(v)),
        None => (a, None),
    };
    if let Some(&(name, kind)) = OPTIONS.iter().find(|(n, _)| *n == prefix) {
        return Ok(Arg::Option(name, kind, explicit));
    }
    if a.starts_with("--") {
        let matches: Vec<&(&str, Kind)> = OPTIONS
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .collect();
        match matches.as_slice() {
            [(name, kind)] => return Ok(Arg::Option(name, *kind, explicit)),
            [] => {}
            many => {
                let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "ambiguous option: {a} could match {}",
                    names.join(", ")
                ));
            }
        }
    }
    if is_negative_number(a) || a.contains(' ') {
        return Ok(Arg::Plain(a));
    }
    Ok(Arg::Unknown(a))
}

/// Parses the arguments after `network`; the error is argparse's message.
pub fn parse(args: &[String]) -> Result<Network, String> {
    let mut n = Network {
        given: Vec::new(),
        device: String::new(),
        bootproto: "dhcp".into(),
        onboot: true,
        activate: None,
        noipv4: false,
        noipv6: false,
        nodefroute: false,
        teamslaves: None,
        teamconfig: String::new(),
    };
    let classified: Vec<Arg> = args.iter().map(|a| classify(a)).collect::<Result<_, _>>()?;
    let mut extras: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < classified.len() {
        match &classified[i] {
            Arg::Plain(a) | Arg::Unknown(a) => extras.push(a),
            Arg::Option(name, kind, explicit) => {
                let value = match (kind, explicit) {
                    (Kind::Value, Some(v)) => v.to_string(),
                    (Kind::Value, None) => match classified.get(i + 1) {
                        Some(Arg::Plain(v)) => {
                            i += 1;
                            v.to_string()
                        }
                        _ => return Err(format!("argument {name}: expected one argument")),
                    },
                    (_, Some(v)) => {
                        return Err(format!("argument {name}: ignored explicit argument '{v}'"))
                    }
                    (_, None) => String::new(),
                };
                apply(&mut n, name, *kind, &value)?;
                n.given.retain(|(k, _)| k != name);
                n.given.push((name.to_string(), value));
            }
        }
        i += 1;
    }
    if !extras.is_empty() {
        return Err(format!("unrecognized arguments: {}", extras.join(" ")));
    }
    // F24: --noipv4 clears the boot protocol
    if n.noipv4 {
        n.bootproto = String::new();
    }
    if n.value("--bindto") == Some("mac") && n.has("--vlanid") && !n.has("--bondopts") {
        return Err("--bindto=mac is not supported for this type of device".into());
    }
    if n.device.is_empty() {
        for o in [
            "--ipv4-dns-search",
            "--ipv6-dns-search",
            "--ipv4-ignore-auto-dns",
            "--ipv6-ignore-auto-dns",
        ] {
            if n.value(o).is_some_and(|v| !v.is_empty()) || (n.has(o) && o.ends_with("dns")) {
                return Err(format!("Option {o} requires --device to be specified"));
            }
        }
    }
    Ok(n)
}

fn apply(n: &mut Network, name: &str, kind: Kind, value: &str) -> Result<(), String> {
    match (name, kind) {
        ("--bootproto", _) => {
            if !BOOTPROTOS.contains(&value) {
                let choices: Vec<String> = BOOTPROTOS.iter().map(|b| format!("'{b}'")).collect();
                return Err(format!(
                    "argument --bootproto: invalid choice: '{value}' (choose from {})",
                    choices.join(", ")
                ));
            }
            n.bootproto = value.to_string();
        }
        ("--bindto", _) if value != "mac" => {
            return Err(format!(
                "argument --bindto: invalid choice: '{value}' (choose from 'mac')"
            ))
        }
        ("--onboot", _) => {
            n.onboot = ksboolean(value)
                .ok_or_else(|| format!("argument --onboot: invalid boolean value: '{value}'"))?
        }
        ("--device", _) => n.device = value.to_string(),
        ("--teamslaves", _) => n.teamslaves = Some(teamslaves(value)),
        ("--teamconfig", _) => n.teamconfig = value.to_string(),
        ("--activate", _) => n.activate = Some(true),
        (_, Kind::NoActivate) => n.activate = Some(false),
        ("--noipv4", _) => n.noipv4 = true,
        ("--noipv6", _) => n.noipv6 = true,
        ("--nodefroute", _) => n.nodefroute = true,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ks_lex::shlex_split;

    fn line(l: &str) -> Result<Network, String> {
        let args = shlex_split(l, true).expect("lexes");
        assert_eq!(args[0], "network");
        parse(&args[1..])
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn teamslaves_split_on_single_quotes() {
        assert_eq!(
            teamslaves(r#"eth1,eth2'{"prio": 100}',eth3"#),
            pairs(&[("eth1", ""), ("eth2", r#"{"prio": 100}"#), ("eth3", "")])
        );
        assert_eq!(
            teamslaves(r#"p3p1'{"prio": -10, "sticky": true}',p3p2'{"prio": 100}'"#),
            pairs(&[
                ("p3p1", r#"{"prio": -10, "sticky": true}"#),
                ("p3p2", r#"{"prio": 100}"#)
            ])
        );
        assert_eq!(
            teamslaves("p3p1,p3p2"),
            pairs(&[("p3p1", ""), ("p3p2", "")])
        );
        assert_eq!(teamslaves(""), pairs(&[]));
        assert_eq!(teamslaves("a,,b"), pairs(&[("a", ""), ("", ""), ("b", "")]));
        assert_eq!(teamslaves("'{}'"), pairs(&[("", "{}")]));
        assert_eq!(teamslaves(" a , b"), pairs(&[(" a ", ""), (" b", "")]));
    }

    #[test]
    fn spec_examples() {
        let n = line(r#"network --device=team0 --bootproto=static --ip=10.34.102.222 --netmask=255.255.255.0 --gateway=10.34.102.254 --nameserver=10.34.39.2 --activate --teamslaves="p3p1'{\"prio\": -10, \"sticky\": true}',p3p2'{\"prio\": 100}'" --teamconfig="{\"runner\": {\"name\": \"activebackup\"}}""#).expect("parses");
        assert_eq!(n.device, "team0");
        assert_eq!(n.bootproto, "static");
        assert_eq!(n.value("--ip"), Some("10.34.102.222"));
        assert_eq!(n.activate, Some(true));
        assert_eq!(n.teamconfig, r#"{"runner": {"name": "activebackup"}}"#);
        assert_eq!(n.teamslaves.as_ref().map(Vec::len), Some(2));
        let n = line(r#"network --bootproto=dhcp --device team0 --teamslaves="p3p1,p3p2" --teamconfig '{"runner": {"name": "roundrobin"}}'"#).expect("parses");
        assert_eq!(n.teamconfig, r#"{"runner": {"name": "roundrobin"}}"#);
        assert!(n.onboot);
    }

    #[test]
    fn argparse_rules() {
        assert_eq!(line("network --dev=t0").expect("prefix").device, "t0");
        assert!(line("network --ipv=x")
            .expect_err("ambiguous")
            .starts_with("ambiguous option: --ipv=x could match --ipv6, --ipv6gateway"));
        assert_eq!(
            line("network --device=a --device=b").expect("ok").device,
            "b"
        );
        assert_eq!(
            line("network --activate=yes").expect_err("flag"),
            "argument --activate: ignored explicit argument 'yes'"
        );
        assert_eq!(
            line("network --device").expect_err("no value"),
            "argument --device: expected one argument"
        );
        assert_eq!(
            line("network --device --activate").expect_err("option as value"),
            "argument --device: expected one argument"
        );
        assert_eq!(
            line("network --mtu -1")
                .expect("negative number")
                .value("--mtu"),
            Some("-1")
        );
        assert_eq!(
            line("network --bogus x").expect_err("unknown"),
            "unrecognized arguments: --bogus x"
        );
        assert!(line("network --bootproto=foo").is_err());
        assert!(!line("network --onboot=Off").expect("ok").onboot);
        assert!(line("network --onboot=maybe").is_err());
        assert_eq!(
            line("network --activate --no-activate")
                .expect("ok")
                .activate,
            Some(false)
        );
        assert_eq!(
            line("network --noipv4 --bootproto=static")
                .expect("ok")
                .bootproto,
            ""
        );
        assert!(line("network --ipv4-ignore-auto-dns").is_err());
    }
}
