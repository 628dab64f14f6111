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

/// An enum of the values one metric label may take, with `ALL` (every value, in order) and
/// `label` (the text of the label). Labels are enums so that a misspelt one does not compile,
/// rather than counting silently as something else.
macro_rules! labels {
    (
        $(#[$doc:meta])*
        $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $label:literal, )+ }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in the order `/metrics` lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The label as it appears in `/metrics` and in the log.
            pub fn label(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )+
                }
            }
        }
    };
}

labels! {
    /// What kind of update the bot handled (the handler tree's endpoints), the label of
    /// `safeguard_updates_total`.
    Handled {
        /// A text message meant for the bot: answered.
        Text => "text",
        /// A command (`/start`, `/help`...): answered.
        Command => "command",
        /// A photo, video, file, sticker or voice note: answered, never downloaded.
        Media => "media",
        /// A location, contact, poll or similar meant for the bot: answered with the fallback.
        OtherMessage => "other_message",
        /// A topic button, or the button under the `/forget` note.
        Button => "button",
        /// `/forget`.
        Forget => "forget",
        /// A message not meant for the bot: group chatter, a service message, another bot.
        Ignored => "ignored",
        /// An edited message: never answered.
        EditedMessage => "edited_message",
        /// A channel post: never answered.
        ChannelPost => "channel_post",
        /// An update kind the bot has no branch for (or could not parse).
        Other => "other",
        /// An update answered before and delivered again by Telegram: not answered again.
        Repeated => "repeated",
    }
}

labels! {
    /// The Bot API methods the bot calls, the `method` label of the Bot API counters.
    Method {
        /// Long polling.
        GetUpdates => "getUpdates",
        /// Every reply.
        SendMessage => "sendMessage",
        /// Stopping a button's spinner.
        AnswerCallbackQuery => "answerCallbackQuery",
        /// `/forget`.
        DeleteMessages => "deleteMessages",
        /// The button under the `/forget` note.
        DeleteMessage => "deleteMessage",
        /// The command menu, at start-up.
        SetMyCommands => "setMyCommands",
        /// Registering the webhook, at start-up.
        SetWebhook => "setWebhook",
    }
}

labels! {
    /// How a Bot API call failed, the `kind` label of `safeguard_api_errors_total`.
    Failure {
        /// 429: too many requests.
        RateLimited => "rate_limited",
        /// A network or I/O error: no answer, or a broken one.
        Network => "network",
        /// A 5xx from the Bot API.
        Server => "server",
        /// The Bot API refused the request (bad request, blocked by the user...).
        Refused => "refused",
        /// Anything else (an answer that is not the Bot API's JSON).
        Other => "other",
    }
}

labels! {
    /// The result of a content reload, the label of `safeguard_content_reloads_total`.
    Reloaded {
        /// The new content is serving.
        Ok => "ok",
        /// The same version again, or the built-in content, which cannot change.
        Unchanged => "unchanged",
        /// Refused by the checks; the old content keeps serving.
        Refused => "refused",
    }
}

labels! {
    /// Why the webhook refused a request: the label of `safeguard_webhook_refused_total`.
    Refusal {
        /// 401: without the right secret token.
        WrongSecret => "wrong_secret",
        /// 400: a body that is not a Telegram update.
        NotAnUpdate => "not_an_update",
        /// 413: a body over the limit.
        TooLarge => "too_large",
        /// 408: a body that did not arrive in time.
        TooSlow => "too_slow",
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

    /// Count an update the bot handled as `kind`.
    pub fn update(&self, kind: Handled) {
        self.updates.with_label_values(&[kind.label()]).inc();
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

    /// Count a failed try of Bot API `method`, by how it failed.
    pub(crate) fn api_error(&self, method: Method, kind: Failure) {
        self.api_errors
            .with_label_values(&[method.label(), kind.label()])
            .inc();
    }

    /// Count a Bot API call of `method` tried again after an error.
    pub(crate) fn api_retry(&self, method: Method) {
        self.api_retries.with_label_values(&[method.label()]).inc();
    }

    /// Record which content version is live; the previous version's series is removed.
    pub(crate) fn content_loaded(&self, version: &str) {
        self.content.reset();
        self.content.with_label_values(&[version]).set(1);
    }

    /// Count a content reload by its result.
    pub fn reload(&self, result: Reloaded) {
        self.reloads.with_label_values(&[result.label()]).inc();
    }

    /// Count an update dropped because handling it panicked. It has no label: the log line
    /// says the update's kind, and any panic at all is something to report.
    pub(crate) fn update_panicked(&self) {
        self.update_panics.inc();
    }

    /// Count a message of Bot API `method` that was sent after a try that may already have
    /// delivered it: the person may have it twice.
    pub(crate) fn possible_double(&self, method: Method) {
        self.possible_doubles
            .with_label_values(&[method.label()])
            .inc();
    }

    /// Count a webhook request refused for `reason`.
    pub(crate) fn webhook_refused(&self, reason: Refusal) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Brain, Input};

    #[test]
    fn counts_replies_by_intent_and_kind_without_text() {
        let brain = Brain::embedded().unwrap();
        let metrics = Metrics::new();
        let text = "where do i report an image of a child i saw online";
        metrics.update(Handled::Text);
        let reply = brain.respond(Input::Text(text)).into_owned();
        metrics.reply(&reply, Duration::from_millis(3));
        metrics.update(Handled::Text);
        metrics.reply(
            &brain.respond(Input::Text("qwerty")).into_owned(),
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
    fn every_label_is_a_plain_name_and_unique() {
        let sets: [Vec<&str>; 5] = [
            Handled::ALL.iter().map(|l| l.label()).collect(),
            Method::ALL.iter().map(|l| l.label()).collect(),
            Failure::ALL.iter().map(|l| l.label()).collect(),
            Reloaded::ALL.iter().map(|l| l.label()).collect(),
            Refusal::ALL.iter().map(|l| l.label()).collect(),
        ];
        for labels in sets {
            let mut unique = labels.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), labels.len(), "{labels:?}");
            for label in labels {
                assert!(
                    label.chars().all(|c| c.is_ascii_alphabetic() || c == '_'),
                    "{label}"
                );
            }
        }
    }

    #[test]
    fn every_api_counter_is_labelled_by_method_and_kind() {
        let metrics = Metrics::new();
        metrics.api_error(Method::SendMessage, Failure::Network);
        metrics.api_retry(Method::DeleteMessages);
        metrics.reload(Reloaded::Refused);
        let out = metrics.render();
        for series in [
            r#"safeguard_api_errors_total{kind="network",method="sendMessage"} 1"#,
            r#"safeguard_api_retries_total{method="deleteMessages"} 1"#,
            r#"safeguard_content_reloads_total{result="refused"} 1"#,
        ] {
            assert!(out.contains(series), "{out}");
        }
    }
}
