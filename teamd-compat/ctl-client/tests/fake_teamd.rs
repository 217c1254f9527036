//! The handle against a fake teamd on a SEQPACKET socketpair: what goes on the
//! wire, what the cache holds, and how error replies come back.

use std::sync::mpsc;
use std::thread;

use nix::errno::Errno;
use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use std::os::fd::AsRawFd;
use teamd_ctl_client::transport::Client;
use teamd_ctl_client::usock::UsockClient;
use teamd_ctl_client::Handle;
use teamd_ctl_proto::usock::{Reply, Request};
use teamd_ctl_proto::Method;

/// Starts a fake teamd answering with `answer`; every request it saw is sent on the channel.
fn fake(answer: fn(&Request) -> Reply) -> (Handle, mpsc::Receiver<Request>) {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = recv(theirs.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            if n == 0 {
                break;
            }
            let req = Request::decode(&buf[..n]).unwrap();
            let reply = answer(&req);
            let _ = tx.send(req);
            if send(theirs.as_raw_fd(), &reply.encode(), MsgFlags::empty()).is_err() {
                break;
            }
        }
    });
    let mut h = Handle::new();
    h.log.priority = 0;
    h.connect_client(Client::Usock(UsockClient::from_fd(ours)))
        .unwrap();
    (h, rx)
}

fn teamd(req: &Request) -> Reply {
    match req.method.as_str() {
        "ConfigDump" => Reply::Success("{\"device\": \"t0\"}".into()),
        "ConfigDumpActual" => Reply::Success("{\"device\": \"t0\", \"ports\": {}}".into()),
        "StateDump" => Reply::Success("{\"setup\": {}}".into()),
        "PortConfigDump" if req.args == ["p0"] => Reply::Success("{\"prio\": 3}".into()),
        "StateItemValueGet" => Reply::Success(format!("value of {}", req.args[0])),
        "PortAdd" => Reply::Success(String::new()),
        _ => Reply::Error {
            code: "NoSuchDev".into(),
            message: "No such device.".into(),
        },
    }
}

#[test]
fn connect_fills_the_cache_with_three_dumps() {
    let (h, rx) = fake(teamd);
    let seen: Vec<String> = rx.try_iter().map(|r| r.method).collect();
    assert_eq!(seen, ["ConfigDump", "ConfigDumpActual", "StateDump"]);
    assert_eq!(h.cached_str(Method::ConfigDump), "{\"device\": \"t0\"}");
    assert_eq!(
        h.cached_str(Method::ConfigDumpActual),
        "{\"device\": \"t0\", \"ports\": {}}"
    );
    assert_eq!(h.cached_str(Method::StateDump), "{\"setup\": {}}");
}

#[test]
fn calls_carry_their_arguments_and_errors_are_einval() {
    let (mut h, rx) = fake(teamd);
    rx.try_iter().count();
    assert_eq!(
        h.call(Method::StateItemValueGet, &["runner.active_port"]),
        Ok("value of runner.active_port".into())
    );
    assert_eq!(h.call(Method::PortAdd, &["p\n1"]), Ok(String::new()));
    assert_eq!(
        h.call(Method::PortRemove, &["p1"]),
        Err(Errno::EINVAL),
        "an error reply is EINVAL, as in libteamdctl"
    );
    let args: Vec<Vec<String>> = rx.try_iter().map(|r| r.args).collect();
    assert_eq!(
        args,
        vec![
            vec!["runner.active_port".to_string()],
            vec!["p\n1".to_string()],
            vec!["p1".to_string()]
        ]
    );
}

#[test]
fn port_config_is_cached_per_port_and_refresh_replaces_entries() {
    let (mut h, _rx) = fake(teamd);
    let first = h.port_config_direct("p0").unwrap().as_ptr();
    let config = h.cached(Method::ConfigDump).unwrap().as_ptr();
    assert_eq!(h.port_config_direct("p9"), Err(Errno::EINVAL));
    // a refresh gives ConfigDump a new text; the port entry is untouched
    h.refresh().unwrap();
    assert_ne!(h.cached(Method::ConfigDump).unwrap().as_ptr(), config);
    let again = h.port_config_direct("p0").unwrap();
    assert_eq!(again.to_str(), Ok("{\"prio\": 3}"));
    assert_ne!(again.as_ptr(), first, "the old text was replaced");
    // connecting twice is refused, disconnecting keeps the cache
    assert_eq!(h.connect("t0", None), Err(Errno::EBUSY));
    h.disconnect();
    assert!(!h.is_connected());
    assert_eq!(h.cached_str(Method::StateDump), "{\"setup\": {}}");
    assert_eq!(h.refresh(), Err(Errno::ENOTCONN));
}
