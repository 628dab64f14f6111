//! Which loaded object this is: the key of the per-thread memos of the hot path (the model's
//! sums of a word's features, the lexicon's typo corrections), so that a memo filled from one
//! content version is never read for another after a reload.

use std::sync::atomic::{AtomicU64, Ordering};

/// A number no other object built in this process has (a clone keeps it, which is right for
/// the objects that hold one: they are never changed once built). It says nothing of the
/// contents, so every two compare equal: a model read back from its own bytes is still the
/// same model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Instance(u64);

impl Instance {
    /// A new identity, never 0 (an empty memo's owner).
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Instance(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number, for a memo to compare with the owner it was filled for.
    pub(crate) fn id(self) -> u64 {
        self.0
    }
}

impl PartialEq for Instance {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
