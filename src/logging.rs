//! Logging that cannot leak what people tell the bot, who they are, or the bot's secrets.
//!
//! The bot's own log lines are written to carry no message text, names, usernames or ids
//! (DESIGN.md, principle 4). Its dependencies make no such promise: reqwest logs request URLs,
//! which hold the bot token; teloxide logs whole updates when it cannot parse or route one. So
//! every record goes through [`PrivateLogger`]:
//!
//! - records from other crates are capped (teloxide at `info`, everything else at `warn`),
//!   whatever `RUST_LOG` says, and what they say is cut to its first clause
//!   ([`redact_dependency`]), which keeps "retrying getting updates in 2s" and drops the update
//!   that followed a colon;
//! - every record, ours included, has the token and the webhook secret blanked out
//!   ([`hide_secrets`]), as a second line of defence.
//!
//! It is not a general-purpose filter: it knows which secrets to hide because [`init`] reads
//! `TELOXIDE_TOKEN` and `WEBHOOK_SECRET`, and [`add_secret`] is told about generated ones.

use std::borrow::Cow;
use std::sync::RwLock;

use log::{LevelFilter, Log, Metadata, Record};

/// The log target prefix of this crate; records under it are trusted to be free of user data.
const OWN_TARGET: &str = "safeguard_bot";

/// Shown instead of a secret.
const HIDDEN: &str = "<hidden>";

/// Appended to a dependency's message when part of it was cut.
const WITHHELD: &str = " [details withheld]";

/// Secrets shorter than this are not searched for: they would blank out ordinary words.
const MIN_SECRET_LEN: usize = 6;

/// Runs of this many digits or more in a dependency's message are blanked (user and chat ids).
const MIN_ID_DIGITS: usize = 5;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Start logging to stderr at `RUST_LOG` (default `info`) through the [`PrivateLogger`].
/// Calling it again does nothing.
pub(crate) fn init() {
    for var in ["TELOXIDE_TOKEN", "WEBHOOK_SECRET"] {
        if let Ok(value) = std::env::var(var) {
            add_secret(&value);
        }
    }
    let inner = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(PrivateLogger { inner })).is_ok() {
        log::set_max_level(max);
    }
}

/// Never print `secret` (a token, a generated webhook secret) in any log line from now on. A bot
/// token `id:key` also hides `key` alone.
pub(crate) fn add_secret(secret: &str) {
    let secret = secret.trim();
    let mut parts = vec![secret];
    if let Some((_, key)) = secret.split_once(':') {
        parts.push(key);
    }
    let Ok(mut secrets) = SECRETS.write() else {
        return;
    };
    for part in parts {
        if part.len() >= MIN_SECRET_LEN && !secrets.iter().any(|s| s == part) {
            secrets.push(part.to_owned());
        }
    }
    // Longest first, so a token is hidden whole before its key part is looked for.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Wraps `env_logger` so that no record can carry user data or a secret (see the module docs).
pub(crate) struct PrivateLogger {
    inner: env_logger::Logger,
}

impl Log for PrivateLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= cap(metadata.target()) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record
            .args()
            .as_str()
            .map_or_else(|| Cow::Owned(record.args().to_string()), Cow::Borrowed);
        let secrets = SECRETS.read().map(|s| s.clone()).unwrap_or_default();
        let message = hide_secrets(&message, &secrets);
        let message = if is_own(record.target()) {
            message
        } else {
            Cow::Owned(redact_dependency(&message))
        };
        self.inner.log(
            &Record::builder()
                .args(format_args!("{message}"))
                .level(record.level())
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

fn is_own(target: &str) -> bool {
    target == OWN_TARGET || target.starts_with("safeguard_bot::")
}

/// The most a target may log. teloxide's `info` lines (retries, shutdown) are useful to an
/// operator; below that, and for every other crate below `warn`, they are noise or worse.
fn cap(target: &str) -> LevelFilter {
    if is_own(target) {
        LevelFilter::Trace
    } else if target.starts_with("teloxide") {
        LevelFilter::Info
    } else {
        LevelFilter::Warn
    }
}

/// `message` with every secret replaced by `<hidden>`.
pub(crate) fn hide_secrets<'a>(message: &'a str, secrets: &[String]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(message);
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), HIDDEN));
        }
    }
    out
}

/// What a dependency's log line may say: its first clause, before any colon, quote, bracket,
/// brace, `#`, `@`, `=` or `/` (what usually introduces a value, an update or a URL), with long
/// digit runs (ids) blanked. "Cannot parse an update.\nError: ... Value: {...}" becomes
/// "Cannot parse an update. [details withheld]".
pub(crate) fn redact_dependency(message: &str) -> String {
    let cut = message
        .find(|c: char| "\n\r:\"'`{}[]()<>#@=/\\".contains(c))
        .unwrap_or(message.len());
    let kept = blank_long_numbers(message[..cut].trim_end());
    if cut < message.len() {
        format!("{kept}{WITHHELD}")
    } else {
        kept
    }
}

fn blank_long_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= MIN_ID_DIGITS {
            out.push('#');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_lines_lose_what_follows_a_colon() {
        let line = "Cannot parse an update.\nError: x\nValue: {\"text\":\"my secret\"}";
        assert_eq!(
            redact_dependency(line),
            "Cannot parse an update. [details withheld]"
        );
        assert_eq!(
            redact_dependency("Unhandled update: Update { id: 5 }"),
            "Unhandled update [details withheld]"
        );
    }

    #[test]
    fn dependency_lines_without_values_are_kept() {
        assert_eq!(
            redact_dependency("retrying getting updates in 2s"),
            "retrying getting updates in 2s"
        );
    }

    #[test]
    fn dependency_lines_lose_urls_and_ids() {
        let url = "response '200 OK' for http://127.0.0.1/bot1:abc/getMe";
        assert_eq!(redact_dependency(url), "response [details withheld]");
        assert_eq!(
            redact_dependency("Removing dialogue 123456789 now"),
            "Removing dialogue # now"
        );
    }

    #[test]
    fn secrets_are_hidden_whole_and_in_part() {
        let secrets = vec!["123:ABCDEFGH".to_owned(), "ABCDEFGH".to_owned()];
        assert_eq!(
            hide_secrets("url /bot123:ABCDEFGH/getMe and ABCDEFGH", &secrets),
            "url /bot<hidden>/getMe and <hidden>"
        );
    }

    #[test]
    fn own_records_are_not_capped_but_dependencies_are() {
        assert_eq!(cap("safeguard_bot::telegram"), LevelFilter::Trace);
        assert_eq!(cap("teloxide::dispatching"), LevelFilter::Info);
        assert_eq!(cap("reqwest::connect"), LevelFilter::Warn);
        assert!(!is_own("safeguard_botnet"));
    }
}
