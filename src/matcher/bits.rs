//! Sets of small numbers (parts, patterns) as bits in `u64` words: clearing one per message
//! costs a few words, not a list to sort and deduplicate.

/// Add `i`; true if it was not there yet.
pub(super) fn set(words: &mut [u64], i: usize) -> bool {
    let (word, bit) = (i / 64, 1u64 << (i % 64));
    let new = words[word] & bit == 0;
    words[word] |= bit;
    new
}

/// True if `i` is there.
pub(super) fn has(words: &[u64], i: usize) -> bool {
    words[i / 64] & (1u64 << (i % 64)) != 0
}

/// Every number there, smallest first.
pub(super) fn ones(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(word, &bits)| {
        std::iter::successors((bits != 0).then_some(bits), |&b| {
            let rest = b & (b - 1);
            (rest != 0).then_some(rest)
        })
        .map(move |b| word * 64 + b.trailing_zeros() as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bit_set_holds_each_number_once_and_lists_them_in_order() {
        let mut words = vec![0u64; 3];
        assert!(set(&mut words, 130));
        assert!(set(&mut words, 5));
        assert!(!set(&mut words, 5), "already there");
        assert!(has(&words, 130) && has(&words, 5) && !has(&words, 64));
        assert_eq!(ones(&words).collect::<Vec<_>>(), vec![5, 130]);
    }
}
