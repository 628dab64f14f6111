//! Prometheus counters an operator needs, and nothing personal.
//!
//! How many people asked how to report an image this week, how often the bot fell back or asked
//! "did you mean", how fast it answers, how often the Bot API failed, and which content version
//! is live. Labels are chosen from fixed sets (update kinds, the intent ids of the table, error
//! kinds): never text, never a user or chat id, so a scrape can never identify anyone.
//!
//! Cost: an atomic increment per counter and one histogram observation per reply.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::reply::{Kind, Reply};

/// The kinds of update counted (the handler tree's endpoints); anything else is `other`.
///
/// `text`, `command`, `media`, `other_message` (a location, a poll...), `button` (a topic button
/// or the button under the `/forget` note) and `forget` are answered; `ignored` is a message not
/// meant for the bot (group chatter, a service message, another bot), `edited_message` and
/// `channel_post` are never answered, `other` is an update kind the bot has no branch for.
pub const UPDATE_KINDS: [&str; 10] = [
    "text",
    "command",
    "media",
    "other_message",
    "button",
    "forget",
    "ignored",
    "edited_message",
    "channel_post",
    "other",
];

/// The Bot API methods whose failures are counted; anything else is `other`.
pub const API_METHODS: [&str; 7] = [
    "getUpdates",
    "sendMessage",
    "answerCallbackQuery",
    "deleteMessages",
    "deleteMessage",
    "setMyCommands",
    "setWebhook",
];

/// The kinds of Bot API failure counted; anything else is `other`.
pub const API_ERROR_KINDS: [&str; 5] = ["rate_limited", "network", "server", "refused", "other"];

/// The results of a content reload: swapped in, the same version again (or the built-in
/// content, which cannot change), or refused by the checks.
pub const RELOAD_RESULTS: [&str; 3] = ["ok", "unchanged", "refused"];

/// Why the webhook refused a request: the label of `safeguard_webhook_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: without the right secret token.
    WrongSecret,
    /// 400: a body that is not a Telegram update.
    NotAnUpdate,
    /// 413: a body over the limit.
    TooLarge,
    /// 408: a body that did not arrive in time.
    TooSlow,
}

impl Refusal {
    /// Every refusal, in the order the log summary lists them.
    pub const ALL: [Refusal; 4] = [
        Refusal::WrongSecret,
        Refusal::NotAnUpdate,
        Refusal::TooLarge,
        Refusal::TooSlow,
    ];

    /// The metric label and the words of the log summary.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::WrongSecret => "wrong_secret",
            Refusal::NotAnUpdate => "not_an_update",
            Refusal::TooLarge => "too_large",
            Refusal::TooSlow => "too_slow",
        }
    }
}

/// The bot's counters, registered in their own registry (no global state, so tests can
/// create as many as they like).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    updates: IntCounterVec,
    replies: IntCounterVec,
    latency: HistogramVec,
    api_errors: IntCounterVec,
    api_retries: IntCounterVec,
    content: IntGaugeVec,
    reloads: IntCounterVec,
    update_panics: IntCounter,
    possible_doubles: IntCounterVec,
    refused: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of counters, all at zero.
    pub fn new() -> Self {
        let registry = Registry::new();
        let updates = IntCounterVec::new(
            Opts::new("safeguard_updates_total", "Updates received, by kind."),
            &["kind"],
        )
        .expect("valid metric");
        let replies = IntCounterVec::new(
            Opts::new(
                "safeguard_replies_total",
                "Replies sent, by intent answered and kind (answer, did_you_mean, fallback).",
            ),
            &["intent", "kind"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "safeguard_reply_seconds",
                "Time from receiving an update to the reply being accepted by the Bot API.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &[],
        )
        .expect("valid metric");
        let api_errors = IntCounterVec::new(
            Opts::new(
                "safeguard_api_errors_total",
                "Bot API calls that failed, each try counted, by method and kind (rate_limited, network, server, refused, other).",
            ),
            &["method", "kind"],
        )
        .expect("valid metric");
        let api_retries = IntCounterVec::new(
            Opts::new(
                "safeguard_api_retries_total",
                "Bot API calls tried again after an error, by method.",
            ),
            &["method"],
        )
        .expect("valid metric");
        let content = IntGaugeVec::new(
            Opts::new(
                "safeguard_content_info",
                "The responses/ version being served (1 for the live version).",
            ),
            &["version"],
        )
        .expect("valid metric");
        let reloads = IntCounterVec::new(
            Opts::new(
                "safeguard_content_reloads_total",
                "Content reloads (SIGHUP), by result (ok, unchanged, refused).",
            ),
            &["result"],
        )
        .expect("valid metric");
        let update_panics = IntCounter::with_opts(Opts::new(
            "safeguard_update_panics_total",
            "Updates dropped because handling them panicked (a bug to report); the bot went on.",
        ))
        .expect("valid metric");
        let possible_doubles = IntCounterVec::new(
            Opts::new(
                "safeguard_possible_double_replies_total",
                "Messages sent after an earlier try failed once the request may have reached the Bot API (a broken connection, a timeout): each may have reached the person twice.",
            ),
            &["method"],
        )
        .expect("valid metric");
        let refused = IntCounterVec::new(
            Opts::new(
                "safeguard_webhook_refused_total",
                "Webhook requests refused, by reason (wrong_secret, not_an_update, too_large, too_slow).",
            ),
            &["reason"],
        )
        .expect("valid metric");
        for reason in Refusal::ALL {
            refused.with_label_values(&[reason.label()]);
        }
        for collector in [
            Box::new(updates.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(replies.clone()),
            Box::new(latency.clone()),
            Box::new(api_errors.clone()),
            Box::new(api_retries.clone()),
            Box::new(content.clone()),
            Box::new(reloads.clone()),
            Box::new(update_panics.clone()),
            Box::new(possible_doubles.clone()),
            Box::new(refused.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            updates,
            replies,
            latency,
            api_errors,
            api_retries,
            content,
            reloads,
            update_panics,
            possible_doubles,
            refused,
        }
    }

    /// Count an update of `kind`, one of [`UPDATE_KINDS`]; an unknown kind counts as `other`.
    pub fn update(&self, kind: &str) {
        self.updates
            .with_label_values(&[known(&UPDATE_KINDS, kind)])
            .inc();
    }

    /// Count a reply by its intent and kind, and how long it took.
    pub fn reply(&self, reply: &Reply, took: Duration) {
        let kind = match reply.kind {
            Kind::Answer => "answer",
            Kind::DidYouMean => "did_you_mean",
            Kind::Fallback => "fallback",
        };
        self.replies
            .with_label_values(&[reply.intent.as_str(), kind])
            .inc();
        self.latency
            .with_label_values(&[] as &[&str])
            .observe(took.as_secs_f64());
    }

    /// Count a failed try of Bot API `method` (one of [`API_METHODS`]), by `kind` (one of
    /// [`API_ERROR_KINDS`]); anything else counts as `other`.
    pub fn api_error(&self, method: &str, kind: &str) {
        let method = known(&API_METHODS, method);
        let kind = known(&API_ERROR_KINDS, kind);
        self.api_errors.with_label_values(&[method, kind]).inc();
    }

    /// Count a Bot API call of `method` tried again after an error.
    pub fn api_retry(&self, method: &str) {
        let method = known(&API_METHODS, method);
        self.api_retries.with_label_values(&[method]).inc();
    }

    /// Record which content version is live; the previous version's series is removed.
    pub fn content_loaded(&self, version: &str) {
        self.content.reset();
        self.content.with_label_values(&[version]).set(1);
    }

    /// Count a content reload by its result, one of [`RELOAD_RESULTS`].
    pub fn reload(&self, result: &str) {
        let result = if RELOAD_RESULTS.contains(&result) {
            result
        } else {
            "refused"
        };
        self.reloads.with_label_values(&[result]).inc();
    }

    /// Count an update dropped because handling it panicked. It has no label: the log line
    /// says the update's kind, and any panic at all is something to report.
    pub fn update_panicked(&self) {
        self.update_panics.inc();
    }

    /// Count a message of Bot API `method` that was sent after a try that may already have
    /// delivered it: the person may have it twice.
    pub fn possible_double(&self, method: &str) {
        let method = known(&API_METHODS, method);
        self.possible_doubles.with_label_values(&[method]).inc();
    }

    /// Count a webhook request refused for `reason`.
    pub fn webhook_refused(&self, reason: Refusal) {
        self.refused.with_label_values(&[reason.label()]).inc();
    }

    /// The content type of [`Metrics::render`]'s output.
    pub fn content_type() -> &'static str {
        prometheus::TEXT_FORMAT
    }

    /// The Prometheus text exposition format, for `GET /metrics`.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `value` if it is one of `allowed`, else `other`: a label never carries anything but a name
/// from a fixed list.
fn known<'a>(allowed: &[&'static str], value: &'a str) -> &'a str {
    if allowed.contains(&value) {
        value
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Brain, Input};

    #[test]
    fn counts_replies_by_intent_and_kind_without_text() {
        let brain = Brain::embedded().unwrap();
        let metrics = Metrics::new();
        let text = "where do i report an image of a child i saw online";
        metrics.update("text");
        let reply = brain.respond(Input::Text(text));
        metrics.reply(&reply, Duration::from_millis(3));
        metrics.update("text");
        metrics.reply(
            &brain.respond(Input::Text("qwerty")),
            Duration::from_millis(1),
        );
        let out = metrics.render();
        assert!(
            out.contains(r#"safeguard_updates_total{kind="text"} 2"#),
            "{out}"
        );
        let answered = format!(
            r#"safeguard_replies_total{{intent="{}",kind="answer"}} 1"#,
            reply.intent
        );
        assert!(out.contains(&answered), "{out}");
        assert!(
            out.contains(r#"safeguard_replies_total{intent="fallback",kind="fallback"} 1"#),
            "{out}"
        );
        assert!(out.contains("safeguard_reply_seconds_count 2"), "{out}");
        assert!(!out.contains("qwerty") && !out.contains("report an image"));
    }

    #[test]
    fn panics_are_counted_and_shown_from_zero() {
        let metrics = Metrics::new();
        assert!(metrics.render().contains("safeguard_update_panics_total 0"));
        metrics.update_panicked();
        let out = metrics.render();
        assert!(out.contains("safeguard_update_panics_total 1"), "{out}");
    }

    #[test]
    fn only_the_live_content_version_is_shown() {
        let metrics = Metrics::new();
        metrics.content_loaded("aaaa");
        metrics.content_loaded("bbbb");
        let out = metrics.render();
        assert!(
            out.contains(r#"safeguard_content_info{version="bbbb"} 1"#),
            "{out}"
        );
        assert!(!out.contains("aaaa"), "{out}");
    }

    #[test]
    fn unknown_labels_are_folded_into_other() {
        let metrics = Metrics::new();
        metrics.update("someone's chat id 12345");
        metrics.api_error("sendMessage", "weird 67890");
        metrics.api_error("getChat 13579", "network");
        metrics.api_retry("deleteMessages");
        metrics.reload("a path 24680");
        let out = metrics.render();
        assert!(
            out.contains(r#"safeguard_updates_total{kind="other"} 1"#),
            "{out}"
        );
        assert!(
            out.contains(r#"safeguard_api_errors_total{kind="other",method="sendMessage"} 1"#),
            "{out}"
        );
        assert!(
            out.contains(r#"safeguard_api_errors_total{kind="network",method="other"} 1"#),
            "{out}"
        );
        assert!(
            out.contains(r#"safeguard_api_retries_total{method="deleteMessages"} 1"#),
            "{out}"
        );
        assert!(
            out.contains(r#"safeguard_content_reloads_total{result="refused"} 1"#),
            "{out}"
        );
        for id in ["12345", "67890", "13579", "24680"] {
            assert!(!out.contains(id), "{out}");
        }
    }
}
