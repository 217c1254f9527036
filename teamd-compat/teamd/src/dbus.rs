//! teamd's side of `-D`: serves `org.libteam.teamd` (teamd-dbus) with calls
//! forwarded to the same request handler as the unix socket, takes the bus
//! name only once start-up is complete, and survives the bus going away: it
//! keeps serving the unix socket and reconnects (re-taking its name) when the
//! bus is back.

use std::time::Duration;

use teamd_ctl_proto::usock::{Call, Reply};
use teamd_dbus::server;
use tokio::sync::{mpsc, oneshot, watch};

use crate::log;
use crate::usock::CtlRequest;

/// How often a lost bus connection is retried.
const BUS_RETRY: Duration = Duration::from_secs(2);

pub struct DbusService {
    dispatch: server::Dispatch,
    conn: Option<zbus::Connection>,
    /// Dropping this ends the supervision task.
    stop: Option<watch::Sender<bool>>,
}

/// Bridges D-Bus calls into the core's control channel.
fn bridge(ctl: mpsc::Sender<CtlRequest>) -> server::Dispatch {
    let (tx, mut rx) = mpsc::channel::<(Call, oneshot::Sender<Reply>)>(16);
    tokio::spawn(async move {
        while let Some((call, reply)) = rx.recv().await {
            if ctl.send(CtlRequest { call, reply }).await.is_err() {
                return;
            }
        }
    });
    tx
}

impl DbusService {
    /// Connects to the system bus and serves the object (no name yet).
    pub async fn connect(ctl: mpsc::Sender<CtlRequest>) -> Result<Self, String> {
        let dispatch = bridge(ctl);
        let conn = server::connect(dispatch.clone())
            .await
            .map_err(|e| format!("dbus: Could not acquire the system bus: {e}"))?;
        Ok(Self {
            dispatch,
            conn: Some(conn),
            stop: None,
        })
    }

    /// Takes `org.libteam.teamd.<dev>` (the readiness signal), then watches
    /// the bus and reconnects if it goes away.
    pub async fn expose_name(&mut self, dev: &str) -> Result<(), String> {
        let conn = self.conn.take().ok_or("dbus: not connected")?;
        server::expose_name(&conn, dev).await?;
        let (stop_tx, stop_rx) = watch::channel(false);
        self.stop = Some(stop_tx);
        tokio::spawn(supervise(
            conn,
            self.dispatch.clone(),
            dev.to_string(),
            stop_rx,
        ));
        Ok(())
    }

    /// Releases the name before the rest of shutdown (systemd and NM read its
    /// disappearance as "teamd is going").
    pub fn shutdown(&mut self) {
        self.stop.take();
        self.conn.take();
    }
}

/// Why [`bus_lost`] returned.
#[derive(Debug, PartialEq, Eq)]
enum Watch {
    /// The connection closed (the bus daemon went away or the socket failed).
    Lost,
    /// The service is shutting down.
    Stopped,
}

/// Waits, without polling, until the connection closes or `stop` fires: an idle
/// daemon must not wake up to ask the bus whether it is still there.
async fn bus_lost(conn: &zbus::Connection, stop: &mut watch::Receiver<bool>) -> Watch {
    tokio::select! {
        _ = stop.changed() => Watch::Stopped,
        _ = conn.closed() => Watch::Lost,
    }
}

async fn supervise(
    mut conn: zbus::Connection,
    dispatch: server::Dispatch,
    dev: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if bus_lost(&conn, &mut stop).await == Watch::Stopped {
            return;
        }
        log::warn("dbus: lost the system bus connection; reconnecting.");
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(BUS_RETRY) => {}
            }
            let Ok(c) = server::connect(dispatch.clone()).await else {
                continue;
            };
            match server::expose_name(&c, &dev).await {
                Ok(()) => {
                    log::info(&format!(
                        "dbus: reconnected as {}.",
                        teamd_dbus::bus_name(&dev)
                    ));
                    conn = c;
                    break;
                }
                Err(e) => log::warn(&e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    /// A peer-to-peer pair over a socketpair: (server, client).
    async fn pair() -> (zbus::Connection, zbus::Connection) {
        let (a, b) = UnixStream::pair().expect("socketpair");
        let guid = zbus::Guid::generate();
        let server = zbus::connection::Builder::unix_stream(a)
            .server(guid)
            .p2p()
            .build();
        let client = zbus::connection::Builder::unix_stream(b).p2p().build();
        let (server, client) = tokio::join!(server, client);
        (server.expect("server"), client.expect("client"))
    }

    #[tokio::test]
    async fn a_closed_peer_is_noticed_and_stop_ends_the_wait() {
        let (server, client) = pair().await;
        let (stop_tx, mut stop_rx) = watch::channel(false);
        // nothing happens on an idle, healthy connection
        let idle =
            tokio::time::timeout(Duration::from_millis(200), bus_lost(&client, &mut stop_rx));
        assert!(idle.await.is_err(), "an idle connection counted as lost");
        server.close().await.expect("close");
        let lost = tokio::time::timeout(Duration::from_secs(5), bus_lost(&client, &mut stop_rx));
        assert_eq!(lost.await.expect("closing not noticed"), Watch::Lost);

        let (_server, client) = pair().await;
        drop(stop_tx);
        let stopped = tokio::time::timeout(Duration::from_secs(5), bus_lost(&client, &mut stop_rx));
        assert_eq!(stopped.await.expect("stop not noticed"), Watch::Stopped);
    }
}
