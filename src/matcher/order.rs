//! The order check: whether the parts of an alternative whose gaps are plain `.*` occur one
//! after another, mostly from where the main scan saw them, without a search.

use regex_automata::hybrid::dfa::Cache;
use regex_automata::{Anchored, Input, PatternID};

use super::automata::{word_boundaries, Automata, Occurrences};

/// Checks that the parts of a chainable alternative occur one after another.
pub(super) struct InOrder<'a> {
    pub(super) automata: &'a Automata,
    pub(super) cache: Option<&'a mut Cache>,
    pub(super) anchored_cache: Option<&'a mut Cache>,
    pub(super) text: &'a str,
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
    pub(super) fn check(&mut self, parts: &[u32], occurrences: &[Occurrences]) -> Option<bool> {
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
    pub(super) fn earliest_end_from(&mut self, part: u32, at: usize) -> Option<Option<usize>> {
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
