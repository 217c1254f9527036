//! Pins `consts` to the kernel's uapi header (`linux-libc-dev`'s
//! `/usr/include/linux/if_team.h`): each enum member's ordinal must equal ours.

use std::collections::HashMap;
use team_nl::consts::*;

/// Member name → ordinal for every `enum { ... }` in the header.
fn enum_ordinals(header: &str) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    let mut in_enum = false;
    let mut next = 0u32;
    for line in header.lines() {
        let code = line.split("/*").next().unwrap_or("").trim();
        if code.starts_with("enum") {
            in_enum = true;
            next = 0;
            continue;
        }
        if !in_enum {
            continue;
        }
        if code.starts_with('}') {
            in_enum = false;
            continue;
        }
        let Some(name) = code.split([',', ' ', '=']).next().filter(|n| !n.is_empty()) else {
            continue;
        };
        if code.contains('=') {
            continue; // the `*_MAX = __*_MAX - 1` aliases
        }
        out.insert(name.to_string(), next);
        next += 1;
    }
    out
}

#[test]
fn constants_match_uapi_if_team_h() {
    let path = "/usr/include/linux/if_team.h";
    let header = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (install linux-libc-dev)"));
    let ord = enum_ordinals(&header);
    let expect: &[(&str, u32)] = &[
        ("TEAM_CMD_NOOP", CMD_NOOP.into()),
        ("TEAM_CMD_OPTIONS_SET", CMD_OPTIONS_SET.into()),
        ("TEAM_CMD_OPTIONS_GET", CMD_OPTIONS_GET.into()),
        ("TEAM_CMD_PORT_LIST_GET", CMD_PORT_LIST_GET.into()),
        ("TEAM_ATTR_TEAM_IFINDEX", ATTR_TEAM_IFINDEX.into()),
        ("TEAM_ATTR_LIST_OPTION", ATTR_LIST_OPTION.into()),
        ("TEAM_ATTR_LIST_PORT", ATTR_LIST_PORT.into()),
        ("TEAM_ATTR_ITEM_OPTION", ATTR_ITEM_OPTION.into()),
        ("TEAM_ATTR_OPTION_NAME", ATTR_OPTION_NAME.into()),
        ("TEAM_ATTR_OPTION_CHANGED", ATTR_OPTION_CHANGED.into()),
        ("TEAM_ATTR_OPTION_TYPE", ATTR_OPTION_TYPE.into()),
        ("TEAM_ATTR_OPTION_DATA", ATTR_OPTION_DATA.into()),
        ("TEAM_ATTR_OPTION_REMOVED", ATTR_OPTION_REMOVED.into()),
        (
            "TEAM_ATTR_OPTION_PORT_IFINDEX",
            ATTR_OPTION_PORT_IFINDEX.into(),
        ),
        (
            "TEAM_ATTR_OPTION_ARRAY_INDEX",
            ATTR_OPTION_ARRAY_INDEX.into(),
        ),
        ("TEAM_ATTR_ITEM_PORT", ATTR_ITEM_PORT.into()),
        ("TEAM_ATTR_PORT_IFINDEX", ATTR_PORT_IFINDEX.into()),
        ("TEAM_ATTR_PORT_CHANGED", ATTR_PORT_CHANGED.into()),
        ("TEAM_ATTR_PORT_LINKUP", ATTR_PORT_LINKUP.into()),
        ("TEAM_ATTR_PORT_SPEED", ATTR_PORT_SPEED.into()),
        ("TEAM_ATTR_PORT_DUPLEX", ATTR_PORT_DUPLEX.into()),
        ("TEAM_ATTR_PORT_REMOVED", ATTR_PORT_REMOVED.into()),
    ];
    for (name, ours) in expect {
        assert_eq!(ord.get(*name), Some(ours), "{name}");
    }
    assert!(header.contains(&format!("#define TEAM_GENL_NAME \"{GENL_NAME}\"")));
    assert!(header.contains(&format!(
        "#define TEAM_GENL_CHANGE_EVENT_MC_GRP_NAME \"{CHANGE_EVENT_GROUP}\""
    )));
    assert!(header.contains(&format!("#define TEAM_STRING_MAX_LEN {STRING_MAX_LEN}")));
    assert!(header.contains(&format!("#define TEAM_GENL_VERSION {GENL_VERSION:#x}")));
}
