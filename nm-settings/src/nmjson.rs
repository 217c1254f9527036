//! NM's JSON spelling for generated team configs: objects `{ "k": v, "k2": v2 }`,
//! arrays `[ a, b ]`, keys in the order they are added. Strings are escaped
//! as JSON requires; nothing else is normalised.

use serde_json::Value;

/// An object being written, members in insertion order.
#[derive(Debug, Default, Clone)]
pub struct Object {
    members: Vec<(String, String)>,
}

impl Object {
    pub fn new() -> Object {
        Object::default()
    }

    /// Adds `key` with an already written value.
    pub fn raw(&mut self, key: &str, value: String) -> &mut Object {
        self.members.push((key.to_string(), value));
        self
    }

    pub fn int(&mut self, key: &str, v: i32) -> &mut Object {
        self.raw(key, v.to_string())
    }

    pub fn bool(&mut self, key: &str, v: bool) -> &mut Object {
        self.raw(key, v.to_string())
    }

    pub fn string(&mut self, key: &str, v: &str) -> &mut Object {
        self.raw(key, string(v))
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// `{ "k": v, ... }`, or `{ }` when empty.
    pub fn finish(&self) -> String {
        if self.members.is_empty() {
            return "{ }".to_string();
        }
        let body: Vec<String> = self
            .members
            .iter()
            .map(|(k, v)| format!("{}: {v}", string(k)))
            .collect();
        format!("{{ {} }}", body.join(", "))
    }
}

/// A JSON string literal.
pub fn string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `[ a, b ]`, or `[]` when empty.
pub fn array(items: &[String]) -> String {
    if items.is_empty() {
        "[]".to_string()
    } else {
        format!("[ {} ]", items.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling() {
        let mut inner = Object::new();
        inner.string("name", "activebackup");
        let mut o = Object::new();
        o.raw("runner", inner.finish())
            .int("count", 3)
            .bool("x", true);
        assert_eq!(
            o.finish(),
            r#"{ "runner": { "name": "activebackup" }, "count": 3, "x": true }"#
        );
        assert_eq!(Object::new().finish(), "{ }");
        assert_eq!(array(&[string("eth"), string("l4")]), r#"[ "eth", "l4" ]"#);
        assert_eq!(string("a\"b"), r#""a\"b""#);
    }
}
