//! The usock text framing (spec §4.2): one SEQPACKET message per request and per
//! reply. Pure encode/decode, no sockets.
//!
//! Request: `REQUEST\n<method>\n<arg>\n...`, each argument escaped by the client
//! (newline → `\n`, backslash → `\\`). Replies: `REPLY_SUCCESS\n<payload>` or
//! `REPLY_ERROR\n<code>\n<message>\n`. Lines are split the way teamd's
//! `teamd_usock_msg_getline` splits them: empty lines are skipped and the last
//! line may lack its newline. Messages are C strings to teamd, so everything
//! from the first NUL byte on is ignored.

use crate::method::{ErrorCode, Method};

pub const REQUEST_PREFIX: &str = "REQUEST";
pub const REPLY_SUCCESS_PREFIX: &str = "REPLY_SUCCESS";
pub const REPLY_ERROR_PREFIX: &str = "REPLY_ERROR";

/// Why a request message could not be decoded.
///
/// teamd answers some of these with an `InvalidArgs` error and ignores the
/// others silently; [`RequestError::reply`] says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("empty message: no `REQUEST` line")]
    Empty,
    #[error("first line is {first_line:?}, not `REQUEST`")]
    NotARequest { first_line: String },
    #[error("no method name after the `REQUEST` line")]
    MissingMethod,
    #[error("unknown method {name:?}")]
    UnknownMethod { name: String },
    #[error("method {method} needs {expected} argument(s), message has {found}")]
    MissingArgument {
        method: Method,
        expected: usize,
        found: usize,
    },
    #[error("argument {index}: backslash followed by {found:?} at byte {offset} (only `\\n` and `\\\\` are escapes)")]
    BadEscape {
        index: usize,
        offset: usize,
        found: char,
    },
    #[error("argument {index}: message ends inside an escape sequence")]
    TrailingBackslash { index: usize },
    #[error("argument {index} is not valid UTF-8")]
    InvalidUtf8 { index: usize },
}

impl RequestError {
    /// The reply teamd sends for this error: `InvalidArgs` for a broken
    /// argument list, nothing at all (the client times out) when the message is
    /// not a request or names an unknown method.
    pub fn reply(&self) -> Option<Reply> {
        match self {
            RequestError::Empty
            | RequestError::NotARequest { .. }
            | RequestError::MissingMethod
            | RequestError::UnknownMethod { .. } => None,
            RequestError::MissingArgument { .. }
            | RequestError::BadEscape { .. }
            | RequestError::TrailingBackslash { .. }
            | RequestError::InvalidUtf8 { .. } => Some(Reply::error(ErrorCode::InvalidArgs)),
        }
    }
}

/// Why a reply message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("empty reply: no reply type line")]
    Empty,
    #[error("unsupported reply type {first_line:?}")]
    UnsupportedType { first_line: String },
    #[error("error reply without an error code")]
    MissingErrorCode,
    /// The code is kept: libteamdctl logs it before noticing the missing line.
    #[error("error reply {code:?} without an error message")]
    MissingErrorMessage { code: String },
    #[error("reply {part} is not valid UTF-8")]
    InvalidUtf8 { part: &'static str },
}

/// A request as the client sends it: any method name, any arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub args: Vec<String>,
}

/// A request for a known method with exactly the arguments it takes, decoded
/// the way teamd does it (see [`Call::decode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: Method,
    pub args: Vec<String>,
}

/// A reply. The error code is a string because a client must cope with codes
/// it does not know; [`Reply::error`] builds the standard ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Success(String),
    Error { code: String, message: String },
}

/// Escapes one argument as libteamdctl does before sending it.
pub fn escape_arg(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    for c in arg.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out
}

/// Reverses [`escape_arg`]; `index` only labels errors.
///
/// Unlike teamd's `__strdecode`, this decodes every escape: the C loop skips
/// the character right after each escape sequence, so `\n\n` on the wire
/// becomes newline + `\n` there, and `\\\\` three backslashes. A lone
/// backslash at the end is an error here (teamd keeps it).
pub fn unescape_arg(line: &[u8], index: usize) -> Result<String, RequestError> {
    let mut out = Vec::with_capacity(line.len());
    let mut bytes = line.iter().enumerate();
    while let Some((_, &b)) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some((_, b'n')) => out.push(b'\n'),
            Some((_, b'\\')) => out.push(b'\\'),
            Some((offset, _)) => {
                let found = decode_char_at(line, offset);
                return Err(RequestError::BadEscape {
                    index,
                    offset,
                    found,
                });
            }
            None => return Err(RequestError::TrailingBackslash { index }),
        }
    }
    String::from_utf8(out).map_err(|_| RequestError::InvalidUtf8 { index })
}

/// The character starting at `offset`, for error messages only.
fn decode_char_at(bytes: &[u8], offset: usize) -> char {
    let tail = bytes.get(offset..).unwrap_or_default();
    let end = tail.len().min(4);
    (1..=end)
        .find_map(|n| std::str::from_utf8(&tail[..n]).ok())
        .and_then(|s| s.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The message up to its first NUL, as C string handling sees it.
fn c_str(msg: &[u8]) -> &[u8] {
    match msg.iter().position(|&b| b == 0) {
        Some(end) => &msg[..end],
        None => msg,
    }
}

/// teamd's line splitter: skips newlines, returns the next non-empty line and
/// the rest after its terminating newline (`None` when the line ran to the end).
fn getline(rest: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let start = rest.iter().position(|&b| b != b'\n')?;
    let tail = &rest[start..];
    match tail.iter().position(|&b| b == b'\n') {
        Some(end) => Some((&tail[..end], Some(&tail[end + 1..]))),
        None => Some((tail, None)),
    }
}

/// Iterator over the remaining lines of a message.
struct Lines<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (line, rest) = getline(self.0?)?;
        self.0 = rest;
        Some(line)
    }
}

/// Splits off the `REQUEST` and method lines.
fn request_head(msg: &[u8]) -> Result<(&[u8], Lines<'_>), RequestError> {
    let mut lines = Lines(Some(c_str(msg)));
    let first = lines.next().ok_or(RequestError::Empty)?;
    if first != REQUEST_PREFIX.as_bytes() {
        return Err(RequestError::NotARequest {
            first_line: String::from_utf8_lossy(first).into_owned(),
        });
    }
    let method = lines.next().ok_or(RequestError::MissingMethod)?;
    Ok((method, lines))
}

impl Request {
    pub fn new(method: Method, args: &[&str]) -> Request {
        Request {
            method: method.name().to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// The client's message. An empty argument encodes to an empty line, which
    /// teamd skips (it then takes the next line), as with libteamdctl.
    pub fn encode(&self) -> Vec<u8> {
        let mut msg = format!("{REQUEST_PREFIX}\n{}\n", self.method);
        for arg in &self.args {
            msg.push_str(&escape_arg(arg));
            msg.push('\n');
        }
        msg.into_bytes()
    }

    /// Decodes every line after the method as an argument. The method name is
    /// not checked; [`Call::decode`] is what a server wants.
    pub fn decode(msg: &[u8]) -> Result<Request, RequestError> {
        let (method, lines) = request_head(msg)?;
        let method =
            String::from_utf8(method.to_vec()).map_err(|_| RequestError::UnknownMethod {
                name: String::from_utf8_lossy(method).into_owned(),
            })?;
        let args = lines
            .enumerate()
            .map(|(i, line)| unescape_arg(line, i))
            .collect::<Result<_, _>>()?;
        Ok(Request { method, args })
    }
}

impl Call {
    /// Decodes a request as teamd does: the method must be known, exactly the
    /// arguments it takes are decoded, and any further lines are ignored
    /// (teamd never looks at them).
    pub fn decode(msg: &[u8]) -> Result<Call, RequestError> {
        let (name, mut lines) = request_head(msg)?;
        let method = std::str::from_utf8(name)
            .ok()
            .and_then(Method::from_name)
            .ok_or_else(|| RequestError::UnknownMethod {
                name: String::from_utf8_lossy(name).into_owned(),
            })?;
        let expected = method.arg_count();
        let mut args = Vec::with_capacity(expected);
        for index in 0..expected {
            let line = lines.next().ok_or(RequestError::MissingArgument {
                method,
                expected,
                found: index,
            })?;
            args.push(unescape_arg(line, index)?);
        }
        Ok(Call { method, args })
    }

    /// The same call as a client request.
    pub fn to_request(&self) -> Request {
        Request {
            method: self.method.name().to_string(),
            args: self.args.clone(),
        }
    }
}

impl Reply {
    /// The standard error reply for `code`, with teamd's message text.
    pub fn error(code: ErrorCode) -> Reply {
        Reply::Error {
            code: code.code().to_string(),
            message: code.message().to_string(),
        }
    }

    /// The error code, when this is an error reply with a known code.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Reply::Error { code, .. } => ErrorCode::from_code(code),
            Reply::Success(_) => None,
        }
    }

    /// teamd's message: the payload is sent raw, unescaped, with nothing after it.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Reply::Success(payload) => format!("{REPLY_SUCCESS_PREFIX}\n{payload}"),
            Reply::Error { code, message } => format!("{REPLY_ERROR_PREFIX}\n{code}\n{message}\n"),
        }
        .into_bytes()
    }

    /// Decodes a reply as libteamdctl does: the payload of a success reply is
    /// everything after the first line's newline.
    pub fn decode(msg: &[u8]) -> Result<Reply, ReplyError> {
        let utf8 = |bytes: &[u8], part| {
            String::from_utf8(bytes.to_vec()).map_err(|_| ReplyError::InvalidUtf8 { part })
        };
        let mut lines = Lines(Some(c_str(msg)));
        let first = lines.next().ok_or(ReplyError::Empty)?;
        if first == REPLY_SUCCESS_PREFIX.as_bytes() {
            // libteamdctl would dereference NULL when the type line has no
            // newline; an empty payload is the sane reading.
            return Ok(Reply::Success(utf8(
                lines.0.unwrap_or_default(),
                "payload",
            )?));
        }
        if first != REPLY_ERROR_PREFIX.as_bytes() {
            return Err(ReplyError::UnsupportedType {
                first_line: String::from_utf8_lossy(first).into_owned(),
            });
        }
        let code = utf8(
            lines.next().ok_or(ReplyError::MissingErrorCode)?,
            "error code",
        )?;
        let message = match lines.next() {
            Some(m) => utf8(m, "error message")?,
            None => return Err(ReplyError::MissingErrorMessage { code }),
        };
        Ok(Reply::Error { code, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req(method: &str, args: &[&str]) -> Request {
        Request {
            method: method.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn encode_request() {
        assert_eq!(
            Request::new(Method::StateDump, &[]).encode(),
            b"REQUEST\nStateDump\n"
        );
        assert_eq!(
            Request::new(
                Method::PortConfigUpdate,
                &["eth1", "{\"prio\":\n 1, \"x\": \"a\\\\b\"}"]
            )
            .encode(),
            b"REQUEST\nPortConfigUpdate\neth1\n{\"prio\":\\n 1, \"x\": \"a\\\\\\\\b\"}\n".to_vec()
        );
    }

    #[test]
    fn decode_request() {
        assert_eq!(
            Request::decode(b"REQUEST\nPortAdd\neth1\n"),
            Ok(req("PortAdd", &["eth1"]))
        );
        // leading and doubled newlines are skipped, last newline optional
        assert_eq!(
            Request::decode(b"\n\nREQUEST\n\nStateItemValueSet\n\na\\nb\nc\\\\d"),
            Ok(req("StateItemValueSet", &["a\nb", "c\\d"]))
        );
        // C string: NUL ends the message
        assert_eq!(
            Request::decode(b"REQUEST\nPortAdd\neth1\0eth2\n"),
            Ok(req("PortAdd", &["eth1"]))
        );
        assert_eq!(Request::decode(b"REQUEST\nFoo\n"), Ok(req("Foo", &[])));
    }

    #[test]
    fn decode_request_errors() {
        assert_eq!(Request::decode(b""), Err(RequestError::Empty));
        assert_eq!(Request::decode(b"\n\n\n"), Err(RequestError::Empty));
        assert_eq!(Request::decode(b"\0REQUEST\n"), Err(RequestError::Empty));
        assert_eq!(
            Request::decode(b"REQUESTX\nStateDump\n"),
            Err(RequestError::NotARequest {
                first_line: "REQUESTX".into()
            })
        );
        assert_eq!(
            Request::decode(b"request\nStateDump\n"),
            Err(RequestError::NotARequest {
                first_line: "request".into()
            })
        );
        assert_eq!(
            Request::decode(b"REQUEST\n\n"),
            Err(RequestError::MissingMethod)
        );
        assert_eq!(
            Request::decode(b"REQUEST\nPortAdd\na\\tb\n"),
            Err(RequestError::BadEscape {
                index: 0,
                offset: 2,
                found: 't'
            })
        );
        assert_eq!(
            Request::decode(b"REQUEST\nPortAdd\nok\nx\\\xc3\xa9\n"),
            Err(RequestError::BadEscape {
                index: 1,
                offset: 2,
                found: 'é'
            })
        );
        assert_eq!(
            Request::decode(b"REQUEST\nPortAdd\nab\\"),
            Err(RequestError::TrailingBackslash { index: 0 })
        );
        assert_eq!(
            Request::decode(b"REQUEST\nPortAdd\n\xff\n"),
            Err(RequestError::InvalidUtf8 { index: 0 })
        );
        assert_eq!(
            Request::decode(b"REQUEST\n\xffx\n"),
            Err(RequestError::UnknownMethod {
                name: "\u{fffd}x".into()
            })
        );
        let msg = RequestError::BadEscape {
            index: 0,
            offset: 2,
            found: 't',
        }
        .to_string();
        assert!(msg.contains("'t'") && msg.contains("byte 2"), "{msg}");
    }

    #[test]
    fn decode_call() {
        assert_eq!(
            Call::decode(b"REQUEST\nStateItemValueSet\nsetup.debug_level\n1\nextra\\q\n"),
            Ok(Call {
                method: Method::StateItemValueSet,
                args: vec!["setup.debug_level".into(), "1".into()],
            })
        );
        assert_eq!(
            Call::decode(b"REQUEST\nStateDump\ngarbage\\"),
            Ok(Call {
                method: Method::StateDump,
                args: vec![],
            })
        );
        let missing = Call::decode(b"REQUEST\nPortConfigUpdate\neth1\n").unwrap_err();
        assert_eq!(
            missing,
            RequestError::MissingArgument {
                method: Method::PortConfigUpdate,
                expected: 2,
                found: 1
            }
        );
        assert_eq!(missing.reply(), Some(Reply::error(ErrorCode::InvalidArgs)));
        // an empty argument cannot be sent: the next line is taken instead
        assert!(matches!(
            Call::decode(&Request::new(Method::PortAdd, &[""]).encode()),
            Err(RequestError::MissingArgument { .. })
        ));
        let bad = Call::decode(b"REQUEST\nPortAdd\na\\x\n").unwrap_err();
        assert_eq!(bad.reply(), Some(Reply::error(ErrorCode::InvalidArgs)));
        for silent in [
            &b""[..],
            b"REPLY_SUCCESS\n",
            b"REQUEST\n",
            b"REQUEST\nPortPresent\neth1\n",
            b"REQUEST\nstatedump\n",
        ] {
            let err = Call::decode(silent).unwrap_err();
            assert_eq!(err.reply(), None, "{err}");
        }
    }

    #[test]
    fn reply_encode() {
        assert_eq!(
            Reply::Success("{\n    \"a\": 1\n}".into()).encode(),
            b"REPLY_SUCCESS\n{\n    \"a\": 1\n}"
        );
        assert_eq!(Reply::Success(String::new()).encode(), b"REPLY_SUCCESS\n");
        assert_eq!(
            Reply::error(ErrorCode::NoSuchDev).encode(),
            b"REPLY_ERROR\nNoSuchDev\nNo such device.\n"
        );
    }

    #[test]
    fn reply_decode() {
        assert_eq!(
            Reply::decode(b"REPLY_SUCCESS\n\n{\n}\n"),
            Ok(Reply::Success("\n{\n}\n".into()))
        );
        assert_eq!(
            Reply::decode(b"\nREPLY_SUCCESS\n"),
            Ok(Reply::Success(String::new()))
        );
        assert_eq!(
            Reply::decode(b"REPLY_SUCCESS"),
            Ok(Reply::Success(String::new()))
        );
        assert_eq!(
            Reply::decode(b"REPLY_SUCCESS\nab\0cd"),
            Ok(Reply::Success("ab".into()))
        );
        let err = Reply::decode(b"REPLY_ERROR\nPathDoesNotExist\nItem path does not exist.\n");
        assert_eq!(err, Ok(Reply::error(ErrorCode::PathDoesNotExist)));
        assert_eq!(
            err.map(|r| r.error_code()),
            Ok(Some(ErrorCode::PathDoesNotExist))
        );
        assert_eq!(
            Reply::decode(b"REPLY_ERROR\n\nX\n\nmsg"),
            Ok(Reply::Error {
                code: "X".into(),
                message: "msg".into()
            })
        );
    }

    #[test]
    fn reply_decode_errors() {
        assert_eq!(Reply::decode(b""), Err(ReplyError::Empty));
        assert_eq!(Reply::decode(b"\n\0REPLY_SUCCESS"), Err(ReplyError::Empty));
        assert_eq!(
            Reply::decode(b"REPLY_ERROR\n"),
            Err(ReplyError::MissingErrorCode)
        );
        assert_eq!(
            Reply::decode(b"REPLY_ERROR\nNoSuchDev\n"),
            Err(ReplyError::MissingErrorMessage {
                code: "NoSuchDev".into()
            })
        );
        assert_eq!(
            Reply::decode(b"REQUEST\nStateDump\n"),
            Err(ReplyError::UnsupportedType {
                first_line: "REQUEST".into()
            })
        );
        assert_eq!(
            Reply::decode(b"REPLY_SUCCESS\n\xfe"),
            Err(ReplyError::InvalidUtf8 { part: "payload" })
        );
    }

    /// Every argument over a small alphabet that exercises the escapes.
    #[test]
    fn exhaustive_arg_round_trip() {
        let alphabet = ['a', '\\', '\n', 'n', 'é'];
        let mut args = vec![String::new()];
        for _ in 0..5 {
            let mut longer = Vec::new();
            for a in &args {
                for c in alphabet {
                    longer.push(format!("{a}{c}"));
                }
            }
            args.extend(longer);
            args.dedup();
        }
        for arg in &args {
            let escaped = escape_arg(arg);
            assert!(!escaped.contains('\n'));
            assert_eq!(
                unescape_arg(escaped.as_bytes(), 0).as_deref(),
                Ok(arg.as_str())
            );
        }
    }

    proptest! {
        #[test]
        fn request_round_trip(
            mi in 0..Method::ALL.len(),
            args in proptest::collection::vec("[^\0]{1,12}", 0..4),
        ) {
            let method = Method::ALL[mi];
            let r = Request { method: method.name().into(), args: args.clone() };
            let wire = r.encode();
            prop_assert_eq!(Request::decode(&wire), Ok(r));
            let call = Call::decode(&wire);
            if args.len() >= method.arg_count() {
                prop_assert_eq!(call, Ok(Call {
                    method,
                    args: args[..method.arg_count()].to_vec(),
                }));
            } else {
                let is_missing = matches!(call, Err(RequestError::MissingArgument { .. }));
                prop_assert!(is_missing);
            }
        }

        #[test]
        fn reply_round_trip(payload in "[^\0]*", code in "[A-Za-z]{1,20}", message in "[^\0\n]*[^\0\n]") {
            let ok = Reply::Success(payload);
            prop_assert_eq!(Reply::decode(&ok.encode()), Ok(ok));
            let err = Reply::Error { code, message };
            prop_assert_eq!(Reply::decode(&err.encode()), Ok(err));
        }

        #[test]
        fn decoders_never_panic(
            prefix in prop_oneof![
                Just(&b""[..]),
                Just(&b"REQUEST\nPortConfigUpdate\n"[..]),
                Just(&b"REPLY_ERROR\n"[..]),
            ],
            tail in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(b'\\'), Just(b'\n'), Just(b'n')],
                0..64,
            ),
        ) {
            let msg = [prefix, &tail[..]].concat();
            let _ = Request::decode(&msg);
            let _ = Call::decode(&msg);
            let _ = Reply::decode(&msg);
        }
    }
}
