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
use crate::usock::{CtlRequest, CtlSender};

/// How often a lost bus connection is retried.
const BUS_RETRY: Duration = Duration::from_secs(2);

pub struct DbusService {
    dispatch: server::Dispatch,
    conn: Option<zbus::Connection>,
    /// Dropping this ends the supervision task.
    stop: Option<watch::Sender<bool>>,
}

/// Bridges D-Bus calls into the core's control channel.
fn bridge(ctl: CtlSender) -> server::Dispatch {
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
    pub async fn connect(ctl: CtlSender) -> Result<Self, String> {
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
    use crate::doorbell::{self, Doorbell, Source};
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

    /// Every D-Bus method through the real request handler (`ctl::handle` on
    /// a team over the fake kernel), as `teamdctl -D` and NetworkManager call
    /// them: replies, and teamd's error names and messages for an unknown
    /// port, a bad item path, a bad value and bad JSON.
    #[tokio::test]
    async fn every_method_through_the_request_handler() {
        use crate::config::{Config, TeamSettings};
        use crate::core::Daemon;
        use crate::ctl::{self, Lookup};
        use crate::kernel::fake::FakeKernel;
        use crate::runner::Runner;
        use crate::team::{Ctx, Setup};
        use team_nl_client::Link;
        use teamd_ctl_proto::method::{ErrorCode, Method};
        use teamd_dbus::client::{call, CallError, TeamdProxy};

        const LINKS: [(u32, &str); 3] = [(1, "team0"), (2, "eth1"), (3, "eth2")];
        use crate::kernel::fake::up_link as link;
        struct Links;
        impl Lookup for Links {
            async fn link_by_name(&self, name: &str) -> Option<Link> {
                LINKS
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|(i, n)| link(*i, n))
            }
        }

        let mut k = FakeKernel::new(1);
        for (ifindex, name) in LINKS {
            k.ifinfos.on_newlink(&link(ifindex, name));
        }
        k.ifinfos.end_batch();
        let cfg = serde_json::json!({
            "device": "team0",
            "runner": {"name": "roundrobin"},
            "ports": {"eth1": {"prio": 5}},
        });
        let mut config = Config::new(cfg).expect("config");
        let runner = Runner::from_config(&mut config).expect("runner");
        let settings = TeamSettings::from_config(&config).expect("settings");
        let mut d = Daemon {
            ctx: Ctx::new(k, config, settings, Setup::default()),
            runner,
            quit: None,
        };

        let (ctl_tx, mut ctl_rx) = doorbell::channel(&Doorbell::new(), Source::Control, 4);
        let (a, b) = UnixStream::pair().expect("socketpair");
        let server = zbus::connection::Builder::unix_stream(a)
            .server(zbus::Guid::generate())
            .p2p()
            .serve_at(teamd_dbus::PATH, server::Teamd::new(bridge(ctl_tx)))
            .build();
        let client = zbus::connection::Builder::unix_stream(b).p2p().build();
        let (server, client) = tokio::join!(server, client);
        let (_server, client) = (server.expect("server"), client.expect("client"));

        // the client side runs as a task; this one is the daemon's loop
        let calls = tokio::spawn(async move {
            let proxy = TeamdProxy::builder(&client)
                .destination("org.libteam.teamd.team0")
                .path(teamd_dbus::PATH)
                .build()
                .await
                .expect("proxy");
            let mut out: Vec<(Method, Vec<&str>, Result<String, CallError>)> = Vec::new();
            let cases: [(Method, &[&str]); 17] = [
                (Method::ConfigDump, &[]),
                (Method::ConfigDumpActual, &[]),
                (Method::StateDump, &[]),
                (Method::StateItemValueGet, &["setup.runner_name"]),
                (Method::StateItemValueGet, &["no.such.item"]),
                (Method::StateItemValueSet, &["setup.debug_level", "many"]),
                (Method::StateItemValueSet, &["setup.runner_name", "lacp"]),
                (Method::StateItemValueSet, &["nothing.here", "1"]),
                (Method::PortAdd, &["nosuchport"]),
                (Method::PortRemove, &["nosuchport"]),
                (Method::PortConfigUpdate, &["nosuchport", "{}"]),
                (Method::PortConfigUpdate, &["eth2", "{\"prio\": "]),
                (Method::PortConfigUpdate, &["eth2", "{\"prio\": 7}"]),
                (Method::PortConfigDump, &["eth2"]),
                (Method::PortConfigDump, &["nosuchport"]),
                (Method::ConfigReload, &["{\"device\": "]),
                (Method::ConfigReload, &[""]),
            ];
            for (m, args) in cases {
                out.push((m, args.to_vec(), call(&proxy, m, args).await));
            }
            out
        });
        let lookup = Links;
        let mut calls = calls;
        let out = loop {
            tokio::select! {
                Some(req) = ctl_rx.recv() => {
                    let reply = ctl::handle(&mut d, &lookup, &req.call).await;
                    let _ = req.reply.send(reply);
                }
                out = &mut calls => break out.expect("client task"),
            }
        };
        let err = |code: ErrorCode| {
            Err(CallError {
                name: code.dbus_name().to_string(),
                message: code.message().to_string(),
            })
        };
        let mut it = out.into_iter().map(|(m, a, r)| ((m, a), r));
        let mut next = || it.next().expect("a reply").1;
        let dump = next().expect("ConfigDump");
        assert!(dump.contains("\"roundrobin\""), "{dump}");
        let actual = next().expect("ConfigDumpActual");
        assert!(!actual.contains("eth1"), "no port is present: {actual}");
        let state = next().expect("StateDump");
        assert!(state.contains("\"runner_name\": \"roundrobin\""), "{state}");
        assert_eq!(next(), Ok("roundrobin".to_string()));
        assert_eq!(next(), err(ErrorCode::PathDoesNotExist));
        assert_eq!(next(), err(ErrorCode::ItemValueSetFail));
        assert_eq!(next(), err(ErrorCode::OpNotSupp));
        assert_eq!(next(), err(ErrorCode::PathDoesNotExist));
        assert_eq!(next(), err(ErrorCode::NoSuchDev));
        assert_eq!(next(), err(ErrorCode::NoSuchDev));
        assert_eq!(next(), err(ErrorCode::NoSuchDev));
        assert_eq!(next(), err(ErrorCode::ConfigUpdateFail));
        assert_eq!(next(), Ok(String::new()));
        // eth2 is configured now but not a port: C teamd's ConfigDumpFail
        assert_eq!(next(), err(ErrorCode::ConfigDumpFail));
        assert_eq!(next(), err(ErrorCode::NoSuchDev));
        // ConfigReload's message says why (rteam's own method)
        let reload = next().expect_err("bad JSON");
        assert_eq!(reload.name, ErrorCode::ConfigReloadFail.dbus_name());
        assert!(
            reload.message.contains("Failed to parse config"),
            "{reload}"
        );
        let reload = next().expect_err("no file");
        assert!(
            reload.message.contains("not started with a config file"),
            "{reload}"
        );
    }
}
