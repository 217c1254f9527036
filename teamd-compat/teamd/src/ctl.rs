//! The team daemon's side of the control handler (`handler.rs`): what it
//! serves from its model, and its PortConfigUpdate and ConfigReload.

use serde_json::Value;
use team_nl_client::team_nl::{OptionItem, OptionValue};
use team_nl_client::Link;
use teamd_ctl_proto::method::ErrorCode;
use teamd_ctl_proto::usock::Reply;

use crate::core::Daemon;
// the handler and its traits, under the path the transports use
pub use crate::handler::{actual_doc, handle, port_config_object, Lookup, Served};
use crate::kernel::{KResult, Kernel};
use crate::log;
use crate::reload;
use crate::state::{self, ItemError};

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

/// Replaces `ports.<if>`; a current port gets its new `prio` at once (and, as
/// in C teamd, the call fails when the new object has no integer `prio`,
/// though the config is already replaced).
async fn port_config_update<K: Kernel, L: Lookup>(
    d: &mut Daemon<K>,
    lookup: &L,
    ifname: &str,
    text: &str,
) -> Reply {
    let value = match port_config_object(lookup, ifname, text).await {
        Ok(v) => v,
        Err(reply) => return reply,
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
