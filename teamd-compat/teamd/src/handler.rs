//! The control request handler shared by every transport (unix socket,
//! D-Bus): one `Call` in, one `Reply` out, for whatever [`Served`] is (the
//! team daemon, `ctl.rs`, or the bond backend). It depends on nothing of the
//! daemon but these traits, so the D-Bus fuzz target (`fuzz/checks`) compiles
//! this file as it is and runs it on a model team.

use serde_json::{Map, Value};
use team_nl_client::Link;
use teamd_ctl_proto::json::{dump_pretty, parse_strict};
use teamd_ctl_proto::method::{ErrorCode, Method};
use teamd_ctl_proto::usock::{Call, Reply};

use crate::item_path::{item_get_in, ItemError};
use crate::kernel::{KResult, ENODEV};
use crate::log;

/// What the core needs from the outside to answer (link lookups by name).
#[allow(async_fn_in_trait)]
pub trait Lookup {
    async fn link_by_name(&self, name: &str) -> Option<Link>;
}

fn err(code: ErrorCode) -> Reply {
    Reply::error(code)
}

/// The checks every `PortConfigUpdate` starts with, whoever serves it: the
/// port's link exists, and the text is one JSON object (logged as C teamd
/// logs it). `Err` is the reply to send.
pub async fn port_config_object<L: Lookup>(
    lookup: &L,
    ifname: &str,
    text: &str,
) -> Result<Value, Reply> {
    if lookup.link_by_name(ifname).await.is_none() {
        return Err(err(ErrorCode::NoSuchDev));
    }
    match parse_strict(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => {
            log::err(&format!("{ifname}: Failed to obtain port config object"));
            Err(err(ErrorCode::ConfigUpdateFail))
        }
        Err(e) => {
            log::err(&format!(
                "{ifname}: Failed to parse port config string: {e}"
            ));
            Err(err(ErrorCode::ConfigUpdateFail))
        }
    }
}

/// The config `doc` with `ports` cut down (or extended) to `present`.
pub fn actual_doc(doc: &Value, present: &[String]) -> Value {
    let mut doc = doc.clone();
    if let Some(root) = doc.as_object_mut() {
        let had_ports = root.contains_key("ports");
        if had_ports || !present.is_empty() {
            let ports = root
                .entry("ports")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ports.is_object() {
                *ports = Value::Object(Map::new());
            }
            if let Value::Object(m) = ports {
                m.retain(|k, _| present.contains(k));
                for name in present {
                    m.entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
            }
        }
    }
    doc
}

/// What the control handler serves: the team daemon on the team driver
/// (`crate::core::Daemon`) or the bond backend (`crate::bond`). Every
/// transport (unix socket, D-Bus) goes through [`handle`], whichever it is.
#[allow(async_fn_in_trait)]
pub trait Served {
    /// The config as given (ConfigDump).
    fn config_doc(&self) -> &Value;
    /// The config with `ports` as they are now (ConfigDumpActual).
    fn config_actual(&self) -> Value;
    /// The state document (StateDump).
    fn state_dump(&self) -> Value;
    /// Names of the current ports, in the order item paths match them.
    fn port_names(&self) -> Vec<String>;
    fn item_set(&mut self, path: &str, value: &str) -> Result<(), ItemError>;
    async fn port_add(&mut self, ifname: &str, link: Option<Link>) -> KResult;
    fn port_ifindex(&self, ifname: &str) -> Option<u32>;
    async fn port_remove(&mut self, ifindex: u32) -> KResult;
    async fn port_config_update<L: Lookup>(
        &mut self,
        lookup: &L,
        ifname: &str,
        text: &str,
    ) -> Reply;
    async fn config_reload<L: Lookup>(&mut self, lookup: &L, arg: &str) -> Reply;
}

pub async fn handle<S: Served, L: Lookup>(d: &mut S, lookup: &L, call: &Call) -> Reply {
    let arg = |i: usize| call.args.get(i).map(String::as_str).unwrap_or_default();
    log::dbg(2, || {
        format!("control: {} {:?}", call.method.name(), call.args)
    });
    match call.method {
        Method::ConfigDump => Reply::Success(dump_pretty(d.config_doc())),
        Method::ConfigDumpActual => Reply::Success(dump_pretty(&d.config_actual())),
        Method::StateDump => Reply::Success(dump_pretty(&d.state_dump())),
        Method::StateItemValueGet => match item_get_in(&d.state_dump(), &d.port_names(), arg(0)) {
            Ok(v) => Reply::Success(v),
            Err(ItemError::NoPath) => err(ErrorCode::PathDoesNotExist),
            Err(ItemError::ReadOnly) => err(ErrorCode::OpNotSupp),
            Err(ItemError::Failed(_)) => err(ErrorCode::ItemValueGetFail),
        },
        Method::StateItemValueSet => match d.item_set(arg(0), arg(1)) {
            Ok(()) => Reply::Success(String::new()),
            Err(ItemError::NoPath) => err(ErrorCode::PathDoesNotExist),
            Err(ItemError::ReadOnly) => err(ErrorCode::OpNotSupp),
            Err(ItemError::Failed(_)) => err(ErrorCode::ItemValueSetFail),
        },
        Method::PortAdd => {
            let link = lookup.link_by_name(arg(0)).await;
            match d.port_add(arg(0), link).await {
                Ok(()) => Reply::Success(String::new()),
                Err(e) if e.errno() == Some(ENODEV) => err(ErrorCode::NoSuchDev),
                Err(e) => {
                    log::err(&format!("{}: Failed to add port ({e}).", arg(0)));
                    err(ErrorCode::PortAddFail)
                }
            }
        }
        Method::PortRemove => {
            let Some(ifindex) = d.port_ifindex(arg(0)) else {
                return err(ErrorCode::NoSuchDev);
            };
            match d.port_remove(ifindex).await {
                Ok(()) => Reply::Success(String::new()),
                Err(_) => err(ErrorCode::PortRemoveFail),
            }
        }
        Method::PortConfigUpdate => {
            let reply = d.port_config_update(lookup, arg(0), arg(1)).await;
            if matches!(&reply, Reply::Error { code, .. } if code == ErrorCode::ConfigUpdateFail.code())
            {
                log::err(&format!("Failed to update config for port \"{}\".", arg(0)));
            }
            reply
        }
        Method::ConfigReload => d.config_reload(lookup, arg(0)).await,
        Method::PortConfigDump => {
            if lookup.link_by_name(arg(0)).await.is_none() {
                return err(ErrorCode::NoSuchDev);
            }
            if d.port_ifindex(arg(0)).is_none() {
                return err(ErrorCode::ConfigDumpFail);
            }
            let v = d
                .config_doc()
                .get("ports")
                .and_then(|p| p.get(arg(0)))
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new()));
            Reply::Success(dump_pretty(&v))
        }
    }
}
