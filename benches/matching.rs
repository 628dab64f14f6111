//! Understanding a message: fold, word rules, one scan of the intent table, ranking.
//!
//! `cargo bench --bench matching -- --warm-up-time 1 --measurement-time 3`
//! Figures and what they mean: BENCHMARKS.md.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use safeguard_bot::lexicon::Lexicon;
use safeguard_bot::normalize::fold;
use safeguard_bot::scoring::Scoring;
use safeguard_bot::Brain;

use common::{message_of_len, table_messages, table_times, SHORT, TYPICAL};

fn brain() -> Brain {
    Brain::embedded().expect("shipped content compiles")
}

/// Fold and match (`Brain::understand`) for a short, a typical and a full-length message,
/// and for the whole mix of the table's messages (per message).
fn fold_and_match(c: &mut Criterion) {
    let brain = brain();
    let long = message_of_len(brain.content(), 4096);
    let mut group = c.benchmark_group("fold_and_match");
    for (name, text) in [
        ("short_2B", SHORT),
        ("typical_52B", TYPICAL),
        ("long_4KiB", &long),
    ] {
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| b.iter(|| brain.understand(black_box(text))));
    }
    let mix = table_messages(brain.content());
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("table_mix_per_batch", |b| {
        b.iter(|| {
            for m in &mix {
                black_box(brain.understand(m));
            }
        })
    });
    group.finish();
}

/// The same table applied the naive way (each pattern its own regex, tried in turn), the
/// first design (one `RegexSet` over the whole patterns) and the one-pass way (parts
/// automaton), on the same folded messages, in one run.
fn naive_vs_one_pass(c: &mut Criterion) {
    let brain = brain();
    let content = brain.content();
    let lexicon = brain.lexicon();
    let (scoring, one_pass) = Scoring::build(content).expect("builds");
    let (_, naive) = Scoring::build_naive(content).expect("builds");
    let (_, original) = Scoring::build_with(content, common::OriginalSet::build).expect("builds");
    let mix: Vec<String> = table_messages(content)
        .iter()
        .map(|m| lexicon.rewrite(&fold(m)).into_owned())
        .collect();
    let mut group = c.benchmark_group("naive_vs_one_pass");
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("naive_each_pattern", |b| {
        b.iter(|| {
            for m in &mix {
                black_box(scoring.scan(&naive, m, lexicon));
            }
        })
    });
    group.bench_function("regex_set_whole_patterns", |b| {
        b.iter(|| {
            for m in &mix {
                black_box(scoring.scan(&original, m, lexicon));
            }
        })
    });
    group.bench_function("one_pass", |b| {
        b.iter(|| {
            for m in &mix {
                black_box(scoring.scan(&one_pass, m, lexicon));
            }
        })
    });
    group.finish();
}

/// Cost against message length, 16 B to 4 KiB.
fn by_length(c: &mut Criterion) {
    let brain = brain();
    let mut group = c.benchmark_group("by_length");
    for len in [16, 64, 256, 1024, 4096] {
        let text = message_of_len(brain.content(), len);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &text, |b, text| {
            b.iter(|| brain.understand(black_box(text)))
        });
    }
    group.finish();
}

/// Cost against table size: the shipped table and one with ten times the patterns.
fn by_table_size(c: &mut Criterion) {
    let shipped = brain();
    let whole = safeguard_bot::content::Content::embedded().expect("parses");
    let bigger = Brain::new(table_times(&whole, 10)).expect("10x table compiles");
    let mix = table_messages(shipped.content());
    let mut group = c.benchmark_group("by_table_size");
    group.throughput(Throughput::Elements(mix.len() as u64));
    for (name, brain) in [("shipped", &shipped), ("ten_times", &bigger)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for m in &mix {
                    black_box(brain.understand(m));
                }
            })
        });
    }
    group.finish();
}

/// The learned model alone (features, lookups, softmax and the danger output) on a message as
/// the brain hears it: the part of `understand` that the model adds to the patterns.
fn learned_model(c: &mut Criterion) {
    let sources = safeguard_bot::content::Sources::embedded();
    let content = safeguard_bot::content::Content::parse(&sources).expect("content parses");
    let lexicon = Lexicon::from_content(&content);
    let model = safeguard_bot::brain::read_model(&sources)
        .expect("model reads")
        .expect("a model is shipped");
    let mut out = Vec::new();
    let mut group = c.benchmark_group("learned_model");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [("short_2B", SHORT), ("typical_52B", TYPICAL)] {
        let heard = lexicon.rewrite(&fold(text)).into_owned();
        group.bench_function(name, |b| {
            b.iter(|| model.probabilities(black_box(&heard), &lexicon, &mut out))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    learned_model,
    fold_and_match,
    naive_vs_one_pass,
    by_length,
    by_table_size
);
criterion_main!(benches);
