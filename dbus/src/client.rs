//! The client side: a typed proxy generated from the same method table as the
//! server (`methods.rs`), and a call helper returning teamd's error name and
//! message, for `teamdctl -D` and libteamdctl.

use teamd_ctl_proto::method::Method;

use crate::methods::{with_teamd_methods, Payload};
use crate::{bus_name, INTERFACE, PATH};

/// The `#[zbus::proxy]` trait (`TeamdProxy`) and [`call`] from the method table.
macro_rules! proxy_methods {
    ($($variant:ident $name:literal $fn:ident($($arg:ident),*) -> $ret:tt;)*) => {
        #[zbus::proxy(interface = "org.libteam.teamd", default_path = "/org/libteam/teamd")]
        pub trait Teamd {
            $(
                #[zbus(name = $name)]
                fn $fn(&self, $($arg: &str),*) -> zbus::Result<$ret>;
            )*
        }

        /// Calls `method` with `args` in order; a missing argument goes as ""
        /// (as the usock client sends it), extra ones are not sent. Methods
        /// without a payload give "".
        pub async fn call(
            proxy: &TeamdProxy<'_>,
            method: Method,
            args: &[&str],
        ) -> Result<String, CallError> {
            let mut args = args.iter().copied();
            let mut next = move || args.next().unwrap_or_default();
            let r = match method {
                $(Method::$variant => proxy
                    // one `next()` per argument of the row, evaluated left to right
                    .$fn($({ let _ = stringify!($arg); next() }),*)
                    .await
                    .map(<$ret as Payload>::into_payload),)*
            };
            r.map_err(call_error)
        }
    };
}
with_teamd_methods!(proxy_methods);

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
