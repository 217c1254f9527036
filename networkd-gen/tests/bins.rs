//! The two programs on a file tree of their own: the generator with the
//! single-directory invocation systemd.generator(7) describes for tests, the
//! helper with --root and stand-ins for systemctl and networkctl.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn put(root: &Path, abs: &str, text: &str) {
    let p = root.join(abs.trim_start_matches('/'));
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

fn read(root: &Path, abs: &str) -> String {
    fs::read_to_string(root.join(abs.trim_start_matches('/'))).unwrap_or_default()
}

const NETDEV: &str =
    "[NetDev]\nName=team0\nKind=team\n\n[Team]\nRunner=activebackup\nLinkWatch=ethtool\n";
const PORTS: &str = "[Match]\nName=eth1 eth2\n\n[Network]\nTeam=team0\n\n[TeamPort]\nPriority=10\n";
const TEAM_NET: &str = "[Match]\nName=team0\n\n[Network]\nAddress=192.0.2.2/24\n";

fn setup(root: &Path) {
    put(root, "/etc/systemd/network/10-team0.netdev", NETDEV);
    put(root, "/etc/systemd/network/20-team0-ports.network", PORTS);
    put(root, "/etc/systemd/network/30-team0.network", TEAM_NET);
    // a broken second team must not stop the first
    put(
        root,
        "/etc/systemd/network/10-team1.netdev",
        "[NetDev]\nName=team1\nKind=team\n[Team]\nRunner=lacp\nLACPTransmitRate=often\n",
    );
    put(
        root,
        "/proc/cmdline",
        "root=/dev/vda ro team=team2:eth5:lacp\n",
    );
}

#[test]
fn generator_single_directory() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path().join("root");
    let out = t.path().join("out");
    setup(&root);
    let res = Command::new(env!("CARGO_BIN_EXE_teamd-networkd-generator"))
        .arg(&out)
        .env("TEAMD_NETWORKD_ROOT", &root)
        .env("SYSTEMD_LOG_TARGET", "console")
        .env_remove("SYSTEMD_PROC_CMDLINE")
        .output()
        .expect("runs");
    assert!(res.status.success(), "{res:?}");
    for (link, target) in [
        (
            "network.target.wants/teamd@team0.service",
            "/usr/lib/systemd/system/teamd@.service",
        ),
        (
            "network.target.wants/teamd@team2.service",
            "/usr/lib/systemd/system/teamd@.service",
        ),
        (
            "sysinit.target.wants/teamd-networkd.service",
            "/usr/lib/systemd/system/teamd-networkd.service",
        ),
        (
            "paths.target.wants/teamd-networkd.path",
            "/usr/lib/systemd/system/teamd-networkd.path",
        ),
    ] {
        assert_eq!(
            fs::read_link(out.join(link)).expect(link),
            Path::new(target)
        );
    }
    assert!(!out
        .join("network.target.wants/teamd@team1.service")
        .exists());
    let dropin = read(&out, "/teamd@team0.service.d/50-teamd-networkd.conf");
    assert!(
        dropin.contains("After=teamd-networkd.service\n"),
        "{dropin}"
    );
    assert!(dropin.contains(
        "Wants=sys-subsystem-net-devices-eth1.device sys-subsystem-net-devices-eth2.device\n"
    ));
    // only units, drop-ins and symlinks: nothing else anywhere
    let mut all = Vec::new();
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("readdir").flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                all.push(p.strip_prefix(&out).expect("below").display().to_string());
            }
        }
    }
    all.sort();
    assert_eq!(
        all,
        [
            "network.target.wants/teamd@team0.service",
            "network.target.wants/teamd@team2.service",
            "paths.target.wants/teamd-networkd.path",
            "sysinit.target.wants/teamd-networkd.service",
            "teamd@team0.service.d/50-teamd-networkd.conf",
            "teamd@team2.service.d/50-teamd-networkd.conf",
        ]
    );
    // the mistake went to the log (stderr with SYSTEMD_LOG_TARGET=console)
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("<3>teamd-networkd-generator: /etc/systemd/network/10-team1.netdev:6: [Team] LACPTransmitRate=: \"often\" is not one of slow, fast"),
        "{err}"
    );
    // nothing written into the configuration root
    assert!(!root.join("run").exists());
}

#[test]
fn generator_usage() {
    let res = Command::new(env!("CARGO_BIN_EXE_teamd-networkd-generator"))
        .args(["a", "b"])
        .env("SYSTEMD_LOG_TARGET", "console")
        .output()
        .expect("runs");
    assert!(!res.status.success());
}

/// A systemctl/networkctl stand-in that records its arguments and reports
/// every unit active.
fn fake_ctl(dir: &Path) -> std::path::PathBuf {
    let log = dir.join("calls");
    let script = dir.join("ctl");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> {}\nexit 0\n",
            log.display()
        ),
    )
    .expect("write script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

fn helper(root: &Path, ctl: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_teamd-networkd-helper"))
        .arg(format!("--root={}", root.display()))
        .env_remove("SYSTEMD_PROC_CMDLINE")
        .env("TEAMD_NETWORKD_SYSTEMCTL", ctl)
        .env("TEAMD_NETWORKD_NETWORKCTL", ctl)
        .output()
        .expect("runs")
}

#[test]
fn helper_boot_then_live_change() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path().join("root");
    setup(&root);
    let ctl = fake_ctl(t.path());
    let calls = t.path().join("calls");

    // first run since boot: files only, exit 1 for team1's mistake
    let res = helper(&root, &ctl);
    assert_eq!(res.status.code(), Some(1), "{res:?}");
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("<3>teamd-networkd-helper: /etc/systemd/network/10-team1.netdev:6: [Team] LACPTransmitRate=: \"often\" is not one of slow, fast"),
        "{err}"
    );
    assert!(!calls.exists(), "no systemctl before networkd runs");
    let conf: serde_json::Value =
        serde_json::from_str(&read(&root, "/run/teamd/team0.conf")).expect("JSON");
    assert_eq!(
        conf,
        serde_json::json!({
            "device": "team0",
            "runner": {"name": "activebackup"},
            "link_watch": {"name": "ethtool"},
            "ports": {"eth1": {"prio": 10}, "eth2": {"prio": 10}}
        })
    );
    assert!(read(&root, "/run/teamd/team2.conf").contains("\"lacp\""));
    assert!(read(&root, "/run/teamd/team1.conf").is_empty());
    assert!(
        read(&root, "/run/systemd/network/10-teamd-port-eth1.network")
            .ends_with("[Link]\nUnmanaged=yes\n")
    );
    assert!(read(&root, "/run/systemd/network/10-teamd-port-eth5.network").contains("Name=eth5"));
    assert!(read(
        &root,
        "/run/systemd/network/20-team0-ports.network.d/90-teamd-networkd.conf"
    )
    .contains("Unmanaged=yes"));
    assert!(read(
        &root,
        "/run/systemd/network/30-team0.network.d/90-teamd-networkd.conf"
    )
    .contains("IgnoreCarrierLoss=5s"));

    // a second run with nothing changed does nothing
    let res = helper(&root, &ctl);
    assert_eq!(res.status.code(), Some(1));
    assert!(!calls.exists());

    // a new port and another priority: networkd reloads first, teamd live
    put(
        &root,
        "/etc/systemd/network/20-team0-ports.network",
        &PORTS.replace("eth2", "eth2 eth3"),
    );
    put(
        &root,
        "/etc/systemd/network/10-team1.netdev",
        "[NetDev]\nName=team1\nKind=team\n",
    );
    let res = helper(&root, &ctl);
    assert_eq!(res.status.code(), Some(0), "{res:?}");
    assert!(read(&root, "/run/systemd/network/10-teamd-port-eth3.network").contains("Name=eth3"));
    assert_eq!(
        fs::read_to_string(&calls).expect("calls"),
        "ctl is-active --quiet teamd@team0.service\n\
         ctl is-active --quiet systemd-networkd.service\n\
         ctl reload\n\
         ctl --no-block reload teamd@team0.service\n\
         ctl --no-block start teamd@team1.service\n"
    );
    fs::remove_file(&calls).expect("rm");

    // team0 is gone: its files go, its teamd stops
    fs::remove_file(root.join("etc/systemd/network/10-team0.netdev")).expect("rm");
    let res = helper(&root, &ctl);
    // its port file now names a team that does not exist: a warning only
    assert_eq!(res.status.code(), Some(0), "{res:?}");
    assert!(!root.join("run/teamd/team0.conf").exists());
    assert!(!root
        .join("run/systemd/network/10-teamd-port-eth1.network")
        .exists());
    assert!(!root
        .join("run/systemd/network/20-team0-ports.network.d")
        .exists());
    assert!(root.join("run/teamd/team2.conf").exists());
    assert_eq!(
        fs::read_to_string(&calls).expect("calls"),
        "ctl is-active --quiet systemd-networkd.service\n\
         ctl reload\n\
         ctl --no-block stop teamd@team0.service\n"
    );
}

#[test]
fn helper_dry_run_changes_nothing() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path().join("root");
    setup(&root);
    let ctl = fake_ctl(t.path());
    let res = Command::new(env!("CARGO_BIN_EXE_teamd-networkd-helper"))
        .args([format!("--root={}", root.display()), "--dry-run".into()])
        .env_remove("SYSTEMD_PROC_CMDLINE")
        .env("TEAMD_NETWORKD_SYSTEMCTL", &ctl)
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("write /run/teamd/team0.conf\n"), "{out}");
    assert!(!root.join("run").exists());
}
