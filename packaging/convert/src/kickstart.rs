//! A kickstart file → the teams its `network --teamslaves` lines make, as
//! anaconda would create them (`create_connections_from_ksdata`): team
//! profile id and interface name = `--device`, `team.config` = the
//! `--teamconfig` text verbatim, ports `<team>_slave_<N>`, autoconnect =
//! `--onboot`, IPv4 static → manual else auto, IPv6 auto/dhcp/address.

use std::net::{Ipv4Addr, Ipv6Addr};

use networkd_gen::diag::{Diags, Origin};

use crate::ks_lex::{is_blank_or_comment, shlex_split, split_lines};
use crate::ks_network::{self, Network};
use crate::team::{
    check_config, netmask_prefix, normalize_mac, valid_ifname, Ipv4, Ipv4Method, Ipv6, Ipv6Method,
    Port, Team,
};

/// pykickstart's sections (anything else starting with `%` is an error there).
const SECTIONS: &[&str] = &[
    "%pre",
    "%pre-install",
    "%post",
    "%onerror",
    "%traceback",
    "%packages",
    "%certificate",
    "%addon",
    "%anaconda",
];

/// Every `network` line of the command section, with its line number.
pub fn network_lines(text: &str, file: &str, diags: &mut Diags) -> Vec<(usize, Network)> {
    let mut out = Vec::new();
    let mut section: Option<(String, usize)> = None;
    for (i, line) in split_lines(text).into_iter().enumerate() {
        let lineno = i + 1;
        let origin = || Origin::file(file).at_line(lineno);
        if is_blank_or_comment(line) {
            continue;
        }
        if let Some((name, _)) = &section {
            let trimmed = line.trim_start();
            if trimmed.starts_with('%') {
                let first = trimmed.split_whitespace().next().unwrap_or_default();
                if first == "%end" {
                    section = None;
                } else if SECTIONS.contains(&first) {
                    diags.error(origin(), format!("Section {name} does not end with %end."));
                    return out;
                }
            }
            continue;
        }
        let args = match shlex_split(line, true) {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => continue,
            Err(e) => {
                diags.error(origin(), e.to_string());
                continue;
            }
        };
        match args[0].as_str() {
            "%include" => diags.warning(
                origin(),
                format!(
                    "%include {} is not followed; convert that file separately",
                    args.get(1).map(String::as_str).unwrap_or_default()
                ),
            ),
            "%ksappend" => {}
            s if s.starts_with('%') => {
                if !SECTIONS.contains(&s) {
                    diags.error(origin(), format!("Unknown kickstart section: {s}"));
                }
                section = Some((s.to_string(), lineno));
            }
            "network" => match ks_network::parse(&args[1..]) {
                Ok(n) => out.push((lineno, n)),
                Err(e) => diags.error(origin().with_key("network"), e),
            },
            _ => {}
        }
    }
    if let Some((name, line)) = section {
        diags.error(
            Origin::file(file).at_line(line),
            format!("Section {name} does not end with %end."),
        );
    }
    out
}

/// Options anaconda uses that a converted profile cannot carry.
const NOT_CONVERTED: &[&str] = &[
    "--hostname",
    "--ethtool",
    "--dhcpclass",
    "--ipv4-dns-search",
    "--ipv6-dns-search",
    "--ipv4-ignore-auto-dns",
    "--ipv6-ignore-auto-dns",
    "--nodns",
    "--essid",
    "--wepkey",
    "--wpakey",
];

/// The teams of a kickstart file; lines without `--teamslaves` are not ours.
pub fn teams(text: &str, file: &str, diags: &mut Diags) -> Vec<Team> {
    let mut out = Vec::new();
    for (lineno, n) in network_lines(text, file, diags) {
        if n.teamslaves.as_ref().is_none_or(|s| s.is_empty()) {
            continue;
        }
        if let Some(t) = team(&n, Origin::file(file).at_line(lineno), diags) {
            out.push(t);
        }
    }
    out
}

fn team(n: &Network, at: Origin, diags: &mut Diags) -> Option<Team> {
    let key = |k: &str| at.clone().with_key(k);
    let before = diags.0.len();
    let err = |diags: &mut Diags, k: &str, msg: String| diags.error(key(k), msg);
    if n.device.is_empty() {
        err(diags, "--device", "a team needs --device=NAME".into());
    } else if !valid_ifname(&n.device) {
        err(
            diags,
            "--device",
            format!(
                "\"{}\" is not an interface name; a team's --device must name it",
                n.device
            ),
        );
    }
    for k in ["--vlanid", "--bondslaves", "--bridgeslaves"] {
        if n.has(k) {
            err(
                diags,
                k,
                "is not converted together with --teamslaves".into(),
            );
        }
    }
    for k in NOT_CONVERTED {
        if n.has(k) {
            diags.warning(key(k), "not converted; set it on the installed system");
        }
    }
    if let Err(e) = check_config(&n.teamconfig) {
        err(diags, "--teamconfig", e);
    }
    let bind_mac = n.value("--bindto") == Some("mac");
    let mut ports = Vec::new();
    for (i, (dev, cfg)) in n.teamslaves.iter().flatten().enumerate() {
        if let Err(e) = check_config(cfg) {
            err(diags, "--teamslaves", format!("port {dev}: {e}"));
        }
        let (name, mac) = if let Some(mac) = normalize_mac(dev) {
            (None, Some(mac))
        } else if valid_ifname(dev) {
            if bind_mac {
                err(
                    diags,
                    "--bindto",
                    format!("the MAC address of {dev} is not known here; give the port as a MAC address"),
                );
            }
            (Some(dev.clone()), None)
        } else {
            err(
                diags,
                "--teamslaves",
                format!("\"{dev}\" is neither an interface name nor a MAC address"),
            );
            (None, None)
        };
        ports.push(Port {
            origin: key("--teamslaves"),
            id: format!("{}_slave_{}", n.device, i + 1),
            uuid: None,
            name,
            mac,
            config: cfg.clone(),
            autoconnect: n.onboot,
        });
    }
    let ipv4 = ipv4(n, &at, diags);
    let ipv6 = ipv6(n, &at, diags);
    let mut ipv4 = ipv4?;
    let mut ipv6 = ipv6?;
    if let Some(list) = n.value("--nameserver") {
        for ns in list.split(',').map(str::trim) {
            if let Ok(a) = ns.parse::<Ipv6Addr>() {
                ipv6.dns.push(a);
            } else if let Ok(a) = ns.parse::<Ipv4Addr>() {
                ipv4.dns.push(a);
            } else {
                err(
                    diags,
                    "--nameserver",
                    format!("\"{ns}\" is not an IP address"),
                );
            }
        }
    }
    let mtu = match n.value("--mtu") {
        None => None,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => {
                err(diags, "--mtu", format!("\"{v}\" is not a number"));
                None
            }
        },
    };
    if diags.0[before..]
        .iter()
        .any(|d| d.level == networkd_gen::diag::Level::Error)
    {
        return None;
    }
    Some(Team {
        origin: at.clone(),
        device: n.device.clone(),
        id: n.device.clone(),
        uuid: None,
        config: n.teamconfig.clone(),
        config_origin: key("--teamconfig"),
        autoconnect: n.onboot,
        mtu,
        ipv4,
        ipv6,
        ports,
    })
}

fn ipv4(n: &Network, at: &Origin, diags: &mut Diags) -> Option<Ipv4> {
    if n.noipv4 {
        return Some(Ipv4::new(Ipv4Method::Disabled));
    }
    if n.bootproto != "static" {
        let mut v4 = Ipv4::new(Ipv4Method::Auto);
        v4.never_default = n.nodefroute;
        return Some(v4);
    }
    let mut v4 = Ipv4::new(Ipv4Method::Manual);
    v4.never_default = n.nodefroute;
    let key = |k: &str| at.clone().with_key(k);
    let ip = n.value("--ip").and_then(|v| v.parse::<Ipv4Addr>().ok());
    let prefix = n.value("--netmask").and_then(netmask_prefix);
    match (ip, prefix) {
        (Some(ip), Some(p)) => v4.addresses.push((ip, p)),
        (None, _) => {
            diags.error(key("--ip"), "--bootproto=static needs --ip=IPv4 address");
            return None;
        }
        (_, None) => {
            diags.error(
                key("--netmask"),
                "--bootproto=static needs --netmask=a.b.c.d",
            );
            return None;
        }
    }
    if let Some(g) = n.value("--gateway").filter(|g| !g.is_empty()) {
        match g.parse() {
            Ok(g) => v4.gateway = Some(g),
            Err(_) => {
                diags.error(key("--gateway"), format!("\"{g}\" is not an IPv4 address"));
                return None;
            }
        }
    }
    Some(v4)
}

fn ipv6(n: &Network, at: &Origin, diags: &mut Diags) -> Option<Ipv6> {
    let key = |k: &str| at.clone().with_key(k);
    let spec = n.value("--ipv6").unwrap_or_default();
    let method = if n.noipv6 {
        Ipv6Method::Ignore
    } else if spec.is_empty() || spec == "auto" {
        Ipv6Method::Auto
    } else if spec == "dhcp" {
        Ipv6Method::Dhcp
    } else {
        Ipv6Method::Manual
    };
    let mut v6 = Ipv6::new(method);
    if method == Ipv6Method::Manual {
        let (addr, prefix) = spec.split_once('/').unwrap_or((spec, "64"));
        match (addr.parse(), prefix.parse::<u8>()) {
            (Ok(a), Ok(p)) if p <= 128 => v6.addresses.push((a, p)),
            _ => {
                diags.error(
                    key("--ipv6"),
                    format!("\"{spec}\" is not auto, dhcp or an IPv6 address[/prefix]"),
                );
                return None;
            }
        }
        if let Some(g) = n.value("--ipv6gateway").filter(|g| !g.is_empty()) {
            match g.parse() {
                Ok(g) => v6.gateway = Some(g),
                Err(_) => {
                    diags.error(
                        key("--ipv6gateway"),
                        format!("\"{g}\" is not an IPv6 address"),
                    );
                    return None;
                }
            }
        }
    }
    Some(v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KS: &str = r#"# test
lang en_US.UTF-8
network --device=team0 --bootproto=static --ip=10.34.102.222 --netmask=255.255.255.0 --gateway=10.34.102.254 --nameserver=10.34.39.2,2001:db8::53 --activate --teamslaves="p3p1'{\"prio\": -10, \"sticky\": true}',52:54:00:AA:BB:CC'{\"prio\": 100}'" --teamconfig="{\"runner\": {\"name\": \"activebackup\"}}"
network --device=eth9 --bootproto=dhcp
%post
network --device=team9 --teamslaves=x --teamconfig='{'
%end
network --bootproto=dhcp --device=team1 --onboot=no --noipv6 --teamslaves="p4p1,p4p2" --teamconfig='{"runner": {"name": "lacp"}}'
"#;

    #[test]
    fn anaconda_mapping() {
        let mut d = Diags::default();
        let t = teams(KS, "ks.cfg", &mut d);
        assert!(d.0.is_empty(), "{:?}", d);
        assert_eq!(t.len(), 2);
        let t0 = &t[0];
        assert_eq!((t0.device.as_str(), t0.id.as_str()), ("team0", "team0"));
        assert_eq!(t0.config, r#"{"runner": {"name": "activebackup"}}"#);
        assert_eq!(t0.ipv4.method, Ipv4Method::Manual);
        assert_eq!(
            t0.ipv4.addresses,
            [("10.34.102.222".parse().expect("ip"), 24)]
        );
        assert_eq!(t0.ipv4.dns.len(), 1);
        assert_eq!(t0.ipv6.dns.len(), 1);
        assert_eq!(t0.ports[0].id, "team0_slave_1");
        assert_eq!(t0.ports[0].name.as_deref(), Some("p3p1"));
        assert_eq!(t0.ports[1].mac.as_deref(), Some("52:54:00:AA:BB:CC"));
        assert_eq!(t0.ports[1].config, r#"{"prio": 100}"#);
        let t1 = &t[1];
        assert!(!t1.autoconnect && !t1.ports[0].autoconnect);
        assert_eq!(t1.ipv4.method, Ipv4Method::Auto);
        assert_eq!(t1.ipv6.method, Ipv6Method::Ignore);
        assert_eq!(t1.origin.to_string(), "ks.cfg:8");
    }

    #[test]
    fn bad_lines_name_file_line_and_key() {
        let mut d = Diags::default();
        let ks = "network --device=team0 --teamslaves=eth1 --teamconfig='{\"runner\": }'\n\
                  network --device=t1 --teamslaves=\"eth1'[1]'\" --bootproto=static --ip=1.2.3.4\n\
                  network --device=t2 --teamslaves=eth1 --bogus\n\
                  network --device=\"t3\n";
        assert!(teams(ks, "/root/ks.cfg", &mut d).is_empty());
        let mut msgs: Vec<String> = d.0.iter().map(|m| m.to_string()).collect();
        msgs.sort();
        assert!(
            msgs[0].starts_with("/root/ks.cfg:1: \"--teamconfig\": invalid JSON"),
            "{msgs:?}"
        );
        assert_eq!(
            msgs[1],
            "/root/ks.cfg:2: \"--netmask\": --bootproto=static needs --netmask=a.b.c.d"
        );
        assert_eq!(
            msgs[2],
            "/root/ks.cfg:2: \"--teamslaves\": port eth1: the JSON is not an object"
        );
        assert_eq!(
            msgs[3],
            "/root/ks.cfg:3: \"network\": unrecognized arguments: --bogus"
        );
        assert_eq!(msgs[4], "/root/ks.cfg:4: No closing quotation");
    }

    #[test]
    fn unterminated_section() {
        let mut d = Diags::default();
        network_lines("%post\necho\n", "ks", &mut d);
        assert_eq!(
            d.0[0].to_string(),
            "ks:1: Section %post does not end with %end."
        );
    }
}
