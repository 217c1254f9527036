//! The state document (`StateDump`, `teamdctl state`) built from the model on
//! each request, and its items (`StateItemValueGet/Set`), with C teamd's paths.

use serde_json::{json, Map, Value};
use team_nl_client::cache::hwaddr_str;

use crate::core::Daemon;
pub use crate::item_path::{item_get_in, ItemError};
use crate::item_path::{parse_int, resolve, split_port_path};
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
