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

/// How often the bus connection is checked (and, when lost, retried).
const BUS_CHECK: Duration = Duration::from_secs(2);

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

/// A round trip to the bus daemon: false once the bus is gone.
async fn ping(conn: &zbus::Connection) -> bool {
    match zbus::fdo::DBusProxy::new(conn).await {
        Ok(p) => p.get_id().await.is_ok(),
        Err(_) => false,
    }
}

async fn supervise(
    mut conn: zbus::Connection,
    dispatch: server::Dispatch,
    dev: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(BUS_CHECK) => {}
        }
        if ping(&conn).await {
            continue;
        }
        log::warn("dbus: lost the system bus connection; reconnecting.");
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(BUS_CHECK) => {}
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
