//! The model's weights laid out for the hot path: feature hash → its row of weights, each
//! weight in 8 bits, the key and its row side by side in one open-addressed array.
//!
//! Why: understanding a message looks up about 170 features at random places in the model.
//! With a hash map of row numbers beside a separate array of 32-bit rows, each lookup touched
//! three cache lines (the map's control bytes, its bucket, the row), the model took 2.6 MB,
//! and `classify` spent most of its time waiting on memory (BENCHMARKS.md). Here a key and its
//! row share one slot of 32 bytes (for up to 24 columns), slots never straddle a cache line,
//! and the table is at most half full, so a lookup, hit or miss, is usually one line.
//!
//! Weights are quantised per column: `weight ≈ q × scale[column]`, `q` in -127..=127. The
//! model is quantised once, when training ends, and what is saved is what was measured:
//! cross-validation and `eval` run the quantised model (EVALUATION.md gives the cost).

use bytemuck::{Pod, Zeroable};

/// One cache line: the unit the slots are laid out in, so that none straddles two.
#[repr(C, align(64))]
#[derive(Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
struct Line([u8; 64]);

/// The key that marks an empty slot. A feature whose hash is 0 (one chance in 2^64) is left
/// out of the model, as a feature seen only once is.
const EMPTY: u64 = 0;

/// Feature hash → quantised row.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Rows {
    lines: Vec<Line>,
    /// Bytes a slot takes: 8 for the key, then the row, rounded up to a power of two (so a
    /// slot of up to 64 bytes divides a line, and a longer one starts one).
    slot: usize,
    width: usize,
    /// Slots − 1 (a power of two − 1).
    mask: usize,
    len: usize,
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rows({} of width {})", self.len, self.width)
    }
}

impl Rows {
    /// A table for `rows` (key, row) pairs of `width` quantised weights each.
    pub(crate) fn new<'a>(
        width: usize,
        rows: impl ExactSizeIterator<Item = (u64, &'a [i8])>,
    ) -> Self {
        let slot = (8 + width).next_power_of_two();
        let slots = (rows.len() * 2).next_power_of_two().max(2);
        let lines = (slots * slot).div_ceil(64);
        let mut table = Rows {
            lines: vec![Line([0; 64]); lines],
            slot,
            width,
            mask: slots - 1,
            len: 0,
        };
        for (key, row) in rows {
            table.insert(key, row);
        }
        table
    }

    fn insert(&mut self, key: u64, row: &[i8]) {
        if key == EMPTY {
            return;
        }
        let (slot, width, mask) = (self.slot, self.width, self.mask);
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut self.lines);
        let mut i = key as usize & mask;
        loop {
            let s = &mut bytes[i * slot..(i + 1) * slot];
            let k = u64::from_le_bytes(s[..8].try_into().expect("8 bytes"));
            if k == EMPTY || k == key {
                if k == EMPTY {
                    self.len += 1;
                }
                s[..8].copy_from_slice(&key.to_le_bytes());
                s[8..8 + width].copy_from_slice(bytemuck::cast_slice(row));
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The quantised row of `key`, if the model knows that feature.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<&[i8]> {
        let bytes: &[u8] = bytemuck::cast_slice(&self.lines);
        let mut i = key as usize & self.mask;
        loop {
            let s = &bytes[i * self.slot..(i + 1) * self.slot];
            let k = u64::from_le_bytes(s[..8].try_into().expect("8 bytes"));
            if k == EMPTY {
                return None;
            }
            if k == key {
                return Some(bytemuck::cast_slice(&s[8..8 + self.width]));
            }
            i = (i + 1) & self.mask;
        }
    }

    /// How many features the table holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every (key, row), in ascending key order: the order the model file keeps them in.
    pub(crate) fn sorted(&self) -> Vec<(u64, &[i8])> {
        let bytes: &[u8] = bytemuck::cast_slice(&self.lines);
        let mut rows: Vec<(u64, &[i8])> = bytes
            .chunks_exact(self.slot)
            .take(self.mask + 1)
            .filter_map(|s| {
                let k = u64::from_le_bytes(s[..8].try_into().expect("8 bytes"));
                (k != EMPTY).then(|| (k, bytemuck::cast_slice(&s[8..8 + self.width])))
            })
            .collect();
        rows.sort_unstable_by_key(|&(k, _)| k);
        rows
    }
}

/// Quantise `weights` (`rows × width`, row-major) per column: the scale of each column and
/// the 8-bit weights. A column of zeros gets a scale of 1.
pub(crate) fn quantise(weights: &[f32], width: usize) -> (Vec<f32>, Vec<i8>) {
    let mut scale = vec![0.0f32; width];
    for row in weights.chunks_exact(width) {
        for (s, w) in scale.iter_mut().zip(row) {
            *s = s.max(w.abs());
        }
    }
    for s in &mut scale {
        *s = if *s > 0.0 { *s / 127.0 } else { 1.0 };
    }
    let q = weights
        .chunks_exact(width)
        .flat_map(|row| {
            row.iter()
                .zip(&scale)
                .map(|(w, s)| (w / s).round().clamp(-127.0, 127.0) as i8)
        })
        .collect();
    (scale, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_found_and_nothing_else() {
        let rows: Vec<(u64, Vec<i8>)> = (1..=1000u64)
            .map(|k| (k.wrapping_mul(0x9e37_79b9_7f4a_7c15), vec![k as i8; 21]))
            .collect();
        let table = Rows::new(21, rows.iter().map(|(k, r)| (*k, r.as_slice())));
        assert_eq!(table.len(), 1000);
        for (k, r) in &rows {
            assert_eq!(table.get(*k), Some(r.as_slice()));
        }
        assert_eq!(table.get(12345), None);
        assert_eq!(table.get(EMPTY), None);
        let sorted = table.sorted();
        assert!(sorted.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(sorted.len(), 1000);
    }

    #[test]
    fn wide_rows_take_whole_lines() {
        let rows: Vec<(u64, Vec<i8>)> = (1..=50u64)
            .map(|k| (k << 40, vec![-(k as i8); 100]))
            .collect();
        let table = Rows::new(100, rows.iter().map(|(k, r)| (*k, r.as_slice())));
        for (k, r) in &rows {
            assert_eq!(table.get(*k), Some(r.as_slice()));
        }
    }

    #[test]
    fn quantised_weights_stay_within_half_a_step() {
        let weights = [0.5, -2.0, 0.0, 0.25, 1.0, 0.0];
        let (scale, q) = quantise(&weights, 3);
        assert_eq!(scale[2], 1.0);
        for (i, w) in weights.iter().enumerate() {
            let back = f32::from(q[i]) * scale[i % 3];
            assert!((back - w).abs() <= scale[i % 3] / 2.0 + 1e-6);
        }
    }
}
