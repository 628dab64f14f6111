//! Shared test support: a fake Bot API server, updates as the Bot API sends them, and the
//! built binary run as a child process. Each test file uses part of it.
#![allow(dead_code)]

pub mod fake_api;
pub mod process;
pub mod updates;

/// The shipped content, compiled once per test binary (compiling is slow in a debug build) and
/// cloned for each test.
pub fn brain() -> safeguard_bot::Brain {
    static BRAIN: std::sync::OnceLock<safeguard_bot::Brain> = std::sync::OnceLock::new();
    BRAIN
        .get_or_init(|| safeguard_bot::Brain::embedded().expect("the shipped content loads"))
        .clone()
}
