//! The trace hash: a specified, platform-independent 64-bit hash.
//!
//! It is the FxHash step of rustc (`h = (h.rotl(5) ^ word) * 0x517cc1b727220a95`) applied to
//! 64-bit little-endian words, with lengths and `usize` values widened to 64 bits, so the same
//! events give the same hash on every machine, pointer width and build profile. It is not
//! `DefaultHasher`, whose algorithm may change between Rust releases.

use std::hash::Hasher;

const K: u64 = 0x517c_c1b7_2722_0a95;

/// A deterministic [`Hasher`] for trace events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceHasher {
    hash: u64,
}

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher {
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl TraceHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        self.hash
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.add(u64::from_le_bytes(word) ^ ((tail.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.add(i as i64 as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut h = TraceHasher::default();
        value.hash(&mut h);
        h.finish()
    }

    #[test]
    fn pinned_values_do_not_drift() {
        // Pinned so that an accidental change of the algorithm shows up as a test failure.
        assert_eq!(hash_of(&42u64), 0xf10a79c46842478f);
        let mut h = TraceHasher::default();
        h.write_u64(1);
        let one = h.finish();
        assert_eq!(
            one,
            (0xcbf2_9ce4_8422_2325_u64.rotate_left(5) ^ 1).wrapping_mul(K)
        );
    }

    #[test]
    fn strings_of_different_lengths_differ() {
        assert_ne!(hash_of(&"ab"), hash_of(&"ab\0"));
        assert_ne!(hash_of(&"abcdefgh"), hash_of(&"abcdefgi"));
    }
}
