//! Giving freed heap memory back to the kernel.
//!
//! A burst of kernel events or control calls allocates a lot for a short while; the
//! allocator keeps the freed pages, so without this the daemon's resident memory would
//! stay at the burst's peak for good.

/// Returns free heap pages to the kernel (glibc `malloc_trim`); a no-op elsewhere.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no
    // pointers from us and is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
