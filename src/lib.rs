//! safeguard-bot: answers people worried about a child with vetted safeguarding guidance.
//!
//! The core turns an input into a reply and knows nothing about Telegram:
//! [`normalize`] folds text, [`lexicon`] applies word rules, [`matcher`] finds the table's
//! patterns in one pass, [`scoring`] turns them into scores per intent, [`brain`] decides and builds the [`reply`]. [`content`] reads
//! `responses/` and [`check`] validates it. The doors onto the brain are [`console`] (the
//! terminal chat), [`telegram`] (long polling or a webhook) and [`cli`] (`ask`, `classify`,
//! `check`, `eval`, `telegram`). [`logging`] keeps user data and secrets out of every log line.
//! What only a running service needs (counters, the ids kept for `/forget`, allocator tuning)
//! lives under [`telegram`]. [`classify`] is the batch engine behind `classify`.

// The module docs are written for whoever maintains the bot and name private items: read
// them with `cargo doc --document-private-items`, where every link resolves.
#![allow(rustdoc::private_intra_doc_links)]

pub mod brain;
pub mod check;
pub mod classify;
pub mod cli;
pub mod console;
pub mod content;
pub mod corpus;
pub mod embedding;
pub mod eval;
mod fnv;
mod instance;
pub mod learn;
pub mod lexicon;
pub mod logging;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod privacy;
pub mod problem;
pub mod reply;
pub mod scoring;
pub mod telegram;
pub mod tense;

pub use brain::{Brain, Input};
pub use reply::{Button, Kind, Reply};
