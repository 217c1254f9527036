//! `libteamdctl.so.0` in Rust: a drop-in for libteam's teamd control library,
//! the one NetworkManager's team plugin links (integration.md §1.5, §1.9).
//!
//! This crate owns the C ABI only: the exported `teamdctl_*` symbols and
//! their pointer and memory rules ([`ffi`], the crate's only unsafe code),
//! the header `include/teamdctl.h` describing them, and `csrc/log_va.c`, a
//! few lines of C (built by `build.rs` with `cc`) that call the caller's log
//! function with a real `va_list`, which Rust cannot build portably. What the functions do
//! (transport choice, the reply cache, logging) is `teamd-ctl-client`'s.

#[allow(unsafe_code)]
pub mod ffi;
