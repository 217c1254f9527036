//! Typed view of `runner.tx_balancer` (and the warnings shared with `runner.tx_hash`).
//!
//! Nothing here rejects a config: C teamd falls back to defaults for every bad value and
//! at most logs, so parsing returns the value plus the messages teamd would log.

use std::fmt;

use serde_json::Value;

/// `tx_balancer.balancing_interval` when absent or unusable: 5 s, in tenths of a second.
pub const DEFAULT_BALANCING_INTERVAL: u32 = 50;

/// A message C teamd logs while reading these keys; the config is still accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigWarning {
    /// Unknown `tx_hash` entry (teamd: warning level).
    UnknownHashFrag(String),
    /// A value that should be a string is not (teamd: error level). Names the key.
    NotAString(&'static str),
    /// A value that should be an integer is not (teamd: error level). Names the key.
    NotAnInteger(&'static str),
}

impl ConfigWarning {
    /// Whether teamd logs this at error level (the others are warnings).
    pub fn is_error_level(&self) -> bool {
        !matches!(self, ConfigWarning::UnknownHashFrag(_))
    }
}

impl fmt::Display for ConfigWarning {
    // teamd's exact wording; the key is not part of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigWarning::UnknownHashFrag(name) => {
                write!(f, "Hash frag named \"{name}\" not found.")
            }
            ConfigWarning::NotAString(_) => {
                f.write_str("Failed to get string from non-string object")
            }
            ConfigWarning::NotAnInteger(_) => {
                f.write_str("Failed to get integer from non-integer object")
            }
        }
    }
}

/// `runner.tx_balancer`, shared by the loadbalance and lacp runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxBalancerConfig {
    /// `name == "basic"`: kernel `lb_tx_method` = `hash_to_port_mapping` and the balancer
    /// rebalances; otherwise `hash` and it stays passive.
    pub enabled: bool,
    /// Tenths of a second, written to `lb_stats_refresh_interval` when enabled.
    pub balancing_interval: u32,
}

impl Default for TxBalancerConfig {
    fn default() -> Self {
        TxBalancerConfig {
            enabled: false,
            balancing_interval: DEFAULT_BALANCING_INTERVAL,
        }
    }
}

impl TxBalancerConfig {
    /// Reads the `tx_balancer` value (pass `Value::Null` when the key is absent).
    pub fn from_json(tx_balancer: &Value) -> Self {
        Self::parse(tx_balancer).0
    }

    /// Reads `runner.tx_balancer` from the runner object.
    pub fn from_runner(runner: &Value) -> Self {
        Self::from_json(runner.get("tx_balancer").unwrap_or(&Value::Null))
    }

    /// As [`TxBalancerConfig::from_json`], also returning what teamd would log.
    pub fn parse(tx_balancer: &Value) -> (Self, Vec<ConfigWarning>) {
        let mut warnings = Vec::new();
        // `get` on a non-object is None, as teamd's path lookup fails silently there.
        let enabled = match tx_balancer.get("name") {
            None => false,
            Some(Value::String(name)) => name == "basic",
            Some(_) => {
                warnings.push(ConfigWarning::NotAString("runner.tx_balancer.name"));
                false
            }
        };
        let balancing_interval = match tx_balancer.get("balancing_interval") {
            None => DEFAULT_BALANCING_INTERVAL,
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                // teamd stores the JSON integer into a C int (truncating to 32 bits)
                // before the negativity check.
                let wide = n.as_i64().unwrap_or_else(|| n.as_u64().unwrap_or(0) as i64);
                u32::try_from(wide as i32).unwrap_or(DEFAULT_BALANCING_INTERVAL)
            }
            Some(_) => {
                warnings.push(ConfigWarning::NotAnInteger(
                    "runner.tx_balancer.balancing_interval",
                ));
                DEFAULT_BALANCING_INTERVAL
            }
        };
        (
            TxBalancerConfig {
                enabled,
                balancing_interval,
            },
            warnings,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> TxBalancerConfig {
        TxBalancerConfig::from_json(&v)
    }

    #[test]
    fn defaults() {
        assert_eq!(cfg(Value::Null), TxBalancerConfig::default());
        assert_eq!(cfg(json!({})), TxBalancerConfig::default());
        assert_eq!(cfg(json!("basic")), TxBalancerConfig::default());
        assert_eq!(
            TxBalancerConfig::from_runner(&json!({"name": "loadbalance"})),
            TxBalancerConfig::default()
        );
    }

    #[test]
    fn name() {
        assert!(cfg(json!({"name": "basic"})).enabled);
        assert!(!cfg(json!({"name": "Basic"})).enabled);
        assert!(!cfg(json!({"name": "other"})).enabled);
        let (c, w) = TxBalancerConfig::parse(&json!({"name": 1}));
        assert!(!c.enabled);
        assert_eq!(w, [ConfigWarning::NotAString("runner.tx_balancer.name")]);
        assert!(w[0].is_error_level());
        assert!(TxBalancerConfig::from_runner(&json!({"tx_balancer": {"name": "basic"}})).enabled);
    }

    #[test]
    fn balancing_interval() {
        let iv = |v: Value| cfg(json!({ "balancing_interval": v })).balancing_interval;
        assert_eq!(iv(json!(0)), 0);
        assert_eq!(iv(json!(10)), 10);
        assert_eq!(iv(json!(-1)), 50);
        assert_eq!(iv(json!(2147483647)), 2147483647);
        // C int truncation: 2^31 is negative, 2^32 + 7 is 7.
        assert_eq!(iv(json!(2147483648u64)), 50);
        assert_eq!(iv(json!(4294967303u64)), 7);
        assert_eq!(iv(json!(1.0)), 50);
        let (c, w) = TxBalancerConfig::parse(&json!({"balancing_interval": "10"}));
        assert_eq!(c.balancing_interval, 50);
        assert_eq!(
            w.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["Failed to get integer from non-integer object"]
        );
    }
}
