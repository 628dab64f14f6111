//! The handler tree, update by update, with a real teloxide bot talking to the fake Bot API.
//!
//! Each test dispatches updates through `handlers::schema()` exactly as the dispatcher and the
//! webhook do, then asserts on what the fake server received: what a Telegram user would see.

mod support;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use safeguard_bot::telegram::forget;
use safeguard_bot::telegram::handlers::{dependencies, schema, HandlerResult};
use safeguard_bot::telegram::metrics::Metrics;
use safeguard_bot::telegram::recent::Recent;
use safeguard_bot::telegram::send::Patience;
use safeguard_bot::telegram::{SharedBrain, TgBot};
use safeguard_bot::{Button, Input, Reply};
use serde_json::Value;
use support::fake_api::{FakeApi, Fault, Sent, BOT_USERNAME};
use support::updates::{self as u, Media, ALL_MEDIA};
use teloxide::dptree;
use teloxide::dptree::di::DependencyMap;
use teloxide::types::{Me, Update};

struct Harness {
    fake: FakeApi,
    bot: TgBot,
    me: Me,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    recent: Arc<Recent>,
}

impl Harness {
    async fn start() -> Self {
        let fake = FakeApi::start().await;
        let (bot, me, brain, metrics) = support::connected_bot(&fake).await;
        Self {
            fake,
            bot,
            me,
            brain,
            metrics,
            recent: Arc::new(Recent::new()),
        }
    }

    /// What the handler tree gets for `update`, as the inbox builds it.
    fn deps(&self, mut update: Value) -> DependencyMap {
        update["update_id"] = 1.into();
        // From text, as the Bot API's bytes arrive: teloxide's `Update` does not deserialize
        // from a `serde_json::Value`.
        let update: Update = serde_json::from_str(&update.to_string()).expect("a valid update");
        dependencies(
            &self.bot,
            &self.me,
            &self.brain,
            &self.metrics,
            &self.recent,
            Patience::BRIEF,
            update,
        )
    }

    async fn dispatch(&self, update: Value) -> ControlFlow<HandlerResult, DependencyMap> {
        schema().dispatch(self.deps(update)).await
    }

    /// Dispatch and expect the handler tree to have handled it without error.
    async fn handled(&self, update: Value) {
        match self.dispatch(update).await {
            ControlFlow::Break(Ok(())) => {}
            ControlFlow::Break(Err(e)) => panic!("handler failed: {e}"),
            ControlFlow::Continue(_) => panic!("no branch took the update"),
        }
    }

    /// Dispatch `updates` at once, as the dispatcher does for different chats (the throttle
    /// then releases their replies together), each expected to be handled.
    async fn handled_all(&self, updates: Vec<Value>) {
        futures::future::join_all(updates.into_iter().map(|update| self.handled(update))).await;
    }

    fn respond(&self, input: Input<'_>) -> Reply {
        self.brain.current().respond(input).into_owned()
    }

    fn only_reply_to(&self, chat: i64) -> Sent {
        let sent = self.fake.sent_to(chat);
        assert_eq!(sent.len(), 1, "expected exactly one reply, got {sent:?}");
        sent.into_iter().next().expect("one reply")
    }
}

/// The inline keyboard Telegram received, as (label, callback data or url) per row.
fn keyboard(sent: &Sent) -> Vec<(String, String)> {
    let rows = sent.body["reply_markup"]["inline_keyboard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rows.iter()
        .map(|row| {
            assert_eq!(row.as_array().map(Vec::len), Some(1), "one button a row");
            let b = &row[0];
            let target = b["callback_data"].as_str().or(b["url"].as_str());
            (
                b["text"].as_str().unwrap_or_default().to_owned(),
                target.unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn expected_keyboard(reply: &Reply) -> Vec<(String, String)> {
    reply
        .buttons
        .iter()
        .map(|b| match b {
            Button::Topic { label, intent } => (label.clone(), format!("topic:{intent}")),
            Button::Link { label, url } => (label.clone(), url.clone()),
        })
        .collect()
}

#[tokio::test]
async fn commands_are_registered_at_start_up() {
    let h = Harness::start().await;
    let calls = h.fake.calls("setMyCommands");
    assert_eq!(calls.len(), 1);
    let registered: Vec<&str> = calls[0].body["commands"]
        .as_array()
        .expect("a list of commands")
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    let mut expected: Vec<String> = h
        .brain
        .current()
        .commands()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    expected.push("forget".to_owned());
    assert_eq!(registered, expected);
    for name in [
        "start", "help", "report", "sexting", "parents", "figures", "contacts", "privacy", "forget",
    ] {
        assert!(registered.contains(&name), "/{name} is registered");
    }
}

#[tokio::test]
async fn a_private_text_gets_exactly_one_plain_reply_from_the_brain() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(1);
    let text = "how do i report a sexual image of a child i found online";
    h.handled(u::private_text(chat, text)).await;
    let sent = h.only_reply_to(chat);
    let expected = h.respond(Input::Text(text));
    assert_eq!(expected.intent, "report_image");
    assert_eq!(sent.text, expected.reply);
    assert!(
        sent.body.get("parse_mode").is_none(),
        "plain text, no parse mode"
    );
    assert!(
        sent.body.get("reply_parameters").is_none(),
        "no quoting in private chats"
    );
    assert_eq!(keyboard(&sent), expected_keyboard(&expected));
    assert!(
        keyboard(&sent)
            .iter()
            .any(|(_, url)| url.starts_with("https://")),
        "a link button opens the reporting site"
    );
}

#[tokio::test]
async fn start_and_help_show_the_welcome_with_topic_buttons() {
    let h = Harness::start().await;
    let welcome = h.respond(Input::Command("start"));
    let commands = ["/start", "/help", "/HELP@safeguard_test_bot"];
    let chat = |n: usize| u::private_chat_id(10 + n as i64);
    h.handled_all(
        commands
            .iter()
            .enumerate()
            .map(|(n, command)| u::private_command(chat(n), command))
            .collect(),
    )
    .await;
    for (n, command) in commands.iter().enumerate() {
        let sent = h.only_reply_to(chat(n));
        assert_eq!(sent.text, welcome.reply, "{command}");
        let buttons = keyboard(&sent);
        assert!(buttons.len() >= 4, "{command} offers the topics");
        assert!(buttons.iter().all(|(_, data)| data.starts_with("topic:")));
    }
}

#[tokio::test]
async fn every_registered_command_answers_with_its_own_topic() {
    let h = Harness::start().await;
    let commands = h.brain.current().commands();
    let chat = |n: usize| u::private_chat_id(100 + n as i64);
    h.handled_all(
        commands
            .iter()
            .enumerate()
            .map(|(n, (command, _))| u::private_command(chat(n), &format!("/{command}")))
            .collect(),
    )
    .await;
    for (n, (command, _)) in commands.iter().enumerate() {
        let chat = chat(n);
        let expected = h.respond(Input::Command(command));
        assert_ne!(expected.intent, "fallback", "/{command} has a topic");
        assert_eq!(h.only_reply_to(chat).text, expected.reply, "/{command}");
    }
}

#[tokio::test]
async fn an_unknown_command_in_a_private_chat_gets_the_fallback() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(20);
    h.handled(u::private_command(chat, "/weather")).await;
    assert_eq!(
        h.only_reply_to(chat).text,
        h.respond(Input::Command("weather")).reply
    );
    assert_eq!(h.respond(Input::Command("weather")).intent, "fallback");
}

#[tokio::test]
async fn a_button_press_is_acknowledged_then_answered_with_its_topic() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(30);
    h.handled(u::button_press(chat, "topic:sexting_law")).await;
    let sent = h.only_reply_to(chat);
    assert_eq!(sent.text, h.respond(Input::Topic("sexting_law")).reply);
    let answered = h.fake.calls("answerCallbackQuery");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].body["callback_query_id"], format!("cbq{chat}"));
    assert!(
        answered[0].at <= sent.at,
        "the spinner stops before the topic arrives"
    );
}

#[tokio::test]
async fn a_button_with_unknown_data_is_acknowledged_and_gets_the_fallback() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(31);
    h.handled(u::button_press(chat, "topic:retired_topic"))
        .await;
    assert_eq!(h.fake.calls("answerCallbackQuery").len(), 1);
    let fallback = h.respond(Input::Topic("retired_topic"));
    assert_eq!(fallback.intent, "fallback");
    assert_eq!(h.only_reply_to(chat).text, fallback.reply);
}

#[tokio::test]
async fn a_failed_acknowledgement_is_retried_and_the_topic_still_arrives() {
    let h = Harness::start().await;
    h.fake.inject("answerCallbackQuery", Fault::RetryAfter(1));
    let chat = u::private_chat_id(32);
    h.handled(u::button_press(chat, "topic:contacts")).await;
    assert_eq!(h.fake.calls("answerCallbackQuery").len(), 2);
    assert_eq!(
        h.only_reply_to(chat).text,
        h.respond(Input::Topic("contacts")).reply
    );
}

#[tokio::test]
async fn media_is_never_downloaded_and_gets_the_media_reply() {
    let h = Harness::start().await;
    let media_reply = h.respond(Input::Media);
    assert!(
        media_reply.reply.to_lowercase().contains("iwf")
            || media_reply.reply.contains("Internet Watch")
    );
    let chat = |n: usize| u::private_chat_id(40 + n as i64);
    h.handled_all(
        ALL_MEDIA
            .iter()
            .enumerate()
            .map(|(n, media)| u::private_media(chat(n), *media))
            .collect(),
    )
    .await;
    for (n, media) in ALL_MEDIA.iter().enumerate() {
        assert_eq!(
            h.only_reply_to(chat(n)).text,
            media_reply.reply,
            "{media:?}"
        );
    }
    assert!(
        h.fake.calls("getFile").is_empty(),
        "no file was ever fetched"
    );
}

#[tokio::test]
async fn a_location_in_a_private_chat_gets_the_fallback_with_the_helplines() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(50);
    h.handled(u::private_location(chat)).await;
    let sent = h.only_reply_to(chat);
    assert_eq!(sent.text, h.respond(Input::Text("")).reply);
    assert!(
        sent.text.contains("0800 1111"),
        "Childline's number is given"
    );
}

#[tokio::test]
async fn in_a_group_messages_for_the_bot_are_answered_as_replies() {
    let h = Harness::start().await;
    let question = "what is the number for childline";
    let cases = [
        (
            "mention entity",
            u::group_mention(u::group_id(1), 1, question),
        ),
        (
            "name without entity",
            u::group_mention_without_entity(u::group_id(2), 2, question),
        ),
        (
            "reply to the bot",
            u::group_reply_to_bot(u::group_id(3), 3, question),
        ),
        (
            "own command",
            u::group_command(u::group_id(4), 4, "/contacts"),
        ),
        (
            "command by name",
            u::group_command(u::group_id(5), 5, &format!("/contacts@{BOT_USERNAME}")),
        ),
        (
            "unknown command by name",
            u::group_command(u::group_id(6), 6, &format!("/weather@{BOT_USERNAME}")),
        ),
    ];
    h.handled_all(cases.iter().map(|(_, update)| update.clone()).collect())
        .await;
    for (what, update) in cases {
        let group = update["message"]["chat"]["id"].as_i64().expect("group id");
        let replied_to = update["message"]["message_id"].clone();
        let sent = h.only_reply_to(group);
        assert_eq!(
            sent.body["reply_parameters"]["message_id"], replied_to,
            "{what}: answers that message"
        );
        assert!(!sent.text.is_empty(), "{what}");
    }
    let expected = h.respond(Input::Text(question)).reply;
    assert_eq!(
        h.only_reply_to(u::group_id(1)).text,
        expected,
        "the mention is taken out of the question"
    );
    assert_eq!(h.only_reply_to(u::group_id(2)).text, expected);
    assert_eq!(
        h.only_reply_to(u::group_id(4)).text,
        h.respond(Input::Command("contacts")).reply
    );
}

#[tokio::test]
async fn in_a_group_everything_else_is_left_alone() {
    let h = Harness::start().await;
    let text = "what is the number for childline";
    let cases = [
        u::group_text(u::group_id(11), 1, text),
        u::group_mention_of_other_bot(u::group_id(12), 2, text),
        u::group_reply_to_person(u::group_id(13), 3, 4, text),
        u::group_command(u::group_id(14), 5, "/contacts@other_bot"),
        u::group_command(u::group_id(15), 6, "/weather"),
        u::group_media(u::group_id(16), 7, Media::Photo),
        u::group_mention_from_bot(u::group_id(17), text),
        u::group_member_joined(u::group_id(18), 8),
    ];
    for (n, update) in cases.into_iter().enumerate() {
        let outcome = h.dispatch(update).await;
        assert!(
            matches!(outcome, ControlFlow::Break(Ok(()))),
            "case {n} is handled by being ignored"
        );
    }
    assert!(
        h.fake.sent().is_empty(),
        "nothing was sent: {:?}",
        h.fake.sent()
    );
}

#[tokio::test]
async fn edits_channel_posts_and_unknown_kinds_get_no_reply() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(60);
    assert!(matches!(
        h.dispatch(u::edited_text(chat, "where do i report an image"))
            .await,
        ControlFlow::Break(Ok(()))
    ));
    assert!(matches!(
        h.dispatch(u::channel_post(-1_001_234_567_890, "report an image"))
            .await,
        ControlFlow::Break(Ok(()))
    ));
    assert!(matches!(
        h.dispatch(u::unknown_kind("report an image")).await,
        ControlFlow::Continue(_)
    ));
    assert!(h.fake.sent().is_empty());
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_reply_arrives_once() {
    let h = Harness::start().await;
    h.fake.inject("sendMessage", Fault::RetryAfter(1));
    let chat = u::private_chat_id(70);
    let started = Instant::now();
    h.handled(u::private_text(chat, "is sexting illegal")).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry_after was honoured"
    );
    assert_eq!(h.fake.calls("sendMessage").len(), 2);
    assert_eq!(
        h.only_reply_to(chat).text,
        h.respond(Input::Text("is sexting illegal")).reply
    );
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_the_reply_arrives_once() {
    let h = Harness::start().await;
    h.fake.inject("sendMessage", Fault::Drop);
    h.fake.inject("sendMessage", Fault::Drop);
    let chat = u::private_chat_id(71);
    h.handled(u::private_text(chat, "hello")).await;
    assert_eq!(h.fake.calls("sendMessage").len(), 3);
    h.only_reply_to(chat);
}

#[tokio::test]
async fn a_reply_lost_on_the_way_back_is_sent_again_and_counted_as_a_possible_double() {
    let h = Harness::start().await;
    h.fake.inject("sendMessage", Fault::Lost);
    let chat = u::private_chat_id(73);
    h.handled(u::private_text(chat, "hello")).await;
    assert_eq!(h.fake.sent_to(chat).len(), 2, "the person has it twice");
    let out = h.metrics.render();
    assert!(
        out.contains(r#"safeguard_possible_double_replies_total{method="sendMessage"} 1"#),
        "{out}"
    );
}

#[tokio::test]
async fn a_429_is_no_possible_double() {
    let h = Harness::start().await;
    h.fake.inject("sendMessage", Fault::RetryAfter(1));
    h.handled(u::private_text(u::private_chat_id(74), "hello"))
        .await;
    assert!(!h
        .metrics
        .render()
        .contains("safeguard_possible_double_replies_total{"));
}

#[tokio::test]
async fn a_reply_that_cannot_be_sent_is_an_error_after_bounded_retries() {
    let h = Harness::start().await;
    for _ in 0..Patience::BRIEF.tries() + 10 {
        h.fake.inject("sendMessage", Fault::Drop);
    }
    let chat = u::private_chat_id(72);
    let outcome = h.dispatch(u::private_text(chat, "hello")).await;
    assert!(matches!(outcome, ControlFlow::Break(Err(_))));
    // Every try fails at once, so the window allows this many; fewer if the machine is slow.
    let tries = h.fake.calls("sendMessage").len();
    assert!(
        (2..=Patience::BRIEF.tries() as usize).contains(&tries),
        "{tries} tries"
    );
    assert!(h.fake.sent().is_empty());
}

/// Dispatch `update` and return the id of the message it carries.
async fn handled_id(h: &Harness, update: Value) -> i64 {
    let id = u::message_id_of(&update);
    h.handled(update).await;
    id
}

#[tokio::test]
async fn forget_deletes_both_sides_of_this_private_chat_and_nothing_else() {
    let h = Harness::start().await;
    let (chat, other) = (u::private_chat_id(80), u::private_chat_id(81));
    let mut theirs = vec![
        handled_id(&h, u::private_text(chat, "is sexting illegal")).await,
        handled_id(&h, u::private_media(chat, Media::Photo)).await,
        handled_id(&h, u::private_location(chat)).await,
    ];
    h.handled(u::button_press(chat, "topic:contacts")).await;
    h.handled(u::edited_text(chat, "is sexting illegal at 15"))
        .await;
    let untouched = handled_id(&h, u::private_text(other, "hello")).await;
    let ours: Vec<i64> = h.fake.sent_to(chat).iter().map(|s| s.message_id).collect();
    assert_eq!(ours.len(), 4, "four replies before /forget");

    theirs.push(handled_id(&h, u::private_command(chat, "/forget")).await);
    let mut expected: Vec<i64> = theirs.iter().chain(&ours).copied().collect();
    expected.sort_unstable();
    assert_eq!(
        h.fake.deleted_in(chat),
        expected,
        "the person's and the bot's, /forget too"
    );
    assert!(
        h.fake.deleted_in(other).is_empty(),
        "another chat is untouched"
    );
    assert!(h.fake.deleted().iter().all(|(_, id)| *id != untouched));
    assert_eq!(
        h.fake.calls("deleteMessages").len(),
        1,
        "one call for up to 100 ids"
    );

    let note = h.fake.sent_to(chat).pop().expect("the note");
    assert_eq!(note.text, forget_texts().done);
    assert!(note.text.contains("delete the chat itself"));
    assert_eq!(
        keyboard(&note),
        vec![(forget_texts().button, forget::NOTE_BUTTON_DATA.to_owned())]
    );
    assert_eq!(
        h.fake.sent_to(other).len(),
        1,
        "the other chat got only its reply"
    );

    h.handled(u::button_press_on(
        chat,
        forget::NOTE_BUTTON_DATA,
        note.message_id,
    ))
    .await;
    assert_eq!(
        h.fake.calls("answerCallbackQuery").len(),
        2,
        "both buttons stop spinning"
    );
    let single = h.fake.calls("deleteMessage");
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].body["chat_id"], chat);
    assert_eq!(single[0].body["message_id"], note.message_id);
    assert_eq!(h.fake.sent_to(chat).len(), 5, "the button sends nothing");
}

#[tokio::test]
async fn a_second_forget_takes_the_note_and_only_what_came_after() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(82);
    let first = handled_id(&h, u::private_text(chat, "hello")).await;
    let forget1 = handled_id(&h, u::private_command(chat, "/forget")).await;
    let note = h.fake.sent_to(chat).pop().expect("note").message_id;
    let reply = h.fake.sent_to(chat)[0].message_id;
    let mut expected = vec![first, forget1, reply];
    expected.sort_unstable();
    assert_eq!(h.fake.deleted_in(chat), expected);

    let forget2 = handled_id(&h, u::private_command(chat, "/forget")).await;
    let calls = h.fake.calls("deleteMessages");
    assert_eq!(calls.len(), 2);
    let mut second: Vec<i64> = calls[1].body["message_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    second.sort_unstable();
    let mut want = vec![note, forget2];
    want.sort_unstable();
    assert_eq!(
        second, want,
        "the first note and the second /forget, nothing twice"
    );
}

#[tokio::test]
async fn a_long_conversation_is_deleted_100_messages_a_call() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(83);
    h.handled_all((0..50).map(|_| u::private_text(chat, "hello")).collect())
        .await;
    h.handled(u::private_command(chat, "/forget")).await;
    let calls = h.fake.calls("deleteMessages");
    let sizes: Vec<usize> = calls
        .iter()
        .map(|c| c.body["message_ids"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, vec![100, 1], "50 texts, 50 replies and /forget");
    assert_eq!(h.fake.deleted_in(chat).len(), 101);
}

#[tokio::test]
async fn when_telegram_refuses_a_deletion_the_note_says_to_delete_the_rest_by_hand() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(84);
    h.handled(u::private_text(chat, "hello")).await;
    h.fake.inject("deleteMessages", Fault::Refuse);
    h.handled(u::private_command(chat, "/forget")).await;
    assert_eq!(
        h.fake.calls("deleteMessages").len(),
        1,
        "a refusal is not retried"
    );
    let note = h.fake.sent_to(chat).pop().expect("the note");
    assert_eq!(note.text, forget_texts().partial);
    let out = h.metrics.render();
    assert!(
        out.contains(r#"safeguard_api_errors_total{kind="refused",method="deleteMessages"} 1"#),
        "{out}"
    );
}

#[tokio::test]
async fn forget_in_a_group_deletes_nothing_and_says_to_use_a_private_chat() {
    let h = Harness::start().await;
    let group = u::group_id(80);
    h.handled(u::group_mention(
        group,
        1,
        "what is the number for childline",
    ))
    .await;
    for command in ["/forget", &format!("/forget@{BOT_USERNAME}")] {
        h.handled(u::group_command(group, 2, command)).await;
    }
    assert!(h.fake.calls("deleteMessages").is_empty());
    assert!(h.fake.calls("deleteMessage").is_empty());
    let notes: Vec<Sent> = h.fake.sent_to(group).into_iter().skip(1).collect();
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| n.text == forget_texts().in_group));
    assert!(h.recent.is_empty(), "nothing is remembered for groups");
}

#[tokio::test]
async fn updates_and_replies_are_counted_by_kind_and_intent() {
    let h = Harness::start().await;
    let chat = u::private_chat_id(90);
    let text = "how do i report a sexual image of a child i found online";
    h.handled(u::private_text(chat, text)).await;
    h.handled(u::private_text(chat, "qwertyuiop")).await;
    h.handled(u::private_command(chat, "/start")).await;
    h.handled(u::private_media(chat, Media::Voice)).await;
    h.handled(u::button_press(chat, "topic:contacts")).await;
    h.handled(u::group_text(u::group_id(90), 1, text)).await;
    h.handled(u::edited_text(chat, text)).await;
    h.handled(u::private_command(chat, "/forget")).await;
    let out = h.metrics.render();
    for line in [
        r#"safeguard_updates_total{kind="text"} 2"#,
        r#"safeguard_updates_total{kind="command"} 1"#,
        r#"safeguard_updates_total{kind="media"} 1"#,
        r#"safeguard_updates_total{kind="button"} 1"#,
        r#"safeguard_updates_total{kind="ignored"} 1"#,
        r#"safeguard_updates_total{kind="edited_message"} 1"#,
        r#"safeguard_updates_total{kind="forget"} 1"#,
        r#"safeguard_replies_total{intent="report_image",kind="answer"} 1"#,
        r#"safeguard_replies_total{intent="fallback",kind="fallback"} 1"#,
        r#"safeguard_replies_total{intent="help",kind="answer"} 1"#,
        r#"safeguard_replies_total{intent="contacts",kind="answer"} 1"#,
        "safeguard_reply_seconds_count 5",
    ] {
        assert!(out.contains(line), "{line} missing from:\n{out}");
    }
    for personal in [
        text.to_owned(),
        "qwertyuiop".to_owned(),
        chat.to_string(),
        u::first_name(chat),
        u::username(chat),
    ] {
        assert!(!out.contains(&personal), "{personal} in:\n{out}");
    }
}

/// `update` with its message's `entities` replaced by `entities`.
fn with_entities(mut update: Value, entities: Value) -> Value {
    update["message"]["entities"] = entities;
    update
}

#[tokio::test]
async fn entities_past_the_end_or_inside_an_emoji_are_ignored_without_a_panic() {
    let h = Harness::start().await;
    let group = u::group_id(95);
    let cases = [
        (
            "hello",
            serde_json::json!([{ "type": "mention", "offset": 1000, "length": 19 }]),
        ),
        (
            "hello",
            serde_json::json!([{ "type": "mention", "offset": 3, "length": 3 }]),
        ),
        (
            "hello",
            serde_json::json!([{ "type": "mention", "offset": usize::MAX, "length": 2 }]),
        ),
        (
            "\u{1F600}hello",
            serde_json::json!([{ "type": "mention", "offset": 1, "length": 3 }]),
        ),
        (
            "\u{1F600}hello",
            serde_json::json!([{ "type": "mention", "offset": 0, "length": 1 }]),
        ),
        (
            "hi \u{1F600}",
            serde_json::json!([{ "type": "bold", "offset": 4, "length": 1 }]),
        ),
    ];
    for (text, entities) in cases {
        let update = with_entities(u::group_text(group, 1, text), entities.clone());
        assert!(
            matches!(h.dispatch(update).await, ControlFlow::Break(Ok(()))),
            "{text:?} {entities}: ignored"
        );
    }
    // In a caption too (a photo in a group).
    let mut photo = u::group_media(group, 1, Media::Photo);
    photo["message"]["caption_entities"] =
        serde_json::json!([{ "type": "mention", "offset": 500, "length": 5 }]);
    assert!(matches!(
        h.dispatch(photo).await,
        ControlFlow::Break(Ok(()))
    ));
    assert!(h.fake.sent().is_empty(), "none of them addresses the bot");
    // In a private chat the message is answered whatever its entities say.
    let chat = u::private_chat_id(95);
    let update = with_entities(
        u::private_text(chat, "hello"),
        serde_json::json!([{ "type": "mention", "offset": 1000, "length": 19 }]),
    );
    h.handled(update).await;
    assert_eq!(h.fake.sent_to(chat).len(), 1);
    let out = h.metrics.render();
    assert!(out.contains("safeguard_update_panics_total 0"), "{out}");
}

#[tokio::test]
async fn a_valid_mention_beside_an_invalid_entity_still_addresses_the_bot() {
    let h = Harness::start().await;
    let group = u::group_id(96);
    // Only the entity names the bot (a text mention, no @name in the text).
    let text = "\u{1F600} Safeguard what is the number for childline";
    let update = with_entities(
        u::group_text(group, 1, text),
        serde_json::json!([
            { "type": "mention", "offset": 1, "length": 4 },
            { "type": "text_mention", "offset": 3, "length": 9, "user": support::fake_api::bot_user() },
            { "type": "bold", "offset": 9000, "length": 1 },
        ]),
    );
    h.handled(update).await;
    assert_eq!(h.fake.sent_to(group).len(), 1, "answered");
    assert!(h
        .metrics
        .render()
        .contains("safeguard_update_panics_total 0"));
}

/// Stands for a bug anywhere under the handler tree.
async fn explode() -> HandlerResult {
    panic!("a bug while handling an update")
}

#[tokio::test]
async fn a_panic_in_the_tree_drops_only_that_update_and_is_counted() {
    let h = Harness::start().await;
    let tree = safeguard_bot::telegram::handlers::guarded(
        dptree::entry()
            .branch(
                dptree::filter(|update: Update| {
                    update
                        .chat()
                        .is_some_and(|chat| chat.id.0 == u::private_chat_id(97))
                })
                .endpoint(explode),
            )
            .branch(schema()),
    );
    let dispatch = |chat: i64| {
        let deps = h.deps(u::private_text(chat, "hello"));
        let tree = tree.clone();
        async move { tree.dispatch(deps).await }
    };
    assert!(
        matches!(
            dispatch(u::private_chat_id(97)).await,
            ControlFlow::Break(Ok(()))
        ),
        "dropped as handled"
    );
    assert!(matches!(
        dispatch(u::private_chat_id(98)).await,
        ControlFlow::Break(Ok(()))
    ));
    assert!(h.fake.sent_to(u::private_chat_id(97)).is_empty());
    assert_eq!(h.fake.sent_to(u::private_chat_id(98)).len(), 1);
    let out = h.metrics.render();
    assert!(out.contains("safeguard_update_panics_total 1"), "{out}");
}

/// The /forget texts, as messages.toml words them.
fn forget_texts() -> safeguard_bot::brain::ForgetTexts {
    safeguard_bot::Brain::embedded()
        .expect("the shipped content loads")
        .forget_texts()
        .clone()
}

#[tokio::test]
async fn the_tree_gets_every_dependency_it_needs() {
    // dptree finds a missing dependency only when an update reaches the endpoint that needs
    // it (and the guard turns that panic into a dropped update); check them all up front.
    let h = Harness::start().await;
    let deps = h.deps(u::private_text(u::private_chat_id(99), "hello"));
    dptree::type_check(schema().sig(), &deps, &[]);
}
