//! The exported C functions of libteamdctl.so.0 (see `include/teamdctl.h`).
//! Each one checks its pointers, turns C strings into `&str`, runs the safe
//! [`Handle`] code with panics caught (nothing may unwind into C), and
//! returns C's convention: 0 or a negative errno, or a pointer.
//!
//! Ownership is libteamdctl's: `teamdctl_alloc` hands out a heap context that
//! only `teamdctl_free` releases; strings from the getters stay owned by the
//! context (valid until the same entry is re-fetched or the context freed);
//! the value from `teamdctl_state_item_value_get` is `malloc`ed for the caller
//! to `free`.
//!
//! Where libteamdctl would crash (NULL context or name, calls before connect,
//! a NULL log function) these functions return `-EINVAL`/`-ENOTCONN` or fall
//! back to stderr logging instead.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;

use teamd_ctl_client::log::Record;
use teamd_ctl_client::Handle;
use teamd_ctl_proto::Method;

/// `struct teamdctl`: opaque to C.
pub struct Teamdctl {
    handle: Handle,
    log_fn: Option<LogFn>,
    /// Messages the handle logged during the current call; handed to
    /// `log_fn` once the call is over, when no Rust borrow of the context is
    /// alive (the function may call back into the library).
    pending: Rc<RefCell<Vec<OwnedRecord>>>,
}

struct OwnedRecord {
    priority: c_int,
    file: CString,
    line: c_int,
    function: CString,
    text: CString,
}

fn owned(r: &Record<'_>) -> OwnedRecord {
    // interior NULs cannot reach C; they end the text there, as in C
    let c = |s: &str| CString::new(s.split('\0').next().unwrap_or_default()).unwrap_or_default();
    OwnedRecord {
        priority: r.priority,
        file: c(r.file),
        line: c_int::try_from(r.line).unwrap_or(c_int::MAX),
        function: c(r.function),
        text: c(r.text),
    }
}

/// The caller's log function, in C `void (*)(struct teamdctl *tdc, int
/// priority, const char *file, int line, const char *fn, const char *format,
/// va_list args)`. Opaque here: Rust has no portable `va_list`, so Rust never
/// calls it; `csrc/log_va.c` does, with its C type.
type LogFn = unsafe extern "C" fn();

extern "C" {
    /// Calls `log_fn` with format `"%s"` and a `va_list` holding `text`
    /// (`csrc/log_va.c`).
    fn rteam_teamdctl_log(
        log_fn: LogFn,
        // `struct teamdctl *`, passed through to the log function
        tdc: *mut c_void,
        priority: c_int,
        file: *const c_char,
        line: c_int,
        function: *const c_char,
        text: *const c_char,
    );
}

impl Teamdctl {
    fn new() -> Teamdctl {
        Teamdctl {
            handle: Handle::new(),
            log_fn: None,
            pending: Rc::new(RefCell::new(Vec::new())),
        }
    }
}

/// Hands the queued messages of the call that just ended to the caller's log
/// function.
fn flush_log(tdc: *mut Teamdctl) {
    // SAFETY: `tdc` came from `teamdctl_alloc` and was checked non-NULL by the
    // caller; the shared borrow ends before the log function runs.
    let (log_fn, records) = unsafe {
        let ctx = &*tdc;
        (ctx.log_fn, std::mem::take(&mut *ctx.pending.borrow_mut()))
    };
    let Some(log_fn) = log_fn else { return };
    for r in records {
        // SAFETY: `log_fn` is the caller's function of the C type the shim
        // calls it with (the `teamdctl_set_log_fn` contract); every pointer
        // passed lives until it returns.
        unsafe {
            rteam_teamdctl_log(
                log_fn,
                tdc.cast(),
                r.priority,
                r.file.as_ptr(),
                r.line,
                r.function.as_ptr(),
                r.text.as_ptr(),
            )
        }
    }
}

/// Runs `f` on the context behind `tdc`, catching panics; then delivers its
/// log messages. `on_error` is returned for a NULL context or a panic.
fn with_ctx<R: Copy>(tdc: *mut Teamdctl, on_error: R, f: impl FnOnce(&mut Teamdctl) -> R) -> R {
    if tdc.is_null() {
        return on_error;
    }
    // SAFETY: non-NULL `tdc` is a context from `teamdctl_alloc` not yet freed
    // (the C contract); the exclusive borrow ends when `f` returns.
    let ctx = unsafe { &mut *tdc };
    let result = catch_unwind(AssertUnwindSafe(|| f(ctx))).unwrap_or(on_error);
    flush_log(tdc);
    result
}

/// A C string argument as `&str`; NULL or non-UTF-8 → `None`.
fn str_arg<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL string arguments are NUL-terminated C strings that
    // outlive the call (the C contract).
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

fn status(r: Result<(), nix::errno::Errno>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => -(e as c_int),
    }
}

const EINVAL: c_int = -(libc::EINVAL);

/// Stores a borrowed cached string in `*p_cfg` (if given).
fn store(p_cfg: *mut *mut c_char, value: *const c_char) {
    if !p_cfg.is_null() {
        // SAFETY: a non-NULL `p_cfg` points to a writable `char *` of the caller.
        unsafe { *p_cfg = value.cast_mut() };
    }
}

#[no_mangle]
pub extern "C" fn teamdctl_alloc() -> *mut Teamdctl {
    match catch_unwind(Teamdctl::new) {
        Ok(ctx) => Box::into_raw(Box::new(ctx)),
        Err(_) => ptr::null_mut(),
    }
}

// The pointer contract is the header's: C callers never see Rust's `unsafe`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn teamdctl_free(tdc: *mut Teamdctl) {
    if tdc.is_null() {
        return;
    }
    // SAFETY: `tdc` came from `teamdctl_alloc` (Box::into_raw) and the caller
    // gives it up here; it is not used again.
    let ctx = unsafe { Box::from_raw(tdc) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(ctx)));
}

#[no_mangle]
pub extern "C" fn teamdctl_set_log_fn(tdc: *mut Teamdctl, log_fn: Option<LogFn>) {
    with_ctx(tdc, (), |ctx| {
        ctx.log_fn = log_fn;
        if log_fn.is_some() {
            let pending = ctx.pending.clone();
            ctx.handle
                .log
                .set_sink(Some(Box::new(move |r: &Record<'_>| {
                    pending.borrow_mut().push(owned(r));
                })));
        } else {
            ctx.handle.log.set_sink(None);
        }
    })
}

#[no_mangle]
pub extern "C" fn teamdctl_get_log_priority(tdc: *mut Teamdctl) -> c_int {
    with_ctx(tdc, 0, |ctx| ctx.handle.log.priority)
}

#[no_mangle]
pub extern "C" fn teamdctl_set_log_priority(tdc: *mut Teamdctl, priority: c_int) {
    with_ctx(tdc, (), |ctx| ctx.handle.log.priority = priority)
}

#[no_mangle]
pub extern "C" fn teamdctl_connect(
    tdc: *mut Teamdctl,
    team_name: *const c_char,
    _addr: *const c_char,
    cli_type: *const c_char,
) -> c_int {
    with_ctx(tdc, EINVAL, |ctx| {
        let Some(team) = str_arg(team_name) else {
            return EINVAL;
        };
        let cli = if cli_type.is_null() {
            None
        } else {
            match str_arg(cli_type) {
                Some(c) => Some(c),
                None => return EINVAL,
            }
        };
        status(ctx.handle.connect(team, cli))
    })
}

#[no_mangle]
pub extern "C" fn teamdctl_disconnect(tdc: *mut Teamdctl) {
    with_ctx(tdc, (), |ctx| ctx.handle.disconnect())
}

#[no_mangle]
pub extern "C" fn teamdctl_refresh(tdc: *mut Teamdctl) -> c_int {
    with_ctx(tdc, EINVAL, |ctx| status(ctx.handle.refresh()))
}

/// A method whose reply is ignored, with string arguments.
fn call_void(tdc: *mut Teamdctl, method: Method, args: &[*const c_char]) -> c_int {
    with_ctx(tdc, EINVAL, |ctx| {
        let mut strs = Vec::with_capacity(args.len());
        for &a in args {
            match str_arg(a) {
                Some(s) => strs.push(s),
                None => return EINVAL,
            }
        }
        status(ctx.handle.call(method, &strs).map(drop))
    })
}

#[no_mangle]
pub extern "C" fn teamdctl_port_add(tdc: *mut Teamdctl, port_devname: *const c_char) -> c_int {
    call_void(tdc, Method::PortAdd, &[port_devname])
}

#[no_mangle]
pub extern "C" fn teamdctl_port_remove(tdc: *mut Teamdctl, port_devname: *const c_char) -> c_int {
    call_void(tdc, Method::PortRemove, &[port_devname])
}

#[no_mangle]
pub extern "C" fn teamdctl_port_config_update_raw(
    tdc: *mut Teamdctl,
    port_devname: *const c_char,
    port_config_raw: *const c_char,
) -> c_int {
    call_void(
        tdc,
        Method::PortConfigUpdate,
        &[port_devname, port_config_raw],
    )
}

#[no_mangle]
pub extern "C" fn teamdctl_port_config_get_raw_direct(
    tdc: *mut Teamdctl,
    port_devname: *const c_char,
    p_cfg: *mut *mut c_char,
) -> c_int {
    with_ctx(tdc, EINVAL, |ctx| {
        let Some(port) = str_arg(port_devname) else {
            return EINVAL;
        };
        match ctx.handle.port_config_direct(port) {
            Ok(cfg) => {
                store(p_cfg, cfg.as_ptr());
                0
            }
            Err(e) => -(e as c_int),
        }
    })
}

/// A cached reply, or NULL before the first fetch.
fn cached(tdc: *mut Teamdctl, method: Method) -> *mut c_char {
    with_ctx(tdc, ptr::null_mut(), |ctx| {
        ctx.handle
            .cached(method)
            .map_or(ptr::null_mut(), |c| c.as_ptr().cast_mut())
    })
}

/// Re-fetches `method` into the cache and points `*p_cfg` at the new text.
fn direct(tdc: *mut Teamdctl, method: Method, p_cfg: *mut *mut c_char) -> c_int {
    with_ctx(tdc, EINVAL, |ctx| match ctx.handle.cache_method(method) {
        Ok(cfg) => {
            store(p_cfg, cfg.as_ptr());
            0
        }
        Err(e) => -(e as c_int),
    })
}

#[no_mangle]
pub extern "C" fn teamdctl_config_get_raw(tdc: *mut Teamdctl) -> *mut c_char {
    cached(tdc, Method::ConfigDump)
}

#[no_mangle]
pub extern "C" fn teamdctl_config_get_raw_direct(
    tdc: *mut Teamdctl,
    p_cfg: *mut *mut c_char,
) -> c_int {
    direct(tdc, Method::ConfigDump, p_cfg)
}

#[no_mangle]
pub extern "C" fn teamdctl_config_actual_get_raw(tdc: *mut Teamdctl) -> *mut c_char {
    cached(tdc, Method::ConfigDumpActual)
}

#[no_mangle]
pub extern "C" fn teamdctl_config_actual_get_raw_direct(
    tdc: *mut Teamdctl,
    p_cfg: *mut *mut c_char,
) -> c_int {
    direct(tdc, Method::ConfigDumpActual, p_cfg)
}

#[no_mangle]
pub extern "C" fn teamdctl_state_get_raw(tdc: *mut Teamdctl) -> *mut c_char {
    cached(tdc, Method::StateDump)
}

#[no_mangle]
pub extern "C" fn teamdctl_state_get_raw_direct(
    tdc: *mut Teamdctl,
    p_cfg: *mut *mut c_char,
) -> c_int {
    direct(tdc, Method::StateDump, p_cfg)
}

#[no_mangle]
pub extern "C" fn teamdctl_state_item_value_get(
    tdc: *mut Teamdctl,
    item_path: *const c_char,
    p_value: *mut *mut c_char,
) -> c_int {
    with_ctx(tdc, EINVAL, |ctx| {
        let Some(path) = str_arg(item_path) else {
            return EINVAL;
        };
        let value = match ctx.handle.call(Method::StateItemValueGet, &[path]) {
            Ok(v) => v,
            Err(e) => return -(e as c_int),
        };
        if p_value.is_null() {
            return 0;
        }
        let value = CString::new(value.split('\0').next().unwrap_or_default()).unwrap_or_default();
        // SAFETY: `value` is a valid C string; strdup copies it into memory
        // the caller releases with free(), as libteamdctl documents.
        let copy = unsafe { libc::strdup(value.as_ptr()) };
        if copy.is_null() {
            return -(libc::ENOMEM);
        }
        store(p_value, copy);
        0
    })
}

#[no_mangle]
pub extern "C" fn teamdctl_state_item_value_set(
    tdc: *mut Teamdctl,
    item_path: *const c_char,
    value: *const c_char,
) -> c_int {
    call_void(tdc, Method::StateItemValueSet, &[item_path, value])
}

#[cfg(test)]
mod tests {
    use super::*;

    // csrc/log_test.c, built by build.rs and linked into the tests only
    #[link(name = "teamdctl_log_test", kind = "static")]
    extern "C" {
        /// A C log function: formats with `vsnprintf(format, args)` and hands
        /// the text to the sink.
        fn rteam_test_log_fn();
        fn rteam_test_set_sink(
            sink: extern "C" fn(*mut c_void, c_int, *const c_char, *const c_char),
        );
    }

    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

    extern "C" fn record(
        tdc: *mut c_void,
        priority: c_int,
        function: *const c_char,
        text: *const c_char,
    ) {
        // SAFETY: the C log function passes the library's `fn` string and its
        // own NUL-terminated buffer.
        let (function, text) = unsafe {
            (
                CStr::from_ptr(function).to_string_lossy(),
                CStr::from_ptr(text).to_string_lossy(),
            )
        };
        // calling back into the library from the log function is allowed
        let now = teamdctl_get_log_priority(tdc.cast());
        if let Ok(mut seen) = SEEN.lock() {
            seen.push(format!("{priority} {now} {function}: {text}"));
        }
    }

    #[test]
    fn the_va_list_carries_the_message_verbatim() {
        // SAFETY: sets the C file's static sink; `record` has its C type.
        unsafe { rteam_test_set_sink(record) };
        let tdc = teamdctl_alloc();
        teamdctl_set_log_fn(tdc, Some(rteam_test_log_fn));
        let text = c"a message with 100% of its %s text";
        // SAFETY: the log function is the C one above; the strings live
        // across the call.
        unsafe {
            rteam_teamdctl_log(
                rteam_test_log_fn,
                tdc.cast(),
                6,
                c"file.c".as_ptr(),
                1,
                c"teamdctl_test".as_ptr(),
                text.as_ptr(),
            )
        };
        let seen = SEEN.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(
            seen.contains(&"6 3 teamdctl_test: a message with 100% of its %s text".to_string()),
            "{seen:?}"
        );
        teamdctl_free(tdc);
    }

    #[test]
    fn custom_log_function_gets_the_messages() {
        let tdc = teamdctl_alloc();
        assert!(!tdc.is_null());
        // SAFETY: sets the C file's static sink; `record` has its C type.
        unsafe { rteam_test_set_sink(record) };
        teamdctl_set_log_fn(tdc, Some(rteam_test_log_fn));
        teamdctl_set_log_priority(tdc, 3);
        assert_eq!(teamdctl_get_log_priority(tdc), 3);
        let rc = teamdctl_connect(tdc, c"team0".as_ptr(), ptr::null(), c"zmq".as_ptr());
        assert_eq!(rc, -libc::EINVAL);
        let seen = SEEN.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(
            seen.contains(
                &"3 3 teamdctl_connect: Failed to connect using unknown CLI \"zmq\".".to_string()
            ),
            "{seen:?}"
        );
        teamdctl_free(tdc);
    }

    #[test]
    fn getters_before_connect() {
        let tdc = teamdctl_alloc();
        teamdctl_set_log_priority(tdc, 0);
        assert!(teamdctl_config_get_raw(tdc).is_null());
        assert!(teamdctl_state_get_raw(tdc).is_null());
        let mut p: *mut c_char = ptr::null_mut();
        assert_eq!(
            teamdctl_config_actual_get_raw_direct(tdc, &mut p),
            -libc::ENOTCONN
        );
        assert!(p.is_null());
        assert_eq!(teamdctl_port_add(tdc, ptr::null()), -libc::EINVAL);
        assert_eq!(teamdctl_refresh(ptr::null_mut()), -libc::EINVAL);
        teamdctl_disconnect(tdc);
        teamdctl_free(tdc);
        teamdctl_free(ptr::null_mut());
    }
}
