//! Start-up: reading the TOML of `responses/` and compiling it (patterns, word rules, every
//! reply), which every door does once before the first message.
//!
//! `cargo bench --bench startup -- --warm-up-time 1 --measurement-time 3`

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use safeguard_bot::content::Content;
use safeguard_bot::lexicon::Lexicon;
use safeguard_bot::scoring::Scoring;
use safeguard_bot::Brain;

fn startup(c: &mut Criterion) {
    let content = Content::embedded().expect("parses");
    let mut group = c.benchmark_group("startup");
    group.sample_size(20);
    group.bench_function("load_and_compile_embedded", |b| {
        b.iter(|| Brain::embedded().expect("compiles"))
    });
    group.bench_function("parse_toml", |b| {
        b.iter(|| Content::embedded().expect("parses"))
    });
    group.bench_function("compile_brain", |b| {
        b.iter(|| Brain::new(content.clone()).expect("compiles"))
    });
    group.bench_function("compile_matcher", |b| {
        b.iter(|| Scoring::build(&content).expect("compiles"))
    });
    group.bench_function("build_lexicon", |b| {
        b.iter(|| Lexicon::from_content(&content))
    });
    let bigger = common::table_times(&content, 10);
    group.bench_function("compile_brain_ten_times_table", |b| {
        b.iter(|| Brain::new(bigger.clone()).expect("compiles"))
    });
    group.finish();
}

criterion_group!(benches, startup);
criterion_main!(benches);
