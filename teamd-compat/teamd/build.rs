//! Links teamd's functions in the order of `hot-code.order`: those that run from start-up
//! to idle first, together, so that an idle teamd keeps fewer text pages resident
//! (tests/xtask/src/hot_code.rs says how the order is made and kept current).

fn main() {
    println!("cargo:rerun-if-changed=hot-code.order");
    // lld's option; rustc links with its own lld on this target (Rust 1.90 and later).
    // Elsewhere teamd links in the linker's own order.
    if std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_string());
        println!("cargo:rustc-link-arg-bin=teamd=-Wl,--symbol-ordering-file={dir}/hot-code.order");
        // names the build does not have (a function inlined away) are expected
        println!("cargo:rustc-link-arg-bin=teamd=-Wl,--no-warn-symbol-ordering");
    }
}
