//! safeguard-bot: answers people worried about a child with vetted safeguarding guidance.
//!
//! The core turns an input into a reply and knows nothing about Telegram:
//! [`normalize`] folds text, [`lexicon`] applies word rules, [`matcher`] scores the intent
//! table in one pass, [`brain`] decides and builds the [`reply`]. [`content`] reads
//! `responses/` and [`check`] validates it. The doors onto the brain are [`console`] (the
//! terminal chat) and [`cli`] (`ask`, `classify`, `check`, `eval`); [`classify`] is the batch
//! engine behind `classify`.

pub mod brain;
pub mod check;
pub mod classify;
pub mod cli;
pub mod console;
pub mod content;
pub mod eval;
pub mod lexicon;
pub mod matcher;
pub mod normalize;
pub mod problem;
pub mod reply;

pub use brain::{Brain, Input};
pub use reply::{Button, Kind, Reply};
