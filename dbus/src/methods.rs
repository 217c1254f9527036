//! The `org.libteam.teamd` methods, written once. [`with_teamd_methods!`] holds
//! the one table (D-Bus name, `teamd_ctl_proto::Method` variant, Rust name,
//! argument names, reply type) and hands it to a generator macro: the server's
//! `#[zbus::interface]` impl (`server.rs`), the client's `#[zbus::proxy]` trait
//! and its `call` (`client.rs`), and [`METHODS`] here. Server and proxy cannot
//! drift apart, and the compile-time checks below tie the table to ctl-proto's
//! method set, which the usock transport and teamdctl use too.
//!
//! Every argument is a D-Bus string (`s`), as in C teamd's `teamd_dbus.c`; a
//! reply is either one string or empty.

use teamd_ctl_proto::method::Method;
use zbus::wire::serialized::{Context, Data};
use zbus::wire::Endian;

/// Calls `$generate!` with the method table. One row per method:
/// `Variant "DBusName" rust_name(arg, ...) -> ReplyType;` where the reply type is
/// `String` (signature `s`) or `()` (no reply arguments). Argument names are
/// those of C teamd's introspection XML (zbus puts them in its own).
macro_rules! with_teamd_methods {
    ($generate:ident) => {
        $generate! {
            ConfigDump "ConfigDump" config_dump() -> String;
            ConfigDumpActual "ConfigDumpActual" config_dump_actual() -> String;
            StateDump "StateDump" state_dump() -> String;
            StateItemValueGet "StateItemValueGet" state_item_value_get(state_item_path) -> String;
            StateItemValueSet "StateItemValueSet" state_item_value_set(state_item_path, value) -> ();
            PortAdd "PortAdd" port_add(port_devname) -> ();
            PortRemove "PortRemove" port_remove(port_devname) -> ();
            PortConfigUpdate "PortConfigUpdate" port_config_update(port_devname, port_config) -> ();
            PortConfigDump "PortConfigDump" port_config_dump(port_devname) -> String;
            // rteam's own: applies a config document live ("" re-reads the file)
            ConfigReload "ConfigReload" config_reload(config) -> ();
        }
    };
}
pub(crate) use with_teamd_methods;

/// A reply type of the table: the handler's payload string, kept or dropped.
pub trait Payload: Sized {
    /// Whether the D-Bus reply carries the payload (signature `s`).
    const CARRIED: bool;
    fn from_payload(payload: String) -> Self;
    fn into_payload(self) -> String;
}

impl Payload for String {
    const CARRIED: bool = true;
    fn from_payload(payload: String) -> Self {
        payload
    }
    fn into_payload(self) -> String {
        self
    }
}

impl Payload for () {
    const CARRIED: bool = false;
    fn from_payload(_: String) -> Self {}
    fn into_payload(self) -> String {
        String::new()
    }
}

/// One method as the table defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodDef {
    pub method: Method,
    /// The D-Bus member name.
    pub name: &'static str,
    /// The names of its string arguments.
    pub args: &'static [&'static str],
    /// Whether the reply carries a string.
    pub returns_payload: bool,
}

impl MethodDef {
    /// The table's row for `method`.
    pub fn of(method: Method) -> &'static MethodDef {
        // the checks below make the table cover every Method exactly once
        METHODS
            .iter()
            .find(|d| d.method == method)
            .unwrap_or(&METHODS[0])
    }

    /// The D-Bus signature of the arguments (`""`, `"s"` or `"ss"`).
    pub fn in_signature(&self) -> &'static str {
        &"ss"[..self.args.len().min(2)]
    }

    /// Reads a method call's body (D-Bus marshalling, little-endian, as zbus
    /// receives it) into the arguments the handler gets: exactly this
    /// method's strings, else an error (zbus replies `InvalidArgs` then, before
    /// teamd sees the call).
    pub fn decode_body(&self, body: &[u8]) -> Result<Vec<String>, zbus::Error> {
        let data = Data::new(body, Context::new(Endian::Little, 0));
        let (args, used) = match self.args.len() {
            0 => (Vec::new(), 0),
            1 => {
                let ((a,), used) = data.deserialize::<(String,)>()?;
                (vec![a], used)
            }
            _ => {
                let ((a, b), used) = data.deserialize::<(String, String)>()?;
                (vec![a, b], used)
            }
        };
        if used != body.len() {
            return Err(zbus::Error::Failure("trailing bytes in the body".into()));
        }
        Ok(args)
    }
}

macro_rules! method_table {
    ($($variant:ident $name:literal $fn:ident($($arg:ident),*) -> $ret:tt;)*) => {
        /// Every method, in the table's order.
        pub const METHODS: &[MethodDef] = &[$(MethodDef {
            method: Method::$variant,
            name: $name,
            args: &[$(stringify!($arg)),*],
            returns_payload: <$ret as Payload>::CARRIED,
        },)*];
    };
}
with_teamd_methods!(method_table);

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn strs_eq(a: &[&str], b: &[&str]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !str_eq(a[i], b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

// The table against ctl-proto's method set, at compile time: same names,
// argument lists and reply kinds, and every method present (rows are distinct,
// or the generated impls would clash).
const _: () = {
    assert!(METHODS.len() == Method::ALL.len());
    let mut i = 0;
    while i < METHODS.len() {
        let d = &METHODS[i];
        assert!(str_eq(d.name, d.method.name()));
        assert!(strs_eq(d.args, d.method.arg_names()));
        assert!(d.returns_payload == d.method.returns_payload());
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_to_exactly_the_methods_arguments() {
        let def = MethodDef::of(Method::PortConfigUpdate);
        assert_eq!(def.in_signature(), "ss");
        let ctx = Context::new(Endian::Little, 0);
        let body = zbus::wire::to_bytes(ctx, &("eth1", "{}")).expect("serialise");
        assert_eq!(
            def.decode_body(body.bytes()).expect("decode"),
            ["eth1", "{}"]
        );
        let one = zbus::wire::to_bytes(ctx, &("eth1",)).expect("serialise");
        let one = one.bytes();
        assert!(def.decode_body(one).is_err(), "one string for two");
        let def = MethodDef::of(Method::StateDump);
        assert_eq!(def.in_signature(), "");
        assert!(def.decode_body(&[]).expect("empty").is_empty());
        assert!(def.decode_body(one).is_err(), "arguments for none");
        for m in Method::ALL {
            assert_eq!(MethodDef::of(m).method, m);
        }
    }
}
