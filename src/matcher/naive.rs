//! The slow reference engine: every pattern compiled as its own regex (with the `regex` crate,
//! as an operator reading `responses/` would expect) and tried in turn.

use regex::bytes::Regex;

use super::{compile_one, BuildError, Engine, Source, Starts};

/// Every pattern its own regex, tried one after another.
///
/// Not used to answer anyone. It exists to prove [`super::Matcher`] right (tests compare the
/// two on the table's examples and on random text) and to measure what the one-pass design
/// saves (`benches/matching.rs`).
#[derive(Debug, Clone)]
pub struct NaiveMatcher {
    /// Each pattern's regex, and whether it asked where its matches start.
    patterns: Vec<(Regex, bool)>,
}

impl NaiveMatcher {
    /// Compile each pattern on its own.
    pub fn build(patterns: &[Source<'_>]) -> Result<Self, Vec<BuildError>> {
        let mut errors = Vec::new();
        let mut compiled = Vec::with_capacity(patterns.len());
        for (index, source) in patterns.iter().enumerate() {
            match compile_one(source.expanded) {
                Ok(re) => compiled.push((re, source.starts)),
                Err(e) => errors.push(BuildError {
                    pattern: Some(index),
                    why: format!("pattern does not compile: {e}"),
                }),
            }
        }
        if errors.is_empty() {
            Ok(NaiveMatcher { patterns: compiled })
        } else {
            Err(errors)
        }
    }
}

impl Engine for NaiveMatcher {
    fn find(&self, text: &str, found: &mut dyn FnMut(usize, Starts<'_>)) {
        for (index, (re, starts)) in self.patterns.iter().enumerate() {
            if *starts {
                let mut each = re.find_iter(text.as_bytes()).map(|m| m.start()).peekable();
                if each.peek().is_some() {
                    found(index, &mut each);
                }
            } else if re.is_match(text.as_bytes()) {
                found(index, &mut std::iter::empty());
            }
        }
    }
}
