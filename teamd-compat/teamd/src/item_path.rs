//! State item paths (`StateItemValueGet/Set`): how C teamd cuts a path into
//! a port name and the rest, and reads a leaf of the state document. Pure (a
//! JSON document in, a value or an error out), so the D-Bus fuzz target
//! (`fuzz/checks`) compiles this file as it is.

use serde_json::Value;

// EINVAL: what C teamd answers for a `ports.` path whose port name cannot be cut out
// (ItemValueGetFail/SetFail), not ENOENT (PathDoesNotExist)
use crate::kernel::EINVAL;

/// Why an item could not be read or written (mapped to control error codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemError {
    NoPath,
    ReadOnly,
    Failed(i32),
}

/// Splits `ports.<name>.rest` as C teamd does: a quoted name runs to the
/// *last* double quote and the one character after it is skipped, whatever it
/// is; an unquoted one runs to the next dot. `None`: not a port path;
/// `Some(Err)`: a port path with no name end (no dot, no closing quote).
pub fn split_port_path(path: &str) -> Option<Result<(&str, &str), ItemError>> {
    let rest = path.strip_prefix("ports.")?;
    if let Some(q) = rest.strip_prefix('"') {
        let Some(end) = q.rfind('"') else {
            return Some(Err(ItemError::Failed(EINVAL)));
        };
        let after = &q[end + 1..];
        // C skips one byte past the quote; at the string's end it would read
        // past it, which can only fail to match
        let skip = after.chars().next().map_or(0, char::len_utf8);
        Some(Ok((&q[..end], &after[skip..])))
    } else {
        Some(rest.split_once('.').ok_or(ItemError::Failed(EINVAL)))
    }
}

pub fn leaf<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let v = path.split('.').try_fold(v, |v, k| v.get(k))?;
    (!v.is_object() && !v.is_array()).then_some(v)
}

/// The port an item path names, matched on the given prefix of the name as C
/// teamd's strncmp does; the port's state subtree and the remaining path.
pub fn resolve<'a>(
    state: &'a Value,
    names: &[String],
    path: &'a str,
) -> Result<(&'a Value, &'a str), ItemError> {
    let Some(split) = split_port_path(path) else {
        return leaf(state, path)
            .map(|_| (state, path))
            .ok_or(ItemError::NoPath);
    };
    let (given, rest) = split?;
    let name = names
        .iter()
        .find(|n| n.starts_with(given))
        .ok_or(ItemError::NoPath)?;
    let port = state
        .get("ports")
        .and_then(|p| p.get(name.as_str()))
        .ok_or(ItemError::NoPath)?;
    if leaf(port, rest).is_some() {
        return Ok((port, rest));
    }
    // quirk: a global item also resolves under a port prefix
    leaf(state, rest)
        .map(|_| (state, rest))
        .ok_or(ItemError::NoPath)
}

/// StateItemValueGet on a state document (`dump`'s, or the bond backend's):
/// `names` are the current ports, in the order a name prefix matches them.
pub fn item_get_in(state: &Value, names: &[String], path: &str) -> Result<String, ItemError> {
    let (node, rest) = resolve(state, names, path)?;
    let v = leaf(node, rest).ok_or(ItemError::NoPath)?;
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(ItemError::Failed(EINVAL)),
    })
}

/// A C `long` parse of the whole string, within `int` range.
pub fn parse_int(s: &str) -> Option<i32> {
    s.parse::<i64>().ok().and_then(|v| i32::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn port_paths_allow_quotes_and_prefixes() {
        assert_eq!(
            split_port_path("ports.eth1.link.up"),
            Some(Ok(("eth1", "link.up")))
        );
        assert_eq!(
            split_port_path("ports.\"eth1.100\".link.up"),
            Some(Ok(("eth1.100", "link.up")))
        );
        // the name runs to the last quote, and any one character follows it
        assert_eq!(
            split_port_path("ports.\"a\"b\"xup"),
            Some(Ok(("a\"b", "up")))
        );
        assert_eq!(split_port_path("ports.\"eth1\""), Some(Ok(("eth1", ""))));
        assert_eq!(split_port_path("setup.pid"), None);
        let state = json!({
            "ports": {"eth1": {"link": {"up": true}}, "eth2": {"link": {"up": false}}},
            "setup": {"pid": 7}
        });
        let names = vec!["eth2".to_string(), "eth1".to_string()];
        let (node, rest) = resolve(&state, &names, "ports.eth.link.up").unwrap();
        assert_eq!(
            leaf(node, rest),
            Some(&json!(false)),
            "first port starting with eth"
        );
        let (node, rest) = resolve(&state, &names, "ports.eth1.setup.pid").unwrap();
        assert_eq!(leaf(node, rest), Some(&json!(7)));
        assert_eq!(
            resolve(&state, &names, "ports.eth1.link"),
            Err(ItemError::NoPath),
            "only leaves"
        );
        assert_eq!(resolve(&state, &names, "nope"), Err(ItemError::NoPath));
        assert_eq!(
            resolve(&state, &names, "ports.nope.link.up"),
            Err(ItemError::NoPath)
        );
    }

    #[test]
    fn port_paths_without_a_name_end_are_invalid_not_missing() {
        let state = json!({"ports": {"eth1": {"link": {"up": true}}}});
        let names = vec!["eth1".to_string()];
        for path in ["ports.eth1", "ports.\"eth1", "ports."] {
            assert_eq!(
                resolve(&state, &names, path),
                Err(ItemError::Failed(EINVAL)),
                "{path}"
            );
        }
    }

    #[test]
    fn int_parsing_is_whole_string_within_int() {
        assert_eq!(parse_int("12"), Some(12));
        assert_eq!(parse_int("12x"), None);
        assert_eq!(parse_int("4294967296"), None);
    }
}
