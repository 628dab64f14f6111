//! FNV-1a, the one small hash behind every fingerprint the bot keeps: the content version in
//! logs, the corpus fingerprint a model carries, the model file's checksum and the model's
//! feature ids. One definition, so the constants cannot drift apart between them; a change
//! here changes every model file and version string, which tests/train.rs would catch.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// A running FNV-1a hash. Not for anything an attacker chooses to collide: it guards against
/// damage and mix-ups, and spreads feature ids, nothing more.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    /// The standard starting point, so every hash here is plain FNV-1a.
    pub(crate) fn new() -> Self {
        Fnv1a(OFFSET)
    }

    /// Fold in one value: a byte, or a whole 64-bit word where speed over a large file matters
    /// more than byte-wise FNV.
    #[inline]
    pub(crate) fn mix(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(PRIME);
    }

    /// Fold in bytes, one at a time.
    #[inline]
    pub(crate) fn bytes(&mut self, bytes: impl IntoIterator<Item = u8>) {
        for b in bytes {
            self.mix(u64::from(b));
        }
    }

    /// Fold in bytes eight at a time, each 64-bit word as one value: a large file (a model,
    /// 90 MB of weights) in a fraction of byte-wise FNV's time. The last word is zero-padded.
    pub(crate) fn words(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    /// Fold in a string and a zero after it, so ("ab", "c") and ("a", "bc") differ.
    pub(crate) fn field(&mut self, text: &str) {
        self.bytes(text.bytes().chain(std::iter::once(0)));
    }

    /// The hash so far.
    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// FNV-1a of a byte slice in one call.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::new();
    h.bytes(bytes.iter().copied());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
