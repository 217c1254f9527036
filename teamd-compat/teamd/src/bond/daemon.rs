//! The bond backend's daemon model: the config, the bond as last read and
//! the process facts; answers the control interface through the same handler
//! as the team daemon (`ctl::Served`).

use serde_json::Value;
use team_nl_client::{Error, Link, Rtnl};
use teamd_ctl_proto::method::ErrorCode;
use teamd_ctl_proto::usock::Reply;

use super::device;
use super::options;
use super::view::{self, BondView, SetupFacts};
use crate::config::Config;
use crate::ctl::{self, Lookup, Served};
use crate::kernel::{KResult, EINVAL, ENODEV};
use crate::log;
use crate::state::ItemError;
use crate::team::Setup;

pub struct BondDaemon {
    pub rtnl: Rtnl,
    pub config: Config,
    /// teamd's runner name (from the config).
    pub runner: String,
    pub setup: Setup,
    pub view: BondView,
}

impl BondDaemon {
    /// Re-reads the bond; false when it is gone.
    pub async fn refresh(&mut self) -> bool {
        match device::read(&self.rtnl, self.view.ifindex).await {
            Ok(Some(v)) => {
                self.view = v;
                true
            }
            Ok(None) => false,
            Err(e) => {
                log::err(&format!("Failed to read bond {}: {e}", self.view.ifname));
                true
            }
        }
    }

    fn bond_link(&self) -> Link {
        let mut l = Link::with_ifindex(self.view.ifindex);
        l.name = self.view.ifname.clone();
        l
    }

    /// Makes the mapping's primary port (highest prio) primary if it is a port now.
    pub async fn apply_primary(&mut self, primary: Option<&str>) -> KResult {
        let Some(name) = primary else {
            return Ok(());
        };
        let Some(p) = self.view.ports.iter().find(|p| p.ifname == name) else {
            return Ok(());
        };
        let mut port = Link::with_ifindex(p.ifindex);
        port.name = p.ifname.clone();
        device::set_primary(&self.rtnl, self.view.ifindex, &port).await
    }

    fn primary(&self) -> Option<String> {
        let text = teamd_ctl_proto::json::dump_pretty(self.config.doc());
        options::plan(&text, "config").ok()?.primary
    }
}

impl Served for BondDaemon {
    fn config_doc(&self) -> &Value {
        self.config.doc()
    }

    fn config_actual(&self) -> Value {
        let present: Vec<String> = self.view.ports.iter().map(|p| p.ifname.clone()).collect();
        ctl::actual_doc(self.config.doc(), &present)
    }

    fn state_dump(&self) -> Value {
        let facts = SetupFacts {
            dbus_enabled: self.setup.dbus_enabled,
            daemonized: self.setup.daemonized,
            debug_level: log::debug_level(),
            pid: self.setup.pid,
            pid_file: self.setup.pid_file.clone(),
        };
        view::state_doc(&self.view, &self.runner, &facts)
    }

    fn port_names(&self) -> Vec<String> {
        self.view.ports.iter().map(|p| p.ifname.clone()).collect()
    }

    /// Only `setup.debug_level` is writable: bonding has no runner items.
    fn item_set(&mut self, path: &str, value: &str) -> Result<(), ItemError> {
        let state = self.state_dump();
        crate::state::item_get_in(&state, &self.port_names(), path)?;
        if path != "setup.debug_level" {
            return Err(ItemError::ReadOnly);
        }
        match value.parse::<u32>() {
            Ok(level) => {
                log::set_debug_level(level);
                Ok(())
            }
            Err(_) => Err(ItemError::Failed(EINVAL)),
        }
    }

    async fn port_add(&mut self, ifname: &str, link: Option<Link>) -> KResult {
        let Some(port) = link else {
            return Err(Error::kernel(format!("look up link {ifname}"), ENODEV));
        };
        if port.master == Some(self.view.ifindex) {
            return Ok(());
        }
        device::enslave(&self.rtnl, &port, &self.bond_link()).await?;
        self.refresh().await;
        let primary = self.primary();
        if primary.as_deref() == Some(ifname) {
            self.apply_primary(primary.as_deref()).await?;
        }
        log::info(&format!("{ifname}: enslaved to bond {}.", self.view.ifname));
        Ok(())
    }

    fn port_ifindex(&self, ifname: &str) -> Option<u32> {
        self.view
            .ports
            .iter()
            .find(|p| p.ifname == ifname)
            .map(|p| p.ifindex)
    }

    async fn port_remove(&mut self, ifindex: u32) -> KResult {
        let mut port = Link::with_ifindex(ifindex);
        if let Some(p) = self.view.ports.iter().find(|p| p.ifindex == ifindex) {
            port.name = p.ifname.clone();
        }
        self.rtnl.release(&port).await?;
        self.refresh().await;
        log::info(&format!(
            "{}: released from bond {}.",
            port.name, self.view.ifname
        ));
        Ok(())
    }

    /// Replaces `ports.<if>`; a changed `prio` can make another port primary.
    async fn port_config_update<L: Lookup>(
        &mut self,
        lookup: &L,
        ifname: &str,
        text: &str,
    ) -> Reply {
        let fail = || Reply::error(ErrorCode::ConfigUpdateFail);
        let value = match ctl::port_config_object(lookup, ifname, text).await {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        let mut config = self.config.clone();
        config.set(&["ports", ifname], value);
        let text = teamd_ctl_proto::json::dump_pretty(config.doc());
        let plan = match options::plan(&text, "port config") {
            Ok(p) => p,
            Err(refused) => {
                log::err(&format!(
                    "{ifname}: the port config has settings bonding cannot do:"
                ));
                refused.iter().for_each(|r| log::err(r));
                return fail();
            }
        };
        self.config = config;
        match self.apply_primary(plan.primary.as_deref()).await {
            Ok(()) => Reply::Success(String::new()),
            Err(e) => {
                log::err(&format!("{ifname}: Failed to set the primary port ({e})"));
                fail()
            }
        }
    }

    async fn config_reload<L: Lookup>(&mut self, _lookup: &L, _arg: &str) -> Reply {
        let message =
            "Config reload refused: the bond backend cannot reload a config; restart teamd."
                .to_string();
        log::err(&message);
        Reply::Error {
            code: ErrorCode::ConfigReloadFail.code().to_string(),
            message,
        }
    }
}
