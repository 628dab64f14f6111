//! The Telegram door onto the brain: long polling or a webhook, with teloxide 0.17.
//!
//! - [`inbox`]: every update's way in from either door: a chat's updates in order, a cap on
//!   updates in flight, nothing kept for a chat once it is answered; [`answered`]: the ids of
//!   the updates answered lately, so a redelivered one is answered once.
//! - [`handlers`]: the one handler tree, where every kind of update goes; a panic in it costs
//!   only the update being handled.
//! - [`entities`]: message entities checked against their text before teloxide reads them.
//! - [`send`]: keyboards, bounded retries, error descriptions safe to log.
//! - [`bot`]: token and server from the environment, throttle, start-up calls.
//! - [`webhook`]: the webhook listener (secret, limits, timeouts, health check, metrics).
//! - [`monitor`]: `GET /metrics` and `/healthz`, also on `--metrics-listen ADDR`.
//! - [`forget`]: `/forget`, deleting the conversation from a private chat; [`recent`]: the
//!   message ids it deletes, kept in memory only.
//! - [`metrics`]: the counters of `/metrics`, with no personal data.
//! - [`memory`]: handing freed memory back, and allocator tuning for a long-running bot.
//! - [`reload`]: reading the content again on SIGHUP, checked, swapped in atomically.
//! - [`signals`]: SIGINT and SIGTERM, a graceful stop within a deadline; SIGHUP.
//!
//! The brain is shared as an [`Arc<SharedBrain>`]: handlers take the current version for each
//! update, so a new content version can be swapped in while the bot serves.
//!
//! This module knows nothing about what the bot says; it never logs what people write or who
//! they are (see [`crate::logging`]).

pub mod answered;
pub mod bot;
pub mod entities;
pub mod forget;
pub mod handlers;
pub mod inbox;
pub mod memory;
pub mod metrics;
pub mod monitor;
pub mod recent;
pub mod reload;
pub mod send;
pub mod signals;
pub mod webhook;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use teloxide::adaptors::throttle::Limits;
use teloxide::adaptors::Throttle;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::update_listeners::{AsUpdateStream, Polling, UpdateListener};

use crate::brain::Brain;
use crate::telegram::metrics::{Method, Metrics};
use crate::telegram::recent::Recent;
pub use bot::Credentials;
use inbox::Inbox;
use send::{describe, failure, Patience};
use signals::Stop;

/// The bot every handler sends with: teloxide's `Bot` behind its `Throttle` adaptor.
pub type TgBot = Throttle<Bot>;

/// How long one `getUpdates` long poll waits for updates (below reqwest's 17 s timeout).
pub(crate) const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest pause between two `getUpdates` that failed. teloxide's default doubles up to
/// 64 s, so after a 20 s outage of the Bot API the bot could stay deaf for another half
/// minute (found by the soak test); one request every few seconds costs nothing.
pub(crate) const POLL_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Why the bot could not start, in one line for the person at the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The brain the handlers use, replaceable as a whole while the bot serves (a content reload).
#[derive(Debug)]
pub struct SharedBrain {
    current: RwLock<Arc<Brain>>,
}

impl SharedBrain {
    /// Share `brain` with the handlers.
    pub fn new(brain: Brain) -> Arc<Self> {
        Arc::new(Self {
            current: RwLock::new(Arc::new(brain)),
        })
    }

    /// The brain to answer one update with. Holding it does not block a swap: an update
    /// started on the old content finishes on it.
    pub fn current(&self) -> Arc<Brain> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Answer every update from now on with `brain`.
    pub fn replace(&self, brain: Brain) {
        let brain = Arc::new(brain);
        match self.current.write() {
            Ok(mut guard) => *guard = brain,
            Err(poisoned) => *poisoned.into_inner() = brain,
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Ask Telegram for updates (`getUpdates`); one process.
    Polling,
    /// Telegram posts updates to us; any number of replicas.
    Webhook(webhook::Settings),
}

/// Everything `run` needs besides the credentials and the brain.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Polling or webhook.
    pub mode: Mode,
    /// Throttle limits for sending.
    pub limits: Limits,
    /// Where to serve `GET /metrics` and `/healthz` besides the webhook listener, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// The content folder to read again on SIGHUP (`None`: the built-in content, which cannot
    /// change).
    pub responses: Option<PathBuf>,
}

/// Serve Telegram until SIGINT or SIGTERM, on a runtime of its own, with the brain `load`
/// returns, reloading the content on SIGHUP. Returns once every reply in flight is sent (or the
/// grace period is over).
///
/// The signals are listened for before `load` runs: a SIGHUP (`systemctl reload`) that arrives
/// while the content is still being compiled must not end the process, which is what SIGHUP
/// does by default.
pub fn run(
    credentials: Credentials,
    load: impl FnOnce() -> Result<Brain, Error>,
    settings: Settings,
) -> Result<(), Error> {
    // One worker thread: a reply costs microseconds of CPU and Telegram lets a bot send 30
    // messages a second, so a second worker buys nothing but memory (each thread that
    // matches keeps its own automaton caches, several MiB once warm). Reloads still compile
    // on the blocking pool.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error(format!("cannot start the async runtime: {e}")))?;
    crate::telegram::memory::settle_for_serving();
    runtime.block_on(async {
        let stop =
            signals::listen().map_err(|e| Error(format!("cannot listen for stop signals: {e}")))?;
        let hangups =
            signals::hangups().map_err(|e| Error(format!("cannot listen for SIGHUP: {e}")))?;
        // The async tasks so far (the signal listeners) run on the worker threads meanwhile.
        let brain = load()?;
        crate::telegram::memory::release_freed();
        let metrics = Metrics::new();
        let brain = SharedBrain::new(brain);
        let reloads = tokio::spawn(reload::on_hangup(
            settings.responses.clone(),
            brain.clone(),
            metrics.clone(),
            hangups,
            stop.clone(),
        ));
        let served = serve(credentials, brain, metrics, settings, stop).await;
        reloads.abort();
        served
    })
}

/// Serve Telegram until `stop` is raised: connect, introduce the bot, then poll or listen;
/// count in `metrics` and serve them on `settings.metrics_listen` if given.
pub async fn serve(
    credentials: Credentials,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    settings: Settings,
    stop: Stop,
) -> Result<(), Error> {
    let bot = bot::connect(&credentials, settings.limits)?;
    let content = brain.current();
    metrics.content_loaded(content.version());
    let monitoring = match settings.metrics_listen {
        Some(addr) => Some(monitor::bind(addr).await?),
        None => None,
    };
    let me = tokio::select! {
        me = bot::introduce(&bot, &content, &metrics) => me?,
        () = stop.requested() => return Ok(()),
    };
    drop(content);
    // A SIGHUP during start-up may have swapped the content meanwhile: say what serves now.
    log::info!("content version {}", brain.current().version());
    let monitoring = monitoring
        .map(|listener| tokio::spawn(monitor::serve(listener, metrics.clone(), stop.clone())));
    let served = match settings.mode {
        Mode::Polling => poll(bot, me, brain, metrics, stop).await,
        Mode::Webhook(hook) => webhook::run(bot, me, brain, metrics, hook, stop).await,
    };
    if let Some(monitoring) = monitoring {
        if served.is_ok() {
            // Stopping: it finishes the scrapes in flight.
            let _ = monitoring.await;
        } else {
            monitoring.abort();
        }
    }
    served
}

/// The pause after a `getUpdates` failed, `errors` being how many failed in a row before it
/// (0 for the first): 1 s, doubling, at most [`POLL_BACKOFF_MAX`].
fn poll_backoff(errors: u32) -> Duration {
    Duration::from_secs(1 << errors.min(6)).min(POLL_BACKOFF_MAX)
}

/// Long polling: read updates as Telegram hands them over and give each to the [`Inbox`],
/// which answers a chat's updates in order on tasks of their own. While the inbox is full,
/// no more are asked for. On `stop` the listener stops asking, confirms the offset with
/// Telegram (so nothing is delivered twice after a restart), and what is in hand is answered.
async fn poll(
    bot: TgBot,
    me: Me,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    stop: Stop,
) -> Result<(), Error> {
    let mut listener = Polling::builder(bot.clone())
        .timeout(POLL_TIMEOUT)
        .backoff_strategy(poll_backoff)
        .delete_webhook()
        .await
        .build();
    let stopper = listener.stop_token();
    // The update is already taken from Telegram: a reply given up on is lost for good.
    let recent = Arc::new(Recent::new());
    let inbox = Inbox::new(bot, me, brain, metrics.clone(), recent, Patience::POLLING);
    let trimmer = tokio::spawn(inbox.clone().trim_when_idle());
    log::info!("serving by long polling");
    let updates = listener.as_stream();
    tokio::pin!(updates);
    let mut stopping = false;
    loop {
        let next = tokio::select! {
            () = stop.requested(), if !stopping => {
                stopping = true;
                stopper.stop();
                continue;
            }
            next = updates.next() => next,
        };
        match next {
            Some(Ok(update)) => {
                // Answered on its own task; polling reads on without waiting for it.
                drop(inbox.spawn(update).await);
            }
            Some(Err(e)) => {
                // The listener waits (backing off) before asking again.
                metrics.api_error(Method::GetUpdates, failure(&e));
                log::warn!("getUpdates failed: {}", describe(&e));
            }
            None => break,
        }
    }
    inbox.drain().await;
    trimmer.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swapped_brain_answers_from_then_on_and_old_holders_keep_theirs() {
        let shared = SharedBrain::new(Brain::embedded().expect("content"));
        let before = shared.current();
        shared.replace(Brain::embedded().expect("content"));
        assert!(!Arc::ptr_eq(&before, &shared.current()));
        assert_eq!(before.version(), shared.current().version());
    }
}
