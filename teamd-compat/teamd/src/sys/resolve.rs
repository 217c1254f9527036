//! Host names of the probe watches resolved as C teamd resolves them:
//! getaddrinfo(3) with only the address family as hint, first result taken,
//! failures reported with gai_strerror(3)'s text.

use std::ffi::{CStr, CString};
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv6 address with the scope id getaddrinfo gave it (`fe80::1%eth0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopedV6 {
    pub addr: Ipv6Addr,
    pub scope_id: u32,
}

fn gai_message(code: libc::c_int) -> String {
    // SAFETY: gai_strerror returns a pointer to a static, NUL-terminated string.
    let text = unsafe { CStr::from_ptr(libc::gai_strerror(code)) };
    text.to_string_lossy().into_owned()
}

/// Runs getaddrinfo for `family`; hands the first result's sockaddr bytes to
/// `take` if it has the expected length. Errors are C teamd's log lines.
fn lookup<T>(
    host: &str,
    family: libc::c_int,
    want_len: usize,
    take: impl FnOnce(*const libc::sockaddr) -> T,
) -> Result<T, String> {
    let Ok(name) = CString::new(host) else {
        return Err(format!(
            "getaddrinfo failed: {}",
            gai_message(libc::EAI_NONAME)
        ));
    };
    // SAFETY: addrinfo is plain old data; all-zero is the documented "no hints" value.
    let mut hints: libc::addrinfo = unsafe { zeroed() };
    hints.ai_family = family;
    let mut result: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `name` and `hints` outlive the call; `result` receives a list we free below.
    let rc = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut result) };
    if rc != 0 {
        return Err(format!("getaddrinfo failed: {}", gai_message(rc)));
    }
    // SAFETY: on success `result` points to at least one addrinfo.
    let first = unsafe { &*result };
    let out = if first.ai_addrlen as usize != want_len || first.ai_addr.is_null() {
        Err("Wrong address length in result.".to_string())
    } else {
        Ok(take(first.ai_addr))
    };
    // SAFETY: `result` came from getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(result) };
    out
}

pub fn ipv4(host: &str) -> Result<Ipv4Addr, String> {
    lookup(host, libc::AF_INET, size_of::<libc::sockaddr_in>(), |sa| {
        // SAFETY: the length check above guarantees a sockaddr_in.
        let sin = unsafe { std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in>()) };
        Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr))
    })
}

pub fn ipv6(host: &str) -> Result<ScopedV6, String> {
    lookup(
        host,
        libc::AF_INET6,
        size_of::<libc::sockaddr_in6>(),
        |sa| {
            // SAFETY: the length check above guarantees a sockaddr_in6.
            let sin6 = unsafe { std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in6>()) };
            ScopedV6 {
                addr: Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                scope_id: sin6.sin6_scope_id,
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_hosts_resolve_without_a_resolver() {
        assert_eq!(ipv4("192.0.2.7"), Ok(Ipv4Addr::new(192, 0, 2, 7)));
        assert_eq!(
            ipv6("fd00::7").map(|s| s.addr),
            Ok("fd00::7".parse::<Ipv6Addr>().unwrap())
        );
    }

    #[test]
    fn wrong_family_is_a_getaddrinfo_error() {
        let e = ipv4("fd00::7").unwrap_err();
        assert!(e.starts_with("getaddrinfo failed: "), "{e}");
        let e = ipv6("192.0.2.7").unwrap_err();
        assert!(e.starts_with("getaddrinfo failed: "), "{e}");
        assert!(ipv4("a\0b").is_err());
    }
}
