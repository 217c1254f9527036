//! The client side: a typed proxy generated from the same method set, and a
//! call helper returning teamd's error code and message, for `teamdctl -D`.

use teamd_ctl_proto::method::Method;

use crate::{bus_name, INTERFACE, PATH};

#[zbus::proxy(interface = "org.libteam.teamd", default_path = "/org/libteam/teamd")]
pub trait Teamd {
    #[zbus(name = "ConfigDump")]
    fn config_dump(&self) -> zbus::Result<String>;
    #[zbus(name = "ConfigDumpActual")]
    fn config_dump_actual(&self) -> zbus::Result<String>;
    #[zbus(name = "StateDump")]
    fn state_dump(&self) -> zbus::Result<String>;
    #[zbus(name = "StateItemValueGet")]
    fn state_item_value_get(&self, state_item_path: &str) -> zbus::Result<String>;
    #[zbus(name = "StateItemValueSet")]
    fn state_item_value_set(&self, state_item_path: &str, value: &str) -> zbus::Result<()>;
    #[zbus(name = "PortAdd")]
    fn port_add(&self, port_devname: &str) -> zbus::Result<()>;
    #[zbus(name = "PortRemove")]
    fn port_remove(&self, port_devname: &str) -> zbus::Result<()>;
    #[zbus(name = "PortConfigUpdate")]
    fn port_config_update(&self, port_devname: &str, port_config: &str) -> zbus::Result<()>;
    #[zbus(name = "PortConfigDump")]
    fn port_config_dump(&self, port_devname: &str) -> zbus::Result<String>;
    #[zbus(name = "ConfigReload")]
    fn config_reload(&self, config: &str) -> zbus::Result<()>;
}

/// A failed call: the D-Bus error name and message (or a transport problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

fn call_error(e: zbus::Error) -> CallError {
    match e {
        zbus::Error::MethodError(name, message, _) => CallError {
            name: name.to_string(),
            message: message.unwrap_or_default(),
        },
        // zbus turns the bus's own errors (e.g. ServiceUnknown) into fdo::Error;
        // callers still need the error's name and text, as libdbus gives them
        zbus::Error::FDO(e) => {
            use zbus::DBusError;
            CallError {
                name: e.name().to_string(),
                message: e.description().unwrap_or_default().to_string(),
            }
        }
        other => CallError {
            name: String::new(),
            message: other.to_string(),
        },
    }
}

/// A proxy to the teamd of `dev` on the system bus.
pub async fn connect(dev: &str) -> Result<TeamdProxy<'static>, CallError> {
    let conn = zbus::Connection::system().await.map_err(call_error)?;
    TeamdProxy::builder(&conn)
        .destination(bus_name(dev))
        .path(PATH)
        .interface(INTERFACE)
        .build()
        .await
        .map_err(call_error)
}

/// Calls `method` with `args` (as many as it takes); empty payload for methods without one.
pub async fn call(
    proxy: &TeamdProxy<'_>,
    method: Method,
    args: &[&str],
) -> Result<String, CallError> {
    let a = |i: usize| args.get(i).copied().unwrap_or_default();
    let r = match method {
        Method::ConfigDump => proxy.config_dump().await,
        Method::ConfigDumpActual => proxy.config_dump_actual().await,
        Method::StateDump => proxy.state_dump().await,
        Method::StateItemValueGet => proxy.state_item_value_get(a(0)).await,
        Method::StateItemValueSet => proxy
            .state_item_value_set(a(0), a(1))
            .await
            .map(|()| String::new()),
        Method::PortAdd => proxy.port_add(a(0)).await.map(|()| String::new()),
        Method::PortRemove => proxy.port_remove(a(0)).await.map(|()| String::new()),
        Method::PortConfigUpdate => proxy
            .port_config_update(a(0), a(1))
            .await
            .map(|()| String::new()),
        Method::PortConfigDump => proxy.port_config_dump(a(0)).await,
        Method::ConfigReload => proxy.config_reload(a(0)).await.map(|()| String::new()),
    };
    r.map_err(call_error)
}
