//! The search's memory of configurations already explored: (linearized set, model state).
//!
//! An open-addressing table over flat arrays: the sets' words live side by side in one vector,
//! so an insertion allocates nothing but the occasional growth, and a probe compares a stored
//! hash before it touches any words. The caller supplies the hash (an incrementally maintained
//! Zobrist hash of the set, mixed with the state's hash), so a probe never rehashes the set.

use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};

const EMPTY_SLOT: u32 = 0;

/// The set of configurations seen.
pub(crate) struct Memo<S> {
    words: usize,
    /// Entry index + 1 per slot, `EMPTY_SLOT` when free; the length is a power of two.
    slots: Vec<u32>,
    shift: u32,
    hashes: Vec<u64>,
    states: Vec<S>,
    bits: Vec<u64>,
}

impl<S: Copy + Eq + Hash> Memo<S> {
    /// An empty table for sets of `words` 64-bit words.
    pub fn new(words: usize) -> Memo<S> {
        const INITIAL_SLOTS_LOG2: u32 = 10;
        Memo {
            words,
            slots: vec![EMPTY_SLOT; 1 << INITIAL_SLOTS_LOG2],
            shift: 64 - INITIAL_SLOTS_LOG2,
            hashes: Vec::new(),
            states: Vec::new(),
            bits: Vec::new(),
        }
    }

    /// The hash of a configuration, from the Zobrist hash of its set and its state.
    #[inline]
    pub fn hash(set_hash: u64, state: &S) -> u64 {
        let mut hasher = FxHasher::default();
        state.hash(&mut hasher);
        (set_hash ^ hasher.finish()).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// Records the configuration; `false` if it was already there.
    #[inline]
    pub fn insert(&mut self, set: &[u64], hash: u64, state: S) -> bool {
        debug_assert_eq!(set.len(), self.words);
        if (self.hashes.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut slot = (hash >> self.shift) as usize;
        loop {
            let entry = self.slots[slot];
            if entry == EMPTY_SLOT {
                self.slots[slot] = self.hashes.len() as u32 + 1;
                self.hashes.push(hash);
                self.states.push(state);
                self.bits.extend_from_slice(set);
                return true;
            }
            let e = (entry - 1) as usize;
            if self.hashes[e] == hash
                && self.states[e] == state
                && self.bits[e * self.words..(e + 1) * self.words] == *set
            {
                return false;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let slots = self.slots.len() * 2;
        self.slots = vec![EMPTY_SLOT; slots];
        self.shift -= 1;
        let mask = slots - 1;
        for (e, &hash) in self.hashes.iter().enumerate() {
            let mut slot = (hash >> self.shift) as usize;
            while self.slots[slot] != EMPTY_SLOT {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = e as u32 + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_exact_configurations_across_growth() {
        let mut memo: Memo<u32> = Memo::new(2);
        // Deliberately colliding hashes: equality must still compare sets and states.
        for i in 0..1000u64 {
            assert!(memo.insert(&[i, !i], i % 7, (i % 3) as u32));
        }
        for i in 0..1000u64 {
            assert!(!memo.insert(&[i, !i], i % 7, (i % 3) as u32));
            assert!(memo.insert(&[i, i], i % 7, (i % 3) as u32));
        }
    }
}
