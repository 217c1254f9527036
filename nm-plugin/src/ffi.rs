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

/// C's `va_list` as a function parameter on this target.
#[cfg(target_arch = "x86_64")]
type VaListArg = *mut VaListTag;
#[cfg(target_arch = "aarch64")]
type VaListArg = VaList;

/// The caller's log function: `(tdc, priority, file, line, fn, format, args)`.
type LogFn = unsafe extern "C" fn(
    *mut Teamdctl,
    c_int,
    *const c_char,
    c_int,
    *const c_char,
    *const c_char,
    VaListArg,
);

/// x86-64 System V `__va_list_tag`.
#[cfg(target_arch = "x86_64")]
#[repr(C)]
pub struct VaListTag {
    gp_offset: u32,
    fp_offset: u32,
    overflow_arg_area: *mut c_void,
    reg_save_area: *mut c_void,
}

/// AAPCS64 `va_list`.
#[cfg(target_arch = "aarch64")]
#[repr(C)]
pub struct VaList {
    stack: *mut c_void,
    gr_top: *mut c_void,
    vr_top: *mut c_void,
    gr_offs: i32,
    vr_offs: i32,
}

/// Calls `f` with a `va_list` whose only argument is the pointer `arg`: the
/// message goes out as format `"%s"` plus the already formatted text. The
/// register save areas are marked used up, so `va_arg` reads from `slot`.
#[cfg(target_arch = "x86_64")]
fn with_va_list<R>(arg: *const c_char, f: impl FnOnce(VaListArg) -> R) -> R {
    let mut slot: [*const c_char; 1] = [arg];
    let mut tag = VaListTag {
        gp_offset: 48,
        fp_offset: 176,
        overflow_arg_area: slot.as_mut_ptr().cast(),
        reg_save_area: ptr::null_mut(),
    };
    f(&mut tag)
}

#[cfg(target_arch = "aarch64")]
fn with_va_list<R>(arg: *const c_char, f: impl FnOnce(VaListArg) -> R) -> R {
    let mut slot: [*const c_char; 1] = [arg];
    f(VaList {
        stack: slot.as_mut_ptr().cast(),
        gr_top: ptr::null_mut(),
        vr_top: ptr::null_mut(),
        gr_offs: 0,
        vr_offs: 0,
    })
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

const PERCENT_S: &CStr = c"%s";

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
        with_va_list(r.text.as_ptr(), |args| {
            // SAFETY: `log_fn` is the caller's function with the C signature
            // it registered; every pointer passed lives until it returns and
            // the va_list holds exactly the one `char *` that "%s" consumes.
            unsafe {
                log_fn(
                    tdc,
                    r.priority,
                    r.file.as_ptr(),
                    r.line,
                    r.function.as_ptr(),
                    PERCENT_S.as_ptr(),
                    args,
                )
            }
        });
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

    extern "C" {
        fn vsnprintf(buf: *mut c_char, n: usize, format: *const c_char, args: VaListArg) -> c_int;
    }

    #[test]
    fn the_built_va_list_carries_the_message() {
        let text = c"libteamdctl: a message with 100% of its text";
        let mut buf = [0 as c_char; 128];
        let n = with_va_list(text.as_ptr(), |args| {
            // SAFETY: buf is writable for its length; the va_list holds the
            // one `char *` the format consumes.
            unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), PERCENT_S.as_ptr(), args) }
        });
        // SAFETY: vsnprintf NUL-terminates within `buf`.
        let out = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(out, text);
        assert_eq!(usize::try_from(n).ok(), Some(text.to_bytes().len()));
    }

    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

    unsafe extern "C" fn record_log(
        tdc: *mut Teamdctl,
        priority: c_int,
        _file: *const c_char,
        _line: c_int,
        function: *const c_char,
        format: *const c_char,
        args: VaListArg,
    ) {
        let mut buf = [0 as c_char; 256];
        // SAFETY: as above; the library passes a format and matching args.
        let text = unsafe {
            vsnprintf(buf.as_mut_ptr(), buf.len(), format, args);
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        };
        // SAFETY: the library passes its own valid `function` string.
        let function = unsafe { CStr::from_ptr(function) }.to_string_lossy();
        // calling back into the library from the log function is allowed
        let now = teamdctl_get_log_priority(tdc);
        if let Ok(mut seen) = SEEN.lock() {
            seen.push(format!("{priority} {now} {function}: {text}"));
        }
    }

    #[test]
    fn custom_log_function_gets_the_messages() {
        let tdc = teamdctl_alloc();
        assert!(!tdc.is_null());
        teamdctl_set_log_fn(tdc, Some(record_log));
        teamdctl_set_log_priority(tdc, 3);
        assert_eq!(teamdctl_get_log_priority(tdc), 3);
        let rc = teamdctl_connect(tdc, c"team0".as_ptr(), ptr::null(), c"zmq".as_ptr());
        assert_eq!(rc, -libc::EINVAL);
        let seen = SEEN.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(
            seen,
            vec!["3 3 teamdctl_connect: Failed to connect using unknown CLI \"zmq\"."]
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
