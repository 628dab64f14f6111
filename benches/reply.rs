//! Rendering replies as the Telegram door keeps them (owned): a topic's reply (a button press), a whole message, and a `classify`
//! line (reply written as JSON).
//!
//! `cargo bench --bench reply -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use safeguard_bot::{Brain, Input};

fn reply(c: &mut Criterion) {
    let brain = Brain::embedded().expect("compiles");
    let mut group = c.benchmark_group("reply");
    group.bench_function("topic_report_image", |b| {
        b.iter(|| {
            brain
                .respond(black_box(Input::Topic("report_image")))
                .into_owned()
        })
    });
    group.bench_function("text_typical", |b| {
        b.iter(|| {
            brain
                .respond(black_box(Input::Text(common::TYPICAL)))
                .into_owned()
        })
    });
    let lines: String = common::table_messages(brain.content())
        .iter()
        .map(|m| format!("{m}\n"))
        .collect();
    let count = lines.lines().count() as u64;
    let mut out = Vec::with_capacity(1 << 20);
    group.throughput(Throughput::Elements(count));
    group.bench_function("classify_table_mix_one_thread", |b| {
        b.iter(|| {
            out.clear();
            safeguard_bot::classify::run_with(&brain, lines.as_bytes(), &mut out, 1)
                .expect("classifies");
        })
    });
    group.finish();
}

criterion_group!(benches, reply);
criterion_main!(benches);
