//! The service against its own proxy over a socket pair (no bus daemon): every
//! method of the table reaches the request handler with its `Method` and
//! arguments and returns what the handler answered, every error code comes
//! back under teamd's D-Bus name and message, and the interface looks to a
//! plain D-Bus client (no generated proxy) as C teamd's does.

use std::os::unix::net::UnixStream;

use teamd_ctl_proto::method::{ErrorCode, Method};
use teamd_ctl_proto::usock::{Call, Reply};
use teamd_dbus::client::{call, TeamdProxy};
use teamd_dbus::methods::{MethodDef, METHODS};
use teamd_dbus::server::{Dispatch, Teamd};
use teamd_dbus::{INTERFACE, PATH};
use tokio::sync::mpsc;
use zbus::connection::Builder;
use zbus::Guid;

/// A server serving `Teamd` and a client on a socketpair; the calls the
/// handler receives go to the returned channel, `answer` makes the replies.
async fn setup(
    answer: fn(&Call) -> Reply,
) -> (
    zbus::Connection,
    zbus::Connection,
    mpsc::UnboundedReceiver<Call>,
) {
    let (tx, mut rx): (Dispatch, _) = mpsc::channel(4);
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((c, reply)) = rx.recv().await {
            let _ = reply.send(answer(&c));
            let _ = seen_tx.send(c);
        }
    });
    let (a, b) = UnixStream::pair().expect("socketpair");
    let server = Builder::unix_stream(a)
        .server(Guid::generate())
        .p2p()
        .serve_at(PATH, Teamd::new(tx))
        .build();
    let client = Builder::unix_stream(b).p2p().build();
    let (server, client) = tokio::join!(server, client);
    (server.expect("server"), client.expect("client"), seen_rx)
}

async fn proxy(client: &zbus::Connection) -> TeamdProxy<'static> {
    TeamdProxy::builder(client)
        .destination("org.libteam.teamd.test")
        .path(PATH)
        .build()
        .await
        .expect("proxy")
}

/// Distinct arguments for `def`, so a swap or a drop shows.
fn args_for(def: &MethodDef) -> Vec<String> {
    def.args
        .iter()
        .map(|a| format!("{}-{a}\n\"x\"", def.name))
        .collect()
}

fn echoed(c: &Call) -> String {
    format!("{}({})", c.method.name(), c.args.join("|"))
}

fn echo(c: &Call) -> Reply {
    Reply::Success(echoed(c))
}

#[tokio::test]
async fn every_method_reaches_the_handler_and_returns_its_reply() {
    let (_server, client, mut seen) = setup(echo).await;
    let proxy = proxy(&client).await;
    assert_eq!(METHODS.len(), Method::ALL.len());
    for def in METHODS {
        let args = args_for(def);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = call(&proxy, def.method, &refs).await;
        let call_seen = seen.recv().await.expect("handler saw the call");
        assert_eq!(call_seen.method, def.method);
        assert_eq!(call_seen.args, args, "{}", def.name);
        let want = if def.returns_payload {
            echoed(&call_seen)
        } else {
            String::new()
        };
        assert_eq!(got, Ok(want), "{}", def.name);
    }
    // what teamdctl passes short is sent as "" (as over the unix socket)
    call(&proxy, Method::StateItemValueSet, &["setup.debug_level"])
        .await
        .expect("call");
    let c = seen.recv().await.expect("call");
    assert_eq!(c.args, ["setup.debug_level", ""]);
}

#[tokio::test]
async fn every_error_code_keeps_teamds_name_and_message() {
    fn fail(c: &Call) -> Reply {
        // the code is named by the first argument, else the method's index
        let i = c.args.first().and_then(|a| a.parse::<usize>().ok());
        let code = ErrorCode::ALL[i.unwrap_or(0) % ErrorCode::ALL.len()];
        Reply::error(code)
    }
    let (_server, client, _seen) = setup(fail).await;
    let proxy = proxy(&client).await;
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        let n = i.to_string();
        let err = call(&proxy, Method::PortAdd, &[&n])
            .await
            .expect_err("an error reply");
        assert_eq!(err.name, code.dbus_name());
        assert_eq!(err.name, format!("org.libteam.teamd{}", code.code()));
        assert_eq!(err.message, code.message());
    }
    // every method relays the handler's errors, payload or not
    for def in METHODS {
        let err = call(&proxy, def.method, &["0", "0"])
            .await
            .expect_err("an error reply");
        assert_eq!(err.name, "org.libteam.teamdInvalidArgs", "{}", def.name);
    }
}

/// A code outside the table (no transport produces one today) keeps its text.
#[tokio::test]
async fn an_unknown_code_is_a_failure_with_code_and_text() {
    fn odd(_: &Call) -> Reply {
        Reply::Error {
            code: "Weird".into(),
            message: "Something odd.".into(),
        }
    }
    let (_server, client, _seen) = setup(odd).await;
    let err = call(&proxy(&client).await, Method::ConfigDump, &[])
        .await
        .expect_err("an error reply");
    assert_eq!(err.name, "org.freedesktop.zbus.Error");
    assert_eq!(err.message, "Weird: Something odd.");
}

/// A plain client, as libdbus callers (C libteamdctl, dbus-send) are: member
/// names and string signatures from the table, wrong signatures refused by
/// zbus before the handler sees them.
#[tokio::test]
async fn plain_clients_see_teamds_interface() {
    let (_server, client, mut seen) = setup(echo).await;
    let plain = zbus::Proxy::new(&client, "org.libteam.teamd.test", PATH, INTERFACE)
        .await
        .expect("proxy");
    for def in METHODS {
        let args = args_for(def);
        let msg = match args.as_slice() {
            [] => plain.call_method(def.name, &()).await,
            [a] => plain.call_method(def.name, &(a,)).await,
            [a, b] => plain.call_method(def.name, &(a, b)).await,
            _ => unreachable!("no method takes three"),
        }
        .expect("call");
        let c = seen.recv().await.expect("call");
        assert_eq!((c.method, &c.args), (def.method, &args));
        let body = msg.body();
        let sig = body.signature().to_string();
        if def.returns_payload {
            assert_eq!(sig, "s", "{}", def.name);
            let s: String = body.deserialize().expect("string");
            assert_eq!(s, echoed(&c));
        } else {
            assert_eq!(sig, "", "{}", def.name);
        }
    }
    for def in METHODS.iter().filter(|d| !d.args.is_empty()) {
        let err = plain
            .call_method(def.name, &(1u32,))
            .await
            .expect_err("wrong signature");
        let name = match err {
            zbus::Error::MethodError(name, _, _) => name.to_string(),
            zbus::Error::FDO(e) => zbus::DBusError::name(&*e).to_string(),
            other => panic!("{}: {other}", def.name),
        };
        assert_eq!(
            name, "org.freedesktop.DBus.Error.InvalidArgs",
            "{}",
            def.name
        );
    }
    assert!(seen.try_recv().is_err(), "a bad call reached the handler");

    // the introspection lists each method with C teamd's argument names
    let intro = zbus::fdo::IntrospectableProxy::builder(&client)
        .destination("org.libteam.teamd.test")
        .path(PATH)
        .build()
        .await
        .expect("proxy")
        .introspect()
        .await
        .expect("introspect");
    let ours = intro
        .split("<interface ")
        .find(|i| i.starts_with(&format!("name=\"{INTERFACE}\"")))
        .expect("interface introspected");
    assert_eq!(ours.matches("<method ").count(), METHODS.len());
    for def in METHODS {
        let mut block = format!("<method name=\"{}\">\n", def.name);
        for a in def.args {
            block += &format!("      <arg name=\"{a}\" type=\"s\" direction=\"in\"/>\n");
        }
        if def.returns_payload {
            block += "      <arg type=\"s\" direction=\"out\"/>\n";
        }
        block += "    </method>";
        assert!(
            ours.contains(&block),
            "{} not as expected:\n{ours}",
            def.name
        );
    }
}
