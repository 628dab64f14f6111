//! Soak: the built binary polling the fake Bot API for a long while, with traffic from many
//! chats and everything that goes wrong in months of service: 429s with `retry_after`, dropped
//! connections, replies Telegram carried out whose answer was lost, the Bot API going away
//! for 20 s and coming back, and a content reload (SIGHUP) every minute, each one a new version
//! of the content swapped in (a copy of `responses/` with one more comment line each time).
//!
//! It reports, and fails on: a lost reply (every message meant for the bot must be answered);
//! a reply doubled by anything but an injected lost answer, or not counted by the bot as a
//! possible double; a reload that failed or did not happen; resident memory that
//! grows (the last part of the run against the first, after warm-up); CPU while idle above 2 %
//! of a core; an exit on SIGTERM that is not clean.
//!
//! Two lengths, both ignored by a plain `cargo test` (the short one runs in `.ci/run`):
//!
//! ```text
//! cargo test --test telegram_soak -- --ignored --nocapture soak_short
//! SOAK_MINUTES=30 cargo test --release --test telegram_soak -- --ignored --nocapture soak_long
//! ```

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::fake_api::{FakeApi, Fault, TOKEN};
use support::process::{free_port, memory_kib, BotProcess};
use support::updates::{self as u, Media};

/// What people write, varied so that the matcher meets many of its patterns.
const TEXTS: [&str; 14] = [
    "someone is sharing a nude photo of me how do I get it taken down",
    "is it illegal for my daughter to send nudes at 15",
    "how do i report a sexual image of a child i found online",
    "what is the number for childline",
    "how many indecent image crimes were recorded in north wales",
    "my son received a naked picture from a girl in his class, what should we do",
    "im scared of my own thoughts about kids",
    "a man online keeps asking my 13 yr old for pics",
    "there is a man in the house hurting my sister right now",
    "hi",
    "can you help",
    "my teacher said something happened to a pupil, who do i call",
    "i saw something horrible on a website by accident",
    "asdfgh",
];

/// How long and how hard to run.
struct Plan {
    length: Duration,
    /// One memory row printed per this long.
    report_every: Duration,
    hangup_every: Duration,
    /// When, from the start, the Bot API goes away for [`OUTAGE`].
    outages: Vec<Duration>,
    /// One fault injected per this long, in turn from [`FAULTS`].
    fault_every: Duration,
    /// How long CPU is measured while idle, at the end.
    idle: Duration,
}

/// How long the Bot API is away each time.
const OUTAGE: Duration = Duration::from_secs(20);

/// The faults injected in turn: method and fault.
const FAULTS: [(&str, Fault); 5] = [
    ("sendMessage", Fault::RetryAfter(2)),
    ("sendMessage", Fault::Drop),
    ("getUpdates", Fault::Drop),
    ("sendMessage", Fault::Lost),
    ("answerCallbackQuery", Fault::RetryAfter(1)),
];

/// Messages pushed a second.
const RATE: u32 = 10;

impl Plan {
    fn long() -> Self {
        let minutes = std::env::var("SOAK_MINUTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30u64);
        let length = Duration::from_secs(minutes * 60);
        Self {
            length,
            report_every: Duration::from_secs(60),
            hangup_every: Duration::from_secs(60),
            outages: vec![length / 6, length / 2, length * 5 / 6],
            fault_every: Duration::from_secs(10),
            idle: Duration::from_secs(30),
        }
    }

    fn short() -> Self {
        Self {
            length: Duration::from_secs(90),
            report_every: Duration::from_secs(10),
            hangup_every: Duration::from_secs(15),
            outages: vec![Duration::from_secs(15)],
            fault_every: Duration::from_secs(2),
            idle: Duration::from_secs(10),
        }
    }
}

/// A small deterministic generator: the same traffic every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The traffic so far: replies each chat must get.
#[derive(Default)]
struct Traffic {
    expected: HashMap<i64, usize>,
    next_chat: i64,
    pushed: usize,
}

impl Traffic {
    /// One more update: mostly from a chat never seen, else from one of the last 200; mostly
    /// text, some commands, button presses and photos. Each must get one reply.
    fn push(&mut self, fake: &FakeApi, dice: &mut Dice) {
        let chat = if self.next_chat < 200 || dice.below(10) < 7 {
            self.next_chat += 1;
            u::private_chat_id(self.next_chat)
        } else {
            u::private_chat_id(self.next_chat - dice.below(200) as i64)
        };
        let update: Value = match dice.below(50) {
            0..=3 => u::private_command(
                chat,
                if dice.below(2) == 0 {
                    "/start"
                } else {
                    "/help"
                },
            ),
            4..=6 => u::button_press(chat, "topic:report_image"),
            7..=9 => u::private_media(chat, Media::Photo),
            _ => u::private_text(chat, TEXTS[dice.below(TEXTS.len() as u64) as usize]),
        };
        fake.push_update(update);
        *self.expected.entry(chat).or_default() += 1;
        self.pushed += 1;
    }

    /// Replies missing, and replies beyond those expected, over all chats.
    fn lost_and_doubled(&self, fake: &FakeApi) -> (usize, usize) {
        let mut got: HashMap<i64, usize> = HashMap::new();
        for sent in fake.sent() {
            *got.entry(sent.chat_id).or_default() += 1;
        }
        let mut lost = 0;
        let mut doubled = 0;
        for (chat, want) in &self.expected {
            let have = got.get(chat).copied().unwrap_or(0);
            lost += want.saturating_sub(have);
            doubled += have.saturating_sub(*want);
        }
        let strangers: usize = got
            .iter()
            .filter(|(chat, _)| !self.expected.contains_key(chat))
            .map(|(_, n)| n)
            .sum();
        (lost, doubled + strangers)
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// CPU time used by `pid` so far (user and system), from `/proc/PID/stat`.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis(ticks * 1000 / per_second)
}

/// The value of the first line of `scraped` that starts with `series`, or 0.
fn counter(scraped: &str, series: &str) -> u64 {
    scraped
        .lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn scrape(url: &str) -> String {
    match reqwest::get(url).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Resident memory in one report period: the smallest sample (what the bot keeps) and the
/// largest (what a reload or a backlog after an outage costs for a moment).
#[derive(Clone, Copy)]
struct Period {
    from: Duration,
    least: u64,
    most: u64,
}

/// Resident memory over the run, period by period.
#[derive(Default)]
struct Memory {
    rows: Vec<Period>,
}

impl Memory {
    fn note(&mut self, period: usize, at: Duration, kib: u64) {
        while self.rows.len() <= period {
            self.rows.push(Period {
                from: at,
                least: u64::MAX,
                most: 0,
            });
        }
        let row = &mut self.rows[period];
        row.least = row.least.min(kib);
        row.most = row.most.max(kib);
    }

    /// The highest floor among the periods in `part` (fractions of the finished periods,
    /// the first skipped as warm-up).
    fn floor(&self, part: std::ops::Range<f64>) -> u64 {
        let done = self.rows.len().saturating_sub(1);
        let at = |f: f64| ((done as f64 * f) as usize).clamp(1, done);
        let (from, to) = (at(part.start), at(part.end));
        self.rows[from..to.max(from + 1).min(done.max(1))]
            .iter()
            .map(|r| r.least)
            .max()
            .unwrap_or_default()
    }
}

async fn soak(plan: Plan) {
    let fake = FakeApi::start().await;
    let metrics_port = free_port();
    let metrics_url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let responses = support::copy_responses();
    let folder = responses.path().to_str().expect("a UTF-8 temp path");
    let listen = format!("127.0.0.1:{metrics_port}");
    let args = [
        "telegram",
        "--responses",
        folder,
        "--metrics-listen",
        &listen,
    ];
    let env = [
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", &fake.url()),
        ("RUST_LOG", "warn"),
    ];
    let mut bot = BotProcess::spawn(&args, &env);
    let started = fake
        .wait_until(Duration::from_secs(30), |f| {
            !f.calls("getUpdates").is_empty()
        })
        .await;
    assert!(started, "the bot starts; log:\n{}", bot.log());
    let pid = bot.pid();

    let mut traffic = Traffic::default();
    let mut dice = Dice(0x5eed_cafe_f00d);
    let mut memory = Memory::default();
    let mut faults = 0;
    let mut next_fault_kind = 0;
    let mut lost_faults = 0;
    let mut hangups = 0;
    let mut outages = plan.outages.iter().peekable();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / u64::from(RATE)));
    let start = Instant::now();
    let (mut next_hangup, mut next_fault) = (plan.hangup_every, plan.fault_every);
    println!("minute:second  messages  replies  resident: least  most");
    while start.elapsed() < plan.length {
        tick.tick().await;
        let now = start.elapsed();
        traffic.push(&fake, &mut dice);
        if now >= next_fault {
            // One at a time per method: a fault stands for something that goes wrong on one
            // call, not a queue of failures waiting for the bot.
            let (method, fault) = FAULTS[next_fault_kind % FAULTS.len()];
            next_fault_kind += 1;
            if fake.faults_left_for(method) == 0 {
                fake.inject(method, fault);
                faults += 1;
                lost_faults += usize::from(fault == Fault::Lost);
            }
            next_fault += plan.fault_every;
        }
        if now >= next_hangup {
            // A new version each time, so that every reload swaps the content.
            let messages = support::read(responses.path(), "messages.toml");
            let edited = format!("{messages}# soak reload {hangups}\n");
            support::write(responses.path(), "messages.toml", &edited);
            bot.signal("HUP");
            hangups += 1;
            next_hangup += plan.hangup_every;
        }
        if outages.next_if(|at| now >= **at).is_some() {
            println!(
                "{:>5.0} s  the Bot API goes away for {OUTAGE:?}",
                now.as_secs_f64()
            );
            fake.go_away(OUTAGE);
        }
        let period = (now.as_millis() / plan.report_every.as_millis()) as usize;
        if let Some(kib) = memory_kib(pid, "VmRSS") {
            let fresh = memory.rows.len() <= period;
            memory.note(period, now, kib);
            if fresh && period > 0 {
                let row = memory.rows[period - 1];
                println!(
                    "{:>3}:{:02}  {:>8}  {:>7}  {:>6.1}  {:>5.1} MiB",
                    row.from.as_secs() / 60,
                    row.from.as_secs() % 60,
                    traffic.pushed,
                    fake.sent_count(),
                    mib(row.least),
                    mib(row.most)
                );
            }
        }
    }

    // Every reply in (counted chat by chat: a double must not stand in for a lost one), then
    // quiet.
    let answered = fake
        .wait_until(Duration::from_secs(150), |f| {
            f.sent_count() >= traffic.pushed && traffic.lost_and_doubled(f).0 == 0
        })
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (lost, doubled) = traffic.lost_and_doubled(&fake);
    let before = cpu_time(pid);
    tokio::time::sleep(plan.idle).await;
    let idle_cpu = (cpu_time(pid) - before).as_secs_f64() / plan.idle.as_secs_f64();
    let scraped = scrape(&metrics_url).await;
    let counted = counter(
        &scraped,
        r#"safeguard_possible_double_replies_total{method="sendMessage"}"#,
    );
    let reloads = counter(&scraped, r#"safeguard_content_reloads_total{result="ok"}"#);
    let not_swapped = counter(
        &scraped,
        r#"safeguard_content_reloads_total{result="unchanged"}"#,
    ) + counter(
        &scraped,
        r#"safeguard_content_reloads_total{result="refused"}"#,
    );
    let idle_kib = memory_kib(pid, "VmRSS").unwrap_or_default();
    // Early is after the first content swaps: the first one costs about 7 MiB once (measured,
    // not explained; BENCHMARKS.md), which is not growth over time.
    let early = memory.floor(0.3..0.5);
    let late = memory.floor(0.7..1.0);

    println!(
        "{} messages from {} chats over {:?}; {faults} faults injected ({lost_faults} lost answers), \
         {} outages of {OUTAGE:?}, {hangups} SIGHUPs ({reloads} new versions swapped in, {not_swapped} not)",
        traffic.pushed,
        traffic.expected.len(),
        plan.length,
        plan.outages.len()
    );
    println!("lost replies: {lost}; replies beyond one a message: {doubled}; possible doubles the bot counted: {counted}");
    println!(
        "resident, the highest floor of a period: {:.1} MiB early, {:.1} MiB late; \
         {:.1} MiB idle at the end; peak {:.1} MiB",
        mib(early),
        mib(late),
        mib(idle_kib),
        mib(bot.peak_memory_kib().unwrap_or_default())
    );
    println!("CPU while idle: {:.2} % of a core", idle_cpu * 100.0);

    assert!(
        answered && lost == 0,
        "{lost} replies lost; log:\n{}",
        bot.log()
    );
    assert!(
        doubled <= lost_faults && doubled as u64 <= counted,
        "{doubled} doubled replies: {lost_faults} lost answers injected, {counted} counted"
    );
    assert!(
        late <= early + 10 * 1024,
        "memory grew from {:.1} to {:.1} MiB",
        mib(early),
        mib(late)
    );
    assert!(idle_cpu < 0.02, "idle CPU {:.2} %", idle_cpu * 100.0);
    // SIGHUPs that arrive during a reload are answered by one more, so a slow build may count
    // fewer reloads than signals; none may fail.
    assert!(
        reloads >= 1 && reloads as usize <= hangups && not_swapped == 0,
        "{hangups} SIGHUPs: {reloads} swapped in, {not_swapped} not"
    );
    let (status, took) =
        tokio::task::block_in_place(|| bot.stop_with("TERM", Duration::from_secs(10)));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", bot.log());
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "two minutes; run by .ci/run"]
async fn soak_short() {
    soak(Plan::short()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "30 minutes (SOAK_MINUTES)"]
async fn soak_long() {
    soak(Plan::long()).await;
}
