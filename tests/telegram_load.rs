//! Measurement, not part of the default run: 50,000 messages from 5,000 chats through the
//! built binary and the fake Bot API, throttle limits raised. The messages are the labelled
//! sets of `tests/data` (about 800 different ones, danger included), so the bot does real
//! matching work. Prints replies a second, latency percentiles and the bot's peak memory, and
//! fails if a message is left unanswered or answered twice. Run it on the release build:
//!
//! ```text
//! cargo test --release --test telegram_load -- --ignored --nocapture --test-threads=1
//! ```

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::fake_api::{FakeApi, TOKEN};
use support::process::{free_port, memory_kib, BotProcess};
use support::updates as u;

const CHATS: i64 = 5_000;
const PER_CHAT: i64 = 10;
/// Telegram's highest `max_connections` for a webhook: at most this many updates in flight.
const WEBHOOK_CONCURRENCY: usize = 100;
/// How long every reply may take to arrive, for the whole run.
const ALL_ANSWERED_WITHIN: Duration = Duration::from_secs(600);

/// The text column of every labelled set in `tests/data`.
fn questions() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a labelled set");
        all.extend(
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split('\t').next())
                .map(str::to_owned),
        );
    }
    assert!(all.len() > 100, "tests/data has the labelled sets");
    all
}

/// Throttle limits far above what the bot reaches. Not a million a second: teloxide's throttle
/// reserves a queue slot per message of its per-second limit up front (24 MB for a million).
const UNTHROTTLED: [&str; 8] = [
    "--max-messages-per-second",
    "10000",
    "--max-messages-per-chat-per-second",
    "1000",
    "--max-messages-per-chat-per-minute",
    "1000000",
    "--max-messages-per-group-per-minute",
    "1000000",
];

fn updates(chats: i64) -> Vec<(i64, serde_json::Value)> {
    let questions = questions();
    let mut all = Vec::new();
    for k in 0..PER_CHAT {
        for n in 0..chats {
            let chat = u::private_chat_id(n);
            let text = &questions[((n * PER_CHAT + k) as usize * 7919) % questions.len()];
            all.push((chat, u::private_text(chat, text)));
        }
    }
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

/// Per chat, pair the i-th time an update was handed over with the i-th reply's arrival.
fn latencies(fake: &FakeApi, handed: &HashMap<i64, Vec<Instant>>) -> Vec<Duration> {
    let mut replies: HashMap<i64, Vec<Instant>> = HashMap::new();
    for sent in fake.sent() {
        replies.entry(sent.chat_id).or_default().push(sent.at);
    }
    let mut all = Vec::new();
    for (chat, starts) in handed {
        let mut starts = starts.clone();
        starts.sort();
        let mut ends = replies.remove(chat).unwrap_or_default();
        ends.sort();
        assert_eq!(
            starts.len(),
            ends.len(),
            "exactly one reply per message in chat {chat}"
        );
        all.extend(
            starts
                .iter()
                .zip(&ends)
                .map(|(s, e)| e.saturating_duration_since(*s)),
        );
    }
    all.sort();
    all
}

/// Memory figures of one run, in KiB.
struct Memory {
    /// VmHWM at the end: the peak since the process started, start-up included.
    peak: u64,
    /// The most VmRSS seen while serving (sampled every 20 ms).
    serving: u64,
}

fn report(mode: &str, latencies: &[Duration], first: Instant, last: Instant, memory: Memory) {
    let seconds = last.duration_since(first).as_secs_f64();
    println!(
        "{mode}: {} replies in {seconds:.2} s = {:.0} replies/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; resident while serving (VmRSS, most sampled) {:.1} MiB, peak since start (VmHWM) {:.1} MiB",
        latencies.len(),
        latencies.len() as f64 / seconds,
        percentile(latencies, 0.50).as_secs_f64() * 1e3,
        percentile(latencies, 0.99).as_secs_f64() * 1e3,
        percentile(latencies, 1.0).as_secs_f64() * 1e3,
        memory.serving as f64 / 1024.0,
        memory.peak as f64 / 1024.0,
    );
}

/// Samples the resident memory of process `pid` every 20 ms until dropped, keeping the largest
/// sample.
struct ResidentSampler {
    most: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl ResidentSampler {
    fn start(pid: u32) -> Self {
        let most = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = most.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Some(kib) = memory_kib(pid, "VmRSS") {
                    seen.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        ResidentSampler { most, task }
    }

    /// The figures so far: the most resident sampled, and the bot's peak since start.
    fn memory(&self, bot: &BotProcess) -> Memory {
        Memory {
            peak: bot.peak_memory_kib().unwrap_or_default(),
            serving: self.most.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Drop for ResidentSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn last_reply(fake: &FakeApi) -> Instant {
    fake.sent().iter().map(|s| s.at).max().expect("replies")
}

/// Start the bot polling the fake, queue ten updates from each of `chats` chats (`paced`: this
/// many a second, else all at once), wait for every reply, and report.
async fn polling(mode: &str, chats: i64, paced: Option<u32>, throttle: &[&str]) {
    let fake = Arc::new(FakeApi::start().await);
    let all = updates(chats);
    let total = all.len();
    let mut args = vec!["telegram"];
    args.extend(throttle);
    let env = [
        ("TELOXIDE_TOKEN", TOKEN.to_owned()),
        ("TELOXIDE_API_URL", fake.url()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut bot = BotProcess::spawn(&args, &env);
    assert!(
        fake.wait_until(Duration::from_secs(20), |f| !f
            .calls("getUpdates")
            .is_empty())
            .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = bot.peak_memory_kib().unwrap_or_default();
    println!(
        "{mode}: idle after start-up, resident (VmRSS) {:.1} MiB, peak since start (VmHWM) {:.1} MiB",
        memory_kib(bot.pid(), "VmRSS").unwrap_or_default() as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    let sampler = ResidentSampler::start(bot.pid());
    let chat_of: HashMap<i64, i64> = match paced {
        None => all
            .into_iter()
            .map(|(chat, update)| (fake.push_update(update), chat))
            .collect(),
        Some(rate) => push_paced(&fake, all, rate).await,
    };
    assert!(
        fake.wait_until(ALL_ANSWERED_WITHIN, |f| f.sent_count() >= total)
            .await,
        "not every message was answered; log:\n{}",
        bot.log()
    );
    let memory = sampler.memory(&bot);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), total, "no message answered twice");
    let mut handed: HashMap<i64, Vec<Instant>> = HashMap::new();
    for (id, at) in fake.served() {
        handed.entry(chat_of[&id]).or_default().push(at);
    }
    let first = handed.values().flatten().min().copied().expect("served");
    let latencies = latencies(&fake, &handed);
    report(mode, &latencies, first, last_reply(&fake), memory);
    let (status, _) =
        tokio::task::block_in_place(|| bot.stop_with("TERM", Duration::from_secs(10)));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

/// Queue `updates` at `rate` a second, in steps of 10 ms; the chat of each update id.
async fn push_paced(
    fake: &FakeApi,
    updates: Vec<(i64, serde_json::Value)>,
    rate: u32,
) -> HashMap<i64, i64> {
    // Ticks of 10 ms, or slower for rates under 100 a second.
    let per_tick = (rate / 100).max(1) as usize;
    let tick = Duration::from_secs(1) * per_tick as u32 / rate.max(1);
    let mut ticks = tokio::time::interval(tick);
    let mut chat_of = HashMap::new();
    for chunk in updates.chunks(per_tick) {
        ticks.tick().await;
        for (chat, update) in chunk {
            chat_of.insert(fake.push_update(update.clone()), *chat);
        }
    }
    chat_of
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn polling_50000_messages_from_5000_chats_at_once() {
    polling("polling, all queued at once", CHATS, None, &UNTHROTTLED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn polling_50000_messages_from_5000_chats_500_a_second() {
    polling("polling, 500 a second", CHATS, Some(500), &UNTHROTTLED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn polling_3000_messages_from_300_chats_30_a_second() {
    // Telegram's own limit for one bot: about 30 messages a second, with the default throttle
    // (as deployed). The memory a cheap server needs on a busy day.
    polling("polling, 30 a second, default throttle", 300, Some(30), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn webhook_50000_messages_from_5000_chats() {
    let fake = Arc::new(FakeApi::start().await);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/hook");
    let mut args = vec!["telegram", "--webhook-url", &url, "--listen", &listen];
    args.extend(UNTHROTTLED);
    let secret = "load-test-secret";
    let env = [
        ("TELOXIDE_TOKEN", TOKEN.to_owned()),
        ("TELOXIDE_API_URL", fake.url()),
        ("WEBHOOK_SECRET", secret.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut bot = BotProcess::spawn(&args, &env);
    assert!(
        fake.wait_until(Duration::from_secs(20), |f| f.webhook_secret().is_some())
            .await
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sampler = ResidentSampler::start(bot.pid());

    let all = updates(CHATS);
    let total = all.len();
    let queue = Arc::new(std::sync::Mutex::new(
        all.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let handed = Arc::new(std::sync::Mutex::new(HashMap::<i64, Vec<Instant>>::new()));
    let client = reqwest::Client::new();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..WEBHOOK_CONCURRENCY {
        let (queue, handed, client, url) =
            (queue.clone(), handed.clone(), client.clone(), url.clone());
        senders.spawn(async move {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some((n, (chat, mut update))) = next else {
                    break;
                };
                update["update_id"] = (n as i64 + 1).into();
                let started = Instant::now();
                let status = client
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", secret)
                    .header("content-type", "application/json")
                    .body(update.to_string())
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                assert_eq!(status.ok(), Some(200));
                handed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(chat)
                    .or_default()
                    .push(started);
            }
        });
    }
    while senders.join_next().await.is_some() {}
    let memory = sampler.memory(&bot);
    assert_eq!(fake.sent().len(), total);
    let handed = handed.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let first = handed.values().flatten().min().copied().expect("posted");
    let latencies = latencies(&fake, &handed);
    report("webhook", &latencies, first, last_reply(&fake), memory);
    let (status, _) =
        tokio::task::block_in_place(|| bot.stop_with("TERM", Duration::from_secs(10)));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}
