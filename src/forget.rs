//! The message ids of recent conversations, kept in memory only, so `/forget` can delete them.
//!
//! Someone on a shared phone must be able to leave no trace. Telegram lets a bot delete
//! messages less than 48 hours old (in a private chat, both sides), so the bot remembers the
//! ids of the messages in each chat for that long, and nothing else: no text, no names.
//! Memory is bounded: at most [`Recent::MAX_PER_CHAT`] ids a chat and [`Recent::MAX_CHATS`]
//! chats; past that the chat idle longest is dropped first. Nothing is written to disk.
//!
//! Cost: a mutex and a hash lookup per message; sweeping expired ids is amortised.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long Telegram lets a bot delete a message, and so how long an id is worth keeping.
pub const DELETABLE_FOR: Duration = Duration::from_secs(48 * 60 * 60);

/// Recent message ids by chat, expiring after [`DELETABLE_FOR`].
#[derive(Debug, Default)]
pub struct Recent {
    chats: Mutex<HashMap<i64, VecDeque<(i32, Instant)>>>,
}

impl Recent {
    /// Most message ids kept for one chat (the oldest go first).
    pub const MAX_PER_CHAT: usize = 500;
    /// Most chats remembered at once (the one idle longest goes first).
    pub const MAX_CHATS: usize = 100_000;

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember that message `message` is in chat `chat`, seen at `now`.
    pub fn remember(&self, chat: i64, message: i32, now: Instant) {
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        if !chats.contains_key(&chat) && chats.len() >= Self::MAX_CHATS {
            evict(&mut chats, now);
        }
        let ids = chats.entry(chat).or_default();
        expire(ids, now);
        if ids.len() >= Self::MAX_PER_CHAT {
            ids.pop_front();
        }
        ids.push_back((message, now));
    }

    /// Forget chat `chat`, returning the ids of its messages that can still be deleted.
    pub fn take(&self, chat: i64, now: Instant) -> Vec<i32> {
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids = chats.remove(&chat).unwrap_or_default();
        expire(&mut ids, now);
        ids.into_iter().map(|(id, _)| id).collect()
    }

    /// How many chats are remembered (for tests and metrics; no ids leave this module).
    pub fn chats(&self) -> usize {
        self.chats.lock().map(|c| c.len()).unwrap_or(0)
    }
}

fn expire(ids: &mut VecDeque<(i32, Instant)>, now: Instant) {
    while ids
        .front()
        .is_some_and(|&(_, at)| now.saturating_duration_since(at) >= DELETABLE_FOR)
    {
        ids.pop_front();
    }
}

/// Make room for one more chat: drop every expired chat, or else the one idle longest.
fn evict(chats: &mut HashMap<i64, VecDeque<(i32, Instant)>>, now: Instant) {
    chats.retain(|_, ids| {
        expire(ids, now);
        !ids.is_empty()
    });
    if chats.len() >= Recent::MAX_CHATS {
        let idle = chats
            .iter()
            .min_by_key(|(_, ids)| ids.back().map(|&(_, at)| at))
            .map(|(&chat, _)| chat);
        if let Some(chat) = idle {
            chats.remove(&chat);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_returns_only_that_chats_messages_then_nothing() {
        let recent = Recent::new();
        let now = Instant::now();
        recent.remember(1, 10, now);
        recent.remember(2, 20, now);
        recent.remember(1, 11, now);
        assert_eq!(recent.take(1, now), vec![10, 11]);
        assert_eq!(recent.take(1, now), Vec::<i32>::new());
        assert_eq!(recent.take(2, now), vec![20]);
    }

    #[test]
    fn ids_older_than_48_hours_are_not_kept() {
        let recent = Recent::new();
        let start = Instant::now();
        recent.remember(1, 10, start);
        let later = start + DELETABLE_FOR + Duration::from_secs(1);
        recent.remember(1, 11, later);
        assert_eq!(recent.take(1, later), vec![11]);
    }

    #[test]
    fn a_chat_keeps_at_most_its_newest_ids() {
        let recent = Recent::new();
        let now = Instant::now();
        for id in 0..(Recent::MAX_PER_CHAT as i32 + 10) {
            recent.remember(7, id, now);
        }
        let ids = recent.take(7, now);
        assert_eq!(ids.len(), Recent::MAX_PER_CHAT);
        assert_eq!(ids[0], 10);
    }
}
