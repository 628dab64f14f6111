//! End to end: the built binary, in polling and in webhook mode, against the fake Bot API.
//!
//! Many private chats at once, a command, a button press, media, group messages with and
//! without a mention, edits, channel posts and unknown kinds, with 429s and dropped connections
//! injected. Each test asserts exactly one reply per message meant for the bot and none for the
//! rest, no `getFile`, a clean exit on SIGTERM or SIGINT in under 5 s, and a trace-level log
//! that holds none of the users' texts, names, usernames or ids, nor the token or the secret.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use support::fake_api::{FakeApi, Fault, BOT_ID, TOKEN};
use support::process::{assert_log_holds_none, free_port, BotProcess, RAISED_LIMITS};
use support::updates::{self as u, Media};

const QUESTIONS: [&str; 6] = [
    "how do i report a sexual image of a child i found online",
    "is it illegal for my daughter to send nudes at 15",
    "someone is sharing a nude photo of me how do I get it taken down",
    "what is the number for childline",
    "how many indecent image crimes were recorded in north wales",
    "my son received a naked picture from a girl in his class, what should we do",
];

/// One conversation: the updates to deliver, how many replies each chat must get, and
/// everything personal in it that must never reach the log.
struct Script {
    updates: Vec<Value>,
    replies: HashMap<i64, usize>,
    personal: Vec<String>,
}

impl Script {
    fn new() -> Self {
        Self {
            updates: Vec::new(),
            replies: HashMap::new(),
            personal: Vec::new(),
        }
    }

    /// An update from user `user` in `chat`, which must get `replies` replies.
    fn add(&mut self, update: Value, chat: i64, user: i64, replies: usize, text: Option<&str>) {
        *self.replies.entry(chat).or_default() += replies;
        self.personal.extend([
            chat.to_string(),
            user.to_string(),
            u::first_name(user),
            u::username(user),
        ]);
        if let Some(text) = text {
            self.personal.push(text.to_owned());
        }
        self.updates.push(update);
    }

    /// The conversation both modes are tested with.
    fn standard() -> Self {
        let mut s = Self::new();
        for n in 0..40 {
            let chat = u::private_chat_id(n);
            for k in 0..2 {
                let text = format!(
                    "{} (case {n}-{k})",
                    QUESTIONS[(n as usize + k) % QUESTIONS.len()]
                );
                s.add(u::private_text(chat, &text), chat, chat, 1, Some(&text));
            }
        }
        let chat = u::private_chat_id(100);
        s.add(u::private_command(chat, "/start"), chat, chat, 1, None);
        let chat = u::private_chat_id(101);
        s.add(
            u::button_press(chat, "topic:report_image"),
            chat,
            chat,
            1,
            None,
        );
        for (n, media) in [Media::Photo, Media::Voice, Media::Sticker, Media::Document]
            .into_iter()
            .enumerate()
        {
            let chat = u::private_chat_id(110 + n as i64);
            s.add(u::private_media(chat, media), chat, chat, 1, None);
        }
        let quiet = "we should talk about the school trip on friday";
        let (group, user) = (u::group_id(1), u::private_chat_id(120));
        s.add(
            u::group_text(group, user, quiet),
            group,
            user,
            0,
            Some(quiet),
        );
        let asked = "what is the number for the nspcc helpline";
        let (group, user) = (u::group_id(2), u::private_chat_id(121));
        s.add(
            u::group_mention(group, user, asked),
            group,
            user,
            1,
            Some(asked),
        );
        let edited = "actually i meant something else entirely";
        let chat = u::private_chat_id(130);
        s.add(u::edited_text(chat, edited), chat, chat, 0, Some(edited));
        let posted = "channel news about the charity bake sale";
        s.add(
            u::channel_post(-1_001_730_000_000_001, posted),
            -1_001_730_000_000_001,
            0,
            0,
            Some(posted),
        );
        let unknown = "a future update kind with words in it";
        s.updates.push(u::unknown_kind(unknown));
        s.personal.push(unknown.to_owned());
        s.personal.extend([
            TOKEN.to_owned(),
            TOKEN[TOKEN.find(':').unwrap_or(0) + 1..].to_owned(),
        ]);
        s.personal.retain(|p| p != "0");
        s
    }

    fn expected_total(&self) -> usize {
        self.replies.values().sum()
    }

    /// Every chat got exactly what it should; nothing else was sent; nothing was downloaded.
    fn assert_answered_exactly(&self, fake: &FakeApi) {
        let mut got: HashMap<i64, usize> = HashMap::new();
        for sent in fake.sent() {
            *got.entry(sent.chat_id).or_default() += 1;
        }
        for (chat, want) in &self.replies {
            assert_eq!(
                got.get(chat).copied().unwrap_or(0),
                *want,
                "replies to chat {chat}"
            );
        }
        assert_eq!(
            fake.sent().len(),
            self.expected_total(),
            "no reply to anyone else"
        );
        assert!(fake.calls("getFile").is_empty(), "nothing was downloaded");
        assert_eq!(
            fake.calls("answerCallbackQuery").len(),
            1,
            "the button press was acknowledged"
        );
    }
}

fn inject_send_faults(fake: &FakeApi) {
    fake.inject("sendMessage", Fault::RetryAfter(1));
    fake.inject("sendMessage", Fault::Drop);
    fake.inject("sendMessage", Fault::Drop);
}

fn bot_env(fake: &FakeApi) -> Vec<(&'static str, String)> {
    vec![
        ("TELOXIDE_TOKEN", TOKEN.to_owned()),
        ("TELOXIDE_API_URL", fake.url()),
        ("RUST_LOG", "trace".to_owned()),
    ]
}

fn spawn(args: &[&str], env: &[(&'static str, String)]) -> BotProcess {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    BotProcess::spawn(args, &env)
}

/// Stop the bot with `signal`; it must exit 0 within 5 s.
fn stop_cleanly(bot: &mut BotProcess, signal: &str) {
    let (status, took) =
        tokio::task::block_in_place(|| bot.stop_with(signal, Duration::from_secs(10)));
    let status =
        status.unwrap_or_else(|| panic!("still running after SIG{signal}:\n{}", bot.log()));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIG{signal}:\n{}",
        bot.log()
    );
    assert!(took < Duration::from_secs(5), "SIG{signal} took {took:?}");
}

async fn wait_for(fake: &FakeApi, bot: &BotProcess, what: &str, done: impl Fn(&FakeApi) -> bool) {
    if !fake.wait_until(Duration::from_secs(20), done).await {
        panic!(
            "timed out waiting for {what}; the bot's log:\n{}",
            bot.log()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_answers_every_message_once_and_logs_nothing_personal() {
    let fake = FakeApi::start().await;
    let script = Script::standard();
    let mut last_update = 0;
    for update in &script.updates {
        last_update = fake.push_update(update.clone());
    }
    fake.inject("getUpdates", Fault::Drop);
    inject_send_faults(&fake);
    let mut args = vec!["telegram"];
    args.extend(RAISED_LIMITS);
    let mut bot = spawn(&args, &bot_env(&fake));

    let total = script.expected_total();
    wait_for(&fake, &bot, "every reply", |f| f.sent().len() >= total).await;
    // Long enough for a duplicate (a retry, a redelivery) to show up if there were one.
    tokio::time::sleep(Duration::from_millis(700)).await;
    script.assert_answered_exactly(&fake);
    assert_eq!(
        fake.faults_left(),
        0,
        "every injected fault was met and survived"
    );
    assert_eq!(
        fake.calls("setMyCommands").len(),
        1,
        "commands registered at start-up"
    );

    stop_cleanly(&mut bot, "TERM");
    assert!(
        fake.confirmed_offset() > last_update,
        "the offset was confirmed before exiting"
    );

    let log = bot.log();
    assert!(
        log.contains("update=text intent="),
        "updates are logged by kind and intent:\n{log}"
    );
    assert!(
        log.contains("update=edited_message ignored"),
        "debug lines are in the log"
    );
    assert!(
        !log.contains("polling polling stream"),
        "teloxide's trace lines are capped"
    );
    assert_log_holds_none(&log, &script.personal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_answers_every_update_once_and_refuses_strangers() {
    let fake = FakeApi::start().await;
    let secret = "e2e-Webhook_Secret-123456789";
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/tg/hook");
    let mut args = vec!["telegram", "--webhook-url", &url, "--listen", &listen];
    args.extend(RAISED_LIMITS);
    let mut env = bot_env(&fake);
    env.push(("WEBHOOK_SECRET", secret.to_owned()));
    let mut bot = spawn(&args, &env);
    wait_for(&fake, &bot, "setWebhook", |f| f.webhook_secret().is_some()).await;
    assert_eq!(
        fake.webhook_secret().as_deref(),
        Some(secret),
        "registered with the secret"
    );
    let allowed = &fake.calls("setWebhook")[0].body["allowed_updates"];
    assert!(allowed
        .as_array()
        .is_some_and(|a| a.contains(&"callback_query".into())));

    let client = reqwest::Client::new();
    let health = client.get(format!("http://{listen}/healthz")).send().await;
    assert_eq!(
        health.map(|r| r.status().as_u16()).ok(),
        Some(200),
        "/healthz"
    );

    inject_send_faults(&fake);
    let script = Script::standard();
    let mut posts = tokio::task::JoinSet::new();
    for (n, update) in script.updates.iter().enumerate() {
        let mut update = update.clone();
        update["update_id"] = (n as i64 + 1).into();
        let (client, url) = (client.clone(), url.clone());
        posts.spawn(async move { post(&client, &url, Some(secret), update.to_string()).await });
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.expect("join"), 200, "every update is accepted");
    }
    script.assert_answered_exactly(&fake);
    assert_eq!(
        fake.faults_left(),
        0,
        "every injected fault was met and survived"
    );

    let hello = u::private_text(u::private_chat_id(300), "hello");
    assert_eq!(
        post(&client, &url, Some("not-the-secret"), hello.to_string()).await,
        401
    );
    assert_eq!(post(&client, &url, None, hello.to_string()).await, 401);
    assert_eq!(
        post(&client, &url, Some(secret), "{not json".to_owned()).await,
        400
    );
    for _ in 0..300 {
        assert_eq!(
            post(&client, &url, Some("flood"), hello.to_string()).await,
            401
        );
    }
    let summaries = bot.log().matches("requests refused").count();
    assert_eq!(
        summaries, 1,
        "refusals are summarised, not logged one by one"
    );
    let mut hello = hello;
    hello["update_id"] = 1000.into();
    assert_eq!(
        post(&client, &url, Some(secret), hello.to_string()).await,
        200,
        "still serving"
    );
    assert_eq!(fake.sent_to(u::private_chat_id(300)).len(), 1);

    stop_cleanly(&mut bot, "TERM");
    assert!(
        fake.calls("deleteWebhook").is_empty(),
        "other replicas keep the webhook"
    );
    let mut personal = script.personal.clone();
    personal.extend([secret.to_owned(), u::private_chat_id(300).to_string()]);
    assert_log_holds_none(&bot.log(), &personal);
}

async fn post(client: &reqwest::Client, url: &str, secret: Option<&str>, body: String) -> u16 {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_webhook_secret_is_registered_and_never_logged() {
    let fake = FakeApi::start().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/");
    let mut bot = spawn(
        &["telegram", "--webhook-url", &url, "--listen", &listen],
        &bot_env(&fake),
    );
    wait_for(&fake, &bot, "setWebhook", |f| f.webhook_secret().is_some()).await;
    let secret = fake.webhook_secret().unwrap_or_default();
    assert_eq!(secret.len(), 32);
    let mut update = u::private_text(u::private_chat_id(400), "hello");
    update["update_id"] = 1.into();
    let client = reqwest::Client::new();
    assert_eq!(
        post(&client, &url, Some(&secret), update.to_string()).await,
        200
    );
    stop_cleanly(&mut bot, "INT");
    let log = bot.log();
    assert!(
        log.contains("WEBHOOK_SECRET is not set"),
        "the operator is told:\n{log}"
    );
    assert_log_holds_none(&log, &[secret]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_polling_cleanly_too() {
    let fake = FakeApi::start().await;
    let mut bot = spawn(&["telegram"], &bot_env(&fake));
    wait_for(&fake, &bot, "polling", |f| {
        !f.calls("getUpdates").is_empty()
    })
    .await;
    stop_cleanly(&mut bot, "INT");
}

#[test]
fn without_a_token_it_says_how_to_get_one_and_exits_1() {
    let mut bot = BotProcess::spawn(&["telegram"], &[]);
    let status = bot.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(1));
    let log = bot.log();
    assert_eq!(log.lines().count(), 1, "one line:\n{log}");
    assert!(
        log.contains("@BotFather") && log.contains("safeguard-bot chat"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_one_line_and_exit_1() {
    let fake = FakeApi::start().await;
    let wrong = format!("{BOT_ID}:WrongTokenWrongTokenWrongToken12345");
    let mut bot = spawn(
        &["telegram"],
        &[
            ("TELOXIDE_TOKEN", wrong.clone()),
            ("TELOXIDE_API_URL", fake.url()),
        ],
    );
    let status = tokio::task::block_in_place(|| bot.wait_exit(Duration::from_secs(10)));
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    let log = bot.log();
    assert_eq!(log.lines().count(), 1, "one line:\n{log}");
    assert!(log.contains("refused the token"), "{log}");
    assert_log_holds_none(&log, &[wrong]);
}

/// The update from issue 14 (point 7): a group message whose `mention` entity points far past
/// the end of its text. teloxide's entity helpers panic on it.
fn mention_past_the_end(group: i64, from: i64, update_id: Option<i64>) -> Value {
    let mut update = serde_json::json!({"message":{"message_id":2,"date":1700000000,
        "chat":{"id":group,"type":"supergroup","title":"G"},
        "from":{"id":from,"is_bot":false,"first_name":"A"},
        "text":"hello","entities":[{"type":"mention","offset":1000,"length":19}]}});
    if let Some(id) = update_id {
        update["update_id"] = id.into();
    }
    update
}

/// A group message whose `mention` entity starts in the middle of an emoji (between the two
/// UTF-16 units of its surrogate pair). It does not name the bot, so it is left alone.
fn mention_splitting_an_emoji(group: i64, from: i64) -> Value {
    let mut update = u::group_text(group, from, "\u{1F600}hello there");
    update["message"]["entities"] =
        serde_json::json!([{ "type": "mention", "offset": 1, "length": 5 }]);
    update
}

/// The panic counter as scraped from `/metrics` (None: the series is not there).
fn panics_scraped(scraped: &str) -> Option<u64> {
    scraped
        .lines()
        .find_map(|l| l.strip_prefix("safeguard_update_panics_total "))
        .and_then(|v| v.trim().parse().ok())
}

async fn scrape(url: &str) -> String {
    match reqwest::get(url).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_a_bad_entity_is_dropped_and_the_chat_and_the_bot_go_on() {
    let fake = FakeApi::start().await;
    let group = -100_123;
    let other = u::private_chat_id(500);
    // In one getUpdates batch: the bad update, then /help in the same chat, then another chat.
    fake.push_update(mention_past_the_end(group, 55, None));
    fake.push_update(u::group_command(group, 55, "/help"));
    fake.push_update(u::private_text(other, "hello"));
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["telegram", "--metrics-listen", &metrics_addr];
    args.extend(RAISED_LIMITS);
    let mut bot = spawn(&args, &bot_env(&fake));
    wait_for(&fake, &bot, "/help answered in the same chat", |f| {
        f.sent_to(group).len() == 1 && f.sent_to(other).len() == 1
    })
    .await;
    // Later updates from the same chat: an emoji split by an entity, then /help again.
    fake.push_update(mention_splitting_an_emoji(group, 55));
    fake.push_update(u::group_command(group, 55, "/help"));
    wait_for(&fake, &bot, "the second /help answered", |f| {
        f.sent_to(group).len() == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.sent_to(group).len(), 2, "the bad updates get no reply");
    let scraped = scrape(&format!("http://{metrics_addr}/metrics")).await;
    assert_eq!(
        panics_scraped(&scraped),
        Some(0),
        "no handler panicked:\n{scraped}"
    );
    stop_cleanly(&mut bot, "TERM");
    let log = bot.log();
    assert!(!log.contains("internal error"), "no panic:\n{log}");
    assert_log_holds_none(
        &log,
        &["hello".to_owned(), group.to_string(), other.to_string()],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_a_bad_entity_gets_200_and_the_chat_goes_on() {
    let fake = FakeApi::start().await;
    let secret = "e2e-Webhook_Secret-bad-entity";
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/tg/hook");
    let mut args = vec!["telegram", "--webhook-url", &url, "--listen", &listen];
    args.extend(RAISED_LIMITS);
    let mut env = bot_env(&fake);
    env.push(("WEBHOOK_SECRET", secret.to_owned()));
    let mut bot = spawn(&args, &env);
    wait_for(&fake, &bot, "setWebhook", |f| f.webhook_secret().is_some()).await;
    let client = reqwest::Client::new();
    let group = -100_123;
    let bad = mention_past_the_end(group, 55, Some(1));
    assert_eq!(
        post(&client, &url, Some(secret), bad.to_string()).await,
        200,
        "the bad update is answered 200, so Telegram does not deliver it again"
    );
    let mut split = mention_splitting_an_emoji(group, 55);
    split["update_id"] = 2.into();
    assert_eq!(
        post(&client, &url, Some(secret), split.to_string()).await,
        200
    );
    let mut help = u::group_command(group, 55, "/help");
    help["update_id"] = 3.into();
    assert_eq!(
        post(&client, &url, Some(secret), help.to_string()).await,
        200
    );
    assert_eq!(fake.sent_to(group).len(), 1, "only /help is answered");
    let scraped = scrape(&format!("http://{listen}/metrics")).await;
    assert_eq!(
        panics_scraped(&scraped),
        Some(0),
        "no handler panicked:\n{scraped}"
    );
    stop_cleanly(&mut bot, "TERM");
    let log = bot.log();
    assert!(!log.contains("internal error"), "no panic:\n{log}");
    assert_log_holds_none(&log, &["hello".to_owned(), group.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_a_reply_in_hand_outlasts_the_bot_api_going_away() {
    let fake = FakeApi::start().await;
    let mut bot = spawn(&["telegram"], &bot_env(&fake));
    wait_for(&fake, &bot, "polling", |f| {
        !f.calls("getUpdates").is_empty()
    })
    .await;
    // The Bot API goes away for 4 s from the first try at the reply: longer than a few quick
    // retries last.
    fake.go_away_on("sendMessage", Duration::from_secs(4));
    let chat = u::private_chat_id(7);
    fake.push_update(u::private_text(chat, "what is the number for childline"));
    wait_for(&fake, &bot, "the reply after the outage", |f| {
        !f.sent_to(chat).is_empty()
    })
    .await;
    let tries = fake.calls("sendMessage");
    let span = tries[tries.len() - 1].at - tries[0].at;
    assert!(
        span >= Duration::from_secs(4),
        "the last try came {span:?} after the first"
    );
    assert_eq!(fake.sent_to(chat).len(), 1);
    stop_cleanly(&mut bot, "TERM");
}
