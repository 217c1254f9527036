//! The warm-restart state file, `/run/teamd/<dev>.warm`: what a teamd that
//! leaves its team to a successor (SIGUSR1, or SIGTERM during a systemd
//! restart of its unit) tells the next one, which takes the device over (-o).
//!
//! The kernel keeps the device, its ports, their `enabled` options and the
//! runner's options by itself; the file adds what only the daemon knew (the
//! runner's protocol state) and when and for which device it was written, so
//! that the next daemon adopts it only when it is this device's and recent
//! enough to still be true. Versioned JSON, written to a temporary file and
//! renamed into place; read once and removed. Anything wrong with it makes
//! the start-up an ordinary takeover (with a log line), never a failure.
//!
//! ```json
//! {"format": "rteam-teamd-warm", "version": 1,
//!  "boot_id": "…", "since_boot_ns": 123456789, "pid": 4321,
//!  "team": {"ifname": "team0", "ifindex": 7}, "runner": "lacp",
//!  "ports": [{"ifname": "p0", "ifindex": 3, "enabled": true}],
//!  "runner_state": {…}}
//! ```
//!
//! `runner_state` is the runner's own (see `runner::*::warm`).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::sys;

pub const FORMAT: &str = "rteam-teamd-warm";
pub const VERSION: u64 = 1;

/// The longest a partner waits for us without hearing anything (an LACP
/// partner on the long timeout: 3 × 30 s). A file older than that is not
/// from a restart, whatever the runner; runners may ask for less.
pub const LONGEST_PATIENCE: Duration = Duration::from_secs(90);

/// A state file is a few kilobytes; more is not ours.
const MAX_LEN: u64 = 1 << 20;

/// Where the state of team device `dev` is kept.
pub fn path(dev: &str) -> PathBuf {
    PathBuf::from(format!("{}{dev}.warm", sys::RUN_DIR))
}

/// When something was written: which boot, and how long after it
/// (CLOCK_BOOTTIME: monotonic, counts suspend, shared by all processes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub boot_id: String,
    pub since_boot: Duration,
}

impl Stamp {
    pub fn now() -> Result<Stamp, String> {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map_err(|e| format!("cannot read the boot id: {e}"))?
            .trim()
            .to_string();
        let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
            .map_err(|e| format!("cannot read CLOCK_BOOTTIME: {e}"))?;
        let since_boot = Duration::new(t.tv_sec().max(0) as u64, t.tv_nsec().max(0) as u32);
        Ok(Stamp {
            boot_id,
            since_boot,
        })
    }

    /// How old something stamped `self` is at `now`; `Err` when it is from
    /// another boot or from the future.
    pub fn age_at(&self, now: &Stamp) -> Result<Duration, String> {
        if self.boot_id != now.boot_id {
            return Err("written before the last boot".into());
        }
        now.since_boot
            .checked_sub(self.since_boot)
            .ok_or_else(|| "written in the future".into())
    }
}

/// A port of the team at the warm exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPort {
    pub ifindex: u32,
    pub ifname: String,
    /// The kernel's `enabled` option then (for the record; the kernel keeps it).
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WarmState {
    pub stamp: Stamp,
    pub pid: u32,
    pub team_ifindex: u32,
    pub team_ifname: String,
    pub runner: String,
    pub ports: Vec<SavedPort>,
    pub runner_state: Value,
}

// ---- reading JSON strictly: every error names the key --------------------

pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("\"{key}\" missing"))
}

pub fn u64_at(v: &Value, key: &str) -> Result<u64, String> {
    field(v, key)?
        .as_u64()
        .ok_or_else(|| format!("\"{key}\" is not a non-negative integer"))
}

pub fn u32_at(v: &Value, key: &str) -> Result<u32, String> {
    u32::try_from(u64_at(v, key)?).map_err(|_| format!("\"{key}\" is out of range"))
}

pub fn u16_at(v: &Value, key: &str) -> Result<u16, String> {
    u16::try_from(u64_at(v, key)?).map_err(|_| format!("\"{key}\" is out of range"))
}

pub fn u8_at(v: &Value, key: &str) -> Result<u8, String> {
    u8::try_from(u64_at(v, key)?).map_err(|_| format!("\"{key}\" is out of range"))
}

pub fn str_at<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?
        .as_str()
        .ok_or_else(|| format!("\"{key}\" is not a string"))
}

pub fn bool_at(v: &Value, key: &str) -> Result<bool, String> {
    field(v, key)?
        .as_bool()
        .ok_or_else(|| format!("\"{key}\" is not a boolean"))
}

pub fn array_at<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    field(v, key)?
        .as_array()
        .ok_or_else(|| format!("\"{key}\" is not an array"))
}

/// An optional ifindex: `null` or a number.
pub fn opt_u32_at(v: &Value, key: &str) -> Result<Option<u32>, String> {
    match field(v, key)? {
        Value::Null => Ok(None),
        _ => u32_at(v, key).map(Some),
    }
}

/// "aa:bb:cc:dd:ee:ff" (any length) → bytes.
pub fn mac_from_str(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(':')
        .map(|b| {
            (b.len() == 2)
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect()
}

pub use team_nl_client::cache::hwaddr_str as mac_to_str;

impl WarmState {
    pub fn to_json(&self) -> Value {
        json!({
            "format": FORMAT,
            "version": VERSION,
            "boot_id": self.stamp.boot_id,
            "since_boot_ns": self.stamp.since_boot.as_nanos() as u64,
            "pid": self.pid,
            "team": {"ifname": self.team_ifname, "ifindex": self.team_ifindex},
            "runner": self.runner,
            "ports": self.ports.iter().map(|p| json!({
                "ifname": p.ifname, "ifindex": p.ifindex, "enabled": p.enabled,
            })).collect::<Vec<_>>(),
            "runner_state": self.runner_state,
        })
    }

    pub fn from_json(doc: &Value) -> Result<WarmState, String> {
        if !doc.is_object() {
            return Err("not a JSON object".into());
        }
        if str_at(doc, "format")? != FORMAT {
            return Err("not a teamd warm restart state".into());
        }
        let version = u64_at(doc, "version")?;
        if version != VERSION {
            return Err(format!(
                "version {version}, this teamd reads version {VERSION}"
            ));
        }
        let team = field(doc, "team")?;
        let ports = array_at(doc, "ports")?
            .iter()
            .map(|p| {
                Ok(SavedPort {
                    ifindex: u32_at(p, "ifindex")?,
                    ifname: str_at(p, "ifname")?.to_string(),
                    enabled: bool_at(p, "enabled")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| format!("ports: {e}"))?;
        let runner_state = field(doc, "runner_state")?.clone();
        if !runner_state.is_object() {
            return Err("\"runner_state\" is not an object".into());
        }
        Ok(WarmState {
            stamp: Stamp {
                boot_id: str_at(doc, "boot_id")?.to_string(),
                since_boot: Duration::from_nanos(u64_at(doc, "since_boot_ns")?),
            },
            pid: u32_at(doc, "pid")?,
            team_ifindex: u32_at(team, "ifindex").map_err(|e| format!("team: {e}"))?,
            team_ifname: str_at(team, "ifname")
                .map_err(|e| format!("team: {e}"))?
                .to_string(),
            runner: str_at(doc, "runner")?.to_string(),
            ports,
            runner_state,
        })
    }

    /// Parses a file's text.
    pub fn parse(text: &str) -> Result<WarmState, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        WarmState::from_json(&doc)
    }

    /// Whether the state is about the team found now: the same device
    /// (ifindex and name: an ifindex is reused once a device is deleted), the
    /// same runner, in the kernel mode the runner drives, and at least one of
    /// its ports still in the team. `ports` are the team's ports now.
    pub fn matches(
        &self,
        team_ifindex: u32,
        team_ifname: &str,
        runner: &str,
        ports: &[(u32, String)],
    ) -> Result<(), String> {
        if (self.team_ifindex, self.team_ifname.as_str()) != (team_ifindex, team_ifname) {
            return Err(format!(
                "it is about {} (ifindex {}), not {team_ifname} (ifindex {team_ifindex})",
                self.team_ifname, self.team_ifindex
            ));
        }
        if self.runner != runner {
            return Err(format!(
                "it is the {} runner's, the config names {runner}",
                self.runner
            ));
        }
        if !self.ports.iter().any(|p| {
            ports
                .iter()
                .any(|(i, n)| (*i, n.as_str()) == (p.ifindex, p.ifname.as_str()))
        }) {
            return Err("none of its ports is in the team".into());
        }
        Ok(())
    }

    /// The state's age at `now`, if below `patience`.
    pub fn fresh(&self, now: &Stamp, patience: Duration) -> Result<Duration, String> {
        let age = self.stamp.age_at(now)?;
        if age >= patience {
            return Err(format!(
                "{:.1} s old, older than the {} s a partner waits",
                age.as_secs_f64(),
                patience.as_secs()
            ));
        }
        Ok(age)
    }
}

/// Writes the state atomically: a reader sees the old file, none, or the
/// whole new one.
pub fn write(path: &Path, state: &WarmState) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(&state.to_json()).map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!("warm.tmp.{}", state.pid));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads and removes the state file: `None` when there is none, the text or
/// why it could not be read otherwise. Removed either way: a state is
/// adopted once, and a bad one must not outlive this start.
pub fn take(path: &Path) -> Option<Result<String, String>> {
    use std::io::Read;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            let _ = std::fs::remove_file(path);
            return Some(Err(format!("cannot open it: {e}")));
        }
    };
    let mut text = String::new();
    let read = f.take(MAX_LEN + 1).read_to_string(&mut text);
    let _ = std::fs::remove_file(path);
    Some(match read {
        Err(e) => Err(format!("cannot read it: {e}")),
        Ok(n) if n as u64 > MAX_LEN => Err("too large".into()),
        Ok(_) => Ok(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(secs: u64) -> Stamp {
        Stamp {
            boot_id: "3f1c2b9e-0000-4000-8000-000000000001".into(),
            since_boot: Duration::from_secs(secs),
        }
    }

    fn state() -> WarmState {
        WarmState {
            stamp: stamp(100),
            pid: 4321,
            team_ifindex: 7,
            team_ifname: "team0".into(),
            runner: "activebackup".into(),
            ports: vec![
                SavedPort {
                    ifindex: 3,
                    ifname: "p0".into(),
                    enabled: true,
                },
                SavedPort {
                    ifindex: 4,
                    ifname: "p1".into(),
                    enabled: false,
                },
            ],
            runner_state: json!({"active_port": {"ifindex": 3, "ifname": "p0"}}),
        }
    }

    fn team_now() -> Vec<(u32, String)> {
        vec![(3, "p0".into()), (4, "p1".into())]
    }

    #[test]
    fn round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("rteam-warm-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("team0.warm");
        let s = state();
        write(&path, &s).unwrap();
        // written whole, nothing left beside it
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("team0.warm")]);
        let text = take(&path).expect("a file").expect("readable");
        assert_eq!(WarmState::parse(&text).unwrap(), s);
        assert!(!path.exists(), "read once");
        assert!(take(&path).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_or_foreign_files_are_refused_with_the_reason() {
        let good = state().to_json();
        let with = |key: &str, v: Value| {
            let mut d = good.clone();
            d[key] = v;
            serde_json::to_string(&d).unwrap()
        };
        let cases = [
            ("", "not valid JSON"),
            (
                "{\"version\": 1, \"team\": {\"ifindex\": \"se",
                "not valid JSON",
            ),
            ("[1, 2]", "not a JSON object"),
            ("{}", "\"format\" missing"),
            (&with("format", json!("something else")), "not a teamd warm"),
            (
                &with("version", json!(2)),
                "version 2, this teamd reads version 1",
            ),
            (
                &with("version", json!("1")),
                "\"version\" is not a non-negative integer",
            ),
            (
                &with("team", json!({"ifname": "team0", "ifindex": -7})),
                "team: \"ifindex\"",
            ),
            (
                &with("team", json!({"ifname": "team0", "ifindex": 1u64 << 40})),
                "out of range",
            ),
            (
                &with("ports", json!([{"ifindex": 3, "ifname": "p0"}])),
                "ports: \"enabled\" missing",
            ),
            (&with("ports", json!({})), "\"ports\" is not an array"),
            (
                &with("runner_state", json!([])),
                "\"runner_state\" is not an object",
            ),
            (&with("since_boot_ns", json!(1.5)), "\"since_boot_ns\""),
        ];
        for (text, why) in cases {
            let err = WarmState::parse(text).expect_err(text);
            assert!(err.contains(why), "{text}: {err}");
        }
        // unknown keys are fine (a later version may add some)
        let mut d = good.clone();
        d["extra"] = json!(1);
        assert!(WarmState::from_json(&d).is_ok());
    }

    #[test]
    fn only_the_same_device_runner_and_ports_match() {
        let s = state();
        assert!(s.matches(7, "team0", "activebackup", &team_now()).is_ok());
        let e = s
            .matches(8, "team0", "activebackup", &team_now())
            .unwrap_err();
        assert!(e.contains("ifindex 7"), "{e}");
        assert!(s.matches(7, "team1", "activebackup", &team_now()).is_err());
        let e = s.matches(7, "team0", "lacp", &team_now()).unwrap_err();
        assert!(e.contains("activebackup runner"), "{e}");
        // one port gone is fine; none left, or an ifindex now another device, is not
        assert!(s
            .matches(7, "team0", "activebackup", &[(4, "p1".into())])
            .is_ok());
        let e = s.matches(7, "team0", "activebackup", &[]).unwrap_err();
        assert!(e.contains("none of its ports"), "{e}");
        assert!(s
            .matches(7, "team0", "activebackup", &[(3, "veth9".into())])
            .is_err());
    }

    #[test]
    fn staleness_by_boot_and_age() {
        let s = state();
        let patience = Duration::from_secs(3);
        assert_eq!(s.fresh(&stamp(102), patience), Ok(Duration::from_secs(2)));
        let e = s.fresh(&stamp(103), patience).unwrap_err();
        assert!(e.contains("3.0 s old"), "{e}");
        assert!(s
            .fresh(&stamp(99), patience)
            .unwrap_err()
            .contains("future"));
        let other_boot = Stamp {
            boot_id: "another".into(),
            since_boot: Duration::from_secs(101),
        };
        assert!(s.fresh(&other_boot, patience).unwrap_err().contains("boot"));
        let now = Stamp::now().unwrap();
        assert_eq!(now.age_at(&now), Ok(Duration::ZERO));
    }

    #[test]
    fn macs_both_ways() {
        assert_eq!(
            mac_from_str("02:00:0a:ff:00:01"),
            Some(vec![2, 0, 10, 255, 0, 1])
        );
        assert_eq!(mac_to_str(&[2, 0, 10, 255, 0, 1]), "02:00:0a:ff:00:01");
        assert_eq!(mac_from_str(""), Some(vec![]));
        assert_eq!(mac_from_str("2:00"), None);
        assert_eq!(mac_from_str("zz:00"), None);
    }

    #[test]
    fn a_huge_file_is_refused_and_removed() {
        let dir = std::env::temp_dir().join(format!("rteam-warm-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("team0.warm");
        std::fs::write(&path, vec![b' '; (MAX_LEN + 10) as usize]).unwrap();
        assert_eq!(take(&path), Some(Err("too large".into())));
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
