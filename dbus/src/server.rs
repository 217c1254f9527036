//! The `org.libteam.teamd` object. Each method forwards a control call to the
//! daemon's request handler over a channel and waits for its reply; the object
//! holds no team state of its own.

use teamd_ctl_proto::method::{ErrorCode, Method};
use teamd_ctl_proto::usock::{Call, Reply};
use tokio::sync::{mpsc, oneshot};
use zbus::fdo::RequestNameFlags;
use zbus::fdo::RequestNameReply;

use crate::error::TeamdError;
use crate::{bus_name, PATH};

/// Where D-Bus calls go: the daemon's request handler.
pub type Dispatch = mpsc::Sender<(Call, oneshot::Sender<Reply>)>;

pub struct Teamd {
    dispatch: Dispatch,
}

impl Teamd {
    pub fn new(dispatch: Dispatch) -> Self {
        Self { dispatch }
    }

    async fn call(&self, method: Method, args: &[&str]) -> Result<String, TeamdError> {
        let (tx, rx) = oneshot::channel();
        let call = Call {
            method,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        let failed =
            || TeamdError::ZBus(zbus::Error::Failure("teamd is shutting down".to_string()));
        self.dispatch.send((call, tx)).await.map_err(|_| failed())?;
        match rx.await.map_err(|_| failed())? {
            Reply::Success(payload) => Ok(payload),
            Reply::Error { code, message } => Err(match ErrorCode::from_code(&code) {
                Some(c) => TeamdError::from_code(c, message),
                None => TeamdError::ZBus(zbus::Error::Failure(format!("{code}: {message}"))),
            }),
        }
    }
}

#[zbus::interface(name = "org.libteam.teamd")]
impl Teamd {
    #[zbus(name = "ConfigDump")]
    async fn config_dump(&self) -> Result<String, TeamdError> {
        self.call(Method::ConfigDump, &[]).await
    }

    #[zbus(name = "ConfigDumpActual")]
    async fn config_dump_actual(&self) -> Result<String, TeamdError> {
        self.call(Method::ConfigDumpActual, &[]).await
    }

    #[zbus(name = "StateDump")]
    async fn state_dump(&self) -> Result<String, TeamdError> {
        self.call(Method::StateDump, &[]).await
    }

    #[zbus(name = "StateItemValueGet")]
    async fn state_item_value_get(&self, state_item_path: &str) -> Result<String, TeamdError> {
        self.call(Method::StateItemValueGet, &[state_item_path])
            .await
    }

    #[zbus(name = "StateItemValueSet")]
    async fn state_item_value_set(
        &self,
        state_item_path: &str,
        value: &str,
    ) -> Result<(), TeamdError> {
        self.call(Method::StateItemValueSet, &[state_item_path, value])
            .await
            .map(drop)
    }

    #[zbus(name = "PortAdd")]
    async fn port_add(&self, port_devname: &str) -> Result<(), TeamdError> {
        self.call(Method::PortAdd, &[port_devname]).await.map(drop)
    }

    #[zbus(name = "PortRemove")]
    async fn port_remove(&self, port_devname: &str) -> Result<(), TeamdError> {
        self.call(Method::PortRemove, &[port_devname])
            .await
            .map(drop)
    }

    #[zbus(name = "PortConfigUpdate")]
    async fn port_config_update(
        &self,
        port_devname: &str,
        port_config: &str,
    ) -> Result<(), TeamdError> {
        self.call(Method::PortConfigUpdate, &[port_devname, port_config])
            .await
            .map(drop)
    }

    #[zbus(name = "PortConfigDump")]
    async fn port_config_dump(&self, port_devname: &str) -> Result<String, TeamdError> {
        self.call(Method::PortConfigDump, &[port_devname]).await
    }

    /// rteam's own: applies a config document live ("" re-reads the file).
    #[zbus(name = "ConfigReload")]
    async fn config_reload(&self, config: &str) -> Result<(), TeamdError> {
        self.call(Method::ConfigReload, &[config]).await.map(drop)
    }
}

/// Connects to the system bus and serves the object, without a name yet.
pub async fn connect(dispatch: Dispatch) -> zbus::Result<zbus::Connection> {
    zbus::connection::Builder::system()
        .serve_at(PATH, Teamd::new(dispatch))
        .build()
        .await
}

/// Takes `org.libteam.teamd.<dev>`: the daemon's "ready" signal, so it is
/// called last, after the ports are set up. Fails if someone else owns it.
pub async fn expose_name(conn: &zbus::Connection, dev: &str) -> Result<(), String> {
    let name = bus_name(dev);
    match conn
        .request_name_with_flags(name.as_str(), RequestNameFlags::DO_NOT_QUEUE)
        .await
    {
        Ok(RequestNameReply::PrimaryOwner) | Ok(RequestNameReply::AlreadyOwner) => Ok(()),
        Ok(_) => Err(format!("dbus: name {name} already taken.")),
        Err(e) => Err(format!("dbus: failed to request name {name}: {e}")),
    }
}
