// SPDX-License-Identifier: GPL-2.0-only
//! What the driver encodes, rteam's client codec (`team-nl`) decodes to the
//! same values, and what the client sends, the driver parses: the two sides
//! of the Team genl ABI checked against each other.

use team_driver_logic::logic::{abi, message, modes, nla::AttrWriter, options, ports};
use team_nl::{OptionItem, OptionValue, TeamMessage};

fn genl(cmd: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![cmd, abi::GENL_VERSION, 0, 0];
    v.extend_from_slice(body);
    v
}

#[test]
fn options_get_reply_decodes_in_the_client() {
    let mut buf = [0u8; 1024];
    let mut w = AttrWriter::new(&mut buf);
    let core = &options::CORE_OPTIONS;
    let items: Vec<(usize, options::InstanceKey, options::OptionValue<'_>)> = vec![
        (
            0,
            Default::default(),
            options::OptionValue::Str(modes::NO_MODE_NAME.as_bytes()),
        ),
        (1, Default::default(), options::OptionValue::U32(3)),
        (
            5,
            options::InstanceKey {
                port_ifindex: 8,
                array_index: None,
            },
            options::OptionValue::Bool(true),
        ),
        (
            8,
            options::InstanceKey {
                port_ifindex: 8,
                array_index: None,
            },
            options::OptionValue::S32(-5),
        ),
    ];
    let next = message::write_list(&mut w, 21, abi::ATTR_LIST_OPTION, 0, items.len(), |w, i| {
        let (d, key, v) = items[i];
        options::write_option_item(
            w,
            &core[d],
            key,
            v,
            options::ItemFlags {
                changed: i == 1,
                removed: false,
            },
        )
    })
    .unwrap();
    assert_eq!(next, items.len());
    let msg = TeamMessage::parse(&genl(abi::CMD_OPTIONS_GET, w.bytes())).unwrap();
    assert_eq!(msg.team_ifindex, Some(21));
    let got = msg.options.unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].name, "mode");
    assert_eq!(got[0].value, OptionValue::String("*NOMODE*".into()));
    assert_eq!(got[1].value, OptionValue::U32(3));
    assert!(got[1].changed && !got[0].changed);
    assert_eq!(got[2].port_ifindex, Some(8));
    assert_eq!(got[2].value, OptionValue::Bool(true));
    assert_eq!(got[3].value, OptionValue::S32(-5));
}

#[test]
fn port_list_reply_decodes_in_the_client() {
    let mut buf = [0u8; 256];
    let mut w = AttrWriter::new(&mut buf);
    let rep = [
        ports::PortReport {
            ifindex: 3,
            changed: true,
            linkup: true,
            speed: 1000,
            duplex: 1,
            removed: false,
        },
        ports::PortReport {
            ifindex: 4,
            removed: true,
            ..Default::default()
        },
    ];
    message::write_list(&mut w, 2, abi::ATTR_LIST_PORT, 0, 2, |w, i| {
        ports::write_port_item(w, &rep[i])
    })
    .unwrap();
    let msg = TeamMessage::parse(&genl(abi::CMD_PORT_LIST_GET, w.bytes())).unwrap();
    let got = msg.ports.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (
            got[0].ifindex,
            got[0].linkup,
            got[0].speed,
            got[0].duplex,
            got[0].changed
        ),
        (3, true, 1000, 1, true)
    );
    assert!(got[1].removed && !got[1].linkup);
}

#[test]
fn client_options_set_parses_in_the_driver() {
    let req = TeamMessage::options_set(
        9,
        vec![
            OptionItem::new("mode", OptionValue::String("activebackup".into())),
            OptionItem::new("enabled", OptionValue::Bool(false)).port(4),
            OptionItem::new("lb_tx_hash_to_port_mapping", OptionValue::U32(4)).index(17),
        ],
    )
    .emit();
    // Find LIST_OPTION after the genl header.
    let attrs: Vec<_> = team_driver_logic::logic::nla::AttrIter::new(&req[4..])
        .map(|a| a.unwrap())
        .collect();
    let list = attrs
        .iter()
        .find(|a| a.ty == abi::ATTR_LIST_OPTION)
        .unwrap();
    let items: Vec<_> = options::set_items(list.payload)
        .map(|i| i.unwrap())
        .collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].value, options::OptionValue::Str(b"activebackup"));
    assert!(items[0].matches(&options::CORE_OPTIONS[0], Default::default()));
    assert!(items[1].matches(
        &options::CORE_OPTIONS[5],
        options::InstanceKey {
            port_ifindex: 4,
            array_index: None
        }
    ));
    assert_eq!(items[1].value, options::OptionValue::Bool(false));
    let map = &options::LOADBALANCE_OPTIONS[2];
    assert!(items[2].matches(
        map,
        options::InstanceKey {
            port_ifindex: 0,
            array_index: Some(17)
        }
    ));
    assert!(!items[2].matches(
        map,
        options::InstanceKey {
            port_ifindex: 0,
            array_index: Some(16)
        }
    ));
}
