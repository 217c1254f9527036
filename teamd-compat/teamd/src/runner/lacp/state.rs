//! The lacp runner's part of the state document: the global `runner`
//! section and each port's `ports.<if>.runner`, with C teamd's keys.

use serde_json::{json, Value};
use team_nl_client::cache::hwaddr_str;
use teamd_lacp::{Config, Lacp, LacpduInfo};

fn info_json(i: &LacpduInfo) -> Value {
    json!({
        "system_priority": i.system_priority,
        "system": hwaddr_str(&i.system),
        "key": i.key,
        "port_priority": i.port_priority,
        "port": i.port,
        "state": i.state,
    })
}

pub fn runner(cfg: &Config) -> Value {
    json!({
        "active": cfg.active,
        "fast_rate": cfg.fast_rate,
        "sys_prio": cfg.sys_prio,
        "select_policy": cfg.agg_select_policy.name(),
    })
}

pub fn port(lacp: &Lacp, ifindex: u32) -> Option<Value> {
    let p = lacp.port(ifindex)?;
    Some(json!({
        "selected": p.selected(),
        "aggregator": {
            "id": p.agg_lead.unwrap_or(0),
            "selected": lacp.agg_selected(ifindex),
        },
        "state": p.state.name(),
        "key": p.cfg.lacp_key,
        "prio": p.cfg.lacp_prio,
        "actor_lacpdu_info": info_json(&p.actor),
        "partner_lacpdu_info": info_json(&p.partner),
    }))
}
