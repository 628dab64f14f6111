//! Times the three ways to apply the intent table on a file of messages, one a line: each
//! pattern on its own (naive), one `RegexSet` over the whole patterns (the first design), and
//! the parts automaton (`Matcher`). Two passes: the first shows the cost on messages the lazy
//! DFAs have not seen, the second on messages they have. Checks that all three agree.
//!
//! `cargo run --release --example compare_matchers -- /tmp/wt-tests-corpus/msgs100k.txt`

use std::time::Instant;

use safeguard_bot::content::Content;
use safeguard_bot::lexicon::Lexicon;
use safeguard_bot::matcher::{expand, Matcher, NaiveMatcher};
use safeguard_bot::normalize::fold;

/// The first design: one `RegexSet` over every whole pattern, negations checked with each
/// negatable pattern's own regex. Returns the scores per intent.
struct WholeSet {
    set: regex::bytes::RegexSet,
    owners: Vec<Option<(usize, u32)>>,
    negatable: Vec<Option<regex::bytes::Regex>>,
    intents: usize,
}

impl WholeSet {
    fn build(content: &Content) -> Self {
        let groups: std::collections::HashMap<&str, &str> = content.lexicon.group_map();
        let (mut patterns, mut owners, mut negatable) = (Vec::new(), Vec::new(), Vec::new());
        for (i, intent) in content.intents.iter().enumerate() {
            for (list, weight) in [(&intent.patterns, 2), (&intent.hints, 1)] {
                for p in list {
                    let p = expand(&p.value, &groups).expect("groups expand");
                    negatable.push(intent.negatable.then(|| {
                        regex::bytes::RegexBuilder::new(&p)
                            .unicode(false)
                            .build()
                            .expect("compiles")
                    }));
                    patterns.push(p);
                    owners.push(Some((i, weight)));
                }
            }
        }
        for entity in &content.entities {
            for p in &entity.patterns {
                patterns.push(p.value.clone());
                owners.push(None);
                negatable.push(None);
            }
        }
        let set = regex::bytes::RegexSetBuilder::new(&patterns)
            .unicode(false)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .expect("compiles");
        WholeSet {
            set,
            owners,
            negatable,
            intents: content.intents.len(),
        }
    }

    fn scores(&self, text: &str, lexicon: &Lexicon) -> Vec<u32> {
        let mut scores = vec![0; self.intents];
        for index in self.set.matches(text.as_bytes()).iter() {
            let Some((intent, weight)) = self.owners[index] else {
                continue;
            };
            if let Some(re) = &self.negatable[index] {
                if re
                    .find_iter(text.as_bytes())
                    .all(|m| lexicon.is_negated(text, m.start()))
                {
                    continue;
                }
            }
            scores[intent] += weight;
        }
        scores
    }
}

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
    let one_pass = Matcher::build(&content).expect("compiles");
    let built_one_pass = started.elapsed();
    let started = Instant::now();
    let whole = WholeSet::build(&content);
    let built_whole = started.elapsed();
    let naive = NaiveMatcher::build(&content).expect("compiles");
    println!(
        "{} messages; built one_pass in {built_one_pass:?}, regex_set in {built_whole:?}",
        messages.len()
    );
    for pass in 1..=2 {
        let started = Instant::now();
        let a: Vec<_> = messages
            .iter()
            .map(|m| one_pass.scan(m, &lexicon))
            .collect();
        let t_one_pass = started.elapsed() / n;
        let started = Instant::now();
        let b: Vec<_> = messages.iter().map(|m| whole.scores(m, &lexicon)).collect();
        let t_whole = started.elapsed() / n;
        let started = Instant::now();
        let c: Vec<_> = messages.iter().map(|m| naive.scan(m, &lexicon)).collect();
        let t_naive = started.elapsed() / n;
        let agree = a
            .iter()
            .zip(&b)
            .zip(&c)
            .all(|((a, b), c)| a == c && a.scores == *b);
        println!(
            "pass {pass}: per message one_pass {t_one_pass:?}, regex_set {t_whole:?}, naive {t_naive:?}; agree: {agree}"
        );
    }
}
