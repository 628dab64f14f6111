//! Any bytes, as a message: the brain answers with a known intent and some text; the one-pass
//! matcher agrees with each pattern tried alone; `classify` prints one line per input line.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use safeguard_bot::check::INTENT_IDS;
use safeguard_bot::lexicon::Lexicon;
use safeguard_bot::matcher::{Engine, Matcher, NaiveMatcher};
use safeguard_bot::normalize::fold;
use safeguard_bot::scoring::Scoring;
use safeguard_bot::{Brain, Input};

struct World {
    brain: Brain,
    lexicon: Lexicon,
    scoring: Scoring,
    one_pass: Matcher,
    naive: NaiveMatcher,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let brain = Brain::embedded().expect("shipped content compiles");
        let content = brain.content();
        let (scoring, one_pass) = Scoring::build(content).expect("builds");
        let (_, naive) = Scoring::build_naive(content).expect("builds");
        World {
            lexicon: brain.lexicon().clone(),
            scoring,
            one_pass,
            naive,
            brain,
        }
    })
}

/// Every pattern `engine` finds in `text`, with where its matches start if it asked.
fn hits(engine: &impl Engine, text: &str) -> Vec<(usize, Vec<usize>)> {
    let mut found = Vec::new();
    engine.find(text, &mut |pattern, starts| found.push((pattern, starts.collect())));
    found
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let text = String::from_utf8_lossy(data);

    let reply = w.brain.respond(Input::Text(&text)).into_owned();
    assert!(INTENT_IDS.contains(&reply.intent.as_str()), "{}", reply.intent);
    assert!(!reply.reply.trim().is_empty());

    let folded = fold(&text);
    assert_eq!(fold(&folded), folded);
    let rewritten = w.lexicon.rewrite(&folded);
    for t in [&*text, &folded, &rewritten] {
        assert_eq!(hits(&w.one_pass, t), hits(&w.naive, t), "{t:?}");
        assert_eq!(
            w.scoring.scan(&w.one_pass, t, &w.lexicon),
            w.scoring.scan(&w.naive, t, &w.lexicon),
            "{t:?}"
        );
    }

    let mut out = Vec::new();
    safeguard_bot::classify::run_with(&w.brain, data, &mut out, 1).expect("classify");
    // Every line end ends a line, and so does the end of input after a last unended line.
    let ends = data.iter().filter(|&&b| b == b'\n').count();
    let lines = ends + usize::from(data.last().is_some_and(|&b| b != b'\n'));
    assert_eq!(out.split(|&b| b == b'\n').count() - 1, lines);
});
