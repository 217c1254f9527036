//! `include/teamdctl.h` and the exported functions of `src/ffi.rs` must
//! declare the same functions with the same parameter and return types.

use std::collections::BTreeMap;

/// name → (return type, parameter types), in a common spelling.
type Decls = BTreeMap<String, (String, Vec<String>)>;

fn strip_c_comments(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// The text between the parenthesis at `open` and its match.
fn paren_group(s: &str, open: usize) -> Option<&str> {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at top-level commas (not inside parentheses or angle brackets).
fn split_top(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn c_type(param: &str) -> String {
    let p = param.replace(" *", "*").replace("* ", "*");
    if p.contains("(*log_fn)") {
        return "logfn".into();
    }
    // drop the parameter name: what follows the last '*' or space
    let ty = match p.rfind(['*', ' ']) {
        Some(i) if p[i..].starts_with('*') => &p[..=i],
        Some(i) => &p[..i],
        None => &p[..],
    };
    match ty.trim() {
        "struct teamdctl*" => "ctx",
        "const char*" => "str",
        "char**" => "out-str",
        "char*" => "owned-str",
        "int" => "int",
        "void" => "void",
        other => panic!("unexpected C type {other:?} in {param:?}"),
    }
    .into()
}

fn rust_type(ty: &str) -> String {
    match ty.split_whitespace().collect::<Vec<_>>().join(" ").as_str() {
        "*mut Teamdctl" => "ctx",
        "*const c_char" => "str",
        "*mut *mut c_char" => "out-str",
        "*mut c_char" => "owned-str",
        "c_int" => "int",
        "Option<LogFn>" => "logfn",
        "" => "void",
        other => panic!("unexpected Rust type {other:?}"),
    }
    .into()
}

fn header_decls() -> Decls {
    let text = strip_c_comments(include_str!("../include/teamdctl.h"));
    let mut decls = Decls::new();
    for stmt in text.split(';') {
        let stmt = stmt.trim();
        let Some(name_at) = stmt.find("teamdctl_") else {
            continue;
        };
        let Some(open) = stmt[name_at..].find('(').map(|o| name_at + o) else {
            continue;
        };
        let name = stmt[name_at..open].trim().to_string();
        let ret = stmt[..name_at]
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .replace(' ', "");
        let ret = match ret.as_str() {
            "structteamdctl*" => "ctx".to_string(),
            "char*" => "owned-str".into(),
            "int" => "int".into(),
            "void" => "void".into(),
            other => panic!("unexpected return type {other:?} of {name}"),
        };
        let params = paren_group(stmt, open).expect("unbalanced declaration");
        let params: Vec<String> = split_top(params)
            .iter()
            .filter(|p| p.as_str() != "void")
            .map(|p| c_type(p))
            .collect();
        decls.insert(name, (ret, params));
    }
    decls
}

fn rust_decls() -> Decls {
    let text = include_str!("../src/ffi.rs");
    let mut decls = Decls::new();
    let marker = "pub extern \"C\" fn ";
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        let open = rest.find('(').expect("fn without parameters");
        let name = rest[..open].to_string();
        let params = paren_group(rest, open).expect("unbalanced fn");
        let after = &rest[open + params.len() + 2..];
        let ret = after.split('{').next().unwrap_or_default().trim();
        let ret = rust_type(ret.strip_prefix("->").unwrap_or(ret).trim());
        let params = split_top(params)
            .iter()
            .map(|p| rust_type(p.split_once(':').map_or("", |(_, t)| t)))
            .collect();
        decls.insert(name, (ret, params));
    }
    decls
}

#[test]
fn header_matches_exports() {
    let header = header_decls();
    let rust = rust_decls();
    assert_eq!(header.len(), 20, "libteamdctl exports 20 functions");
    assert_eq!(header, rust);
}
