//! Reading one section's assignments the way systemd does: the last
//! assignment of a single-valued key wins, list keys add up, and an empty
//! assignment resets either to "not set".

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Map, Value};

use crate::diag::{Diags, Origin};
use crate::ini::{Entry, Section};
use crate::values;

/// A single-valued setting and where its winning assignment is.
pub type Setting<T> = Option<(T, Origin)>;

/// Parses `e` into `slot` with `parse`; an empty value resets the slot.
pub fn set<T>(
    slot: &mut Setting<T>,
    s: &Section,
    e: &Entry,
    diags: &mut Diags,
    parse: impl FnOnce(&str) -> Result<T, String>,
) {
    if e.value.is_empty() {
        *slot = None;
        return;
    }
    match parse(&e.value) {
        Ok(v) => *slot = Some((v, s.origin(e))),
        Err(msg) => diags.error(s.origin(e), msg),
    }
}

/// A whitespace-separated list key: each assignment adds, an empty one
/// empties the list. The origin is that of the last assignment.
pub fn add_list(slot: &mut Setting<Vec<String>>, s: &Section, e: &Entry) {
    if e.value.is_empty() {
        *slot = None;
        return;
    }
    let mut items = slot.take().map(|(v, _)| v).unwrap_or_default();
    items.extend(e.value.split_whitespace().map(String::from));
    *slot = Some((items, s.origin(e)));
}

pub fn one_of<'a>(allowed: &'a [&'a str]) -> impl Fn(&str) -> Result<String, String> + 'a {
    move |v| {
        if allowed.contains(&v) {
            Ok(v.to_string())
        } else {
            Err(format!("\"{v}\" is not one of {}", allowed.join(", ")))
        }
    }
}

pub fn boolean(v: &str) -> Result<bool, String> {
    values::parse_bool(v).ok_or_else(|| format!("\"{v}\" is not a boolean (yes or no)"))
}

pub fn int(min: i64, max: i64) -> impl Fn(&str) -> Result<i64, String> {
    move |v| values::parse_int(v, min, max)
}

/// The link watch keys, shared by [Team] (the team's watches) and
/// [TeamPort] (one port's own).
#[derive(Default, Debug)]
pub struct WatchKeys {
    pub kinds: Setting<Vec<String>>,
    pub up_delay: Setting<i64>,
    pub down_delay: Setting<i64>,
    pub interval: Setting<i64>,
    pub init_wait: Setting<i64>,
    pub missed_max: Setting<i64>,
    pub targets: Setting<Vec<String>>,
    pub source: Setting<String>,
    pub validate: Setting<String>,
    pub send_always: Setting<bool>,
    pub vlanid: Setting<i64>,
}

pub const WATCH_KINDS: [&str; 3] = ["ethtool", "arp_ping", "nsna_ping"];

impl WatchKeys {
    /// Takes `e` when it is a link watch key; false when it is not one.
    pub fn take(&mut self, s: &Section, e: &Entry, diags: &mut Diags) -> bool {
        match e.key.as_str() {
            "LinkWatch" => {
                add_list(&mut self.kinds, s, e);
                if let Some((kinds, origin)) = &self.kinds {
                    if let Some(bad) = kinds.iter().find(|k| !WATCH_KINDS.contains(&k.as_str())) {
                        diags.error(
                            origin.clone(),
                            format!(
                                "unknown link watch \"{bad}\"; expected {}",
                                WATCH_KINDS.join(", ")
                            ),
                        );
                    }
                }
            }
            "LinkWatchUpDelaySec" => set(&mut self.up_delay, s, e, diags, values::parse_ms),
            "LinkWatchDownDelaySec" => set(&mut self.down_delay, s, e, diags, values::parse_ms),
            "LinkWatchIntervalSec" => set(&mut self.interval, s, e, diags, values::parse_ms),
            "LinkWatchInitialWaitSec" => set(&mut self.init_wait, s, e, diags, values::parse_ms),
            "LinkWatchMissedMax" => set(&mut self.missed_max, s, e, diags, int(0, i32::MAX as i64)),
            "LinkWatchTargets" => add_list(&mut self.targets, s, e),
            "LinkWatchSourceAddress" => set(&mut self.source, s, e, diags, |v| {
                if v.parse::<Ipv4Addr>().is_ok() || values::valid_hostname(v) {
                    Ok(v.to_string())
                } else {
                    Err(format!("\"{v}\" is not an IPv4 address or host name"))
                }
            }),
            "LinkWatchValidate" => set(
                &mut self.validate,
                s,
                e,
                diags,
                one_of(&["none", "active", "inactive", "all"]),
            ),
            "LinkWatchSendAlways" => set(&mut self.send_always, s, e, diags, boolean),
            "LinkWatchVLANId" => set(&mut self.vlanid, s, e, diags, int(0, 4095)),
            _ => return false,
        }
        true
    }

    fn any_set(&self) -> Option<&Origin> {
        [
            self.up_delay.as_ref().map(|s| &s.1),
            self.down_delay.as_ref().map(|s| &s.1),
            self.interval.as_ref().map(|s| &s.1),
            self.init_wait.as_ref().map(|s| &s.1),
            self.missed_max.as_ref().map(|s| &s.1),
            self.targets.as_ref().map(|s| &s.1),
            self.source.as_ref().map(|s| &s.1),
            self.validate.as_ref().map(|s| &s.1),
            self.send_always.as_ref().map(|s| &s.1),
            self.vlanid.as_ref().map(|s| &s.1),
        ]
        .into_iter()
        .flatten()
        .next()
    }

    /// The teamd `link_watch` value: one object, or an array when there
    /// are several watches; None when LinkWatch= is not set. Values equal to
    /// teamd's defaults are left out.
    pub fn build(&self, diags: &mut Diags) -> Option<Value> {
        let Some((kinds, kinds_origin)) = &self.kinds else {
            if let Some(o) = self.any_set() {
                diags.warning(o.clone(), "has no effect without LinkWatch=; ignored");
            }
            return None;
        };
        let has = |k: &str| kinds.iter().any(|x| x == k);
        let unused = |slot_origin: Option<&Origin>, kind: &str, diags: &mut Diags| {
            if let Some(o) = slot_origin {
                diags.warning(
                    o.clone(),
                    format!("only applies to LinkWatch={kind}; ignored"),
                );
            }
        };
        if !has("ethtool") {
            unused(self.up_delay.as_ref().map(|s| &s.1), "ethtool", diags);
            unused(self.down_delay.as_ref().map(|s| &s.1), "ethtool", diags);
        }
        if !has("arp_ping") && !has("nsna_ping") {
            for o in [&self.interval, &self.init_wait, &self.missed_max] {
                unused(o.as_ref().map(|s| &s.1), "arp_ping or nsna_ping", diags);
            }
        }
        if !has("arp_ping") {
            unused(self.source.as_ref().map(|s| &s.1), "arp_ping", diags);
            unused(self.validate.as_ref().map(|s| &s.1), "arp_ping", diags);
            unused(self.send_always.as_ref().map(|s| &s.1), "arp_ping", diags);
            unused(self.vlanid.as_ref().map(|s| &s.1), "arp_ping", diags);
        }

        // targets: an IPv4 address pings with ARP, an IPv6 one with NS/NA; a
        // host name goes to whichever of the two is listed
        let mut arp_targets = Vec::new();
        let mut ns_targets = Vec::new();
        if let Some((targets, origin)) = &self.targets {
            for t in targets {
                if t.parse::<Ipv4Addr>().is_ok() {
                    if has("arp_ping") {
                        arp_targets.push(t.clone());
                    } else {
                        diags.error(
                            origin.clone(),
                            format!("IPv4 target {t} needs arp_ping in LinkWatch="),
                        );
                    }
                } else if t.parse::<Ipv6Addr>().is_ok() {
                    if has("nsna_ping") {
                        ns_targets.push(t.clone());
                    } else {
                        diags.error(
                            origin.clone(),
                            format!("IPv6 target {t} needs nsna_ping in LinkWatch="),
                        );
                    }
                } else if values::valid_hostname(t) {
                    match (has("arp_ping"), has("nsna_ping")) {
                        (true, false) => arp_targets.push(t.clone()),
                        (false, true) => ns_targets.push(t.clone()),
                        (true, true) => diags.error(
                            origin.clone(),
                            format!(
                                "host name {t} is ambiguous with both arp_ping and nsna_ping; \
                                 give an IPv4 or IPv6 address"
                            ),
                        ),
                        (false, false) => diags.error(
                            origin.clone(),
                            format!("target {t} needs arp_ping or nsna_ping in LinkWatch="),
                        ),
                    }
                } else {
                    diags.error(
                        origin.clone(),
                        format!("\"{t}\" is not an IP address or host name"),
                    );
                }
            }
        }
        for (kind, list, family) in [
            ("arp_ping", &arp_targets, "an IPv4 address or host name"),
            ("nsna_ping", &ns_targets, "an IPv6 address or host name"),
        ] {
            if has(kind) && list.is_empty() {
                diags.error(
                    kinds_origin.clone(),
                    format!("{kind} needs a target: set LinkWatchTargets= to {family}"),
                );
            }
        }

        let mut watches = Vec::new();
        let mut seen = Vec::new();
        for kind in kinds {
            if seen.contains(kind) || !WATCH_KINDS.contains(&kind.as_str()) {
                continue;
            }
            seen.push(kind.clone());
            match kind.as_str() {
                "ethtool" => {
                    let mut w = Map::new();
                    w.insert("name".into(), json!("ethtool"));
                    put_nonzero(&mut w, "delay_up", &self.up_delay, 0);
                    put_nonzero(&mut w, "delay_down", &self.down_delay, 0);
                    watches.push(Value::Object(w));
                }
                "arp_ping" => {
                    for t in &arp_targets {
                        let mut w = self.periodic("arp_ping", t);
                        if let Some((src, _)) = &self.source {
                            w.insert("source_host".into(), json!(src));
                        }
                        if let Some((v, _)) = &self.validate {
                            let (a, i) = match v.as_str() {
                                "active" => (true, false),
                                "inactive" => (false, true),
                                "all" => (true, true),
                                _ => (false, false),
                            };
                            if a {
                                w.insert("validate_active".into(), json!(true));
                            }
                            if i {
                                w.insert("validate_inactive".into(), json!(true));
                            }
                        }
                        if let Some((true, _)) = self.send_always {
                            w.insert("send_always".into(), json!(true));
                        }
                        if let Some((id, _)) = self.vlanid {
                            w.insert("vlanid".into(), json!(id));
                        }
                        watches.push(Value::Object(w));
                    }
                }
                _ => {
                    for t in &ns_targets {
                        watches.push(Value::Object(self.periodic("nsna_ping", t)));
                    }
                }
            }
        }
        match watches.len() {
            0 => None,
            1 => watches.pop(),
            _ => Some(Value::Array(watches)),
        }
    }

    fn periodic(&self, name: &str, target: &str) -> Map<String, Value> {
        let mut w = Map::new();
        w.insert("name".into(), json!(name));
        w.insert("target_host".into(), json!(target));
        put_nonzero(&mut w, "interval", &self.interval, 1000);
        put_nonzero(&mut w, "init_wait", &self.init_wait, 0);
        put_nonzero(&mut w, "missed_max", &self.missed_max, 3);
        w
    }
}

/// Inserts the value unless it is teamd's default.
fn put_nonzero(m: &mut Map<String, Value>, key: &str, slot: &Setting<i64>, default: i64) {
    if let Some((v, _)) = slot {
        if *v != default {
            m.insert(key.into(), json!(v));
        }
    }
}

/// Reports an unknown key; systemd-networkd only warns, but a team whose
/// settings are half read could come up in the wrong mode, so the team's
/// file is refused.
pub fn unknown_key(s: &Section, e: &Entry, diags: &mut Diags) {
    diags.error(s.origin(e), format!("unknown key in [{}]", s.name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ini;

    fn watches(text: &str) -> (Option<Value>, Vec<String>) {
        let mut d = Diags::default();
        let secs = ini::parse(text, "f", &mut d).expect("parses");
        let mut w = WatchKeys::default();
        for s in &secs {
            for e in &s.entries {
                assert!(w.take(s, e, &mut d), "{} is a watch key", e.key);
            }
        }
        let v = w.build(&mut d);
        (v, d.0.iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn ethtool_with_delays() {
        let (v, msgs) =
            watches("[Team]\nLinkWatch=ethtool\nLinkWatchUpDelaySec=2s\nLinkWatchDownDelaySec=0\n");
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(v, Some(json!({"name": "ethtool", "delay_up": 2000})));
    }

    #[test]
    fn one_arp_ping_per_target_and_defaults_left_out() {
        let (v, msgs) = watches(
            "[Team]\nLinkWatch=arp_ping\nLinkWatchIntervalSec=100ms\nLinkWatchMissedMax=3\n\
             LinkWatchInitialWaitSec=1s\nLinkWatchTargets=192.0.2.1\nLinkWatchTargets=gw.example\n\
             LinkWatchValidate=all\nLinkWatchSendAlways=yes\nLinkWatchVLANId=10\n\
             LinkWatchSourceAddress=192.0.2.9\n",
        );
        assert!(msgs.is_empty(), "{msgs:?}");
        let one = |t: &str| {
            json!({"name": "arp_ping", "target_host": t, "interval": 100, "init_wait": 1000,
                   "source_host": "192.0.2.9", "validate_active": true, "validate_inactive": true,
                   "send_always": true, "vlanid": 10})
        };
        assert_eq!(v, Some(json!([one("192.0.2.1"), one("gw.example")])));
    }

    #[test]
    fn mixed_watches_split_targets_by_family() {
        let (v, msgs) = watches(
            "[Team]\nLinkWatch=ethtool nsna_ping\nLinkWatch=arp_ping\n\
             LinkWatchTargets=192.0.2.1 2001:db8::1\n",
        );
        assert!(msgs.is_empty(), "{msgs:?}");
        assert_eq!(
            v,
            Some(json!([
                {"name": "ethtool"},
                {"name": "nsna_ping", "target_host": "2001:db8::1"},
                {"name": "arp_ping", "target_host": "192.0.2.1"},
            ]))
        );
    }

    #[test]
    fn empty_assignment_resets_the_list() {
        let (v, _) = watches("[Team]\nLinkWatch=arp_ping\nLinkWatchTargets=192.0.2.1\nLinkWatch=\nLinkWatch=ethtool\n");
        assert_eq!(v, Some(json!({"name": "ethtool"})));
    }

    #[test]
    fn mistakes_are_named() {
        let (_, msgs) = watches("[Team]\nLinkWatch=arp_ping\n");
        assert_eq!(
            msgs,
            ["f:2: [Team] LinkWatch=: arp_ping needs a target: set LinkWatchTargets= to an IPv4 address or host name"]
        );
        let (_, msgs) = watches("[Team]\nLinkWatch=mii\n");
        assert_eq!(
            msgs[0],
            "f:2: [Team] LinkWatch=: unknown link watch \"mii\"; expected ethtool, arp_ping, nsna_ping"
        );
        let (_, msgs) = watches(
            "[Team]\nLinkWatch=ethtool\nLinkWatchTargets=2001:db8::1\nLinkWatchVLANId=5000\n",
        );
        assert_eq!(
            msgs,
            [
                "f:4: [Team] LinkWatchVLANId=: \"5000\" is not an integer in the range 0…4095",
                "f:3: [Team] LinkWatchTargets=: IPv6 target 2001:db8::1 needs nsna_ping in LinkWatch=",
            ]
        );
        let (v, msgs) = watches("[Team]\nLinkWatchUpDelaySec=1s\n");
        assert_eq!(v, None);
        assert_eq!(
            msgs,
            ["f:2: [Team] LinkWatchUpDelaySec=: has no effect without LinkWatch=; ignored"]
        );
        let (_, msgs) = watches("[Team]\nLinkWatch=ethtool\nLinkWatchIntervalSec=1s\n");
        assert_eq!(
            msgs,
            ["f:3: [Team] LinkWatchIntervalSec=: only applies to LinkWatch=arp_ping or nsna_ping; ignored"]
        );
        let (_, msgs) =
            watches("[Team]\nLinkWatch=arp_ping nsna_ping\nLinkWatchTargets=gw.example\n");
        assert!(
            msgs[0].contains("host name gw.example is ambiguous"),
            "{msgs:?}"
        );
    }
}
