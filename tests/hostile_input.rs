//! Whatever a person (or an attacker) types, the bot answers, quickly, without a panic; and a
//! hostile `responses/` folder is refused by `check` instead of hanging it.
//!
//! Time bounds are generous (the tests run unoptimised on a shared two-core machine) but far
//! below what a quadratic or exponential path would take on these inputs.

mod support;

use std::time::{Duration, Instant};

use safeguard_bot::brain::FALLBACK;
use safeguard_bot::check::INTENT_IDS;
use safeguard_bot::reply::TELEGRAM_LIMIT;
use safeguard_bot::{Brain, Input, Kind, Reply};
use support::{assert_no_panic, bin, brain, copy_responses, insert_pattern, phone};

/// The reply to `text`, which must come within `limit`.
fn respond_within(text: &str, limit: Duration) -> Reply {
    let started = Instant::now();
    let reply = brain().respond(Input::Text(text)).into_owned();
    let took = started.elapsed();
    assert!(
        took < limit,
        "{} characters took {took:?} (limit {limit:?})",
        text.chars().count()
    );
    assert_answers(&reply);
    reply
}

/// What every reply must be: a known intent, some text, within Telegram's limit.
fn assert_answers(reply: &Reply) {
    assert!(
        INTENT_IDS.contains(&reply.intent.as_str()),
        "unknown intent {}",
        reply.intent
    );
    assert!(!reply.reply.trim().is_empty());
    assert!(reply.reply.chars().count() <= TELEGRAM_LIMIT);
}

/// `disguised` must be understood like `plain`, which the table must understand.
fn assert_same_as_plain(disguised: &str, plain: &str) {
    let expected = brain().respond(Input::Text(plain)).into_owned();
    assert_ne!(
        expected.intent, FALLBACK,
        "{plain:?} is not understood at all"
    );
    let got = brain().respond(Input::Text(disguised)).into_owned();
    assert_eq!(
        (got.intent.as_str(), got.kind),
        (expected.intent.as_str(), expected.kind),
        "{disguised:?} is not understood like {plain:?}"
    );
}

fn fallback_with_helplines(reply: &Reply) {
    assert_eq!(reply.intent, FALLBACK);
    assert_eq!(reply.kind, Kind::Fallback);
    assert!(reply.reply.contains(&phone("childline")) && reply.reply.contains(&phone("nspcc")));
}

const LAW: &str = "is sexting illegal";
const NUDES: &str = "my ex is sharing my nudes";

#[test]
fn a_message_of_telegrams_full_length_is_answered() {
    let mut text = String::new();
    while text.len() < 4096 - LAW.len() {
        text.push_str("i am so worried and i do not know what to do. ");
    }
    text.push_str(LAW);
    let text: String = text.chars().take(4096).collect();
    assert_eq!(text.chars().count(), 4096);
    respond_within(&text, Duration::from_secs(2));
}

#[test]
fn a_hundred_thousand_character_message_is_answered() {
    let words = "please help me i think my daughter sent a picture and now im scared ";
    let text: String = words.chars().cycle().take(100_000).collect();
    respond_within(&text, Duration::from_secs(10));
}

#[test]
fn a_hundred_thousand_letter_word_is_answered() {
    respond_within(&"a".repeat(100_000), Duration::from_secs(5));
    respond_within(&"ab".repeat(50_000), Duration::from_secs(5));
}

#[test]
fn a_hundred_thousand_characters_of_unknown_words_are_answered() {
    // Every word is unknown and long enough for typo correction to look at it.
    let mut text = String::new();
    let mut x: u32 = 7;
    while text.len() < 100_000 {
        for _ in 0..16 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            text.push((b'a' + (x >> 16) as u8 % 26) as char);
        }
        text.push(' ');
    }
    respond_within(&text, Duration::from_secs(20));
}

#[test]
fn a_hundred_thousand_emoji_and_marks_are_answered() {
    respond_within(&"😢".repeat(100_000), Duration::from_secs(10));
    respond_within(
        &format!("a{}", "\u{301}".repeat(100_000)),
        Duration::from_secs(10),
    );
    respond_within(&"\u{200b}".repeat(100_000), Duration::from_secs(10));
}

#[test]
fn a_single_emoji_gets_the_fallback_with_helplines() {
    for emoji in ["😢", "🙂", "👍🏽", "🏳️‍🌈", "❤️"] {
        fallback_with_helplines(&respond_within(emoji, Duration::from_secs(1)));
    }
}

#[test]
fn only_white_space_gets_the_fallback_with_helplines() {
    for text in [
        "",
        " ",
        "\t\t",
        "\n",
        " \u{a0}\u{3000}\u{2003} ",
        "\r\n\r\n",
    ] {
        fallback_with_helplines(&respond_within(text, Duration::from_secs(1)));
    }
}

#[test]
fn nul_and_control_characters_separate_words() {
    for text in [
        "is\0sexting\0illegal",
        "is\u{1}sexting\u{7f}illegal",
        "\u{1b}[31mis sexting illegal\u{1b}[0m",
    ] {
        respond_within(text, Duration::from_secs(1));
        assert_same_as_plain(text, LAW);
    }
    for text in ["\0", "\0\0\0\0", "\u{7}\u{8}\u{1b}"] {
        fallback_with_helplines(&respond_within(text, Duration::from_secs(1)));
    }
}

#[test]
fn right_to_left_text_and_direction_marks_are_harmless() {
    assert_same_as_plain("\u{202e}is sexting illegal\u{202c}", LAW);
    assert_same_as_plain("\u{200f}is sexting illegal\u{200e}", LAW);
    assert_same_as_plain("\u{2067}is sexting illegal\u{2069}", LAW);
    for text in ["هل إرسال الصور غير قانوني", "האם זה חוקי", "\u{202e}لا"]
    {
        respond_within(text, Duration::from_secs(1));
    }
}

#[test]
fn combining_marks_do_not_hide_a_word() {
    assert_same_as_plain("is se\u{301}xting ille\u{300}gal", LAW);
    assert_same_as_plain("is s\u{323}e\u{308}x\u{30a}ting illegal", LAW);
    assert_same_as_plain("my ex is sharing my núdès", NUDES);
}

#[test]
fn zero_width_characters_do_not_hide_a_word() {
    for invisible in [
        '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
    ] {
        assert_same_as_plain(&format!("is sex{invisible}ting illegal"), LAW);
        assert_same_as_plain(&format!("my ex is sharing my nu{invisible}des"), NUDES);
    }
}

#[test]
fn look_alike_letters_do_not_hide_a_word() {
    // Cyrillic е and а, Greek ο, full-width Latin.
    assert_same_as_plain("my ex is sharing my nud\u{435}s", NUDES);
    assert_same_as_plain("my \u{435}x is sh\u{430}ring my nud\u{435}s", NUDES);
    assert_same_as_plain("is s\u{435}xting ill\u{435}g\u{430}l", LAW);
    assert_same_as_plain("is sexting illegal", "ＩＳ ＳＥＸＴＩＮＧ ＩＬＬＥＧＡＬ");
}

#[test]
fn invalid_utf8_on_classify_is_replaced_quickly() {
    let mut input = Vec::new();
    for bad in [
        &b"\xff\xfe\xfd"[..],
        b"is sexting \xc0\xaf illegal",
        b"\xed\xa0\x80 lone surrogate",
        b"truncated \xe2\x82",
        b"\x00\x01\x02",
    ] {
        input.extend_from_slice(bad);
        input.push(b'\n');
    }
    let input = input.repeat(200);
    let started = Instant::now();
    let out = bin()
        .arg("classify")
        .write_stdin(input)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_no_panic(&String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 out");
    assert_eq!(stdout.lines().count(), 1000);
    for line in stdout.lines() {
        let json: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert!(INTENT_IDS.contains(&json["intent"].as_str().unwrap_or_default()));
    }
}

/// `check` on a copy with `pattern` added: it must finish within `limit`, exit 1, and name
/// the pattern's file and line with what is wrong.
fn check_refuses(pattern: &str, what: &str, limit: Duration) {
    let dir = copy_responses();
    let line = insert_pattern(dir.path(), pattern);
    let started = Instant::now();
    let out = bin()
        .args(["--responses", dir.path().to_str().expect("utf-8"), "check"])
        .timeout(limit * 3)
        .output()
        .expect("runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_panic(&stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < limit, "check took {took:?} on {pattern}");
    let at = format!("intents.toml:{line}:");
    assert!(
        stderr.lines().any(|l| l.contains(&at) && l.contains(what)),
        "no `{at} ... {what}` for {pattern} in:\n{stderr}"
    );
}

#[test]
fn the_compiled_size_limit_is_set() {
    let limit = safeguard_bot::matcher::SIZE_LIMIT;
    assert!((1 << 20..=256 << 20).contains(&limit), "{limit}");
}

#[test]
fn a_table_ten_times_the_size_compiles_and_answers() {
    // Once refused: the order-checking automaton needed more than its cache limit.
    let brain = Brain::new(support::ten_times_the_table()).expect("compiles");
    let reply = brain.respond(Input::Text(LAW)).into_owned();
    assert_eq!(reply.intent, brain_reply_intent(LAW));
}

fn brain_reply_intent(text: &str) -> String {
    brain().respond(Input::Text(text)).into_owned().intent
}

#[test]
fn check_refuses_a_catastrophic_alternation_repeat() {
    check_refuses(r"(a|aa){5000}{5000}", "limit", Duration::from_secs(20));
}

#[test]
fn check_refuses_a_catastrophic_class_repeat() {
    check_refuses(r"\w{10000}{10000}", "limit", Duration::from_secs(20));
}

#[test]
fn check_refuses_a_pattern_nested_too_deep() {
    let deep = format!("{}a{}", "(".repeat(1000), ")".repeat(1000));
    check_refuses(&deep, "does not compile", Duration::from_secs(20));
}

#[test]
fn a_catastrophic_table_fails_to_load_quickly() {
    let dir = copy_responses();
    let line = insert_pattern(dir.path(), r"(a|aa){5000}{5000}");
    let started = Instant::now();
    let problems = Brain::load(Some(dir.path())).expect_err("refused");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        problems
            .iter()
            .any(|p| p.at.line == line && p.at.file.ends_with("intents.toml")),
        "{problems:?}"
    );
}

#[test]
fn a_pattern_whose_dfa_explodes_still_answers_in_linear_time() {
    // (a|b)*a(a|b){12} needs 2^13 DFA states: the lazy DFA keeps clearing its cache, but
    // each byte still costs a bounded amount of work.
    let dir = copy_responses();
    insert_pattern(dir.path(), r"(a|b)*a(a|b){12}");
    let brain = Brain::load(Some(dir.path())).expect("compiles");
    let mut text = String::with_capacity(20_000);
    let mut x: u32 = 1;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        text.push(if x & 0x1_0000 == 0 { 'a' } else { 'b' });
    }
    let started = Instant::now();
    let reply = brain.respond(Input::Text(&text)).into_owned();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        reply.intent, "emergency",
        "the pattern was added to emergency"
    );
}

#[test]
fn a_pattern_that_runs_on_across_words_stays_linear() {
    // A part that can stretch over the rest of the message (`.*` inside a group, where it is
    // not cut out) must not be run again from every word: 20,000 words would take minutes.
    let dir = copy_responses();
    insert_pattern(dir.path(), r"\bhelp (me|.*zzz)");
    let brain = Brain::new(
        safeguard_bot::content::Content::load_dir(dir.path()).expect("the folder parses"),
    )
    .expect("compiles");
    let text = "help ".repeat(20_000);
    let started = Instant::now();
    let reply = brain.respond(Input::Text(&text)).into_owned();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_answers(&reply);
}
