//! Times the three ways to apply the intent table on a file of messages, one a line: each
//! pattern on its own (naive), one `RegexSet` over the whole patterns (the first design), and
//! the parts automaton (`Matcher`). Two passes: the first shows the cost on messages the lazy
//! DFAs have not seen, the second on messages they have. Checks that all three agree.
//!
//! `cargo run --release --example compare_matchers -- /tmp/wt-tests-corpus/msgs100k.txt`

// The first design (one `RegexSet` over whole patterns) lives with the benchmarks, which
// compare it too.
#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use safeguard_bot::content::Content;
use safeguard_bot::lexicon::Lexicon;
use safeguard_bot::normalize::fold;
use safeguard_bot::scoring::Scoring;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: compare_matchers FILE (one message a line)");
        std::process::exit(2);
    };
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1)
    });
    let content = Content::embedded().expect("built-in content parses");
    let lexicon = Lexicon::from_content(&content);
    let messages: Vec<String> = raw
        .lines()
        .map(|l| lexicon.rewrite(&fold(l)).into_owned())
        .collect();
    let n = messages.len() as u32;
    let started = Instant::now();
    let (scoring, one_pass) = Scoring::build(&content).expect("compiles");
    let built_one_pass = started.elapsed();
    let started = Instant::now();
    let (_, whole) = Scoring::build_with(&content, common::OriginalSet::build).expect("compiles");
    let built_whole = started.elapsed();
    let (_, naive) = Scoring::build_naive(&content).expect("compiles");
    println!(
        "{} messages; built one_pass in {built_one_pass:?}, regex_set in {built_whole:?}",
        messages.len()
    );
    for pass in 1..=2 {
        let started = Instant::now();
        let a: Vec<_> = messages
            .iter()
            .map(|m| scoring.scan(&one_pass, m, &lexicon))
            .collect();
        let t_one_pass = started.elapsed() / n;
        let started = Instant::now();
        let b: Vec<_> = messages
            .iter()
            .map(|m| scoring.scan(&whole, m, &lexicon))
            .collect();
        let t_whole = started.elapsed() / n;
        let started = Instant::now();
        let c: Vec<_> = messages
            .iter()
            .map(|m| scoring.scan(&naive, m, &lexicon))
            .collect();
        let t_naive = started.elapsed() / n;
        let agree = a.iter().zip(&b).zip(&c).all(|((a, b), c)| a == b && a == c);
        println!(
            "pass {pass}: per message one_pass {t_one_pass:?}, regex_set {t_whole:?}, naive {t_naive:?}; agree: {agree}"
        );
    }
}
