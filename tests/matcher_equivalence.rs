//! The one-pass matcher (patterns cut into parts, one automaton, order checked afterwards)
//! must give exactly what matching every pattern on its own gives. These tests hold
//! `Matcher` to `NaiveMatcher`, the pattern-by-pattern reference, on the shipped table and on
//! a table of patterns that use the regex features the one-pass design has to treat with
//! care: gaps that are not plain `.*`, capitals, the `i` flag, negated classes, anchors,
//! word windows, and parts that do not start at a word boundary or run on across words.

mod support;

use proptest::prelude::*;
use safeguard_bot::content::Content;
use safeguard_bot::lexicon::Lexicon;
use safeguard_bot::matcher::{Engine, Matcher, NaiveMatcher};
use safeguard_bot::normalize::fold;
use safeguard_bot::scoring::Scoring;

struct Pair {
    lexicon: Lexicon,
    scoring: Scoring,
    one_pass: Matcher,
    naive: NaiveMatcher,
}

/// Every pattern `engine` finds in `text`, with where its matches start if it asked.
fn hits(engine: &impl Engine, text: &str) -> Vec<(usize, Vec<usize>)> {
    let mut found = Vec::new();
    engine.find(text, &mut |pattern, starts| {
        found.push((pattern, starts.collect()));
    });
    found
}

impl Pair {
    fn new(content: &Content) -> Self {
        let (scoring, one_pass) = Scoring::build(content).expect("builds");
        let (_, naive) = Scoring::build_naive(content).expect("builds");
        Pair {
            lexicon: Lexicon::from_content(content),
            scoring,
            one_pass,
            naive,
        }
    }

    /// Compare on `text` as given and as the brain would see it.
    fn assert_agree(&self, text: &str) {
        let folded = fold(text);
        let rewritten = self.lexicon.rewrite(&folded).into_owned();
        for t in [text, &folded, &rewritten] {
            assert_eq!(
                hits(&self.one_pass, t),
                hits(&self.naive, t),
                "the engines disagree on {t:?}"
            );
            assert_eq!(
                self.scoring.scan(&self.one_pass, t, &self.lexicon),
                self.scoring.scan(&self.naive, t, &self.lexicon),
                "the scores disagree on {t:?}"
            );
        }
    }
}

/// Patterns that exercise each special case of the one-pass matcher.
const TRICKY: [&str; 44] = [
    r"[^a]bc",
    r"[[:upper:]]x",
    r"\x41BC",
    r"Capital",
    r"a.+b",
    r"x[^y]*z",
    r"(foo.*bar|baz)",
    r"(?s:.)*qux",
    r"\bhelp\b.*\bnow\b.*\bplease\b",
    r"^start",
    r"end$",
    r"\bnever\b.*",
    r".*\bwhy\b",
    r"(?:one|two)\s+three",
    r"[[:alpha:]]{3}\d",
    r"\W\w+\W",
    r"[^[^a]]q",
    r"(\bdog\b).*(\bcat\b)",
    r"(a|b)*a(a|b){6}",
    r"[a-z&&[^aeiou]]{5}",
    r"\bin danger\b.*\b(now|tonight)\b",
    r"(?s)left.*right",
    r"up.*?down.*",
    r"",
    r"\bword (\w+ ){0,2}window\b",
    r"(?m)^line",
    r"\b(a|b.*c)\b",
    r"\Bbc",
    r"\<go\w*",
    r"(\bdo|^go) \w+",
    r"\b_x\b",
    r"\bhelp\b.*\bnow\b|\bstop\b.*\bplease\b",
    r"up(?:.*down|x)y",
    r"\b\. \w",
    r"\bhelp.*\b now\b",
    // Word windows, which are cut out of their pattern where the parts around them allow.
    r"\bhelp (\w+ ){1,2}now\b",
    r"\bdog (\w+ ){0,1}cat (\w+ ){0,2}up\b",
    r"x-(\w+ ){0,2}y",
    r"(one|two) (\w+ ){2}three",
    r"\bgo (\w+ ){0,3}(do|up)\b.*\bend\b",
    r"\bleft ( \w+){0,2} right",
    r"\bab(\w+ ){0,1}c\b",
    // Chains whose middle part has no longest match: settled by running the anchored automaton
    // again from the point (a match may start right where the one before ended; the earliest
    // end counts).
    r"\bhelp .*\bnow\w*.*\bplease\b",
    r"\bx\b.*\b(a \w+ \w+|b)\b.*\bend\b",
];

const WITH_CASE_FLAGS: [&str; 2] = [r"(?-i:CP)", r"(?i)HeLLo"];

const WORDS: [&str; 48] = [
    "abc",
    "Abc",
    "xbc",
    "ABC",
    "Capital",
    "capital",
    "CAPITAL",
    "a",
    "b",
    "ab",
    "foo",
    "bar",
    "baz",
    "qux",
    "x",
    "y",
    "z",
    "help",
    "now",
    "please",
    "start",
    "end",
    "never",
    "why",
    "one",
    "two",
    "three",
    "dog",
    "cat",
    "q",
    "in danger",
    "not",
    "tonight",
    "left",
    "right",
    "up",
    "down",
    "CP",
    "cp",
    "hello",
    "word",
    "window",
    "line",
    "go",
    "do",
    "_x",
    "bc",
    "x-",
];

const SEPARATORS: [&str; 8] = [" ", " ", " ", "\n", ". ", "", "  ", "é"];

/// The shipped folder with the tricky patterns added to a negatable intent (emergency, the
/// first `patterns` list) and to a plain one (the second).
fn tricky_content(extra: &[&str]) -> Content {
    let dir = support::copy_responses();
    let mut intents = support::read(dir.path(), "intents.toml");
    let lines: String = extra.iter().map(|p| format!("  '{p}',\n")).collect();
    let mut from = 0;
    for _ in 0..2 {
        let at = from
            + intents[from..]
                .find("\npatterns = [\n")
                .expect("patterns list")
            + 14;
        intents.insert_str(at, &lines);
        from = at + lines.len();
    }
    support::write(dir.path(), "intents.toml", &intents);
    Content::load_dir(dir.path()).expect("the tricky table parses")
}

fn sentences() -> Vec<String> {
    let mut all = Vec::new();
    for (i, w) in WORDS.iter().enumerate() {
        for (j, v) in WORDS.iter().enumerate().step_by(3) {
            all.push(format!("{w}{}{v}", SEPARATORS[(i + j) % SEPARATORS.len()]));
        }
    }
    all.extend(
        [
            "help me now please",
            "help\nnow please",
            "please help now",
            "i am not in danger now",
            "im in danger tonight",
            "not sure but im in danger now",
            "never mind why",
            "up and down and up",
            "left\nright",
            "x abc yz x q z",
            "aaaaaaabababab",
            "dog then cat",
            "cat then dog",
            "two   three",
            "abcd1 end",
            "Start here",
            "help me now",
            "help me please now",
            "help me please oh now",
            "dog cat up",
            "dog a cat b c up",
            "dog a b cat up",
            "x-y x- y x-a y x-a b c y",
            "one a b three two a three",
            "go a b c do end",
            "go a b c d do end",
            "go  up end",
            "left a b right",
            "abxy c",
            "ab c",
            "ab xy c",
            "help nowww please",
            "help please nowww",
            "help now now please",
            "now help nowx please",
            "x a b end c",
            "x a b c end",
            "x b a end",
        ]
        .map(str::to_owned),
    );
    all
}

#[test]
fn one_pass_agrees_with_each_pattern_alone_on_real_messages() {
    let pair = Pair::new(support::content());
    let mut messages = support::table_messages();
    messages.extend(support::dev_messages());
    for message in &messages {
        pair.assert_agree(message);
        pair.assert_agree(&message.to_uppercase());
        pair.assert_agree(&message.replace(' ', "\n"));
        pair.assert_agree(&format!("{message} and also {message}"));
    }
}

#[test]
fn one_pass_agrees_on_patterns_that_use_every_regex_feature() {
    let pair = Pair::new(&tricky_content(&TRICKY));
    for sentence in sentences() {
        pair.assert_agree(&sentence);
        pair.assert_agree(&sentence.to_uppercase());
    }
}

#[test]
fn one_pass_agrees_when_a_pattern_sets_the_case_flag() {
    let extra: Vec<&str> = TRICKY.iter().chain(&WITH_CASE_FLAGS).copied().collect();
    let pair = Pair::new(&tricky_content(&extra));
    for sentence in sentences() {
        pair.assert_agree(&sentence);
        pair.assert_agree(&sentence.to_uppercase());
    }
}

fn sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(&WORDS[..]),
            prop::sample::select(&SEPARATORS[..]),
        ),
        0..12,
    )
    .prop_map(|parts| parts.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn one_pass_agrees_on_random_sentences(s in sentence()) {
        static PAIR: std::sync::OnceLock<Pair> = std::sync::OnceLock::new();
        let extra: Vec<&str> = TRICKY.iter().chain(&WITH_CASE_FLAGS).copied().collect();
        PAIR.get_or_init(|| Pair::new(&tricky_content(&extra))).assert_agree(&s);
    }

    #[test]
    fn one_pass_agrees_on_random_text(s in "\\PC{0,80}") {
        static PAIR: std::sync::OnceLock<Pair> = std::sync::OnceLock::new();
        PAIR.get_or_init(|| Pair::new(support::content())).assert_agree(&s);
    }
}
