//! The message ids of recent conversations, kept in memory only, so `/forget` can delete them.
//!
//! Someone on a shared phone must be able to leave no trace. Telegram lets a bot delete
//! messages less than 48 hours old (in a private chat, both sides), so the bot remembers the
//! ids of the messages in each chat for that long, and nothing else: no text, no names.
//! Memory is bounded: at most [`Recent::MAX_PER_CHAT`] ids a chat (the oldest go first),
//! [`Recent::MAX_IDS`] ids and [`Recent::MAX_CHATS`] chats in all; when either is reached the
//! oldest ids in the store go first. Nothing is written to disk.
//!
//! Layout: one log of (chat, id, second) in the order seen, and one table of how many ids each
//! chat has. No allocation per chat: a store with a small allocation for each of 20,000 chats
//! seen in a burst pinned the burst's freed pages around them (35 MiB still resident a minute
//! after a 20,000-chat burst; 5 MiB with this layout, measured by tests/telegram_burst.rs).
//! Memory: 16 bytes an id plus about 20 bytes a chat, both in a few large blocks: under
//! 20 MB when full. Cost: remembering is amortised O(1); `/forget` scans the log (a
//! millisecond or so for a million ids), as does a chat going over its own limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long Telegram lets a bot delete a message, and so how long an id is worth keeping.
pub(crate) const DELETABLE_FOR: Duration = Duration::from_secs(48 * 60 * 60);

/// Recent message ids by chat, expiring after [`DELETABLE_FOR`].
#[derive(Debug)]
pub struct Recent {
    inner: Mutex<Inner>,
    max_ids: usize,
    max_chats: usize,
    /// Times are kept as whole seconds since this instant.
    epoch: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    /// Every id held, oldest first.
    log: VecDeque<Seen>,
    /// How many ids of each chat the log holds (no entry for none).
    per_chat: HashMap<i64, u32>,
}

/// One message id, its chat and when it was seen.
#[derive(Debug, Clone, Copy)]
struct Seen {
    chat: i64,
    message: i32,
    second: u32,
}

impl Default for Recent {
    fn default() -> Self {
        Self::with_limits(Self::MAX_IDS, Self::MAX_CHATS)
    }
}

impl Recent {
    /// Most message ids kept for one chat (the oldest go first).
    pub(crate) const MAX_PER_CHAT: usize = 500;
    /// Most message ids kept in all chats together.
    pub(crate) const MAX_IDS: usize = 1_000_000;
    /// Most chats remembered at once.
    pub(crate) const MAX_CHATS: usize = 100_000;

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
            epoch: Instant::now(),
        }
    }

    /// Remember that message `message` is in chat `chat`, seen at `now`.
    pub(crate) fn remember(&self, chat: i64, message: i32, now: Instant) {
        let second = self.second(now);
        let mut inner = self.lock();
        inner.expire(second);
        let held = inner.per_chat.get(&chat).copied().unwrap_or(0);
        if held as usize >= Self::MAX_PER_CHAT {
            inner.drop_oldest_of(chat);
        }
        while inner.log.len() >= self.max_ids || held == 0 && inner.per_chat.len() >= self.max_chats
        {
            if !inner.drop_oldest() {
                break;
            }
        }
        inner.log.push_back(Seen {
            chat,
            message,
            second,
        });
        *inner.per_chat.entry(chat).or_insert(0) += 1;
    }

    /// Forget chat `chat`, returning the ids of its messages that can still be deleted, oldest
    /// first, each once.
    pub fn take(&self, chat: i64, now: Instant) -> Vec<i32> {
        let second = self.second(now);
        let mut inner = self.lock();
        inner.expire(second);
        if inner.per_chat.remove(&chat).is_none() {
            return Vec::new();
        }
        let mut ids = Vec::new();
        inner.log.retain(|seen| {
            let theirs = seen.chat == chat;
            if theirs {
                ids.push(seen.message);
            }
            !theirs
        });
        inner.shrink();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// How many chats are remembered (for tests; no ids leave this module but through `take`).
    pub fn chats(&self) -> usize {
        self.lock().per_chat.len()
    }

    /// How many ids are held in all (for tests).
    pub fn len(&self) -> usize {
        self.lock().log.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn second(&self, now: Instant) -> u32 {
        let seconds = now.saturating_duration_since(self.epoch).as_secs();
        u32::try_from(seconds).unwrap_or(u32::MAX)
    }
}

impl Inner {
    /// Drop the ids seen [`DELETABLE_FOR`] or longer before `now`.
    fn expire(&mut self, now: u32) {
        let limit = DELETABLE_FOR.as_secs();
        let before = self.log.len();
        while self
            .log
            .front()
            .is_some_and(|seen| u64::from(now.saturating_sub(seen.second)) >= limit)
        {
            self.drop_oldest();
        }
        if self.log.len() < before {
            self.shrink();
        }
    }

    /// Drop the oldest id in the store; false if there is none.
    fn drop_oldest(&mut self) -> bool {
        match self.log.pop_front() {
            Some(seen) => {
                self.count_out(seen.chat);
                true
            }
            None => false,
        }
    }

    /// Drop the oldest id of `chat`.
    fn drop_oldest_of(&mut self, chat: i64) {
        if let Some(at) = self.log.iter().position(|seen| seen.chat == chat) {
            self.log.remove(at);
            self.count_out(chat);
        }
    }

    fn count_out(&mut self, chat: i64) {
        if let Some(held) = self.per_chat.get_mut(&chat) {
            *held -= 1;
            if *held == 0 {
                self.per_chat.remove(&chat);
            }
        }
    }

    /// Give back room a burst left unused, so memory follows what is held.
    fn shrink(&mut self) {
        if self.log.capacity() > 1024 && self.log.len() < self.log.capacity() / 4 {
            let keep = self.log.len() * 2;
            self.log.shrink_to(keep);
        }
        if self.per_chat.capacity() > 1024 && self.per_chat.len() < self.per_chat.capacity() / 4 {
            let keep = self.per_chat.len() * 2;
            self.per_chat.shrink_to(keep);
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
    fn when_full_the_oldest_ids_go_first() {
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
