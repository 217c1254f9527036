//! Byte-level tests: annotated kernel-shaped messages parse into the expected
//! values and emit back byte-identical; malformed input is an error, never a panic.
#![cfg(target_endian = "little")]

use team_nl::{Command, DecodeError, OptionItem, OptionValue, PortItem, TeamMessage};

/// An OPTIONS_GET reply part as team_core.c fills it (nests without NLA_F_NESTED;
/// NAME, PORT_IFINDEX, TYPE, DATA, then the CHANGED flag).
fn options_reply_bytes() -> Vec<u8> {
    let mut b = vec![2, 1, 0, 0]; // genl: cmd OPTIONS_GET, version 1
    b.extend([8, 0, 1, 0, 5, 0, 0, 0]); // TEAM_IFINDEX = 5
    b.extend([88, 0, 2, 0]); // LIST_OPTION
    b.extend([44, 0, 1, 0]); //   ITEM_OPTION
    b.extend([9, 0, 1, 0, b'm', b'o', b'd', b'e', 0, 0, 0, 0]); // NAME "mode"
    b.extend([5, 0, 3, 0, 5, 0, 0, 0]); //     TYPE NLA_STRING
    b.extend([17, 0, 4, 0]); //     DATA "activebackup\0" + pad
    b.extend(b"activebackup\0\0\0\0");
    b.extend([40, 0, 1, 0]); //   ITEM_OPTION
    b.extend([12, 0, 1, 0]); //     NAME "enabled"
    b.extend(b"enabled\0");
    b.extend([8, 0, 6, 0, 7, 0, 0, 0]); //     PORT_IFINDEX 7
    b.extend([5, 0, 3, 0, 6, 0, 0, 0]); //     TYPE NLA_FLAG
    b.extend([4, 0, 4, 0]); //     DATA (flag present: true)
    b.extend([4, 0, 2, 0]); //     CHANGED
    b
}

#[test]
fn options_reply_parses_and_round_trips() {
    let bytes = options_reply_bytes();
    let msg = TeamMessage::parse(&bytes).unwrap();
    assert_eq!(msg.cmd, Command::OptionsGet);
    assert_eq!(msg.version, 1);
    assert_eq!(msg.team_ifindex, Some(5));
    let opts = msg.options.as_ref().unwrap();
    assert_eq!(
        opts[0],
        OptionItem::new("mode", OptionValue::String("activebackup".into()))
    );
    let mut enabled = OptionItem::new("enabled", OptionValue::Bool(true)).port(7);
    enabled.changed = true;
    assert_eq!(opts[1], enabled);
    assert!(msg.ports.is_none());
    assert_eq!(msg.emit(), bytes);
}

#[test]
fn options_set_request_matches_libteam_layout() {
    // libteam: genl version 0; NAME, PORT_IFINDEX, ARRAY_INDEX, TYPE, DATA.
    let msg = TeamMessage::options_set(
        42,
        vec![OptionItem::new("lb_tx_hash_to_port_mapping", OptionValue::U32(9)).index(200)],
    );
    let mut want = vec![1, 0, 0, 0];
    want.extend([8, 0, 1, 0, 42, 0, 0, 0]);
    let name = b"lb_tx_hash_to_port_mapping\0"; // 27 bytes -> attr len 31, padded 32
    let item_len = 4 + 32 + 8 + 8 + 8;
    want.extend([(item_len + 4) as u8, 0, 2, 0]);
    want.extend([item_len as u8, 0, 1, 0]);
    want.extend([31, 0, 1, 0]);
    want.extend(name);
    want.push(0);
    want.extend([8, 0, 7, 0, 200, 0, 0, 0]); // ARRAY_INDEX
    want.extend([5, 0, 3, 0, 3, 0, 0, 0]); // TYPE NLA_U32
    want.extend([8, 0, 4, 0, 9, 0, 0, 0]); // DATA
    assert_eq!(msg.emit(), want);
    assert_eq!(TeamMessage::parse(&want).unwrap(), msg);
}

#[test]
fn every_option_type_round_trips() {
    let items = vec![
        OptionItem::new("queue_id", OptionValue::U32(3)).port(4),
        OptionItem::new("priority", OptionValue::S32(-12)).port(4),
        OptionItem::new("mode", OptionValue::String("loadbalance".into())),
        OptionItem::new(
            "bpf_hash_func",
            OptionValue::Binary(vec![6, 0, 0, 0, 1, 2, 3]),
        ),
        OptionItem::new("user_linkup", OptionValue::Bool(false)).port(4),
        OptionItem::new("user_linkup_enabled", OptionValue::Bool(true)).port(4),
        OptionItem::new("lb_hash_stats", OptionValue::Binary(vec![0; 8])).index(255),
    ];
    let msg = TeamMessage::options_set(3, items);
    assert_eq!(TeamMessage::parse(&msg.emit()).unwrap(), msg);
}

#[test]
fn removed_and_changed_flags_round_trip() {
    let mut item = OptionItem::new("activeport", OptionValue::U32(0));
    item.removed = true;
    item.changed = true;
    let mut msg = TeamMessage::options_get(1);
    msg.options = Some(vec![item]);
    assert_eq!(TeamMessage::parse(&msg.emit()).unwrap(), msg);
}

#[test]
fn port_list_round_trips() {
    let mut msg = TeamMessage::port_list_get(9);
    msg.version = 1;
    msg.ports = Some(vec![
        PortItem {
            ifindex: 11,
            changed: true,
            linkup: true,
            speed: 10000,
            duplex: 1,
            removed: false,
        },
        PortItem {
            ifindex: 12,
            removed: true,
            ..PortItem::default()
        },
    ]);
    let bytes = msg.emit();
    // ITEM_PORT for ifindex 11: IFINDEX, CHANGED, LINKUP, SPEED, DUPLEX
    assert_eq!(&bytes[20..24], &[8, 0, 1, 0]);
    assert_eq!(TeamMessage::parse(&bytes).unwrap(), msg);
}

#[test]
fn unknown_attributes_and_types_are_tolerated() {
    let mut b = vec![2, 1, 0, 0];
    b.extend([8, 0, 99, 0, 1, 2, 3, 4]); // unknown top-level attribute
    b.extend([40, 0, 2, 0]);
    b.extend([36, 0, 1, 0]);
    b.extend([8, 0, 1, 0, b'n', b'e', b'w', 0]);
    b.extend([5, 0, 3, 0, 42, 0, 0, 0]); // TYPE 42: unknown
    b.extend([8, 0, 4, 0, 1, 0, 0, 0]);
    b.extend([8, 0, 77, 0, 0, 0, 0, 0]); // unknown item attribute
    let msg = TeamMessage::parse(&b).unwrap();
    let o = &msg.options.unwrap()[0];
    assert_eq!(o.name, "new");
    assert_eq!(
        o.value,
        OptionValue::Unknown {
            type_code: 42,
            data: Some(vec![1, 0, 0, 0])
        }
    );
}

fn option_item_message(item: &[u8]) -> Vec<u8> {
    let mut b = vec![2, 1, 0, 0];
    let item_len = 4 + item.len();
    b.extend([(item_len + 4) as u8, 0, 2, 0]);
    b.extend([item_len as u8, 0, 1, 0]);
    b.extend(item);
    b
}

#[test]
fn malformed_messages_are_errors_naming_the_problem() {
    assert!(matches!(
        TeamMessage::parse(&[2, 1]),
        Err(DecodeError::Truncated { .. })
    ));
    // missing NAME
    let e = TeamMessage::parse(&option_item_message(&[5, 0, 3, 0, 3, 0, 0, 0])).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Missing {
            attr: "OPTION_NAME"
        }
    );
    // missing TYPE
    let e = TeamMessage::parse(&option_item_message(&[6, 0, 1, 0, b'x', 0, 0, 0])).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Missing {
            attr: "OPTION_TYPE"
        }
    );
    // u32 option without DATA
    let e = TeamMessage::parse(&option_item_message(&[
        6, 0, 1, 0, b'x', 0, 0, 0, 5, 0, 3, 0, 3, 0, 0, 0,
    ]))
    .unwrap_err();
    assert_eq!(
        e,
        DecodeError::Missing {
            attr: "OPTION_DATA"
        }
    );
    // u32 option with 2 bytes of DATA
    let e = TeamMessage::parse(&option_item_message(&[
        6, 0, 1, 0, b'x', 0, 0, 0, 5, 0, 3, 0, 3, 0, 0, 0, 6, 0, 4, 0, 1, 2, 0, 0,
    ]))
    .unwrap_err();
    assert!(matches!(
        e,
        DecodeError::BadAttrLength {
            attr: "OPTION_DATA",
            len: 2
        }
    ));
    // port item without ifindex
    let mut b = vec![3, 1, 0, 0, 12, 0, 3, 0, 8, 0, 1, 0, 4, 0, 3, 0];
    assert_eq!(
        TeamMessage::parse(&b).unwrap_err(),
        DecodeError::Missing {
            attr: "PORT_IFINDEX"
        }
    );
    // a nest whose length runs past the buffer
    b[4] = 200;
    assert!(TeamMessage::parse(&b).is_err());
    // TEAM_IFINDEX too short
    assert!(TeamMessage::parse(&[2, 1, 0, 0, 6, 0, 1, 0, 1, 0]).is_err());
}

#[test]
fn every_prefix_of_a_valid_message_parses_or_errors_without_panicking() {
    let bytes = options_reply_bytes();
    for n in 0..bytes.len() {
        let _ = TeamMessage::parse(&bytes[..n]);
    }
    // and single-byte corruptions
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        let _ = TeamMessage::parse(&b);
    }
}
