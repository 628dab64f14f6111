//! Writes N realistic test messages, one a line, for timing `classify` (BENCHMARKS.md).
//!
//! Usage: `cargo run --release --example gen_messages -- 1000000 > /tmp/msgs.txt`
//!
//! The shapes follow what people type to the bot: the examples and counter-examples of the
//! shipped intent table (the closest thing to real traffic we have), then the same messages
//! with capitals, textspeak, a typo, punctuation, an emoji or an accent, plus short chit-chat,
//! empty lines, and a few long rambling messages. A fixed seed makes the file the same on
//! every run, so figures can be compared across commits.

use std::io::{self, BufWriter, Write};

use safeguard_bot::content::Content;

/// A small, fixed-seed generator (xorshift64*): reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        &items[self.below(items.len())]
    }
}

const CHAT: [&str; 12] = [
    "hi",
    "hello",
    "thanks",
    "ok",
    "?",
    "help",
    "what can you do",
    "thank you so much",
    "hiya is anyone there",
    "who are you",
    "bye",
    "yes",
];

const SUFFIXES: [&str; 8] = [
    "?",
    "??",
    " pls",
    " 😢",
    "...",
    " asap",
    " thx",
    " im really worried",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_owned();
    match rng.below(8) {
        0 => s = s.to_uppercase(),
        1 => {
            s = s
                .replace("you", "u")
                .replace("your", "ur")
                .replace("please", "pls")
                .replace("pictures", "pics")
        }
        2 => {
            // one typo: swap two adjacent letters of a longer word
            let bytes = s.as_bytes();
            if let Some(i) = (1..bytes.len().saturating_sub(2)).find(|&i| {
                bytes[i].is_ascii_lowercase()
                    && bytes[i + 1].is_ascii_lowercase()
                    && rng.below(6) == 0
            }) {
                let mut b = s.into_bytes();
                b.swap(i, i + 1);
                s = String::from_utf8(b).unwrap_or_default();
            }
        }
        3 => s.push_str(SUFFIXES[rng.below(SUFFIXES.len())]),
        4 => {
            let mut c = s.chars();
            if let Some(first) = c.next() {
                s = first.to_uppercase().chain(c).collect::<String>() + ".";
            }
        }
        5 => s = s.replace('e', "é"),
        _ => {}
    }
    s
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let content = match Content::embedded() {
        Ok(c) => c,
        Err(problems) => {
            eprintln!("built-in content does not parse: {}", problems[0]);
            std::process::exit(1);
        }
    };
    let messages: Vec<String> = content
        .intents
        .iter()
        .flat_map(|i| i.examples.iter().chain(&i.counter_examples))
        .map(|t| t.value.clone())
        .collect();
    let chat: Vec<String> = CHAT.iter().map(|s| (*s).to_owned()).collect();
    let mut rng = Rng(0x5AFE_6A2D_u64);
    let mut out = BufWriter::new(io::stdout().lock());
    for _ in 0..n {
        let line = match rng.below(100) {
            0..=2 => String::new(),
            3..=14 => rng.pick(&chat).to_owned(),
            15..=16 => {
                // a long message: several questions in a row, as in a worried ramble
                let k = 3 + rng.below(6);
                (0..k)
                    .map(|_| rng.pick(&messages).to_owned())
                    .collect::<Vec<_>>()
                    .join(". ")
            }
            _ => {
                let m = rng.pick(&messages).to_owned();
                mutate(&mut rng, &m)
            }
        };
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}
