//! Every update's way in, from either door: one chat's updates answered in the order they
//! came, at most [`IN_FLIGHT`] updates held and [`ANSWERING`] answered at once, and nothing
//! kept for a chat once its updates are answered.
//!
//! Why not teloxide's dispatcher: it gives each chat a worker task with a queue of its own and
//! keeps them until more chats have workers than were ever busy at once, so a burst of 20,000
//! chats left about 200 MiB resident for good (measured in tests/telegram_burst.rs). A bot
//! that many people use over months sees millions of chats; what it keeps for one must go
//! when that chat's last update is answered. Here a chat costs a map entry and a one-shot
//! channel while it has updates in flight, and nothing after.
//!
//! Order: an update takes its chat's [`Turn`] the moment it arrives (synchronously, so the
//! order of arrival is the order of turns) and waits for the update before it to be answered.
//! Polling hands updates over in Telegram's order; in webhook mode the order is that of
//! arrival at this replica (Telegram posts a chat's updates one after another unless it has
//! several connections open).
//!
//! Once: an update Telegram delivers again after it was answered is not answered again
//! ([`Answered`]). A copy that arrives while the first is still being answered waits for it
//! in its chat's line, then finds it answered.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, UpdateKind};
use teloxide::RequestError;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::telegram::answered::Answered;
use crate::telegram::handlers;
use crate::telegram::metrics::{Handled, Metrics};
use crate::telegram::recent::Recent;
use crate::telegram::send::{is_retryable, Patience};
use crate::telegram::{SharedBrain, TgBot};

/// Updates held at once, waiting for their turn or being answered. Telegram lets a bot send
/// about 30 messages a second, so a thousand in hand is half a minute of sending: more buys
/// nothing but memory. Polling stops asking Telegram for more while this many are held
/// (Telegram keeps them for a day); in webhook mode the requests wait.
pub(crate) const IN_FLIGHT: usize = 1_000;

/// Updates answered at once (matched and their reply on its way); the rest of those in
/// flight wait for their chat's turn or for one of these. Each reply being sent may hold a
/// connection to the Bot API with its buffers, which is what the bot's memory at the peak of
/// a burst is made of. teloxide's throttle lets requests through in rounds of 250 ms, so this
/// many at once can send about four times as many a second: about 500, seventeen times
/// Telegram's 30 (256 sent 1,000 a second, at 6 to 10 MiB more at the peak of a 20,000-chat
/// burst, which took it over 64 MiB; BENCHMARKS.md). Each chat has at most one update answered
/// at a time, so a chat held up by Telegram's per-chat limits holds up no other.
pub(crate) const ANSWERING: usize = 128;

/// How often an idle bot hands freed memory back after a busy spell.
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// How often a bot that is never idle at the moment it looks (steady traffic: each reply
/// waits up to 250 ms in the throttle) hands freed memory back anyway. Without this, the
/// memory a content reload freed stayed resident under 10 messages a second (soak test).
const TRIM_BUSY_EVERY: u32 = 12;

/// Whether Telegram should deliver an update again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered, deliberately ignored, or dropped for good (a refusal, a panic): done.
    Done,
    /// The reply could not be sent for a reason a retry may fix.
    Retry,
}

/// What answering an update needs: the handler tree and its dependencies, the chats' turns
/// and the cap on updates in flight. Cheap to clone (all shared).
#[derive(Clone)]
pub(crate) struct Inbox {
    bot: TgBot,
    me: Me,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    recent: Arc<Recent>,
    patience: Patience,
    handler: Arc<UpdateHandler<RequestError>>,
    turns: Arc<Turns>,
    answered: Arc<Answered>,
    slots: Arc<Semaphore>,
    answering: Arc<Semaphore>,
    /// Updates taken in so far (to tell whether anything happened since the last trim).
    taken: Arc<AtomicU64>,
}

impl Inbox {
    /// An inbox answering with [`handlers::schema`] as `me`, counting in `metrics`,
    /// remembering message ids for `/forget` in `recent`, trying to send each reply for as
    /// long as `patience` allows.
    pub fn new(
        bot: TgBot,
        me: Me,
        brain: Arc<SharedBrain>,
        metrics: Metrics,
        recent: Arc<Recent>,
        patience: Patience,
    ) -> Self {
        Self {
            bot,
            me,
            brain,
            metrics,
            recent,
            patience,
            handler: Arc::new(handlers::schema()),
            turns: Arc::new(Turns::default()),
            answered: Arc::new(Answered::default()),
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            answering: Arc::new(Semaphore::new(ANSWERING)),
            taken: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The same inbox answering with `handler` instead (a test's tree; wrap it in
    /// [`handlers::guarded`] as the shipped one is).
    pub fn with_handler(self, handler: UpdateHandler<RequestError>) -> Self {
        Self {
            handler: Arc::new(handler),
            ..self
        }
    }

    /// The same inbox counting in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        Self { metrics, ..self }
    }

    /// The counters this inbox counts in.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Answer `update` after the updates of its chat that came before it; waits for room
    /// first when [`IN_FLIGHT`] updates are held. For the webhook, which answers Telegram
    /// only once the reply is sent.
    ///
    /// Once its turn is taken the update is answered on a task of its own, which goes on if the
    /// caller stops waiting: when Telegram gives up on a webhook request (the connection
    /// closes, and hyper drops the request's future), a reply already on its way still
    /// finishes and is remembered, so the copy Telegram sends next waits for it and finds it
    /// answered instead of answering twice.
    pub async fn answer(&self, update: Update) -> Outcome {
        // A panic outside the handler tree (which catches its own) drops the update, as a
        // panicking handler does: delivering it again would only panic again.
        self.spawn(update).await.await.unwrap_or(Outcome::Done)
    }

    /// Take `update`'s turn now and answer it on a task of its own; waits only for room. For
    /// polling, which must not wait for one chat's reply before reading the next update (it
    /// drops the handle); [`Inbox::answer`] awaits it.
    pub async fn spawn(&self, update: Update) -> JoinHandle<Outcome> {
        let slot = self.room().await;
        let turn = self.turns.take(chat_key(&update));
        let inbox = self.clone();
        tokio::spawn(async move { inbox.answer_in_turn(update, turn, slot).await })
    }

    /// Wait until every update taken in has been answered.
    pub async fn drain(&self) {
        let all = u32::try_from(IN_FLIGHT).unwrap_or(u32::MAX);
        if let Ok(all) = self.slots.acquire_many(all).await {
            drop(all);
        }
    }

    /// Hand freed memory back to the system whenever the bot has gone idle after handling
    /// something, and once a minute under steady traffic: a burst's updates, replies and
    /// buffers (and the content a reload replaced) are freed when done with, but the allocator
    /// keeps the pages unless asked. Runs until the task is aborted.
    pub async fn trim_when_idle(self) {
        let mut trimmed_at = 0;
        let mut busy_looks = 0;
        loop {
            tokio::time::sleep(TRIM_EVERY).await;
            let taken = self.taken.load(Ordering::Relaxed);
            if taken == trimmed_at {
                continue;
            }
            let idle = self.slots.available_permits() == IN_FLIGHT;
            busy_looks += u32::from(!idle);
            if idle || busy_looks >= TRIM_BUSY_EVERY {
                crate::telegram::memory::release_freed();
                busy_looks = 0;
                // Only an idle trim counts as done: after a busy one, what is still in flight
                // is freed later and wants a trim once the bot is idle.
                if idle {
                    trimmed_at = taken;
                }
            }
        }
    }

    async fn room(&self) -> Option<OwnedSemaphorePermit> {
        let slot = self.slots.clone().acquire_owned().await.ok();
        self.taken.fetch_add(1, Ordering::Relaxed);
        slot
    }

    async fn answer_in_turn(
        &self,
        update: Update,
        mut turn: Turn,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Outcome {
        turn.wait().await;
        let id = update.id.0;
        if self.answered.has(id) {
            self.metrics.update(Handled::Repeated);
            return Outcome::Done;
        }
        let answering = self.answering.acquire().await.ok();
        let outcome = self.dispatch(update).await;
        if outcome == Outcome::Done {
            self.answered.add(id);
        }
        drop(answering);
        drop(turn);
        drop(slot);
        outcome
    }

    /// Run `update` through the handler tree.
    async fn dispatch(&self, update: Update) -> Outcome {
        if matches!(update.kind, UpdateKind::Error(_)) {
            handlers::unhandled(&update, &self.metrics);
            return Outcome::Done;
        }
        let deps = handlers::dependencies(
            &self.bot,
            &self.me,
            &self.brain,
            &self.metrics,
            &self.recent,
            self.patience,
            update,
        );
        match self.handler.dispatch(deps).await {
            ControlFlow::Break(Err(e)) if is_retryable(&e) => Outcome::Retry,
            ControlFlow::Break(_) => Outcome::Done,
            ControlFlow::Continue(deps) => {
                handlers::unhandled(&deps.get::<Update>(), &self.metrics);
                Outcome::Done
            }
        }
    }
}

/// Whose turn an update waits for: its chat's, or for an update without a chat (an inline
/// query, say) its sender's; `None` when it has neither (answered at once).
fn chat_key(update: &Update) -> Option<i64> {
    update
        .chat()
        .map(|chat| chat.id.0)
        .or_else(|| update.from().map(|user| user.id.0 as i64))
}

/// The turns of the chats with updates in flight, each chat's in order of arrival.
///
/// A chat's entry holds the receiving end for its newest update's turn and how many turns are
/// outstanding; the entry goes when the last is done. A turn is over when it is dropped (also
/// if its task panicked or was cancelled), so a chat can never be left waiting.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    chats: Mutex<HashMap<i64, Chat>>,
}

#[derive(Debug)]
struct Chat {
    /// Resolves when the newest turn taken is over.
    newest: Option<oneshot::Receiver<()>>,
    /// Turns taken and not yet over.
    outstanding: usize,
}

/// One update's place in its chat's line: wait for it with [`Turn::wait`]; dropping it lets the
/// next update of the chat go.
#[derive(Debug)]
pub(crate) struct Turn {
    key: Option<(i64, Arc<Turns>)>,
    after: Option<oneshot::Receiver<()>>,
    _over: Option<oneshot::Sender<()>>,
}

impl Turns {
    /// A place in line for chat `key`, behind every turn taken for it before (`None`: no line).
    pub fn take(self: &Arc<Self>, key: Option<i64>) -> Turn {
        let Some(key) = key else {
            return Turn {
                key: None,
                after: None,
                _over: None,
            };
        };
        let (over, newest) = oneshot::channel();
        let mut chats = self.lock();
        let chat = chats.entry(key).or_insert(Chat {
            newest: None,
            outstanding: 0,
        });
        let after = chat.newest.replace(newest);
        chat.outstanding += 1;
        Turn {
            key: Some((key, Arc::clone(self))),
            after,
            _over: Some(over),
        }
    }

    /// Chats with turns outstanding.
    #[cfg(test)]
    pub(crate) fn chats(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Chat>> {
        self.chats.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn finish(&self, key: i64) {
        let mut chats = self.lock();
        if let Some(chat) = chats.get_mut(&key) {
            chat.outstanding -= 1;
            if chat.outstanding == 0 {
                chats.remove(&key);
                // A map that held a burst's chats keeps its table unless told.
                if chats.capacity() > 64 && chats.len() < chats.capacity() / 8 {
                    let keep = chats.len() * 2;
                    chats.shrink_to(keep);
                }
            }
        }
    }
}

impl Turn {
    /// Wait until every earlier update of the chat has been answered (or given up on).
    pub async fn wait(&mut self) {
        if let Some(after) = self.after.as_mut() {
            // The sender is only ever dropped, never used: the error is the signal.
            let _ = after.await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        // Let the next turn go before the entry is updated; order does not matter for it.
        self._over.take();
        if let Some((key, turns)) = self.key.take() {
            turns.finish(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_chat_is_forgotten_once_its_last_turn_is_over() {
        let turns = Arc::new(Turns::default());
        let first = turns.take(Some(7));
        let mut second = turns.take(Some(7));
        let other = turns.take(Some(8));
        assert_eq!(turns.chats(), 2);
        drop(first);
        second.wait().await;
        drop(second);
        assert_eq!(turns.chats(), 1, "chat 7 is gone");
        drop(other);
        assert_eq!(turns.chats(), 0);
    }

    #[tokio::test]
    async fn a_turn_waits_for_the_one_before_it_even_if_that_one_was_abandoned() {
        let turns = Arc::new(Turns::default());
        let first = turns.take(Some(1));
        let mut second = turns.take(Some(1));
        let waiting = tokio::time::timeout(Duration::from_millis(50), second.wait()).await;
        assert!(waiting.is_err(), "the second waits while the first is held");
        // A task that panicked or was cancelled drops its turn: the next one goes.
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), second.wait())
            .await
            .expect("the second goes once the first is dropped");
    }

    #[tokio::test]
    async fn updates_without_a_chat_wait_for_nothing() {
        let turns = Arc::new(Turns::default());
        let _held = turns.take(None);
        let mut next = turns.take(None);
        tokio::time::timeout(Duration::from_millis(50), next.wait())
            .await
            .expect("no line");
        assert_eq!(turns.chats(), 0);
    }
}
