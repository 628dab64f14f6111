//! Messages and tables for tests and benchmarks: the table's own messages, a message of any
//! length, and the table copied until it is several times the size. Shared by `tests/` and
//! `benches/` (which includes this file by path), so that both measure the same inputs.
#![allow(dead_code)]

use safeguard_bot::content::{Content, Text};
use safeguard_bot::matcher::expand;

/// A typical message: a whole question, the way people type it (52 bytes).
pub const TYPICAL: &str = "where do i report an image of a child i saw online";

/// A short message.
pub const SHORT: &str = "hi";

/// Every example and counter-example of the shipped table: a realistic mix.
pub fn table_messages(content: &Content) -> Vec<String> {
    content
        .intents
        .iter()
        .flat_map(|i| i.examples.iter().chain(&i.counter_examples))
        .map(|t| t.value.clone())
        .collect()
}

/// A message of about `len` bytes made of whole questions from the table.
pub fn message_of_len(content: &Content, len: usize) -> String {
    let mut text = String::new();
    for m in table_messages(content).iter().cycle() {
        if text.len() >= len {
            break;
        }
        text.push_str(m);
        text.push_str(". ");
    }
    let mut end = len.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

/// Rotate the letters of a pattern by `k` (a to a+k), leaving escapes (`\b`, `\w`), inline
/// flags and class names alone: a pattern just as complex that matches other words.
fn rotate(pattern: &str, k: u8) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '(' if chars.peek() == Some(&'?') => {
                out.push(c);
                for f in chars.by_ref() {
                    out.push(f);
                    if f == ':' || f == ')' {
                        break;
                    }
                }
            }
            'a'..='z' => out.push((b'a' + (c as u8 - b'a' + k) % 26) as char),
            _ => out.push(c),
        }
    }
    out
}

/// The shipped table with `copies - 1` extra copies of every intent (ids renamed, patterns
/// rotated so that no two copies share a pattern): `copies` times the patterns.
pub fn table_times(content: &Content, copies: u8) -> Content {
    let groups: std::collections::HashMap<&str, &str> = content.lexicon.group_map();
    let expanded = |t: &Text, k: u8| Text {
        value: rotate(&expand(&t.value, &groups).expect("groups expand"), k),
        at: t.at.clone(),
    };
    let mut bigger = content.clone();
    for k in 1..copies {
        for intent in content.intents.iter().filter(|i| i.id.value != "fallback") {
            let mut copy = intent.clone();
            copy.id.value = format!("{}_{k}", intent.id.value);
            copy.commands.clear();
            copy.patterns = intent.patterns.iter().map(|p| expanded(p, k)).collect();
            copy.hints = intent.hints.iter().map(|p| expanded(p, k)).collect();
            bigger.intents.push(copy);
        }
    }
    bigger
}
