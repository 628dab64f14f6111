//! Shared test support: a fake Bot API server, updates as the Bot API sends them, and the
//! built binary run as a child process. Each test file uses part of it.
#![allow(dead_code)]

pub mod fake_api;
pub mod process;
pub mod updates;
