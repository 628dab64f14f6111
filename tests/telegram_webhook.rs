//! The webhook listener in-process: secret, status codes, body and time limits, graceful stop.
//! The built binary in webhook mode is tested in `telegram_e2e.rs`.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use safeguard_bot::telegram::handlers::{self, HandlerResult};
use safeguard_bot::telegram::metrics::Metrics;
use safeguard_bot::telegram::send::Patience;
use safeguard_bot::telegram::signals::{Stop, StopHandle};
use safeguard_bot::telegram::webhook::{self, Limits, Webhook, SECRET_HEADER};
use safeguard_bot::telegram::{bot, Credentials, SharedBrain};
use safeguard_bot::Input;
use serde_json::Value;
use support::fake_api::{FakeApi, Fault, TOKEN};
use support::updates as u;
use teloxide::dispatching::UpdateHandler;
use teloxide::dptree;
use teloxide::types::Update;
use teloxide::RequestError;
use tokio::task::JoinHandle;

const SECRET: &str = "webhook-Secret_0123456789";
const PATH: &str = "/telegram/hook";

struct Listener {
    fake: FakeApi,
    addr: SocketAddr,
    stop: StopHandle,
    server: JoinHandle<()>,
    client: reqwest::Client,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    next_update_id: std::sync::atomic::AtomicI64,
}

impl Listener {
    async fn start(limits: Limits) -> Self {
        Self::start_with(limits, None).await
    }

    /// A listener answering with `handler` instead of the shipped tree, if given.
    async fn start_with(limits: Limits, handler: Option<UpdateHandler<RequestError>>) -> Self {
        let fake = FakeApi::start().await;
        let (bot, me, brain, metrics) = support::connected_bot(&fake).await;
        let mut hook = Webhook::new(bot, me, brain.clone(), SECRET)
            .with_limits(limits)
            .with_metrics(metrics.clone());
        if let Some(handler) = handler {
            hook = hook.with_handler(handler);
        }
        let app = webhook::router(PATH, hook).expect("a valid path");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, flag): (StopHandle, Stop) = Stop::pair();
        let server = tokio::spawn(webhook::serve(listener, app, limits, flag));
        Self {
            fake,
            addr,
            stop,
            server,
            client: reqwest::Client::new(),
            brain,
            metrics,
            next_update_id: 1.into(),
        }
    }

    async fn post(&self, secret: Option<&str>, body: impl Into<reqwest::Body>) -> u16 {
        let mut request = self
            .client
            .post(format!("http://{}{PATH}", self.addr))
            .header("content-type", "application/json")
            .body(body);
        if let Some(secret) = secret {
            request = request.header(SECRET_HEADER, secret);
        }
        request
            .send()
            .await
            .expect("the listener answers")
            .status()
            .as_u16()
    }

    async fn post_update(&self, secret: Option<&str>, mut update: Value) -> u16 {
        let id = self
            .next_update_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        update["update_id"] = id.into();
        self.post(secret, update.to_string()).await
    }
}

#[tokio::test]
async fn the_right_secret_gets_the_update_answered_then_200() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(1);
    let text = "is it illegal to send nudes under 18";
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(chat, text))
            .await,
        200
    );
    let sent = l.fake.sent_to(chat);
    assert_eq!(sent.len(), 1, "answered before the 200");
    assert_eq!(
        sent[0].text,
        l.brain.current().respond(Input::Text(text)).text()
    );
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_401_and_nothing_is_answered() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(2);
    for secret in [
        None,
        Some("wrong-secret"),
        Some(&SECRET[..SECRET.len() - 1]),
        Some(""),
    ] {
        assert_eq!(
            l.post_update(secret, u::private_text(chat, "hello")).await,
            401,
            "{secret:?}"
        );
    }
    assert!(l.fake.sent().is_empty());
    let out = l.metrics.render();
    assert!(
        out.contains(r#"safeguard_webhook_refused_total{reason="wrong_secret"} 4"#),
        "{out}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_update_is_400_and_the_listener_keeps_serving() {
    let l = Listener::start(Limits::default()).await;
    assert_eq!(l.post(Some(SECRET), "this is not json").await, 400);
    assert_eq!(l.post(Some(SECRET), vec![0xff, 0xfe, 0x00]).await, 400);
    assert_eq!(l.post(Some(SECRET), r#"{"hello": "world"}"#).await, 400);
    let chat = u::private_chat_id(3);
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(chat, "hello"))
            .await,
        200
    );
    assert_eq!(l.fake.sent_to(chat).len(), 1);
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_and_counted() {
    let l = Listener::start(Limits::default()).await;
    let huge = format!(
        r#"{{"update_id": 1, "padding": "{}"}}"#,
        "x".repeat(64 << 10)
    );
    assert_eq!(l.post(Some(SECRET), huge).await, 413);
    assert!(l.fake.sent().is_empty());
    let out = l.metrics.render();
    assert!(
        out.contains(r#"safeguard_webhook_refused_total{reason="too_large"} 1"#),
        "{out}"
    );
}

#[tokio::test]
async fn the_largest_message_telegram_sends_fits_the_body_limit() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(41);
    // 4,096 characters, each four bytes of UTF-8 (an emoji is two of Telegram's characters,
    // so this is twice the longest message), replying to another such message.
    let long = "\u{1F622}".repeat(4096);
    let mut update = u::private_text(chat, &long);
    update["message"]["reply_to_message"] = u::private_text(chat, &long)["message"].clone();
    assert!(update.to_string().len() > 32 << 10);
    assert_eq!(l.post_update(Some(SECRET), update).await, 200);
    assert_eq!(l.fake.sent_to(chat).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_over_16_kib_are_refused_before_anything_else() {
    let l = Listener::start(Limits::default()).await;
    let addr = l.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        let padding = "a".repeat(20 << 10);
        let request = format!("POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Padding: {padding}\r\n\r\n");
        let _ = stream.write_all(request.as_bytes());
        read_until_closed(&mut stream, Duration::from_secs(5))
    })
    .await
    .expect("join");
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.60}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chats_updates_are_answered_in_the_order_they_came() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(42);
    let (first, second) = ("hello", "what does the law say about nudes");
    // The first reply is slow to send: without a turn per chat, the second would overtake it.
    l.fake
        .inject("sendMessage", Fault::Slow(Duration::from_millis(600)));
    let (a, b) = tokio::join!(
        l.post_update(Some(SECRET), u::private_text(chat, first)),
        async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            l.post_update(Some(SECRET), u::private_text(chat, second))
                .await
        }
    );
    assert_eq!((a, b), (200, 200));
    let texts: Vec<String> = l.fake.sent_to(chat).into_iter().map(|s| s.text).collect();
    let brain = l.brain.current();
    assert_eq!(
        texts,
        vec![
            brain.respond(Input::Text(first)).text(),
            brain.respond(Input::Text(second)).text()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_chat_holds_up_no_other_chat() {
    let l = Listener::start(Limits::default()).await;
    let (slow, quick) = (u::private_chat_id(43), u::private_chat_id(44));
    l.fake
        .inject("sendMessage", Fault::Slow(Duration::from_millis(800)));
    let (a, b) = tokio::join!(
        l.post_update(Some(SECRET), u::private_text(slow, "hello")),
        async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            l.post_update(Some(SECRET), u::private_text(quick, "hello"))
                .await
        }
    );
    assert_eq!((a, b), (200, 200));
    let (slow_at, quick_at) = (l.fake.sent_to(slow)[0].at, l.fake.sent_to(quick)[0].at);
    assert!(quick_at < slow_at, "the other chat was answered first");
}

#[tokio::test]
async fn the_health_check_is_200() {
    let l = Listener::start(Limits::default()).await;
    let response = l
        .client
        .get(format!("http://{}/healthz", l.addr))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn the_webhook_listener_serves_the_counters_without_user_data() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(8);
    let text = "is it illegal to send nudes under 18";
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(chat, text))
            .await,
        200
    );
    assert_eq!(
        l.post_update(Some(SECRET), u::unknown_kind(text)).await,
        200
    );
    let response = l
        .client
        .get(format!("http://{}/metrics", l.addr))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let scraped = response.text().await.expect("text");
    let intent = l
        .brain
        .current()
        .respond(Input::Text(text))
        .into_owned()
        .intent;
    for line in [
        r#"safeguard_updates_total{kind="text"} 1"#.to_owned(),
        r#"safeguard_updates_total{kind="other"} 1"#.to_owned(),
        format!(r#"safeguard_replies_total{{intent="{intent}",kind="answer"}} 1"#),
    ] {
        assert!(scraped.contains(&line), "{line} missing from:\n{scraped}");
    }
    assert_eq!(scraped, l.metrics.render(), "the same counters");
    for personal in [text.to_owned(), chat.to_string(), u::first_name(chat)] {
        assert!(!scraped.contains(&personal), "{personal}");
    }
}

#[tokio::test]
async fn forget_through_the_webhook_deletes_what_this_listener_served() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(9);
    let text = u::private_text(chat, "hello");
    let forget = u::private_command(chat, "/forget");
    let ids = [u::message_id_of(&text), u::message_id_of(&forget)];
    assert_eq!(l.post_update(Some(SECRET), text).await, 200);
    let reply = l.fake.sent_to(chat)[0].message_id;
    assert_eq!(l.post_update(Some(SECRET), forget).await, 200);
    let mut expected = vec![ids[0], ids[1], reply];
    expected.sort_unstable();
    assert_eq!(l.fake.deleted_in(chat), expected);
    assert_eq!(l.fake.sent_to(chat).len(), 2, "the reply, then the note");
}

#[tokio::test]
async fn the_webhook_path_cannot_hide_the_metrics_or_the_health_check() {
    let l = Listener::start(Limits::default()).await;
    let credentials = Credentials {
        token: TOKEN.to_owned(),
        api_url: Some(l.fake.url().parse().expect("fake url")),
    };
    let bot = bot::connect(&credentials, bot::limits(30, 1, 20, 10)).expect("bot");
    let me = bot::introduce(&bot, &l.brain.current(), &l.metrics)
        .await
        .expect("getMe");
    for path in ["/metrics", "/healthz", "no-slash"] {
        let hook = Webhook::new(bot.clone(), me.clone(), l.brain.clone(), SECRET);
        assert!(webhook::router(path, hook).is_err(), "{path}");
    }
}

#[tokio::test]
async fn ignored_kinds_are_200_without_a_reply() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(4);
    assert_eq!(
        l.post_update(Some(SECRET), u::edited_text(chat, "report"))
            .await,
        200
    );
    assert_eq!(
        l.post_update(Some(SECRET), u::channel_post(-1_001_000_000_001, "x"))
            .await,
        200
    );
    assert_eq!(l.post_update(Some(SECRET), u::unknown_kind("x")).await, 200);
    assert_eq!(
        l.post_update(Some(SECRET), u::group_text(u::group_id(1), 5, "x"))
            .await,
        200
    );
    assert!(l.fake.sent().is_empty());
}

#[tokio::test]
async fn a_reply_that_cannot_be_sent_asks_telegram_to_deliver_again() {
    let l = Listener::start(Limits::default()).await;
    for _ in 0..Patience::BRIEF.tries() {
        l.fake.inject("sendMessage", Fault::Drop);
    }
    let chat = u::private_chat_id(5);
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(chat, "hello"))
            .await,
        503
    );
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(chat, "hello"))
            .await,
        200
    );
    assert_eq!(l.fake.sent_to(chat).len(), 1, "the redelivery was answered");
}

/// `update` with id `id`, as Telegram delivers it (again).
fn delivered(mut update: Value, id: i64) -> String {
    update["update_id"] = id.into();
    update.to_string()
}

#[tokio::test]
async fn an_update_delivered_again_is_answered_once_and_counted() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(6);
    let message = delivered(u::private_text(chat, "hello"), 900);
    let press = delivered(u::button_press(chat, "topic:contacts"), 901);
    for body in [&message, &message, &press, &press, &message] {
        assert_eq!(l.post(Some(SECRET), body.clone()).await, 200);
    }
    assert_eq!(l.fake.sent_to(chat).len(), 2, "one reply to each update");
    assert_eq!(l.fake.calls("answerCallbackQuery").len(), 1);
    let out = l.metrics.render();
    assert!(
        out.contains("safeguard_updates_total{kind=\"repeated\"} 3"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_arriving_while_the_first_is_answered_waits_and_is_not_answered_again() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(7);
    let body = delivered(u::private_text(chat, "hello"), 902);
    l.fake
        .inject("sendMessage", Fault::Slow(Duration::from_millis(500)));
    let (a, b) = tokio::join!(l.post(Some(SECRET), body.clone()), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        l.post(Some(SECRET), body.clone()).await
    });
    assert_eq!((a, b), (200, 200));
    assert_eq!(l.fake.sent_to(chat).len(), 1, "answered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_whose_request_telegram_gave_up_on_is_still_answered_once() {
    let l = Listener::start(Limits::default()).await;
    let chat = u::private_chat_id(9);
    let body = delivered(u::private_text(chat, "hello"), 904);
    // The reply reaches the person, but the Bot API is slow to say so: Telegram gives up on
    // the webhook request first (closing the connection) and delivers the update again.
    l.fake
        .inject("sendMessage", Fault::Late(Duration::from_millis(800)));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let first = impatient
        .post(format!("http://{}{PATH}", l.addr))
        .header("content-type", "application/json")
        .header(SECRET_HEADER, SECRET)
        .body(body.clone())
        .send()
        .await;
    assert!(first.is_err(), "Telegram gave up on the first delivery");
    assert_eq!(l.post(Some(SECRET), body).await, 200);
    assert_eq!(
        l.fake.sent_to(chat).len(),
        1,
        "the first answer went on after Telegram left, and the copy found it answered"
    );
}

#[tokio::test]
async fn an_update_whose_reply_failed_is_answered_when_delivered_again() {
    let l = Listener::start(Limits::default()).await;
    for _ in 0..Patience::BRIEF.tries() {
        l.fake.inject("sendMessage", Fault::Drop);
    }
    let chat = u::private_chat_id(8);
    let body = delivered(u::private_text(chat, "hello"), 903);
    assert_eq!(l.post(Some(SECRET), body.clone()).await, 503);
    assert_eq!(l.post(Some(SECRET), body.clone()).await, 200);
    assert_eq!(l.post(Some(SECRET), body).await, 200);
    assert_eq!(
        l.fake.sent_to(chat).len(),
        1,
        "answered on the second delivery, not again on the third"
    );
}

fn short_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        max_connections: 4,
        ..Limits::default()
    }
}

/// Read from a raw connection until the server closes it; what it said.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_nothing_is_disconnected() {
    let l = Listener::start(short_limits()).await;
    let addr = l.addr;
    let closed_after = tokio::task::spawn_blocking(move || {
        let mut idle = TcpStream::connect(addr).expect("connect");
        let started = Instant::now();
        read_until_closed(&mut idle, Duration::from_secs(5));
        started.elapsed()
    })
    .await
    .expect("join");
    assert!(
        closed_after < Duration::from_secs(2),
        "closed after {closed_after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_408() {
    let l = Listener::start(short_limits()).await;
    let addr = l.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut slow = TcpStream::connect(addr).expect("connect");
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: x\r\n{SECRET_HEADER}: {SECRET}\r\ncontent-length: 100\r\n\r\n{{\"upd"
        );
        slow.write_all(head.as_bytes()).expect("write");
        read_until_closed(&mut slow, Duration::from_secs(5))
    })
    .await
    .expect("join");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_cannot_keep_others_out() {
    let l = Listener::start(short_limits()).await;
    let addr = l.addr;
    // Fill every connection slot with clients that say nothing...
    let idle: Vec<TcpStream> = (0..short_limits().max_connections * 3)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    // ...and a real update still gets through once the header timeout frees a slot.
    let chat = u::private_chat_id(6);
    let started = Instant::now();
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(chat, "hello"))
            .await,
        200
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(l.fake.sent_to(chat).len(), 1);
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_finishes_the_request_in_flight() {
    let l = Listener::start(Limits::default()).await;
    l.fake.inject("sendMessage", Fault::RetryAfter(1));
    let chat = u::private_chat_id(7);
    let l = Arc::new(l);
    let in_flight = {
        let l = l.clone();
        tokio::spawn(async move {
            l.post_update(Some(SECRET), u::private_text(chat, "hello"))
                .await
        })
    };
    assert!(
        l.fake
            .wait_until(Duration::from_secs(2), |f| !f
                .calls("sendMessage")
                .is_empty())
            .await,
        "the update reached the handler"
    );
    l.stop.stop();
    assert_eq!(
        in_flight.await.expect("join"),
        200,
        "the request in flight finished"
    );
    assert_eq!(l.fake.sent_to(chat).len(), 1);
    let l = Arc::into_inner(l).expect("one owner");
    tokio::time::timeout(Duration::from_secs(2), l.server)
        .await
        .expect("the server stops")
        .expect("no panic");
}

/// Stands for a bug anywhere under the handler tree.
async fn explode() -> HandlerResult {
    panic!("a bug while handling an update")
}

#[tokio::test]
async fn a_handler_that_panics_gets_200_is_counted_and_the_listener_keeps_serving() {
    let bad_chat = u::private_chat_id(40);
    let tree = dptree::entry()
        .branch(
            dptree::filter(move |update: Update| {
                update.chat().is_some_and(|chat| chat.id.0 == bad_chat)
            })
            .endpoint(explode),
        )
        .branch(handlers::schema());
    let l = Listener::start_with(Limits::default(), Some(tree)).await;
    assert_eq!(
        l.post_update(Some(SECRET), u::private_text(bad_chat, "hello"))
            .await,
        200,
        "answered, so Telegram does not deliver it again forever"
    );
    assert!(l
        .metrics
        .render()
        .contains("safeguard_update_panics_total 1"));
    for chat in [bad_chat + 1, bad_chat + 2] {
        assert_eq!(
            l.post_update(Some(SECRET), u::private_text(chat, "hello"))
                .await,
            200
        );
        assert_eq!(l.fake.sent_to(chat).len(), 1, "other chats are answered");
    }
    assert!(l.fake.sent_to(bad_chat).is_empty());
    l.stop.stop();
    l.server.await.expect("the listener stops cleanly");
}

#[tokio::test]
async fn bad_entities_get_200_and_no_panic() {
    let l = Listener::start(Limits::default()).await;
    let group = u::group_id(41);
    for (text, offset, length) in [
        ("hello", 1000, 19),
        ("hello", usize::MAX, 2),
        ("\u{1F600}hello", 1, 3),
        ("\u{1F600}hello", 0, 1),
    ] {
        let mut update = u::group_text(group, u::private_chat_id(41), text);
        update["message"]["entities"] =
            serde_json::json!([{ "type": "mention", "offset": offset, "length": length }]);
        assert_eq!(l.post_update(Some(SECRET), update).await, 200);
    }
    assert_eq!(
        l.post_update(Some(SECRET), u::group_command(group, 7, "/help"))
            .await,
        200
    );
    assert_eq!(l.fake.sent_to(group).len(), 1, "only /help is answered");
    assert!(l
        .metrics
        .render()
        .contains("safeguard_update_panics_total 0"));
}
