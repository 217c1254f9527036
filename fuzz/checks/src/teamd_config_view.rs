//! The typed view teamd derives from its config. teamd is a program, not a
//! library, so its `config.rs` is compiled here as it is; all it needs from the
//! rest of teamd is `crate::log::err` (in lib.rs). `TeamSettings::from_config`
//! exists only in teamd's tests, so its steps are called one by one here.

#[allow(dead_code, clippy::all)]
#[path = "../../../teamd-compat/teamd/src/config.rs"]
mod config;

use serde_json::Value;

/// Everything teamd reads through the typed view at start-up.
pub fn check(doc: Value) {
    let Ok(cfg) = config::Config::new(doc) else {
        return;
    };
    let _ = cfg.int(&["debug_level"]);
    let _ = config::hwaddr_setting(&cfg);
    let _ = config::link_watch_policy_setting(&cfg);
    for key in ["notify_peers", "mcast_rejoin"] {
        let _ = config::burst(&cfg, key);
    }
    for port in cfg.port_names() {
        let _ = config::PortSettings::from_config(&cfg, &port);
    }
    if let Some(hwaddr) = cfg.string(&["hwaddr"]) {
        let _ = config::parse_hwaddr(hwaddr);
    }
}
