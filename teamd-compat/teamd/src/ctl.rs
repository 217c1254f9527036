//! The control request handler shared by every transport (unix socket, and
//! D-Bus later): one `Call` in, one `Reply` out, reading the daemon's model.

use serde_json::{Map, Value};
use team_nl_client::team_nl::{OptionItem, OptionValue};
use team_nl_client::Link;
use teamd_ctl_proto::json::{dump_pretty, parse_strict};
use teamd_ctl_proto::method::{ErrorCode, Method};
use teamd_ctl_proto::usock::{Call, Reply};

use crate::core::Daemon;
use crate::kernel::{KResult, Kernel, ENODEV};
use crate::log;
use crate::reload;
use crate::state::{self, ItemError};

/// What the core needs from the outside to answer (link lookups by name).
#[allow(async_fn_in_trait)]
pub trait Lookup {
    async fn link_by_name(&self, name: &str) -> Option<Link>;
}

fn err(code: ErrorCode) -> Reply {
    Reply::error(code)
}

/// ConfigDumpActual: `ports` lists exactly the ports present now.
fn config_actual<K: Kernel>(d: &Daemon<K>) -> Value {
    let present: Vec<String> = d
        .ctx
        .ports
        .iter()
        .filter(|p| d.ctx.port_present(p.ifindex))
        .map(|p| p.ifname.clone())
        .collect();
    actual_doc(d.ctx.config.doc(), &present)
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
/// ([`Daemon`]) or the bond backend (`crate::bond`). Every transport (unix
/// socket, D-Bus) goes through [`handle`], whichever it is.
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

impl<K: Kernel> Served for Daemon<K> {
    fn config_doc(&self) -> &Value {
        self.ctx.config.doc()
    }

    fn config_actual(&self) -> Value {
        config_actual(self)
    }

    fn state_dump(&self) -> Value {
        state::dump(self)
    }

    fn port_names(&self) -> Vec<String> {
        self.ctx.ports.iter().map(|p| p.ifname.clone()).collect()
    }

    fn item_set(&mut self, path: &str, value: &str) -> Result<(), ItemError> {
        state::item_set(self, path, value)
    }

    async fn port_add(&mut self, ifname: &str, link: Option<Link>) -> KResult {
        Daemon::port_add(self, ifname, link).await
    }

    fn port_ifindex(&self, ifname: &str) -> Option<u32> {
        self.ctx.port_by_name(ifname).map(|p| p.ifindex)
    }

    async fn port_remove(&mut self, ifindex: u32) -> KResult {
        Daemon::port_remove(self, ifindex).await
    }

    async fn port_config_update<L: Lookup>(
        &mut self,
        lookup: &L,
        ifname: &str,
        text: &str,
    ) -> Reply {
        port_config_update(self, lookup, ifname, text).await
    }

    async fn config_reload<L: Lookup>(&mut self, lookup: &L, arg: &str) -> Reply {
        config_reload(self, lookup, arg).await
    }
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
        Method::StateItemValueGet => {
            match state::item_get_in(&d.state_dump(), &d.port_names(), arg(0)) {
                Ok(v) => Reply::Success(v),
                Err(ItemError::NoPath) => err(ErrorCode::PathDoesNotExist),
                Err(ItemError::ReadOnly) => err(ErrorCode::OpNotSupp),
                Err(ItemError::Failed(_)) => err(ErrorCode::ItemValueGetFail),
            }
        }
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

/// Replaces `ports.<if>`; a current port gets its new `prio` at once (and, as
/// in C teamd, the call fails when the new object has no integer `prio`,
/// though the config is already replaced).
async fn port_config_update<K: Kernel, L: Lookup>(
    d: &mut Daemon<K>,
    lookup: &L,
    ifname: &str,
    text: &str,
) -> Reply {
    if lookup.link_by_name(ifname).await.is_none() {
        return err(ErrorCode::NoSuchDev);
    }
    let value = match parse_strict(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            log::err(&format!("{ifname}: Failed to obtain port config object"));
            return err(ErrorCode::ConfigUpdateFail);
        }
        Err(e) => {
            log::err(&format!(
                "{ifname}: Failed to parse port config string: {e}"
            ));
            return err(ErrorCode::ConfigUpdateFail);
        }
    };
    d.ctx.config.set(&["ports", ifname], value);
    let Some(ifindex) = d.ctx.port_by_name(ifname).map(|p| p.ifindex) else {
        return Reply::Success(String::new());
    };
    let Some(prio) = d.ctx.config.int(&["ports", ifname, "prio"]) else {
        log::err(&format!(
            "{ifname}: Failed to get integer for \"priority\"."
        ));
        return err(ErrorCode::ConfigUpdateFail);
    };
    if let Some(p) = d.ctx.port_mut(ifindex) {
        p.settings.prio = prio;
    }
    match d
        .ctx
        .kernel
        .set_option(OptionItem::new("priority", OptionValue::S32(prio)).port(ifindex))
        .await
    {
        Ok(()) => Reply::Success(String::new()),
        Err(_) => {
            log::err(&format!(
                "{ifname}: Failed to update \"priority\" to kernel"
            ));
            err(ErrorCode::ConfigUpdateFail)
        }
    }
}

/// Reads the config text a reload applies: the argument, or (when empty) the
/// file teamd was started with.
pub fn reload_text<K: Kernel>(d: &Daemon<K>, arg: &str) -> Result<String, String> {
    if !arg.is_empty() {
        return Ok(arg.to_string());
    }
    let Some(path) = d.ctx.setup.config_file.as_ref() else {
        return Err("Config reload refused: teamd was not started with a config file (-f), so there is nothing to re-read; pass the new config instead.".into());
    };
    std::fs::read_to_string(path).map_err(|e| {
        format!(
            "Config reload refused: unable to read {}: {e}",
            path.display()
        )
    })
}

/// ConfigReload: validate all of the new config, then apply it.
pub async fn config_reload<K: Kernel, L: Lookup>(
    d: &mut Daemon<K>,
    lookup: &L,
    arg: &str,
) -> Reply {
    let fail = |message: String| {
        log::err(&message);
        Reply::Error {
            code: ErrorCode::ConfigReloadFail.code().to_string(),
            message,
        }
    };
    let text = match reload_text(d, arg) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let plan = match reload::plan(d, &text) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match reload::apply(d, lookup, plan).await {
        Ok(done) if done.is_empty() => {
            log::info("Config reloaded: nothing changed.");
            Reply::Success(String::new())
        }
        Ok(done) => {
            log::info(&format!("Config reloaded: {}.", done.join(", ")));
            Reply::Success(String::new())
        }
        Err(e) => fail(format!("Config reload failed while applying: {e}")),
    }
}
