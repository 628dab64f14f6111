//! Cutting patterns into parts: each pattern at its unbounded gaps (`.*` and the like), with
//! alternations that hold a gap multiplied out first; and the table's distinct parts, each
//! once, for the automata (see the module above for why).

use std::hash::Hasher;

use regex_syntax::hir::{Class, Hir, HirKind};
use rustc_hash::{FxHashMap, FxHasher};

/// The distinct parts of a table, each once: patterns share many (`\bnow\b`), and the
/// automata are smaller for it.
#[derive(Default)]
pub(super) struct DistinctParts {
    pub(super) list: Vec<Hir>,
    /// Parts by a hash of their shape; the same part is told apart from a mere hash collision
    /// by comparing them whole.
    pub(super) by_shape: FxHashMap<u64, Vec<u32>>,
}

impl DistinctParts {
    /// The index of `part`, added if it is new.
    pub(super) fn intern(&mut self, part: Hir) -> u32 {
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
pub(super) fn same_shape_as(a: &Hir, b: &Hir) -> bool {
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
pub(super) fn hash_shape(hir: &Hir, state: &mut impl Hasher) {
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
pub(super) struct Cut {
    pub(super) parts: Vec<Hir>,
    pub(super) chainable: bool,
    pub(super) crosses_newline: bool,
}

/// Most alternatives one pattern is spread into when alternations that hold gaps are
/// multiplied out; past it, the rest of the pattern is kept whole (still right, only slower).
pub(super) const MAX_ALTERNATIVES: usize = 64;

/// Cut a pattern into alternatives, each as the parts left when unbounded gaps (`.*` and the
/// like) are taken out.
///
/// Alternations that hold a gap are multiplied out first, wherever they are: the parser
/// turns `\ba.*b|\bc.*d` into `\b(?:a.*b|c.*d)` (it factors out the common `\b`), and
/// `x(a.*b|c)y` is `xa.*by|xcy`. Otherwise the gap would stay inside a part, and such a
/// part can run on to the end of the message.
pub(super) fn split_parts(hir: Hir) -> Vec<Cut> {
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
pub(super) fn sequences<'h>(hir: &'h Hir, budget: &mut usize) -> Vec<Vec<&'h Hir>> {
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
pub(super) fn holds_gap(hir: &Hir) -> bool {
    gap_kind(hir).is_some()
        || match hir.kind() {
            HirKind::Capture(c) => holds_gap(&c.sub),
            HirKind::Concat(items) | HirKind::Alternation(items) => items.iter().any(holds_gap),
            _ => false,
        }
}

/// Cut one sequence of items at its gaps.
pub(super) fn cut_sequence(items: impl IntoIterator<Item = Hir>) -> Cut {
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
pub(super) enum Gap {
    /// Any bytes at all, none included: `(?s).*`.
    Anything,
    /// Any bytes but a line break, none included: `.*`.
    AnythingButNewline,
    /// Something narrower (`[^x]*`, `.+`): only the whole pattern's regex can check it.
    Other,
}

/// An unbounded repetition of a class that matches a space is a gap: it can stretch across
/// words, so it is what keeps a pattern half-matched to the end of a message.
pub(super) fn gap_kind(hir: &Hir) -> Option<Gap> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::parsed as parse;

    #[test]
    fn a_pattern_without_gaps_is_one_part() {
        let cuts = split_parts(parse(r"\bsend\w* nudes\b"));
        assert_eq!(cuts.len(), 1);
        assert_eq!(cuts[0].parts.len(), 1);
        assert!(cuts[0].chainable && cuts[0].crosses_newline);
    }

    #[test]
    fn plain_gaps_cut_a_pattern_into_parts_checked_by_order() {
        let cuts = split_parts(parse(r"\bhelp\b.*\bnow\b.*\bplease\b"));
        assert_eq!(cuts.len(), 1);
        assert_eq!(cuts[0].parts.len(), 3);
        assert!(cuts[0].chainable, "plain .* gaps: the order check decides");
        assert!(!cuts[0].crosses_newline, ".* stops at a line break");
    }

    #[test]
    fn a_narrower_gap_is_cut_but_left_to_the_whole_regex() {
        let cuts = split_parts(parse(r"x[^y]*z"));
        assert_eq!(cuts[0].parts.len(), 2);
        assert!(!cuts[0].chainable);
    }

    #[test]
    fn an_alternation_holding_a_gap_is_multiplied_out() {
        let cuts = split_parts(parse(r"x(a.*b|c)y"));
        let sizes: Vec<usize> = cuts.iter().map(|c| c.parts.len()).collect();
        assert_eq!(sizes, vec![2, 1], "xa.*by and xcy");
    }

    #[test]
    fn the_same_part_is_kept_once_whatever_its_captures() {
        let mut parts = DistinctParts::default();
        let a = parts.intern(parse(r"\bnow\b"));
        let b = parts.intern(parse(r"\b(now)\b"));
        let c = parts.intern(parse(r"\bnot\b"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(parts.list.len(), 2);
    }
}
