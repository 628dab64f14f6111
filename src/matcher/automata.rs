//! The parts automata and how they are walked: one lazy DFA over the parts that start at a
//! word boundary (run anchored from each word start), one over the rest (run once,
//! unanchored), and a pool of per-thread search state.

use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use super::{compile_nfa, DFA_CACHE_LIMIT};

pub(super) type ScratchFn = Box<dyn Fn() -> Scratch + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// The automata over the parts and a pool of per-thread search state, so that scanning
/// needs no lock and no allocation once warm.
pub(super) struct Parts {
    pub(super) automata: Arc<Automata>,
    pub(super) pool: Pool<Scratch, ScratchFn>,
}

/// The lazy DFAs of a table.
#[derive(Debug)]
pub(super) struct Automata {
    /// The parts that can only start at a word boundary (`\b`, `^`): nearly all of them.
    /// Searched anchored at each word boundary of the message, in overlapping mode so that
    /// every part that starts there is reported, with where it ends.
    pub(super) anchored: Option<PartsDfa>,
    /// No anchored part can start at the end of a word (nearly always so: they start with
    /// `\b` and a letter), so the runs start at word starts only: half as many.
    pub(super) skip_word_ends: bool,
    /// The other parts, searched once over the whole message, unanchored and overlapping.
    pub(super) loose: Option<PartsDfa>,
    /// For the parts that follow a gap in a chainable alternative and are not run anchored
    /// (so where their matches start is not known), `(?s:.)*?` then the part, one pattern
    /// each, searched anchored at a point and for one pattern only: the earliest end of that
    /// part among its matches that start there or later. `None` when no alternative needs it
    /// (the shipped table: every such part is run anchored, and the anchored runs from a
    /// point on find all of its matches, see [`InOrder::earliest_end_from`]).
    pub(super) chain: Option<DFA>,
    /// Part index to its pattern in `chain`, or `u32::MAX`.
    pub(super) chain_of: Vec<u32>,
    /// Per part, the fewest and (when bounded) the most bytes a match of it spans: often
    /// enough to settle a step of [`InOrder`] from the main scan alone, without a search.
    pub(super) lengths: Vec<(usize, Option<usize>)>,
    /// Per part, whether it is run anchored (so where its matches start is known, and the
    /// earliest end of its matches from a point on is found by running again from there:
    /// such a part needs no chain automaton).
    pub(super) is_anchored: Vec<bool>,
}

/// One multi-pattern lazy DFA over some of the parts, and which part each of its patterns is.
#[derive(Debug)]
pub(super) struct PartsDfa {
    pub(super) dfa: DFA,
    pub(super) part_of: Vec<u32>,
}

impl PartsDfa {
    /// One overlapping automaton over the parts `ids` (indexes into `parts`); `None` for none.
    pub(super) fn build(parts: &[Hir], ids: Vec<u32>) -> Result<Option<Self>, String> {
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
    pub(super) fn dies_at_word_ends(&self) -> bool {
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
    pub(super) fn walk(
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
pub(super) fn word_boundaries(
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
pub(super) fn is_word(b: u8) -> bool {
    WORD_BYTES[b as usize]
}

/// [`is_word`] for every byte, looked up rather than computed: it is asked of every byte of
/// every message.
pub(super) static WORD_BYTES: [bool; 256] = {
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
pub(super) fn starts_at_boundary(hir: &Hir) -> bool {
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
pub(super) fn stretches_across_words(hir: &Hir) -> bool {
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
pub(super) fn only_word_bytes(hir: &Hir) -> bool {
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
pub(super) struct Occurrences {
    /// Where its earliest match ends.
    pub(super) first_end: usize,
    /// Where its last match ends.
    pub(super) last_end: usize,
    /// Where its last match starts (known only for the parts run anchored, which is where
    /// their runs began).
    pub(super) last_start: usize,
}

/// What one scan needs besides the automata: their caches of states, which parts were seen,
/// where each first ended, and which patterns to check.
#[derive(Debug)]
pub(super) struct Scratch {
    pub(super) anchored_cache: Option<Cache>,
    pub(super) loose_cache: Option<Cache>,
    pub(super) chain_cache: Option<Cache>,
    pub(super) seen: Vec<u64>,
    /// Per part seen in this scan, where it was seen.
    pub(super) occurrences: Vec<Occurrences>,
    /// The patterns to check further, one bit each, in table order: a bit set costs less than
    /// a list to sort and deduplicate (a message makes a few dozen candidates, many twice).
    pub(super) candidates: Vec<u64>,
}

impl Parts {
    pub(super) fn new(automata: Arc<Automata>) -> Self {
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

    pub(super) fn len(&self) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::parsed as parse;

    #[test]
    fn word_boundaries_are_the_starts_and_ends_of_words() {
        let text = b"hi, my mum";
        let all: Vec<usize> = word_boundaries(text, 0, false).collect();
        assert_eq!(all, vec![0, 2, 4, 6, 7, 10]);
        let starts: Vec<usize> = word_boundaries(text, 0, true).collect();
        assert_eq!(starts, vec![0, 4, 7]);
        let from_middle: Vec<usize> = word_boundaries(text, 5, true).collect();
        assert_eq!(from_middle, vec![7], "inside a word is not a start");
    }

    #[test]
    fn only_parts_that_start_at_a_boundary_and_stay_within_words_run_anchored() {
        assert!(starts_at_boundary(&parse(r"\bhelp\b")));
        assert!(starts_at_boundary(&parse(r"^start")));
        assert!(!starts_at_boundary(&parse(r"[^a]bc")));
        assert!(!stretches_across_words(&parse(
            r"\bhurting (\w+ ){0,5}now\b"
        )));
        assert!(stretches_across_words(&parse(r"\ba[^.]*b")));
    }

    #[test]
    fn an_anchored_walk_reports_each_part_that_starts_there_with_its_end() {
        let parts = vec![parse(r"\bhelp\b"), parse(r"\bhelp me\b"), parse(r"\bnow\b")];
        let dfa = PartsDfa::build(&parts, vec![0, 1, 2])
            .expect("builds")
            .expect("some parts");
        let mut cache = dfa.dfa.create_cache();
        let text = "help me now";
        let mut found = Vec::new();
        let input = Input::new(text).anchored(Anchored::Yes);
        assert!(dfa.walk(&mut cache, &input, &mut |part, start, end| found
            .push((part, start, end))));
        assert_eq!(
            found,
            vec![(0, 0, 4), (1, 0, 7)],
            "\\bnow\\b does not start at 0"
        );
    }
}
