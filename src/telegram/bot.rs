//! Connecting to the Bot API: the token, the server, the throttle, and the start-up calls.
//!
//! Settings follow teloxide's conventions (`TELOXIDE_TOKEN`, `TELOXIDE_API_URL`) but are read
//! here rather than by `Bot::from_env`, which panics on a missing token or a bad URL: a person
//! starting the bot gets one line saying what to do instead.

use std::time::Duration;

use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::requests::RequesterExt;
use teloxide::types::{BotCommand, Me};
use teloxide::{ApiError, RequestError};
use url::Url;

use crate::brain::Brain;
use crate::telegram::forget;
use crate::telegram::metrics::{Method, Metrics};
use crate::telegram::send::{describe, retrying, Patience};
use crate::telegram::{Error, TgBot};

/// The environment variable holding the token from @BotFather.
pub(crate) const TOKEN_VAR: &str = "TELOXIDE_TOKEN";

/// The environment variable naming another Bot API server (a local telegram-bot-api, a test).
pub(crate) const API_URL_VAR: &str = "TELOXIDE_API_URL";

/// Tries of `getMe` at start-up before giving up on an unreachable Bot API.
const STARTUP_ATTEMPTS: u32 = 5;

/// What is needed to reach the Bot API as this bot.
#[derive(Clone)]
pub struct Credentials {
    /// The bot token from @BotFather.
    pub token: String,
    /// The Bot API server, if not Telegram's.
    pub api_url: Option<Url>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &"<hidden>")
            .field("api_url", &self.api_url)
            .finish()
    }
}

impl Credentials {
    /// Read `TELOXIDE_TOKEN` and `TELOXIDE_API_URL`, or say in one line what is missing.
    pub(crate) fn from_env() -> Result<Self, Error> {
        let token = std::env::var(TOKEN_VAR).unwrap_or_default();
        let token = token.trim();
        if token.is_empty() {
            return Err(Error(format!(
                "{TOKEN_VAR} is not set: get a bot token from @BotFather in Telegram (send it /newbot), \
                 then run `{TOKEN_VAR}=<token> safeguard-bot telegram`; `safeguard-bot chat` talks to the bot \
                 in this terminal without one"
            )));
        }
        let api_url = match std::env::var(API_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(Url::parse(url.trim()).map_err(|e| {
                Error(format!(
                    "{API_URL_VAR} is not a URL ({e}); give the Bot API server's base URL, such as http://127.0.0.1:8081"
                ))
            })?),
            _ => None,
        };
        Ok(Self {
            token: token.to_owned(),
            api_url,
        })
    }
}

/// Idle connections to the Bot API kept open for the next request. A burst opens one per
/// request in flight (hundreds, each with its buffers); keeping them all after it would keep
/// the burst's memory. Telegram's 30 messages a second need a handful.
const IDLE_CONNECTIONS: usize = 16;

/// How long an idle connection to the Bot API is kept (reqwest's default is 90 s).
const IDLE_CONNECTION_FOR: Duration = Duration::from_secs(30);

/// A bot that sends through teloxide's `Throttle` adaptor with `limits`. Must be called inside
/// a tokio runtime (the throttle's worker is spawned).
pub fn connect(credentials: &Credentials, limits: Limits) -> Result<TgBot, Error> {
    let client = teloxide::net::default_reqwest_settings()
        .pool_max_idle_per_host(IDLE_CONNECTIONS)
        .pool_idle_timeout(IDLE_CONNECTION_FOR)
        .build()
        .map_err(|_| Error("cannot set up the HTTPS client for the Bot API".to_owned()))?;
    let mut bot = Bot::with_client(credentials.token.clone(), client);
    if let Some(url) = &credentials.api_url {
        bot = bot.set_api_url(url.clone());
    }
    Ok(bot.throttle(limits))
}

/// Start-up: who the bot is (`getMe`, retried while the Bot API is unreachable; a refused token
/// is fatal) and its command menu (`setMyCommands` from the brain's table and `/forget`; a
/// failure is logged and the bot serves anyway).
pub async fn introduce(bot: &TgBot, brain: &Brain, metrics: &Metrics) -> Result<Me, Error> {
    let me = get_me(bot).await?;
    let commands = menu(brain);
    let count = commands.len();
    match retrying(Method::SetMyCommands, metrics, Patience::BRIEF, || {
        bot.set_my_commands(commands.clone()).send()
    })
    .await
    {
        Ok(_) => log::info!("registered {count} commands"),
        Err(e) => log::warn!("commands not registered, serving anyway: {}", describe(&e)),
    }
    Ok(me)
}

/// `getMe`, tried [`STARTUP_ATTEMPTS`] times over about 15 s while the Bot API cannot be
/// reached (a service manager restarts the bot after that); a refused token is fatal at once.
async fn get_me(bot: &TgBot) -> Result<Me, Error> {
    let mut attempt = 1;
    loop {
        match bot.get_me().send().await {
            Ok(me) => return Ok(me),
            Err(RequestError::Api(ApiError::InvalidToken)) => {
                return Err(Error(format!(
                "the Bot API refused the token in {TOKEN_VAR}: check it with @BotFather (/token)"
            )))
            }
            Err(e) if attempt < STARTUP_ATTEMPTS => {
                let wait = Duration::from_secs(1 << (attempt - 1));
                log::warn!(
                    "cannot reach the Bot API yet ({}); trying again in {} s",
                    describe(&e),
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => {
                return Err(Error(format!(
                    "cannot reach the Bot API ({}); check the network, or {API_URL_VAR} if set",
                    describe(&e)
                )))
            }
        }
    }
}

/// The brain's commands, then the Telegram door's own `/forget`, as Telegram's menu, leaving out
/// (and logging) any Telegram would refuse: names are 1 to 32 of `a-z`, `0-9`, `_`;
/// descriptions 1 to 256 characters. A content command named `forget` is left out: the door
/// answers `/forget` itself.
pub fn menu(brain: &Brain) -> Vec<BotCommand> {
    brain
        .commands()
        .into_iter()
        .filter(|(name, _)| name != forget::COMMAND)
        .chain([(
            forget::COMMAND.to_owned(),
            brain.forget_texts().description.clone(),
        )])
        .filter(|(name, description)| {
            let valid_name = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let valid_description = (1..=256).contains(&description.chars().count());
            if !(valid_name && valid_description) {
                log::warn!("command /{name} left out of the menu: Telegram would refuse it");
            }
            valid_name && valid_description
        })
        .map(|(name, description)| BotCommand::new(name, description))
        .collect()
}

/// Throttle limits: Telegram's published ones, or raised for a local Bot API server and load
/// tests.
pub fn limits(
    per_second: u32,
    per_chat_per_second: u32,
    per_chat_per_minute: u32,
    per_group_per_minute: u32,
) -> Limits {
    Limits {
        messages_per_sec_overall: per_second.max(1),
        messages_per_sec_chat: per_chat_per_second.max(1),
        messages_per_min_chat: per_chat_per_minute.max(1),
        messages_per_min_channel_or_supergroup: per_group_per_minute.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_commands_all_fit_telegram() {
        let brain = Brain::embedded().expect("the shipped content loads");
        assert_eq!(menu(&brain).len(), brain.commands().len() + 1);
        assert!(menu(&brain).iter().any(|c| c.command == "start"));
        assert_eq!(
            menu(&brain).last().map(|c| c.command.as_str()),
            Some("forget")
        );
    }

    #[test]
    fn credentials_never_show_the_token() {
        let c = Credentials {
            token: "123:SECRET".into(),
            api_url: None,
        };
        assert!(!format!("{c:?}").contains("SECRET"));
    }
}
