//! Message entities checked against their text before teloxide's helpers touch them.
//!
//! Telegram gives an entity's `offset` and `length` in UTF-16 code units. teloxide's
//! [`MessageEntityRef::parse`] (behind `Message::parse_entities`) trusts them: an entity past the
//! end of the text, or one that starts or ends between the two halves of a surrogate pair (inside
//! an emoji), makes it panic, or makes `MessageEntityRef::text` slice out of bounds. Telegram
//! itself never sends such entities, but anyone who can post to the webhook, a buggy Bot API
//! server or a future change can, and one such update must not cost the bot anything. So
//! entities are checked here first and an invalid one is simply ignored, as if it were not there.

use teloxide::types::{Message, MessageEntity, MessageEntityRef};

/// The entities of `text` that lie within it on character boundaries, in the order given, with
/// their ranges converted to bytes by teloxide. Invalid entities (past the end, overflowing,
/// splitting a surrogate pair) are left out rather than trusted.
pub fn parse<'a>(text: &'a str, entities: &'a [MessageEntity]) -> Vec<MessageEntityRef<'a>> {
    if entities.is_empty() {
        return Vec::new();
    }
    let boundaries = utf16_boundaries(text);
    let valid = |e: &&MessageEntity| is_valid(&boundaries, e.offset, e.length);
    if entities.iter().all(|e| valid(&e)) {
        return MessageEntityRef::parse(text, entities);
    }
    // Rare (Telegram never sends these): each valid entity parsed on its own, borrowing from
    // the caller's slice.
    entities
        .iter()
        .filter(valid)
        .flat_map(|e| MessageEntityRef::parse(text, std::slice::from_ref(e)))
        .collect()
}

/// A message's text entities, checked (see [`parse`]); empty if it has no text.
pub(crate) fn of_text(msg: &Message) -> Vec<MessageEntityRef<'_>> {
    match (msg.text(), msg.entities()) {
        (Some(text), Some(entities)) => parse(text, entities),
        _ => Vec::new(),
    }
}

/// A message's caption entities, checked (see [`parse`]); empty if it has no caption.
pub(crate) fn of_caption(msg: &Message) -> Vec<MessageEntityRef<'_>> {
    match (msg.caption(), msg.caption_entities()) {
        (Some(caption), Some(entities)) => parse(caption, entities),
        _ => Vec::new(),
    }
}

/// Whether an entity of `offset` and `length` (UTF-16 units) starts and ends on a character
/// boundary of the text whose boundaries are `boundaries`.
fn is_valid(boundaries: &[usize], offset: usize, length: usize) -> bool {
    let Some(end) = offset.checked_add(length) else {
        return false;
    };
    boundaries.binary_search(&offset).is_ok() && boundaries.binary_search(&end).is_ok()
}

/// Every UTF-16 offset at which a character of `text` starts, and the text's UTF-16 length:
/// the offsets an entity may start or end at. Ascending.
fn utf16_boundaries(text: &str) -> Vec<usize> {
    let mut boundaries = Vec::with_capacity(text.len() + 1);
    let mut at = 0;
    for c in text.chars() {
        boundaries.push(at);
        at += c.len_utf16();
    }
    boundaries.push(at);
    boundaries
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::MessageEntityKind;

    fn mention(offset: usize, length: usize) -> MessageEntity {
        MessageEntity::new(MessageEntityKind::Mention, offset, length)
    }

    fn texts<'a>(text: &'a str, entities: &'a [MessageEntity]) -> Vec<&'a str> {
        parse(text, entities).iter().map(|e| e.text()).collect()
    }

    #[test]
    fn valid_entities_are_kept_with_their_text() {
        let text = "\u{1F600} @bot hi";
        // The emoji is two UTF-16 units, then a space: "@bot" is at 3..7.
        assert_eq!(texts(text, &[mention(3, 4)]), ["@bot"]);
        assert_eq!(texts(text, &[mention(0, 2)]), ["\u{1F600}"]);
        assert_eq!(
            texts(text, &[mention(10, 0)]),
            [""],
            "empty at the very end"
        );
    }

    #[test]
    fn entities_past_the_end_or_overflowing_are_ignored() {
        let text = "hello";
        assert!(texts(text, &[mention(1000, 19)]).is_empty());
        assert!(texts(text, &[mention(3, 3)]).is_empty());
        assert!(texts(text, &[mention(usize::MAX, 2)]).is_empty());
        assert!(texts(text, &[mention(1, usize::MAX)]).is_empty());
        assert!(texts("", &[mention(0, 1)]).is_empty());
    }

    #[test]
    fn entities_splitting_a_surrogate_pair_are_ignored() {
        let text = "\u{1F600}hello";
        assert!(texts(text, &[mention(1, 3)]).is_empty(), "starts inside");
        assert!(texts(text, &[mention(0, 1)]).is_empty(), "ends inside");
    }

    #[test]
    fn only_the_invalid_ones_of_several_are_dropped_and_the_order_is_kept() {
        let text = "@a \u{1F600} @b";
        let entities = [mention(0, 2), mention(4, 1), mention(99, 1), mention(6, 2)];
        assert_eq!(texts(text, &entities), ["@a", "@b"]);
        let kinds: Vec<_> = parse(text, &entities)
            .iter()
            .map(|e| e.kind().clone())
            .collect();
        assert_eq!(
            kinds,
            [MessageEntityKind::Mention, MessageEntityKind::Mention]
        );
    }
}
