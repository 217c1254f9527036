//! JSON as teamd and teamdctl see it through jansson: the dump formats of
//! `json_dumps` and a parser with `JSON_REJECT_DUPLICATES` that keeps key order.
//!
//! Dumps must be byte-identical to libteam's because scripts diff them, so the
//! writer is our own rather than serde_json's (key sorting, `\uXXXX` with
//! uppercase hex, `%.17g` reals). Parsing goes through serde_json with a
//! custom visitor; only the error texts are jansson-flavoured.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt::{self, Write as _};

/// jansson's `JSON_MAX_INDENT`.
const MAX_INDENT: usize = 31;

/// `json_dumps(v, JSON_INDENT(4) | JSON_ENSURE_ASCII | JSON_SORT_KEYS)`: what
/// teamd sends for every dump and teamdctl prints (plus a newline).
pub fn dump_pretty(value: &Value) -> String {
    dump(value, 4)
}

/// The same flags with `JSON_INDENT(0)`, which teamdctl `-o` uses: one line,
/// `", "` between members and `": "` after keys (this is not `JSON_COMPACT`).
pub fn dump_compact(value: &Value) -> String {
    dump(value, 0)
}

/// `json_dumps` with `JSON_ENSURE_ASCII | JSON_SORT_KEYS` and the given indent
/// (clamped to jansson's maximum of 31).
pub fn dump(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    Dumper {
        indent: indent.min(MAX_INDENT),
        out: &mut out,
    }
    .value(value, 0);
    out
}

struct Dumper<'a> {
    indent: usize,
    out: &'a mut String,
}

impl Dumper<'_> {
    /// jansson's `dump_indent`: a newline plus indentation, or with indent 0 a
    /// single space where a separator needs one.
    fn newline(&mut self, depth: usize, space: bool) {
        if self.indent > 0 {
            self.out.push('\n');
            self.out
                .extend(std::iter::repeat_n(' ', depth * self.indent));
        } else if space {
            self.out.push(' ');
        }
    }

    fn value(&mut self, value: &Value, depth: usize) {
        match value {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&number(n)),
            Value::String(s) => string(self.out, s),
            Value::Array(items) => {
                self.out.push('[');
                if !items.is_empty() {
                    self.newline(depth + 1, false);
                    for (i, item) in items.iter().enumerate() {
                        self.value(item, depth + 1);
                        self.separator(i + 1 == items.len(), depth);
                    }
                }
                self.out.push(']');
            }
            Value::Object(map) => {
                self.out.push('{');
                if !map.is_empty() {
                    self.newline(depth + 1, false);
                    // bytewise, as jansson's strcmp-based sort
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort_unstable();
                    for (i, key) in keys.iter().enumerate() {
                        string(self.out, key);
                        self.out.push_str(": ");
                        if let Some(v) = map.get(*key) {
                            self.value(v, depth + 1);
                        }
                        self.separator(i + 1 == keys.len(), depth);
                    }
                }
                self.out.push('}');
            }
        }
    }

    fn separator(&mut self, last: bool, depth: usize) {
        if last {
            self.newline(depth, false);
        } else {
            self.out.push(',');
            self.newline(depth + 1, true);
        }
    }
}

/// jansson's `dump_string` with `JSON_ENSURE_ASCII` (and no `JSON_ESCAPE_SLASH`).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='\u{7f}' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // writing to a String cannot fail
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
        }
    }
    out.push('"');
}

fn number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        real(n.as_f64().unwrap_or(0.0))
    }
}

/// jansson's `jsonp_dtostr` with the default precision: `%.17g`, then a `.0`
/// when the text would read back as an integer, and the exponent without `+`
/// or leading zeros (`1e20`, `1.5e-7`).
fn real(v: f64) -> String {
    const PRECISION: i32 = 17;
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // the exponent %g decides with is the one of the %e rendering
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut text = if (-4..PRECISION).contains(&exp) {
        let decimals = (PRECISION - 1 - exp) as usize;
        trim_fraction(&format!("{v:.decimals$}")).to_string()
    } else {
        format!("{}e{exp}", trim_fraction(mantissa))
    };
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

/// `%g` drops trailing zeros of the fraction, and the point if nothing is left.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A JSON parse failure, positioned like jansson's `json_error_t`: 1-based line,
/// column counted in characters (the column of the last character read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text} on line {line}, column {column}")]
pub struct ParseError {
    pub text: String,
    pub line: usize,
    pub column: usize,
}

/// Marks the duplicate-key error from inside the visitor; [`parse_strict`]
/// rewrites it with the key's source text.
const DUPLICATE_MARKER: &str = "\u{0}duplicate object key";

/// Parses like `json_loads(text, JSON_REJECT_DUPLICATES, &err)`: the root must
/// be an object or array, a repeated key in one object is an error, `\u0000`
/// in strings is refused, object key order is kept.
///
/// Error texts follow jansson for duplicate keys, a non-container root,
/// `\u0000` and too-big integers; other syntax errors carry serde_json's text.
pub fn parse_strict(text: &str) -> Result<Value, ParseError> {
    check_root(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| convert_error(text, &e))?;
    Ok(value)
}

/// jansson without `JSON_DECODE_ANY` wants `[` or `{` first.
fn check_root(text: &str) -> Result<(), ParseError> {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if trimmed.starts_with(['[', '{']) {
        return Ok(());
    }
    let start = text.len() - trimmed.len();
    let token = first_token(trimmed);
    let (line, column) = position(text, start + token.len());
    let text = if token.is_empty() {
        "'[' or '{' expected near end of file".to_string()
    } else {
        format!("'[' or '{{' expected near '{token}'")
    };
    Err(ParseError { text, line, column })
}

/// Roughly the token jansson's lexer would save at the start of `s`.
fn first_token(s: &str) -> &str {
    if let Some(body) = s.strip_prefix('"') {
        let end = closing_quote(body).map_or(s.len(), |i| i + 2);
        return &s[..end];
    }
    let end = s
        .find(|c: char| c.is_ascii_whitespace() || "[]{},:\"".contains(c))
        .unwrap_or(s.len());
    let end = if end == 0 {
        s.chars().next().map_or(0, char::len_utf8)
    } else {
        end
    };
    &s[..end]
}

/// Byte index of the unescaped `"` ending a string body.
fn closing_quote(body: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(i),
            _ => {}
        }
    }
    None
}

/// jansson's line/column after reading `text[..end]`: the column counts
/// characters on the current line, so it names the last character read.
fn position(text: &str, end: usize) -> (usize, usize) {
    let before = text.get(..end).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = 1 + before.matches('\n').count();
    (line, before[line_start..].chars().count())
}

/// Byte offset of serde_json's (line, byte column) position.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .match_indices('\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(i, _)| i + 1);
    let line_start = if line <= 1 { 0 } else { line_start };
    (line_start + column).min(text.len())
}

fn convert_error(text: &str, err: &serde_json::Error) -> ParseError {
    let offset = offset_of(text, err.line(), err.column());
    let message = err.to_string();
    // serde_json appends " at line L column C" to every message
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    if message == DUPLICATE_MARKER {
        return duplicate_key_error(text, offset);
    }
    let (line, column) = position(text, offset);
    ParseError {
        text: message.trim_start_matches('\0').to_string(),
        line,
        column,
    }
}

/// serde_json reports the duplicate after the key (and perhaps whitespace);
/// find the key's source text and position it on its closing quote.
fn duplicate_key_error(text: &str, offset: usize) -> ParseError {
    let head = &text[..offset.min(text.len())];
    let close = head.trim_end_matches([' ', '\t', '\n', '\r']).len();
    let open = head
        .get(..close.saturating_sub(1))
        .and_then(opening_quote)
        .unwrap_or(0);
    let token = &text[open..close];
    let (line, column) = position(text, close);
    // jansson shows the token only when it is at most 20 bytes long
    let text = if token.len() <= 20 {
        format!("duplicate object key near '{token}'")
    } else {
        "duplicate object key".to_string()
    };
    ParseError { text, line, column }
}

/// Byte index of the `"` opening the string whose body ends `s`: the last quote
/// preceded by an even number of backslashes.
fn opening_quote(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..bytes.len()).rev().find(|&i| {
        bytes[i] == b'"' && bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// Deserializes a `Value`, refusing duplicate keys.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

fn checked_string<E: de::Error>(s: String) -> Result<Value, E> {
    if s.contains('\0') {
        return Err(E::custom("\\u0000 is not allowed without JSON_ALLOW_NUL"));
    }
    Ok(Value::String(s))
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        // jansson integers are `long long`
        if i64::try_from(v).is_err() {
            return Err(E::custom("too big integer"));
        }
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("real number overflow"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        checked_string(v.to_string())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        checked_string(v)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if key.contains('\0') {
                return Err(de::Error::custom("NUL byte in object key not supported"));
            }
            if map.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE_MARKER));
            }
            let value = access.next_value_seed(StrictValue)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_shape() {
        let v = json!({
            "runner": {"name": "roundrobin"},
            "device": "team0",
            "ports": {"eth1": {"link_watch": {"name": "ethtool"}}},
        });
        assert_eq!(
            dump_pretty(&v),
            "{\n    \"device\": \"team0\",\n    \"ports\": {\n        \"eth1\": {\n            \
             \"link_watch\": {\n                \"name\": \"ethtool\"\n            }\n        }\n    \
             },\n    \"runner\": {\n        \"name\": \"roundrobin\"\n    }\n}"
        );
    }

    #[test]
    fn arrays_and_empties() {
        let v = json!({"tx_hash": ["eth", "ipv4"], "e": {}, "a": [], "n": [[], {}, null]});
        assert_eq!(
            dump_pretty(&v),
            "{\n    \"a\": [],\n    \"e\": {},\n    \"n\": [\n        [],\n        {},\n        \
             null\n    ],\n    \"tx_hash\": [\n        \"eth\",\n        \"ipv4\"\n    ]\n}"
        );
        assert_eq!(
            dump_compact(&v),
            "{\"a\": [], \"e\": {}, \"n\": [[], {}, null], \"tx_hash\": [\"eth\", \"ipv4\"]}"
        );
        assert_eq!(dump_pretty(&json!({})), "{}");
        assert_eq!(dump_pretty(&json!([])), "[]");
        assert_eq!(dump(&json!([1]), 100), format!("[\n{}1\n]", " ".repeat(31)));
    }

    #[test]
    fn keys_sorted_bytewise() {
        let v = json!({"b": 1, "B": 2, "a": 3, "é": 4, "_": 5, "aa": 6});
        assert_eq!(
            dump_compact(&v),
            "{\"B\": 2, \"_\": 5, \"a\": 3, \"aa\": 6, \"b\": 1, \"\\u00E9\": 4}"
        );
    }

    #[test]
    fn string_escapes() {
        let s = "q\"b\\s/\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}\u{80}é€😀";
        assert_eq!(
            dump_compact(&json!([s])),
            "[\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001F\u{7f}\\u0080\\u00E9\\u20AC\\uD83D\\uDE00\"]"
        );
    }

    #[test]
    fn numbers() {
        let cases: &[(Value, &str)] = &[
            (json!(0), "0"),
            (json!(-42), "-42"),
            (json!(i64::MAX), "9223372036854775807"),
            (json!(i64::MIN), "-9223372036854775808"),
            (json!(1.5), "1.5"),
            (json!(1.0), "1.0"),
            (json!(-2.0), "-2.0"),
            (json!(0.0), "0.0"),
            (json!(0.1), "0.10000000000000001"),
            (json!(100000.0), "100000.0"),
            (json!(1e16), "10000000000000000.0"),
            (json!(1e17), "1e17"),
            (json!(1e20), "1e20"),
            (json!(1.5e300), "1.5000000000000001e300"),
            (json!(1e-300), "1e-300"),
            (json!(5e-324), "4.9406564584124654e-324"),
            (json!(f64::MAX), "1.7976931348623157e308"),
            (json!(123456789012345678.0), "1.2345678901234568e17"),
            (json!(0.0001), "0.0001"),
            (json!(0.00001), "1.0000000000000001e-5"),
            (json!(2.5e-5), "2.5000000000000001e-5"),
            (json!(1.0 / 3.0), "0.33333333333333331"),
            // an exact decimal tie at the 18th digit rounds to even, as glibc
            (json!(2f64.powi(-25)), "2.9802322387695312e-8"),
        ];
        for (v, want) in cases {
            assert_eq!(dump_compact(&json!([v])), format!("[{want}]"), "{v}");
        }
    }

    #[test]
    fn parse_keeps_order_and_types() {
        let v = parse_strict("{\"z\": 1, \"a\": [true, null, 1.5, \"x\"], \"m\": {}}").unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(v["a"], json!([true, null, 1.5, "x"]));
        assert_eq!(parse_strict(" [ ] ").unwrap(), json!([]));
    }

    #[test]
    fn parse_rejects_duplicates() {
        let text = "{\n    \"ports\": {\n        \"eth1\": {\"prio\": 1, \"prio\": 2}\n    }\n}";
        let err = parse_strict(text).unwrap_err();
        assert_eq!(err.text, "duplicate object key near '\"prio\"'");
        assert_eq!((err.line, err.column), (3, 34));
        assert_eq!(
            err.to_string(),
            "duplicate object key near '\"prio\"' on line 3, column 34"
        );
        // whitespace between key and colon, escapes and non-ASCII before it
        let err = parse_strict("{\"é\": 1, \"\\u00e9\" : 2}").unwrap_err();
        assert_eq!(err.text, "duplicate object key near '\"\\u00e9\"'");
        assert_eq!((err.line, err.column), (1, 17));
        let err = parse_strict("{\"a\\\"\\\\\": 1, \"a\\\"\\\\\": 2}").unwrap_err();
        assert_eq!(err.text, "duplicate object key near '\"a\\\"\\\\\"'");
        let long = "k".repeat(19);
        let err = parse_strict(&format!("{{\"{long}\": 1, \"{long}\": 1}}")).unwrap_err();
        assert_eq!(err.text, "duplicate object key");
        assert_eq!(err.column, 48);
        // same key in different objects is fine
        assert!(parse_strict("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}").is_ok());
    }

    #[test]
    fn parse_errors() {
        let err = parse_strict("5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'[' or '{' expected near '5' on line 1, column 1"
        );
        let err = parse_strict("  \"abc\"").unwrap_err();
        assert_eq!(err.text, "'[' or '{' expected near '\"abc\"'");
        assert_eq!(err.column, 7);
        let err = parse_strict("").unwrap_err();
        assert_eq!(err.text, "'[' or '{' expected near end of file");
        assert_eq!(
            parse_strict("[\"a\\u0000\"]").unwrap_err().text,
            "\\u0000 is not allowed without JSON_ALLOW_NUL"
        );
        assert_eq!(
            parse_strict("{\"a\\u0000\": 1}").unwrap_err().text,
            "NUL byte in object key not supported"
        );
        assert_eq!(
            parse_strict("[9223372036854775808]").unwrap_err().text,
            "too big integer"
        );
        let err = parse_strict("{\"a\": 1,\n  \"b\" 2}").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(!err.text.contains("at line"), "{err}");
        assert!(parse_strict("{} x").is_err());
        assert!(parse_strict("{").is_err());
    }

    #[test]
    fn parse_rounds_reals_like_strtod() {
        // needs serde_json's float_roundtrip: its fast path is off by an ulp here
        let v = parse_strict("[2.5e-7, 0.1, 1e20, 3.0]").unwrap();
        assert_eq!(
            dump_compact(&v),
            "[2.4999999999999999e-7, 0.10000000000000001, 1e20, 3.0]"
        );
    }

    #[test]
    fn parse_dump_round_trip() {
        let v = json!({"s": "é\n😀\u{1}", "n": [1, -2, 0.5, 1e-7], "o": {"x": {}}});
        assert_eq!(parse_strict(&dump_pretty(&v)).unwrap(), v);
        assert_eq!(parse_strict(&dump_compact(&v)).unwrap(), v);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "[\\[\\]{}\",: a\\\\u0-9.e\n-]{0,40}") {
            let _ = parse_strict(&text);
        }

        #[test]
        fn dump_parse_round_trip(keys in proptest::collection::vec("\\PC{0,6}", 0..6), n in proptest::num::i64::ANY) {
            let mut map = Map::new();
            for (i, k) in keys.iter().enumerate() {
                map.insert(k.clone(), json!([i, n, k]));
            }
            let v = Value::Object(map);
            proptest::prop_assert_eq!(parse_strict(&dump_pretty(&v)).ok(), Some(v.clone()));
            proptest::prop_assert_eq!(parse_strict(&dump_compact(&v)).ok(), Some(v));
        }
    }
}
