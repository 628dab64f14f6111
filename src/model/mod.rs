//! The learned half of understanding: a linear model over word and word-piece features,
//! trained from the labelled messages in `responses/` ([`crate::corpus`]).
//!
//! The pattern table understands what its authors foresaw; this model generalises from
//! thousands of labelled messages to wording nobody foresaw. [`crate::brain`] decides how the
//! two combine; this module only turns a message into a probability for each intent.
//!
//! It is a multinomial logistic regression (softmax) over hashed features
//! ([`features`]): small, deterministic, and fast enough for the hot path (a few hundred
//! multiply-adds of a 20-wide row per message). Training ([`train`]) is plain SGD with a fixed
//! seed, so the same data gives the same model bit for bit.
//!
//! The file (`responses/model.bin`) holds a fingerprint of the data it was trained on, so
//! `check` can refuse a model that no longer matches `responses/` ([`Model::fingerprint`]).

pub mod features;
mod memo;
mod table;
pub mod train;

use table::Rows;

use crate::instance::Instance;

/// The first bytes of a model file, and its format version (2: weights in 8 bits).
const MAGIC: &[u8; 8] = b"SGBMODL2";
/// The first bytes of a model that also reads a sentence embedding ([`Dense`]): format 2
/// with the embedding's weights after the rows. A model without one keeps format 2, so
/// `model.bin` is the same file it was before embeddings existed.
const MAGIC_DENSE: &[u8; 8] = b"SGBMODL3";

/// The weights a model gives a sentence embedding ([`crate::embedding`]), beside its hashed
/// features. Kept in f32: a few hundred rows, and the embedding is where real wording gains.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Which embedding model the weights were trained on ([`crate::embedding::Embedder::identity`]):
    /// another model's numbers would mean nothing to them.
    pub(crate) embedder: u64,
    /// The embedding's length.
    pub(crate) dim: usize,
    /// `dim × (classes + 1)`, row-major: the same columns as a feature's row.
    pub(crate) weights: Vec<f32>,
}

/// A trained model: for each known feature, one weight per intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The intent ids the model predicts, in the order of its weights.
    classes: Vec<String>,
    /// Feature hash to its row: a weight per class, then the danger weight, in 8 bits.
    rows: Rows,
    /// A row's 8-bit weight times its column's scale is the weight as trained.
    scale: Vec<f32>,
    /// One per class, and one for danger.
    bias: Vec<f32>,
    /// Fingerprint of the training data ([`crate::corpus::fingerprint`]).
    fingerprint: u64,
    /// The sentence embedding's weights, for a model trained with one.
    dense: Option<Dense>,
    /// Which model this is, for the memo of words' features ([`memo`]).
    instance: Instance,
}

impl Model {
    /// The intent ids the model can answer, in the order of [`Model::probabilities`].
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Fingerprint of the data this model was trained on: `check` compares it with the data
    /// in `responses/` and refuses a model trained on something else.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// How many features the model knows.
    pub fn features(&self) -> usize {
        self.rows.len()
    }

    /// The sentence embedding this model reads, if it was trained with one: the brain must
    /// give it that embedding of every message, from that embedder.
    pub fn dense(&self) -> Option<&Dense> {
        self.dense.as_ref()
    }

    /// The probability of each class for a message as heard ([`crate::brain::Understanding`]),
    /// then the probability that danger is happening now (its own output, trained for recall),
    /// written into `out` (one per class and one more; it is resized). Features are counted
    /// and scaled to unit length, as in training.
    pub fn probabilities(
        &self,
        heard: &str,
        negations: &impl features::Negations,
        out: &mut Vec<f32>,
    ) {
        self.probabilities_with(heard, &[], negations, out);
    }

    /// [`Model::probabilities`] for a model with a sentence embedding ([`Model::dense`]):
    /// `embedding` is that of the message as written; it is ignored by a model without one,
    /// and a model with one reads an empty embedding as zeros.
    pub fn probabilities_with(
        &self,
        heard: &str,
        embedding: &[f32],
        negations: &impl features::Negations,
        out: &mut Vec<f32>,
    ) {
        let n = self.classes.len() + 1;
        let mut sums = [0i64; 32];
        let mut wide = Vec::new();
        let sums = if n <= sums.len() {
            &mut sums[..n]
        } else {
            wide.resize(n, 0);
            &mut wide[..]
        };
        let count = memo::with_tally(self.instance.id(), &self.rows, sums, |tally| {
            features::walk(heard, negations, tally);
            tally.count
        });
        let norm = 1.0 / (count.max(1) as f32).sqrt();
        out.clear();
        out.extend(
            sums.iter()
                .zip(&self.bias)
                .zip(&self.scale)
                .map(|((&sum, b), s)| sum as f32 * s * norm + b),
        );
        if let Some(dense) = &self.dense {
            for (e, row) in embedding.iter().zip(dense.weights.chunks_exact(n)) {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += e * w;
                }
            }
        }
        softmax(&mut out[..n - 1]);
        out[n - 1] = sigmoid(out[n - 1]);
    }

    /// The danger output of [`Model::probabilities`].
    pub fn danger(&self, probabilities: &[f32]) -> f32 {
        probabilities
            .get(self.classes.len())
            .copied()
            .unwrap_or(0.0)
    }

    /// The model as bytes: what `safeguard-bot train` writes to `responses/model.bin`.
    /// Little-endian, in the 8-bit form the model runs in, so a saved model answers exactly as
    /// trained; a checksum at the end, because with 8-bit weights every damaged byte would
    /// still read as a weight.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let rows = self.rows.sorted();
        let width = self.classes.len() + 1;
        let mut out = Vec::with_capacity(64 + 8 * width + rows.len() * (8 + width));
        out.extend_from_slice(if self.dense.is_some() {
            MAGIC_DENSE
        } else {
            MAGIC
        });
        out.extend_from_slice(&self.fingerprint.to_le_bytes());
        out.extend_from_slice(&(self.classes.len() as u32).to_le_bytes());
        for class in &self.classes {
            out.push(class.len() as u8);
            out.extend_from_slice(class.as_bytes());
        }
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        for (key, _) in &rows {
            out.extend_from_slice(&key.to_le_bytes());
        }
        for w in self.bias.iter().chain(&self.scale) {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for (_, row) in &rows {
            out.extend(row.iter().map(|&w| w as u8));
        }
        if let Some(dense) = &self.dense {
            out.extend_from_slice(&dense.embedder.to_le_bytes());
            out.extend_from_slice(&(dense.dim as u32).to_le_bytes());
            for w in &dense.weights {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        let sum = crate::fnv::fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Read a model written by [`Model::to_bytes`]; the error says in a few words what is wrong.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let has_dense = bytes.starts_with(MAGIC_DENSE);
        if !bytes.starts_with(MAGIC) && !has_dense {
            return Err("not a safeguard-bot model file (or an older format)".into());
        }
        let body = bytes
            .len()
            .checked_sub(8)
            .ok_or("the file ends too early (cut short?)")?;
        let (bytes, sum) = bytes.split_at(body);
        if crate::fnv::fnv1a(bytes).to_le_bytes() != sum {
            return Err("the file's checksum does not match its contents (damaged?)".into());
        }
        let mut r = Reader { bytes, at: 0 };
        r.take(MAGIC.len())?;
        let fingerprint = r.u64()?;
        let n = r.u32()? as usize;
        // Sizes are checked against the file before anything is reserved for them, so a
        // damaged count cannot ask for gigabytes.
        if n == 0 || n > 1000 {
            return Err("the number of intents in the file makes no sense (damaged?)".into());
        }
        let mut classes = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.take(1)?[0] as usize;
            let id = std::str::from_utf8(r.take(len)?).map_err(|_| "a class id is not UTF-8")?;
            classes.push(id.to_owned());
        }
        let rows = r.u32()? as usize;
        // Each row holds one weight per class and the danger weight.
        let width = n + 1;
        let expected = rows
            .checked_mul(8 + width)
            .and_then(|b| b.checked_add(8 * width));
        let fits = match expected {
            Some(e) if has_dense => bytes.len() - r.at > e,
            e => e == Some(bytes.len() - r.at),
        };
        if !fits {
            return Err("the file's size does not match the sizes written in it (damaged?)".into());
        }
        let mut keys = Vec::with_capacity(rows);
        for _ in 0..rows {
            keys.push(r.u64()?);
        }
        let floats = r.take(4 * 2 * width)?;
        let mut floats = floats
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let bias: Vec<f32> = floats.by_ref().take(width).collect();
        let scale: Vec<f32> = floats.collect();
        // A weight that is not a number, or a scale that is not a small positive one, would
        // silently turn the danger rule off.
        if !bias.iter().all(|w| w.is_finite())
            || !scale.iter().all(|s| s.is_finite() && *s > 0.0 && *s < 1e6)
        {
            return Err("the file holds weights that are not numbers (damaged?)".into());
        }
        let weights: &[i8] = bytemuck::cast_slice(r.take(rows * width)?);
        let rows = Rows::new(width, keys.into_iter().zip(weights.chunks_exact(width)));
        let dense = if has_dense {
            Some(read_dense(&mut r, width)?)
        } else {
            None
        };
        Ok(Model {
            classes,
            rows,
            scale,
            bias,
            fingerprint,
            dense,
            instance: Instance::new(),
        })
    }

    /// The model as trained (`weights`: `keys × (classes + 1)`, row-major), quantised to the
    /// form it is saved and run in.
    fn assemble(
        classes: Vec<String>,
        keys: Vec<u64>,
        weights: Vec<f32>,
        bias: Vec<f32>,
        fingerprint: u64,
        dense: Option<Dense>,
    ) -> Self {
        let width = classes.len() + 1;
        let (scale, q) = table::quantise(&weights, width);
        let rows = Rows::new(width, keys.into_iter().zip(q.chunks_exact(width)));
        Model {
            classes,
            rows,
            scale,
            bias,
            fingerprint,
            dense,
            instance: Instance::new(),
        }
    }
}

/// The embedding block of a format-3 file: what is left after the rows, exactly.
fn read_dense(r: &mut Reader<'_>, width: usize) -> Result<Dense, String> {
    let embedder = r.u64()?;
    let dim = r.u32()? as usize;
    let left = r.bytes.len() - r.at;
    if dim == 0 || dim.checked_mul(4 * width) != Some(left) {
        return Err("the embedding's size does not match the file (damaged?)".into());
    }
    let weights: Vec<f32> = r
        .take(left)?
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if !weights.iter().all(|w| w.is_finite()) {
        return Err("the file holds weights that are not numbers (damaged?)".into());
    }
    Ok(Dense {
        embedder,
        dim,
        weights,
    })
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Turn scores into probabilities in place.
fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("the file ends too early (cut short?)")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| "short read")?))
    }
}
