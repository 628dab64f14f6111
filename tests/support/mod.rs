//! Shared test support: a fake Bot API server, updates as the Bot API sends them, and the
//! built binary run as a child process. Each test file uses part of it.
#![allow(dead_code)]

pub mod fake_api;
pub mod process;
pub mod updates;

/// The shipped content, compiled once per test binary (compiling is slow in a debug build) and
/// cloned for each test.
pub fn brain() -> safeguard_bot::Brain {
    static BRAIN: std::sync::OnceLock<safeguard_bot::Brain> = std::sync::OnceLock::new();
    BRAIN
        .get_or_init(|| safeguard_bot::Brain::embedded().expect("the shipped content loads"))
        .clone()
}

/// A teloxide bot pointed at `fake` with the throttle raised, introduced to it (`getMe`), with
/// the shipped content and fresh metrics: what the handler and webhook tests start from.
pub async fn connected_bot(
    fake: &fake_api::FakeApi,
) -> (
    safeguard_bot::telegram::TgBot,
    teloxide::types::Me,
    std::sync::Arc<safeguard_bot::telegram::SharedBrain>,
    safeguard_bot::metrics::Metrics,
) {
    use safeguard_bot::telegram::{bot, Credentials, SharedBrain};
    let credentials = Credentials {
        token: fake_api::TOKEN.to_owned(),
        api_url: Some(fake.url().parse().expect("fake url")),
    };
    let bot =
        bot::connect(&credentials, bot::limits(10_000, 100, 6_000, 6_000)).expect("bot connects");
    let brain = SharedBrain::new(brain());
    let metrics = safeguard_bot::metrics::Metrics::new();
    let me = bot::introduce(&bot, &brain.current(), &metrics)
        .await
        .expect("the fake answers getMe");
    (bot, me, brain, metrics)
}
