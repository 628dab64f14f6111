//! Hands memory freed at start-up (and after a reload or a burst) back to the system, and
//! tunes the allocator for a long-running bot ([`settle_for_serving`]).
//!
//! Compiling the intent table builds and throws away about 20 MB of parsed patterns and
//! half-built automata. The allocator keeps most of those pages for later, so a long-running
//! `telegram` would carry them as resident memory all its life though it never uses them
//! again (on a cheap server, memory is what runs out first). After a table is compiled, the
//! freed pages are handed back; what the bot then uses while serving (the automata's caches
//! as they warm) comes from fresh pages as needed.

/// Give freed heap pages back to the system, and the pages of the content compiled into the
/// binary, which were read once to build the brain. Cheap (a walk over the allocator's free
/// lists and a few system calls, about a millisecond), so call it after each table is
/// compiled, not per message.
pub(crate) fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages of glibc's own heap to the kernel; it
    // touches no memory the program still holds.
    unsafe {
        libc::malloc_trim(0);
    }
    drop_embedded_pages();
}

/// The compiled-in content (the model, the word list, the tables: about 2 MB) is parsed into
/// the brain at start-up and not read again while serving, but the pages read stay resident,
/// counted against the bot for its whole life. Dropping them costs nothing: they are part of
/// the binary's file, so a later read (a reload from the built-in content) brings them back
/// from it unchanged.
fn drop_embedded_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `sysconf` only reads a system setting.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as usize,
            _ => return,
        };
        for bytes in crate::content::embedded_bytes() {
            let start = bytes.as_ptr() as usize;
            // Only whole pages inside the content, so no other data shares them.
            let first = start.div_ceil(page) * page;
            let last = (start + bytes.len()) / page * page;
            if last > first {
                // SAFETY: the range lies inside read-only data mapped from the binary's file
                // (`include_bytes!`/`include_str!`), never written; on such a mapping
                // MADV_DONTNEED only drops resident copies, and any later read of the range
                // faults the same bytes back in from the file.
                unsafe {
                    libc::madvise(
                        first as *mut libc::c_void,
                        last - first,
                        libc::MADV_DONTNEED,
                    );
                }
            }
        }
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
