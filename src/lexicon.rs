//! Word-level rules that let the table understand people as they really type.
//!
//! After [`crate::normalize::fold`], each word goes through two steps before matching:
//! 1. textspeak and spelling variants become their standard form ("u" is "you", "pix" is
//!    "pictures"), from the `[textspeak]` table in `lexicon.toml`;
//! 2. a word the table does not know is corrected to the closest word it does know, when that
//!    word is one or two edits away ("reprot" is "report"). Known words (every word in the
//!    examples, plus `known_words`) are never changed, so a correct word is never "corrected".
//!    When a typo is within reach of a danger word (any word of the danger intent's examples),
//!    the danger word wins, even over a closer harmless one: danger is never corrected away.
//!
//! It also answers whether a match is negated ("I'm not in danger").
//!
//! Cost: one hash lookup per word for the common case. An unknown word costs one lookup per
//! deletion variant (SymSpell: about n for words under `typo_two_edits_len`, n²/2 above),
//! then an edit-distance check per candidate; no scan of the vocabulary.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::content::LexiconDef;

/// Compiled word rules; built once per content load, then read-only.
#[derive(Debug, Clone)]
pub struct Lexicon {
    textspeak: FxHashMap<String, String>,
    known: FxHashSet<String>,
    targets: Vec<Target>,
    deletes: FxHashMap<String, Vec<u32>>,
    negations: FxHashSet<String>,
    negation_window: usize,
    min_len: usize,
    two_edits_len: usize,
}

#[derive(Debug, Clone)]
struct Target {
    word: String,
    danger: bool,
}

impl Lexicon {
    /// Build the rules from `lexicon.toml`, the words of every example (`vocabulary`), and the
    /// words of the danger intent's examples (`danger_words`).
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
        let mut lexicon = Lexicon {
            textspeak,
            known: FxHashSet::default(),
            targets: Vec::new(),
            deletes: FxHashMap::default(),
            negations: def.negations.iter().cloned().collect(),
            negation_window: def.negation_window,
            min_len: def.typo_min_len.max(3),
            two_edits_len: def.typo_two_edits_len.max(def.typo_min_len),
        };
        let danger: FxHashSet<&str> = danger_words.into_iter().collect();
        lexicon.known.extend(def.known_words.iter().cloned());
        let mut words: Vec<&str> = vocabulary
            .into_iter()
            .chain(def.domain_words.iter().map(String::as_str))
            .chain(danger.iter().copied())
            .collect();
        words.sort_unstable();
        words.dedup();
        for word in words {
            lexicon.known.insert(word.to_owned());
            if word.len() >= lexicon.min_len && word.bytes().all(|b| b.is_ascii_lowercase()) {
                lexicon.add_target(word, danger.contains(word));
            }
        }
        lexicon
    }

    fn add_target(&mut self, word: &str, danger: bool) {
        let id = self.targets.len() as u32;
        self.targets.push(Target {
            word: word.to_owned(),
            danger,
        });
        self.deletes.entry(word.to_owned()).or_default().push(id);
        for variant in deletions(word, 2) {
            self.deletes.entry(variant).or_default().push(id);
        }
    }

    /// Rewrite folded text word by word: textspeak first, then typo correction. Returns the
    /// input unchanged (no allocation) when no word needed either.
    pub fn rewrite<'t>(&self, folded: &'t str) -> Cow<'t, str> {
        let mut out: Option<String> = None;
        for (i, word) in folded.split(' ').enumerate() {
            let replacement = self.replace_word(word);
            if let (None, Some(_)) = (&out, &replacement) {
                let mut s = String::with_capacity(folded.len() + 16);
                s.push_str(&folded.split(' ').take(i).collect::<Vec<_>>().join(" "));
                out = Some(s);
            }
            if let Some(s) = out.as_mut() {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(replacement.as_deref().unwrap_or(word));
            }
        }
        match out {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(folded),
        }
    }

    /// The standard form of one word, or `None` to keep it as typed.
    fn replace_word(&self, word: &str) -> Option<String> {
        if let Some(standard) = self.textspeak.get(word) {
            return Some(standard.clone());
        }
        if word.len() < self.min_len
            || self.known.contains(word)
            || !word.bytes().all(|b| b.is_ascii_lowercase())
        {
            return None;
        }
        self.correct(word).map(str::to_owned)
    }

    /// The known word a typo most likely meant: a danger word within reach first, then the
    /// fewest edits, then the longest shared beginning; `None` when nothing is close enough.
    pub fn correct(&self, word: &str) -> Option<&str> {
        let max = if word.len() >= self.two_edits_len {
            2
        } else {
            1
        };
        let mut best: Option<(bool, usize, usize, u32)> = None;
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        for variant in std::iter::once(word.to_owned()).chain(deletions(word, max)) {
            let Some(ids) = self.deletes.get(&variant) else {
                continue;
            };
            for &id in ids {
                if !seen.insert(id) {
                    continue;
                }
                let target = &self.targets[id as usize];
                let distance = strsim::damerau_levenshtein(word, &target.word);
                if distance > max {
                    continue;
                }
                let prefix = common_prefix(word, &target.word);
                let rank = (target.danger, usize::MAX - distance, prefix, u32::MAX - id);
                if best.is_none_or(|b| rank > b) {
                    best = Some(rank);
                }
            }
        }
        best.map(|(_, _, _, inv_id)| self.targets[(u32::MAX - inv_id) as usize].word.as_str())
    }

    /// True when one of the `negation_window` words before byte `start` of `text` is a
    /// negation ("not", "never"...), so the match at `start` is said not to be the case.
    pub fn is_negated(&self, text: &str, start: usize) -> bool {
        text[..start]
            .split(' ')
            .rev()
            .filter(|w| !w.is_empty())
            .take(self.negation_window)
            .any(|w| self.negations.contains(w))
    }
}

/// Every string made by deleting up to `max` characters from `word` (not `word` itself).
fn deletions(word: &str, max: usize) -> Vec<String> {
    let mut seen: FxHashSet<String> = FxHashSet::default();
    let mut frontier = vec![word.to_owned()];
    for _ in 0..max {
        let mut next = Vec::new();
        for w in &frontier {
            for i in 0..w.len() {
                if w.len() <= 1 {
                    break;
                }
                let mut v = String::with_capacity(w.len() - 1);
                v.push_str(&w[..i]);
                v.push_str(&w[i + 1..]);
                if seen.insert(v.clone()) {
                    next.push(v);
                }
            }
        }
        frontier = next;
    }
    seen.into_iter().collect()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Text;
    use crate::problem::Loc;

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
            negations: vec!["not".into(), "never".into()],
            negation_window: 3,
            known_words: known.iter().map(|s| s.to_string()).collect(),
            domain_words: vec![],
            typo_min_len: 4,
            typo_two_edits_len: 8,
            confident_score: 2,
            groups: vec![],
        };
        Lexicon::new(&def, vocab.iter().copied(), danger.iter().copied())
    }

    #[test]
    fn textspeak_becomes_standard_words() {
        let l = lexicon(&[], &[], &[]);
        assert_eq!(l.rewrite("can u send pix"), "can you send pictures");
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
    fn a_typo_near_a_danger_word_becomes_the_danger_word() {
        // "hurtng" is one edit from "hunting" would not matter: the danger word wins.
        let l = lexicon(&[], &["hunting", "hurting"], &["hurting"]);
        assert_eq!(l.correct("hurtng"), Some("hurting"));
        let l = lexicon(&[], &["kiss"], &["kill"]);
        assert_eq!(l.correct("kils"), Some("kill"));
    }

    #[test]
    fn negation_looks_a_few_words_back() {
        let l = lexicon(&[], &[], &[]);
        let text = "im not in danger";
        assert!(l.is_negated(text, text.find("danger").unwrap()));
        let text = "not sure but he is in danger";
        assert!(!l.is_negated(text, text.find("danger").unwrap()));
    }
}
