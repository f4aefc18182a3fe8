//! Integer-only draws from a caller-supplied random stream.
//!
//! Sampling is written here rather than taken from `rand` so that a crate upgrade cannot change
//! which numbers a seed produces, and so no floating point enters a draw (design.md, pitfalls).

use rand_core::RngCore;

/// A draw in `0..n`: the high word of a random word times `n` (Lemire's multiply-shift, without
/// the rejection step). Each value has `floor(2^64 / n)` or `ceil(2^64 / n)` of the `2^64` words,
/// so its probability is within `2^-64` of `1 / n`: a bias no run of any length can show, for
/// one multiplication, no division and no loop. It returns what the rejection loop returned
/// except on the words that loop rejected (`2^64 mod n` of them, under `2^-44` of all words for
/// every count drawn here), so no seed's run changed with it. `n` must be positive.
/// The draws are inlined: the network makes three for every message sent.
#[inline]
pub fn below<R: RngCore + ?Sized>(rng: &mut R, n: u64) -> u64 {
    assert!(n > 0, "below(0) has no value to draw");
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// A uniform draw in `lo..=hi`.
#[inline]
pub fn between<R: RngCore + ?Sized>(rng: &mut R, lo: u64, hi: u64) -> u64 {
    assert!(lo <= hi, "between({lo}, {hi}) is empty");
    lo + below(rng, hi - lo + 1)
}

/// `true` with probability `per_million / 1_000_000`.
#[inline]
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

    /// Hands out fixed words, to pin where each word of the stream lands.
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
    fn below_splits_the_words_into_n_equal_runs_in_order() {
        // n = 3: value k starts at the first word w with 3w >= k * 2^64.
        let start = |k: u128| ((k << 64).div_ceil(3)) as u64;
        let (one, two) = (start(1), start(2));
        let words = vec![0, one - 1, one, two - 1, two, u64::MAX];
        let mut rng = Words(words);
        let drawn: Vec<u64> = (0..6).map(|_| below(&mut rng, 3)).collect();
        assert_eq!(drawn, [0, 0, 1, 1, 2, 2]);
        assert_eq!(below(&mut Words(vec![u64::MAX]), 1), 0);
        assert_eq!(below(&mut Words(vec![u64::MAX]), u64::MAX), u64::MAX - 1);
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
