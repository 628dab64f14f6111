//! The features the learned model reads from a message: words, word pairs and pieces of words.
//!
//! The model sees the text the patterns see (folded, textspeak expanded, typos corrected), so
//! "u r" and "you are" are one feature. Each feature is a 64-bit hash, never a stored string:
//! - every word, and every pair of neighbouring words, with the start and end of the message
//!   as words of their own (so "help" alone differs from "help" inside a question);
//! - the pieces of 3 to 5 letters of every word, with its edges marked (`<hurt>` gives `<hu`,
//!   `hur`... `rt>`), as fastText does: an unseen spelling still shares most pieces with a
//!   known one ("touchin", "touched", "touching");
//! - every word within a few words after a negation ("nobody is in danger"), marked as
//!   negated, beside its plain feature, and the word pairs it is in are made of the negated
//!   word: a bag of words cannot otherwise tell "in danger" from "not in danger" (measured:
//!   "i'm not in danger" went from a 0.74 danger probability to 0.16, cross-validated
//!   accuracy unchanged);
//! - the shape of every word with a digit in it, each run of digits made one `0` ("15",
//!   "9pm", "£200" give `0`, `0pm`, `0`), standing for that word in the word pairs: "in 15
//!   minutes" and "in 20 minutes" (or "by 9pm" and "by 10pm") then teach the model one thing
//!   rather than one thing per number (sextortion with a countdown was answered without 999
//!   first: EVALUATION.md); after a negation the negated word stands in the pairs instead;
//! - how long the message is, in five bands (a two-word cry for help reads differently from
//!   the same words in a long story).
//!
//! Cost: linear in the message, one hash per feature, no allocation.

/// Changes whenever the features below change, so that `check` refuses a model trained on
/// the old ones (it is part of the training data's fingerprint).
pub(crate) const VERSION: &str =
    "features 3: words, pairs (negated after a negation; digit shapes), pieces 3-5, length";

/// Shortest and longest piece of a word, in bytes, counting the edge marks.
const PIECES: std::ops::RangeInclusive<usize> = 3..=5;

/// Kinds of feature, hashed in first so that a word and a piece with the same letters differ.
const WORD: u8 = b'w';
const PAIR: u8 = b'p';
const PIECE: u8 = b'c';
const LENGTH: u8 = b'l';
const NEGATED: u8 = b'n';
const SHAPE: u8 = b's';

/// The hash standing for the start and for the end of a message in word pairs.
const START: u64 = 0x5354_4152_5421_2121;
const END: u64 = 0x454e_4421_2121_2121;

fn fnv(kind: u8, bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h = crate::fnv::Fnv1a::new();
    h.mix(u64::from(kind));
    h.bytes(bytes);
    let mut hash = h.finish();
    // FNV's low bits mix poorly; a final multiply-xorshift spreads them.
    hash ^= hash >> 29;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^ (hash >> 32)
}

fn pair(a: u64, b: u64) -> u64 {
    fnv(PAIR, a.to_le_bytes().into_iter().chain(b.to_le_bytes()))
}

/// Which words negate the ones after them, and how far.
pub trait Negations {
    /// Whether `word` negates what follows ("not", "nobody").
    fn is_negation(&self, word: &str) -> bool;
    /// How many words after a negation it reaches.
    fn window(&self) -> usize;
}

/// No negations: every word is plain (for tests of the features alone).
#[cfg(test)]
pub(crate) struct NoNegations;

#[cfg(test)]
impl Negations for NoNegations {
    fn is_negation(&self, _: &str) -> bool {
        false
    }
    fn window(&self) -> usize {
        0
    }
}

impl Negations for crate::lexicon::Lexicon {
    fn is_negation(&self, word: &str) -> bool {
        crate::lexicon::Lexicon::is_negation(self, word)
    }
    fn window(&self) -> usize {
        self.negation_window()
    }
}

/// Call `f` with every feature of `heard` (lower-case ASCII words separated by single spaces,
/// as [`crate::brain::Understanding::heard`]); a feature that occurs twice is given twice.
/// The order is fixed, but nothing depends on it: training sorts them and the model adds
/// whole numbers.
pub(crate) fn for_each(heard: &str, negations: &impl Negations, f: impl FnMut(u64)) {
    struct Each<F>(F);
    impl<F: FnMut(u64)> Sink for Each<F> {
        fn word(&mut self, word: &str) -> u64 {
            own(word, &mut self.0)
        }
        fn feature(&mut self, id: u64) {
            (self.0)(id);
        }
    }
    walk(heard, negations, &mut Each(f));
}

/// Where [`walk`] sends a message's features: a word's own features (the same wherever the
/// word stands: see [`own`]) apart from those of its place in the message, so that the model
/// can add a frequent word's own features from a memo instead of hashing and looking up each
/// of its dozen pieces again ([`super::memo`]).
pub(crate) trait Sink {
    /// Take the features [`own`] gives `word`, and return what it returns.
    fn word(&mut self, word: &str) -> u64;
    /// Take one feature of a word's place: a negated word, a word pair, the length band.
    fn feature(&mut self, id: u64);
}

/// Every feature of `heard` ([`for_each`]) into `sink`.
pub(crate) fn walk(heard: &str, negations: &impl Negations, sink: &mut impl Sink) {
    let mut previous = START;
    let mut words = 0usize;
    let mut negated = 0usize;
    for word in heard.split(' ').filter(|w| !w.is_empty()) {
        words += 1;
        let mut id = sink.word(word);
        if negations.is_negation(word) {
            negated = negations.window();
        } else if negated > 0 {
            negated -= 1;
            id = fnv(NEGATED, word.bytes());
            sink.feature(id);
        }
        sink.feature(pair(previous, id));
        previous = id;
    }
    if words > 0 {
        sink.feature(pair(previous, END));
    }
    let band: u8 = match words {
        0 => 0,
        1 => 1,
        2..=3 => 2,
        4..=8 => 3,
        9..=20 => 4,
        _ => 5,
    };
    sink.feature(fnv(LENGTH, [band]));
}

/// The features of `word` alone: the word, its digit shape if it has a digit, its pieces.
/// Returns the feature that stands for the word in word pairs (its shape, if it has one).
pub(crate) fn own(word: &str, f: &mut impl FnMut(u64)) -> u64 {
    let mut id = fnv(WORD, word.bytes());
    f(id);
    if word.bytes().any(|b| b.is_ascii_digit()) {
        id = fnv(SHAPE, shape(word.as_bytes()));
        f(id);
    }
    pieces(word.as_bytes(), f);
    id
}

/// The most features [`own`] gives a word: the word, its shape, and its pieces of 3, 4 and 5
/// bytes when it is 30 bytes long (a longer word gives only its edge pieces).
pub(crate) const MOST_OWN: usize = 2 + 30 + 29 + 28;

/// `word` with each run of digits made one `0`.
fn shape(word: &[u8]) -> impl Iterator<Item = u8> + '_ {
    word.iter()
        .enumerate()
        .filter(|&(i, &b)| !(b.is_ascii_digit() && i > 0 && word[i - 1].is_ascii_digit()))
        .map(|(_, &b)| if b.is_ascii_digit() { b'0' } else { b })
}

/// The pieces of `<word>`. A word longer than 30 bytes gives only its edge pieces: nobody
/// writes such words, and a hostile 100,000-letter one must not cost 300,000 hashes.
fn pieces(word: &[u8], f: &mut impl FnMut(u64)) {
    let len = word.len() + 2;
    let at = |i: usize| -> u8 {
        if i == 0 {
            b'<'
        } else if i == len - 1 {
            b'>'
        } else {
            word[i - 1]
        }
    };
    for n in PIECES {
        if n > len {
            break;
        }
        if len > 32 {
            f(fnv(PIECE, (0..n).map(at)));
            f(fnv(PIECE, (len - n..len).map(at)));
            continue;
        }
        for start in 0..=len - n {
            f(fnv(PIECE, (start..start + n).map(at)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        for_each(text, &NoNegations, |h| out.push(h));
        out
    }

    #[test]
    fn shared_pieces_link_spellings_of_one_word() {
        let a = features("touching");
        let b = features("touchin");
        let shared = a.iter().filter(|h| b.contains(h)).count();
        assert!(shared >= 8, "only {shared} features shared");
    }

    #[test]
    fn a_word_and_a_piece_with_the_same_letters_differ() {
        // "cat" as a word and the piece "cat" inside "<cats>".
        assert_ne!(fnv(WORD, *b"cat"), fnv(PIECE, *b"cat"));
    }

    struct Not;
    impl Negations for Not {
        fn is_negation(&self, word: &str) -> bool {
            word == "not"
        }
        fn window(&self) -> usize {
            2
        }
    }

    #[test]
    fn words_after_a_negation_are_marked() {
        let mut plain = Vec::new();
        for_each("not in danger now", &NoNegations, |h| plain.push(h));
        let mut marked = Vec::new();
        for_each("not in danger now", &Not, |h| marked.push(h));
        // "in" and "danger" are also given negated; "now" is past the window.
        assert_eq!(marked.len(), plain.len() + 2);
        // Every word is still there, but the pairs "not in", "in danger" and "danger now" are
        // made of negated words, so the plain "in danger" pair is not.
        let in_danger = pair(fnv(WORD, *b"in"), fnv(WORD, *b"danger"));
        assert!(plain.contains(&in_danger));
        assert!(!marked.contains(&in_danger));
        let missing = plain.iter().filter(|h| !marked.contains(h)).count();
        assert_eq!(missing, 3);
    }

    #[test]
    fn a_huge_word_costs_few_features() {
        let word = "a".repeat(100_000);
        assert!(features(&word).len() < 20);
    }

    #[test]
    fn numbers_share_a_shape_in_word_pairs() {
        let in_15 = features("in 15 minutes");
        let in_20 = features("in 20 minutes");
        let shared = in_15.iter().filter(|f| in_20.contains(f)).count();
        // "in", "minutes", their pieces, the shape, both pairs with it, the end and the length.
        assert!(shared > features("in minutes").len(), "{shared}");
        assert_eq!(shape(b"10pm").collect::<Vec<_>>(), b"0pm");
        assert_eq!(shape(b"a1b22").collect::<Vec<_>>(), b"a0b0");
    }

    #[test]
    fn empty_text_has_only_its_length() {
        assert_eq!(features("").len(), 1);
    }
}
