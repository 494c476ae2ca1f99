//! Tuning of glibc's allocator for a long-running service; elsewhere these do nothing.

/// glibc gives threads that allocate at once arenas of their own, up to eight per core; the
/// database threads' result sets then leave memory spread over all of them. Two arenas keep
/// the service's footprint down. `MALLOC_ARENA_MAX` in the environment still decides.
/// Call it before any other thread runs.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only tunes the allocator.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Has glibc give every allocation of 4 MiB or more its own mapping, returned to the system
/// when freed. By default glibc raises that threshold to the size of the first such block
/// freed, so later password-hash memories (19 MiB each) came from the shared heaps, where
/// small allocations of other threads split the freed blocks: a flood of 400 logins left
/// 680 MiB resident with four hashing threads. With the fixed threshold it peaks near
/// 140 MiB and falls back.
pub fn large_allocations_from_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it is thread-safe.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}
