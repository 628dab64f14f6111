//! The ids of the updates answered lately, so an update Telegram delivers again is not
//! answered again.
//!
//! Telegram delivers an update again when it did not hear that the first delivery arrived: a
//! webhook request that timed out, a connection dropped before the 200, a 5xx, or (polling) a
//! `getUpdates` whose answer was lost. The person already has the reply; a second copy of a
//! safeguarding answer is confusing at best. Only updates that were answered for good are
//! remembered: one whose reply could not be sent is answered when it comes again.
//!
//! Bounded: the newest [`Answered::KEPT`] ids, the oldest going first. That is 18 minutes of
//! Telegram's 30 messages a second, far longer than Telegram waits before delivering again, and
//! under half a megabyte. Per process: with several webhook replicas, a redelivery that reaches
//! another replica is answered again there (Telegram sends one bot's updates to one URL, so
//! this needs a load balancer that spreads one chat over replicas; README, "Capacity").

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// The ids of the updates answered lately (newest [`Answered::KEPT`]).
#[derive(Debug)]
pub(crate) struct Answered {
    inner: Mutex<Inner>,
    kept: usize,
}

#[derive(Debug, Default)]
struct Inner {
    /// The ids held, oldest first.
    order: VecDeque<u32>,
    ids: HashSet<u32>,
}

impl Default for Answered {
    fn default() -> Self {
        Self::keeping(Self::KEPT)
    }
}

impl Answered {
    /// How many update ids are remembered.
    pub(crate) const KEPT: usize = 32_768;

    /// An empty store remembering the newest `kept` ids (tests use a small one).
    pub fn keeping(kept: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            kept: kept.max(1),
        }
    }

    /// Whether update `id` was answered lately.
    pub fn has(&self, id: u32) -> bool {
        self.lock().ids.contains(&id)
    }

    /// Remember that update `id` has been answered for good.
    pub fn add(&self, id: u32) {
        let mut inner = self.lock();
        if inner.ids.contains(&id) {
            return;
        }
        // Make room first, so neither table ever holds more than `kept` (and grows past it).
        if inner.order.len() >= self.kept {
            if let Some(oldest) = inner.order.pop_front() {
                inner.ids.remove(&oldest);
            }
        }
        inner.ids.insert(id);
        inner.order.push_back(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answered_update_is_known_until_newer_ones_push_it_out() {
        let answered = Answered::keeping(3);
        assert!(!answered.has(10));
        answered.add(10);
        answered.add(10);
        assert!(answered.has(10));
        answered.add(11);
        answered.add(12);
        assert!(answered.has(10), "three ids are kept, counting 10 once");
        answered.add(13);
        assert!(!answered.has(10), "the oldest went first");
        assert!(answered.has(11) && answered.has(12) && answered.has(13));
    }
}
