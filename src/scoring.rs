//! What the patterns a message matched mean to the brain: a score per intent, the entities
//! found, and which intents were only ever named after a negation ("not in danger").
//!
//! The engine ([`crate::matcher`]) only says which patterns matched and where; this module
//! owns the weights, the owners of the patterns and the negation rule, once for every engine:
//! the one-pass [`Matcher`] that answers people and the [`NaiveMatcher`] that proves it right.

use std::collections::HashMap;
use std::sync::Arc;

use crate::content::{Content, Text};
use crate::lexicon::Lexicon;
use crate::matcher::{expand, BuildError, Engine, Matcher, NaiveMatcher, Source};
use crate::problem::{Loc, Problem};

/// Weight of a pattern that is a clear sign of its intent.
pub const PATTERN_WEIGHT: u32 = 2;
/// Weight of a hint: alone it is not enough for a confident answer.
pub const HINT_WEIGHT: u32 = 1;

/// Whose a pattern is, and what it counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Intent { intent: usize, weight: u32 },
    Entity(usize),
}

/// What one message matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Sum of the weights of the distinct patterns matched, per intent (table order).
    pub scores: Vec<u32>,
    /// Whether each entity (table order) was found.
    pub entities: Vec<bool>,
    /// Per intent, whether a pattern of it matched only with a negation before it ("not in
    /// danger"): the brain then knows the person said the opposite, which a bag of words
    /// cannot tell.
    pub negated: Vec<bool>,
}

/// The table's patterns as the brain counts them: the owner and weight of each, and which
/// are checked for a negation.
#[derive(Debug, Clone)]
pub struct Scoring {
    owners: Vec<Owner>,
    negatable: Vec<bool>,
    intents: usize,
    entities: usize,
}

/// One pattern of the table with its groups written out, its owner and where it was written.
struct TablePattern<'c> {
    written: &'c str,
    expanded: Text,
    owner: Owner,
    owner_id: &'c str,
    negatable: bool,
}

impl Scoring {
    /// The scoring of `content`'s table and the one-pass engine compiled from its patterns.
    /// Every pattern that does not compile is a problem at its file and line.
    pub fn build(content: &Content) -> Result<(Scoring, Matcher), Vec<Problem>> {
        let groups = content.lexicon.group_map();
        Self::build_with(content, |sources| Matcher::build(sources, &groups))
    }

    /// The same with the reference engine, for tests and benchmarks.
    pub fn build_naive(content: &Content) -> Result<(Scoring, NaiveMatcher), Vec<Problem>> {
        Self::build_with(content, NaiveMatcher::build)
    }

    /// The patterns of `content` whose own regex does not compile in `matcher` (see
    /// [`Matcher::verify`]), at their file and line.
    pub fn verify(content: &Content, matcher: &Matcher) -> Vec<Problem> {
        match table_patterns(content) {
            Ok(table) => located(&table, matcher.verify()),
            Err(problems) => problems,
        }
    }

    /// The scoring of `content`'s table and the engine `build` makes of its patterns (each with
    /// its word groups written out, in table order): how benchmarks try other engines.
    pub fn build_with<E>(
        content: &Content,
        build: impl FnOnce(&[Source<'_>]) -> Result<E, Vec<BuildError>>,
    ) -> Result<(Scoring, E), Vec<Problem>> {
        let table = table_patterns(content)?;
        let sources: Vec<Source<'_>> = table
            .iter()
            .map(|p| Source {
                written: p.written,
                expanded: &p.expanded.value,
                starts: p.negatable,
            })
            .collect();
        let engine = build(&sources).map_err(|errors| located(&table, errors))?;
        let scoring = Scoring {
            owners: table.iter().map(|p| p.owner).collect(),
            negatable: table.iter().map(|p| p.negatable).collect(),
            intents: content.intents.len(),
            entities: content.entities.len(),
        };
        Ok((scoring, engine))
    }

    /// Score every intent and find every entity in `text` (folded and rewritten), with the
    /// patterns `engine` finds. A pattern counts once however often it matches; a pattern of a
    /// negatable intent counts only if one of its matches has no negation before it, and
    /// marks the intent negated if every one has.
    pub fn scan(&self, engine: &impl Engine, text: &str, lexicon: &Lexicon) -> Scan {
        let mut scan = Scan {
            scores: vec![0; self.intents],
            entities: vec![false; self.entities],
            negated: vec![false; self.intents],
        };
        engine.find(text, &mut |pattern, starts| match self.owners[pattern] {
            Owner::Entity(e) => scan.entities[e] = true,
            Owner::Intent { intent, weight } if !self.negatable[pattern] => {
                scan.scores[intent] += weight;
            }
            Owner::Intent { intent, weight } => {
                // Counted if one match has no negation before it; negated if every one has
                // (none at all: not found).
                let mut matched = false;
                for at in starts {
                    if !lexicon.is_negated(text, at) {
                        scan.scores[intent] += weight;
                        return;
                    }
                    matched = true;
                }
                scan.negated[intent] |= matched;
            }
        });
        scan
    }
}

/// Every pattern of the table, in table order: intent patterns then hints per intent, then
/// entity patterns, with their word groups written out.
fn table_patterns<'c>(content: &'c Content) -> Result<Vec<TablePattern<'c>>, Vec<Problem>> {
    let groups = content.lexicon.group_map();
    let mut table = Vec::new();
    let mut problems = Vec::new();
    let mut add = |p: &'c Text, owner: Owner, owner_id: &'c str, negatable: bool| match expanded(
        p, &groups, owner_id,
    ) {
        Ok(expanded) => table.push(TablePattern {
            written: &p.value,
            expanded,
            owner,
            owner_id,
            negatable,
        }),
        Err(problem) => problems.push(problem),
    };
    for (i, intent) in content.intents.iter().enumerate() {
        for (list, weight) in [
            (&intent.patterns, PATTERN_WEIGHT),
            (&intent.hints, HINT_WEIGHT),
        ] {
            for p in list {
                let owner = Owner::Intent { intent: i, weight };
                add(p, owner, &intent.id.value, intent.negatable);
            }
        }
    }
    for (e, entity) in content.entities.iter().enumerate() {
        for p in &entity.patterns {
            add(p, Owner::Entity(e), &entity.id.value, false);
        }
    }
    if problems.is_empty() {
        Ok(table)
    } else {
        Err(problems)
    }
}

/// A pattern with every `{name}` of a word group replaced by the group's alternatives.
///
/// Groups let an operator write a list of synonyms once (`picture = 'pic|pics|photos?|...'`)
/// and use it in many patterns (`'\bsend\w* {picture}'`).
pub(crate) fn expanded(
    pattern: &Text,
    groups: &HashMap<&str, &str>,
    owner: &str,
) -> Result<Text, Problem> {
    match expand(&pattern.value, groups) {
        Ok(value) => Ok(Text {
            value,
            at: pattern.at.clone(),
        }),
        Err(name) => Err(Problem::new(
            &pattern.at,
            Some(owner),
            format!("pattern uses the word group {{{name}}}, which lexicon.toml [groups] does not define"),
        )),
    }
}

/// The engine's errors at the file and line of the pattern each names.
fn located(table: &[TablePattern<'_>], errors: Vec<BuildError>) -> Vec<Problem> {
    errors
        .into_iter()
        .map(|error| match error.pattern.and_then(|i| table.get(i)) {
            Some(p) => Problem::new(&p.expanded.at, Some(p.owner_id), error.why),
            None => {
                let at = table
                    .first()
                    .map(|p| p.expanded.at.clone())
                    .unwrap_or_else(|| Loc::file(&Arc::from("responses")));
                Problem::new(&at, None, error.why)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine that reports the same matches for every text.
    struct Reports(Vec<(usize, Vec<usize>)>);

    impl Engine for Reports {
        fn find(&self, _: &str, found: &mut dyn FnMut(usize, crate::matcher::Starts<'_>)) {
            for (pattern, starts) in &self.0 {
                found(*pattern, &mut starts.iter().copied());
            }
        }
    }

    fn scoring() -> Scoring {
        Scoring {
            owners: vec![
                Owner::Intent {
                    intent: 0,
                    weight: PATTERN_WEIGHT,
                },
                Owner::Intent {
                    intent: 0,
                    weight: HINT_WEIGHT,
                },
                Owner::Intent {
                    intent: 1,
                    weight: PATTERN_WEIGHT,
                },
                Owner::Entity(0),
            ],
            negatable: vec![false, false, true, false],
            intents: 2,
            entities: 1,
        }
    }

    #[test]
    fn patterns_and_hints_add_up_and_entities_are_found() {
        let content = Content::embedded().expect("parses");
        let lexicon = Lexicon::from_content(&content);
        let scan = scoring().scan(
            &Reports(vec![(0, vec![]), (1, vec![]), (3, vec![])]),
            "anything",
            &lexicon,
        );
        assert_eq!(scan.scores, vec![PATTERN_WEIGHT + HINT_WEIGHT, 0]);
        assert_eq!(scan.entities, vec![true]);
        assert_eq!(scan.negated, vec![false, false]);
    }

    #[test]
    fn a_negatable_pattern_counts_unless_every_match_is_negated() {
        let content = Content::embedded().expect("parses");
        let lexicon = Lexicon::from_content(&content);
        let text = "im not in danger";
        let at = text.find("danger").expect("there");
        let negated = scoring().scan(&Reports(vec![(2, vec![at])]), text, &lexicon);
        assert_eq!(negated.scores, vec![0, 0]);
        assert_eq!(negated.negated, vec![false, true]);
        let text = "im not sure but im in danger";
        let first = text.find("sure").expect("there");
        let second = text.find("danger").expect("there");
        let counted = scoring().scan(&Reports(vec![(2, vec![first, second])]), text, &lexicon);
        assert_eq!(
            counted.scores,
            vec![0, PATTERN_WEIGHT],
            "one match without a negation"
        );
        assert_eq!(counted.negated, vec![false, false]);
    }
}
