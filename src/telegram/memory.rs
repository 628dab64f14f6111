//! Hands memory freed at start-up (and after a reload or a burst) back to the system, and
//! tunes the allocator for a long-running bot ([`settle_for_serving`]).
//!
//! Compiling the intent table builds and throws away about 20 MB of parsed patterns and
//! half-built automata. The allocator keeps most of those pages for later, so a long-running
//! `telegram` would carry them as resident memory all its life though it never uses them
//! again (on a cheap server, memory is what runs out first). After a table is compiled, the
//! freed pages are handed back; what the bot then uses while serving (the automata's caches
//! as they warm) comes from fresh pages as needed.

/// Give freed heap pages back to the system. Cheap (a walk over the allocator's free lists,
/// about a millisecond), so call it after each table is compiled, not per message.
pub(crate) fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages of glibc's own heap to the kernel; it
    // touches no memory the program still holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Ask the allocator to keep a serving bot's memory from creeping: blocks of 128 KiB or more
/// (the `/forget` store's log and table as they grow, a burst's large buffers) get pages of
/// their own, handed back the moment they are freed. By default glibc raises that threshold
/// each time such a block is freed, after which large blocks come from the shared heap and pin
/// the pages around them. Call once, before serving.
pub(crate) fn settle_for_serving() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes the allocator's tuning; called before the serving threads
    // start allocating in earnest.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
