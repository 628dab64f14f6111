//! Keeps what people write out of crash files.
//!
//! The bot holds messages in memory while it answers them (and the word memos keep words
//! from recent messages). A core dump would copy that memory to disk (or to a crash
//! collector such as systemd-coredump or apport), where it could outlive the conversation:
//! exactly what the privacy reply promises does not happen. So every command turns core
//! dumps off before it reads a message. Panics print no message either (see `cli`).

/// Forbid core dumps of this process: the soft and the hard limit on core files become 0, so
/// neither the kernel nor a crash collector that honours the limit (systemd-coredump and
/// apport do) writes this process's memory anywhere, and no child can raise it again.
/// Best effort: on a system without the call, nothing changes and the bot still runs.
pub fn forbid_core_dumps() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `setrlimit` reads the struct we pass and changes only this process's limit.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
}
