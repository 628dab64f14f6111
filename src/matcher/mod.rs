//! The pattern engine: pattern strings in; for a folded message, which patterns match (and,
//! for those that ask, where each match starts) out, in one pass over the message.
//!
//! It knows nothing of intents, weights or negation: the brain's [`crate::scoring`] owns what
//! a match means. [`NaiveMatcher`] is the reference engine beside it, one regex a pattern.
//!
//! Layout: [`cut`] cuts patterns into parts at their gaps; [`automata`] builds and walks the
//! parts automata; [`order`] checks that a pattern's parts occur in order; `bits` holds the
//! small bit sets of a scan; `groups` parses word groups once; [`naive`] is the reference.
//!
//! The text it sees is already folded to lower-case ASCII ([`crate::normalize`]), so patterns
//! are compiled with Unicode off: `\b` and `\w` are ASCII, which keeps the engine on its fast
//! lazy DFA (about 100x faster than Unicode word boundaries here).
//!
//! # One pass, without the state explosion
//!
//! Many patterns join words with `.*` (`\bhelp\b.*\bnow\b`) or word windows
//! (`\bhurting (\w+ ){0,5}now\b`). Compiled together into one unanchored `RegexSet`, every
//! pattern that has begun to match stays "half matched" while the scan goes on, and the lazy
//! DFA needs a state for every combination of half-matched patterns, started at different
//! places: with the shipped table it built new states for almost every message (about 2,000
//! messages a second, BENCHMARKS.md). So the table is compiled in two layers:
//!
//! 1. Each pattern is cut at its unbounded gaps (`.*`, `.+`, `[^x]*` and the like: a
//!    repetition without upper bound of a class that matches a space) into parts; an
//!    alternation that holds a gap is first multiplied out (`x(a.*b|c)` is `xa.*b|xc`). The
//!    distinct parts of the whole table go into one multi-pattern lazy DFA
//!    (`regex-automata`, the engine under [`regex::bytes::RegexSet`]), searched in overlapping
//!    mode so that it reports every part that occurs and where each ends. Almost every part
//!    starts with `\b` or `^`, so it can only start at a word boundary: that automaton is run
//!    *anchored* from each word start (and word end, unless it says no part can start there),
//!    and each run stops as soon as no part can still match from there (after a word or two,
//!    mostly). A state then only ever holds what was begun at one place, so the states are
//!    few and the same from one message to the next. The few parts that can start anywhere,
//!    or run on across any number of words, get a second automaton, read once, unanchored.
//! 2. A pattern that is a single part matched when its part did. A pattern cut into parts can
//!    only match if every part of one of its alternatives occurred, so only those few
//!    candidates are checked further. Where the gaps are plain `.*`, the alternative matches
//!    exactly when its parts occur in order (`InOrder`). The scan's start and end offsets
//!    mostly settle that; otherwise the same anchored runs are made again from the point a
//!    part must start at or after (they find every match of an anchored part). Only a part
//!    that is not run anchored (none in the shipped table) needs a search with a third lazy
//!    DFA, built only for such parts. Other gaps, and negatable intents (which need
//!    where each match starts), are decided by the pattern's own regex, compiled on first use.
//!
//! The answer is the same as matching every pattern alone: step 1 finds every occurrence of
//! every part (an anchored run from each place a part can start), step 1 is a necessary
//! condition (whenever `a.*b` matches, `a` and `b` occur), and step 2 decides exactly. The
//! `matcher_equivalence` tests and the `respond_bytes` fuzz target hold it to [`NaiveMatcher`],
//! the pattern-by-pattern reference.
//!
//! # Case
//!
//! Folded text is lower case, so patterns are matched case-sensitively, as written (lower
//! case, which `check` asks for): the automaton is smaller and quicker to build than a
//! case-insensitive one.
//!
//! Cost: one short anchored run per word start (plus one scan for the few unanchored parts)
//! for the whole table; then, only for alternatives whose parts all occurred and only when
//! the offsets do not settle it, anchored runs from a point on for each further part, until
//! one is found (or a short anchored search for a part not run anchored, or one search with
//! the pattern's regex); and,
//! only when a negatable intent matched, one search per matching pattern of that intent to
//! look for a negation. Linear in the message for a given table: a run covers a bounded
//! number of words (parts that could run on are in the unanchored automaton), and the lazy
//! DFAs never give up, they clear their cache and go on. Building parses the patterns (each
//! word group once, see `matcher/groups.rs`) and compiles the automata (about 30 ms for the
//! shipped table, a third of it parsing); the per-pattern regexes are compiled when first
//! needed.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::hybrid::dfa::DFA;
use regex_automata::meta;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::{Anchored, Input, MatchKind};
use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, Repetition};

mod automata;
mod bits;
mod cut;
mod groups;
mod naive;
mod order;

use automata::{
    starts_at_boundary, stretches_across_words, word_boundaries, Automata, Occurrences, Parts,
    PartsDfa, Scratch,
};
use cut::{split_parts, DistinctParts};
pub use groups::expand;
use groups::GroupParser;
pub use naive::NaiveMatcher;
use order::InOrder;

/// Compiled size limit of each automaton (and of each pattern on its own). Generous for a
/// hand-written table (the shipped one uses a small fraction); a table that needs more has a
/// pattern that explodes (such as `(a|b){5000}`) and `check` reports it with its line.
pub const SIZE_LIMIT: usize = 64 << 20;

/// Most memory the lazy DFA of the parts automaton may use as a cache of its states (or the
/// minimum a table needs, if more). It grows only as states are needed; the shipped table
/// settles at a few MiB.
pub(crate) const DFA_CACHE_LIMIT: usize = 16 << 20;

/// Most memory the lazy DFA that checks the order of parts may use for its states.
pub(crate) const CHAIN_CACHE_LIMIT: usize = 4 << 20;

/// One pattern as the engine takes it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// As the operator wrote it, word groups by name (`{picture}`): each group is parsed once
    /// for the whole table.
    pub written: &'a str,
    /// With its word groups written out ([`expand`]): what it matches.
    pub expanded: &'a str,
    /// Report where each match starts (the brain looks for a negation before each); otherwise
    /// only whether it matched, which is cheaper.
    pub starts: bool,
}

/// Why a table could not be compiled, for the caller to put a file and line to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// The pattern at fault (its index in the table), if one is.
    pub pattern: Option<usize>,
    /// What is wrong, in a sentence for the operator.
    pub why: String,
}

/// Every match start of one pattern, as [`Engine::find`] reports it.
pub type Starts<'a> = &'a mut dyn Iterator<Item = usize>;

/// What every engine does: the one-pass [`Matcher`] and the reference [`NaiveMatcher`] give the
/// same answer, which the tests hold them to.
pub trait Engine {
    /// Call `found(pattern, starts)` once for each pattern (by table index, in increasing
    /// order) that matches `text`. `starts` yields where each of its leftmost-first,
    /// non-overlapping matches starts, for a pattern that asked ([`Source::starts`]); for any
    /// other it yields nothing.
    fn find(&self, text: &str, found: &mut dyn FnMut(usize, Starts<'_>));
}

/// One pattern of the table, as the two layers see it.
#[derive(Debug, Clone)]
struct Pattern {
    /// Its top-level alternatives.
    alternatives: Vec<Alternative>,
    /// Where each match starts is asked for ([`Source::starts`]).
    starts: bool,
    /// The whole pattern (groups expanded), to compile when first needed. Kept as text, not
    /// as its parsed form, which is ten times the size and rarely needed.
    source: Box<str>,
    full: OnceLock<Option<meta::Regex>>,
}

impl Pattern {
    /// The whole pattern as its own regex, compiled on first use. Built without a size limit:
    /// it is its parts (which compiled within [`SIZE_LIMIT`] in the parts automaton) joined by
    /// a few states per gap, so it is no bigger than the table that was accepted.
    /// `None` only if it does not compile, which [`Matcher::verify`] (run by `check` and by
    /// every reload) refuses at load.
    fn full(&self) -> Option<&meta::Regex> {
        self.full
            .get_or_init(|| compile_full(&self.source).ok())
            .as_ref()
    }
}

/// One top-level alternative of a pattern: the parts (indexes into the parts automaton) that
/// must all occur, in order, with what was cut out between them.
#[derive(Debug, Clone)]
struct Alternative {
    parts: Vec<u32>,
    /// Every gap cut out is a plain `.*` (no minimum, any byte but perhaps a line break), so
    /// the alternative matches exactly when its parts occur one after another, which
    /// `InOrder` checks. A single part with no gap is the simplest case: it matched when it
    /// occurred.
    chainable: bool,
    /// Its gaps also cross line breaks (or it has none), so the chain check holds even on
    /// text with a `\n` (folded text never has one).
    crosses_newline: bool,
}

/// A table of patterns compiled for one pass over a message.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// One automaton over the distinct parts of every pattern.
    parts: Parts,
    patterns: Vec<Pattern>,
    /// For each part, the patterns with an alternative that starts with it.
    first_part_of: Vec<Vec<u32>>,
    /// Patterns with an alternative that has no parts at all (such as `.*`): always checked.
    always: Vec<u32>,
}

impl Matcher {
    /// Compile `patterns` (word groups by name in `groups`). A pattern that does not compile,
    /// or a table too big for [`SIZE_LIMIT`], is an error naming the pattern where it can.
    pub fn build(
        patterns: &[Source<'_>],
        groups: &HashMap<&str, &str>,
    ) -> Result<Self, Vec<BuildError>> {
        let mut problems = Vec::new();
        let mut parts = DistinctParts::default();
        let sources = patterns;
        let mut patterns = Vec::with_capacity(sources.len());
        for (index, cuts) in parse_all(sources, groups).into_iter().enumerate() {
            let cuts = match cuts {
                Ok(cuts) => cuts,
                Err(e) => {
                    problems.push(BuildError {
                        pattern: Some(index),
                        why: format!("pattern does not compile: {e}"),
                    });
                    continue;
                }
            };
            let source = &sources[index];
            let alternatives = cuts
                .into_iter()
                .map(|cut| Alternative {
                    parts: cut
                        .parts
                        .into_iter()
                        .map(|part| parts.intern(part))
                        .collect(),
                    chainable: cut.chainable,
                    crosses_newline: cut.crosses_newline,
                })
                .collect();
            patterns.push(Pattern {
                alternatives,
                starts: source.starts,
                source: source.expanded.into(),
                full: OnceLock::new(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let parts = parts.list;
        let located = |why: &str| locate_errors(sources, why);
        let (at_boundary, loose): (Vec<u32>, Vec<u32>) = (0..parts.len() as u32).partition(|&i| {
            let part = &parts[i as usize];
            starts_at_boundary(part) && !stretches_across_words(part)
        });
        let mut is_anchored = vec![false; parts.len()];
        for &i in &at_boundary {
            is_anchored[i as usize] = true;
        }
        // The two automata are built at once, on two cores where there are two: building
        // them is a third of start-up.
        let (anchored, loose) = both(
            || PartsDfa::build(&parts, at_boundary),
            || PartsDfa::build(&parts, loose),
        );
        let anchored = anchored.map_err(|e| located(&e))?;
        let loose = loose.map_err(|e| located(&e))?;
        let lengths = parts
            .iter()
            .map(|p| {
                let props = p.properties();
                (props.minimum_len().unwrap_or(0), props.maximum_len())
            })
            .collect();
        let mut chain_of = vec![u32::MAX; parts.len()];
        let mut chain_hirs = Vec::new();
        for alternative in patterns.iter().flat_map(|p| &p.alternatives) {
            if !alternative.chainable {
                continue;
            }
            for &part in alternative.parts.iter().skip(1) {
                if !is_anchored[part as usize] && chain_of[part as usize] == u32::MAX {
                    chain_of[part as usize] = chain_hirs.len() as u32;
                    chain_hirs.push(Hir::concat(vec![
                        Hir::repetition(Repetition {
                            min: 0,
                            max: None,
                            greedy: false,
                            sub: Box::new(Hir::class(Class::Bytes(ClassBytes::new([
                                ClassBytesRange::new(0, 255),
                            ])))),
                        }),
                        parts[part as usize].clone(),
                    ]));
                }
            }
        }
        let chain = if chain_hirs.is_empty() {
            None
        } else {
            let nfa = compile_nfa(&chain_hirs).map_err(|e| located(&e))?;
            let dfa = DFA::builder()
                .configure(
                    DFA::config()
                        .match_kind(MatchKind::All)
                        .starts_for_each_pattern(true)
                        .cache_capacity(CHAIN_CACHE_LIMIT)
                        .skip_cache_capacity_check(true),
                )
                .build_from_nfa(nfa)
                .map_err(|e| located(&e.to_string()))?;
            Some(dfa)
        };
        let mut first_part_of = vec![Vec::new(); parts.len()];
        let mut always = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            for alternative in &p.alternatives {
                match alternative.parts.first() {
                    Some(&first) => first_part_of[first as usize].push(i as u32),
                    None => always.push(i as u32),
                }
            }
        }
        for list in first_part_of.iter_mut().chain(std::iter::once(&mut always)) {
            list.dedup();
        }
        Ok(Matcher {
            parts: Parts::new(Arc::new(Automata {
                skip_word_ends: anchored.as_ref().is_some_and(PartsDfa::dies_at_word_ends),
                anchored,
                loose,
                chain,
                chain_of,
                lengths,
                is_anchored,
            })),
            patterns,
            first_part_of,
            always,
        })
    }

    /// [`Engine::find`] in one pass over `text` (folded and rewritten).
    fn find_all(&self, text: &str, report: &mut dyn FnMut(usize, Starts<'_>)) {
        let mut guard = self.parts.pool.get();
        let Scratch {
            anchored_cache,
            loose_cache,
            chain_cache,
            seen,
            occurrences,
            candidates,
        } = &mut *guard;
        seen.fill(0);
        candidates.clear();
        candidates.resize(self.patterns.len().div_ceil(64), 0);
        let mark = |candidates: &mut Vec<u64>, patterns: &[u32]| {
            for &p in patterns {
                bits::set(candidates, p as usize);
            }
        };
        mark(candidates, &self.always);
        let mut found = |part: u32, start: usize, at: usize| {
            let part = part as usize;
            let o = &mut occurrences[part];
            if bits::set(seen, part) {
                *o = Occurrences {
                    first_end: at,
                    last_end: at,
                    last_start: start,
                };
                mark(candidates, &self.first_part_of[part]);
            } else {
                o.first_end = o.first_end.min(at);
                o.last_end = o.last_end.max(at);
                o.last_start = o.last_start.max(start);
            }
        };
        let automata = &*self.parts.automata;
        let mut gave_up = false;
        if let (Some(loose), Some(cache)) = (&automata.loose, loose_cache.as_mut()) {
            gave_up |= !loose.walk(cache, &Input::new(text), &mut found);
        }
        if let (Some(anchored), Some(cache)) = (&automata.anchored, anchored_cache.as_mut()) {
            for start in word_boundaries(text.as_bytes(), 0, automata.skip_word_ends) {
                if gave_up {
                    break;
                }
                let input = Input::new(text).range(start..).anchored(Anchored::Yes);
                gave_up |= !anchored.walk(cache, &input, &mut found);
            }
        }
        if gave_up {
            // The lazy DFA is built never to give up (no quit bytes, no give-up threshold);
            // should it ever, every pattern is tried on its own regex instead.
            drop(guard);
            for index in 0..self.patterns.len() {
                self.full_match(index, text, report);
            }
            return;
        }

        let has_newline = text.contains('\n');
        let mut in_order = InOrder {
            automata: &self.parts.automata,
            cache: chain_cache.as_mut(),
            anchored_cache: anchored_cache.as_mut(),
            text,
        };
        for index in bits::ones(candidates) {
            let pattern = &self.patterns[index];
            let mut needs_full = false;
            let mut matched = false;
            for alternative in &pattern.alternatives {
                let occurred = alternative
                    .parts
                    .iter()
                    .all(|&part| bits::has(seen, part as usize));
                if !occurred {
                    continue;
                }
                let chained = (alternative.chainable
                    && (alternative.crosses_newline || !has_newline))
                    .then(|| in_order.check(&alternative.parts, occurrences))
                    .flatten();
                match chained {
                    Some(true) => {
                        matched = true;
                        break;
                    }
                    Some(false) => {}
                    None => needs_full = true,
                }
            }
            if (pattern.starts && matched) || (!matched && needs_full) {
                // Where each match starts was asked for, or only the whole regex can tell.
                self.full_match(index, text, report);
            } else if matched {
                report(index, &mut std::iter::empty());
            }
        }
    }

    /// Report pattern `index` if its whole regex matches `text`, with where each match starts
    /// if it asked. A regex that does not compile matches nothing (fail closed); `check` and
    /// every reload refuse such a table first ([`Matcher::verify`]).
    fn full_match(&self, index: usize, text: &str, found: &mut dyn FnMut(usize, Starts<'_>)) {
        let pattern = &self.patterns[index];
        let Some(full) = pattern.full() else {
            return;
        };
        if pattern.starts {
            let mut starts = full
                .find_iter(text.as_bytes())
                .map(|m| m.start())
                .peekable();
            if starts.peek().is_some() {
                found(index, &mut starts);
            }
        } else if full.is_match(text.as_bytes()) {
            found(index, &mut std::iter::empty());
        }
    }

    /// Compile every pattern's whole regex, as a scan may need it, and drop it again: the
    /// patterns whose regex does not build. The parts automata are checked when built; a
    /// pattern's own regex is compiled only when a message needs it, so without this a
    /// pattern whose regex could not be built would be found out by a person's message.
    pub fn verify(&self) -> Vec<BuildError> {
        self.patterns
            .iter()
            .enumerate()
            .filter_map(|(index, p)| {
                compile_full(&p.source).err().map(|e| BuildError {
                    pattern: Some(index),
                    why: format!("pattern does not compile on its own: {e}"),
                })
            })
            .collect()
    }
}

impl Engine for Matcher {
    fn find(&self, text: &str, found: &mut dyn FnMut(usize, Starts<'_>)) {
        self.find_all(text, found);
    }
}

/// Every pattern parsed and cut into parts, in order: the second half (by length) on another
/// thread, because parsing is the other third of start-up. Each half has its own
/// [`GroupParser`] (a group is then parsed once a half); the result is the same as parsing in
/// one pass.
fn parse_all(
    sources: &[Source<'_>],
    groups: &HashMap<&str, &str>,
) -> Vec<Result<Vec<cut::Cut>, Box<regex_syntax::Error>>> {
    let parse = |half: &[Source<'_>]| {
        let mut parser = GroupParser::new(groups, syntax_config());
        half.iter()
            .map(|s| parser.parse(s.written, s.expanded).map(split_parts))
            .collect::<Vec<_>>()
    };
    // Halves of about equal length, as the patterns' lengths differ a hundredfold.
    let total: usize = sources.iter().map(|s| s.expanded.len()).sum();
    let mut length = 0;
    let middle = sources
        .iter()
        .position(|s| {
            length += s.expanded.len();
            length * 2 >= total
        })
        .map_or(0, |i| i + 1);
    let (first, second) = sources.split_at(middle);
    let (mut all, rest) = both(|| parse(first), || parse(second));
    all.extend(rest);
    all
}

/// `a()` and `b()`, `b` on another thread when one can be had (on this one otherwise): the
/// same results as one after the other.
fn both<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    // `b` waits here, so that it is still at hand if no thread can be started for it.
    let b = std::sync::Mutex::new(Some(b));
    let run_b = || b.lock().ok().and_then(|mut b| b.take()).map(|b| b());
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new().spawn_scoped(scope, run_b);
        let a = a();
        let from_helper = match helper {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            Err(_) => None,
        };
        let b = from_helper.or_else(run_b).expect("b runs exactly once");
        (a, b)
    })
}

/// How every pattern is read, for its parts and for its own regex alike: bytes, with Unicode
/// off (folded text is ASCII).
fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false)
}

/// The Thompson NFA behind both automata: bytes not UTF-8, no captures, within [`SIZE_LIMIT`].
fn compile_nfa<H: std::borrow::Borrow<Hir>>(hirs: &[H]) -> Result<thompson::NFA, String> {
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .shrink(false)
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(SIZE_LIMIT)),
        )
        .build_many_from_hir(hirs)
        .map_err(|e| e.to_string())
}

/// A pattern as its own regex, as a scan uses it. Built without a size limit: it is its parts
/// (which compiled within [`SIZE_LIMIT`] in the parts automaton) joined by a few states per
/// gap, so it is no bigger than the table that was accepted.
fn compile_full(source: &str) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .syntax(syntax_config())
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(false)
                .which_captures(WhichCaptures::Implicit)
                .nfa_size_limit(None)
                .hybrid_cache_capacity(1 << 20),
        )
        .build(source)
        .map_err(|e| e.to_string())
}

/// A pattern on its own with the `regex` crate, within [`SIZE_LIMIT`]: the reference engine,
/// and how a table too big is traced to its patterns.
fn compile_one(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
}

/// The automaton failed to build (it is too big): find which patterns are at fault, so the
/// operator gets lines.
fn locate_errors(sources: &[Source<'_>], set_error: &str) -> Vec<BuildError> {
    let mut errors: Vec<BuildError> = sources
        .iter()
        .enumerate()
        .filter_map(|(index, p)| {
            compile_one(p.expanded).err().map(|e| {
                let why = match e {
                    regex::Error::CompiledTooBig(limit) => format!(
                        "pattern compiles to more than the {} MiB limit; simplify it (large repeats such as {{1000}} are the usual cause)",
                        limit >> 20
                    ),
                    other => format!("pattern does not compile: {other}"),
                };
                BuildError {
                    pattern: Some(index),
                    why,
                }
            })
        })
        .collect();
    if errors.is_empty() {
        errors.push(BuildError {
            pattern: None,
            why: format!(
                "the patterns together compile to more than the {} MiB limit ({}); remove or simplify patterns",
                SIZE_LIMIT >> 20,
                crate::problem::one_line(set_error)
            ),
        });
    }
    errors
}

/// A pattern parsed as the engine reads it, for the pieces' unit tests.
#[cfg(test)]
fn parsed(pattern: &str) -> Hir {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .expect("parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(patterns: &[(&str, bool)]) -> Matcher {
        let sources: Vec<Source<'_>> = patterns
            .iter()
            .map(|&(p, starts)| Source {
                written: p,
                expanded: p,
                starts,
            })
            .collect();
        Matcher::build(&sources, &HashMap::new()).expect("builds")
    }

    fn hits(m: &Matcher, text: &str) -> Vec<(usize, Vec<usize>)> {
        let mut found = Vec::new();
        m.find(text, &mut |p, starts| found.push((p, starts.collect())));
        found
    }

    #[test]
    fn parts_count_only_in_order() {
        let m = engine(&[(r"\bhelp\b.*\bnow\b", false)]);
        assert_eq!(hits(&m, "help me now"), vec![(0, vec![])]);
        assert!(hits(&m, "now help").is_empty());
    }

    #[test]
    fn a_pattern_that_asks_gets_where_each_match_starts() {
        let m = engine(&[(r"\bdanger\b", true), (r"\bnow\b", false)]);
        assert_eq!(
            hits(&m, "no danger, not in danger now"),
            vec![(0, vec![3, 18]), (1, vec![])]
        );
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_named() {
        let sources = [
            Source {
                written: r"\bok\b",
                expanded: r"\bok\b",
                starts: false,
            },
            Source {
                written: r"(unclosed",
                expanded: r"(unclosed",
                starts: false,
            },
        ];
        let errors = Matcher::build(&sources, &HashMap::new()).expect_err("refused");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pattern, Some(1));
        assert!(engine(&[(r"\bok\b", false)]).verify().is_empty());
    }

    /// The patterns are parsed in two halves at once: a broken pattern in either is still
    /// named by its own place in the table.
    #[test]
    fn broken_patterns_in_both_halves_are_named() {
        let written = [r"\bok\b", r"(one", r"\btwo\b", r"\bthree\b", r"four)"];
        let sources: Vec<Source<'_>> = written
            .iter()
            .map(|&w| Source {
                written: w,
                expanded: w,
                starts: false,
            })
            .collect();
        let errors = Matcher::build(&sources, &HashMap::new()).expect_err("refused");
        let named: Vec<Option<usize>> = errors.iter().map(|e| e.pattern).collect();
        assert_eq!(named, [Some(1), Some(4)]);
    }
}
