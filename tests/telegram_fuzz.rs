//! The handler tree fed arbitrary updates, not only the brain arbitrary bytes (issue 14, point 7):
//! texts and captions with emoji, message entities of every kind at random offsets and lengths
//! (past the end, overflowing, inside a surrogate pair), in private chats and groups, as
//! commands, mentions and replies. No update may make a handler panic (the panic counter stays
//! at zero), and every one is handled.

mod support;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use safeguard_bot::telegram::entities;
use safeguard_bot::telegram::handlers::{dependencies, schema};
use safeguard_bot::telegram::metrics::Metrics;
use safeguard_bot::telegram::recent::Recent;
use safeguard_bot::telegram::send::Patience;
use serde_json::{json, Value};
use support::fake_api::{bot_user, FakeApi, BOT_USERNAME};
use support::updates as u;
use teloxide::types::{MessageEntity, MessageEntityKind, Update};

/// Pieces texts are made of: ASCII, the bot's name, emoji (surrogate pairs in UTF-16),
/// combining marks, CJK, a zero-width joiner sequence, a slash command.
const PIECES: [&str; 12] = [
    "hello",
    " ",
    "@",
    "@safeguard_test_bot",
    "\u{1F600}",
    "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
    "e\u{301}",
    "\u{4F60}\u{597D}",
    "/help",
    "\u{10FFFF}",
    "what is the number for childline",
    "\n",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES.to_vec()), 0..8)
            .prop_map(|pieces| pieces.concat()),
        any::<String>(),
    ]
}

/// An offset or a length in UTF-16 units: mostly small (near or inside the text), sometimes huge.
fn units() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 0usize..48,
        1 => Just(usize::MAX),
        1 => any::<usize>(),
    ]
}

/// An entity as the Bot API sends it, of any kind teloxide knows, with arbitrary units.
fn entity() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just(json!({ "type": "mention" })),
        Just(json!({ "type": "text_mention", "user": bot_user() })),
        Just(json!({ "type": "text_mention", "user": u::user(77) })),
        Just(json!({ "type": "bot_command" })),
        Just(json!({ "type": "hashtag" })),
        Just(json!({ "type": "url" })),
        Just(json!({ "type": "bold" })),
        Just(json!({ "type": "pre", "language": "rust" })),
        Just(json!({ "type": "text_link", "url": "https://example.org/" })),
        Just(json!({ "type": "custom_emoji", "custom_emoji_id": "5368324170671202286" })),
        Just(json!({ "type": "spoiler" })),
        Just(json!({ "type": "blockquote" })),
    ];
    (kind, units(), units()).prop_map(|(mut kind, offset, length)| {
        kind["offset"] = offset.into();
        kind["length"] = length.into();
        kind
    })
}

/// Where a message is and what it is.
#[derive(Debug, Clone, Copy)]
enum Shape {
    PrivateText,
    GroupText,
    GroupReplyToBot,
    GroupPhotoWithCaption,
    PrivatePhotoWithCaption,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop::sample::select(vec![
        Shape::PrivateText,
        Shape::GroupText,
        Shape::GroupReplyToBot,
        Shape::GroupPhotoWithCaption,
        Shape::PrivatePhotoWithCaption,
    ])
}

static NEXT_CHAT: AtomicI64 = AtomicI64::new(1);

/// An update of `shape` carrying `text` and `entities` (as the text's or the caption's).
fn update(shape: Shape, text: &str, entities: Vec<Value>) -> Value {
    let n = NEXT_CHAT.fetch_add(1, Ordering::Relaxed);
    let (chat, group) = (u::private_chat_id(1_000 + n), u::group_id(1_000 + n));
    let (mut update, field) = match shape {
        Shape::PrivateText => (u::private_text(chat, text), "entities"),
        Shape::GroupText => (u::group_text(group, chat, text), "entities"),
        Shape::GroupReplyToBot => (u::group_reply_to_bot(group, chat, text), "entities"),
        Shape::GroupPhotoWithCaption => {
            let mut update = u::group_media(group, chat, u::Media::Photo);
            update["message"]["caption"] = text.into();
            (update, "caption_entities")
        }
        Shape::PrivatePhotoWithCaption => {
            let mut update = u::private_media(chat, u::Media::Photo);
            update["message"]["caption"] = text.into();
            (update, "caption_entities")
        }
    };
    update["message"][field] = entities.into();
    update["update_id"] = 1.into();
    update
}

/// The panic counter's value as `/metrics` shows it.
fn panics(metrics: &Metrics) -> u64 {
    metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix("safeguard_update_panics_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the panic counter is shown")
}

/// `cases` cases, or `PROPTEST_CASES` if set (a longer run by hand).
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// `entities::parse` never panics, keeps exactly the entities that lie on character boundaries
/// within the text, and gives each the text its UTF-16 range names.
#[test]
fn checked_entities_never_panic_and_name_the_right_text() {
    let mut runner = TestRunner::new(config(2_000));
    let strategy = (text(), prop::collection::vec((units(), units()), 0..6));
    runner
        .run(&strategy, |(text, spans)| {
            let given: Vec<MessageEntity> = spans
                .iter()
                .map(|&(offset, length)| {
                    MessageEntity::new(MessageEntityKind::Bold, offset, length)
                })
                .collect();
            let units: Vec<u16> = text.encode_utf16().collect();
            let expected: Vec<String> = spans
                .iter()
                .filter_map(|&(offset, length)| {
                    let end = offset.checked_add(length)?;
                    let slice = units.get(offset..end)?;
                    // Not splitting a surrogate pair: the slice, and what precedes it, decode.
                    let before = String::from_utf16(&units[..offset]).ok()?;
                    let inside = String::from_utf16(slice).ok()?;
                    text.starts_with(&before).then_some(inside)
                })
                .collect();
            let parsed: Vec<String> = entities::parse(&text, &given)
                .iter()
                .map(|e| e.text().to_owned())
                .collect();
            prop_assert_eq!(parsed, expected);
            Ok(())
        })
        .unwrap();
}

/// Arbitrary messages through the whole handler tree, as the dispatcher and the webhook run it,
/// against the fake Bot API: each is handled (answered or left alone) and none panics.
#[test]
fn arbitrary_messages_through_the_handler_tree_never_panic() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let fake = runtime.block_on(FakeApi::start());
    let (bot, me, brain, metrics) = runtime.block_on(support::connected_bot(&fake));
    assert_eq!(me.user.username.as_deref(), Some(BOT_USERNAME));
    let recent = Arc::new(Recent::new());
    let tree = schema();
    // Cases average about 0.17 s in a debug build (the answered ones are real sends to the
    // fake through the throttle): 128 cases keep this test under half a minute.
    let mut runner = TestRunner::new(config(128));
    let strategy = (shape(), text(), prop::collection::vec(entity(), 0..5));
    runner
        .run(&strategy, |(shape, text, entities)| {
            let update = update(shape, &text, entities);
            let update: Update = serde_json::from_str(&update.to_string()).expect("a valid update");
            let deps = dependencies(
                &bot,
                &me,
                &brain,
                &metrics,
                &recent,
                Patience::BRIEF,
                update,
            );
            let before = panics(&metrics);
            let outcome = runtime.block_on(tree.dispatch(deps));
            prop_assert!(matches!(outcome, ControlFlow::Break(Ok(()))));
            prop_assert_eq!(
                panics(&metrics),
                before,
                "a handler panicked on {:?} {:?}",
                shape,
                text
            );
            Ok(())
        })
        .unwrap();
    assert!(!fake.sent().is_empty(), "private chats were answered");
    assert_eq!(panics(&metrics), 0);
}
