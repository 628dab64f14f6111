//! Word-level rules that let the table understand people as they really type.
//!
//! After [`crate::normalize::fold`], each word goes through two steps before matching:
//! 1. textspeak and spelling variants become their standard form ("u" is "you", "pix" is
//!    "pictures"), from the `[textspeak]` table in `lexicon.toml`;
//! 2. a word the table does not know is corrected to the closest word it does know, when that
//!    word is one or two edits away ("reprot" is "report"). Known words (every word in the
//!    examples that are real words, `words.txt` and `known_words`) are never changed, so a
//!    correct word is never "corrected", and a danger word is never corrected into anything.
//!    Between candidates equally close, a danger word (any word of the danger intent's
//!    examples) wins: a typo that may mean danger is read as danger.
//!
//! It also answers whether a match is negated ("I'm not in danger").
//!
//! Cost: one hash lookup per word for the common case. An unknown word costs one lookup per
//! deletion variant (SymSpell: about n for words under `typo_two_edits_len`, n²/2 above),
//! then an edit-distance check per candidate; no scan of the vocabulary. The variant index is
//! built on the first unknown word (a few ms), so start-up does not pay for it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use crate::content::{Content, LexiconDef, Text};
use crate::instance::Instance;

/// Compiled word rules; built once per content load, then read-only.
#[derive(Debug, Clone)]
pub struct Lexicon {
    textspeak: FxHashMap<String, String>,
    /// Textspeak words left as typed after these words (Welsh "yn y ty", "in the house").
    kept_after: FxHashMap<String, FxHashSet<String>>,
    known: WordSet,
    targets: Vec<Target>,
    /// Deletion variants of the targets (SymSpell), built on the first unknown word: most
    /// messages never need it, and start-up stays fast.
    deletes: OnceLock<DeleteIndex>,
    negations: FxHashSet<String>,
    negation_window: usize,
    conditions: FxHashSet<String>,
    min_len: usize,
    two_edits_len: usize,
    /// Length of the longest word a typo can be corrected to. A longer word is more edits
    /// away from every target than its length difference, so it is never looked at: without
    /// this bound a single 100,000-letter "word" would cost n² deletion variants of n bytes.
    longest_target: usize,
    /// Which lexicon this is, for the memo of corrections ([`TYPOS`]).
    instance: Instance,
}

thread_local! {
    /// The corrections this thread has found, so that a misspelling people often make costs
    /// one lookup after the first time rather than dozens of lookups and edit distances (a
    /// tenth of `classify`'s time on corpus messages: BENCHMARKS.md).
    static TYPOS: RefCell<Typos> = RefCell::new(Typos::default());
}

/// Misspelt words to the known word each was corrected to, for one lexicon. A word nothing is
/// close to (a name, mostly) is never remembered, so what people type is not kept beyond its
/// message; the map is keyed with a random seed, so nobody can craft words that collide.
#[derive(Default)]
struct Typos {
    lexicon: u64,
    answers: std::collections::HashMap<Box<str>, u32>,
}

impl Typos {
    /// Words remembered before the memo empties and begins again: well under a megabyte.
    const CAPACITY: usize = 4096;
    /// Longer words are worked out afresh: nobody misspells them the same way twice.
    const LONGEST: usize = 30;

    /// The correction of `word` by the lexicon `lexicon`, from the memo or `work_out`.
    fn answer(
        &mut self,
        lexicon: u64,
        word: &str,
        work_out: impl FnOnce() -> Option<u32>,
    ) -> Option<u32> {
        if self.lexicon != lexicon {
            self.lexicon = lexicon;
            self.answers.clear();
        }
        if let Some(&answer) = self.answers.get(word) {
            return Some(answer);
        }
        let answer = work_out();
        if let Some(target) = answer.filter(|_| word.len() <= Self::LONGEST) {
            if self.answers.len() >= Self::CAPACITY {
                self.answers.clear();
            }
            self.answers.insert(word.into(), target);
        }
        answer
    }
}

#[derive(Debug, Clone)]
struct Target {
    word: String,
    danger: bool,
}

impl Lexicon {
    /// Build the rules from `lexicon.toml` and `words.txt` (`def`), the words of every example
    /// (`vocabulary`), and the words of the danger intent's examples (`danger_words`). Example
    /// words become correction targets only when they are real words (in `words.txt` or
    /// `known_words`) or `domain_words`, so a typo written into an example is still corrected.
    pub fn new<'a>(
        def: &'a LexiconDef,
        vocabulary: impl IntoIterator<Item = &'a str>,
        danger_words: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let textspeak = def
            .textspeak
            .iter()
            .map(|(from, to)| (from.value.clone(), crate::normalize::fold(to)))
            .collect();
        let kept_after = def
            .textspeak_kept_after
            .iter()
            .map(|(word, after)| (word.value.clone(), values(after)))
            .collect();
        let mut known = WordSet::from_lines(&def.dictionary);
        for w in &def.known_words {
            known.insert(w);
        }
        let domain: FxHashSet<&str> = def.domain_words.iter().map(String::as_str).collect();
        let danger: FxHashSet<&str> = danger_words.into_iter().collect();
        let mut words: Vec<&str> = vocabulary
            .into_iter()
            .chain(domain.iter().copied())
            .chain(danger.iter().copied())
            .filter(|w| known.contains(w) || domain.contains(w))
            .collect();
        words.sort_unstable();
        words.dedup();
        let mut lexicon = Lexicon {
            textspeak,
            kept_after,
            known,
            targets: Vec::new(),
            deletes: OnceLock::new(),
            negations: values(&def.negations),
            negation_window: def.negation_window,
            conditions: values(&def.conditions),
            min_len: def.typo_min_len.max(3),
            two_edits_len: def.typo_two_edits_len.max(def.typo_min_len),
            longest_target: 0,
            instance: Instance::new(),
        };
        for word in words {
            lexicon.known.insert(word);
            if word.len() >= lexicon.min_len && word.bytes().all(|b| b.is_ascii_lowercase()) {
                lexicon.longest_target = lexicon.longest_target.max(word.len());
                lexicon.targets.push(Target {
                    word: word.to_owned(),
                    danger: danger.contains(word),
                });
            }
        }
        lexicon.known.shrink();
        lexicon
    }

    /// The rules of a whole content version: `lexicon.toml`, every word of every example as
    /// the vocabulary, and the words of the danger intents' examples as danger words.
    pub fn from_content(content: &Content) -> Self {
        let words = |danger_only: bool| -> Vec<String> {
            content
                .intents
                .iter()
                .filter(|i| i.danger || !danger_only)
                .flat_map(|i| i.examples.iter())
                .flat_map(|e| {
                    crate::normalize::fold(&e.value)
                        .split(' ')
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let vocabulary = words(false);
        let danger = words(true);
        Lexicon::new(
            &content.lexicon,
            vocabulary.iter().map(String::as_str),
            danger.iter().map(String::as_str),
        )
    }

    /// Every target and its deletion variants up to two edits, keyed by variant.
    fn deletes(&self) -> &DeleteIndex {
        self.deletes.get_or_init(|| {
            let mut pairs: Vec<u64> = Vec::new();
            let mut buf = Vec::new();
            for (id, target) in self.targets.iter().enumerate() {
                let id = id as u32;
                pairs.push(variant_pair(&target.word, id));
                for_each_deletion(&target.word, 2, &mut buf, |variant| {
                    pairs.push(variant_pair(variant, id));
                });
            }
            DeleteIndex::new(pairs)
        })
    }

    /// Rewrite folded text word by word: textspeak first, then typo correction. Returns the
    /// input unchanged (no allocation) when no word needed either.
    pub fn rewrite<'t>(&self, folded: &'t str) -> Cow<'t, str> {
        let mut out: Option<String> = None;
        let mut start: usize = 0;
        let mut previous = "";
        for word in words(folded) {
            let replacement = self.replace_word(word, previous);
            previous = word;
            if out.is_none() && replacement.is_some() {
                // Everything before this word, as it was.
                let mut s = String::with_capacity(folded.len() + 16);
                s.push_str(&folded[..start.saturating_sub(1)]);
                out = Some(s);
            }
            if let Some(s) = out.as_mut() {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(replacement.unwrap_or(word));
            }
            start += word.len() + 1;
        }
        match out {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(folded),
        }
    }

    /// The standard form of one word, or `None` to keep it as typed. `previous` is the word
    /// before it as typed, which can keep a textspeak word as it is ("yn y ty").
    fn replace_word(&self, word: &str, previous: &str) -> Option<&str> {
        if let Some(standard) = self.textspeak.get(word) {
            let kept = self
                .kept_after
                .get(word)
                .is_some_and(|after| after.contains(previous));
            return (!kept).then_some(standard.as_str());
        }
        if word.len() < self.min_len
            || self.known.contains(word)
            || !word.bytes().all(|b| b.is_ascii_lowercase())
        {
            return None;
        }
        self.correct(word)
    }

    /// The known word a typo most likely meant: the fewest edits, then a danger word, then the
    /// longest shared beginning; `None` when nothing is close enough
    /// (and for words that are not plain ASCII, which no known word is near in this sense).
    ///
    /// Cost: one hash lookup per deletion variant of `word` (about n, or n²/2 for words of
    /// `typo_two_edits_len` letters or more), reusing one buffer; an edit distance per
    /// candidate found.
    ///
    /// A correction found is remembered per thread ([`TYPOS`]), so the same misspelling costs
    /// one lookup the next time.
    pub(crate) fn correct(&self, word: &str) -> Option<&str> {
        let id = TYPOS.with(|memo| {
            let mut memo = memo.borrow_mut();
            memo.answer(self.instance.id(), word, || self.correction(word))
        });
        id.map(|id| self.targets[id as usize].word.as_str())
    }

    /// [`Lexicon::correct`] worked out afresh, as the target's index.
    fn correction(&self, word: &str) -> Option<u32> {
        if !word.is_ascii() {
            return None;
        }
        let max = if word.len() >= self.two_edits_len {
            2
        } else {
            1
        };
        if word.len() > self.longest_target + max {
            return None;
        }
        let mut best: Option<(usize, bool, usize, u32)> = None;
        let mut seen: Vec<u32> = Vec::new();
        let deletes = self.deletes();
        let mut consider = |variant: &str| {
            for id in deletes.get(variant) {
                if seen.contains(&id) {
                    continue;
                }
                seen.push(id);
                let target = &self.targets[id as usize];
                let distance = strsim::damerau_levenshtein(word, &target.word);
                if distance > max {
                    continue;
                }
                let prefix = common_prefix(word, &target.word);
                let rank = (usize::MAX - distance, target.danger, prefix, u32::MAX - id);
                if best.is_none_or(|b| rank > b) {
                    best = Some(rank);
                }
            }
        };
        consider(word);
        for_each_deletion(word, max, &mut Vec::with_capacity(word.len()), consider);
        best.map(|(_, _, _, inv_id)| u32::MAX - inv_id)
    }

    /// Whether `word` is a negation ("not", "nobody"...): the model marks the words after one.
    pub(crate) fn is_negation(&self, word: &str) -> bool {
        self.negations.contains(word)
    }

    /// How many words after a negation it reaches.
    pub(crate) fn negation_window(&self) -> usize {
        self.negation_window
    }

    /// True when one of the `negation_window` words before byte `start` of `text` is a
    /// negation ("not", "never"...), so the match at `start` is said not to be the case.
    ///
    /// `start` is a byte offset and need not fall on a character boundary (a pattern with a
    /// byte class can match inside a letter of unfolded text); a word cut in two is simply
    /// not a negation.
    ///
    /// A negation in a condition is not one: "if i dont send more by midnight he posts them"
    /// and "if he doesnt stop" are threats, so a negation up to three words after one of the
    /// lexicon's `conditions` ("if i dont", "if i do not") does not count.
    pub fn is_negated(&self, text: &str, start: usize) -> bool {
        let before = &text.as_bytes()[..start.min(text.len())];
        let mut words = before.split(|&b| b == b' ').rev().filter(|w| !w.is_empty());
        for _ in 0..self.negation_window {
            let Some(word) = words.next() else {
                return false;
            };
            let negation = in_set(&self.negations, word);
            let conditional = || words.clone().take(3).any(|w| in_set(&self.conditions, w));
            if negation && !conditional() {
                return true;
            }
        }
        false
    }
}

/// A set of words kept in one string, each word followed by a line break: loading the 60,000
/// words of `words.txt` is one copy and one pass, not 60,000 allocations, and the table holds
/// only where each word starts (the break after it says where it ends): half the memory of
/// start and length, for a set the bot keeps all its life.
#[derive(Clone, Default)]
struct WordSet {
    text: String,
    starts: HashTable<u32>,
}

impl std::fmt::Debug for WordSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordSet({} words)", self.starts.len())
    }
}

impl WordSet {
    /// The words of a word list: one a line, `#` starts a comment, folded like messages.
    fn from_lines(list: &str) -> Self {
        let mut set = WordSet {
            text: String::with_capacity(list.len()),
            starts: HashTable::with_capacity(list.len() / 8),
        };
        // Bytes, not chars: the list is long (62,000 lines ship) and nearly all plain ASCII,
        // and this runs at every start.
        let mut rest = list;
        while !rest.is_empty() {
            let end = rest.bytes().position(|b| b == b'\n').unwrap_or(rest.len());
            // `\n` is one byte, so both cuts fall between characters.
            let line = rest[..end].trim_ascii();
            rest = rest.get(end + 1..).unwrap_or_default();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                set.insert(line);
            } else {
                for word in crate::normalize::fold(line).split(' ') {
                    set.insert(word);
                }
            }
        }
        set
    }

    fn hash(word: &str) -> u64 {
        FxBuildHasher.hash_one(word)
    }

    /// True when the word stored at `start` of `text` is `word`.
    fn is_at(text: &str, start: u32, word: &str) -> bool {
        let rest = &text.as_bytes()[start as usize..];
        rest.starts_with(word.as_bytes()) && rest.get(word.len()) == Some(&b'\n')
    }

    /// The word stored at `start` of `text`.
    fn word_at(text: &str, start: u32) -> &str {
        let rest = &text[start as usize..];
        rest.split_once('\n').map_or(rest, |(word, _)| word)
    }

    fn contains(&self, word: &str) -> bool {
        self.starts
            .find(Self::hash(word), |&start| {
                Self::is_at(&self.text, start, word)
            })
            .is_some()
    }

    /// Give back the room reserved for more words: the set is complete, and kept for life.
    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        let text = &self.text;
        self.starts
            .shrink_to_fit(|&start| Self::hash(Self::word_at(text, start)));
    }

    fn insert(&mut self, word: &str) {
        // A line break ends a stored word, so a word holding one could not be found again;
        // folded words never do.
        if word.is_empty() || word.contains('\n') {
            return;
        }
        let text = &mut self.text;
        let entry = self.starts.entry(
            Self::hash(word),
            |&start| Self::is_at(text, start, word),
            |&start| Self::hash(Self::word_at(text, start)),
        );
        if let hashbrown::hash_table::Entry::Vacant(vacant) = entry {
            vacant.insert(text.len() as u32);
            text.push_str(word);
            text.push('\n');
        }
    }
}

/// The words of a word list from `lexicon.toml`, as a set.
fn values(list: &[Text]) -> FxHashSet<String> {
    list.iter().map(|t| t.value.clone()).collect()
}

/// Whether the bytes of one word of a message are a word of `set`.
fn in_set(set: &FxHashSet<String>, word: &[u8]) -> bool {
    std::str::from_utf8(word).is_ok_and(|w| set.contains(w))
}

/// The pieces of `text` between single spaces, as `text.split(' ')` gives them; a plain loop
/// over the bytes, which is much cheaper than the general pattern search for the short words
/// of a message.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == b' ') {
            Some(space) => {
                rest = Some(&current[space + 1..]);
                Some(&current[..space])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The symmetric-delete index of the typo targets: every (variant, target) pair as one
/// sorted `u64`, a 32-bit hash of the deletion variant above the target's id. One flat array
/// (8 bytes a pair, searched by bisection) rather than a hash map of variants: about a third
/// of the memory, which a long-running bot keeps all its life. A hash collision only adds a
/// candidate, which the edit distance then turns away, so answers are exact.
#[derive(Debug, Clone)]
struct DeleteIndex {
    pairs: Box<[u64]>,
}

impl DeleteIndex {
    fn new(mut pairs: Vec<u64>) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        DeleteIndex {
            pairs: pairs.into_boxed_slice(),
        }
    }

    /// The targets that may yield `variant` (a superset, on a hash collision).
    fn get(&self, variant: &str) -> impl Iterator<Item = u32> + '_ {
        let key = variant_key(variant);
        let from = self.pairs.partition_point(|&pair| pair >> 32 < key);
        self.pairs[from..]
            .iter()
            .take_while(move |&&pair| pair >> 32 == key)
            .map(|&pair| pair as u32)
    }
}

/// The 32-bit hash of a deletion variant (the high half of Fx's, which is the better mixed).
fn variant_key(variant: &str) -> u64 {
    FxBuildHasher.hash_one(variant) >> 32
}

/// One entry of [`DeleteIndex`]: target `id` yields `variant`.
fn variant_pair(variant: &str, id: u32) -> u64 {
    variant_key(variant) << 32 | u64::from(id)
}

/// Call `f` with every string made by deleting one, or (for `max` 2) two, bytes of the ASCII
/// `word`. A variant can come more than once (deleting either "l" of "kill"); callers
/// tolerate that. `buf` is reused so that no variant allocates.
fn for_each_deletion(word: &str, max: usize, buf: &mut Vec<u8>, mut f: impl FnMut(&str)) {
    debug_assert!(word.is_ascii());
    let bytes = word.as_bytes();
    let n = bytes.len();
    if n <= 1 || !word.is_ascii() {
        return;
    }
    let emit = |buf: &[u8], f: &mut dyn FnMut(&str)| {
        if let Ok(s) = std::str::from_utf8(buf) {
            f(s);
        }
    };
    for i in 0..n {
        buf.clear();
        buf.extend_from_slice(&bytes[..i]);
        buf.extend_from_slice(&bytes[i + 1..]);
        emit(buf, &mut f);
        if max >= 2 && n > 2 {
            for j in i + 1..n {
                buf.clear();
                buf.extend_from_slice(&bytes[..i]);
                buf.extend_from_slice(&bytes[i + 1..j]);
                buf.extend_from_slice(&bytes[j + 1..]);
                emit(buf, &mut f);
            }
        }
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Text;
    use crate::problem::Loc;

    fn texts(words: &[&str]) -> Vec<Text> {
        let at = Loc::file(&std::sync::Arc::from("test"));
        words
            .iter()
            .map(|w| Text {
                value: (*w).into(),
                at: at.clone(),
            })
            .collect()
    }

    fn lexicon(known: &[&str], vocab: &[&str], danger: &[&str]) -> Lexicon {
        let at = Loc::file(&std::sync::Arc::from("test"));
        let def = LexiconDef {
            textspeak: vec![
                (
                    Text {
                        value: "u".into(),
                        at: at.clone(),
                    },
                    "you".into(),
                ),
                (
                    Text {
                        value: "pix".into(),
                        at,
                    },
                    "pictures".into(),
                ),
            ],
            textspeak_kept_after: vec![
                (
                    Text {
                        value: "u".into(),
                        at: Loc::file(&std::sync::Arc::from("test")),
                    },
                    texts(&["tu"]),
                ),
                (
                    Text {
                        value: "pix".into(),
                        at: Loc::file(&std::sync::Arc::from("test")),
                    },
                    texts(&["u"]),
                ),
            ],
            negations: texts(&["not", "never"]),
            negation_window: 3,
            conditions: texts(&["if", "unless"]),
            known_words: known
                .iter()
                .chain(vocab)
                .chain(danger)
                .map(|s| s.to_string())
                .collect(),
            dictionary: String::new(),
            domain_words: vec![],
            typo_min_len: 4,
            typo_two_edits_len: 8,
            confident_score: 2,
            groups: vec![],
            told_as_over: vec![],
            still_now: vec![],
        };
        Lexicon::new(&def, vocab.iter().copied(), danger.iter().copied())
    }

    #[test]
    fn words_are_the_pieces_between_spaces() {
        for text in ["", " ", "a", "a b", " a  b ", "can u send pix", "é ü"] {
            assert_eq!(
                words(text).collect::<Vec<_>>(),
                text.split(' ').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn textspeak_becomes_standard_words() {
        let l = lexicon(&[], &[], &[]);
        assert_eq!(l.rewrite("can u send pix"), "can you send pictures");
    }

    #[test]
    fn textspeak_is_kept_as_typed_after_its_listed_words() {
        let l = lexicon(&[], &[], &[]);
        assert_eq!(l.rewrite("tu u can u"), "tu u can you");
        // The first word has no word before it, so it is always rewritten.
        assert_eq!(l.rewrite("u tu u"), "you tu u");
        // The word before is read as typed, even when it was rewritten itself.
        assert_eq!(l.rewrite("u pix"), "you pix");
        assert_eq!(l.rewrite("pix u"), "pictures you");
    }

    #[test]
    fn typos_are_corrected_to_known_words() {
        let l = lexicon(&[], &["report", "sexting", "illegal"], &[]);
        assert_eq!(l.rewrite("wher do i reprot"), "wher do i report");
        assert_eq!(l.rewrite("is sextin ilegal"), "is sexting illegal");
    }

    #[test]
    fn known_words_are_never_changed() {
        let l = lexicon(&["rude"], &["nude"], &[]);
        assert_eq!(l.rewrite("he is rude"), "he is rude");
        assert!(matches!(l.rewrite("he is rude"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_typo_as_near_a_danger_word_as_a_harmless_one_becomes_the_danger_word() {
        let l = lexicon(&[], &["hunting", "hurting"], &["hurting"]);
        assert_eq!(l.correct("hurtng"), Some("hurting"));
        let l = lexicon(&[], &["kiss"], &["kill"]);
        assert_eq!(l.correct("kils"), Some("kill"));
    }

    #[test]
    fn a_very_long_word_is_left_alone_at_once() {
        let l = lexicon(&[], &["report", "sexting"], &[]);
        let word = "r".repeat(100_000);
        let started = std::time::Instant::now();
        assert_eq!(l.rewrite(&word), word.as_str());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(l.correct("reportxxx"), None, "three edits away");
        assert_eq!(l.correct("reportxx"), Some("report"), "two edits away");
    }

    #[test]
    fn a_remembered_correction_belongs_to_its_own_lexicon() {
        let (first, second) = (
            lexicon(&[], &["report"], &[]),
            lexicon(&[], &["repeat"], &[]),
        );
        // Each twice in turn on one thread: the second time from the memo.
        for _ in 0..2 {
            assert_eq!(first.correct("repord"), Some("report"));
            assert_eq!(second.correct("repord"), None);
            assert_eq!(second.correct("repeet"), Some("repeat"));
        }
    }

    #[test]
    fn correcting_a_non_ascii_word_finds_nothing_and_does_not_panic() {
        let l = lexicon(&[], &["report"], &[]);
        assert_eq!(l.correct("repört"), None);
        assert_eq!(l.correct("ééééé"), None);
    }

    #[test]
    fn negation_before_a_match_inside_a_letter_does_not_panic() {
        let l = lexicon(&[], &[], &[]);
        let text = "not abcéabc";
        assert!(l.is_negated(text, 8));
        assert!(!l.is_negated("abcéabc", 4));
    }

    #[test]
    fn negation_looks_a_few_words_back() {
        let l = lexicon(&[], &[], &[]);
        let text = "im not in danger";
        assert!(l.is_negated(text, text.find("danger").unwrap()));
        let text = "not sure but he is in danger";
        assert!(!l.is_negated(text, text.find("danger").unwrap()));
    }

    #[test]
    fn a_negation_in_a_condition_is_a_threat_not_a_negation() {
        let l = lexicon(&[], &[], &[]);
        let text = "if i do not send more by midnight";
        assert!(!l.is_negated(text, text.find("send").unwrap()));
        let text = "i do not send more";
        assert!(l.is_negated(text, text.find("send").unwrap()));
    }
}
