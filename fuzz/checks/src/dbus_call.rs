//! A D-Bus method call on `org.libteam.teamd`: the first byte picks the method
//! of teamd-dbus's table, the rest is the call's body (D-Bus marshalling,
//! little-endian). The body is read with the method's signature from the
//! table, as zbus does before the interface method runs; the strings go to
//! teamd's request handler (`teamd-compat/teamd/src/handler.rs`, compiled in
//! here) as the interface passes them, on a model team: a config with ports,
//! the state document teamd dumps, links by name. Item paths are resolved by
//! teamd's own `item_path.rs`; port configs and reloaded configs go through the
//! strict JSON reader and teamd's typed config view.
//!
//! Checks: no panic; the reply is one D-Bus can carry (a payload only where the
//! method returns one, and marshallable); every error is one of teamd's codes,
//! so the caller gets `org.libteam.teamd<Code>` with its fixed message; and
//! the same call survives the unix socket's encoding (the other way into the
//! same handler) unless an argument is empty, which that protocol cannot carry.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::{json, Value};
use team_nl_client::Link;
use teamd_ctl_proto::json::parse_strict;
use teamd_ctl_proto::method::ErrorCode;
use teamd_ctl_proto::usock::{Call, Reply};
use teamd_dbus::error::TeamdError;
use teamd_dbus::methods::METHODS;

use crate::handler::{self, Lookup, Served};
use crate::item_path::{self, ItemError};
use crate::kernel::{KResult, EINVAL, ENODEV};

/// The links the model's lookup knows: the team device and three ports.
const LINKS: [&str; 4] = ["team0", "eth1", "eth2", "eth1.100"];

struct Links;

impl Lookup for Links {
    async fn link_by_name(&self, name: &str) -> Option<Link> {
        let i = LINKS.iter().position(|l| *l == name)?;
        Some(Link {
            ifindex: u32::try_from(i).unwrap_or(0) + 1,
            name: name.to_string(),
            mac: vec![2, 0, 0, 0, 0, 1],
            master: None,
            admin_up: true,
            carrier: true,
            mtu: 1500,
            kind: None,
        })
    }
}

/// A team as the handler sees it: eth1 and "eth1.100" are ports, eth2 is a
/// link that is not.
struct Team {
    config: Value,
    state: Value,
    ports: Vec<String>,
}

fn port_state(ifindex: u32, name: &str, up: bool) -> Value {
    json!({
        "ifinfo": {"dev_addr": "02:00:00:00:00:01", "dev_addr_len": 6,
                   "ifindex": ifindex, "ifname": name},
        "link": {"up": up, "speed": 1000, "duplex": "full"},
        "link_watches": {"up": up, "list": {"link_watch_0": {
            "name": "ethtool", "up": up, "delay_up": 0, "delay_down": 0}}},
        "runner": {"prio": 0, "sticky": false},
    })
}

impl Team {
    fn new() -> Team {
        Team {
            config: json!({
                "device": "team0",
                "runner": {"name": "activebackup"},
                "link_watch": {"name": "ethtool"},
                "ports": {"eth1": {"prio": 5}, "eth1.100": {}},
            }),
            state: json!({
                "ports": {
                    "eth1": port_state(2, "eth1", true),
                    "eth1.100": port_state(4, "eth1.100", false),
                },
                "runner": {"active_port": "eth1"},
                "setup": {"daemonized": false, "dbus_enabled": true,
                          "debug_level": 0, "kernel_team_mode_name": "activebackup",
                          "pid": 4242, "pid_file": "/var/run/teamd/team0.pid",
                          "runner_name": "activebackup", "zmq_enabled": false},
                "team_device": {"ifinfo": {"dev_addr": "02:00:00:00:00:01",
                    "dev_addr_len": 6, "ifindex": 1, "ifname": "team0"}},
            }),
            ports: vec!["eth1".into(), "eth1.100".into()],
        }
    }
}

impl Served for Team {
    fn config_doc(&self) -> &Value {
        &self.config
    }

    fn config_actual(&self) -> Value {
        handler::actual_doc(&self.config, &self.ports[..1])
    }

    fn state_dump(&self) -> Value {
        self.state.clone()
    }

    fn port_names(&self) -> Vec<String> {
        self.ports.clone()
    }

    /// As teamd's `state::item_set` decides before it reaches the runner: the
    /// path must resolve; only the debug level and the runner's items are
    /// writable.
    fn item_set(&mut self, path: &str, value: &str) -> Result<(), ItemError> {
        let (_, rest) = item_path::resolve(&self.state, &self.ports, path)?;
        match rest {
            "setup.debug_level" => match item_path::parse_int(value) {
                Some(level) if level >= 0 => Ok(()),
                _ => Err(ItemError::Failed(EINVAL)),
            },
            "runner.active_port" if !self.ports.iter().any(|p| p == value) => {
                Err(ItemError::Failed(ENODEV))
            }
            p if p.starts_with("runner.") => Ok(()),
            _ => Err(ItemError::ReadOnly),
        }
    }

    async fn port_add(&mut self, ifname: &str, link: Option<Link>) -> KResult {
        match link {
            Some(_) => Ok(()),
            None => Err(team_nl_client::Error::kernel(
                format!("add port {ifname}"),
                ENODEV,
            )),
        }
    }

    fn port_ifindex(&self, ifname: &str) -> Option<u32> {
        let i = self.ports.iter().position(|p| p == ifname)?;
        u32::try_from(i).ok()
    }

    async fn port_remove(&mut self, _ifindex: u32) -> KResult {
        Ok(())
    }

    /// As teamd's: a known link, a JSON object, then the port's typed view.
    async fn port_config_update<L: Lookup>(
        &mut self,
        lookup: &L,
        ifname: &str,
        text: &str,
    ) -> Reply {
        let value = match handler::port_config_object(lookup, ifname, text).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        if let Some(ports) = self.config.get_mut("ports").and_then(Value::as_object_mut) {
            ports.insert(ifname.to_string(), value);
        }
        crate::teamd_config_view::check(self.config.clone());
        Reply::Success(String::new())
    }

    /// As teamd's up to its plan: the strict reader, then the typed view.
    async fn config_reload<L: Lookup>(&mut self, _lookup: &L, arg: &str) -> Reply {
        if arg.is_empty() {
            return Reply::Error {
                code: ErrorCode::ConfigReloadFail.code().into(),
                message: "Config reload refused: not started with a config file.".into(),
            };
        }
        match parse_strict(arg) {
            Ok(doc) => {
                crate::teamd_config_view::check(doc);
                Reply::Success(String::new())
            }
            Err(e) => Reply::Error {
                code: ErrorCode::ConfigReloadFail.code().into(),
                message: format!("Config reload refused: Failed to parse config: {e}"),
            },
        }
    }
}

/// Runs a future that cannot wait: the model does no I/O, so the handler
/// completes on its first poll.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the request handler waited on a model that never blocks"),
    }
}

pub fn dbus_call(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let def = &METHODS[usize::from(pick) % METHODS.len()];
    // what zbus refuses (wrong signature, bad UTF-8, bad framing) never
    // reaches the interface method
    let Ok(args) = def.decode_body(body) else {
        return;
    };
    let call = Call {
        method: def.method,
        args,
    };

    // the unix socket carries the same call to the same handler, except an
    // empty argument: its empty line is skipped there, as by C teamd
    if call.args.iter().all(|a| !a.is_empty()) {
        let wire = call.to_request().encode();
        assert_eq!(
            Call::decode(&wire).as_ref(),
            Ok(&call),
            "the call does not survive the unix socket"
        );
    }

    let mut team = Team::new();
    match now(handler::handle(&mut team, &Links, &call)) {
        Reply::Success(payload) => {
            if def.returns_payload {
                let ctx = zbus::wire::serialized::Context::new(zbus::wire::Endian::Little, 0);
                let reply = zbus::wire::to_bytes(ctx, &(payload.as_str(),));
                assert!(reply.is_ok(), "{}: reply not marshallable", def.name);
            } else {
                assert!(payload.is_empty(), "{}: a payload D-Bus drops", def.name);
            }
        }
        Reply::Error { code, message } => {
            let Some(known) = ErrorCode::from_code(&code) else {
                panic!("{}: error code {code:?} is not teamd's", def.name);
            };
            let error = TeamdError::from_code(known, message);
            assert_eq!(zbus::DBusError::name(&error).as_str(), known.dbus_name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds are calls zbus accepts, so fuzzing starts inside the handler.
    #[test]
    fn every_seed_is_a_well_formed_call() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/dbus_call");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("seed directory") {
            let path = entry.expect("entry").path();
            let data = std::fs::read(&path).expect("seed");
            let (pick, body) = data.split_first().expect("not empty");
            let def = &METHODS[usize::from(*pick) % METHODS.len()];
            let args = def.decode_body(body);
            assert!(args.is_ok(), "{}: {args:?}", path.display());
            n += 1;
        }
        assert!(n >= METHODS.len());
    }
}
