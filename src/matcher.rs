//! Finds, in one pass, every intent pattern and entity that a folded message matches.
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
use std::hash::Hasher;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{Arc, OnceLock};

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::meta;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind, PatternID};
use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition};

use rustc_hash::{FxHashMap, FxHasher};

use crate::content::{Content, Text};
use crate::lexicon::Lexicon;
use crate::problem::Problem;

mod groups;
pub use groups::expand;
use groups::GroupParser;

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

/// Weight of a pattern that is a clear sign of its intent.
pub(crate) const PATTERN_WEIGHT: u32 = 2;
/// Weight of a hint: alone it is not enough for a confident answer.
pub(crate) const HINT_WEIGHT: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Intent { intent: usize, weight: u32 },
    Entity(usize),
}

/// One pattern of the table, as the two layers see it.
#[derive(Debug, Clone)]
struct Pattern {
    owner: Owner,
    /// Its top-level alternatives.
    alternatives: Vec<Alternative>,
    /// The pattern belongs to a negatable intent: each match is checked for a negation.
    negatable: bool,
    /// The whole pattern (groups expanded), to compile when first needed. Kept as text, not
    /// as its parsed form, which is ten times the size and rarely needed.
    source: Box<str>,
    full: OnceLock<Option<meta::Regex>>,
}

impl Pattern {
    /// The whole pattern as its own regex, compiled on first use. Built without a size limit:
    /// it is its parts (which compiled within [`SIZE_LIMIT`] in the parts automaton) joined by
    /// a few states per gap, so it is no bigger than the table that was accepted.
    fn full(&self) -> Option<&meta::Regex> {
        self.full
            .get_or_init(|| {
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
                    .build(&self.source)
                    .ok()
            })
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

/// The compiled intent and entity patterns of one content version.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// One automaton over the distinct parts of every pattern.
    parts: Parts,
    patterns: Vec<Pattern>,
    /// For each part, the patterns with an alternative that starts with it.
    first_part_of: Vec<Vec<u32>>,
    /// Patterns with an alternative that has no parts at all (such as `.*`): always checked.
    always: Vec<u32>,
    intents: usize,
    entities: usize,
}

type ScratchFn = Box<dyn Fn() -> Scratch + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// The automata over the parts and a pool of per-thread search state, so that scanning
/// needs no lock and no allocation once warm.
struct Parts {
    automata: Arc<Automata>,
    pool: Pool<Scratch, ScratchFn>,
}

/// The lazy DFAs of a table.
#[derive(Debug)]
struct Automata {
    /// The parts that can only start at a word boundary (`\b`, `^`): nearly all of them.
    /// Searched anchored at each word boundary of the message, in overlapping mode so that
    /// every part that starts there is reported, with where it ends.
    anchored: Option<PartsDfa>,
    /// No anchored part can start at the end of a word (nearly always so: they start with
    /// `\b` and a letter), so the runs start at word starts only: half as many.
    skip_word_ends: bool,
    /// The other parts, searched once over the whole message, unanchored and overlapping.
    loose: Option<PartsDfa>,
    /// For the parts that follow a gap in a chainable alternative and are not run anchored
    /// (so where their matches start is not known), `(?s:.)*?` then the part, one pattern
    /// each, searched anchored at a point and for one pattern only: the earliest end of that
    /// part among its matches that start there or later. `None` when no alternative needs it
    /// (the shipped table: every such part is run anchored, and the anchored runs from a
    /// point on find all of its matches, see [`InOrder::earliest_end_from`]).
    chain: Option<DFA>,
    /// Part index to its pattern in `chain`, or `u32::MAX`.
    chain_of: Vec<u32>,
    /// Per part, the fewest and (when bounded) the most bytes a match of it spans: often
    /// enough to settle a step of [`InOrder`] from the main scan alone, without a search.
    lengths: Vec<(usize, Option<usize>)>,
    /// Per part, whether it is run anchored (so where its matches start is known, and the
    /// earliest end of its matches from a point on is found by running again from there:
    /// such a part needs no chain automaton).
    is_anchored: Vec<bool>,
}

/// One multi-pattern lazy DFA over some of the parts, and which part each of its patterns is.
#[derive(Debug)]
struct PartsDfa {
    dfa: DFA,
    part_of: Vec<u32>,
}

impl PartsDfa {
    /// One overlapping automaton over the parts `ids` (indexes into `parts`); `None` for none.
    fn build(parts: &[Hir], ids: Vec<u32>) -> Result<Option<Self>, String> {
        if ids.is_empty() {
            return Ok(None);
        }
        let hirs: Vec<&Hir> = ids.iter().map(|&i| &parts[i as usize]).collect();
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(DFA_CACHE_LIMIT)
                    // A big table needs a bigger minimum cache than the limit: take it (the
                    // NFA behind it is within SIZE_LIMIT) rather than refuse the table.
                    .skip_cache_capacity_check(true),
            )
            .build_from_nfa(compile_nfa(&hirs)?)
            .map_err(|e| e.to_string())?;
        Ok(Some(PartsDfa { dfa, part_of: ids }))
    }

    /// True when an anchored run begun right after a word character can match nothing, at the
    /// end of the text or before any other byte: then runs need not start at word ends.
    /// Asked of the automaton itself, so it holds whatever the parts are.
    fn dies_at_word_ends(&self) -> bool {
        let mut cache = self.dfa.create_cache();
        fn after_word(haystack: &[u8]) -> Input<'_> {
            Input::new(haystack).range(1..).anchored(Anchored::Yes)
        }
        let Ok(start) = self.dfa.start_state_forward(&mut cache, &after_word(b"a")) else {
            return false;
        };
        if !self
            .dfa
            .next_eoi_state(&mut cache, start)
            .is_ok_and(|end| !end.is_match())
        {
            return false;
        }
        (0..=255u8).filter(|&b| !is_word(b)).all(|b| {
            let haystack = [b'a', b];
            self.dfa
                .start_state_forward(&mut cache, &after_word(&haystack))
                .ok()
                .and_then(|start| self.dfa.next_state(&mut cache, start, b).ok())
                .is_some_and(|next| next.is_dead())
        })
    }

    /// Step through `input` (anchored or not, as it says), calling `found(part, start, end)`
    /// for each part that matches (`start` is where the input starts: where the match starts
    /// if the run is anchored); false if the lazy DFA gave up (it is built never to).
    ///
    /// Walked by hand: the lazy DFA reports the parts that end at each offset one byte late
    /// (after it has seen the byte that settles `\b`), and once more after the end of the
    /// input. Walking it directly costs a table lookup per byte and nothing per match beyond
    /// recording it; an anchored walk stops as soon as no part can still match.
    fn walk(
        &self,
        cache: &mut Cache,
        input: &Input,
        found: &mut impl FnMut(u32, usize, usize),
    ) -> bool {
        let dfa = &self.dfa;
        let start = input.start();
        let mut record = |cache: &Cache, sid: LazyStateID, at: usize| {
            for i in 0..dfa.match_len(cache, sid) {
                let part = self.part_of[dfa.match_pattern(cache, sid, i).as_usize()];
                found(part, start, at);
            }
        };
        let Ok(mut sid) = dfa.start_state_forward(cache, input) else {
            return false;
        };
        let span = input.get_span();
        for (at, &byte) in (span.start..).zip(&input.haystack()[span.start..span.end]) {
            match dfa.next_state(cache, sid, byte) {
                Ok(next) => sid = next,
                Err(_) => return false,
            }
            if sid.is_tagged() {
                if sid.is_match() {
                    record(cache, sid, at);
                } else if sid.is_dead() {
                    return true;
                } else if sid.is_quit() {
                    return false;
                }
            }
        }
        match dfa.next_eoi_state(cache, sid) {
            Ok(end) => {
                if end.is_match() {
                    record(cache, end, input.end());
                }
                true
            }
            Err(_) => false,
        }
    }
}

/// Where a part that starts with `\b` or `^` can start, from offset `from` on: the start of
/// the text and every word boundary (ASCII word characters, as `\b` sees them with Unicode
/// off), or only the word starts if `starts_only`.
///
/// One pass that carries whether the byte before was a word byte: it runs once per message
/// over every byte, and testing both neighbours of every offset cost a tenth of a message.
fn word_boundaries(
    text: &[u8],
    from: usize,
    starts_only: bool,
) -> impl Iterator<Item = usize> + '_ {
    let mut before = from
        .checked_sub(1)
        .and_then(|i| text.get(i))
        .is_some_and(|&b| is_word(b));
    let mut offsets = from..=text.len();
    std::iter::from_fn(move || {
        offsets.find(|&at| {
            let here = text.get(at).is_some_and(|&b| is_word(b));
            let boundary = at == 0 || (here && !before) || (!starts_only && before && !here);
            before = here;
            boundary
        })
    })
}

/// An ASCII word character, as `\b` and `\w` see it with Unicode off: `[0-9A-Za-z_]`.
fn is_word(b: u8) -> bool {
    WORD_BYTES[b as usize]
}

/// [`is_word`] for every byte, looked up rather than computed: it is asked of every byte of
/// every message.
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_';
        b += 1;
    }
    table
};

/// True when every match of `hir` starts at a word boundary or the start of the text, so an
/// anchored search at those places alone finds all of its matches.
fn starts_at_boundary(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(look) => matches!(
            look,
            Look::Start | Look::WordAscii | Look::WordStartAscii | Look::WordEndAscii
        ),
        HirKind::Capture(c) => starts_at_boundary(&c.sub),
        HirKind::Concat(items) => items.first().is_some_and(starts_at_boundary),
        HirKind::Alternation(branches) => branches.iter().all(starts_at_boundary),
        HirKind::Repetition(rep) => rep.min >= 1 && starts_at_boundary(&rep.sub),
        _ => false,
    }
}

/// True when `hir` can run on across any number of words (an unbounded repetition of
/// something that matches a non-word byte, inside a part). An anchored run of such a part
/// from every word boundary could read the rest of the message each time, so it goes in the
/// unanchored automaton, which reads the message once.
fn stretches_across_words(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Repetition(rep) => {
            (rep.max.is_none() && !only_word_bytes(&rep.sub)) || stretches_across_words(&rep.sub)
        }
        HirKind::Capture(c) => stretches_across_words(&c.sub),
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            items.iter().any(stretches_across_words)
        }
        _ => false,
    }
}

/// True when `hir` only ever matches word bytes (`[0-9A-Za-z_]`), as `\w+` does.
fn only_word_bytes(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => lit.0.iter().all(|&b| is_word(b)),
        HirKind::Class(Class::Bytes(class)) => class
            .ranges()
            .iter()
            .all(|r| (r.start()..=r.end()).all(is_word)),
        HirKind::Class(Class::Unicode(_)) => false,
        HirKind::Repetition(rep) => only_word_bytes(&rep.sub),
        HirKind::Capture(c) => only_word_bytes(&c.sub),
        HirKind::Concat(items) | HirKind::Alternation(items) => items.iter().all(only_word_bytes),
    }
}

/// Where the matches of one part were seen in a scan. Kept together because each match
/// updates all three: one place to look up per match, not three.
#[derive(Debug, Clone, Copy, Default)]
struct Occurrences {
    /// Where its earliest match ends.
    first_end: usize,
    /// Where its last match ends.
    last_end: usize,
    /// Where its last match starts (known only for the parts run anchored, which is where
    /// their runs began).
    last_start: usize,
}

/// What one scan needs besides the automata: their caches of states, which parts were seen,
/// where each first ended, and which patterns to check.
#[derive(Debug)]
struct Scratch {
    anchored_cache: Option<Cache>,
    loose_cache: Option<Cache>,
    chain_cache: Option<Cache>,
    seen: Vec<u64>,
    /// Per part seen in this scan, where it was seen.
    occurrences: Vec<Occurrences>,
    /// The patterns to check further, one bit each, in table order: a bit set costs less than
    /// a list to sort and deduplicate (a message makes a few dozen candidates, many twice).
    candidates: Vec<u64>,
}

impl Parts {
    fn new(automata: Arc<Automata>) -> Self {
        let for_pool = Arc::clone(&automata);
        let create: ScratchFn = Box::new(move || {
            let parts = for_pool.lengths.len();
            Scratch {
                anchored_cache: for_pool.anchored.as_ref().map(|p| p.dfa.create_cache()),
                loose_cache: for_pool.loose.as_ref().map(|p| p.dfa.create_cache()),
                chain_cache: for_pool.chain.as_ref().map(DFA::create_cache),
                seen: vec![0; parts.div_ceil(64)],
                occurrences: vec![Occurrences::default(); parts],
                candidates: Vec::new(),
            }
        });
        Parts {
            automata,
            pool: Pool::new(create),
        }
    }

    fn len(&self) -> usize {
        self.automata.lengths.len()
    }
}

impl Clone for Parts {
    fn clone(&self) -> Self {
        Parts::new(Arc::clone(&self.automata))
    }
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts").field("len", &self.len()).finish()
    }
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

impl Scan {
    /// No intent scored, no entity found, for a table of this many of each.
    fn nothing(intents: usize, entities: usize) -> Self {
        Scan {
            scores: vec![0; intents],
            entities: vec![false; entities],
            negated: vec![false; intents],
        }
    }

    fn add(&mut self, owner: Owner, found: Found) {
        match (owner, found) {
            (_, Found::No) => {}
            (Owner::Intent { intent, .. }, Found::Negated) => self.negated[intent] = true,
            (Owner::Intent { intent, weight }, Found::Yes) => self.scores[intent] += weight,
            (Owner::Entity(e), _) => self.entities[e] = true,
        }
    }
}

/// Whether a pattern counts in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// It matched (and, for a negatable intent, at least once without a negation).
    Yes,
    /// It matched, but every match had a negation before it.
    Negated,
    /// It did not match.
    No,
}

impl Found {
    /// Every match of a negatable pattern, judged together.
    fn of_negatable(
        mut starts: impl Iterator<Item = usize>,
        negated: impl Fn(usize) -> bool,
    ) -> Found {
        let mut any = false;
        let counted = starts.any(|at| {
            any = true;
            !negated(at)
        });
        match (counted, any) {
            (true, _) => Found::Yes,
            (false, true) => Found::Negated,
            (false, false) => Found::No,
        }
    }

    fn from(matched: bool) -> Found {
        if matched {
            Found::Yes
        } else {
            Found::No
        }
    }
}

/// Checks that the parts of a chainable alternative occur one after another.
struct InOrder<'a> {
    automata: &'a Automata,
    cache: Option<&'a mut Cache>,
    anchored_cache: Option<&'a mut Cache>,
    text: &'a str,
}

impl InOrder<'_> {
    /// True when `parts` occur in order without overlapping: the first part's earliest end
    /// (from the main scan), then the earliest end of the next part among its matches that
    /// start there or later, and so on. Taking the earliest end at each step loses nothing,
    /// so this is exactly "the parts joined by `.*` match". `None` if an automaton could not
    /// answer (they are built never to give up): then the whole regex decides.
    ///
    /// A step needs no search when the main scan already settles it: if the last match of
    /// the part ends too early for any match to start at the point, it fails; if its first
    /// match is too long ago to have started before the point (its end minus its longest
    /// span is past the point), that first match is the earliest one starting there. For a
    /// part run anchored, where its last match starts is known: if before the point, it
    /// fails; if at or after it and the part is the last one, the chain holds. Otherwise a
    /// part run anchored is settled by anchored runs from the point on, and only one that is
    /// not needs a search with the chain automaton.
    fn check(&mut self, parts: &[u32], occurrences: &[Occurrences]) -> Option<bool> {
        let Some((&first, rest)) = parts.split_first() else {
            return Some(true);
        };
        let mut at = occurrences[first as usize].first_end;
        for (k, &part) in rest.iter().enumerate() {
            let p = part as usize;
            let (shortest, longest) = self.automata.lengths[p];
            let Occurrences {
                first_end,
                last_end,
                last_start,
            } = occurrences[p];
            if last_end < at + shortest {
                return Some(false);
            }
            if self.automata.is_anchored[p] {
                if last_start < at {
                    return Some(false);
                }
                if k + 1 == rest.len() {
                    return Some(true);
                }
            }
            if longest.is_some_and(|longest| first_end >= at + longest) {
                at = first_end;
                continue;
            }
            if self.automata.is_anchored[p] {
                match self.earliest_end_from(part, at)? {
                    Some(end) => at = end,
                    None => return Some(false),
                }
                continue;
            }
            let (Some(chain), Some(cache)) = (&self.automata.chain, self.cache.as_deref_mut())
            else {
                return None;
            };
            let pid = PatternID::new(self.automata.chain_of[part as usize] as usize).ok()?;
            let input = Input::new(self.text)
                .range(at..)
                .anchored(Anchored::Pattern(pid))
                .earliest(true);
            match chain.try_search_fwd(cache, &input).ok()? {
                Some(end) => at = end.offset(),
                None => return Some(false),
            }
        }
        Some(true)
    }

    /// The earliest end of a match of the anchored `part` that starts at `at` or later: the
    /// anchored runs again, from each place a part can start from `at` on, until no later
    /// start can end sooner. `None` if the automaton gave up (it is built never to).
    fn earliest_end_from(&mut self, part: u32, at: usize) -> Option<Option<usize>> {
        let (shortest, _) = self.automata.lengths[part as usize];
        let (Some(anchored), Some(cache)) =
            (&self.automata.anchored, self.anchored_cache.as_deref_mut())
        else {
            return None;
        };
        let text = self.text.as_bytes();
        let mut earliest: Option<usize> = None;
        for start in word_boundaries(text, at, self.automata.skip_word_ends) {
            if earliest.is_some_and(|end| start + shortest >= end) {
                break;
            }
            let input = Input::new(text).range(start..).anchored(Anchored::Yes);
            let mut found = |p: u32, _: usize, end: usize| {
                if p == part {
                    earliest = Some(earliest.map_or(end, |e| e.min(end)));
                }
            };
            if !anchored.walk(cache, &input, &mut found) {
                return None;
            }
        }
        Some(earliest)
    }
}

/// One pattern of the table, as written and with its groups written out, with its owner.
struct TablePattern<'c> {
    written: &'c str,
    expanded: Text,
    owner: Owner,
    negatable: bool,
}

/// Every pattern of the table, in table order: intent patterns then hints per intent, then
/// entity patterns.
fn table_patterns<'c>(
    content: &'c Content,
    groups: &HashMap<&str, &str>,
) -> Result<Vec<TablePattern<'c>>, Vec<Problem>> {
    let mut patterns: Vec<(&Text, &str)> = Vec::new();
    let mut owners = Vec::new();
    for (i, intent) in content.intents.iter().enumerate() {
        for (list, weight) in [
            (&intent.patterns, PATTERN_WEIGHT),
            (&intent.hints, HINT_WEIGHT),
        ] {
            for p in list {
                patterns.push((p, &intent.id.value));
                owners.push((Owner::Intent { intent: i, weight }, intent.negatable));
            }
        }
    }
    for (e, entity) in content.entities.iter().enumerate() {
        for p in &entity.patterns {
            patterns.push((p, &entity.id.value));
            owners.push((Owner::Entity(e), false));
        }
    }
    let expanded = expand_all(&patterns, groups)?;
    Ok(expanded
        .into_iter()
        .zip(patterns)
        .zip(owners)
        .map(
            |((expanded, (written, _)), (owner, negatable))| TablePattern {
                written: &written.value,
                expanded,
                owner,
                negatable,
            },
        )
        .collect())
}

impl Matcher {
    /// Compile every pattern of `content`. A pattern that does not compile, or a table too big
    /// for [`SIZE_LIMIT`], is reported with the file and line of the pattern.
    pub fn build(content: &Content) -> Result<Self, Vec<Problem>> {
        let groups = content.lexicon.group_map();
        let table = table_patterns(content, &groups)?;
        let owner_name = |owner: Owner| match owner {
            Owner::Intent { intent, .. } => content.intents[intent].id.value.as_str(),
            Owner::Entity(e) => content.entities[e].id.value.as_str(),
        };
        let mut problems = Vec::new();
        let mut parts = DistinctParts::default();
        let mut patterns = Vec::with_capacity(table.len());
        let mut parser = GroupParser::new(&groups, syntax_config());
        for TablePattern {
            written,
            expanded: text,
            owner,
            negatable,
        } in &table
        {
            let hir = match parser.parse(written, &text.value) {
                Ok(hir) => hir,
                Err(e) => {
                    problems.push(syntax_problem(text, owner_name(*owner), *e));
                    continue;
                }
            };
            let alternatives = split_parts(hir)
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
                owner: *owner,
                alternatives,
                negatable: *negatable,
                source: text.value.as_str().into(),
                full: OnceLock::new(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let parts = parts.list;
        let located = |why: &str| {
            let texts: Vec<Text> = table.iter().map(|t| t.expanded.clone()).collect();
            let owners: Vec<&str> = table.iter().map(|t| owner_name(t.owner)).collect();
            locate_errors(&texts, &owners, why)
        };
        let (at_boundary, loose): (Vec<u32>, Vec<u32>) = (0..parts.len() as u32).partition(|&i| {
            let part = &parts[i as usize];
            starts_at_boundary(part) && !stretches_across_words(part)
        });
        let mut is_anchored = vec![false; parts.len()];
        for &i in &at_boundary {
            is_anchored[i as usize] = true;
        }
        let anchored = PartsDfa::build(&parts, at_boundary).map_err(|e| located(&e))?;
        let loose = PartsDfa::build(&parts, loose).map_err(|e| located(&e))?;
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
            intents: content.intents.len(),
            entities: content.entities.len(),
        })
    }

    /// Score every intent and find every entity in `text` (folded and rewritten).
    pub fn scan(&self, text: &str, lexicon: &Lexicon) -> Scan {
        let mut scan = Scan::nothing(self.intents, self.entities);
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
            for pattern in &self.patterns {
                scan.add(pattern.owner, self.full_match(pattern, text, lexicon));
            }
            return scan;
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
            let found = if pattern.negatable && (matched || needs_full) {
                // Where each match starts matters (to look for a negation before it).
                self.full_match(pattern, text, lexicon)
            } else if !matched && needs_full {
                self.full_match(pattern, text, lexicon)
            } else {
                Found::from(matched)
            };
            scan.add(pattern.owner, found);
        }
        scan
    }

    /// Whether the whole pattern, as its own regex, counts in `text`: it matches, and, for a
    /// negatable intent, at least one of its matches is not negated.
    fn full_match(&self, pattern: &Pattern, text: &str, lexicon: &Lexicon) -> Found {
        let Some(full) = pattern.full() else {
            // Cannot happen (see Pattern::full); count it rather than lose a match.
            return Found::Yes;
        };
        if pattern.negatable {
            Found::of_negatable(full.find_iter(text.as_bytes()).map(|m| m.start()), |at| {
                lexicon.is_negated(text, at)
            })
        } else {
            Found::from(full.is_match(text.as_bytes()))
        }
    }

    /// How many patterns the table holds (intent patterns, hints and entity patterns).
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// True for a table with no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// The slow reference: every pattern compiled as its own regex (with the `regex` crate, as an
/// operator reading `responses/` would expect) and tried in turn.
///
/// Not used to answer anyone. It exists to prove [`Matcher`] right (tests compare the two on
/// the table's examples and on random text) and to measure what the one-pass design saves
/// (`benches/matching.rs`).
#[derive(Debug, Clone)]
pub struct NaiveMatcher {
    patterns: Vec<(Regex, Owner, bool)>,
    intents: usize,
    entities: usize,
}

impl NaiveMatcher {
    /// Compile each pattern of `content` on its own.
    pub fn build(content: &Content) -> Result<Self, Vec<Problem>> {
        let table = table_patterns(content, &content.lexicon.group_map())?;
        let mut problems = Vec::new();
        let mut patterns = Vec::with_capacity(table.len());
        for TablePattern {
            expanded: text,
            owner,
            negatable,
            ..
        } in table
        {
            match compile_one(&text.value) {
                Ok(re) => patterns.push((re, owner, negatable)),
                Err(e) => problems.push(Problem::new(
                    &text.at,
                    None,
                    format!("pattern does not compile: {e}"),
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(NaiveMatcher {
            patterns,
            intents: content.intents.len(),
            entities: content.entities.len(),
        })
    }

    /// The same result as [`Matcher::scan`], one pattern at a time.
    pub fn scan(&self, text: &str, lexicon: &Lexicon) -> Scan {
        let mut scan = Scan::nothing(self.intents, self.entities);
        for (re, owner, negatable) in &self.patterns {
            let found = if *negatable {
                Found::of_negatable(re.find_iter(text.as_bytes()).map(|m| m.start()), |at| {
                    lexicon.is_negated(text, at)
                })
            } else {
                Found::from(re.is_match(text.as_bytes()))
            };
            scan.add(*owner, found);
        }
        scan
    }

    /// How many patterns it tries for each message.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// True for a table with no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Sets of small numbers (parts, patterns) as bits in `u64` words: clearing one per message
/// costs a few words, not a list to sort and deduplicate.
mod bits {
    /// Add `i`; true if it was not there yet.
    pub(super) fn set(words: &mut [u64], i: usize) -> bool {
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let new = words[word] & bit == 0;
        words[word] |= bit;
        new
    }

    /// True if `i` is there.
    pub(super) fn has(words: &[u64], i: usize) -> bool {
        words[i / 64] & (1u64 << (i % 64)) != 0
    }

    /// Every number there, smallest first.
    pub(super) fn ones(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
        words.iter().enumerate().flat_map(|(word, &bits)| {
            std::iter::successors((bits != 0).then_some(bits), |&b| {
                let rest = b & (b - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |b| word * 64 + b.trailing_zeros() as usize)
        })
    }
}

/// The distinct parts of a table, each once: patterns share many (`\bnow\b`), and the
/// automata are smaller for it.
#[derive(Default)]
struct DistinctParts {
    list: Vec<Hir>,
    /// Parts by a hash of their shape; the same part is told apart from a mere hash collision
    /// by comparing them whole.
    by_shape: FxHashMap<u64, Vec<u32>>,
}

impl DistinctParts {
    /// The index of `part`, added if it is new.
    fn intern(&mut self, part: Hir) -> u32 {
        let mut hasher = FxHasher::default();
        hash_shape(&part, &mut hasher);
        let same_shape = self.by_shape.entry(hasher.finish()).or_default();
        if let Some(&id) = same_shape
            .iter()
            .find(|&&id| same_shape_as(&self.list[id as usize], &part))
        {
            return id;
        }
        let id = self.list.len() as u32;
        same_shape.push(id);
        self.list.push(part);
        id
    }
}

/// True when `a` and `b` match the same, as far as the parts automata see them: alike but for
/// captures, which they do not keep (`(a)` and `a` are the same part).
fn same_shape_as(a: &Hir, b: &Hir) -> bool {
    match (a.kind(), b.kind()) {
        (HirKind::Capture(c), _) => same_shape_as(&c.sub, b),
        (_, HirKind::Capture(c)) => same_shape_as(a, &c.sub),
        (HirKind::Repetition(x), HirKind::Repetition(y)) => {
            (x.min, x.max, x.greedy) == (y.min, y.max, y.greedy) && same_shape_as(&x.sub, &y.sub)
        }
        (HirKind::Concat(x), HirKind::Concat(y))
        | (HirKind::Alternation(x), HirKind::Alternation(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_shape_as(a, b))
        }
        (x, y) => x == y,
    }
}

/// Feed what `hir` matches to `state`: parts that are [`same_shape_as`] each other hash alike
/// (`Hir` has no `Hash` of its own).
fn hash_shape(hir: &Hir, state: &mut impl Hasher) {
    match hir.kind() {
        HirKind::Empty => state.write_u8(0),
        HirKind::Literal(lit) => {
            state.write_u8(1);
            state.write(&lit.0);
        }
        HirKind::Class(Class::Bytes(class)) => {
            state.write_u8(2);
            for r in class.ranges() {
                state.write_u8(r.start());
                state.write_u8(r.end());
            }
        }
        HirKind::Class(Class::Unicode(class)) => {
            state.write_u8(3);
            for r in class.ranges() {
                state.write_u32(r.start().into());
                state.write_u32(r.end().into());
            }
        }
        HirKind::Look(look) => {
            state.write_u8(4);
            state.write_u32(look.as_repr());
        }
        HirKind::Repetition(rep) => {
            state.write_u8(5);
            state.write_u32(rep.min);
            state.write_u32(rep.max.unwrap_or(u32::MAX));
            state.write_u8(rep.greedy.into());
            hash_shape(&rep.sub, state);
        }
        HirKind::Capture(c) => hash_shape(&c.sub, state),
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            state.write_u8(if matches!(hir.kind(), HirKind::Concat(_)) {
                7
            } else {
                8
            });
            state.write_usize(items.len());
            items.iter().for_each(|item| hash_shape(item, state));
        }
    }
}

/// One alternative of a pattern as cut: its parts, and what the gaps between them allow.
struct Cut {
    parts: Vec<Hir>,
    chainable: bool,
    crosses_newline: bool,
}

/// Most alternatives one pattern is spread into when alternations that hold gaps are
/// multiplied out; past it, the rest of the pattern is kept whole (still right, only slower).
const MAX_ALTERNATIVES: usize = 64;

/// Cut a pattern into alternatives, each as the parts left when unbounded gaps (`.*` and the
/// like) are taken out.
///
/// Alternations that hold a gap are multiplied out first, wherever they are: the parser
/// turns `\ba.*b|\bc.*d` into `\b(?:a.*b|c.*d)` (it factors out the common `\b`), and
/// `x(a.*b|c)y` is `xa.*by|xcy`. Otherwise the gap would stay inside a part, and such a
/// part can run on to the end of the message.
fn split_parts(hir: Hir) -> Vec<Cut> {
    if !holds_gap(&hir) {
        // Nothing to cut (most patterns): the pattern is its one part, moved, not copied.
        return vec![Cut {
            parts: vec![hir],
            chainable: true,
            crosses_newline: true,
        }];
    }
    if let HirKind::Concat(items) = hir.kind() {
        if !items
            .iter()
            .any(|item| gap_kind(item).is_none() && holds_gap(item))
        {
            // Gaps only at the top (most patterns with one): cut it as it is, moving the
            // items rather than copying them.
            let HirKind::Concat(items) = hir.into_kind() else {
                unreachable!("matched as a concatenation just above")
            };
            return vec![cut_sequence(items)];
        }
    }
    let mut budget = MAX_ALTERNATIVES;
    sequences(&hir, &mut budget)
        .iter()
        .map(|items| cut_sequence(items.iter().map(|&item| item.clone())))
        .collect()
}

/// The alternatives of `hir` as sequences of items, with alternations that hold a gap
/// multiplied out while `budget` allows.
fn sequences<'h>(hir: &'h Hir, budget: &mut usize) -> Vec<Vec<&'h Hir>> {
    if !holds_gap(hir) {
        return vec![vec![hir]];
    }
    match hir.kind() {
        HirKind::Capture(c) => sequences(&c.sub, budget),
        HirKind::Alternation(branches) => {
            branches.iter().flat_map(|b| sequences(b, budget)).collect()
        }
        HirKind::Concat(items) => {
            let mut all: Vec<Vec<&Hir>> = vec![Vec::new()];
            for item in items {
                let options = sequences(item, budget);
                if options.len() > 1 && all.len() * options.len() > *budget {
                    // Too many to multiply out: keep this item whole.
                    all.iter_mut().for_each(|seq| seq.push(item));
                    continue;
                }
                all = all
                    .iter()
                    .flat_map(|seq| {
                        options.iter().map(move |option| {
                            let mut seq = seq.clone();
                            seq.extend(option);
                            seq
                        })
                    })
                    .collect();
            }
            *budget = budget.saturating_sub(all.len() - 1);
            all
        }
        _ => vec![vec![hir]],
    }
}

/// True when `hir` holds an unbounded gap outside any repetition, where cutting can reach it.
fn holds_gap(hir: &Hir) -> bool {
    gap_kind(hir).is_some()
        || match hir.kind() {
            HirKind::Capture(c) => holds_gap(&c.sub),
            HirKind::Concat(items) | HirKind::Alternation(items) => items.iter().any(holds_gap),
            _ => false,
        }
}

/// Cut one sequence of items at its gaps.
fn cut_sequence(items: impl IntoIterator<Item = Hir>) -> Cut {
    let mut cut = Cut {
        parts: Vec::new(),
        chainable: true,
        crosses_newline: true,
    };
    let mut run: Vec<Hir> = Vec::new();
    for item in items {
        match gap_kind(&item) {
            None => run.push(item),
            Some(gap) => {
                cut.chainable &= gap != Gap::Other;
                cut.crosses_newline &= gap == Gap::Anything;
                if !run.is_empty() {
                    cut.parts.push(Hir::concat(std::mem::take(&mut run)));
                }
            }
        }
    }
    if !run.is_empty() {
        cut.parts.push(Hir::concat(run));
    }
    cut
}

/// What an unbounded gap between parts allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// Any bytes at all, none included: `(?s).*`.
    Anything,
    /// Any bytes but a line break, none included: `.*`.
    AnythingButNewline,
    /// Something narrower (`[^x]*`, `.+`): only the whole pattern's regex can check it.
    Other,
}

/// An unbounded repetition of a class that matches a space is a gap: it can stretch across
/// words, so it is what keeps a pattern half-matched to the end of a message.
fn gap_kind(hir: &Hir) -> Option<Gap> {
    let HirKind::Repetition(rep) = hir.kind() else {
        return None;
    };
    if rep.max.is_some() {
        return None;
    }
    let HirKind::Class(Class::Bytes(class)) = rep.sub.kind() else {
        return None;
    };
    let has = |b: u8| {
        class
            .ranges()
            .iter()
            .any(|r| r.start() <= b && b <= r.end())
    };
    if !has(b' ') {
        return None;
    }
    let all_but_newline = (0..=255u8).all(|b| b == b'\n' || has(b));
    Some(match (rep.min, all_but_newline, has(b'\n')) {
        (0, true, true) => Gap::Anything,
        (0, true, false) => Gap::AnythingButNewline,
        _ => Gap::Other,
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

fn syntax_problem(text: &Text, owner: &str, e: regex_syntax::Error) -> Problem {
    Problem::new(
        &text.at,
        Some(owner),
        format!("pattern does not compile: {e}"),
    )
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
fn expand_all(
    patterns: &[(&Text, &str)],
    groups: &HashMap<&str, &str>,
) -> Result<Vec<Text>, Vec<Problem>> {
    let mut problems = Vec::new();
    let expanded = patterns
        .iter()
        .map(|(p, owner)| match expand(&p.value, groups) {
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

/// The automaton failed to build (it is too big): find which patterns are at fault, so the
/// operator gets lines.
fn locate_errors(expanded: &[Text], owners: &[&str], set_error: &str) -> Vec<Problem> {
    let mut problems: Vec<Problem> = expanded
        .iter()
        .zip(owners)
        .filter_map(|(p, owner)| {
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
                crate::problem::one_line(set_error)
            ),
        ));
    }
    problems
}
