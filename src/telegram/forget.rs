//! `/forget`: delete this conversation from the user's chat, as far as Telegram allows.
//!
//! Someone on a shared phone must be able to leave no trace. The handlers remember the id of
//! every message in a private chat with the bot, the person's and the bot's, in memory only
//! ([`crate::forget::Recent`]: ids, never text; 48 hours; bounded). `/forget` deletes them
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
//! a chat keeps at most [`crate::forget::Recent::MAX_PER_CHAT`] ids.
//!
//! Only in private chats, where the bot may delete both sides and the conversation is only
//! the person's and the bot's. In a group `/forget` deletes nothing (it would otherwise delete
//! the bot's answers to other people, or need admin rights to delete anyone's messages) and
//! says so; nothing is remembered for groups.
//!
//! These texts are the Telegram door's own, not the brain's: only Telegram can forget.

use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use teloxide::RequestError;

use crate::metrics::Metrics;
use crate::telegram::send::{describe, retrying};
use crate::telegram::TgBot;

/// The command, without the slash.
pub const COMMAND: &str = "forget";

/// Its description in Telegram's command menu.
pub const DESCRIPTION: &str = "Delete this conversation from this chat";

/// Callback data of the button under the note: delete the message it is on.
pub const NOTE_BUTTON_DATA: &str = "forget:note";

/// The most ids one `deleteMessages` call takes (Telegram's limit).
pub const DELETE_BATCH: usize = 100;

/// How to delete the chat itself, on a phone or a computer.
const DELETE_THE_CHAT: &str = "To leave no trace, delete the chat itself too: in your list of \
chats, press and hold this chat (on an iPhone, swipe it left; on a computer, right-click it), \
then choose Delete.";

/// The note after every deletion went through.
pub fn note_done() -> String {
    format!(
        "Done: I've deleted our messages in this chat from the last 48 hours, yours and mine.\n\n\
         {DELETE_THE_CHAT}\n\n\
         If anything is still here, you can delete it yourself: press and hold a message, then \
         Delete. The button below deletes this message."
    )
}

/// The note when Telegram refused or could not take some of the deletions.
pub fn note_partial() -> String {
    format!(
        "I couldn't delete all of our messages in this chat just now. Please delete any that \
         are still here yourself: press and hold a message, then Delete.\n\n\
         {DELETE_THE_CHAT}\n\n\
         The button below deletes this message."
    )
}

/// The answer to `/forget` in a group.
pub const IN_A_GROUP: &str = "/forget only works in a private chat with me, so that it never \
deletes anyone else's messages. To remove your own messages here, press and hold each one, then \
Delete.";

/// The note's button: "Delete this message".
pub fn note_keyboard() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        "Delete this message",
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
        let result = retrying("deleteMessages", metrics, || {
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
    retrying("deleteMessage", metrics, || {
        bot.delete_message(chat, id).send()
    })
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_fit_telegram_and_say_how_to_delete_the_chat() {
        for note in [note_done(), note_partial(), IN_A_GROUP.to_owned()] {
            assert!(note.chars().count() < 1_000, "{note}");
            assert!(!note.contains("  "), "{note}");
        }
        assert!(note_done().contains("delete the chat itself"));
        assert!(note_partial().contains("delete the chat itself"));
        assert!(NOTE_BUTTON_DATA.len() <= 64);
        assert!(COMMAND.bytes().all(|b| b.is_ascii_lowercase()));
    }

    /// The privacy reply (in `responses/`) must state what this module keeps, and for how long.
    #[test]
    fn the_privacy_reply_states_what_forget_keeps() {
        let brain = crate::Brain::embedded().expect("the shipped content loads");
        let privacy = brain.respond(crate::Input::Command("privacy")).reply;
        let hours = crate::forget::DELETABLE_FOR.as_secs() / 3600;
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
