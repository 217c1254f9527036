//! The service against its own proxy over a socket pair (no bus): calls reach
//! the dispatcher with the right method and arguments, replies and teamd's
//! error names come back.

use std::os::unix::net::UnixStream;

use teamd_ctl_proto::method::{ErrorCode, Method};
use teamd_ctl_proto::usock::Reply;
use teamd_dbus::client::{call, TeamdProxy};
use teamd_dbus::server::Teamd;
use teamd_dbus::PATH;
use tokio::sync::mpsc;
use zbus::connection::Builder;
use zbus::Guid;

#[tokio::test]
async fn calls_reach_the_handler_and_errors_keep_teamds_names() {
    let (tx, mut rx): (teamd_dbus::server::Dispatch, _) = mpsc::channel(4);
    // A stand-in request handler: echoes the call, fails PortAdd.
    tokio::spawn(async move {
        while let Some((c, reply)) = rx.recv().await {
            let r = match c.method {
                Method::PortAdd => Reply::error(ErrorCode::NoSuchDev),
                m => Reply::Success(format!("{}:{}", m.name(), c.args.join(","))),
            };
            let _ = reply.send(r);
        }
    });
    let (a, b) = UnixStream::pair().unwrap();
    let guid = Guid::generate();
    let server = Builder::unix_stream(a)
        .server(guid)
        .p2p()
        .serve_at(PATH, Teamd::new(tx))
        .build();
    let client = Builder::unix_stream(b).p2p().build();
    let (server, client) = tokio::join!(server, client);
    let (_server, client) = (server.unwrap(), client.unwrap());
    let proxy = TeamdProxy::builder(&client)
        .destination("org.libteam.teamd.test")
        .path(PATH)
        .build()
        .await
        .unwrap();

    assert_eq!(
        call(&proxy, Method::StateDump, &[]).await.unwrap(),
        "StateDump:"
    );
    assert_eq!(
        call(&proxy, Method::PortConfigUpdate, &["eth1", "{\"prio\": 3}"])
            .await
            .unwrap(),
        "",
        "methods without a payload return nothing"
    );
    assert_eq!(
        call(&proxy, Method::StateItemValueGet, &["setup.pid"])
            .await
            .unwrap(),
        "StateItemValueGet:setup.pid"
    );
    let err = call(&proxy, Method::PortAdd, &["nope"]).await.unwrap_err();
    assert_eq!(err.name, "org.libteam.teamdNoSuchDev");
    assert_eq!(err.message, "No such device.");
}
