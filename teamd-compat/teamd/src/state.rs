//! The state document (`StateDump`, `teamdctl state`) built from the model on
//! each request, and its items (`StateItemValueGet/Set`), with C teamd's paths.

use serde_json::{json, Map, Value};
use team_nl_client::cache::hwaddr_str;

use crate::core::Daemon;
// EINVAL: what C teamd answers for a `ports.` path whose port name cannot be cut out
// (ItemValueGetFail/SetFail), not ENOENT (PathDoesNotExist)
use crate::kernel::{Kernel, EINVAL, EOPNOTSUPP};
use crate::linkwatch;
use crate::log;
use crate::runner::ItemSetError;

fn ifinfo_json<K: Kernel>(k: &K, ifindex: u32) -> Value {
    let info = k.ifinfos().get(ifindex);
    ifinfo_value(
        ifindex,
        info.map(|i| i.ifname.as_str()).unwrap_or_default(),
        info.map(|i| i.hwaddr.as_slice()).unwrap_or_default(),
    )
}

/// A port's or the device's `ifinfo` object.
pub fn ifinfo_value(ifindex: u32, ifname: &str, hwaddr: &[u8]) -> Value {
    json!({
        "dev_addr": hwaddr_str(hwaddr),
        "dev_addr_len": hwaddr.len(),
        "ifindex": ifindex,
        "ifname": ifname,
    })
}

/// The whole state document.
pub fn dump<K: Kernel>(d: &Daemon<K>) -> Value {
    let ctx = &d.ctx;
    let k = &ctx.kernel;
    let mut root = Map::new();
    let mut ports = Map::new();
    for p in &ctx.ports {
        let Some(kp) = k.kernel_port(p.ifindex) else {
            continue; // only ports the kernel lists
        };
        let mut port = Map::new();
        port.insert("ifinfo".into(), ifinfo_json(k, p.ifindex));
        port.insert(
            "link".into(),
            json!({
                "up": kp.linkup,
                // the kernel's "unknown" (u32::MAX) reads as -1, as C teamd's int
                "speed": kp.speed as i32,
                "duplex": if kp.duplex != 0 { "full" } else { "half" },
            }),
        );
        port.insert("link_watches".into(), linkwatch::port_state(ctx, p.ifindex));
        if let Some(r) = d.runner.port_state(ctx, p.ifindex) {
            port.insert("runner".into(), r);
        }
        ports.insert(p.ifname.clone(), Value::Object(port));
    }
    if !ports.is_empty() {
        root.insert("ports".into(), Value::Object(ports));
    }
    if let Some(r) = d.runner.state(ctx) {
        root.insert("runner".into(), r);
    }
    root.insert(
        "setup".into(),
        json!({
            "runner_name": d.runner.name(),
            "kernel_team_mode_name": k.team_mode().unwrap_or_default(),
            "dbus_enabled": ctx.setup.dbus_enabled,
            "zmq_enabled": ctx.setup.zmq_enabled,
            "debug_level": log::debug_level(),
            "daemonized": ctx.setup.daemonized,
            "pid": ctx.setup.pid,
            "pid_file": ctx.setup.pid_file,
        }),
    );
    root.insert(
        "team_device".into(),
        json!({ "ifinfo": ifinfo_json(k, k.team_ifindex()) }),
    );
    Value::Object(root)
}

/// Why an item could not be read or written (mapped to control error codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemError {
    NoPath,
    ReadOnly,
    Failed(i32),
}

impl From<ItemSetError> for ItemError {
    fn from(e: ItemSetError) -> Self {
        match e {
            ItemSetError::NoPath => ItemError::NoPath,
            // a setter's EOPNOTSUPP is reported as OpNotSupp, as C teamd does
            ItemSetError::Failed(EOPNOTSUPP) => ItemError::ReadOnly,
            ItemSetError::Failed(errno) => ItemError::Failed(errno),
        }
    }
}

/// Splits `ports.<name>.rest` as C teamd does: a quoted name runs to the
/// *last* double quote and the one character after it is skipped, whatever it
/// is; an unquoted one runs to the next dot. `None`: not a port path;
/// `Some(Err)`: a port path with no name end (no dot, no closing quote).
fn split_port_path(path: &str) -> Option<Result<(&str, &str), ItemError>> {
    let rest = path.strip_prefix("ports.")?;
    if let Some(q) = rest.strip_prefix('"') {
        let Some(end) = q.rfind('"') else {
            return Some(Err(ItemError::Failed(EINVAL)));
        };
        let after = &q[end + 1..];
        // C skips one byte past the quote; at the string's end it would read
        // past it, which can only fail to match
        let skip = after.chars().next().map_or(0, char::len_utf8);
        Some(Ok((&q[..end], &after[skip..])))
    } else {
        Some(rest.split_once('.').ok_or(ItemError::Failed(EINVAL)))
    }
}

fn leaf<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let v = path.split('.').try_fold(v, |v, k| v.get(k))?;
    (!v.is_object() && !v.is_array()).then_some(v)
}

/// The port an item path names, matched on the given prefix of the name as C
/// teamd's strncmp does; the port's state subtree and the remaining path.
fn resolve<'a>(
    state: &'a Value,
    names: &[String],
    path: &'a str,
) -> Result<(&'a Value, &'a str), ItemError> {
    let Some(split) = split_port_path(path) else {
        return leaf(state, path)
            .map(|_| (state, path))
            .ok_or(ItemError::NoPath);
    };
    let (given, rest) = split?;
    let name = names
        .iter()
        .find(|n| n.starts_with(given))
        .ok_or(ItemError::NoPath)?;
    let port = state
        .get("ports")
        .and_then(|p| p.get(name.as_str()))
        .ok_or(ItemError::NoPath)?;
    if leaf(port, rest).is_some() {
        return Ok((port, rest));
    }
    // quirk: a global item also resolves under a port prefix
    leaf(state, rest)
        .map(|_| (state, rest))
        .ok_or(ItemError::NoPath)
}

/// StateItemValueGet on a state document (`dump`'s, or the bond backend's):
/// `names` are the current ports, in the order a name prefix matches them.
pub fn item_get_in(state: &Value, names: &[String], path: &str) -> Result<String, ItemError> {
    let (node, rest) = resolve(state, names, path)?;
    let v = leaf(node, rest).ok_or(ItemError::NoPath)?;
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(ItemError::Failed(EINVAL)),
    })
}

/// A C `long` parse of the whole string, within `int` range.
fn parse_int(s: &str) -> Option<i32> {
    s.parse::<i64>().ok().and_then(|v| i32::try_from(v).ok())
}

pub fn item_set<K: Kernel>(d: &mut Daemon<K>, path: &str, value: &str) -> Result<(), ItemError> {
    let state = dump(d);
    let names: Vec<String> = d.ctx.ports.iter().map(|p| p.ifname.clone()).collect();
    let (node, rest) = resolve(&state, &names, path)?;
    // a per-port item (not a global one reached through a port prefix)
    let port = match split_port_path(path) {
        Some(Ok((given, _))) if !std::ptr::eq(node, &state) => d
            .ctx
            .ports
            .iter()
            .find(|p| p.ifname.starts_with(given))
            .map(|p| p.ifindex),
        _ => None,
    };
    if let (Some(ifindex), true) = (port, rest.starts_with("runner.")) {
        return match d.runner.port_item_set(&mut d.ctx, ifindex, rest, value) {
            Err(ItemSetError::NoPath) => Err(ItemError::ReadOnly),
            r => r.map_err(ItemError::from),
        };
    }
    match rest {
        "setup.debug_level" => {
            let level = parse_int(value).ok_or(ItemError::Failed(EINVAL))?;
            if level < 0 {
                return Err(ItemError::Failed(EINVAL));
            }
            log::set_debug_level(level as u32);
            Ok(())
        }
        p if p.starts_with("runner.") => match d.runner.item_set(&mut d.ctx, p, value) {
            Err(ItemSetError::NoPath) => Err(ItemError::ReadOnly),
            r => r.map_err(ItemError::from),
        },
        _ => Err(ItemError::ReadOnly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_paths_allow_quotes_and_prefixes() {
        assert_eq!(
            split_port_path("ports.eth1.link.up"),
            Some(Ok(("eth1", "link.up")))
        );
        assert_eq!(
            split_port_path("ports.\"eth1.100\".link.up"),
            Some(Ok(("eth1.100", "link.up")))
        );
        // the name runs to the last quote, and any one character follows it
        assert_eq!(
            split_port_path("ports.\"a\"b\"xup"),
            Some(Ok(("a\"b", "up")))
        );
        assert_eq!(split_port_path("ports.\"eth1\""), Some(Ok(("eth1", ""))));
        assert_eq!(split_port_path("setup.pid"), None);
        let state = json!({
            "ports": {"eth1": {"link": {"up": true}}, "eth2": {"link": {"up": false}}},
            "setup": {"pid": 7}
        });
        let names = vec!["eth2".to_string(), "eth1".to_string()];
        let (node, rest) = resolve(&state, &names, "ports.eth.link.up").unwrap();
        assert_eq!(
            leaf(node, rest),
            Some(&json!(false)),
            "first port starting with eth"
        );
        let (node, rest) = resolve(&state, &names, "ports.eth1.setup.pid").unwrap();
        assert_eq!(leaf(node, rest), Some(&json!(7)));
        assert_eq!(
            resolve(&state, &names, "ports.eth1.link"),
            Err(ItemError::NoPath),
            "only leaves"
        );
        assert_eq!(resolve(&state, &names, "nope"), Err(ItemError::NoPath));
        assert_eq!(
            resolve(&state, &names, "ports.nope.link.up"),
            Err(ItemError::NoPath)
        );
    }

    #[test]
    fn port_paths_without_a_name_end_are_invalid_not_missing() {
        let state = json!({"ports": {"eth1": {"link": {"up": true}}}});
        let names = vec!["eth1".to_string()];
        for path in ["ports.eth1", "ports.\"eth1", "ports."] {
            assert_eq!(
                resolve(&state, &names, path),
                Err(ItemError::Failed(EINVAL)),
                "{path}"
            );
        }
    }

    #[test]
    fn int_parsing_is_whole_string_within_int() {
        assert_eq!(parse_int("12"), Some(12));
        assert_eq!(parse_int("12x"), None);
        assert_eq!(parse_int("4294967296"), None);
    }
}
