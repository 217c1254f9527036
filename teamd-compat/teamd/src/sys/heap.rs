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

/// Opts the daemon out of transparent huge pages. Its heap is a few hundred KiB of live
/// data spread over a few MiB of addresses; with THP "always", khugepaged fills every
/// 2 MiB stretch that has a page in use, and a daemon of 1.5 MB grew to 17 MB while idle.
/// The flag is inherited across fork, as a daemonised teamd needs. Failure (an old kernel)
/// changes nothing else, so the caller only logs it.
pub fn opt_out_of_huge_pages() -> nix::Result<()> {
    nix::sys::prctl::set_thp_disable(true)
}
