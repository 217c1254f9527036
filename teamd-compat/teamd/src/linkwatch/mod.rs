//! The link-watch framework: which watchers a port gets (its own list, then
//! the global one, else an implicit ethtool watch written into the config),
//! their up/down bookkeeping, and the per-port summary that teamd writes to
//! the kernel's `user_linkup`. One file per watcher kind.

pub mod ethtool;

use serde_json::{json, Map, Value};

use crate::config::{int_of, str_of, Config};
use crate::kernel::{KResult, Kernel};
use crate::log;
use crate::packet::{RxFrame, SockKey};
use crate::team::Ctx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchKind {
    Ethtool(ethtool::Ethtool),
}

impl WatchKind {
    pub fn name(&self) -> &'static str {
        match self {
            WatchKind::Ethtool(_) => "ethtool",
        }
    }
}

/// One watcher instance of one port (`link_watch_<id>` in the state dump).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWatch {
    pub id: u32,
    pub up: bool,
    pub down_count: i32,
    pub kind: WatchKind,
}

impl LinkWatch {
    /// This watcher's entry in `ports.<if>.link_watches.list`.
    pub fn state(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.kind.name()));
        m.insert("up".into(), json!(self.up));
        m.insert("down_count".into(), json!(self.down_count));
        match &self.kind {
            WatchKind::Ethtool(e) => e.state(&mut m),
        }
        Value::Object(m)
    }
}

/// Builds one watcher from its config object.
fn watch_from(ifname: &str, v: &Value, id: u32, up: bool) -> Result<LinkWatch, String> {
    let name =
        str_of(v.get("name")).ok_or_else(|| format!("{ifname}: Failed to get link watch name."))?;
    let kind = match name {
        "ethtool" => WatchKind::Ethtool(ethtool::Ethtool::from_config(v)?),
        other => return Err(format!("No link_watch named \"{other}\" available.")),
    };
    Ok(LinkWatch {
        id,
        up,
        down_count: 0,
        kind,
    })
}

/// Config objects of a `link_watch` value: an object, or each element of an array.
fn watch_objects(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The watchers of a newly added port: its own, then the global ones. When
/// there are none, `ports.<if>.link_watch = {"name": "ethtool"}` is written into
/// the config and used, as C teamd does. `up` is the port's current kernel
/// `user_linkup`, every watcher's starting state. Returned newest first.
pub fn load(config: &mut Config, ifname: &str, up: bool) -> Result<Vec<LinkWatch>, String> {
    let mut watches = Vec::new();
    let sources = [
        config.get(&["ports", ifname, "link_watch"]).cloned(),
        config.get(&["link_watch"]).cloned(),
    ];
    for v in sources.iter().flatten() {
        for obj in watch_objects(v) {
            let id = watches.len() as u32;
            watches.push(watch_from(ifname, obj, id, up)?);
        }
    }
    if watches.is_empty() {
        config.set(&["ports", ifname, "link_watch", "name"], json!("ethtool"));
        log::dbg(1, || format!("{ifname}: Using implicit link watch."));
        return load(config, ifname, up);
    }
    watches.reverse();
    Ok(watches)
}

/// Starts the watches `load()` put on a port (sockets, timers). The ethtool
/// watch needs nothing: it follows the kernel's port events.
pub async fn start_port<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32) -> Result<(), String> {
    let kinds: Vec<(u32, WatchKind)> = match ctx.port(ifindex) {
        Some(p) => p.watches.iter().map(|w| (w.id, w.kind.clone())).collect(),
        None => return Ok(()),
    };
    for (_id, kind) in kinds {
        match kind {
            WatchKind::Ethtool(_) => {}
        }
    }
    Ok(())
}

/// Stops every watch of a port: closes their sockets and timers.
pub fn stop_port<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32) {
    let ids: Vec<u32> = match ctx.port(ifindex) {
        Some(p) => p.watches.iter().map(|w| w.id).collect(),
        None => return,
    };
    for watch in ids {
        ctx.kernel
            .packet_close(SockKey::LinkWatch { ifindex, watch });
        ctx.timers.cancel_watch(ifindex, watch);
    }
}

/// A frame arrived on a watch's socket; true when the watch's state changed.
pub fn on_packet<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch: u32, frame: &RxFrame) -> bool {
    let Some(kind) = ctx
        .port(ifindex)
        .and_then(|p| p.watches.iter().find(|w| w.id == watch))
        .map(|w| w.kind.clone())
    else {
        return false; // a frame queued before the watch went away
    };
    match kind {
        WatchKind::Ethtool(_) => {
            let _ = frame;
            false
        }
    }
}

/// A watch's timer fired; true when the watch's state changed.
pub async fn on_timer<K: Kernel>(
    ctx: &mut Ctx<K>,
    ifindex: u32,
    watch: u32,
    id: u8,
) -> KResult<bool> {
    let Some(kind) = ctx
        .port(ifindex)
        .and_then(|p| p.watches.iter().find(|w| w.id == watch))
        .map(|w| w.kind.clone())
    else {
        return Ok(false);
    };
    match kind {
        WatchKind::Ethtool(_) => {
            let _ = id;
            Ok(false)
        }
    }
}

/// Records a watcher's verdict; true when the watcher's state changed.
pub fn check_link_up<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32, watch_id: u32, up: bool) -> bool {
    let Some(port) = ctx.port_mut(ifindex) else {
        return false;
    };
    let ifname = port.ifname.clone();
    let Some(w) = port.watches.iter_mut().find(|w| w.id == watch_id) else {
        return false;
    };
    if w.up == up {
        return false;
    }
    w.up = up;
    if !up && w.down_count < i32::MAX {
        w.down_count += 1;
    }
    log::info(&format!(
        "{ifname}: {}-link went {}.",
        w.kind.name(),
        if up { "up" } else { "down" }
    ));
    true
}

/// Writes the port's link summary to the kernel's `user_linkup` if it differs.
pub async fn refresh_user_linkup<K: Kernel>(ctx: &mut Ctx<K>, ifindex: u32) -> KResult {
    if !ctx.port_present(ifindex) {
        return Ok(());
    }
    let link = ctx.port_link_up(ifindex);
    if ctx.kernel.port_bool("user_linkup", ifindex) == Some(link) {
        return Ok(());
    }
    ctx.kernel.set_port_bool("user_linkup", ifindex, link).await
}

/// `ports.<if>.link_watches` of the state dump.
pub fn port_state<K: Kernel>(ctx: &Ctx<K>, ifindex: u32) -> Value {
    let mut list = Map::new();
    if let Some(port) = ctx.port(ifindex) {
        for w in &port.watches {
            list.insert(format!("link_watch_{}", w.id), w.state());
        }
    }
    json!({ "list": Value::Object(list), "up": ctx.port_link_up(ifindex) })
}

/// A non-negative millisecond option of a watcher (`delay_up`, `interval`, …).
pub fn non_negative_ms(v: &Value, key: &str) -> Result<Option<u32>, String> {
    match int_of(v.get(key)) {
        Some(ms) if ms < 0 => Err(format!("\"{key}\" must not be negative number.")),
        Some(ms) => Ok(Some(ms as u32)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_watches_come_before_global_ones_and_both_apply() {
        let mut c = Config::new(json!({
            "link_watch": {"name": "ethtool", "delay_up": 5},
            "ports": {"eth1": {"link_watch": [{"name": "ethtool"}, {"name": "ethtool", "delay_down": 7}]}}
        }))
        .unwrap();
        let w = load(&mut c, "eth1", false).unwrap();
        // newest first: global (id 2), then the port's second and first
        let ids: Vec<u32> = w.iter().map(|w| w.id).collect();
        assert_eq!(ids, [2, 1, 0]);
        assert_eq!(
            w[0].kind,
            WatchKind::Ethtool(ethtool::Ethtool {
                delay_up: 5,
                delay_down: 0
            })
        );
    }

    #[test]
    fn implicit_ethtool_is_written_into_the_config() {
        let mut c = Config::new(json!({"device": "team0"})).unwrap();
        let w = load(&mut c, "eth2", true).unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].up);
        assert_eq!(
            c.string(&["ports", "eth2", "link_watch", "name"]),
            Some("ethtool")
        );
    }

    #[test]
    fn bad_watch_configs_are_named() {
        let mut c = Config::new(json!({"link_watch": {"name": "carrier_pigeon"}})).unwrap();
        assert_eq!(
            load(&mut c, "eth1", false).unwrap_err(),
            "No link_watch named \"carrier_pigeon\" available."
        );
        let mut c = Config::new(json!({"link_watch": {"delay_up": 1}})).unwrap();
        assert_eq!(
            load(&mut c, "eth1", false).unwrap_err(),
            "eth1: Failed to get link watch name."
        );
        let mut c =
            Config::new(json!({"link_watch": {"name": "ethtool", "delay_up": -1}})).unwrap();
        assert!(load(&mut c, "eth1", false).is_err());
    }
}
