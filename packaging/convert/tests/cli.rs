//! The binary end to end: exit status, messages, all-or-nothing output.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_teamd-convert"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("written");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("finishes")
}

/// `teamd-convert kickstart KS --to TO --out OUT`
fn kickstart(ks: &Path, to: &str, out: &Path) -> Output {
    let (ks, out) = (ks.display().to_string(), out.display().to_string());
    run(&["kickstart", &ks, "--to", to, "--out", &out], None)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    n
}

#[test]
fn kickstart_to_keyfiles_and_nothing_on_errors() {
    let t = tempfile::tempdir().expect("tempdir");
    let ks = t.path().join("ks.cfg");
    fs::write(
        &ks,
        "network --device=team0 --teamslaves=\"eth1'{\\\"prio\\\": 100}',eth2\" --teamconfig='{\"runner\": {\"name\": \"activebackup\"}}'\n\
         network --device=team1 --teamslaves=eth3\n",
    )
    .expect("write");
    let out = t.path().join("out");
    let o = kickstart(&ks, "nm", &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        names(&out),
        [
            "team0.nmconnection",
            "team0_slave_1.nmconnection",
            "team0_slave_2.nmconnection",
            "team1.nmconnection",
            "team1_slave_1.nmconnection"
        ]
    );

    // a bad second team: an error naming file, line and key, and no file at all
    fs::write(
        &ks,
        "network --device=team5 --teamslaves=eth1\nnetwork --device=team6 --teamslaves=eth2 --teamconfig='{'\n",
    )
    .expect("write");
    let fresh = t.path().join("fresh");
    let o = kickstart(&ks, "networkd", &fresh);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "error: {}:2: \"--teamconfig\": invalid JSON",
            ks.display()
        )),
        "{err}"
    );
    assert!(names(&fresh).is_empty());

    // existing files are kept unless --force
    let o = kickstart(&ks, "teamd", &out);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn ifcfg_directory_to_teamd_json() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("ifcfg-team0"),
        "DEVICE=team0\nDEVICETYPE=Team\nTEAM_CONFIG='{\"runner\": {\"name\": \"lacp\"}}'\nBOOTPROTO=dhcp\n",
    )
    .expect("write");
    fs::write(
        t.path().join("ifcfg-eth1"),
        "DEVICE=eth1\nDEVICETYPE=TeamPort\nTEAM_MASTER=team0\nTEAM_PORT_CONFIG=\"{\\\"lacp_prio\\\": 10}\"\n",
    )
    .expect("write");
    let o = run(
        &["ifcfg", &t.path().display().to_string(), "--to", "teamd"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON file");
    assert_eq!(v["ports"]["eth1"]["lacp_prio"], 10);
    assert_eq!(v["device"], "team0");
}

#[test]
fn to_bond_from_stdin() {
    let config = r#"{"device": "team0", "runner": {"name": "lacp", "fast_rate": true}, "ports": {"eth1": {}, "eth2": {}}}"#;
    let o = run(&["to-bond", "-", "--to", "ip"], Some(config));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout)
        .contains("ip link add team0 type bond mode 802.3ad lacp_rate fast miimon 100\n"));
    let o = run(
        &["to-bond", "-"],
        Some(r#"{"device": "t", "runner": {"name": "random"}}"#),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr)
        .contains("error: standard input: \"runner.name\": runner random has no bonding mode"));
    assert!(o.stdout.is_empty());
}

/// `network-script --dry-run`: what ifup-TeamPort would do for a port whose team does not
/// run (teamdctl is `false`: no teamd answers); a bad port file of the team stops it before
/// anything is done, with an error naming file, line and key.
#[test]
fn network_script_dry_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    fs::write(
        d.join("ifcfg-team0"),
        "DEVICE=team0\nDEVICETYPE=Team\nTEAM_CONFIG='{\"runner\": {\"name\": \"lacp\"}}'\n\
         IPADDR=192.0.2.1\nPREFIX=24\n",
    )
    .expect("written");
    fs::write(
        d.join("ifcfg-eth1"),
        "DEVICE=eth1\nDEVICETYPE=TeamPort\nTEAM_MASTER=team0\nTEAM_PORT_CONFIG='{\"prio\": 5}'\n",
    )
    .expect("written");
    let ds = d.display().to_string();
    let go = |script: &str, config: &str| {
        Command::new(env!("CARGO_BIN_EXE_teamd-convert"))
            .args(["network-script", script, config, "--dir", &ds, "--dry-run"])
            .env("RTEAM_TEAMD", "teamd")
            .env("RTEAM_TEAMDCTL", "false")
            .output()
            .expect("runs")
    };
    let o = go("ifdown-TeamPort", "ifcfg-eth1");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "ip link set dev eth1 down\n");

    let o = go("ifup-TeamPort", "eth1");
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        out.contains("teamd -d -U -o -t team0 -f /run/teamd/team0.conf\n")
            && out.contains(
                "false team0 port config update eth1 {\"prio\": 5}\nfalse team0 port add eth1\n"
            )
            && out.ends_with("ip addr replace 192.0.2.1/24 dev team0\n"),
        "{out}"
    );

    fs::write(
        d.join("ifcfg-eth2"),
        "DEVICE=eth2\nDEVICETYPE=TeamPort\nTEAM_MASTER=team0\nTEAM_PORT_CONFIG='{'\n",
    )
    .expect("written");
    let o = go("ifup-TeamPort", "eth1");
    assert!(!o.status.success());
    assert_eq!(text(&o.stdout), "", "nothing done");
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "ifup-TeamPort: error: {ds}/ifcfg-eth2:4: \"TEAM_PORT_CONFIG\""
        )),
        "{err}"
    );
}
