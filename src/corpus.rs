//! The labelled messages the model learns from: every intent's `examples` in `intents.toml`
//! and `responses/corpus.tsv`.
//!
//! `corpus.tsv` is where an operator teaches the bot: when it misunderstands someone, add the
//! message (or one like it, never a real user's words with names in them) with its right
//! intent, run `safeguard-bot train`, and the model learns it. Each line is
//! `text<TAB>intents<TAB>source`: the acceptable intents best first, separated by `|`
//! (`emergency` first whenever danger is happening now), and where the message came from (who
//! wrote it, or the public page it was taken from), so that anyone can tell written-blind data
//! from real wording. Lines starting with `#` are comments.
//!
//! The corpus is read only by `train`, `check` and `eval`; answering messages needs the
//! trained model, not the corpus, so serving keeps none of it in memory.

use std::sync::Arc;

use crate::content::{Content, Sources, CORPUS};
use crate::model::train::{Sample, Settings};
use crate::problem::{Loc, Problem};

/// The source of the intent table's own examples.
const TABLE: &str = "intents.toml";

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The message as a person wrote it.
    pub text: String,
    /// Acceptable intents, best first.
    pub labels: Vec<String>,
    /// Intents this message must not reach: a counter-example's own intent.
    pub not: Vec<String>,
    /// Whether it is one of the intent table's own examples or counter-examples, which count
    /// more ([`Settings::table_weight`]).
    pub from_table: bool,
    /// Who wrote it or where it was found; `intents.toml` for an intent's examples.
    pub source: String,
    /// Its file and line.
    pub at: Loc,
}

/// Read `corpus.tsv` (`file` is its name as shown to the operator). Every malformed line is a
/// problem naming the line; labels are checked against the intent table by [`check`].
pub fn parse(file: &Arc<str>, text: &str) -> Result<Vec<Labelled>, Vec<Problem>> {
    let mut messages = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let at = Loc {
            file: file.clone(),
            line: i + 1,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let [text, labels, source] = cols.as_slice() else {
            problems.push(Problem::new(&at, None, format!("has {} column(s); write the message, a tab, the intents separated by |, a tab, and where the message came from", cols.len())));
            continue;
        };
        let labels: Vec<String> = labels
            .split('|')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if text.trim().is_empty() || labels.is_empty() || source.trim().is_empty() {
            problems.push(Problem::new(
                &at,
                None,
                "the message, its intents and its source must each be filled in",
            ));
            continue;
        }
        messages.push(Labelled {
            text: (*text).to_owned(),
            labels,
            not: Vec::new(),
            from_table: false,
            source: source.trim().to_owned(),
            at,
        });
    }
    if problems.is_empty() {
        Ok(messages)
    } else {
        Err(problems)
    }
}

/// The folder's corpus, parsed and checked against the intent table: every problem with it,
/// or its messages. `train` and `check` both read it this way.
pub fn read(sources: &Sources, content: &Content) -> Result<Vec<Labelled>, Vec<Problem>> {
    let Some((name, text)) = &sources.corpus else {
        return Err(vec![Problem::new(
            &Loc::file(&format!("responses/{CORPUS}").into()),
            None,
            "there is no corpus.tsv to learn from; copy the repository's responses/corpus.tsv into the folder",
        )]);
    };
    let corpus = parse(name, text)?;
    let problems = check(content, &corpus);
    if problems.is_empty() {
        Ok(corpus)
    } else {
        Err(problems)
    }
}

/// Every labelled message the model learns from: the intents' examples, their
/// counter-examples (with no intent: they teach only which intent they must not reach, and
/// that they are not danger), then the corpus.
pub(crate) fn training_set(content: &Content, corpus: &[Labelled]) -> Vec<Labelled> {
    let examples = content.intents.iter().flat_map(|intent| {
        intent.examples.iter().map(|e| Labelled {
            text: e.value.clone(),
            labels: vec![intent.id.value.clone()],
            not: Vec::new(),
            from_table: true,
            source: TABLE.to_owned(),
            at: e.at.clone(),
        })
    });
    let counter = content.intents.iter().flat_map(|intent| {
        intent.counter_examples.iter().map(|e| Labelled {
            text: e.value.clone(),
            labels: Vec::new(),
            not: vec![intent.id.value.clone()],
            from_table: true,
            source: TABLE.to_owned(),
            at: e.at.clone(),
        })
    });
    examples
        .chain(counter)
        .chain(corpus.iter().cloned())
        .collect()
}

/// Problems with the corpus against the intent table: a label that is no intent, or the same
/// message twice with different labels (the model cannot learn both).
pub fn check(content: &Content, corpus: &[Labelled]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<String, &Labelled> = std::collections::HashMap::new();
    for m in corpus {
        for label in &m.labels {
            if content.intent(label).is_none() {
                problems.push(Problem::new(
                    &m.at,
                    None,
                    format!("unknown intent `{label}`; use an id from intents.toml"),
                ));
            }
        }
        let key = m.text.trim().to_lowercase();
        match seen.get(&key) {
            Some(first) if first.labels != m.labels => problems.push(Problem::new(
                &m.at,
                None,
                format!(
                    "the same message is labelled {} on line {}; keep one",
                    first.labels.join("|"),
                    first.at.line
                ),
            )),
            Some(_) => {}
            None => {
                seen.insert(key, m);
            }
        }
    }
    problems
}

/// A fingerprint of everything training reads: the settings, the intent ids, every labelled
/// message and the word rules that turn a message into what the model sees. A model carries
/// the fingerprint of its data; `check` refuses one whose fingerprint differs from the data's.
pub fn fingerprint(
    sources: &Sources,
    content: &Content,
    training: &[Labelled],
    settings: &Settings,
) -> u64 {
    let mut hash = crate::fnv::Fnv1a::new();
    let mut add = |s: &str| hash.field(s);
    add(&settings.describe());
    add(crate::model::features::VERSION);
    for intent in &content.intents {
        add(&intent.id.value);
        add(if intent.danger { "danger" } else { "" });
    }
    for m in training {
        add(&m.text);
        add(&m.labels.join("|"));
        add(&m.not.join("|"));
        add(if m.from_table { "table" } else { "" });
    }
    add(sources.text("lexicon.toml"));
    add(sources.text("words.txt"));
    hash.finish()
}

/// Turn labelled messages into training samples over `classes`, each message heard as the
/// brain hears it (`hear`); a message is danger when any of its labels is one of `danger`.
/// Labels that are no class are dropped (`check` reports them); a message with no labels at
/// all (a counter-example) teaches only which classes it must not reach and that it is not
/// danger. `embed` gives a message's sentence embedding, or nothing for a model without one.
pub(crate) fn samples(
    training: &[Labelled],
    classes: &[String],
    danger: &[String],
    table_weight: f32,
    hear: impl Fn(&str) -> String,
    embed: impl Fn(&str) -> Vec<f32>,
) -> Vec<Sample> {
    training
        .iter()
        .filter_map(|m| {
            let index = |names: &[String]| -> Vec<usize> {
                names
                    .iter()
                    .filter_map(|l| classes.iter().position(|c| c == l))
                    .collect()
            };
            let labels = index(&m.labels);
            // A message whose labels are all unknown teaches nothing.
            (labels.len() == m.labels.len() || !labels.is_empty()).then(|| Sample {
                heard: hear(&m.text),
                labels,
                not: index(&m.not),
                danger: m.labels.iter().any(|l| danger.contains(l)),
                weight: if m.from_table { table_weight } else { 1.0 },
                embedding: embed(&m.text),
            })
        })
        .collect()
}
