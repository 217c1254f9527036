//! The `org.libteam.teamd` object. Each method forwards a control call to the
//! daemon's request handler over a channel and waits for its reply; the object
//! holds no team state of its own.

use teamd_ctl_proto::method::{ErrorCode, Method};
use teamd_ctl_proto::usock::{Call, Reply};
use tokio::sync::{mpsc, oneshot};
use zbus::fdo::RequestNameFlags;
use zbus::fdo::RequestNameReply;

use crate::error::TeamdError;
use crate::methods::{with_teamd_methods, Payload};
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

/// The `#[zbus::interface]` impl from the method table: each method passes its
/// strings to the request handler as the table's `Method`, and returns the
/// payload or nothing, as the table says.
macro_rules! serve_methods {
    ($($variant:ident $name:literal $fn:ident($($arg:ident),*) -> $ret:tt;)*) => {
        #[zbus::interface(name = "org.libteam.teamd")]
        impl Teamd {
            $(
                #[zbus(name = $name)]
                async fn $fn(&self, $($arg: &str),*) -> Result<$ret, TeamdError> {
                    self.call(Method::$variant, &[$($arg),*])
                        .await
                        .map(<$ret as Payload>::from_payload)
                }
            )*
        }
    };
}
with_teamd_methods!(serve_methods);

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
