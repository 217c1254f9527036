//! Gives the cdylib the soname of the C library it replaces, so programs
//! linked against libteamdctl.so.0 load it unchanged.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libteamdctl.so.0");
}
