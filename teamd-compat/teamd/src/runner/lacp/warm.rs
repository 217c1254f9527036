//! The lacp runner's part of the warm-restart state file: the machine's
//! [`Snapshot`] as JSON and back, strictly (a bad value names its key).
//!
//! ```json
//! {"admin_up": true, "carrier_up": true, "partner_seen": true, "selected_aggregator": 3,
//!  "ports": [{"ifindex": 3, "ifname": "p0", "orig_mac": "02:00:00:00:00:03",
//!             "state": "current", "link": {"up": true, "speed": 1000, "duplex": 1},
//!             "aggregator": 3, "enabled": true,
//!             "actor": {"system_priority": 65535, "system": "…", "key": 0,
//!                       "port_priority": 255, "port": 3, "state": 63},
//!             "partner": {…}}]}
//! ```

use serde_json::{json, Value};
use teamd_lacp::LacpduInfo;
use teamd_lacp::{Link, PortSnapshot, PortState, Snapshot};

use crate::warm::{
    array_at, bool_at, field, mac_from_str, mac_to_str, opt_u32_at, str_at, u16_at, u32_at, u8_at,
};

fn info_json(i: &LacpduInfo) -> Value {
    json!({
        "system_priority": i.system_priority,
        "system": mac_to_str(&i.system),
        "key": i.key,
        "port_priority": i.port_priority,
        "port": i.port,
        "state": i.state,
    })
}

fn mac6(s: &str) -> Option<[u8; 6]> {
    mac_from_str(s)?.try_into().ok()
}

fn info_from(v: &Value) -> Result<LacpduInfo, String> {
    let system = str_at(v, "system")?;
    Ok(LacpduInfo {
        system_priority: u16_at(v, "system_priority")?,
        system: mac6(system).ok_or_else(|| format!("\"system\" {system:?} is not a MAC"))?,
        key: u16_at(v, "key")?,
        port_priority: u16_at(v, "port_priority")?,
        port: u16_at(v, "port")?,
        state: u8_at(v, "state")?,
    })
}

fn state_from(name: &str) -> Result<PortState, String> {
    [
        PortState::Disabled,
        PortState::Current,
        PortState::Expired,
        PortState::Defaulted,
    ]
    .into_iter()
    .find(|s| s.name() == name)
    .ok_or_else(|| format!("\"state\" {name:?} is not a port state"))
}

pub fn to_json(s: &Snapshot) -> Value {
    json!({
        "admin_up": s.admin_up,
        "carrier_up": s.carrier_up,
        "partner_seen": s.partner_seen,
        "selected_aggregator": s.selected_lead,
        "ports": s.ports.iter().map(|p| json!({
            "ifindex": p.ifindex,
            "ifname": p.ifname,
            "orig_mac": p.orig_mac.map(|m| mac_to_str(&m)),
            "state": p.state.name(),
            "link": {"up": p.link.up, "speed": p.link.speed, "duplex": p.link.duplex},
            "aggregator": p.agg_lead,
            "enabled": p.enabled,
            "actor": info_json(&p.actor),
            "partner": info_json(&p.partner),
        })).collect::<Vec<_>>(),
    })
}

fn port_from(v: &Value) -> Result<PortSnapshot, String> {
    let link = field(v, "link")?;
    let orig_mac = match field(v, "orig_mac")? {
        Value::Null => None,
        _ => {
            let s = str_at(v, "orig_mac")?;
            Some(mac6(s).ok_or_else(|| format!("\"orig_mac\" {s:?} is not a MAC"))?)
        }
    };
    Ok(PortSnapshot {
        ifindex: u32_at(v, "ifindex")?,
        ifname: str_at(v, "ifname")?.to_string(),
        orig_mac,
        state: state_from(str_at(v, "state")?)?,
        link: Link {
            up: bool_at(link, "up").map_err(|e| format!("link: {e}"))?,
            speed: u32_at(link, "speed").map_err(|e| format!("link: {e}"))?,
            duplex: u8_at(link, "duplex").map_err(|e| format!("link: {e}"))?,
        },
        actor: info_from(field(v, "actor")?).map_err(|e| format!("actor: {e}"))?,
        partner: info_from(field(v, "partner")?).map_err(|e| format!("partner: {e}"))?,
        agg_lead: opt_u32_at(v, "aggregator")?,
        enabled: bool_at(v, "enabled")?,
    })
}

pub fn from_json(v: &Value) -> Result<Snapshot, String> {
    let ports = array_at(v, "ports")?
        .iter()
        .map(port_from)
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| format!("ports: {e}"))?;
    Ok(Snapshot {
        admin_up: bool_at(v, "admin_up")?,
        carrier_up: bool_at(v, "carrier_up")?,
        partner_seen: bool_at(v, "partner_seen")?,
        selected_lead: opt_u32_at(v, "selected_aggregator")?,
        ports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use teamd_lacp::lacpdu::state as bits;

    fn snapshot() -> Snapshot {
        let info = |system: [u8; 6], port: u16, state: u8| LacpduInfo {
            system_priority: 65535,
            system,
            key: 9,
            port_priority: 255,
            port,
            state,
        };
        let sync = bits::LACP_ACTIVITY | bits::LACP_TIMEOUT | bits::SYNCHRONIZATION;
        Snapshot {
            admin_up: true,
            carrier_up: true,
            partner_seen: true,
            selected_lead: Some(3),
            ports: vec![
                PortSnapshot {
                    ifindex: 4,
                    ifname: "p1".into(),
                    orig_mac: Some([2, 0, 0, 0, 0, 4]),
                    state: PortState::Current,
                    link: Link {
                        up: true,
                        speed: 0,
                        duplex: 0,
                    },
                    actor: info([2, 0, 0, 0, 0, 0x10], 4, sync),
                    partner: info([2, 0, 0, 0, 0, 0x99], 14, sync),
                    agg_lead: Some(3),
                    enabled: true,
                },
                PortSnapshot {
                    ifindex: 3,
                    ifname: "p0".into(),
                    orig_mac: None,
                    state: PortState::Defaulted,
                    link: Link::default(),
                    actor: info([2, 0, 0, 0, 0, 0x10], 3, bits::DEFAULTED),
                    partner: LacpduInfo::default(),
                    agg_lead: None,
                    enabled: false,
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let s = snapshot();
        let v = to_json(&s);
        assert_eq!(v["ports"][0]["state"], "current");
        assert_eq!(v["ports"][0]["partner"]["system"], "02:00:00:00:00:99");
        assert_eq!(v["ports"][1]["orig_mac"], Value::Null);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(from_json(&serde_json::from_str(&text).unwrap()), Ok(s));
    }

    #[test]
    fn bad_values_name_their_key() {
        let good = to_json(&snapshot());
        let bad = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            from_json(&v).unwrap_err()
        };
        let e = bad(&|v| v["ports"][0]["state"] = json!("collecting"));
        assert!(e.contains("\"state\" \"collecting\""), "{e}");
        let e = bad(&|v| v["ports"][0]["partner"]["system"] = json!("02:00"));
        assert!(e.contains("partner: \"system\""), "{e}");
        let e = bad(&|v| v["ports"][0]["actor"]["state"] = json!(256));
        assert!(e.contains("actor: \"state\" is out of range"), "{e}");
        let e = bad(&|v| v["ports"][1]["link"] = json!({"up": 1}));
        assert!(e.contains("link: \"up\""), "{e}");
        let e = bad(&|v| v["selected_aggregator"] = json!("p0"));
        assert!(e.contains("selected_aggregator"), "{e}");
        let e = bad(&|v| {
            v.as_object_mut().unwrap().remove("carrier_up");
        });
        assert!(e.contains("\"carrier_up\" missing"), "{e}");
    }
}
