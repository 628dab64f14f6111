//! Finds, in one pass, every intent pattern and entity that a folded message matches.
//!
//! All patterns of the table (intent patterns, hints and entity patterns) are compiled into a
//! single [`regex::bytes::RegexSet`]. The text it sees is already folded to lower-case ASCII
//! ([`crate::normalize`]), so the set is built with Unicode off: `\b` and `\w` are ASCII, which
//! keeps the engine on its fast DFA (about 100x faster than Unicode word boundaries here).
//!
//! Cost: one linear scan of the message for the whole table, plus, only when a negatable
//! intent matched, one search per matching pattern of that intent to look for a negation.

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::content::{Content, Text};
use crate::lexicon::Lexicon;
use crate::problem::Problem;

/// Compiled size limit for the whole set. Generous for a hand-written table (the shipped one
/// uses a small fraction); a table that needs more has a pattern that explodes (such as
/// `(a|b){5000}`) and `check` reports it.
pub const SIZE_LIMIT: usize = 64 << 20;

/// Weight of a pattern that is a clear sign of its intent.
pub const PATTERN_WEIGHT: u32 = 2;
/// Weight of a hint: alone it is not enough for a confident answer.
pub const HINT_WEIGHT: u32 = 1;

#[derive(Debug, Clone, Copy)]
enum Owner {
    Intent { intent: usize, weight: u32 },
    Entity(usize),
}

/// The compiled intent and entity patterns of one content version.
#[derive(Debug, Clone)]
pub struct Matcher {
    set: RegexSet,
    owners: Vec<Owner>,
    /// For patterns of negatable intents, the pattern alone, to find where it matched.
    negatable: Vec<Option<Regex>>,
    intents: usize,
    entities: usize,
}

/// What one message matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Sum of the weights of the distinct patterns matched, per intent (table order).
    pub scores: Vec<u32>,
    /// Whether each entity (table order) was found.
    pub entities: Vec<bool>,
}

impl Matcher {
    /// Compile every pattern of `content`. A pattern that does not compile, or a table too big
    /// for [`SIZE_LIMIT`], is reported with the file and line of the pattern.
    pub fn build(content: &Content) -> Result<Self, Vec<Problem>> {
        let mut patterns: Vec<(&Text, &str)> = Vec::new();
        let mut owners = Vec::new();
        let mut negatable_flags = Vec::new();
        for (i, intent) in content.intents.iter().enumerate() {
            for (list, weight) in [
                (&intent.patterns, PATTERN_WEIGHT),
                (&intent.hints, HINT_WEIGHT),
            ] {
                for p in list {
                    patterns.push((p, &intent.id.value));
                    owners.push(Owner::Intent { intent: i, weight });
                    negatable_flags.push(intent.negatable);
                }
            }
        }
        for (e, entity) in content.entities.iter().enumerate() {
            for p in &entity.patterns {
                patterns.push((p, &entity.id.value));
                owners.push(Owner::Entity(e));
                negatable_flags.push(false);
            }
        }
        let expanded = expand_all(&patterns, content)?;
        let set = RegexSetBuilder::new(expanded.iter().map(|p| p.value.as_str()))
            .unicode(false)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| locate_errors(&expanded, &patterns, &e))?;
        let negatable = expanded
            .iter()
            .zip(&negatable_flags)
            .map(|(p, &neg)| {
                if neg {
                    compile_one(&p.value).ok()
                } else {
                    None
                }
            })
            .collect();
        Ok(Matcher {
            set,
            owners,
            negatable,
            intents: content.intents.len(),
            entities: content.entities.len(),
        })
    }

    /// Score every intent and find every entity in `text` (folded and rewritten).
    pub fn scan(&self, text: &str, lexicon: &Lexicon) -> Scan {
        let mut scan = Scan {
            scores: vec![0; self.intents],
            entities: vec![false; self.entities],
        };
        for index in self.set.matches(text.as_bytes()).iter() {
            match self.owners[index] {
                Owner::Intent { intent, weight } => {
                    if let Some(re) = &self.negatable[index] {
                        if re
                            .find_iter(text.as_bytes())
                            .all(|m| lexicon.is_negated(text, m.start()))
                        {
                            continue;
                        }
                    }
                    scan.scores[intent] += weight;
                }
                Owner::Entity(e) => scan.entities[e] = true,
            }
        }
        scan
    }

    /// How many patterns the set holds (intent patterns, hints and entity patterns).
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// True for a table with no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }
}

fn compile_one(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
}

/// Replace every `{name}` of a word group in each pattern by the group's alternatives.
///
/// Groups let an operator write a list of synonyms once (`picture = 'pic|pics|photos?|...'`)
/// and use it in many patterns (`'\bsend\w* {picture}'`). A name is letters, digits and `_`
/// starting with a letter, so regex repetitions such as `{2,3}` are left alone.
fn expand_all(patterns: &[(&Text, &str)], content: &Content) -> Result<Vec<Text>, Vec<Problem>> {
    let groups: std::collections::HashMap<&str, &str> = content
        .lexicon
        .groups
        .iter()
        .map(|(name, body)| (name.value.as_str(), body.as_str()))
        .collect();
    let mut problems = Vec::new();
    let expanded = patterns
        .iter()
        .map(|(p, owner)| match expand(&p.value, &groups) {
            Ok(value) => Text {
                value,
                at: p.at.clone(),
            },
            Err(name) => {
                problems.push(Problem::new(
                    &p.at,
                    Some(owner),
                    format!("pattern uses the word group {{{name}}}, which lexicon.toml [groups] does not define"),
                ));
                (*p).clone()
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(expanded)
    } else {
        Err(problems)
    }
}

/// Expand the groups of one pattern; `Err` holds an unknown group name.
pub fn expand(
    pattern: &str,
    groups: &std::collections::HashMap<&str, &str>,
) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after.find('}').filter(|&n| {
            let name = &after[..n];
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match name_len {
            Some(n) => {
                let name = &after[..n];
                let body = groups.get(name).ok_or_else(|| name.to_owned())?;
                out.push_str("(?:");
                out.push_str(body);
                out.push(')');
                rest = &after[n + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The set failed to build: find which patterns are at fault, so the operator gets lines.
fn locate_errors(
    expanded: &[Text],
    patterns: &[(&Text, &str)],
    set_error: &regex::Error,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = expanded
        .iter()
        .zip(patterns)
        .filter_map(|(p, (_, owner))| {
            compile_one(&p.value).err().map(|e| {
                let why = match e {
                    regex::Error::CompiledTooBig(limit) => format!(
                        "pattern compiles to more than the {} MiB limit; simplify it (large repeats such as {{1000}} are the usual cause)",
                        limit >> 20
                    ),
                    other => format!("pattern does not compile: {other}"),
                };
                Problem::new(&p.at, Some(owner), why)
            })
        })
        .collect();
    if problems.is_empty() {
        let at = expanded
            .first()
            .map(|p| p.at.clone())
            .unwrap_or_else(|| crate::problem::Loc::file(&std::sync::Arc::from("responses")));
        problems.push(Problem::new(
            &at,
            None,
            format!(
                "the patterns together compile to more than the {} MiB limit ({}); remove or simplify patterns",
                SIZE_LIMIT >> 20,
                crate::problem::one_line(&set_error.to_string())
            ),
        ));
    }
    problems
}
