//! Training the model: stochastic gradient descent on the softmax loss, deterministic.
//!
//! Deterministic because a safeguarding service must be able to say which model answered and
//! rebuild it: one thread, a fixed seed for the order of the examples, and floating-point
//! operations in a fixed order, so the same data gives the same bytes on the same build.
//!
//! Cost: `epochs × messages × features × intents` multiply-adds; about a second for the
//! shipped corpus in a release build.

use super::features::{self, Negations};
use super::Model;

/// How the model is trained. The shipped values were chosen by cross-validation on the
/// labelled corpus (`safeguard-bot train --folds 5`), never on a blind set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Passes over the data.
    pub epochs: u32,
    /// Step size at the start; it falls linearly to zero by the last pass.
    pub learning_rate: f32,
    /// A feature is kept only when this many messages have it: rarer ones are noise, and
    /// dropping them keeps the model small.
    pub min_count: u32,
    /// Shrinks the weights a feature touches at each step, against over-confident weights.
    pub l2: f32,
    /// Share of the target given to the best label when a message has several acceptable
    /// ones; the rest share what is left.
    pub first_label: f32,
    /// How much an example or counter-example of `intents.toml` counts against one corpus
    /// message.
    pub table_weight: f32,
    /// How much more a missed danger message costs the danger output than a false alarm:
    /// recall first.
    pub danger_weight: f32,
    /// Seed of the example order.
    pub seed: u64,
}

impl Settings {
    /// The settings `safeguard-bot train` uses.
    pub(crate) const SHIPPED: Settings = Settings {
        epochs: 60,
        learning_rate: 1.0,
        min_count: 2,
        l2: 1e-5,
        first_label: 0.7,
        danger_weight: 2.0,
        table_weight: 5.0,
        seed: 0x05af_eb07,
    };

    /// The shipped settings with any `SAFEGUARD_TRAIN_*` overrides from the environment, for
    /// trying settings by cross-validation without rebuilding. `train` without `--folds` never
    /// reads them: the shipped model is always trained with [`Settings::SHIPPED`].
    pub(crate) fn for_trials() -> Settings {
        fn get<T: std::str::FromStr>(name: &str, default: T) -> T {
            std::env::var(format!("SAFEGUARD_TRAIN_{name}"))
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        }
        let s = Settings::SHIPPED;
        Settings {
            epochs: get("EPOCHS", s.epochs as f32) as u32,
            learning_rate: get("LEARNING_RATE", s.learning_rate),
            min_count: get("MIN_COUNT", s.min_count as f32) as u32,
            l2: get("L2", s.l2),
            first_label: get("FIRST_LABEL", s.first_label),
            danger_weight: get("DANGER_WEIGHT", s.danger_weight),
            table_weight: get("TABLE_WEIGHT", s.table_weight),
            seed: get("SEED", s.seed),
        }
    }

    /// The settings as text, part of the training data's fingerprint: change a setting and
    /// the shipped model no longer matches until it is trained again.
    pub(crate) fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// One labelled message for training.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The message as the model reads it ([`crate::brain::Understanding::heard`]).
    pub heard: String,
    /// Indexes into the class list, best first.
    pub labels: Vec<usize>,
    /// Classes this message must not reach (a counter-example's intent); used when `labels`
    /// is empty.
    pub not: Vec<usize>,
    /// Whether danger is happening now (the danger intent is among the labels).
    pub danger: bool,
    /// How much this message counts: the intent table's own examples, which operators
    /// reviewed one by one, count more than the corpus ([`Settings::table_weight`]).
    pub weight: f32,
    /// The message's sentence embedding ([`crate::embedding`]), for a model trained with
    /// one; empty otherwise.
    pub embedding: Vec<f32>,
}

/// A message turned into (row, value) pairs and its target distribution.
struct Row {
    features: Vec<(u32, f32)>,
    dense: Vec<f32>,
    target: Vec<(usize, f32)>,
    not: Vec<usize>,
    danger: bool,
    weight: f32,
}

/// Train a model on `samples` over `classes`, stamped with `fingerprint`.
pub fn train(
    samples: &[Sample],
    negations: &impl Negations,
    classes: Vec<String>,
    settings: &Settings,
    fingerprint: u64,
) -> Model {
    train_with(samples, negations, classes, settings, fingerprint, None)
}

/// [`train`], and with `embedder` (its identity) also the weights of the samples' sentence
/// embeddings, learned jointly with the hashed features: the embedding reads what the words
/// mean, the features what they are, and each corrects the other's mistakes.
pub fn train_with(
    samples: &[Sample],
    negations: &impl Negations,
    classes: Vec<String>,
    settings: &Settings,
    fingerprint: u64,
    embedder: Option<u64>,
) -> Model {
    let dim = match embedder {
        Some(_) => samples.iter().map(|s| s.embedding.len()).max().unwrap_or(0),
        None => 0,
    };
    let keys = vocabulary(samples, negations, settings.min_count);
    let rows: Vec<Row> = samples
        .iter()
        .map(|s| encode(s, negations, &keys, settings.first_label))
        .collect();
    // One column per class (softmax), then the danger column (its own logistic output).
    let n = classes.len();
    let width = n + 1;
    let mut weights = vec![0.0f32; keys.len() * width];
    let mut dense = vec![0.0f32; dim * width];
    let mut bias = vec![0.0f32; width];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = settings.seed | 1;
    let total = (settings.epochs as usize * rows.len()).max(1) as f32;
    let mut step = 0usize;
    let mut scores = vec![0.0f32; width];
    for _ in 0..settings.epochs {
        shuffle(&mut order, &mut rng);
        for &i in &order {
            let row = &rows[i];
            let lr = settings.learning_rate * (1.0 - step as f32 / total) * row.weight;
            step += 1;
            scores.copy_from_slice(&bias);
            for &(f, v) in &row.features {
                let w = &weights[f as usize * width..(f as usize + 1) * width];
                for (s, w) in scores.iter_mut().zip(w) {
                    *s += w * v;
                }
            }
            for (&v, w) in row.dense.iter().zip(dense.chunks_exact(width)) {
                for (s, w) in scores.iter_mut().zip(w) {
                    *s += w * v;
                }
            }
            if row.target.is_empty() {
                super::softmax(&mut scores[..n]);
                not_these(&mut scores[..n], &row.not);
            } else {
                super::softmax(&mut scores[..n]);
                // Gradient of the cross-entropy: probability minus target.
                for &(k, t) in &row.target {
                    scores[k] -= t;
                }
            }
            let danger = super::sigmoid(scores[n]);
            scores[n] = if row.danger {
                settings.danger_weight * (danger - 1.0)
            } else {
                danger
            };
            for (b, g) in bias.iter_mut().zip(&scores) {
                *b -= lr * g;
            }
            let decay = 1.0 - lr * settings.l2;
            for &(f, v) in &row.features {
                let w = &mut weights[f as usize * width..(f as usize + 1) * width];
                for (w, g) in w.iter_mut().zip(&scores) {
                    *w = *w * decay - lr * g * v;
                }
            }
            for (&v, w) in row.dense.iter().zip(dense.chunks_exact_mut(width)) {
                for (w, g) in w.iter_mut().zip(&scores) {
                    *w = *w * decay - lr * g * v;
                }
            }
        }
    }
    let dense = embedder.filter(|_| dim > 0).map(|embedder| super::Dense {
        embedder,
        dim,
        weights: dense,
    });
    Model::assemble(classes, keys, weights, bias, fingerprint, dense)
}

/// Turn probabilities into the gradient of `-ln(1 - q)`, where `q` is the probability of
/// the classes a counter-example must not reach: those are pushed down, the others share
/// what they lose. With no such class there is nothing to learn.
fn not_these(scores: &mut [f32], not: &[usize]) {
    if not.is_empty() {
        scores.fill(0.0);
        return;
    }
    let q: f32 = not.iter().map(|&k| scores[k]).sum();
    let rest = (1.0 - q).max(1e-6);
    for (k, p) in scores.iter_mut().enumerate() {
        if !not.contains(&k) {
            *p *= -q / rest;
        }
    }
}

/// The features at least `min_count` messages have, ascending.
fn vocabulary(samples: &[Sample], negations: &impl Negations, min_count: u32) -> Vec<u64> {
    let mut counts: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    let mut seen = Vec::new();
    for s in samples {
        seen.clear();
        features::for_each(&s.heard, negations, |h| seen.push(h));
        seen.sort_unstable();
        seen.dedup();
        for &h in &seen {
            *counts.entry(h).or_default() += 1;
        }
    }
    let mut keys: Vec<u64> = counts
        .into_iter()
        .filter(|&(_, c)| c >= min_count)
        .map(|(h, _)| h)
        .collect();
    keys.sort_unstable();
    keys
}

fn encode(sample: &Sample, negations: &impl Negations, keys: &[u64], first_label: f32) -> Row {
    let mut count = 0u32;
    let mut found: Vec<u32> = Vec::new();
    features::for_each(&sample.heard, negations, |h| {
        count += 1;
        if let Ok(row) = keys.binary_search(&h) {
            found.push(row as u32);
        }
    });
    // Repeated features add up, as they do in [`Model::probabilities`].
    found.sort_unstable();
    let scale = 1.0 / (count.max(1) as f32).sqrt();
    let mut features: Vec<(u32, f32)> = Vec::with_capacity(found.len());
    for f in found {
        match features.last_mut() {
            Some((last, v)) if *last == f => *v += scale,
            _ => features.push((f, scale)),
        }
    }
    let target = match sample.labels.as_slice() {
        [] => Vec::new(),
        [only] => vec![(*only, 1.0)],
        [first, rest @ ..] => {
            let share = (1.0 - first_label) / rest.len() as f32;
            std::iter::once((*first, first_label))
                .chain(rest.iter().map(|&k| (k, share)))
                .collect()
        }
    };
    Row {
        features,
        dense: sample.embedding.clone(),
        target,
        not: sample.not.clone(),
        danger: sample.danger,
        weight: sample.weight,
    }
}

/// Fisher-Yates with xorshift64: the same seed gives the same order everywhere.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::features::NoNegations;

    fn samples() -> (Vec<Sample>, Vec<String>) {
        let data = [
            ("help me now", 0),
            ("please help me right now", 0),
            ("help now please", 0),
            ("is sexting illegal", 1),
            ("is it illegal to send nudes", 1),
            ("sexting illegal under 18", 1),
        ];
        let samples = data
            .iter()
            .map(|&(t, l)| Sample {
                heard: t.to_owned(),
                labels: vec![l],
                not: Vec::new(),
                danger: l == 0,
                weight: 1.0,
                embedding: Vec::new(),
            })
            .collect();
        (samples, vec!["emergency".into(), "sexting_law".into()])
    }

    #[test]
    fn the_same_data_gives_the_same_bytes() {
        let (s, c) = samples();
        let a = train(&s, &NoNegations, c.clone(), &Settings::SHIPPED, 7).to_bytes();
        let b = train(&s, &NoNegations, c, &Settings::SHIPPED, 7).to_bytes();
        assert_eq!(a, b);
    }

    #[test]
    fn a_saved_model_reads_back_the_same() {
        let (s, c) = samples();
        let m = train(&s, &NoNegations, c, &Settings::SHIPPED, 7);
        assert_eq!(Model::from_bytes(&m.to_bytes()), Ok(m));
    }

    #[test]
    fn it_learns_what_it_was_shown() {
        let (s, c) = samples();
        let m = train(&s, &NoNegations, c, &Settings::SHIPPED, 7);
        let mut p = Vec::new();
        m.probabilities("help me please", &NoNegations, &mut p);
        assert!(p[0] > 0.8, "{p:?}");
        assert!(m.danger(&p) > 0.5, "{p:?}");
        m.probabilities("illegal to send", &NoNegations, &mut p);
        assert!(p[1] > 0.8, "{p:?}");
        assert!(m.danger(&p) < 0.5, "{p:?}");
    }

    #[test]
    fn a_counter_example_pushes_its_intent_down() {
        let (mut s, c) = samples();
        let probe = "is anyone in danger from sexting";
        let trained = |s: &[Sample]| {
            let m = train(s, &NoNegations, c.clone(), &Settings::SHIPPED, 7);
            let mut p = Vec::new();
            m.probabilities(probe, &NoNegations, &mut p);
            (p[0], m.danger(&p))
        };
        let before = trained(&s);
        s.push(Sample {
            heard: probe.to_owned(),
            labels: Vec::new(),
            not: vec![0],
            danger: false,
            weight: 1.0,
            embedding: Vec::new(),
        });
        let after = trained(&s);
        assert!(
            after.0 < before.0 && after.0 < 0.2,
            "{before:?} -> {after:?}"
        );
        assert!(after.1 < before.1, "{before:?} -> {after:?}");
    }

    #[test]
    fn a_cut_file_is_refused_with_a_reason() {
        let (s, c) = samples();
        let bytes = train(&s, &NoNegations, c, &Settings::SHIPPED, 7).to_bytes();
        let err = Model::from_bytes(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        let err = Model::from_bytes(&bytes[..12]).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        let mut damaged = bytes.clone();
        damaged[40] ^= 1;
        let err = Model::from_bytes(&damaged).unwrap_err();
        assert!(err.contains("checksum"), "{err}");
        assert!(Model::from_bytes(b"hello").is_err());
    }

    /// Two messages worded alike that mean different things: only their embeddings tell
    /// them apart, as "he comes in my room at night" (now, danger) and a question about it.
    fn with_embeddings() -> (Vec<Sample>, Vec<String>) {
        let (mut s, c) = samples();
        for (i, sample) in s.iter_mut().enumerate() {
            let meaning = sample.labels[0] as f32;
            sample.embedding = vec![1.0 - meaning, meaning, (i % 3) as f32 * 0.1];
        }
        for (label, e) in [(0, [1.0, 0.0, 0.0]), (1, [0.0, 1.0, 0.0])] {
            for _ in 0..4 {
                s.push(Sample {
                    heard: "he comes in at night".into(),
                    labels: vec![label],
                    not: Vec::new(),
                    danger: label == 0,
                    weight: 1.0,
                    embedding: e.to_vec(),
                });
            }
        }
        (s, c)
    }

    #[test]
    fn the_embedding_tells_apart_what_the_words_do_not() {
        let (s, c) = with_embeddings();
        let m = train_with(&s, &NoNegations, c, &Settings::SHIPPED, 7, Some(42));
        let mut p = Vec::new();
        m.probabilities_with(
            "he comes in at night",
            &[1.0, 0.0, 0.0],
            &NoNegations,
            &mut p,
        );
        assert!(p[0] > 0.7 && m.danger(&p) > 0.5, "{p:?}");
        m.probabilities_with(
            "he comes in at night",
            &[0.0, 1.0, 0.0],
            &NoNegations,
            &mut p,
        );
        assert!(p[1] > 0.7 && m.danger(&p) < 0.5, "{p:?}");
    }

    #[test]
    fn a_model_with_an_embedding_reads_back_the_same_and_names_its_embedder() {
        let (s, c) = with_embeddings();
        let m = train_with(&s, &NoNegations, c.clone(), &Settings::SHIPPED, 7, Some(42));
        let bytes = m.to_bytes();
        assert!(bytes.starts_with(b"SGBMODL3"));
        let back = Model::from_bytes(&bytes).expect("reads back");
        assert_eq!(back.dense().map(|d| (d.embedder, d.dim)), Some((42, 3)));
        assert_eq!(back, m);
        // Without an embedder the same samples give a plain model, in the old format.
        let plain = train_with(&s, &NoNegations, c, &Settings::SHIPPED, 7, None);
        assert!(plain.dense().is_none() && plain.to_bytes().starts_with(b"SGBMODL2"));
    }
}
