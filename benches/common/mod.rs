//! Inputs shared by the benchmarks (the same as the tests': `tests/support/table.rs`) and the
//! first matcher design, kept for comparison.
#![allow(dead_code)]

#[path = "../../tests/support/table.rs"]
mod table;

use safeguard_bot::matcher::{BuildError, Engine, Source, Starts};

#[allow(unused_imports)] // each bench uses part of it
pub use table::{message_of_len, table_messages, table_times, SHORT, TYPICAL};

/// The first design, for comparison: one `regex::bytes::RegexSet` over every whole pattern
/// (as `src/matcher.rs` had it before the parts automaton), where each match starts found with
/// the pattern's own regex for the patterns that ask. Scored by the brain's own
/// [`Scoring`](safeguard_bot::scoring::Scoring), as the other engines are.
pub struct OriginalSet {
    set: regex::bytes::RegexSet,
    /// For each pattern that asked where its matches start, its own regex.
    starts: Vec<Option<regex::bytes::Regex>>,
}

impl OriginalSet {
    pub fn build(patterns: &[Source<'_>]) -> Result<Self, Vec<BuildError>> {
        let failed = |e: regex::Error| {
            vec![BuildError {
                pattern: None,
                why: e.to_string(),
            }]
        };
        let set = regex::bytes::RegexSetBuilder::new(patterns.iter().map(|p| p.expanded))
            .unicode(false)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(failed)?;
        let starts = patterns
            .iter()
            .map(|p| {
                p.starts
                    .then(|| {
                        regex::bytes::RegexBuilder::new(p.expanded)
                            .unicode(false)
                            .build()
                    })
                    .transpose()
            })
            .collect::<Result<_, _>>()
            .map_err(failed)?;
        Ok(OriginalSet { set, starts })
    }
}

impl Engine for OriginalSet {
    fn find(&self, text: &str, found: &mut dyn FnMut(usize, Starts<'_>)) {
        for index in self.set.matches(text.as_bytes()).iter() {
            match &self.starts[index] {
                Some(re) => found(index, &mut re.find_iter(text.as_bytes()).map(|m| m.start())),
                None => found(index, &mut std::iter::empty()),
            }
        }
    }
}
