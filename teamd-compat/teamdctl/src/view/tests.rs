use super::*;
use serde_json::json;

/// The StateDump of spec §3.4 (activebackup, one port, ethtool watcher).
fn activebackup() -> Value {
    json!({
        "ports": {
            "eth1": {
                "ifinfo": {"dev_addr": "52:54:00:aa:bb:01", "dev_addr_len": 6, "ifindex": 3, "ifname": "eth1"},
                "link": {"duplex": "full", "speed": 1000, "up": true},
                "link_watches": {
                    "list": {
                        "link_watch_0": {"delay_down": 0, "delay_up": 0, "down_count": 0, "name": "ethtool", "up": true}
                    },
                    "up": true
                }
            }
        },
        "runner": {"active_port": "eth1"},
        "setup": {
            "daemonized": false, "dbus_enabled": true, "debug_level": 0,
            "kernel_team_mode_name": "activebackup", "pid": 4242,
            "pid_file": "/var/run/teamd/team0.pid", "runner_name": "activebackup", "zmq_enabled": false
        },
        "team_device": {
            "ifinfo": {"dev_addr": "52:54:00:aa:bb:01", "dev_addr_len": 6, "ifindex": 5, "ifname": "team0"}
        }
    })
}

fn lacpdu(system: &str, port: i64, state: i64) -> Value {
    json!({"key": 0, "port": port, "port_priority": 255, "state": state, "system": system, "system_priority": 65535})
}

/// A lacp team: one port with arp_ping and nsna_ping watchers, one with tipc.
fn lacp() -> Value {
    json!({
        "ports": {
            "eth1": {
                "ifinfo": {"dev_addr": "52:54:00:aa:bb:01", "dev_addr_len": 6, "ifindex": 3, "ifname": "eth1"},
                "link": {"duplex": "full", "speed": 10000, "up": true},
                "link_watches": {
                    "list": {
                        "link_watch_0": {
                            "down_count": 2, "init_wait": 0, "interval": 100, "missed": 1, "missed_max": 3,
                            "name": "arp_ping", "send_always": false, "source_host": "0.0.0.0",
                            "target_host": "192.0.2.1", "up": true, "validate_active": true,
                            "validate_inactive": false
                        },
                        "link_watch_1": {
                            "down_count": 0, "init_wait": 500, "interval": 1000, "missed": 0, "missed_max": 5,
                            "name": "nsna_ping", "target_host": "fe80::1", "up": false
                        }
                    },
                    "up": true
                },
                "runner": {
                    "actor_lacpdu_info": lacpdu("52:54:00:aa:bb:01", 3, 61),
                    "aggregator": {"id": 3, "selected": true},
                    "key": 0,
                    "partner_lacpdu_info": lacpdu("52:54:00:cc:dd:01", 7, 63),
                    "prio": 255,
                    "selected": true,
                    "state": "current"
                }
            },
            "eth2": {
                "ifinfo": {"dev_addr": "52:54:00:aa:bb:01", "dev_addr_len": 6, "ifindex": 4, "ifname": "eth2"},
                "link": {"duplex": "half", "speed": 0, "up": false},
                "link_watches": {
                    "list": {
                        "link_watch_0": {"down_count": 0, "name": "tipc", "tipc_bearer": "eth:eth2", "up": false}
                    },
                    "up": false
                },
                "runner": {
                    "actor_lacpdu_info": lacpdu("52:54:00:aa:bb:01", 4, -1),
                    "aggregator": {"id": 0, "selected": false},
                    "key": 7,
                    "partner_lacpdu_info": lacpdu("00:00:00:00:00:00", 0, 2),
                    "prio": 10,
                    "selected": false,
                    "state": "disabled"
                }
            }
        },
        "runner": {"active": true, "fast_rate": false, "select_policy": "lacp_prio", "sys_prio": 65535},
        "setup": {
            "daemonized": true, "dbus_enabled": false, "debug_level": 2,
            "kernel_team_mode_name": "loadbalance", "pid": 77,
            "pid_file": "/var/run/teamd/team1.pid", "runner_name": "lacp", "zmq_enabled": false
        }
    })
}

fn ok(state: &Value, verbosity: u32) -> String {
    let view = state_view(state, verbosity);
    assert_eq!(view.result, Ok(()), "partial output:\n{}", view.text);
    view.text
}

#[test]
fn spec_example() {
    assert_eq!(
        ok(&activebackup(), 0),
        "setup:
  runner: activebackup
ports:
  eth1
    link watches:
      link summary: up
      instance[link_watch_0]:
        name: ethtool
        link: up
        down count: 0
runner:
  active port: eth1
"
    );
}

#[test]
fn spec_example_verbose() {
    let want = "setup:
  runner: activebackup
  kernel team mode: activebackup
  D-BUS enabled: yes
  ZeroMQ enabled: no
  debug level: 0
  daemonized: no
  PID: 4242
  PID file: /var/run/teamd/team0.pid
ports:
  eth1
    ifindex: 3
    addr: 52:54:00:aa:bb:01
    ethtool link: 1000mbit/fullduplex/up
    link watches:
      link summary: up
      instance[link_watch_0]:
        name: ethtool
        link: up
        down count: 0
        link up delay: 0
        link down delay: 0
runner:
  active port: eth1
";
    assert_eq!(ok(&activebackup(), 1), want);
    // more -v shows nothing more
    assert_eq!(ok(&activebackup(), 3), want);
}

#[test]
fn no_ports_and_other_runners() {
    let mut state = activebackup();
    let root = state.as_object_mut().unwrap();
    root.remove("ports");
    root["runner"] = json!({"active_port": ""});
    assert_eq!(
        ok(&state, 0),
        "setup:\n  runner: activebackup\nrunner:\n  active port: \n"
    );
    let mut state = activebackup();
    let root = state.as_object_mut().unwrap();
    root.remove("runner");
    root.remove("ports");
    root["setup"]["runner_name"] = json!("roundrobin");
    assert_eq!(ok(&state, 0), "setup:\n  runner: roundrobin\n");
}

#[test]
fn lacp_with_ping_watchers() {
    assert_eq!(
        ok(&lacp(), 0),
        "setup:
  runner: lacp
ports:
  eth1
    link watches:
      link summary: up
      instance[link_watch_0]:
        name: arp_ping
        link: up
        down count: 2
      instance[link_watch_1]:
        name: nsna_ping
        link: down
        down count: 0
    runner:
      aggregator ID: 3, Selected
      selected: yes
      state: current
  eth2
    link watches:
      link summary: down
      instance[link_watch_0]:
        name: tipc
        link: down
        down count: 0
    runner:
      aggregator ID: 0
      selected: no
      state: disabled
runner:
  active: yes
  fast rate: no
"
    );
}

#[test]
fn lacp_verbose() {
    assert_eq!(
        ok(&lacp(), 1),
        "setup:
  runner: lacp
  kernel team mode: loadbalance
  D-BUS enabled: no
  ZeroMQ enabled: no
  debug level: 2
  daemonized: yes
  PID: 77
  PID file: /var/run/teamd/team1.pid
ports:
  eth1
    ifindex: 3
    addr: 52:54:00:aa:bb:01
    ethtool link: 10000mbit/fullduplex/up
    link watches:
      link summary: up
      instance[link_watch_0]:
        name: arp_ping
        link: up
        down count: 2
        source host: 0.0.0.0
        target host: 192.0.2.1
        interval: 100
        missed packets: 1/3
        validate_active: yes
        validate_inactive: no
        send_always: no
        initial wait: 0
      instance[link_watch_1]:
        name: nsna_ping
        link: down
        down count: 0
        target host: fe80::1
        interval: 1000
        missed packets: 0/5
        initial wait: 500
    runner:
      aggregator ID: 3, Selected
      selected: yes
      state: current
      key: 0
      priority: 255
      actor LACPDU info:
        system priority: 65535
        system: 52:54:00:aa:bb:01
        key: 0
        port_priority: 255
        port: 3
        state: 0x3d
      partner LACPDU info:
        system priority: 65535
        system: 52:54:00:cc:dd:01
        key: 0
        port_priority: 255
        port: 7
        state: 0x3f
  eth2
    ifindex: 4
    addr: 52:54:00:aa:bb:01
    ethtool link: 0mbit/halfduplex/down
    link watches:
      link summary: down
      instance[link_watch_0]:
        name: tipc
        link: down
        down count: 0
        tipc bearer: eth:eth2
    runner:
      aggregator ID: 0
      selected: no
      state: disabled
      key: 7
      priority: 10
      actor LACPDU info:
        system priority: 65535
        system: 52:54:00:aa:bb:01
        key: 0
        port_priority: 255
        port: 4
        state: 0xffffffff
      partner LACPDU info:
        system priority: 65535
        system: 00:00:00:00:00:00
        key: 0
        port_priority: 255
        port: 0
        state: 0x2
runner:
  active: yes
  fast rate: no
  system priority: 65535
"
    );
}

#[test]
fn ports_follow_document_order() {
    // teamd's dump is sorted; the view keeps whatever order the text had
    let state = json!({
        "setup": activebackup()["setup"].clone(),
        "ports": {"b": activebackup()["ports"]["eth1"].clone(), "a": activebackup()["ports"]["eth1"].clone()},
        "runner": {"active_port": "a"}
    });
    let text = ok(&state, 0);
    let b = text.find("\n  b\n").unwrap();
    let a = text.find("\n  a\n").unwrap();
    assert!(b < a, "{text}");
}

#[test]
fn ints_truncate_like_c() {
    let mut state = activebackup();
    state["setup"]["pid"] = json!(4294967297i64);
    assert!(ok(&state, 1).contains("  PID: 1\n"));
}

fn err(state: &Value, verbosity: u32) -> (String, ViewError) {
    let view = state_view(state, verbosity);
    (view.text, view.result.unwrap_err())
}

#[test]
fn errors_keep_partial_output() {
    assert_eq!(err(&json!([]), 0), ("setup:\n".into(), ViewError::Setup));
    let mut s = activebackup();
    s["setup"]["pid"] = json!("4242");
    assert_eq!(err(&s, 0), ("setup:\n".into(), ViewError::Setup));

    let mut s = activebackup();
    s["ports"]["eth1"]["link"]["speed"] = json!(1.5);
    assert_eq!(
        err(&s, 0),
        (
            "setup:\n  runner: activebackup\nports:\n".into(),
            ViewError::Port
        )
    );

    let mut s = activebackup();
    s["ports"]["eth1"]["link_watches"]["up"] = json!(1);
    assert_eq!(err(&s, 0).1, ViewError::LinkWatches);

    let mut s = activebackup();
    s["ports"]["eth1"]["link_watches"]["list"]["link_watch_0"]["name"] = json!("bogus");
    let (text, e) = err(&s, 0);
    assert_eq!(e, ViewError::UnknownLinkWatch);
    assert!(text.ends_with("        down count: 0\n"), "{text}");
    assert_eq!(
        e.to_string(),
        "Failed to parse JSON unknown link watch info dump."
    );

    // watcher details are checked even when not shown
    let mut s = activebackup();
    s["ports"]["eth1"]["link_watches"]["list"]["link_watch_0"]
        .as_object_mut()
        .unwrap()
        .remove("delay_up");
    assert_eq!(err(&s, 0).1, ViewError::Ethtool);

    let mut s = activebackup();
    s["runner"] = json!({});
    let (text, e) = err(&s, 0);
    assert_eq!(e, ViewError::Runner);
    assert!(text.ends_with("runner:\n"), "{text}");

    let mut s = lacp();
    s["ports"]["eth1"]["runner"]["partner_lacpdu_info"] = json!({});
    let (text, e) = err(&s, 1);
    assert_eq!(e, ViewError::Lacpdu);
    assert!(text.ends_with("      partner LACPDU info:\n"), "{text}");

    let mut s = lacp();
    s["ports"]["eth2"]["runner"]["aggregator"] = json!({"id": 0});
    let (text, e) = err(&s, 0);
    assert_eq!(e, ViewError::PortRunner);
    assert!(text.ends_with("  eth2\n    link watches:\n      link summary: down\n      instance[link_watch_0]:\n        name: tipc\n        link: down\n        down count: 0\n    runner:\n"), "{text}");
    assert_eq!(
        ViewError::Tipc.to_string(),
        "Failed to parse JSON tipc_bearer link watch dump"
    );
}

#[test]
fn odd_but_accepted_shapes() {
    // non-object "ports" and "list" render as empty, like jansson iteration
    let mut s = activebackup();
    s["ports"] = json!([1]);
    assert_eq!(
        ok(&s, 0),
        "setup:\n  runner: activebackup\nports:\nrunner:\n  active port: eth1\n"
    );
    let mut s = activebackup();
    s["ports"]["eth1"]["link_watches"] = json!({"up": false});
    assert!(ok(&s, 0).contains("    link watches:\n      link summary: down\nrunner:"));
}
