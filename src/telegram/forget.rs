//! `/forget`: delete this conversation from the user's chat, as far as Telegram allows.
//!
//! Someone on a shared phone must be able to leave no trace. The handlers remember the id of
//! every message in a private chat with the bot, the person's and the bot's, in memory only
//! ([`crate::telegram::recent::Recent`]: ids, never text; 48 hours; bounded). `/forget` deletes them
//! all, itself included, with `deleteMessages` (up to 100 ids a call), then sends one short
//! note saying how to delete the chat itself in Telegram, with a button that deletes the note.
//!
//! Why a button rather than a note that deletes itself after a while: the person decides when
//! they have read it, nothing has to be scheduled (a timer would be lost on a restart), and
//! the note's id is remembered like any other, so a later `/forget` takes it too.
//!
//! Limits, said to the user as "anything still here, delete yourself": Telegram lets a bot
//! delete messages only for 48 hours; ids are held only by the process that saw the messages
//! (lost on a restart; with several webhook replicas, each knows only the updates it served);
//! a chat keeps at most [`crate::telegram::recent::Recent::MAX_PER_CHAT`] ids.
//!
//! Only in private chats, where the bot may delete both sides and the conversation is only
//! the person's and the bot's. In a group `/forget` deletes nothing (it would otherwise delete
//! the bot's answers to other people, or need admin rights to delete anyone's messages) and
//! says so; nothing is remembered for groups.
//!
//! Only Telegram can forget, so this is the Telegram door's; what it says (the notes, the
//! button, the menu description) is in `responses/messages.toml` like every other word the bot
//! says, rendered by the brain ([`crate::brain::ForgetTexts`]).

use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use teloxide::RequestError;

use crate::brain::ForgetTexts;
use crate::telegram::metrics::{Method, Metrics};
use crate::telegram::send::{describe, retrying, Patience};
use crate::telegram::TgBot;

/// The command, without the slash.
pub(crate) const COMMAND: &str = "forget";

/// Callback data of the button under the note: delete the message it is on.
pub const NOTE_BUTTON_DATA: &str = "forget:note";

/// The most ids one `deleteMessages` call takes (Telegram's limit).
pub(crate) const DELETE_BATCH: usize = 100;

/// The note's button, labelled from `messages.toml` (`forget_button`).
pub(crate) fn note_keyboard(texts: &ForgetTexts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        texts.button.clone(),
        NOTE_BUTTON_DATA,
    )]])
}

/// How a deletion went: ids asked for, and how many of them were in a call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    /// Ids sent to Telegram for deletion.
    pub asked: usize,
    /// Ids in calls that failed after retries (Telegram skips, without failing, messages it
    /// cannot find).
    pub failed: usize,
}

/// Delete `ids` (sorted, each once) in `chat`, [`DELETE_BATCH`] at a time, each call retried as
/// any other; a failed call is logged by its kind (never the ids) and the rest still tried.
pub async fn delete_all(bot: &TgBot, metrics: &Metrics, chat: ChatId, ids: &[i32]) -> Deleted {
    let mut deleted = Deleted::default();
    for batch in ids.chunks(DELETE_BATCH) {
        deleted.asked += batch.len();
        let ids: Vec<MessageId> = batch.iter().copied().map(MessageId).collect();
        let result = retrying(Method::DeleteMessages, metrics, Patience::BRIEF, || {
            bot.delete_messages(chat, ids.clone()).send()
        })
        .await;
        if let Err(e) = result {
            deleted.failed += batch.len();
            log::warn!(
                "update=forget {} message(s) not deleted: {}",
                batch.len(),
                describe(&e)
            );
        }
    }
    deleted
}

/// Delete the one message `id` in `chat` (the note, when its button is pressed).
pub async fn delete_one(
    bot: &TgBot,
    metrics: &Metrics,
    chat: ChatId,
    id: MessageId,
) -> Result<(), RequestError> {
    retrying(Method::DeleteMessage, metrics, Patience::BRIEF, || {
        bot.delete_message(chat, id).send()
    })
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_come_from_messages_toml_and_say_how_to_delete_the_chat() {
        let brain = crate::Brain::embedded().expect("the shipped content loads");
        let texts = brain.forget_texts();
        let messages = include_str!("../../responses/messages.toml");
        for note in [&texts.done, &texts.partial, &texts.in_group] {
            assert!(!note.is_empty());
            assert!(note.chars().count() <= crate::check::SCREEN_LIMIT, "{note}");
            assert!(!note.contains("  "), "{note}");
            // Word for word in messages.toml: each note's opening words are there.
            let opening: String = note.chars().take(40).collect();
            assert!(
                messages.contains(&opening),
                "{opening:?} is not in messages.toml"
            );
        }
        assert!(texts.done.contains("delete the chat itself"));
        assert!(texts.partial.contains("delete the chat itself"));
        assert!(messages.contains(&texts.button) && messages.contains(&texts.description));
        let keyboard = note_keyboard(texts);
        assert_eq!(keyboard.inline_keyboard[0][0].text, texts.button);
        assert!(NOTE_BUTTON_DATA.len() <= 64);
        assert!(COMMAND.bytes().all(|b| b.is_ascii_lowercase()));
    }

    /// The privacy reply (in `responses/`) must state what this module keeps, and for how long.
    #[test]
    fn the_privacy_reply_states_what_forget_keeps() {
        let brain = crate::Brain::embedded().expect("the shipped content loads");
        let privacy = brain.respond(crate::Input::Command("privacy")).text();
        let hours = crate::telegram::recent::DELETABLE_FOR.as_secs() / 3600;
        for fact in [
            "/forget".to_owned(),
            format!("{hours} hours"),
            "in memory only".to_owned(),
            "not what the messages say".to_owned(),
            "In group chats it holds none".to_owned(),
            "Nothing about you is kept on disk".to_owned(),
        ] {
            assert!(privacy.contains(&fact), "{fact:?} missing from:\n{privacy}");
        }
    }
}
