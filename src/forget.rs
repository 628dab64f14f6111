//! The message ids of recent conversations, kept in memory only, so `/forget` can delete them.
//!
//! Someone on a shared phone must be able to leave no trace. Telegram lets a bot delete
//! messages less than 48 hours old (in a private chat, both sides), so the bot remembers the
//! ids of the messages in each chat for that long, and nothing else: no text, no names.
//! Memory is bounded: at most [`Recent::MAX_PER_CHAT`] ids a chat (the oldest go first),
//! [`Recent::MAX_IDS`] ids and [`Recent::MAX_CHATS`] chats in all; when either is reached,
//! expired ids are swept and, if that is not enough, the chats idle longest are dropped until a
//! tenth of the room is free. Nothing is written to disk.
//!
//! Memory: 24 bytes an id (up to twice that while a chat's queue has grown but not filled) plus
//! about 50 bytes a chat: under 64 MB when full.
//! Cost: a mutex and a hash lookup per message; a full sweep (sorting the chats by last use)
//! happens at most once per tenth of the room filled, so it is amortised.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long Telegram lets a bot delete a message, and so how long an id is worth keeping.
pub const DELETABLE_FOR: Duration = Duration::from_secs(48 * 60 * 60);

/// Recent message ids by chat, expiring after [`DELETABLE_FOR`].
#[derive(Debug)]
pub struct Recent {
    inner: Mutex<Inner>,
    max_ids: usize,
    max_chats: usize,
}

#[derive(Debug, Default)]
struct Inner {
    chats: HashMap<i64, VecDeque<(i32, Instant)>>,
    /// Ids held in all chats together.
    total: usize,
}

impl Default for Recent {
    fn default() -> Self {
        Self::with_limits(Self::MAX_IDS, Self::MAX_CHATS)
    }
}

impl Recent {
    /// Most message ids kept for one chat (the oldest go first).
    pub const MAX_PER_CHAT: usize = 500;
    /// Most message ids kept in all chats together.
    pub const MAX_IDS: usize = 1_000_000;
    /// Most chats remembered at once.
    pub const MAX_CHATS: usize = 100_000;

    /// An empty store with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store holding at most `max_ids` ids and `max_chats` chats (tests use small ones).
    pub fn with_limits(max_ids: usize, max_chats: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_ids: max_ids.max(1),
            max_chats: max_chats.max(1),
        }
    }

    /// Remember that message `message` is in chat `chat`, seen at `now`.
    pub fn remember(&self, chat: i64, message: i32, now: Instant) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let new_chat = !inner.chats.contains_key(&chat);
        if inner.total >= self.max_ids || new_chat && inner.chats.len() >= self.max_chats {
            self.make_room(&mut inner, now);
        }
        let ids = inner.chats.entry(chat).or_default();
        let before = ids.len();
        expire(ids, now);
        if ids.len() >= Self::MAX_PER_CHAT {
            ids.pop_front();
        }
        ids.push_back((message, now));
        let after = ids.len();
        inner.total = inner.total + after - before;
    }

    /// Forget chat `chat`, returning the ids of its messages that can still be deleted, oldest
    /// first, each once.
    pub fn take(&self, chat: i64, now: Instant) -> Vec<i32> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids = inner.chats.remove(&chat).unwrap_or_default();
        inner.total -= ids.len();
        expire(&mut ids, now);
        let mut ids: Vec<i32> = ids.into_iter().map(|(id, _)| id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// How many chats are remembered (for tests; no ids leave this module but through `take`).
    pub fn chats(&self) -> usize {
        self.lock().chats.len()
    }

    /// How many ids are held in all (for tests).
    pub fn len(&self) -> usize {
        self.lock().total
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sweep expired ids; if the store is still over nine tenths full, drop the chats idle
    /// longest until it is not, so the next sweep is a tenth of the room away.
    fn make_room(&self, inner: &mut Inner, now: Instant) {
        inner.chats.retain(|_, ids| {
            expire(ids, now);
            !ids.is_empty()
        });
        inner.total = inner.chats.values().map(VecDeque::len).sum();
        let (ids_goal, chats_goal) = (self.max_ids * 9 / 10, self.max_chats * 9 / 10);
        if inner.total <= ids_goal && inner.chats.len() <= chats_goal {
            return;
        }
        let mut by_last_use: Vec<(Instant, i64)> = inner
            .chats
            .iter()
            .filter_map(|(&chat, ids)| ids.back().map(|&(_, at)| (at, chat)))
            .collect();
        by_last_use.sort_unstable();
        for (_, chat) in by_last_use {
            if inner.total <= ids_goal && inner.chats.len() <= chats_goal {
                break;
            }
            if let Some(ids) = inner.chats.remove(&chat) {
                inner.total -= ids.len();
            }
        }
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
    fn when_full_the_chats_idle_longest_go_first() {
        let recent = Recent::with_limits(100, 10);
        let start = Instant::now();
        for chat in 0..10 {
            let at = start + Duration::from_secs(chat as u64);
            recent.remember(chat, 1, at);
        }
        let later = start + Duration::from_secs(60);
        recent.remember(99, 1, later);
        assert!(recent.chats() <= 10, "{} chats", recent.chats());
        assert!(
            recent.take(0, later).is_empty(),
            "the oldest chat was dropped"
        );
        assert_eq!(recent.take(9, later), vec![1], "the newest chat is kept");
        assert_eq!(recent.take(99, later), vec![1]);
    }

    #[test]
    fn the_total_number_of_ids_is_bounded() {
        let recent = Recent::with_limits(1_000, 1_000);
        let now = Instant::now();
        for n in 0..5_000 {
            recent.remember(n % 50, n as i32, now + Duration::from_millis(n as u64));
        }
        assert!(recent.len() <= 1_000, "{} ids", recent.len());
        let kept: usize = (0..50).map(|chat| recent.take(chat, now).len()).sum();
        assert_eq!(recent.len(), 0);
        assert!(kept > 0);
    }

    #[test]
    fn ids_are_returned_once_in_order() {
        let recent = Recent::new();
        let now = Instant::now();
        for id in [12, 10, 11, 10] {
            recent.remember(1, id, now);
        }
        assert_eq!(recent.take(1, now), vec![10, 11, 12]);
        assert!(recent.is_empty());
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
