//! Serving by webhook: Telegram POSTs each update to us, and we answer it before saying 200.
//!
//! Each request is handled to the end (the reply sent) before the response, so an update lives
//! in exactly one place at a time: at Telegram until a replica has answered it. No queue in
//! memory is lost when a replica stops, and Telegram's `max_connections` is the back-pressure.
//! That is what makes replicas stateless: run several behind any HTTP load balancer, with the
//! same `WEBHOOK_SECRET` (each replica registers the webhook at start-up; a replica never deletes
//! it on shutdown, since the others still serve it).
//!
//! The listener is hyper's HTTP/1 server driven by hand rather than `axum::serve`, for limits a
//! server on the internet needs: a header read timeout (which also closes idle keep-alive
//! connections), a body read timeout, a 64 KiB body limit, a 16 KiB cap on the buffer a request's headers are
//! read into, a cap on open connections, and a
//! graceful shutdown that finishes requests in flight.
//!
//! Responses: 200 handled (or deliberately ignored, or dropped because handling it panicked:
//! see [`handlers::guarded`]); 401 without the right
//! `X-Telegram-Bot-Api-Secret-Token`; 400 a body that is not an update; 413 a body over 64 KiB;
//! 408 a body that does not arrive in time (see [`Limits`]); 503 the reply could not be sent for a reason a retry
//! may fix, so Telegram delivers the update again. `GET /healthz` answers 200, `GET /metrics`
//! the counters ([`super::monitor`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::RequestError;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use url::Url;

use crate::telegram::handlers::{self, ALLOWED_UPDATES};
use crate::telegram::inbox::{Inbox, Outcome};
use crate::telegram::metrics::{Method, Metrics, Refusal};
use crate::telegram::monitor::{self, METRICS_PATH};
use crate::telegram::recent::Recent;
use crate::telegram::send::{describe, retrying, Patience};
use crate::telegram::signals::Stop;
use crate::telegram::{Error, SharedBrain, TgBot};

/// What a client may make the listener do. The defaults suit a bot on the internet; tests
/// shorten the timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted (default 64 KiB). Telegram's updates are a few KB: a
    /// message is at most 4,096 characters (about 16 KB of UTF-8), plus the message it replies
    /// to. Refused only after the secret matched, so only Telegram can make the bot hold one.
    pub body_bytes: usize,
    /// The most a connection may buffer while reading a request (default 16 KiB; hyper's own
    /// default is about 400 KB, which 1,000 clients that never finish their headers turned into
    /// 400 MB). Headers that do not fit are refused (431) before the secret is even looked at.
    pub buffer_bytes: usize,
    /// How long a client may take to send a request's headers, or sit idle between requests
    /// (default 10 s).
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body once its headers are in
    /// (default 10 s).
    pub body_timeout: Duration,
    /// Open connections at most; further clients wait in the kernel's backlog (default 1024).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 64 << 10,
            buffer_bytes: 16 << 10,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// The header Telegram sends the secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The environment variable holding the webhook secret shared by every replica.
pub(crate) const SECRET_VAR: &str = "WEBHOOK_SECRET";

/// The health check path.
pub(crate) const HEALTH_PATH: &str = "/healthz";

/// Where Telegram should post and where this replica listens.
#[derive(Clone)]
pub struct Settings {
    /// The public https URL Telegram posts to; its path is the path served locally.
    pub url: Url,
    /// The local address to listen on (behind a reverse proxy or load balancer).
    pub listen: SocketAddr,
    /// The secret Telegram sends in [`SECRET_HEADER`].
    pub secret: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

/// `WEBHOOK_SECRET`, checked against Telegram's rules, or a random secret for this run. A
/// generated secret works for one replica only: each replica would register its own.
pub(crate) fn secret_from_env() -> Result<String, Error> {
    match std::env::var(SECRET_VAR) {
        Ok(secret) if !secret.is_empty() => {
            let valid = (1..=256).contains(&secret.len())
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if valid {
                Ok(secret)
            } else {
                Err(Error(format!(
                    "{SECRET_VAR} must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
                )))
            }
        }
        _ => {
            let secret = generate_secret()?;
            crate::logging::add_secret(&secret);
            log::warn!(
                "{SECRET_VAR} is not set: using a secret generated for this run; with several replicas, give them all the same {SECRET_VAR}"
            );
            Ok(secret)
        }
    }
}

fn generate_secret() -> Result<String, Error> {
    const CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|_| {
        Error(format!(
            "cannot generate a webhook secret: set {SECRET_VAR}"
        ))
    })?;
    // 64 symbols: each byte's low 6 bits pick one, uniformly.
    Ok(bytes
        .iter()
        .map(|b| CHARSET[usize::from(b & 63)] as char)
        .collect())
}

/// What a webhook request needs to answer an update: the same [`Inbox`] as polling (the
/// handler tree, each chat's updates in order), the secret, and the request limits.
#[derive(Clone)]
pub struct Webhook {
    inbox: Inbox,
    secret: Arc<str>,
    limits: Limits,
    refusals: Arc<Refusals>,
}

impl Webhook {
    /// A webhook answering with `handlers::schema()` as `me`, accepting only `secret`, with
    /// counters and a store of message ids of its own (see [`Webhook::with_metrics`] to share
    /// the counters).
    pub fn new(bot: TgBot, me: Me, brain: Arc<SharedBrain>, secret: &str) -> Self {
        Self::with_inbox(
            Inbox::new(
                bot,
                me,
                brain,
                Metrics::new(),
                Arc::new(Recent::new()),
                Patience::BRIEF,
            ),
            secret,
        )
    }

    /// A webhook answering through `inbox`, accepting only `secret`.
    pub(crate) fn with_inbox(inbox: Inbox, secret: &str) -> Self {
        Self {
            inbox,
            secret: secret.into(),
            limits: Limits::default(),
            refusals: Arc::new(Refusals::default()),
        }
    }

    /// The same webhook with other request limits (the body size and time).
    pub fn with_limits(self, limits: Limits) -> Self {
        Self { limits, ..self }
    }

    /// The same webhook counting in `metrics` (also what its `/metrics` shows).
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self {
            inbox: self.inbox.with_metrics(metrics),
            ..self
        }
    }

    /// The same webhook answering with `handler` (behind [`handlers::guarded`], like the
    /// shipped tree) instead of [`handlers::schema`]: lets a test prove that a handler that
    /// panics still gets its request a 200 and leaves the listener serving.
    pub fn with_handler(self, handler: UpdateHandler<RequestError>) -> Self {
        Self {
            inbox: self.inbox.with_handler(handlers::guarded(handler)),
            ..self
        }
    }

    /// Answer one update (after its chat's earlier ones); the status tells Telegram whether to
    /// deliver it again.
    pub async fn handle(&self, update: Update) -> StatusCode {
        match self.inbox.answer(update).await {
            Outcome::Done => StatusCode::OK,
            Outcome::Retry => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn metrics(&self) -> &Metrics {
        self.inbox.metrics()
    }
}

/// The routes: `POST <path>` for updates, `GET /healthz` and `GET /metrics` (the webhook's
/// counters).
pub fn router(path: &str, hook: Webhook) -> Result<Router, Error> {
    if !path.starts_with('/') || path == HEALTH_PATH || path == METRICS_PATH {
        return Err(Error(format!(
            "the webhook URL's path must start with / and not be {HEALTH_PATH} or {METRICS_PATH}"
        )));
    }
    let monitoring = monitor::router(hook.metrics().clone());
    Ok(Router::new()
        .route(path, post(on_update))
        .with_state(hook)
        .merge(monitoring))
}

async fn on_update(State(hook): State<Webhook>, headers: HeaderMap, body: Body) -> StatusCode {
    if !secret_matches(
        headers.get(SECRET_HEADER).map(|v| v.as_bytes()),
        &hook.secret,
    ) {
        return hook.refuse(Refusal::WrongSecret);
    }
    let bytes = match read_body(body, hook.limits).await {
        Ok(bytes) => bytes,
        Err(refusal) => return hook.refuse(refusal),
    };
    match serde_json::from_slice::<Update>(&bytes) {
        Ok(update) => hook.handle(update).await,
        Err(_) => hook.refuse(Refusal::NotAnUpdate),
    }
}

impl Webhook {
    /// Count `refusal` and answer with its status; the log gets a summary at most once a
    /// [`Refusals::SUMMARY_EVERY`], so that a client sending junk cannot flood it.
    fn refuse(&self, refusal: Refusal) -> StatusCode {
        self.metrics().webhook_refused(refusal);
        self.refusals.count(refusal, Instant::now());
        status_of(refusal)
    }
}

fn status_of(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::WrongSecret => StatusCode::UNAUTHORIZED,
        Refusal::NotAnUpdate => StatusCode::BAD_REQUEST,
        Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::TooSlow => StatusCode::REQUEST_TIMEOUT,
    }
}

/// Refused requests since the last log line about them.
#[derive(Debug, Default)]
struct Refusals {
    inner: std::sync::Mutex<RefusalLog>,
}

#[derive(Debug, Default)]
struct RefusalLog {
    since_logged: [u64; 4],
    logged_at: Option<Instant>,
}

impl Refusals {
    /// The least time between two log lines about refused requests.
    const SUMMARY_EVERY: Duration = Duration::from_secs(60);

    /// Count `refusal` at `now`; log what was counted if the last line is old enough (the
    /// first refusal is logged at once, so an operator sees a problem start).
    fn count(&self, refusal: Refusal, now: Instant) {
        let mut log = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let at = Refusal::ALL.iter().position(|r| *r == refusal).unwrap_or(0);
        log.since_logged[at] += 1;
        let due = log
            .logged_at
            .is_none_or(|then| now.duration_since(then) >= Self::SUMMARY_EVERY);
        if due {
            let counts = std::mem::take(&mut log.since_logged);
            log.logged_at = Some(now);
            drop(log);
            log::warn!("webhook: requests refused: {}", summary(&counts));
        }
    }
}

/// "401 wrong_secret: 3, 413 too_large: 1": the refusals counted, by status and reason.
fn summary(counts: &[u64; 4]) -> String {
    Refusal::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| format!("{} {}: {n}", status_of(*r).as_u16(), r.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn read_body(body: Body, limits: Limits) -> Result<Bytes, Refusal> {
    let read = axum::body::to_bytes(body, limits.body_bytes);
    match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(Refusal::TooLarge),
        Err(_) => Err(Refusal::TooSlow),
    }
}

/// Compare in time independent of where the first difference is, so the secret cannot be
/// guessed byte by byte from response times.
fn secret_matches(given: Option<&[u8]>, secret: &str) -> bool {
    let Some(given) = given else {
        return false;
    };
    let secret = secret.as_bytes();
    given.len() == secret.len()
        && given
            .iter()
            .zip(secret)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Register the webhook with Telegram (URL, secret, the update kinds handled), retried a few
/// times; pending updates are kept.
pub async fn register(bot: &TgBot, settings: &Settings, metrics: &Metrics) -> Result<(), Error> {
    retrying(Method::SetWebhook, metrics, Patience::BRIEF, || {
        bot.set_webhook(settings.url.clone())
            .secret_token(settings.secret.clone())
            .allowed_updates(ALLOWED_UPDATES.to_vec())
            .send()
    })
    .await
    .map(drop)
    .map_err(|e| Error(format!("cannot register the webhook: {}", describe(&e))))
}

/// Bind, register the webhook, and serve until `stop`.
pub async fn run(
    bot: TgBot,
    me: Me,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    settings: Settings,
    stop: Stop,
) -> Result<(), Error> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Error(format!("cannot listen on {}: {e}", settings.listen)))?;
    let inbox = Inbox::new(
        bot.clone(),
        me,
        brain,
        metrics.clone(),
        Arc::new(Recent::new()),
        // Telegram delivers the update again when the bot answers with an error.
        Patience::BRIEF,
    );
    let trimmer = tokio::spawn(inbox.clone().trim_when_idle());
    let app = router(
        settings.url.path(),
        Webhook::with_inbox(inbox, &settings.secret),
    )?;
    register(&bot, &settings, &metrics).await?;
    log::info!("serving by webhook on {}", settings.listen);
    serve(listener, app, Limits::default(), stop).await;
    trimmer.abort();
    Ok(())
}

/// Serve `app` on `listener` until `stop`, then finish the requests in flight. `limits` sets
/// the header timeout and the connection cap (the body limits are the [`Webhook`]'s).
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: Stop) {
    let name = listener
        .local_addr()
        .map_or_else(|_| "listener".to_owned(), |a| a.to_string());
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.buffer_bytes.max(8192));
    loop {
        let slot = tokio::select! {
            biased;
            () = stop.requested() => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            biased;
            () = stop.requested() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                log::warn!("{name}: accept failed: {:?}", e.kind());
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                log::debug!("connection closed early (timeout: {})", e.is_timeout());
            }
            drop(slot);
        });
    }
    drop(listener);
    log::info!("{name}: no longer accepting; finishing requests in flight");
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_must_match_exactly() {
        assert!(secret_matches(Some(b"abc-123"), "abc-123"));
        assert!(!secret_matches(Some(b"abc-124"), "abc-123"));
        assert!(!secret_matches(Some(b"abc-1234"), "abc-123"));
        assert!(!secret_matches(Some(b""), "abc-123"));
        assert!(!secret_matches(None, "abc-123"));
    }

    #[test]
    fn generated_secrets_follow_telegrams_rule_and_differ() {
        let a = generate_secret().expect("OS randomness");
        let b = generate_secret().expect("OS randomness");
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'));
        assert_ne!(a, b);
    }
}
