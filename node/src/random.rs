//! Integer-only draws from a caller-supplied random stream.
//!
//! Sampling is written here rather than taken from `rand` so that a crate upgrade cannot change
//! which numbers a seed produces, and so no floating point enters a draw (design.md, pitfalls).

use rand_core::RngCore;

/// Draws [`below`] may reject in a row before it gives up. A draw is rejected with probability
/// `(2^64 mod n) / 2^64`: less than 1/2 for every `n`, and less than `n / 2^64` (under 2^-32 for
/// every count this project draws), so 64 rejections in a row happen with probability under
/// 2^-64: never, for a correct rejection test. A wrong test (one that accepts too little)
/// rejects nearly every draw; the bound turns its endless loop into a failure that names itself.
const REJECTIONS_MAX: u32 = 64;

/// A uniform draw in `0..n` (Lemire's multiply-and-reject; unbiased). `n` must be positive.
pub fn below<R: RngCore + ?Sized>(rng: &mut R, n: u64) -> u64 {
    assert!(n > 0, "below(0) has no value to draw");
    let threshold = n.wrapping_neg() % n;
    for _ in 0..REJECTIONS_MAX {
        let product = u128::from(rng.next_u64()) * u128::from(n);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
    panic!("below({n}): {REJECTIONS_MAX} draws in a row rejected: the rejection test is wrong");
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
