//! Gives the cdylib the soname of the C library it replaces, so programs
//! linked against libteamdctl.so.0 load it unchanged, and compiles the C
//! shim that builds the `va_list` the log function takes (Rust cannot).

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libteamdctl.so.0");
    println!("cargo:rerun-if-changed=csrc");
    cc::Build::new()
        .file("csrc/log_va.c")
        .warnings(true)
        .compile("teamdctl_log_va");
    // the tests' C log function: built here, linked only by the test build
    // (`#[link]` under cfg(test) in ffi.rs), so the library does not carry it
    cc::Build::new()
        .file("csrc/log_test.c")
        .warnings(true)
        .cargo_metadata(false)
        .compile("teamdctl_log_test");
}
