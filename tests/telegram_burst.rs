//! Measurement, not part of the default run: what one burst of many distinct chats costs, and
//! whether the memory comes back. One message from each of N private chats (N from
//! `BURST_CHATS`, default 20,000) is queued at once, `BURST_ROUNDS` times (default 1) with new
//! chats each round; the bot polls the fake Bot API with the throttle raised. After each round
//! it prints the resident memory before, at the peak, 5 s after the last reply and after up to
//! a minute of quiet, and the chats answered twice. Fails on a lost reply, a double, memory
//! that does not come back to within 10 MiB of where it was before each burst, or a last round
//! that ends more than 10 MiB above the first.
//!
//! ```text
//! cargo test --release --test telegram_burst -- --ignored --nocapture
//! BURST_CHATS=20000 BURST_ROUNDS=10 cargo test --release --test telegram_burst -- --ignored --nocapture
//! ```

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::fake_api::{FakeApi, TOKEN};
use support::process::{free_port, memory_kib, BotProcess};
use support::updates as u;

/// Throttle limits far above what a burst reaches (see tests/telegram_load.rs).
const UNTHROTTLED: [&str; 4] = [
    "--max-messages-per-second",
    "100000",
    "--max-messages-per-chat-per-minute",
    "1000",
];

/// How long after a burst the memory must have come back.
const QUIET: Duration = Duration::from_secs(60);

fn setting(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The most resident memory of `pid` seen while the returned task runs (sampled every 10 ms).
fn sample_peak(pid: u32) -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let most = Arc::new(AtomicU64::new(0));
    let seen = most.clone();
    let task = tokio::spawn(async move {
        loop {
            if let Some(kib) = memory_kib(pid, "VmRSS") {
                seen.fetch_max(kib, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (most, task)
}

/// Wait until resident memory is within `slack_kib` of `target_kib`, or `within` has passed;
/// the memory then and how long it took.
async fn settle(pid: u32, target_kib: u64, slack_kib: u64, within: Duration) -> (u64, Duration) {
    let start = Instant::now();
    loop {
        let now = memory_kib(pid, "VmRSS").unwrap_or_default();
        if now <= target_kib + slack_kib || start.elapsed() >= within {
            return (now, start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Replies per chat, and the chats answered more than once.
fn doubles(fake: &FakeApi) -> usize {
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for sent in fake.sent() {
        *per_chat.entry(sent.chat_id).or_default() += 1;
    }
    per_chat.values().filter(|n| **n > 1).count()
}

enum Door {
    Polling,
    Webhook { url: String, secret: &'static str },
}

async fn burst(door: Door) {
    let chats = setting("BURST_CHATS", 20_000);
    let rounds = setting("BURST_ROUNDS", 1);
    let fake = FakeApi::start().await;
    let mut args = vec!["telegram".to_owned()];
    args.extend(UNTHROTTLED.iter().map(|s| (*s).to_owned()));
    let mut env = vec![
        ("TELOXIDE_TOKEN", TOKEN.to_owned()),
        ("TELOXIDE_API_URL", fake.url()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    if let Door::Webhook { url, secret } = &door {
        let listen = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        args.extend(["--webhook-url".to_owned(), url.clone()]);
        args.extend(["--listen".to_owned(), listen]);
        env.push(("WEBHOOK_SECRET", (*secret).to_owned()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut bot = BotProcess::spawn(&args, &env);
    let ready = match &door {
        Door::Polling => {
            fake.wait_until(Duration::from_secs(20), |f| {
                !f.calls("getUpdates").is_empty()
            })
            .await
        }
        Door::Webhook { .. } => {
            fake.wait_until(Duration::from_secs(20), |f| f.webhook_secret().is_some())
                .await
        }
    };
    assert!(ready, "the bot starts; log:\n{}", bot.log());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = bot.pid();
    println!(
        "idle after start-up: {:.1} MiB",
        mib(memory_kib(pid, "VmRSS").unwrap_or_default())
    );
    let questions = [
        "hi",
        "someone is sharing my nudes",
        "help",
        "what does the law say",
    ];
    let client = reqwest::Client::new();
    // A few chats first, one at a time: the matcher's caches warm to these messages (memory
    // it keeps for good, whatever the traffic), and nothing piles up.
    let warm_up = 40;
    for n in 0..warm_up {
        let update = u::private_text(u::private_chat_id(-1 - n), questions[(n % 4) as usize]);
        match &door {
            Door::Polling => {
                fake.push_update(update);
            }
            Door::Webhook { url, secret } => post_all(&client, url, secret, vec![update]).await,
        }
        let answered = fake
            .wait_until(Duration::from_secs(10), |f| f.sent_count() > n as usize)
            .await;
        assert!(answered, "warm-up message answered");
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    let before = memory_kib(pid, "VmRSS").unwrap_or_default();
    println!(
        "idle before the first burst, after {warm_up} messages: {:.1} MiB",
        mib(before)
    );
    let mut after_first = None;
    for round in 0..rounds {
        let before_round = memory_kib(pid, "VmRSS").unwrap_or_default();
        let (peak, sampler) = sample_peak(pid);
        let started = Instant::now();
        let updates: Vec<serde_json::Value> = (0..chats)
            .map(|n| {
                let chat = u::private_chat_id(round * chats + n);
                u::private_text(chat, questions[(n % 4) as usize])
            })
            .collect();
        match &door {
            Door::Polling => {
                for update in updates {
                    fake.push_update(update);
                }
            }
            Door::Webhook { url, secret } => {
                post_all(&client, url, secret, updates).await;
            }
        }
        let expected = ((round + 1) * chats + warm_up) as usize;
        assert!(
            fake.wait_until(Duration::from_secs(600), |f| f.sent_count() >= expected)
                .await,
            "round {round}: {} of {expected} replies; log:\n{}",
            fake.sent().len(),
            bot.log()
        );
        let answered_in = started.elapsed();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let after_5s = memory_kib(pid, "VmRSS").unwrap_or_default();
        sampler.abort();
        let (settled, took) = settle(pid, before_round, 10 * 1024, QUIET).await;
        assert!(
            settled <= before_round + 10 * 1024,
            "round {}: memory came back to within 10 MiB of {:.1} MiB",
            round + 1,
            mib(before_round)
        );
        after_first.get_or_insert(settled);
        println!(
            "round {}: {chats} chats answered in {:.1} s; resident peak {:.1} MiB, 5 s after {:.1} MiB, after quiet {:.1} MiB ({:.0} s); replies {}, chats answered twice {}; threads {}, open files {}",
            round + 1,
            answered_in.as_secs_f64(),
            mib(peak.load(Ordering::Relaxed)),
            mib(after_5s),
            mib(settled),
            took.as_secs_f64(),
            fake.sent().len(),
            doubles(&fake),
            memory_kib(pid, "Threads").unwrap_or_default(),
            std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count),
        );
    }
    let end = memory_kib(pid, "VmRSS").unwrap_or_default();
    let lost_or_double = fake.sent().len() as i64 - rounds * chats - warm_up;
    let twice = doubles(&fake);
    let (status, _) =
        tokio::task::block_in_place(|| bot.stop_with("TERM", Duration::from_secs(20)));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "log:\n{}",
        bot.log()
    );
    assert_eq!(twice, 0, "no chat answered twice");
    assert_eq!(lost_or_double, 0, "one reply per message");
    // What stays between rounds is what /forget must keep for 48 hours: the message ids of up
    // to 100,000 chats, about 1 MiB for every 20,000 (src/telegram/recent.rs).
    let after_first = after_first.unwrap_or(before);
    assert!(
        end <= after_first + 10 * 1024,
        "{} chats end where the first {chats} ended: {:.1} MiB after the first round, {:.1} MiB at the end",
        rounds * chats,
        mib(after_first),
        mib(end)
    );
}

/// Post every update to the webhook, 100 at a time (Telegram's highest `max_connections`).
async fn post_all(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    updates: Vec<serde_json::Value>,
) {
    let queue = Arc::new(std::sync::Mutex::new(updates));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (queue, client, url, secret) = (
            queue.clone(),
            client.clone(),
            url.to_owned(),
            secret.to_owned(),
        );
        senders.spawn(async move {
            static NEXT_ID: AtomicU64 = AtomicU64::new(1);
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some(mut update) = next else { break };
                update["update_id"] = NEXT_ID.fetch_add(1, Ordering::Relaxed).into();
                let status = client
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", &secret)
                    .header("content-type", "application/json")
                    .body(update.to_string())
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                assert_eq!(status.ok(), Some(200));
            }
        });
    }
    while senders.join_next().await.is_some() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn polling_burst_of_distinct_chats() {
    burst(Door::Polling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn webhook_burst_of_distinct_chats() {
    let port = free_port();
    burst(Door::Webhook {
        url: format!("http://127.0.0.1:{port}/hook"),
        secret: "burst-secret",
    })
    .await;
}
