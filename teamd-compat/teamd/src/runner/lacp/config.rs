//! The lacp runner's settings: `runner.*` once at start, `ports.<if>.*` at
//! each port add, with C teamd's limits and messages.

use teamd_lacp::{Config as LacpConfig, PortConfig, SelectPolicy};

use crate::config::{Config, ConfigError, PortSettings};

/// C appends this line to every runner config error.
const LOAD_FAILED: &str = "Failed to load config values.";

fn limits(key: &str) -> ConfigError {
    ConfigError(format!(
        "\"{key}\" value is out of its limits.\n{LOAD_FAILED}"
    ))
}

/// `runner.active`, `fast_rate`, `sys_prio`, `min_ports`, `agg_select_policy`,
/// and our `fallback`.
pub fn runner_config(cfg: &Config) -> Result<LacpConfig, ConfigError> {
    let d = LacpConfig::default();
    let active = cfg.boolean(&["runner", "active"]).unwrap_or(d.active);
    let sys_prio = match cfg.int(&["runner", "sys_prio"]) {
        None => d.sys_prio,
        Some(v) => u16::try_from(v).map_err(|_| limits("sys_prio"))?,
    };
    let fast_rate = cfg.boolean(&["runner", "fast_rate"]).unwrap_or(d.fast_rate);
    let min_ports = match cfg.int(&["runner", "min_ports"]) {
        None => d.min_ports,
        Some(v @ 1..=1024) => v as u32,
        Some(_) => return Err(limits("min_ports")),
    };
    let agg_select_policy = match cfg.string(&["runner", "agg_select_policy"]) {
        None => d.agg_select_policy,
        Some(name) => SelectPolicy::from_name(name).ok_or_else(|| {
            ConfigError(format!(
                "Unknown \"agg_select_policy\" named \"{name}\" passed.\n{LOAD_FAILED}"
            ))
        })?,
    };
    let fallback = cfg.boolean(&["runner", "fallback"]).unwrap_or(false);
    Ok(LacpConfig {
        active,
        fast_rate,
        sys_prio,
        min_ports,
        agg_select_policy,
        fallback,
    })
}

/// `ports.<if>.lacp_prio`, `lacp_key` (0..=65535) and `sticky`.
pub fn port_config(ifname: &str, s: &PortSettings) -> Result<PortConfig, String> {
    let d = PortConfig::default();
    let field = |v: Option<i32>, dflt: u16, key: &str| match v {
        None => Ok(dflt),
        Some(v) => u16::try_from(v).map_err(|_| {
            format!("{ifname}: \"{key}\" value is out of its limits.\nFailed to load port config.")
        }),
    };
    Ok(PortConfig {
        lacp_prio: field(s.lacp_prio, d.lacp_prio, "lacp_prio")?,
        lacp_key: field(s.lacp_key, d.lacp_key, "lacp_key")?,
        sticky: s.sticky,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(runner: serde_json::Value) -> Config {
        Config::new(json!({ "runner": runner })).unwrap()
    }

    #[test]
    fn defaults_as_c_teamd() {
        let c = runner_config(&cfg(json!({"name": "lacp"}))).unwrap();
        assert_eq!(c, LacpConfig::default());
        assert!(c.active && !c.fast_rate && !c.fallback);
        assert_eq!((c.sys_prio, c.min_ports), (65535, 1));
        assert_eq!(c.agg_select_policy, SelectPolicy::LacpPrio);
    }

    #[test]
    fn values_and_limits() {
        let c = runner_config(&cfg(json!({
            "active": false, "fast_rate": true, "sys_prio": 0, "min_ports": 1024,
            "agg_select_policy": "bandwidth", "fallback": true
        })))
        .unwrap();
        assert!(!c.active && c.fast_rate && c.fallback);
        assert_eq!((c.sys_prio, c.min_ports), (0, 1024));
        assert_eq!(c.agg_select_policy, SelectPolicy::Bandwidth);
        for (k, v) in [
            ("sys_prio", -1),
            ("sys_prio", 65536),
            ("min_ports", 0),
            ("min_ports", 1025),
        ] {
            let e = runner_config(&cfg(json!({ k: v }))).unwrap_err();
            assert_eq!(
                e.0,
                format!("\"{k}\" value is out of its limits.\nFailed to load config values.")
            );
        }
        let e = runner_config(&cfg(json!({"agg_select_policy": "best"}))).unwrap_err();
        assert!(e
            .0
            .starts_with("Unknown \"agg_select_policy\" named \"best\" passed."));
        // wrong JSON types read as absent
        let c = runner_config(&cfg(json!({"sys_prio": "1", "fast_rate": 1}))).unwrap();
        assert_eq!(c, LacpConfig::default());
    }

    #[test]
    fn port_values() {
        let s = PortSettings {
            lacp_prio: Some(10),
            lacp_key: Some(65535),
            sticky: true,
            ..PortSettings::default()
        };
        let p = port_config("eth1", &s).unwrap();
        assert_eq!((p.lacp_prio, p.lacp_key, p.sticky), (10, 65535, true));
        let p = port_config("eth1", &PortSettings::default()).unwrap();
        assert_eq!((p.lacp_prio, p.lacp_key), (255, 0));
        let bad = PortSettings {
            lacp_key: Some(70000),
            ..PortSettings::default()
        };
        assert!(port_config("eth1", &bad)
            .unwrap_err()
            .starts_with("eth1: \"lacp_key\" value is out of its limits."));
    }
}
