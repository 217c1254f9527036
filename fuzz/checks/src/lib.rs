//! What each fuzz target checks: the parser must not panic on any input, and where
//! there is a serialiser, what it writes must parse back to the same value.
//!
//! `fuzz/fuzz_targets/<name>.rs` hands libFuzzer's input to the function of the
//! same name here; `tests/replay.rs` feeds every file under `fuzz/seeds/<name>/` and
//! `fuzz/regressions/<name>/` to it in a plain `cargo test`, so a crash once found
//! stays fixed without the fuzz engine.

mod dbus_call;
mod teamd_config_view;

pub use dbus_call::dbus_call;

/// What teamd's `config.rs` and `handler.rs` need from teamd's logger; a fuzz
/// run drops it.
mod log {
    pub fn err(_message: &str) {}
    pub fn dbg(_level: u32, _message: impl FnOnce() -> String) {}
}

/// What teamd's `handler.rs` and `item_path.rs` need from its `kernel.rs`.
mod kernel {
    pub type KResult<T = ()> = Result<T, team_nl_client::Error>;
    pub const ENODEV: i32 = 19;
    pub const EINVAL: i32 = 22;
}

// teamd's control request handler and its item paths, compiled as they are
// (teamd is a program, not a library): the D-Bus target runs them
#[path = "../../../teamd-compat/teamd/src/handler.rs"]
mod handler;
#[path = "../../../teamd-compat/teamd/src/item_path.rs"]
mod item_path;

/// A target's check: returns on any input it rejects, panics on a bug.
pub type Check = fn(&[u8]);

/// Every target: its name (the file in `fuzz_targets/`, the seed directory) and
/// its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("teamd_config", teamd_config),
    ("lacpdu", lacpdu),
    ("arp_frame", arp_frame),
    ("na_frame", na_frame),
    ("usock_request", usock_request),
    ("usock_reply", usock_reply),
    ("team_genl", team_genl),
    ("rtnl_message", rtnl_message),
    ("nm_settings", nm_settings),
    ("networkd_ini", networkd_ini),
    ("convert_kickstart", convert_kickstart),
    ("convert_ifcfg", convert_ifcfg),
    ("dbus_call", dbus_call),
];

/// teamd's config file (and a config sent over `config reload`): the strict JSON
/// reader, the pretty dump read back, then the typed view teamd derives.
pub fn teamd_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = teamd_ctl_proto::json::parse_strict(text) else {
        return;
    };
    for dump in [
        teamd_ctl_proto::json::dump_pretty(&doc),
        teamd_ctl_proto::json::dump_compact(&doc),
    ] {
        let again = teamd_ctl_proto::json::parse_strict(&dump)
            .unwrap_or_else(|e| panic!("dump does not parse back: {e}\n{dump}"));
        assert_eq!(again, doc, "dump parses to another document:\n{dump}");
    }
    teamd_config_view::check(doc);
}

/// A received LACPDU (a whole Ethernet frame).
pub fn lacpdu(data: &[u8]) {
    use teamd_lacp::Lacpdu;
    let Ok(pdu) = Lacpdu::parse(data) else {
        return;
    };
    let frame = pdu.to_frame();
    assert_eq!(Lacpdu::parse(&frame).as_ref(), Ok(&pdu));
}

/// A received ARP frame (arp_ping link watch): Ethernet header, VLAN tag, ARP.
pub fn arp_frame(data: &[u8]) {
    use teamd_probe::arp;
    let Ok((eth, pkt)) = arp::parse_frame(data) else {
        return;
    };
    let mut frame = Vec::new();
    eth.write(&mut frame);
    pkt.write(&mut frame);
    assert_eq!(arp::parse_frame(&frame), Ok((eth, pkt)));
}

/// A received Neighbour Advertisement (nsna_ping link watch).
pub fn na_frame(data: &[u8]) {
    use teamd_probe::nd;
    let Ok((eth, na)) = nd::parse_na_frame(data) else {
        return;
    };
    let frame = na.frame(eth.src, eth.dst);
    let (_, again) = nd::parse_na_frame(&frame)
        .unwrap_or_else(|e| panic!("written advertisement does not parse back: {e}"));
    assert_eq!(again, na);
}

/// A request on teamd's unix control socket, read as teamd (`Call`) and as any
/// client request (`Request`).
pub fn usock_request(data: &[u8]) {
    use teamd_ctl_proto::{Call, Request};
    if let Ok(req) = Request::decode(data) {
        let wire = req.encode();
        assert_eq!(Request::decode(&wire).as_ref(), Ok(&req));
    }
    if let Ok(call) = Call::decode(data) {
        let wire = call.to_request().encode();
        assert_eq!(Call::decode(&wire).as_ref(), Ok(&call));
    }
}

/// A reply from teamd's unix control socket, read as libteamdctl does.
pub fn usock_reply(data: &[u8]) {
    use teamd_ctl_proto::Reply;
    let Ok(reply) = Reply::decode(data) else {
        return;
    };
    let wire = reply.encode();
    assert_eq!(Reply::decode(&wire).as_ref(), Ok(&reply));
}

/// A Team generic netlink payload from the kernel (genl header on).
pub fn team_genl(data: &[u8]) {
    use team_nl::TeamMessage;
    let Ok(msg) = TeamMessage::parse(data) else {
        return;
    };
    let wire = msg.emit();
    assert_eq!(TeamMessage::parse(&wire).as_ref(), Ok(&msg));
}

/// An rtnetlink message from the kernel (netlink header on), read by the parser
/// under team-nl-client's link calls and events, then written out again.
/// `serialize` trusts the header's length, which comes from the wire here, so the
/// message is finalised first, as rtnetlink does before it sends one.
pub fn rtnl_message(data: &[u8]) {
    use netlink_packet_core::NetlinkMessage;
    use netlink_packet_route::RouteNetlinkMessage;
    let Ok(mut msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(data) else {
        return;
    };
    msg.finalize();
    let mut wire = vec![0; msg.buffer_len()];
    msg.serialize(&mut wire);
}

/// NetworkManager's team and team-port settings (JSON and nmcli forms) and the
/// teamd config NM splits into them.
pub fn nm_settings(data: &[u8]) {
    use nm_team_settings::{port::TeamPortSetting, team::TeamSetting, teamd, watcher};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(team) = TeamSetting::from_json(text) {
        let json = team.to_json();
        let again = TeamSetting::from_json(&json)
            .unwrap_or_else(|e| panic!("team setting does not parse back: {e}\n{json}"));
        assert_eq!(again, team, "{json}");
    }
    if let Ok(port) = TeamPortSetting::from_json(text) {
        let json = port.to_json();
        let again = TeamPortSetting::from_json(&json)
            .unwrap_or_else(|e| panic!("port setting does not parse back: {e}\n{json}"));
        assert_eq!(again, port, "{json}");
    }
    let _ = teamd::split(text);
    let _ = watcher::parse_nmcli(text);
}

/// A networkd `.netdev`/`.network` file and a kernel command line (`team=`).
pub fn networkd_ini(data: &[u8]) {
    use networkd_gen::{cmdline, diag::Diags, ini, values};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut diags = Diags::default();
    if let Some(sections) = ini::parse(text, "fuzz.netdev", &mut diags) {
        for entry in sections.iter().flat_map(|s| &s.entries) {
            let v = entry.value.as_str();
            let _ = values::parse_bool(v);
            let _ = values::parse_timespan_us(v);
            let _ = values::parse_ms(v);
            let _ = values::parse_int(v, i64::MIN, i64::MAX);
            let _ = values::parse_mac(v);
        }
    }
    let _ = cmdline::parse_teams(text, &mut diags);
}

/// A kickstart file given to `teamd-convert kickstart`, converted all the way.
pub fn convert_kickstart(data: &[u8]) {
    use networkd_gen::diag::Diags;
    use teamd_convert::{kickstart, ks_lex, teamd_json};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut diags = Diags::default();
    for team in kickstart::teams(text, "fuzz.ks", &mut diags) {
        let _ = teamd_json::team_files(&team, &mut diags);
    }
    let _ = ks_lex::shlex_split(text, true);
}

/// ifcfg files given to `teamd-convert ifcfg`, converted all the way. The input
/// is split at NUL bytes: the first part is `ifcfg-team0`, the others
/// `ifcfg-eth1`, `ifcfg-eth2`, ... (the ports' files).
pub fn convert_ifcfg(data: &[u8]) {
    use networkd_gen::diag::Diags;
    use teamd_convert::{ifcfg, teamd_json};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files: Vec<(String, String, String)> = text
        .split('\0')
        .enumerate()
        .map(|(i, part)| {
            let name = match i {
                0 => "ifcfg-team0".to_string(),
                _ => format!("ifcfg-eth{i}"),
            };
            let path = format!("/etc/sysconfig/network-scripts/{name}");
            (name, path, part.to_string())
        })
        .collect();
    let mut diags = Diags::default();
    for team in ifcfg::teams(&files, &mut diags) {
        let _ = teamd_json::team_files(&team, &mut diags);
    }
    for (_, _, part) in &files {
        let _ = ifcfg::unescape(part);
    }
}
