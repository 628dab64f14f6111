//! Every kind of Telegram update the bot receives, and where it goes: [`schema`].
//!
//! Each endpoint turns one update into at most one reply from the [`Brain`](crate::Brain) and
//! sends it. What is decided here is only *whether* to answer and *with which input*: a
//! command, a text, media (never downloaded), or a button press. The words come from the brain,
//! except for `/forget`, which only Telegram can do ([`super::forget`]).
//!
//! Every update is counted by kind, every reply by intent and kind, in [`Metrics`]. In private
//! chats the id of every message, the person's and the bot's, is remembered in [`Recent`] for
//! `/forget`; nothing is remembered for groups.
//!
//! Privacy: nothing here logs a message's text, a name, a username or an id; each update logs
//! its kind, the intent answered and the time taken.

use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use teloxide::dispatching::{UpdateFilterExt, UpdateHandler};
use teloxide::dptree::di::DependencyMap;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, InlineKeyboardMarkup, Me, MediaKind, MessageEntityKind, MessageId, MessageKind,
    UpdateKind,
};
use teloxide::RequestError;

use crate::brain::Input;
use crate::reply::Reply;
use crate::telegram::metrics::{Handled, Method, Metrics};
use crate::telegram::recent::Recent;
use crate::telegram::send::{describe, keyboard, retrying, send_text, Patience, TOPIC_PREFIX};
use crate::telegram::{entities, forget};
use crate::telegram::{SharedBrain, TgBot};

/// What an endpoint returns; an error is a reply that could not be sent after retries.
pub type HandlerResult = Result<(), RequestError>;

/// A command meant for this bot: its name, lower case, without the slash or `@botname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command(pub String);

/// The text of a message meant for this bot, without the `@botname` that addressed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

/// The update kinds the tree has a branch for; webhook registration asks Telegram for these.
pub(crate) const ALLOWED_UPDATES: [AllowedUpdate; 4] = [
    AllowedUpdate::Message,
    AllowedUpdate::CallbackQuery,
    AllowedUpdate::EditedMessage,
    AllowedUpdate::ChannelPost,
];

/// The handler tree: every update kind, top to bottom, and the endpoint it reaches, behind
/// [`guarded`] so that a panic while handling one update costs only that update. Needs what
/// [`dependencies`] provides (a test type-checks the two against each other).
///
/// In a private chat every message is meant for the bot (and its id is remembered for
/// `/forget`). In a group only commands, messages that mention the bot and replies to the
/// bot's own messages are; the rest is left alone. Kinds without a branch here go to the
/// dispatcher's default handler, [`unhandled`].
pub fn schema() -> UpdateHandler<RequestError> {
    guarded(tree())
}

/// What the handler tree needs to answer `update`, in one place: every door (the inbox) and
/// every test that drives the tree builds its dependencies here, so adding one touches one
/// list.
pub fn dependencies(
    bot: &TgBot,
    me: &Me,
    brain: &Arc<SharedBrain>,
    metrics: &Metrics,
    recent: &Arc<Recent>,
    patience: Patience,
    update: Update,
) -> DependencyMap {
    let responder = Responder {
        bot: bot.clone(),
        brain: brain.clone(),
        metrics: metrics.clone(),
        patience,
        recent: recent.clone(),
    };
    dptree::deps![
        bot.clone(),
        me.clone(),
        brain.clone(),
        metrics.clone(),
        recent.clone(),
        responder,
        update
    ]
}

/// What the endpoints that answer need, as one dependency: the bot, the brain, the counters,
/// how long to keep trying a reply ([`Patience`]) and the ids remembered for `/forget`. Cheap to
/// clone (all shared).
#[derive(Clone)]
struct Responder {
    bot: TgBot,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    patience: Patience,
    recent: Arc<Recent>,
}

impl Responder {
    /// The brain's reply to `input`, sent to `msg`'s chat (in a group, as an answer to `msg`,
    /// so the person sees what it answers), then counted and logged as `kind`.
    async fn respond(&self, msg: &Message, kind: Handled, input: Input<'_>) -> HandlerResult {
        let started = Instant::now();
        self.metrics.update(kind);
        let brain = self.brain.current();
        // With a sentence embedding a message takes about 18 ms of CPU: off the runtime's
        // one worker, so polling, the webhook and /metrics keep going meanwhile.
        let reply = if brain.embedder().is_some() {
            tokio::task::block_in_place(|| brain.respond(input).into_owned())
        } else {
            brain.respond(input).into_owned()
        };
        let reply_to = (!msg.chat.is_private()).then_some(msg.id);
        let sent = self.send(msg.chat.id, reply_to, &reply).await;
        finish(&self.metrics, kind, &reply, started, sent)
    }

    /// Send `reply` to `chat` (as an answer to `reply_to` if given) and remember its id for
    /// `/forget`.
    async fn send(
        &self,
        chat: ChatId,
        reply_to: Option<MessageId>,
        reply: &Reply,
    ) -> Result<(), RequestError> {
        let markup = keyboard(&reply.buttons);
        self.send_text(chat, reply_to, &reply.reply, markup).await
    }

    /// Send `text` (the `/forget` texts) to `chat` with `markup`, as an answer to `reply_to`
    /// if given, and remember its id.
    async fn send_text(
        &self,
        chat: ChatId,
        reply_to: Option<MessageId>,
        text: &str,
        markup: Option<InlineKeyboardMarkup>,
    ) -> Result<(), RequestError> {
        let sent = send_text(
            &self.bot,
            &self.metrics,
            self.patience,
            chat,
            reply_to,
            text,
            markup,
        )
        .await?;
        remember_sent(&self.recent, &sent);
        Ok(())
    }
}

/// `handler`, with a panic anywhere in it (a bug, here or in a dependency) caught: the update
/// is dropped as handled (`Ok`, so the webhook answers 200 and Telegram does not deliver it
/// again and again), counted in [`Metrics::update_panicked`] and logged by its kind only.
///
/// Why: in polling mode teloxide runs each chat's updates on a worker task; a panic kills the
/// worker, loses the updates queued behind it, and the chat's next update panics the dispatcher
/// ("TX is dead"), ending the process. In webhook mode the connection is dropped without an
/// answer. The panic message is never logged (it can quote the text being handled; the panic
/// hook in [`crate::cli`] does not print it either).
pub fn guarded(handler: UpdateHandler<RequestError>) -> UpdateHandler<RequestError> {
    let description = handler.description().clone();
    let sig = handler.sig().clone();
    dptree::from_fn_with_description(
        description,
        move |deps: DependencyMap, cont| {
            let handler = handler.clone();
            async move {
                let kind = deps
                    .try_get::<Update>()
                    .map_or("unknown", |update| update_kind(&update));
                let metrics = deps.try_get::<Metrics>();
                match AssertUnwindSafe(handler.execute(deps, cont))
                    .catch_unwind()
                    .await
                {
                    Ok(flow) => flow,
                    Err(_payload) => {
                        if let Some(metrics) = metrics {
                            metrics.update_panicked();
                        }
                        log::error!(
                            "update={kind} dropped: handling it panicked (a bug; please report it)"
                        );
                        ControlFlow::Break(Ok(()))
                    }
                }
            }
        },
        sig,
    )
}

/// The handler tree itself, unguarded (see [`schema`]).
fn tree() -> UpdateHandler<RequestError> {
    dptree::entry()
        .branch(
            Update::filter_message()
                .inspect(remember_incoming)
                .branch(
                    dptree::filter(sent_by_a_person)
                        .branch(
                            dptree::filter_map(command_for_us)
                                .branch(dptree::filter(is_forget).endpoint(on_forget))
                                .endpoint(on_command),
                        )
                        .branch(
                            dptree::filter(is_media)
                                .filter(addressed_to_us)
                                .endpoint(on_media),
                        )
                        .branch(dptree::filter_map(text_for_us).endpoint(on_text))
                        .branch(
                            dptree::filter(is_user_content)
                                .filter(addressed_to_us)
                                .endpoint(on_other_message),
                        ),
                )
                .endpoint(ignore_message),
        )
        .branch(
            Update::filter_callback_query()
                .branch(dptree::filter(is_note_button).endpoint(on_note_button))
                .endpoint(on_button),
        )
        .branch(Update::filter_edited_message().endpoint(ignore_edited_message))
        .branch(Update::filter_channel_post().endpoint(ignore_channel_post))
}

/// `/start`, `/help`, `/report`...: the brain's answer to the command (an unknown command gets
/// its fallback, which lists the topics).
async fn on_command(r: Responder, msg: Message, command: Command) -> HandlerResult {
    r.respond(&msg, Handled::Command, Input::Command(&command.0))
        .await
}

/// A text message: the brain's answer.
async fn on_text(r: Responder, msg: Message, text: Text) -> HandlerResult {
    r.respond(&msg, Handled::Text, Input::Text(&text.0)).await
}

/// A photo, video, file, sticker, voice note or other media: never downloaded (no `getFile`);
/// the brain's media reply says not to send images here and how to report or remove one.
async fn on_media(r: Responder, msg: Message) -> HandlerResult {
    r.respond(&msg, Handled::Media, Input::Media).await
}

/// A location, contact, poll or similar meant for the bot: the fallback reply, so nobody who
/// writes to the bot leaves without the helplines.
async fn on_other_message(r: Responder, msg: Message) -> HandlerResult {
    r.respond(&msg, Handled::OtherMessage, Input::Text(""))
        .await
}

/// `/forget` in a private chat: delete every message of this chat the bot remembers (the
/// person's and its own, this command included), then send the note on deleting the chat
/// itself, with a button that deletes the note. In a group: delete nothing, say why. See
/// [`super::forget`].
async fn on_forget(r: Responder, msg: Message) -> HandlerResult {
    let started = Instant::now();
    r.metrics.update(Handled::Forget);
    let texts = r.brain.current().forget_texts().clone();
    let chat = msg.chat.id;
    if !msg.chat.is_private() {
        let sent = r.send_text(chat, Some(msg.id), &texts.in_group, None).await;
        return finish_forget(started, "in a group: nothing deleted", sent);
    }
    let ids = r.recent.take(chat.0, Instant::now());
    let deleted = forget::delete_all(&r.bot, &r.metrics, chat, &ids).await;
    let note = if deleted.failed == 0 {
        &texts.done
    } else {
        &texts.partial
    };
    let keyboard = Some(forget::note_keyboard(&texts));
    let sent = r.send_text(chat, None, note, keyboard).await;
    let outcome = format!(
        "asked Telegram to delete {} message(s), {} failed",
        deleted.asked, deleted.failed
    );
    finish_forget(started, &outcome, sent)
}

/// The button under the `/forget` note: acknowledge it and delete the message it is on (the
/// note, which the bot sent; nothing else).
async fn on_note_button(bot: TgBot, metrics: Metrics, query: CallbackQuery) -> HandlerResult {
    let started = Instant::now();
    metrics.update(Handled::Button);
    acknowledge(&bot, &metrics, &query).await;
    let Some(note) = &query.message else {
        return Ok(());
    };
    let result = forget::delete_one(&bot, &metrics, note.chat().id, note.id()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(()) => log::info!("update=button forget note deleted took={ms:.1}ms"),
        Err(e) => log::warn!(
            "update=button forget note not deleted took={ms:.1}ms: {}",
            describe(e)
        ),
    }
    // Not deleting the note is not worth a redelivery: the person can delete it themselves.
    Ok(())
}

/// A topic button was pressed: answer the callback query first (it stops the button's spinner;
/// failing that is logged, not fatal), then send the topic to the chat the button was in.
async fn on_button(r: Responder, query: CallbackQuery) -> HandlerResult {
    let started = Instant::now();
    r.metrics.update(Handled::Button);
    acknowledge(&r.bot, &r.metrics, &query).await;
    let Some(message) = &query.message else {
        log::debug!("update=button on an inline message ignored: there is no chat to answer in");
        return Ok(());
    };
    let intent = query
        .data
        .as_deref()
        .and_then(|d| d.strip_prefix(TOPIC_PREFIX))
        .unwrap_or_default();
    let reply = r.brain.current().respond(Input::Topic(intent)).into_owned();
    let sent = r.send(message.chat().id, None, &reply).await;
    finish(&r.metrics, Handled::Button, &reply, started, sent)
}

/// Answer a callback query (with retries), so the button stops spinning. A failure is logged
/// and not fatal: the topic itself matters more.
async fn acknowledge(bot: &TgBot, metrics: &Metrics, query: &CallbackQuery) {
    let answered = retrying(
        Method::AnswerCallbackQuery,
        metrics,
        Patience::BRIEF,
        || bot.answer_callback_query(query.id.clone()).send(),
    )
    .await;
    if let Err(e) = answered {
        log::warn!(
            "update=button callback query not answered: {}",
            describe(&e)
        );
    }
}

/// Group chatter not meant for the bot, service messages, messages from bots.
async fn ignore_message(metrics: Metrics) -> HandlerResult {
    metrics.update(Handled::Ignored);
    log::debug!("update=message ignored: not meant for the bot");
    Ok(())
}

/// An edit of a message already answered: answering again would repeat the reply.
async fn ignore_edited_message(metrics: Metrics) -> HandlerResult {
    metrics.update(Handled::EditedMessage);
    log::debug!("update=edited_message ignored");
    Ok(())
}

/// A post in a channel the bot was added to: the bot does not post in channels.
async fn ignore_channel_post(metrics: Metrics) -> HandlerResult {
    metrics.update(Handled::ChannelPost);
    log::debug!("update=channel_post ignored");
    Ok(())
}

/// The default handler for update kinds the tree has no branch for (and kinds teloxide cannot
/// parse): counted as `other` and logged by kind only, never answered.
pub(crate) fn unhandled(update: &Update, metrics: &Metrics) {
    metrics.update(Handled::Other);
    log::debug!(
        "update={} ignored: the bot does not handle this kind",
        update_kind(update)
    );
}

/// Every message in a private chat, whoever sent it and whatever happens to it next: its id,
/// for `/forget`. Group messages are not remembered.
fn remember_incoming(msg: Message, recent: Arc<Recent>) {
    if msg.chat.is_private() {
        recent.remember(msg.chat.id.0, msg.id.0, Instant::now());
    }
}

/// A message the bot sent: its id, in a private chat, for `/forget`.
fn remember_sent(recent: &Recent, sent: &Message) {
    if sent.chat.is_private() {
        recent.remember(sent.chat.id.0, sent.id.0, Instant::now());
    }
}

/// Count and log how an update went (kind, intent, time; nothing else) and pass the result on.
/// A reply is counted once Telegram has accepted it.
fn finish(
    metrics: &Metrics,
    kind: Handled,
    reply: &Reply,
    started: Instant,
    result: Result<(), RequestError>,
) -> HandlerResult {
    let took = started.elapsed();
    let ms = took.as_secs_f64() * 1000.0;
    let intent = &reply.intent;
    let kind = kind.label();
    match &result {
        Ok(()) => {
            metrics.reply(reply, took);
            log::info!("update={kind} intent={intent} took={ms:.1}ms");
        }
        Err(e) => log::error!(
            "update={kind} intent={intent} took={ms:.1}ms reply not sent: {}",
            describe(e)
        ),
    }
    result
}

/// Log how a `/forget` went (what was done, in numbers; the time) and pass the result on.
fn finish_forget(
    started: Instant,
    outcome: &str,
    result: Result<(), RequestError>,
) -> HandlerResult {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(()) => log::info!("update=forget {outcome} took={ms:.1}ms"),
        Err(e) => log::error!(
            "update=forget {outcome} took={ms:.1}ms note not sent: {}",
            describe(e)
        ),
    }
    result
}

/// The kind of an update, for logs: never its content.
pub(crate) fn update_kind(update: &Update) -> &'static str {
    match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::ChannelPost(_) => "channel_post",
        UpdateKind::EditedChannelPost(_) => "edited_channel_post",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::InlineQuery(_) => "inline_query",
        UpdateKind::MyChatMember(_) => "my_chat_member",
        UpdateKind::ChatMember(_) => "chat_member",
        UpdateKind::MessageReaction(_) => "message_reaction",
        UpdateKind::Error(_) => "unknown",
        _ => "other",
    }
}

/// Only people get answers: not other bots (no bot-to-bot loops), not anonymous channel
/// senders, not service messages without a sender.
fn sent_by_a_person(msg: Message) -> bool {
    msg.from.as_ref().is_some_and(|user| !user.is_bot)
}

/// A command meant for this bot: in a private chat any command; in a group one addressed to
/// this bot by `@name`, or one of the bot's own commands (the brain's, and `/forget`) without a
/// name. `/help@otherbot` and other bots' commands are left alone.
fn command_for_us(msg: Message, me: Me, brain: Arc<SharedBrain>) -> Option<Command> {
    let word = msg.text()?.split_whitespace().next()?;
    let word = word.strip_prefix('/')?;
    let (name, target) = match word.split_once('@') {
        Some((name, target)) => (name, Some(target)),
        None => (word, None),
    };
    if name.is_empty() {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let ours = match target {
        Some(target) => is_our_name(target, &me),
        None => {
            msg.chat.is_private()
                || name == forget::COMMAND
                || brain.current().commands().iter().any(|(c, _)| *c == name)
        }
    };
    ours.then_some(Command(name))
}

/// `/forget`, which the Telegram door answers itself (whatever the content says).
fn is_forget(command: Command) -> bool {
    command.0 == forget::COMMAND
}

/// A press of the button under the `/forget` note.
fn is_note_button(query: CallbackQuery) -> bool {
    query.data.as_deref() == Some(forget::NOTE_BUTTON_DATA)
}

/// The text of a message meant for this bot, with the bot's `@name` taken out.
fn text_for_us(msg: Message, me: Me) -> Option<Text> {
    let text = msg.text()?;
    if !addressed_to_us(msg.clone(), me.clone()) {
        return None;
    }
    Some(Text(without_mention(text, &me)))
}

/// Whether a message is for this bot: any message in a private chat; in a group, one that
/// mentions the bot (an entity, or its `@name` in the text or caption) or replies to it.
fn addressed_to_us(msg: Message, me: Me) -> bool {
    msg.chat.is_private() || mentions_us(&msg, &me) || replies_to_us(&msg, &me)
}

/// Whether the message mentions the bot: a `mention` or `text_mention` entity, or its `@name`
/// written in the text or caption. Entities are checked against the text first
/// ([`entities`]): an invalid one is ignored, never handed to teloxide, which would panic on it.
fn mentions_us(msg: &Message, me: &Me) -> bool {
    let entities = entities::of_text(msg)
        .into_iter()
        .chain(entities::of_caption(msg));
    for entity in entities {
        match entity.kind() {
            MessageEntityKind::Mention
                if is_our_name(entity.text().trim_start_matches('@'), me) =>
            {
                return true
            }
            MessageEntityKind::TextMention { user } if user.id == me.id => return true,
            _ => {}
        }
    }
    let written = msg.text().or(msg.caption()).unwrap_or_default();
    find_mention(written, me).is_some()
}

fn replies_to_us(msg: &Message, me: &Me) -> bool {
    msg.reply_to_message()
        .and_then(|replied| replied.from.as_ref())
        .is_some_and(|author| author.id == me.id)
}

fn is_our_name(name: &str, me: &Me) -> bool {
    me.user
        .username
        .as_deref()
        .is_some_and(|ours| ours.eq_ignore_ascii_case(name))
}

/// Where `@botname` appears in `text` as a whole word, case-insensitively: its byte range.
fn find_mention(text: &str, me: &Me) -> Option<std::ops::Range<usize>> {
    let name = me.user.username.as_deref()?;
    let wanted = format!("@{}", name.to_ascii_lowercase());
    let lower = text.to_ascii_lowercase();
    lower
        .match_indices(&wanted)
        .map(|(at, _)| at..at + wanted.len())
        .find(|range| {
            !lower[range.end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// `text` without the first `@botname` mention, so the brain sees only the question.
fn without_mention(text: &str, me: &Me) -> String {
    match find_mention(text, me) {
        Some(range) => format!("{} {}", &text[..range.start], &text[range.end..])
            .trim()
            .to_owned(),
        None => text.to_owned(),
    }
}

/// Something a person sent (text, media, a location, a poll...), as opposed to a service
/// message (someone joined, a message was pinned). A message teloxide could not classify
/// (`Empty`: a kind newer than this teloxide) counts as sent by the person, so it is answered.
fn is_user_content(msg: Message) -> bool {
    matches!(msg.kind, MessageKind::Common(_) | MessageKind::Empty {})
}

/// Media the bot never downloads: a photo, video, document, sticker, voice note, video note,
/// audio, animation, paid media or story.
fn is_media(msg: Message) -> bool {
    let MessageKind::Common(common) = &msg.kind else {
        return false;
    };
    matches!(
        common.media_kind,
        MediaKind::Photo(_)
            | MediaKind::Video(_)
            | MediaKind::Document(_)
            | MediaKind::Sticker(_)
            | MediaKind::Voice(_)
            | MediaKind::VideoNote(_)
            | MediaKind::Audio(_)
            | MediaKind::Animation(_)
            | MediaKind::PaidMedia(_)
            | MediaKind::Story(_)
    )
}
