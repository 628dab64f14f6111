//! Running it for real, end to end: the built binary against the fake Bot API.
//!
//! - `/metrics` after a scripted conversation, in polling mode (`--metrics-listen`) and on the
//!   webhook listener: the right counts, the content version, and none of the users' texts,
//!   names, usernames or ids; and the serving bot cannot dump core (a crash writes no memory,
//!   so no message, to disk).
//! - SIGHUP: a changed copy of `responses/` changes the replies; a broken one is refused with
//!   its first problem in the log, and the old content keeps answering; the metrics show the
//!   version and the reload results. Without `--responses` a reload says there is nothing to do.
//! - `/forget`: deletes exactly this chat's recent messages, the person's and the bot's, and no
//!   other chat's; the note's button deletes the note.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use safeguard_bot::content::Sources;
use safeguard_bot::telegram::forget;
use safeguard_bot::{Brain, Input, Kind, Reply};
use serde_json::Value;
use support::fake_api::{FakeApi, TOKEN};
use support::process::{assert_log_holds_none, free_port, BotProcess, RAISED_LIMITS};
use support::updates::{self as u, Media};

fn spawn(args: &[&str], fake: &FakeApi, extra: &[(&str, &str)]) -> BotProcess {
    let url = fake.url();
    let mut env = vec![
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", url.as_str()),
        ("RUST_LOG", "trace"),
    ];
    env.extend_from_slice(extra);
    let mut all = args.to_vec();
    all.extend(RAISED_LIMITS);
    BotProcess::spawn(&all, &env)
}

async fn wait_for(fake: &FakeApi, bot: &BotProcess, what: &str, done: impl Fn(&FakeApi) -> bool) {
    if !fake.wait_until(Duration::from_secs(30), done).await {
        panic!(
            "timed out waiting for {what}; the bot's log:\n{}",
            bot.log()
        );
    }
}

/// Wait until the bot's log holds `needle`.
async fn wait_for_log(bot: &BotProcess, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !bot.log().contains(needle) {
        if std::time::Instant::now() >= deadline {
            panic!(
                "timed out waiting for {needle:?} in the log:\n{}",
                bot.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn stop_cleanly(bot: &mut BotProcess) {
    let (status, _) =
        tokio::task::block_in_place(|| bot.stop_with("TERM", Duration::from_secs(10)));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit after SIGTERM:\n{}",
        bot.log()
    );
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the listener answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a text body"))
}

/// Wait until `GET url` answers 200 (the listener is up).
async fn wait_for_listener(url: &str, bot: &BotProcess) {
    for _ in 0..1500 {
        if let Ok(response) = reqwest::get(url).await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{url} never answered; the bot's log:\n{}", bot.log());
}

fn kind_label(reply: &Reply) -> &'static str {
    match reply.kind {
        Kind::Answer => "answer",
        Kind::DidYouMean => "did_you_mean",
        Kind::Fallback => "fallback",
    }
}

/// What the counters must say after a conversation: updates by kind, replies by
/// (intent, kind), and everything personal that must not appear.
#[derive(Default)]
struct Expected {
    updates: BTreeMap<&'static str, u64>,
    replies: BTreeMap<(String, &'static str), u64>,
    personal: Vec<String>,
}

impl Expected {
    fn update(&mut self, kind: &'static str, reply: Option<Reply>) {
        *self.updates.entry(kind).or_default() += 1;
        if let Some(reply) = reply {
            let label = kind_label(&reply);
            *self.replies.entry((reply.intent, label)).or_default() += 1;
        }
    }

    fn person(&mut self, id: i64, text: Option<&str>) {
        self.personal
            .extend([id.to_string(), u::first_name(id), u::username(id)]);
        if let Some(text) = text {
            self.personal.push(text.to_owned());
        }
    }

    fn reply_count(&self) -> u64 {
        self.replies.values().sum()
    }

    fn assert_scraped(&self, scraped: &str, version: &str) {
        for (kind, n) in &self.updates {
            let line = format!(r#"safeguard_updates_total{{kind="{kind}"}} {n}"#);
            assert!(scraped.contains(&line), "{line} missing:\n{scraped}");
        }
        for ((intent, kind), n) in &self.replies {
            let line = format!(r#"safeguard_replies_total{{intent="{intent}",kind="{kind}"}} {n}"#);
            assert!(scraped.contains(&line), "{line} missing:\n{scraped}");
        }
        let replies = scraped
            .lines()
            .filter(|l| l.starts_with("safeguard_replies_total{"))
            .count();
        assert_eq!(replies, self.replies.len(), "no other replies:\n{scraped}");
        let latency = format!("safeguard_reply_seconds_count {}", self.reply_count());
        assert!(scraped.contains(&latency), "{latency} missing:\n{scraped}");
        let version = format!(r#"safeguard_content_info{{version="{version}"}} 1"#);
        assert!(scraped.contains(&version), "{version} missing:\n{scraped}");
        assert_log_holds_none(scraped, &self.personal);
    }
}

/// A conversation touching every kind of update, delivered all at once; returns what the
/// counters must say and how many replies to wait for.
fn scripted_conversation(brain: &Brain) -> (Vec<Value>, Expected) {
    let mut updates = Vec::new();
    let mut e = Expected::default();
    let texts = [
        "how do i report a sexual image of a child i found online",
        "is it illegal for my daughter to send nudes at 15",
        "what is the number for childline",
        "sexting",
        "qwertyuiop zxcvbnm",
    ];
    for (n, text) in texts.iter().enumerate() {
        let chat = u::private_chat_id(500 + n as i64);
        let text = format!("{text} {n}");
        updates.push(u::private_text(chat, &text));
        e.update("text", Some(brain.respond(Input::Text(&text)).into_owned()));
        e.person(chat, Some(&text));
    }
    let chat = u::private_chat_id(510);
    updates.push(u::private_command(chat, "/start"));
    e.update(
        "command",
        Some(brain.respond(Input::Command("start")).into_owned()),
    );
    updates.push(u::private_media(chat, Media::Photo));
    e.update("media", Some(brain.respond(Input::Media).into_owned()));
    updates.push(u::button_press(chat, "topic:contacts"));
    e.update(
        "button",
        Some(brain.respond(Input::Topic("contacts")).into_owned()),
    );
    e.person(chat, None);
    let (group, member) = (u::group_id(510), u::private_chat_id(511));
    let chatter = "see you at the school gate at three";
    updates.push(u::group_text(group, member, chatter));
    e.update("ignored", None);
    e.person(member, Some(chatter));
    e.personal.push(group.to_string());
    let edited = "i meant to say something else";
    updates.push(u::edited_text(chat, edited));
    e.update("edited_message", None);
    e.personal.push(edited.to_owned());
    let posted = "the charity bake sale is on friday";
    updates.push(u::channel_post(-1_001_730_000_000_510, posted));
    e.update("channel_post", None);
    e.personal.push(posted.to_owned());
    let unknown = "words in an update kind from the future";
    updates.push(u::unknown_kind(unknown));
    e.update("other", None);
    e.personal.push(unknown.to_owned());
    e.personal.push(TOKEN.to_owned());
    (updates, e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_metrics_count_a_conversation_and_hold_no_user_data() {
    let fake = FakeApi::start().await;
    let brain = support::brain();
    let (updates, mut expected) = scripted_conversation(brain);
    // teloxide's dispatcher drops an update it cannot parse before any handler sees it (it
    // logs it, capped by the privacy logger); only the webhook counts it as `other`.
    expected.updates.remove("other");
    for update in updates {
        fake.push_update(update);
    }
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut bot = spawn(&["telegram", "--metrics-listen", &metrics_addr], &fake, &[]);
    let replies = expected.reply_count() as usize;
    wait_for(&fake, &bot, "every reply", |f| f.sent().len() >= replies).await;
    let (status, health) = get(&format!("http://{metrics_addr}/healthz")).await;
    assert_eq!((status, health.as_str()), (200, "ok"));
    // The reply is counted just after Telegram accepts it: give the last one a moment.
    let url = format!("http://{metrics_addr}/metrics");
    let mut scraped = String::new();
    for _ in 0..100 {
        scraped = get(&url).await.1;
        let want = format!("safeguard_reply_seconds_count {replies}");
        if scraped.contains(&want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    expected.assert_scraped(&scraped, brain.version());
    // A crash must not copy the conversation to disk: no core file, whatever the shell allowed.
    assert_eq!(
        bot.core_file_limits(),
        Some(("0".to_owned(), "0".to_owned())),
        "the serving bot must not be able to dump core"
    );
    stop_cleanly(&mut bot);
    assert_log_holds_none(&bot.log(), &expected.personal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_listener_serves_metrics_that_hold_no_user_data() {
    let fake = FakeApi::start().await;
    let brain = support::brain();
    let (updates, expected) = scripted_conversation(brain);
    let secret = "ops-Webhook_Secret-0123456789";
    let listen = format!("127.0.0.1:{}", free_port());
    let hook_url = format!("http://{listen}/tg");
    let mut bot = spawn(
        &["telegram", "--webhook-url", &hook_url, "--listen", &listen],
        &fake,
        &[("WEBHOOK_SECRET", secret)],
    );
    wait_for(&fake, &bot, "setWebhook", |f| f.webhook_secret().is_some()).await;
    wait_for_listener(&format!("http://{listen}/healthz"), &bot).await;
    let client = reqwest::Client::new();
    for (n, mut update) in updates.into_iter().enumerate() {
        update["update_id"] = (n as i64 + 1).into();
        let status = client
            .post(&hook_url)
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .header("content-type", "application/json")
            .body(update.to_string())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 200);
    }
    // Each update was answered before its 200, so the counters are final.
    let (status, scraped) = get(&format!("http://{listen}/metrics")).await;
    assert_eq!(status, 200);
    expected.assert_scraped(&scraped, brain.version());
    stop_cleanly(&mut bot);
    let mut personal = expected.personal.clone();
    personal.push(secret.to_owned());
    assert_log_holds_none(&bot.log(), &personal);
}

/// Copy the shipped `responses/` into a fresh folder.
fn copy_of_responses() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
    for entry in std::fs::read_dir(&shipped).expect("responses/") {
        let entry = entry.expect("an entry");
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
    }
    dir
}

/// Rewrite `intents.toml` in `dir` with `edit`.
fn edit_intents(dir: &Path, edit: impl FnOnce(String) -> String) {
    let path = dir.join("intents.toml");
    let text = std::fs::read_to_string(&path).expect("intents.toml");
    std::fs::write(&path, edit(text)).expect("write intents.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_swaps_in_a_changed_folder_and_refuses_a_broken_one() {
    const GREETING: &str = "Hello, I'm glad you got in touch.";
    const CHANGED: &str = "Hello again: this reply came from a reloaded folder.";
    let fake = FakeApi::start().await;
    let dir = copy_of_responses();
    let folder = dir.path().to_str().expect("a UTF-8 path").to_owned();
    let shipped_version = Sources::read_dir(dir.path()).expect("readable").version();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut bot = spawn(
        &[
            "--responses",
            &folder,
            "telegram",
            "--metrics-listen",
            &metrics_addr,
        ],
        &fake,
        &[],
    );
    let chat = u::private_chat_id(600);
    let hello = |_: usize| u::private_text(chat, "hello");
    fake.push_update(hello(1));
    wait_for(&fake, &bot, "the first reply", |f| {
        f.sent_to(chat).len() == 1
    })
    .await;
    assert!(fake.sent_to(chat)[0].text.contains(GREETING));

    // A valid change: the next reply is the new one.
    edit_intents(dir.path(), |t| {
        assert!(
            t.contains(GREETING),
            "the greeting is where the test expects it"
        );
        t.replacen(GREETING, CHANGED, 1)
    });
    let changed_version = Sources::read_dir(dir.path()).expect("readable").version();
    assert_ne!(changed_version, shipped_version);
    bot.signal("HUP");
    wait_for_log(&bot, &format!("version {changed_version} is serving")).await;
    fake.push_update(hello(2));
    wait_for(&fake, &bot, "the second reply", |f| {
        f.sent_to(chat).len() == 2
    })
    .await;
    assert!(
        fake.sent_to(chat)[1].text.contains(CHANGED),
        "{}",
        fake.sent_to(chat)[1].text
    );

    // A broken folder: refused, said why, and the changed content keeps answering.
    edit_intents(dir.path(), |t| {
        t.replacen("patterns = [\n", "patterns = [\n  '(unclosed',\n", 1)
    });
    bot.signal("HUP");
    wait_for_log(&bot, "content reload refused").await;
    let log = bot.log();
    let refusal = log
        .lines()
        .find(|l| l.contains("content reload refused"))
        .expect("the refusal line");
    assert!(
        refusal.contains("intents.toml:") && refusal.contains("problem(s)"),
        "the count and the first problem's file:line: {refusal}"
    );
    assert!(refusal.contains(&format!("version {changed_version} keeps serving")));
    fake.push_update(hello(3));
    wait_for(&fake, &bot, "the third reply", |f| {
        f.sent_to(chat).len() == 3
    })
    .await;
    assert!(
        fake.sent_to(chat)[2].text.contains(CHANGED),
        "still answering"
    );

    let (_, scraped) = get(&format!("http://{metrics_addr}/metrics")).await;
    for line in [
        format!(r#"safeguard_content_info{{version="{changed_version}"}} 1"#),
        r#"safeguard_content_reloads_total{result="ok"} 1"#.to_owned(),
        r#"safeguard_content_reloads_total{result="refused"} 1"#.to_owned(),
    ] {
        assert!(scraped.contains(&line), "{line} missing:\n{scraped}");
    }
    assert!(!scraped.contains(&shipped_version), "only the live version");
    stop_cleanly(&mut bot);
    assert!(
        bot.log()
            .contains(&format!("content version {shipped_version}")),
        "the version at start-up is logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_with_the_built_in_content_changes_nothing_and_says_so() {
    let fake = FakeApi::start().await;
    let mut bot = spawn(&["telegram"], &fake, &[]);
    wait_for(&fake, &bot, "polling", |f| {
        !f.calls("getUpdates").is_empty()
    })
    .await;
    bot.signal("HUP");
    wait_for_log(&bot, "serves its built-in content").await;
    let chat = u::private_chat_id(601);
    fake.push_update(u::private_text(chat, "hello"));
    wait_for(&fake, &bot, "a reply after SIGHUP", |f| {
        f.sent_to(chat).len() == 1
    })
    .await;
    stop_cleanly(&mut bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_deletes_exactly_this_chats_recent_messages() {
    let fake = FakeApi::start().await;
    let mut bot = spawn(&["telegram"], &fake, &[]);
    let (chat, other) = (u::private_chat_id(700), u::private_chat_id(701));
    let group = u::group_id(700);
    let texts = [
        "my daughter sent a nude to a boy in her class",
        "how do i get it taken down",
    ];
    let mut theirs: Vec<i64> = Vec::new();
    for update in [
        u::private_text(chat, texts[0]),
        u::private_media(chat, Media::Photo),
        u::private_text(chat, texts[1]),
    ] {
        theirs.push(u::message_id_of(&update));
        fake.push_update(update);
    }
    fake.push_update(u::button_press(chat, "topic:sent_image"));
    let elsewhere = u::private_text(other, "what is the number for childline");
    let elsewhere_id = u::message_id_of(&elsewhere);
    fake.push_update(elsewhere);
    fake.push_update(u::group_mention(
        group,
        chat,
        "what is the number for childline",
    ));
    wait_for(&fake, &bot, "the replies", |f| {
        f.sent_to(chat).len() == 4 && f.sent_to(other).len() == 1 && f.sent_to(group).len() == 1
    })
    .await;
    let ours: Vec<i64> = fake.sent_to(chat).iter().map(|s| s.message_id).collect();

    let command = u::private_command(chat, "/forget");
    theirs.push(u::message_id_of(&command));
    fake.push_update(command);
    wait_for(&fake, &bot, "the note", |f| f.sent_to(chat).len() == 5).await;
    let mut expected: Vec<i64> = theirs.iter().chain(&ours).copied().collect();
    expected.sort_unstable();
    assert_eq!(
        fake.deleted_in(chat),
        expected,
        "the person's messages, the bot's replies and /forget itself"
    );
    assert!(fake.deleted_in(other).is_empty(), "no other chat");
    assert!(fake.deleted_in(group).is_empty(), "no group");
    assert!(fake.deleted().iter().all(|(_, id)| *id != elsewhere_id));
    let note = fake.sent_to(chat).pop().expect("the note");
    assert_eq!(note.text, forget_texts().done);

    fake.push_update(u::button_press_on(
        chat,
        forget::NOTE_BUTTON_DATA,
        note.message_id,
    ));
    wait_for(&fake, &bot, "the note deleted", |f| {
        f.deleted_in(chat).contains(&note.message_id)
    })
    .await;
    assert_eq!(fake.deleted().len(), expected.len() + 1, "nothing else");
    stop_cleanly(&mut bot);
    let mut personal: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
    for id in [chat, other] {
        personal.extend([id.to_string(), u::first_name(id), u::username(id)]);
    }
    personal.push(group.to_string());
    assert_log_holds_none(&bot.log(), &personal);
    let registered = fake.calls("setMyCommands");
    let commands = registered[0].body["commands"].to_string();
    assert!(
        commands.contains("\"forget\""),
        "/forget is in the menu: {commands}"
    );
}

/// The /forget texts, as messages.toml words them.
fn forget_texts() -> safeguard_bot::brain::ForgetTexts {
    safeguard_bot::Brain::embedded()
        .expect("the shipped content loads")
        .forget_texts()
        .clone()
}
