//! A memo, per thread, of each word's own features already looked up: the sum of their rows.
//!
//! Why: a word's own features (the word, its digit shape and its 3-to-5-byte pieces, see
//! [`features::own`]) are the same wherever it stands, and they are most of a message's
//! features: a six-letter word has 16. Hashing each and looking it up in the model (a cache
//! miss, mostly) was the model's whole cost and a quarter of `classify`'s (BENCHMARKS.md).
//! People use few words, so after the first few hundred messages nearly every word is found
//! here: one lookup instead of sixteen.
//!
//! The answer is exactly the one without the memo: weights are whole numbers of 8-bit steps
//! ([`super::table`]), summed here as integers, and integer sums do not depend on their order.
//!
//! Privacy: only words the model itself knows as words (it learnt them from the corpus) and
//! that hold no digit are remembered, so a name, a phone number or a postcode someone types is
//! never kept beyond its message. The memo is keyed with a random seed per process, so
//! nobody can craft words that pile into one bucket.

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;

use super::features::{self, Sink};
use super::table::Rows;

/// Words remembered per thread and model before the memo is emptied and begins again: about
/// 1 MB. Only words the model knows are kept, so a flood of made-up words never fills it.
const CAPACITY: usize = 8192;

/// Longer words are looked up afresh each time: nobody writes them twice.
const LONGEST: usize = 30;

thread_local! {
    /// Two memos, for two models: the plain model and the one with an embedding take turns on
    /// the same messages, and one memo would be emptied at every turn.
    static MEMOS: RefCell<[Memo; 2]> = RefCell::new([Memo::default(), Memo::default()]);
}

/// The words seen on this thread and the sums of their own features' rows.
#[derive(Default)]
struct Memo {
    /// Which model the sums were taken from ([`super::Instance`]): another model, after a
    /// content reload, empties the memo.
    model: u64,
    width: usize,
    /// Word to its place in `entries`.
    index: HashMap<Box<str>, u32, RandomState>,
    /// Per word: the feature that stands for it in word pairs, and how many own features it has.
    entries: Vec<(u64, u32)>,
    /// Per word, `width` sums, one per column, in 8-bit steps. `i16` holds them: a word has at
    /// most [`features::MOST_OWN`] own features of at most 128 steps each.
    sums: Vec<i16>,
    /// When this thread last used it, to replace the memo used least recently.
    used: u64,
}

const _: () = assert!(features::MOST_OWN * 128 <= i16::MAX as usize);

/// The running scores of one message: every feature's row added up, in 8-bit steps.
pub(super) struct Tally<'a> {
    rows: &'a Rows,
    /// One sum per column of the model.
    pub(super) sums: &'a mut [i64],
    /// How many features the message has (the model scales by it).
    pub(super) count: u32,
    memo: &'a mut Memo,
}

/// Add `row` to `sums`, column by column.
fn add<T: Copy>(sums: &mut [i64], row: &[T])
where
    i64: From<T>,
{
    for (s, &w) in sums.iter_mut().zip(row) {
        *s += i64::from(w);
    }
}

impl Sink for Tally<'_> {
    fn word(&mut self, word: &str) -> u64 {
        if let Some(&at) = self.memo.index.get(word) {
            let (id, count) = self.memo.entries[at as usize];
            let width = self.memo.width;
            add(self.sums, &self.memo.sums[at as usize * width..][..width]);
            self.count += count;
            return id;
        }
        let mut own = vec![0i16; self.memo.width];
        let mut count = 0u32;
        let mut known = false;
        let rows = self.rows;
        let id = features::own(word, &mut |h| {
            let row = rows.get(h);
            // The first feature is the word itself.
            known |= count == 0 && row.is_some();
            count += 1;
            if let Some(row) = row {
                for (s, &w) in own.iter_mut().zip(row) {
                    *s += i16::from(w);
                }
            }
        });
        add(self.sums, &own);
        self.count += count;
        if known && word.len() <= LONGEST && !word.bytes().any(|b| b.is_ascii_digit()) {
            self.memo.remember(word, id, count, &own);
        }
        id
    }

    fn feature(&mut self, id: u64) {
        self.count += 1;
        if let Some(row) = self.rows.get(id) {
            add(self.sums, row);
        }
    }
}

impl Memo {
    fn remember(&mut self, word: &str, id: u64, count: u32, sums: &[i16]) {
        if self.entries.len() >= CAPACITY {
            self.index.clear();
            self.entries.clear();
            self.sums.clear();
        }
        self.index.insert(word.into(), self.entries.len() as u32);
        self.entries.push((id, count));
        self.sums.extend_from_slice(sums);
    }
}

/// Run `score` with a tally over `rows` (of `width` columns) for the model `model`, its sums
/// in `sums` (zeroed by the caller), using and growing this thread's memo of that model.
pub(super) fn with_tally<R>(
    model: u64,
    rows: &Rows,
    sums: &mut [i64],
    score: impl FnOnce(&mut Tally<'_>) -> R,
) -> R {
    MEMOS.with(|memos| {
        // Should scoring ever call back into a model on this thread, the inner call works with
        // a memo of its own rather than panic on the borrowed one.
        let mut spare = Memo::default();
        let mut borrowed = memos.try_borrow_mut().ok();
        let memo = match borrowed.as_deref_mut() {
            Some(memos) => pick(memos, model, sums.len()),
            None => &mut spare,
        };
        if memo.model != model || memo.width != sums.len() {
            *memo = Memo {
                model,
                width: sums.len(),
                used: memo.used,
                ..Memo::default()
            };
        }
        let mut tally = Tally {
            rows,
            sums,
            count: 0,
            memo,
        };
        score(&mut tally)
    })
}

/// The memo of `model` (of `width` columns) if there is one, else the one used least recently
/// (the caller empties it for `model`); marked as used now.
fn pick(memos: &mut [Memo; 2], model: u64, width: usize) -> &mut Memo {
    let now = memos.iter().map(|m| m.used).max().unwrap_or(0) + 1;
    let at = memos
        .iter()
        .position(|m| m.model == model && m.width == width)
        .unwrap_or_else(|| usize::from(memos[1].used < memos[0].used));
    memos[at].used = now;
    &mut memos[at]
}

#[cfg(test)]
mod tests {
    use super::super::features::{for_each, Negations, NoNegations};
    use super::super::Model;

    /// A model that knows every feature of `texts`, with made-up weights.
    fn model(texts: &[&str], seed: u64) -> Model {
        let mut keys = Vec::new();
        for text in texts {
            for_each(text, &NoNegations, |h| keys.push(h));
        }
        keys.sort_unstable();
        keys.dedup();
        let width = 3;
        let weights = (0..keys.len() * width)
            .map(|i| ((i as u64 * 7919 + seed) % 255) as f32 - 127.0)
            .collect();
        let classes = vec!["a".to_owned(), "b".to_owned()];
        Model::assemble(classes, keys, weights, vec![0.1, -0.2, 0.3], 1, None)
    }

    /// "not" negates the next two words.
    struct Not;
    impl Negations for Not {
        fn is_negation(&self, word: &str) -> bool {
            word == "not"
        }
        fn window(&self) -> usize {
            2
        }
    }

    /// What the model gives `text` with every feature looked up afresh, as before the memo.
    fn afresh(m: &Model, text: &str) -> Vec<f32> {
        let mut sums = [0.0f32; 3];
        let mut count = 0u32;
        for_each(text, &Not, |h| {
            count += 1;
            if let Some(row) = m.rows.get(h) {
                for (s, &w) in sums.iter_mut().zip(row) {
                    *s += f32::from(w);
                }
            }
        });
        let norm = 1.0 / (count.max(1) as f32).sqrt();
        let mut out: Vec<f32> = sums
            .iter()
            .zip(&m.bias)
            .zip(&m.scale)
            .map(|((&sum, b), s)| sum * s * norm + b)
            .collect();
        super::super::softmax(&mut out[..2]);
        out[2] = super::super::sigmoid(out[2]);
        out
    }

    #[test]
    fn remembered_words_give_exactly_what_looking_up_afresh_gives() {
        let long = "a".repeat(40);
        let texts = [
            "help me please he is hurting me",
            "is it illegal to send 2 pics by 9pm",
            "i am not in danger not at all",
            "aaaa aaaaaa banana",
            &long,
        ];
        // Three models on one thread, so that a memo is also given up and taken back.
        let models = [model(&texts, 1), model(&texts, 2), model(&texts[..2], 3)];
        let mut p = Vec::new();
        for round in 0..3 {
            for m in models.iter().skip(round % 2) {
                for text in texts
                    .iter()
                    .chain(&["please help me now", "unknown words here"])
                {
                    m.probabilities(text, &Not, &mut p);
                    assert_eq!(p, afresh(m, text), "{text}");
                }
            }
        }
    }
}
