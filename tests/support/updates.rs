//! Telegram updates as JSON, the way the Bot API sends them, for the fake server and handler
//! tests. Names, usernames, ids and texts are distinctive so a test can search a log for them.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{json, Value};

use super::fake_api::{bot_user, BOT_USERNAME};

static NEXT_MESSAGE_ID: AtomicI64 = AtomicI64::new(1);

fn message_id() -> i64 {
    NEXT_MESSAGE_ID.fetch_add(1, Ordering::Relaxed)
}

/// A private chat's id (also its user's id): ten digits that appear nowhere else.
pub fn private_chat_id(n: i64) -> i64 {
    7_300_000_000 + n
}

/// A supergroup's id.
pub fn group_id(n: i64) -> i64 {
    -1_007_300_000_000 - n
}

/// The first name of user `id`.
pub fn first_name(id: i64) -> String {
    format!("Gwenllian{id}")
}

/// The username of user `id`.
pub fn username(id: i64) -> String {
    format!("secret_user_{id}")
}

/// User `id` as the Bot API describes a person.
pub fn user(id: i64) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": first_name(id), "last_name": "Pryce", "username": username(id), "language_code": "cy" })
}

fn private_chat(id: i64) -> Value {
    json!({ "id": id, "type": "private", "first_name": first_name(id), "last_name": "Pryce", "username": username(id) })
}

fn group_chat(id: i64) -> Value {
    json!({ "id": id, "type": "supergroup", "title": format!("Private support group {id}") })
}

fn message(chat: Value, from: Value, fields: Value) -> Value {
    let mut m =
        json!({ "message_id": message_id(), "date": 1_700_000_100, "chat": chat, "from": from });
    if let (Some(m), Some(fields)) = (m.as_object_mut(), fields.as_object()) {
        m.extend(fields.clone());
    }
    m
}

/// A text message in a private chat.
pub fn private_text(chat: i64, text: &str) -> Value {
    json!({ "message": message(private_chat(chat), user(chat), json!({ "text": text })) })
}

/// A command (`/start`, `/report@bot`...) in a private chat, with its `bot_command` entity.
pub fn private_command(chat: i64, command: &str) -> Value {
    let length = command.split_whitespace().next().map_or(0, utf16_len);
    json!({ "message": message(private_chat(chat), user(chat), json!({
        "text": command,
        "entities": [{ "type": "bot_command", "offset": 0, "length": length }],
    })) })
}

/// Kinds of media a person can send.
#[derive(Clone, Copy, Debug)]
pub enum Media {
    Photo,
    Video,
    Document,
    Sticker,
    Voice,
    VideoNote,
    Audio,
    Animation,
}

/// Every kind of media.
pub const ALL_MEDIA: [Media; 8] = [
    Media::Photo,
    Media::Video,
    Media::Document,
    Media::Sticker,
    Media::Voice,
    Media::VideoNote,
    Media::Audio,
    Media::Animation,
];

fn media_fields(media: Media) -> Value {
    let file = |extra: Value| {
        let mut f = json!({ "file_id": "AgACAgQAAxkBAAIBfakeFileId", "file_unique_id": "AQADfake", "file_size": 2048 });
        if let (Some(f), Some(extra)) = (f.as_object_mut(), extra.as_object()) {
            f.extend(extra.clone());
        }
        f
    };
    match media {
        Media::Photo => {
            json!({ "photo": [file(json!({ "width": 90, "height": 90 }))], "caption": "look at this" })
        }
        Media::Video => {
            json!({ "video": file(json!({ "width": 640, "height": 480, "duration": 3, "mime_type": "video/mp4" })) })
        }
        Media::Document => json!({ "document": file(json!({ "file_name": "holiday.pdf" })) }),
        Media::Sticker => json!({ "sticker": file(json!({
            "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false
        })) }),
        Media::Voice => {
            json!({ "voice": file(json!({ "duration": 2, "mime_type": "audio/ogg" })) })
        }
        Media::VideoNote => json!({ "video_note": file(json!({ "length": 240, "duration": 2 })) }),
        Media::Audio => {
            json!({ "audio": file(json!({ "duration": 3, "mime_type": "audio/mpeg" })) })
        }
        Media::Animation => {
            let animation = file(json!({ "width": 320, "height": 240, "duration": 1 }));
            json!({ "animation": animation, "document": file(json!({})) })
        }
    }
}

/// Media in a private chat.
pub fn private_media(chat: i64, media: Media) -> Value {
    json!({ "message": message(private_chat(chat), user(chat), media_fields(media)) })
}

/// A location in a private chat (not text, not media).
pub fn private_location(chat: i64) -> Value {
    json!({ "message": message(private_chat(chat), user(chat), json!({
        "location": { "latitude": 51.48, "longitude": -3.18 }
    })) })
}

/// A text in a group that does not address the bot.
pub fn group_text(group: i64, from: i64, text: &str) -> Value {
    json!({ "message": message(group_chat(group), user(from), json!({ "text": text })) })
}

/// A text in a group starting with `@botname`, with its `mention` entity.
pub fn group_mention(group: i64, from: i64, text: &str) -> Value {
    let mention = format!("@{BOT_USERNAME}");
    json!({ "message": message(group_chat(group), user(from), json!({
        "text": format!("{mention} {text}"),
        "entities": [{ "type": "mention", "offset": 0, "length": utf16_len(&mention) }],
    })) })
}

/// A text in a group with the bot's `@name` inside it but no entity (as some clients send).
pub fn group_mention_without_entity(group: i64, from: i64, text: &str) -> Value {
    group_text(
        group,
        from,
        &format!("{text} @{}", BOT_USERNAME.to_uppercase()),
    )
}

/// A text in a group mentioning another bot whose name starts with this bot's name.
pub fn group_mention_of_other_bot(group: i64, from: i64, text: &str) -> Value {
    group_text(group, from, &format!("@{BOT_USERNAME}2 {text}"))
}

/// A text in a group replying to a message the bot sent.
pub fn group_reply_to_bot(group: i64, from: i64, text: &str) -> Value {
    let replied = message(
        group_chat(group),
        bot_user(),
        json!({ "text": "an earlier reply" }),
    );
    json!({ "message": message(group_chat(group), user(from), json!({ "text": text, "reply_to_message": replied })) })
}

/// A text in a group replying to another person's message.
pub fn group_reply_to_person(group: i64, from: i64, other: i64, text: &str) -> Value {
    let replied = message(
        group_chat(group),
        user(other),
        json!({ "text": "something a person said" }),
    );
    json!({ "message": message(group_chat(group), user(from), json!({ "text": text, "reply_to_message": replied })) })
}

/// A command in a group.
pub fn group_command(group: i64, from: i64, command: &str) -> Value {
    let length = command.split_whitespace().next().map_or(0, utf16_len);
    json!({ "message": message(group_chat(group), user(from), json!({
        "text": command,
        "entities": [{ "type": "bot_command", "offset": 0, "length": length }],
    })) })
}

/// Media in a group, not addressed to the bot.
pub fn group_media(group: i64, from: i64, media: Media) -> Value {
    json!({ "message": message(group_chat(group), user(from), media_fields(media)) })
}

/// A text from another bot in a group, mentioning this bot.
pub fn group_mention_from_bot(group: i64, text: &str) -> Value {
    let mut update = group_mention(group, 1, text);
    update["message"]["from"] = json!({ "id": 5_550_000_001_i64, "is_bot": true, "first_name": "Other", "username": "other_bot" });
    update
}

/// Someone joined a group (a service message).
pub fn group_member_joined(group: i64, who: i64) -> Value {
    json!({ "message": message(group_chat(group), user(who), json!({ "new_chat_members": [user(who)] })) })
}

/// A press of an inline button carrying `data`, on a message the bot sent in a private chat.
pub fn button_press(chat: i64, data: &str) -> Value {
    let on = message(
        private_chat(chat),
        bot_user(),
        json!({ "text": "an earlier reply" }),
    );
    json!({ "callback_query": {
        "id": format!("cbq{chat}"), "from": user(chat), "chat_instance": "-1234", "data": data, "message": on
    } })
}

/// A press of an inline button carrying `data`, on the bot's message `on` in a private chat.
pub fn button_press_on(chat: i64, data: &str, on: i64) -> Value {
    let mut update = button_press(chat, data);
    update["callback_query"]["message"]["message_id"] = json!(on);
    update
}

/// The id of the message an update carries (`message`, `edited_message`, `channel_post`).
pub fn message_id_of(update: &Value) -> i64 {
    ["message", "edited_message", "channel_post"]
        .iter()
        .find_map(|kind| update[kind]["message_id"].as_i64())
        .expect("the update carries a message")
}

/// An edit of a text message in a private chat.
pub fn edited_text(chat: i64, text: &str) -> Value {
    let mut m = message(private_chat(chat), user(chat), json!({ "text": text }));
    m["edit_date"] = json!(1_700_000_200);
    json!({ "edited_message": m })
}

/// A post in a channel.
pub fn channel_post(channel: i64, text: &str) -> Value {
    json!({ "channel_post": {
        "message_id": message_id(), "date": 1_700_000_100,
        "chat": { "id": channel, "type": "channel", "title": "Secret channel" },
        "text": text,
    } })
}

/// An update of a kind this teloxide version does not know.
pub fn unknown_kind(text: &str) -> Value {
    json!({ "future_kind_of_update": { "text": text, "from": user(private_chat_id(999)) } })
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}
