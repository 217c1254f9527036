//! Our kickstart lexing and `network` option parsing against the real
//! pykickstart, installed with pip into a venv under the workspace's
//! target directory (made once, reused). Fails, never skips, when
//! pykickstart cannot be installed or disagrees on any case.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use networkd_gen::diag::Diags;
use serde_json::{json, Value};
use teamd_convert::kickstart::network_lines;

/// Whole kickstart texts; the last `network` line is compared.
const CASES: &[&str] = &[
    // pykickstart's canonical examples (integration.md §5)
    r#"network --device=team0 --bootproto=static --ip=10.34.102.222 --netmask=255.255.255.0 --gateway=10.34.102.254 --nameserver=10.34.39.2 --activate --teamslaves="p3p1'{\"prio\": -10, \"sticky\": true}',p3p2'{\"prio\": 100}'" --teamconfig="{\"runner\": {\"name\": \"activebackup\"}}"
"#,
    "network --bootproto=dhcp --device=team0 --activate --teamslaves=\"p3p1,p3p2\" --teamconfig=\"{\\\"runner\\\": {\\\"name\\\": \\\"roundrobin\\\"}}\"\n",
    // JSON in single quotes: backslashes stay
    "network --device team0 --teamslaves 'eth1,eth2' --teamconfig '{\"runner\": {\"name\": \"lacp\"}}'\n",
    "network --device=team0 --teamslaves=eth1 --teamconfig='{\"a\": \"b\\\"c\"}'\n",
    // per-port JSON, trailing config, empty names, empty list
    "network --device=team0 --teamslaves=\"eth1'{\\\"prio\\\": 100}',eth2\"\n",
    "network --device=team0 --teamslaves=\"eth1'{\\\"prio\\\": 1}'\"\n",
    "network --device=team0 --teamslaves=eth1,,eth2,\n",
    "network --device=team0 --teamslaves=''\n",
    "network --device=team0 --teamslaves=\"eth1'{\\\"a\\\": \\\"it's\\\"}'\"\n",
    "network --device=team0 --teamslaves=\"'{}'eth1\"\n",
    // comments: after blanks, inside a word, not inside quotes
    "network --device=team0 --teamslaves=eth1 # --teamconfig=x\n",
    "network --device=team0#x --teamslaves=eth1\n",
    "network --device=team0 --teamconfig='{\"a\": \"#\"}' --teamslaves=eth1\\#2\n",
    "# comment\n\n   \t\nnetwork --device=team0 --teamslaves=eth1\n",
    // backslashes and quote joining
    "network --device=te\\am0 --teamslaves=eth\\ 1\n",
    "network --device=\"a\\b\\\\c\\\"d\" --teamslaves=x\n",
    "network --device=t\"ea\"'m0' --teamslaves=x\n",
    "network --device='' --teamslaves=x\n",
    "network --device=a\\\n",
    // argparse: prefixes, repeats, plain values that start with '-'
    "network --dev=team0 --teamsl=eth1 --teamc={}\n",
    "network --device=a --device=b --teamslaves=x\n",
    "network --device=t0 --mtu -1 --teamslaves=e\n",
    "network --device=t0 --teamconfig \"-x y\" --teamslaves=e\n",
    "network --device=t0 --onboot=OFF --no-activate --teamslaves=e\n",
    "network --device=t0 --activate --no-activate --activate\n",
    "network --noipv4 --bootproto=static --device=t0\n",
    "network --device=t0 --bootproto=static --ip=10.0.0.2 --netmask=255.255.255.0 --gateway=10.0.0.1 --nameserver=10.0.0.53,2001:db8::1 --mtu=9000 --ipv6=2001:db8::2/64 --nodefroute --noipv6\n",
    "network --device=team0 --bindto=mac --teamslaves=52:54:00:12:34:56,52:54:00:12:34:57\n",
    // line ends and blanks
    "network --device=team0 --teamslaves=eth1\r\n",
    "\t network\t--device=team0  --teamslaves=eth1",
    "network --device=tëam --teamslaves=x\n",
    "network --device=team0 --teamslaves=eth1\u{2028}",
    "network --device=team0 --teamslaves=eth1 --teamslaves=eth2,eth3\n",
    "network --device=team0 --teamconfig=\"{\\\"a\\\": \\\"#\\\"}\"#c --teamslaves=x\n",
    " \u{a0}\t\nnetwork --device=team0 --teamslaves=x\u{a0}y\n",
    // sections are skipped
    "%pre\nnetwork --device=bad\n%end\nnetwork --device=team0 --teamslaves=eth1\n",
    // errors
    "network --ipv=x\n",
    "network --device='team0\n",
    "network --device=\"team0\\\"\n",
    "network --device=a \\",
    "network --activate=yes\n",
    "network --device\n",
    "network --device --activate\n",
    "network --bogus x\n",
    "network --onboot=maybe\n",
    "network --bootproto=foo\n",
    "network --bindto=ip\n",
    "network --ipv4-dns-search=example.com\n",
    "network --ipv6-ignore-auto-dns\n",
    "%post\nnetwork --device=x\n",
];

const SCRIPT: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
from pykickstart.parser import KickstartParser
from pykickstart.version import makeVersion, RHEL9
out = []
for text in json.load(sys.stdin):
    handler = makeVersion(RHEL9)
    parser = KickstartParser(handler)
    try:
        parser.readKickstartFromString(text)
        nets = handler.network.network
        if not nets:
            out.append({"error": "no network line"})
            continue
        n = nets[-1]
        out.append({"ok": {
            "device": n.device or "",
            "bootproto": n.bootProto or "",
            "ip": n.ip or "", "netmask": n.netmask or "", "gateway": n.gateway or "",
            "ipv6": n.ipv6 or "", "nameserver": n.nameserver or "", "mtu": n.mtu or "",
            "onboot": n.onboot, "activate": n.activate,
            "noipv4": n.noipv4, "noipv6": n.noipv6, "nodefroute": n.nodefroute,
            "bindto": n.bindto,
            "teamslaves": [[d, c] for d, c in (n.teamslaves or [])],
            "teamconfig": n.teamconfig or "",
        }})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(out))
"#;

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    }
}

/// The pykickstart release compared with: pinned, so that a new release changes the oracle
/// only when this line does.
const PYKICKSTART: &str = "3.78";

/// The venv's python with pykickstart importable; panics when it cannot be had.
fn python() -> PathBuf {
    let venv = target_dir().join("pykickstart-venv");
    let py = venv.join("bin/python");
    let has_pykickstart = || {
        Command::new(&py)
            .arg("-c")
            .arg(format!(
                "import importlib.metadata as m; assert m.version('pykickstart') == '{PYKICKSTART}'"
            ))
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has_pykickstart() {
        return py;
    }
    let made = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .expect("python3 must be installed to compare with pykickstart");
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet"])
        .arg(format!("pykickstart=={PYKICKSTART}"))
        .status()
        .expect("pip of the venv runs");
    assert!(pip.success(), "pip install pykickstart failed");
    assert!(
        has_pykickstart(),
        "pykickstart is not importable after pip install"
    );
    py
}

fn pykickstart_says(cases: &[&str]) -> Vec<Value> {
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(json!(cases).to_string().as_bytes())
            .expect("cases written");
    }
    let out = child.wait_with_output().expect("python finishes");
    assert!(out.status.success(), "the pykickstart script failed");
    serde_json::from_slice(&out.stdout).expect("JSON from the script")
}

fn we_say(text: &str) -> Value {
    let mut d = Diags::default();
    let lines = network_lines(text, "case", &mut d);
    if d.has_errors() {
        // the message alone: pykickstart words it the same, around it differs
        return json!({"error": d.0.iter().map(|m| m.message.clone()).collect::<Vec<_>>().join("; ")});
    }
    let Some((_, n)) = lines.last() else {
        return json!({"error": "no network line"});
    };
    let v = |o: &str| n.value(o).unwrap_or_default();
    json!({"ok": {
        "device": n.device, "bootproto": n.bootproto,
        "ip": v("--ip"), "netmask": v("--netmask"), "gateway": v("--gateway"),
        "ipv6": v("--ipv6"), "nameserver": v("--nameserver"), "mtu": v("--mtu"),
        "onboot": n.onboot, "activate": n.activate,
        "noipv4": n.noipv4, "noipv6": n.noipv6, "nodefroute": n.nodefroute,
        "bindto": n.value("--bindto"),
        "teamslaves": n.teamslaves.clone().unwrap_or_default(),
        "teamconfig": n.teamconfig,
    }})
}

#[test]
fn lexing_and_options_agree_with_pykickstart() {
    let theirs = pykickstart_says(CASES);
    assert_eq!(theirs.len(), CASES.len());
    let mut disagreements = Vec::new();
    for (case, their) in CASES.iter().zip(&theirs) {
        let ours = we_say(case);
        let same = match (ours.get("ok"), their.get("ok")) {
            (Some(a), Some(b)) => a == b,
            // argparse's and shlex's own words appear in pykickstart's error
            (None, None) => match (ours["error"].as_str(), their["error"].as_str()) {
                (Some(o), Some(t)) => t.contains(o),
                _ => false,
            },
            _ => false,
        };
        if !same {
            disagreements.push(format!(
                "case {case:?}\n  pykickstart: {their}\n  ours:        {ours}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // the error cases are errors on both sides, not agreement by accident
    let errors = theirs.iter().filter(|t| t.get("error").is_some()).count();
    assert!(errors >= 14, "{errors} error cases");
}
