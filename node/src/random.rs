//! Integer-only draws from a caller-supplied random stream.
//!
//! Sampling is written here rather than taken from `rand` so that a crate upgrade cannot change
//! which numbers a seed produces, and so no floating point enters a draw (design.md, pitfalls).

use rand_core::RngCore;

/// A uniform draw in `0..n` (Lemire's multiply-and-reject; unbiased). `n` must be positive.
///
/// The rejection threshold `2^64 mod n` is below `n`, so a product whose low word is at least
/// `n` is accepted without computing it: the division runs only on the rare draws that might
/// be rejected, and every draw returns what the plain loop returns.
pub fn below<R: RngCore + ?Sized>(rng: &mut R, n: u64) -> u64 {
    assert!(n > 0, "below(0) has no value to draw");
    let mut product = u128::from(rng.next_u64()) * u128::from(n);
    if (product as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (product as u64) < threshold {
            product = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (product >> 64) as u64
}

/// A uniform draw in `lo..=hi`.
pub fn between<R: RngCore + ?Sized>(rng: &mut R, lo: u64, hi: u64) -> u64 {
    assert!(lo <= hi, "between({lo}, {hi}) is empty");
    lo + below(rng, hi - lo + 1)
}

/// `true` with probability `per_million / 1_000_000`.
pub fn chance_ppm<R: RngCore + ?Sized>(rng: &mut R, per_million: u32) -> bool {
    per_million > 0 && below(rng, 1_000_000) < u64::from(per_million)
}

/// Keeps `count` distinct items of `items`, chosen uniformly, in draw order (partial
/// Fisher-Yates in place; the caller passes a scratch copy).
pub fn choose_distinct<R: RngCore + ?Sized, T>(rng: &mut R, items: &mut Vec<T>, count: usize) {
    let take = count.min(items.len());
    for i in 0..take {
        let j = i + below(rng, (items.len() - i) as u64) as usize;
        items.swap(i, j);
    }
    items.truncate(take);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[below(&mut rng, 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    /// Hands out fixed words, to reach the rejection step, which real streams almost never do.
    struct Words(Vec<u64>);

    impl RngCore for Words {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0.remove(0)
        }
        fn fill_bytes(&mut self, _: &mut [u8]) {
            unreachable!("below draws whole words")
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand_core::Error> {
            unreachable!("below draws whole words")
        }
    }

    #[test]
    fn below_rejects_exactly_the_biased_low_words() {
        // n = 3: 2^64 mod 3 = 1, so only a product whose low word is 0 is rejected.
        let mut rng = Words(vec![0, u64::MAX]);
        assert_eq!(
            below(&mut rng, 3),
            2,
            "word 0 is rejected, the next one answers"
        );
        assert!(rng.0.is_empty());
        // A low word of 2 is below n but not below the threshold: accepted at once.
        let one_third_up = u64::MAX / 3 + 1; // * 3 = 2^64 + 2
        let mut rng = Words(vec![one_third_up, 7]);
        assert_eq!(below(&mut rng, 3), 1);
        assert_eq!(rng.0, [7]);
    }

    #[test]
    fn choose_distinct_gives_distinct_items() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut out = vec![1, 2, 3, 4, 5];
        choose_distinct(&mut rng, &mut out, 3);
        let mut sorted = out.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 3);
        let mut short = vec![1, 2];
        choose_distinct(&mut rng, &mut short, 3);
        assert_eq!(short.len(), 2);
    }
}
