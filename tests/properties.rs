//! Properties that hold for any input, checked on random inputs (proptest). Case counts are
//! kept small so `cargo test` stays fast; the `#[ignore]`d `long_*` tests at the end run the
//! same properties for as long as asked:
//!
//! `SAFEGUARD_LONG_CASES=200000 cargo test --release --test properties -- --ignored`

mod support;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use safeguard_bot::brain::FALLBACK;
use safeguard_bot::check::INTENT_IDS;
use safeguard_bot::content::{Content, Sources, FILES};
use safeguard_bot::normalize::fold;
use safeguard_bot::{Brain, Input, Kind};

use support::brain;

/// Slowest a single reply may be, even unoptimised on a busy machine.
const REPLY_LIMIT: Duration = Duration::from_secs(2);

/// Words people type to the bot: every word of the table's examples.
fn vocabulary() -> &'static [String] {
    static WORDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words: Vec<String> = support::table_messages()
            .iter()
            .flat_map(|m| m.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        words.sort();
        words.dedup();
        words
    })
}

/// Text from anywhere in Unicode, or sentences of the table's words with noise between them.
fn message() -> impl Strategy<Value = String> {
    let sentence = prop::collection::vec(
        (
            prop::sample::select(vocabulary()),
            prop::sample::select(
                &[" ", " ", " ", "  ", ", ", "\u{200b}", "!", "\t", "é", "😢"][..],
            ),
        ),
        0..14,
    )
    .prop_map(|words| words.into_iter().map(|(w, s)| format!("{w}{s}")).collect());
    prop_oneof![
        3 => sentence,
        1 => any::<String>(),
        1 => "\\PC{0,200}",
        1 => "[a-zA-Z ']{0,60}",
    ]
}

/// The properties of one reply to one message.
fn check_reply(text: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let understanding = brain().understand(text);
    let reply = brain().reply(&understanding).into_owned();
    prop_assert!(started.elapsed() < REPLY_LIMIT, "slow on {:?}", text);
    prop_assert!(
        INTENT_IDS.contains(&reply.intent.as_str()),
        "{}",
        reply.intent
    );
    prop_assert!(!reply.reply.trim().is_empty());
    prop_assert!((0.0..=1.0).contains(&reply.confidence));
    prop_assert_eq!(&reply, &brain().respond(Input::Text(text)).into_owned());
    match reply.kind {
        Kind::Fallback => prop_assert_eq!(reply.intent.as_str(), FALLBACK),
        Kind::DidYouMean => {
            prop_assert!((1..=3).contains(&reply.candidates.len()));
            prop_assert_eq!(&reply.intent, &reply.candidates[0]);
        }
        Kind::Answer => prop_assert!(reply.candidates.is_empty()),
    }
    let ids: Vec<&str> = brain().intent_ids().collect();
    prop_assert!(understanding.ranked.iter().all(|&i| i < ids.len()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn fold_gives_lower_case_ascii_words(text in message()) {
        let folded = fold(&text);
        prop_assert!(folded.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' '), "{:?}", folded);
        prop_assert!(!folded.starts_with(' ') && !folded.ends_with(' ') && !folded.contains("  "));
        prop_assert_eq!(fold(&folded), folded.clone(), "folding twice changes {:?}", text);
    }

    #[test]
    fn every_message_gets_a_known_intent_and_a_reply(text in message()) {
        check_reply(&text)?;
    }

    #[test]
    fn classify_prints_exactly_the_json_of_respond(
        lines in prop::collection::vec(message().prop_map(|m| m.replace(['\n', '\r'], " ")), 1..8)
    ) {
        let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut out = Vec::new();
        safeguard_bot::classify::run_with(brain(), input.as_bytes(), &mut out, 1).expect("runs");
        let expected: String = lines
            .iter()
            .map(|l| serde_json::to_string(&brain().respond(Input::Text(l)).into_owned()).expect("json") + "\n")
            .collect();
        prop_assert_eq!(String::from_utf8(out).expect("utf-8"), expected);
    }
}

/// A change an operator (or a fuzzer) could make to a content file.
#[derive(Debug, Clone)]
enum Edit {
    Insert { at: f64, token: &'static str },
    Delete { at: f64, len: usize },
    DuplicateLine { at: f64 },
    ReplaceLine { at: f64, with: String },
    Truncate { at: f64 },
    Replace { with: String },
}

const TOKENS: [&str; 34] = [
    "[",
    "]",
    "[[intent]]",
    "[[entity]]",
    "[[contact]]",
    "\"\"\"",
    "'''",
    "=",
    "\"",
    "'",
    "{",
    "}",
    ",",
    "\n",
    "id = \"x\"",
    "patterns = ['(']",
    "reply = \"{phone:nope}\"",
    "\\",
    "\0",
    "é",
    "0x",
    "1e999",
    "inf",
    "-",
    "#",
    "\t",
    "[a.b]",
    "true",
    "1979-05-27T07:32:00Z",
    "{phone:",
    "{figure:x}",
    "when = []",
    "patterns = ['.*', '(a|aa){99}']",
    "priority = 1e3",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (0.0..1.0, prop::sample::select(&TOKENS[..])).prop_map(|(at, token)| Edit::Insert { at, token }),
        2 => (0.0..1.0, 1..200usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (0.0..1.0).prop_map(|at| Edit::DuplicateLine { at }),
        1 => (0.0..1.0, "\\PC{0,40}").prop_map(|(at, with)| Edit::ReplaceLine { at, with }),
        1 => (0.0..1.0).prop_map(|at| Edit::Truncate { at }),
        1 => "\\PC{0,300}".prop_map(|with| Edit::Replace { with }),
    ]
}

/// The nearest character boundary at or before the fraction `at` of `text`.
fn boundary(text: &str, at: f64) -> usize {
    let mut i = ((text.len() as f64) * at) as usize;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, edit: &Edit) {
    match edit {
        Edit::Insert { at, token } => text.insert_str(boundary(text, *at), token),
        Edit::Delete { at, len } => {
            let start = boundary(text, *at);
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(start..end, "");
        }
        Edit::DuplicateLine { at } | Edit::ReplaceLine { at, .. } => {
            let i = boundary(text, *at);
            let start = text[..i].rfind('\n').map_or(0, |n| n + 1);
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let line = text[start..end].to_owned();
            match edit {
                Edit::ReplaceLine { with, .. } => text.replace_range(start..end, with),
                _ => text.insert_str(start, &format!("{line}\n")),
            }
        }
        Edit::Truncate { at } => {
            let i = boundary(text, *at);
            text.truncate(i);
        }
        Edit::Replace { with } => *text = with.clone(),
    }
}

/// The shipped files with a few random edits.
fn edited_sources() -> impl Strategy<Value = Sources> {
    prop::collection::vec((0..FILES.len(), edit()), 1..5).prop_map(|edits| {
        let mut texts: Vec<String> = Sources::embedded()
            .files()
            .map(|(_, text)| text.to_owned())
            .collect();
        for (file, edit) in &edits {
            apply(&mut texts[*file], edit);
        }
        let texts: [String; FILES.len()] = texts.try_into().expect("one text per file");
        Sources::from_texts(texts)
    })
}

/// Parsing and compiling any content either works or reports problems that name a file of
/// the folder; a brain that compiles answers.
fn check_content(sources: &Sources) -> Result<(), TestCaseError> {
    let names: Vec<&str> = sources.files().map(|(name, _)| name).collect();
    let named = |problems: &[safeguard_bot::problem::Problem]| {
        problems
            .iter()
            .all(|p| names.contains(&&*p.at.file) && !p.message.contains('\n'))
    };
    match Content::parse(sources) {
        Err(problems) => prop_assert!(!problems.is_empty() && named(&problems), "{:?}", problems),
        Ok(content) => match Brain::new(content) {
            Err(problems) => prop_assert!(named(&problems), "{:?}", problems),
            Ok(brain) => {
                for text in ["is sexting illegal", "help", "", "😢"] {
                    let reply = brain.respond(Input::Text(text)).into_owned();
                    prop_assert!(!reply.intent.is_empty());
                }
            }
        },
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn parsing_edited_content_never_panics_and_names_the_file(sources in edited_sources()) {
        check_content(&sources)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn check_on_edited_content_never_panics(sources in edited_sources()) {
        let problems = safeguard_bot::check::check(&sources);
        let learned = [
            &sources.corpus.as_ref().map(|c| &c.0),
            &sources.model.as_ref().map(|m| &m.0),
            &sources.embedding_model.as_ref().map(|m| &m.0),
        ];
        let names: Vec<&str> = sources
            .files()
            .map(|(name, _)| name)
            .chain(learned.into_iter().flatten().map(|n| &***n))
            .collect();
        for p in &problems {
            prop_assert!(names.contains(&&*p.at.file), "{}", p);
        }
    }
}

/// Cases for the long runs: `SAFEGUARD_LONG_CASES`, or 200,000.
fn long_cases() -> u32 {
    std::env::var("SAFEGUARD_LONG_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000)
}

fn long_run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let started = Instant::now();
    let mut runner = TestRunner::new(Config {
        cases: long_cases(),
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
    eprintln!("{} cases in {:?}", long_cases(), started.elapsed());
}

#[test]
#[ignore = "long run; see the module documentation"]
fn long_random_messages_never_fail() {
    long_run(message(), |text| check_reply(&text));
}

#[test]
#[ignore = "long run; see the module documentation"]
fn long_random_content_never_panics() {
    long_run(edited_sources(), |sources| check_content(&sources));
}
