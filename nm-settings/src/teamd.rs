//! A whole teamd config (`device`, `ports` and the rest) against NM's split
//! into one team profile and one profile per port: NM stores the team part
//! in `team.config` (without `device` and `ports`) and each port's part in
//! its `team-port.config`.

use serde_json::Value;

use crate::Error;

/// A teamd config split the way NM profiles hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub device: Option<String>,
    /// The config without `device` and `ports`, in teamd's dump format.
    pub team_config: String,
    /// (port, its config) in the order of the `ports` object.
    pub ports: Vec<(String, String)>,
}

/// Splits a teamd config; duplicate keys and non-object parts are refused.
pub fn split(text: &str) -> Result<Split, Error> {
    let mut v =
        teamd_ctl_proto::json::parse_strict(text).map_err(|e| Error::Json(e.to_string()))?;
    let root = v
        .as_object_mut()
        .ok_or_else(|| Error::Invalid("teamd config is not an object".into()))?;
    let device = match root.remove("device") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(Error::Invalid("device is not a string".into())),
    };
    let ports = match root.remove("ports") {
        None => Vec::new(),
        Some(Value::Object(ports)) => ports
            .into_iter()
            .map(|(name, cfg)| {
                if cfg.is_object() {
                    Ok((name, teamd_ctl_proto::json::dump_compact(&cfg)))
                } else {
                    Err(Error::Invalid(format!("ports.{name} is not an object")))
                }
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(Error::Invalid("ports is not an object".into())),
    };
    Ok(Split {
        device,
        team_config: teamd_ctl_proto::json::dump_compact(&v),
        ports,
    })
}

/// The teamd config a team profile and its ports amount to, as teamd gets
/// it: `device` from the interface name, `ports` from the port profiles
/// (an empty port config counts as `{}`).
pub fn join(device: &str, team_config: &str, ports: &[(String, String)]) -> Result<String, Error> {
    let parse = |t: &str| -> Result<Value, Error> {
        if t.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        teamd_ctl_proto::json::parse_strict(t).map_err(|e| Error::Json(e.to_string()))
    };
    let mut v = parse(team_config)?;
    let root = v
        .as_object_mut()
        .ok_or_else(|| Error::Invalid("team config is not an object".into()))?;
    root.insert("device".into(), Value::String(device.to_string()));
    if !ports.is_empty() {
        let mut map = serde_json::Map::new();
        for (name, cfg) in ports {
            let cfg = parse(cfg)?;
            if !cfg.is_object() {
                return Err(Error::Invalid(format!(
                    "config of port {name} is not an object"
                )));
            }
            map.insert(name.clone(), cfg);
        }
        root.insert("ports".into(), Value::Object(map));
    }
    Ok(teamd_ctl_proto::json::dump_pretty(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join() {
        let s = split(
            r#"{"device": "team0", "runner": {"name": "activebackup"},
                "ports": {"eth1": {"prio": 100, "sticky": true}, "eth2": {}}}"#,
        )
        .unwrap();
        assert_eq!(s.device.as_deref(), Some("team0"));
        assert_eq!(s.team_config, r#"{"runner": {"name": "activebackup"}}"#);
        assert_eq!(
            s.ports,
            vec![
                (
                    "eth1".to_string(),
                    r#"{"prio": 100, "sticky": true}"#.to_string()
                ),
                ("eth2".to_string(), "{}".to_string()),
            ]
        );
        let joined = join("team0", &s.team_config, &s.ports).unwrap();
        let back = split(&joined).unwrap();
        assert_eq!(back, s);
        // an empty team.config is {} (roundrobin) with the device added
        let empty = join("nm-team", "", &[]).unwrap();
        assert_eq!(split(&empty).unwrap().team_config, "{}");
    }

    #[test]
    fn malformed_configs() {
        assert!(split("[1]").is_err());
        assert!(split(r#"{"device": 1}"#).is_err());
        assert!(split(r#"{"ports": []}"#).is_err());
        assert!(split(r#"{"ports": {"a": 1}}"#).is_err());
        assert!(split(r#"{"a": 1, "a": 2}"#).is_err());
        assert!(join("t", "[]", &[]).is_err());
        assert!(join("t", "{}", &[("p".into(), "3".into())]).is_err());
    }
}
