//! The process's memory hygiene on glibc: few allocator arenas, and freed memory handed back to
//! the system, so the server's RSS follows the documents loaded now, not its busiest hour's.

/// Bound glibc's allocator arenas to two per core (its default is eight per core). Each arena
/// keeps its own free memory, fragmented by the documents loaded and unloaded through it; with
/// the default, a soak touching 10,000 documents left the quiet server at 2.0× its idle RSS,
/// with two per core 1.66× (docs/benchmarks.md). Call before any thread starts. An operator's
/// own `MALLOC_ARENA_MAX` is left to glibc.
pub fn bound_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(2 * cores).unwrap_or(i32::MAX);
        // SAFETY: mallopt only sets an allocator parameter; no pointers are involved.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Give memory freed by unloading back to the system. glibc's allocator keeps freed small blocks
/// in its arenas for reuse, so without this the server's RSS would stay at its busiest hour's even
/// after every document left memory (measured: 500 documents touched and unloaded, RSS 4.1× idle).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
