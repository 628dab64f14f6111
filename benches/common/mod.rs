//! Inputs shared by the benchmarks (the same as the tests': `tests/support/table.rs`) and the
//! first matcher design, kept for comparison.
#![allow(dead_code)]

#[path = "../../tests/support/table.rs"]
mod table;

use safeguard_bot::content::Content;
use safeguard_bot::matcher::expand;

#[allow(unused_imports)] // each bench uses part of it
pub use table::{message_of_len, table_messages, table_times, SHORT, TYPICAL};

/// The first design, for comparison: one `regex::bytes::RegexSet` over every whole pattern
/// (as `src/matcher.rs` had it before the parts automaton), negation checked with each
/// negatable pattern's own regex.
pub struct OriginalSet {
    set: regex::bytes::RegexSet,
    owners: Vec<(Option<usize>, u32)>,
    negatable: Vec<Option<regex::bytes::Regex>>,
    intents: usize,
}

impl OriginalSet {
    pub fn build(content: &Content) -> Self {
        let groups: std::collections::HashMap<&str, &str> = content.lexicon.group_map();
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        let mut negatable = Vec::new();
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
                    owners.push((Some(i), weight));
                }
            }
        }
        for entity in &content.entities {
            for p in &entity.patterns {
                patterns.push(p.value.clone());
                owners.push((None, 0));
                negatable.push(None);
            }
        }
        let set = regex::bytes::RegexSetBuilder::new(&patterns)
            .unicode(false)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .expect("compiles");
        OriginalSet {
            set,
            owners,
            negatable,
            intents: content.intents.len(),
        }
    }

    /// Scores per intent, as the matcher computes them.
    pub fn scan(&self, text: &str, lexicon: &safeguard_bot::lexicon::Lexicon) -> Vec<u32> {
        let mut scores = vec![0; self.intents];
        for index in self.set.matches(text.as_bytes()).iter() {
            if let (Some(intent), weight) = self.owners[index] {
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
        }
        scores
    }
}
