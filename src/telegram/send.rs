//! Getting a reply to Telegram: keyboards, bounded retries, and error descriptions that are
//! safe to log.
//!
//! Sends go through teloxide's `Throttle` adaptor, which already waits out a 429
//! (`retry_after`) and tries again, for the sending methods it throttles. [`retrying`] adds what
//! Throttle does not do: retries for a while ([`Patience`]) after a network error or a server
//! error (5xx), and after a 429 on the methods Throttle lets straight through
//! (`answerCallbackQuery`, `setMyCommands`, `setWebhook`).
//!
//! A retry after a network error can, rarely, deliver a reply twice: when Telegram accepted the
//! message and the connection broke before the answer came back, the bot cannot tell. For a
//! safeguarding bot a duplicate is the lesser harm than a person left without the helplines.
//! Each message sent after such a failure is counted in
//! `safeguard_possible_double_replies_total`, so an operator sees how rare they are.

use std::future::Future;
use std::time::Duration;

use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ReplyParameters};
use teloxide::{ApiError, RequestError};

use crate::reply::Button;
use crate::telegram::metrics::{Failure, Method, Metrics};
use crate::telegram::TgBot;

/// How long a request keeps being tried after network and server errors, measured from its
/// first failure (not from when it was queued in the throttle): the next try is made only if
/// it starts within this window. A 429 is waited out whatever the window, up to
/// [`RATE_LIMITED_TRIES`] times.
///
/// Why two windows: in polling mode the bot has already taken the update from Telegram, so a
/// reply it gives up on is lost for good; it waits out an outage of the Bot API
/// ([`Patience::POLLING`]). In webhook mode Telegram delivers the update again when the bot
/// answers with an error, so the bot gives up soon ([`Patience::BRIEF`]) and lets Telegram
/// retry, rather than holding Telegram's connection open. Acknowledgements, deletions and
/// start-up calls are brief too: nobody is left without the helplines if one fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patience(Duration);

impl Patience {
    /// About two seconds: four tries if each fails at once.
    pub const BRIEF: Patience = Patience(Duration::from_millis(2_000));

    /// A minute: a reply in hand survives the Bot API being unreachable for that long.
    pub(crate) const POLLING: Patience = Patience(Duration::from_secs(60));

    /// How many tries fit in the window when every try fails at once with a network error:
    /// what a test that makes every try fail should expect.
    pub fn tries(self) -> u32 {
        let mut waited = Duration::ZERO;
        let mut tries = 1;
        while let Some(next) = self.next_try(waited, backoff_after(tries)) {
            waited = next;
            tries += 1;
        }
        tries
    }

    /// When the next try starts, `wait` after a try that failed `since` the first: `None` if
    /// that is past the window.
    fn next_try(self, since: Duration, wait: Duration) -> Option<Duration> {
        let at = since + wait;
        (at <= self.0).then_some(at)
    }
}

/// The wait before the second try; it doubles for each try after that, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// The longest wait between two tries after a network or server error.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The longest `retry_after` this module waits out itself (Throttle waits out any).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How many 429s a request waits out (each up to [`MAX_RETRY_AFTER`]) before giving up:
/// Telegram says when to come back, and a start-up call (`setWebhook` from several replicas at
/// once) must not fail for being told to wait.
pub(crate) const RATE_LIMITED_TRIES: u32 = 4;

/// Callback data of a topic button: this prefix, then the intent id.
pub(crate) const TOPIC_PREFIX: &str = "topic:";

/// Telegram's limit on callback data, in bytes.
const CALLBACK_DATA_LIMIT: usize = 64;

/// Run `call` until it succeeds, fails in a way a retry cannot fix, or `patience` runs out
/// (for 429s: [`RATE_LIMITED_TRIES`] are spent); log each retry (without data) and count each
/// failed try and retry in `metrics`. `method` names the call in the log and the metrics.
pub async fn retrying<T, F, Fut>(
    method: Method,
    metrics: &Metrics,
    patience: Patience,
    mut call: F,
) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut first_failure = None;
    let mut attempt = 1;
    let mut rate_limited = 0;
    let mut may_have_arrived = false;
    loop {
        let result = call().await;
        if let Err(e) = &result {
            metrics.api_error(method, failure(e));
            may_have_arrived |= may_have_been_processed(e);
        }
        let e = match result {
            Ok(value) => {
                if may_have_arrived {
                    metrics.possible_double(method);
                }
                return Ok(value);
            }
            Err(e) => e,
        };
        let wait = backoff(&e, attempt);
        let since = first_failure.get_or_insert_with(tokio::time::Instant::now);
        let again = match e {
            RequestError::RetryAfter(_) => {
                rate_limited += 1;
                rate_limited < RATE_LIMITED_TRIES
            }
            _ => is_retryable(&e) && patience.next_try(since.elapsed(), wait).is_some(),
        };
        if !again {
            return Err(e);
        }
        metrics.api_retry(method);
        log::warn!(
            "{} failed ({}); try {} in {} ms",
            method.label(),
            describe(&e),
            attempt + 1,
            wait.as_millis()
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// Whether the Bot API may have carried out a request that failed: the connection broke or
/// timed out after it was sent. A connection never made, a 429 or a refusal means it was not.
fn may_have_been_processed(e: &RequestError) -> bool {
    match e {
        RequestError::Network(e) => !e.is_connect() && !e.is_builder(),
        RequestError::Io(_) | RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => is_server_error(description),
        _ => false,
    }
}

/// Whether trying the same request again may succeed: a 429, a network or I/O error, a response
/// that is not the Bot API's JSON (a proxy's error page), or a server error. A refusal (bad
/// request, blocked by the user, wrong token) is not retried.
pub(crate) fn is_retryable(e: &RequestError) -> bool {
    match e {
        RequestError::RetryAfter(_)
        | RequestError::Network(_)
        | RequestError::Io(_)
        | RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => is_server_error(description),
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => false,
    }
}

/// How a call failed, for `safeguard_api_errors_total`.
pub fn failure(e: &RequestError) -> Failure {
    match e {
        RequestError::RetryAfter(_) => Failure::RateLimited,
        RequestError::Network(_) | RequestError::Io(_) => Failure::Network,
        RequestError::Api(ApiError::Unknown(description)) if is_server_error(description) => {
            Failure::Server
        }
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => Failure::Refused,
        RequestError::InvalidJson { .. } => Failure::Other,
    }
}

/// teloxide keeps only the description of an API error, not its status code; a server error
/// is recognised by the standard reason phrases of the 5xx codes the Bot API returns.
fn is_server_error(description: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Service Unavailable",
        "Gateway Timeout",
    ]
    .iter()
    .any(|phrase| description.contains(phrase))
}

/// The wait after try number `attempt` failed with `e`: Telegram's `retry_after` for a 429,
/// else [`backoff_after`].
fn backoff(e: &RequestError, attempt: u32) -> Duration {
    match e {
        RequestError::RetryAfter(after) => after.duration().min(MAX_RETRY_AFTER),
        _ => backoff_after(attempt),
    }
}

/// The wait after try number `attempt` failed with a network or server error: doubling from
/// [`FIRST_BACKOFF`], at most [`MAX_BACKOFF`].
fn backoff_after(attempt: u32) -> Duration {
    (FIRST_BACKOFF * 2u32.pow(attempt.saturating_sub(1).min(8))).min(MAX_BACKOFF)
}

/// A description of `e` for the log: its kind, never a chat id, a URL, a token, or a response
/// body (which can hold updates). Bot API refusals known to teloxide are named by their fixed
/// description; those with free text from the server are not quoted.
pub(crate) fn describe(e: &RequestError) -> String {
    match e {
        // These two carry the server's own text, which this module does not vouch for.
        RequestError::Api(ApiError::Unknown(_) | ApiError::CantParseEntities(_)) => {
            "the Bot API refused the request".to_owned()
        }
        RequestError::Api(api) => format!("the Bot API refused the request: {api}"),
        RequestError::MigrateToChatId(_) => "the group became a supergroup".to_owned(),
        RequestError::RetryAfter(after) => {
            format!("rate limited for {} s", after.seconds())
        }
        RequestError::Network(e) => {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "could not connect"
            } else if e.is_body() || e.is_decode() {
                "connection dropped while reading the response"
            } else {
                "request failed"
            };
            format!("network error: {kind}")
        }
        RequestError::InvalidJson { .. } => "the response was not Bot API JSON".to_owned(),
        RequestError::Io(e) => format!("I/O error: {:?}", e.kind()),
    }
}

/// The inline keyboard for `buttons`, one button a row (labels are long): a topic becomes a
/// callback button carrying `topic:<intent>`, a website a URL button. A button Telegram would
/// refuse (a bad URL, callback data over 64 bytes) is left out and logged, rather than losing
/// the whole reply.
pub fn keyboard(buttons: &[Button]) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons
        .iter()
        .filter_map(telegram_button)
        .map(|b| vec![b])
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

fn telegram_button(button: &Button) -> Option<InlineKeyboardButton> {
    match button {
        Button::Topic { label, intent } => {
            let data = format!("{TOPIC_PREFIX}{intent}");
            if data.len() > CALLBACK_DATA_LIMIT {
                log::warn!("topic button for intent {intent} left out: its id is too long for callback data");
                return None;
            }
            Some(InlineKeyboardButton::callback(label.clone(), data))
        }
        Button::Link { label, url } => match url.parse() {
            Ok(url) => Some(InlineKeyboardButton::url(label.clone(), url)),
            Err(_) => {
                log::warn!("link button {label:?} left out: its url does not parse");
                None
            }
        },
    }
}

/// Send `text` to `chat` as plain text (no parse mode, so nothing needs escaping) with
/// `markup` (a reply's buttons: [`keyboard`]), as an answer to `reply_to` if given (in groups,
/// so the person sees what it answers); tried again for as long as `patience` allows.
pub async fn send_text(
    bot: &TgBot,
    metrics: &Metrics,
    patience: Patience,
    chat: ChatId,
    reply_to: Option<MessageId>,
    text: &str,
    markup: Option<InlineKeyboardMarkup>,
) -> Result<Message, RequestError> {
    retrying(Method::SendMessage, metrics, patience, || {
        let mut request = bot.send_message(chat, text.to_owned());
        if let Some(markup) = &markup {
            request = request.reply_markup(markup.clone());
        }
        if let Some(id) = reply_to {
            request =
                request.reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
        }
        request.send()
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use teloxide::types::Seconds;

    use super::*;

    #[test]
    fn server_errors_and_rate_limits_are_retried_refusals_are_not() {
        let retry_after = RequestError::RetryAfter(Seconds::from_seconds(1));
        let server = RequestError::Api(ApiError::Unknown("Internal Server Error".into()));
        let io = RequestError::Io(Arc::new(std::io::Error::other("reset")));
        assert!(is_retryable(&retry_after));
        assert!(is_retryable(&server));
        assert!(is_retryable(&io));
        assert!(!is_retryable(&RequestError::Api(ApiError::BotBlocked)));
        assert!(!is_retryable(&RequestError::Api(ApiError::Unknown(
            "Bad Request: message text is empty".into()
        ))));
    }

    #[test]
    fn retry_after_is_honoured_and_backoff_doubles() {
        let retry_after = RequestError::RetryAfter(Seconds::from_seconds(3));
        assert_eq!(backoff(&retry_after, 1), Duration::from_secs(3));
        let io = RequestError::Io(Arc::new(std::io::Error::other("reset")));
        assert_eq!(backoff(&io, 1), FIRST_BACKOFF);
        assert_eq!(backoff(&io, 3), FIRST_BACKOFF * 4);
    }

    #[test]
    fn descriptions_carry_no_ids_or_server_text() {
        let migrated = RequestError::MigrateToChatId(ChatId(-1009876543210));
        assert!(!describe(&migrated).contains("9876543210"));
        let unknown =
            RequestError::Api(ApiError::Unknown("Bad Request: chat 12345 said hi".into()));
        assert!(!describe(&unknown).contains("12345"));
    }

    #[test]
    fn backoff_is_capped_and_patience_sets_the_number_of_tries() {
        assert_eq!(backoff_after(20), MAX_BACKOFF);
        assert_eq!(Patience::BRIEF.tries(), 4);
        // Waits of 0.25 + 0.5 + 1 + 2 + 4 s, then ten of 5 s (57.75 s in all): 16 tries.
        assert_eq!(Patience::POLLING.tries(), 16);
    }

    #[tokio::test(start_paused = true)]
    async fn a_polling_reply_outlasts_a_thirty_second_outage() {
        let first = tokio::time::Instant::now();
        let mut tries = 0;
        let metrics = Metrics::new();
        let result = retrying(Method::SendMessage, &metrics, Patience::POLLING, || {
            tries += 1;
            let down = first.elapsed() < Duration::from_secs(30);
            async move {
                if down {
                    Err(RequestError::Io(Arc::new(std::io::Error::other("down"))))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(result.is_ok());
        assert!(tries > 5, "{tries} tries");
        assert!(
            first.elapsed() < Duration::from_secs(36),
            "{:?}",
            first.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_longer_than_a_brief_window_is_still_waited_out() {
        let mut tries = 0;
        let metrics = Metrics::new();
        let result = retrying(Method::SetWebhook, &metrics, Patience::BRIEF, || {
            tries += 1;
            let limited = tries < RATE_LIMITED_TRIES;
            async move {
                if limited {
                    Err(RequestError::RetryAfter(Seconds::from_seconds(5)))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(tries, RATE_LIMITED_TRIES);
    }

    #[tokio::test(start_paused = true)]
    async fn retrying_stops_when_patience_runs_out() {
        const ATTEMPTS: u32 = 4;
        assert_eq!(Patience::BRIEF.tries(), ATTEMPTS);
        let mut tries = 0;
        let metrics = Metrics::new();
        let result: Result<(), _> =
            retrying(Method::SendMessage, &metrics, Patience::BRIEF, || {
                tries += 1;
                async { Err(RequestError::Io(Arc::new(std::io::Error::other("down")))) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(tries, ATTEMPTS);
        let out = metrics.render();
        let errors = format!(
            r#"safeguard_api_errors_total{{kind="network",method="sendMessage"}} {ATTEMPTS}"#
        );
        assert!(out.contains(&errors), "{out}");
        let retries = format!(
            r#"safeguard_api_retries_total{{method="sendMessage"}} {}"#,
            ATTEMPTS - 1
        );
        assert!(out.contains(&retries), "{out}");
    }

    #[tokio::test]
    async fn retrying_does_not_repeat_a_refusal() {
        let mut tries = 0;
        let metrics = Metrics::new();
        let result: Result<(), _> =
            retrying(Method::SendMessage, &metrics, Patience::POLLING, || {
                tries += 1;
                async { Err(RequestError::Api(ApiError::BotBlocked)) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(tries, 1);
        assert!(metrics
            .render()
            .contains(r#"safeguard_api_errors_total{kind="refused",method="sendMessage"} 1"#));
    }

    #[test]
    fn every_button_of_the_shipped_content_fits_telegram() {
        let brain = crate::Brain::embedded().expect("the shipped content loads");
        for id in brain.intent_ids() {
            let reply = brain.respond(crate::Input::Topic(id)).into_owned();
            let rows = keyboard(&reply.buttons).map_or(0, |k| k.inline_keyboard.len());
            assert_eq!(rows, reply.buttons.len(), "a button of {id} was left out");
        }
    }
}
