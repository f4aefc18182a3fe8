//! The checker's own ring oracle: which nodes must hold a key, written from the specification
//! (design.md, "The original grader, reproduced") and deliberately not shared with `node`, so a
//! bug in the node's ring cannot hide itself from the checks that use this one.
//!
//! Positions are libstdc++'s `std::hash<std::string>` modulo 512: `_Hash_bytes`, the
//! MurmurHash64A variant with seed `0xc70f6907`. A node's position hashes the single byte of
//! its id. A key's replicas are the first node at or after the key's position and the next
//! ones around the ring; ties at one position are ordered by node id.

use crate::record::NodeId;

/// Positions on the ring.
pub const RING_SIZE: u64 = 512;

const MUL: u64 = 0xc6a4_a793_5bd1_e995;
const SEED: u64 = 0xc70f_6907;

fn shift_mix(v: u64) -> u64 {
    v ^ (v >> 47)
}

/// libstdc++'s `_Hash_bytes(bytes, len, 0xc70f6907)` on a 64-bit target.
pub fn std_hash(bytes: &[u8]) -> u64 {
    let mut hash = SEED ^ (bytes.len() as u64).wrapping_mul(MUL);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("chunks_exact gives 8 bytes"));
        hash ^= shift_mix(w.wrapping_mul(MUL)).wrapping_mul(MUL);
        hash = hash.wrapping_mul(MUL);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let packed = tail
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        hash ^= packed;
        hash = hash.wrapping_mul(MUL);
    }
    shift_mix(shift_mix(hash).wrapping_mul(MUL))
}

/// A key's position on the ring.
pub fn key_position(key: &str) -> u64 {
    std_hash(key.as_bytes()) % RING_SIZE
}

/// A node's position on the ring: the hash of the single byte of its id.
pub fn node_position(node: NodeId) -> u64 {
    std_hash(&[node]) % RING_SIZE
}

/// The `count` nodes of `members` that must hold `key`, in ring order starting at the key's
/// primary; empty when there are fewer than `count` distinct members.
pub fn replicas(key: &str, members: &[NodeId], count: usize) -> Vec<NodeId> {
    let mut ring: Vec<(u64, NodeId)> = members.iter().map(|&n| (node_position(n), n)).collect();
    ring.sort_unstable();
    ring.dedup();
    if ring.len() < count || count == 0 {
        return Vec::new();
    }
    let position = key_position(key);
    let first = ring.iter().position(|&(p, _)| p >= position).unwrap_or(0);
    (0..count)
        .map(|i| ring[(first + i) % ring.len()].1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_positions_match_the_original_grader() {
        let positions: Vec<u64> = (1..=10).map(node_position).collect();
        assert_eq!(positions, vec![73, 99, 368, 53, 67, 0, 413, 494, 272, 240]);
    }

    #[test]
    fn key_positions_match_the_original_grader() {
        assert_eq!(key_position("invalidKey"), 33);
        assert_eq!(key_position("abcde"), 305);
        assert_eq!(key_position("00000"), 179);
        assert_eq!(key_position("ZZZZZ"), 247);
    }

    #[test]
    fn long_keys_hash_like_libstdcxx() {
        // Values printed by `std::hash<std::string>` of g++ on x86-64 Linux: one whole word,
        // a word and a tail, and several words and a tail.
        assert_eq!(std_hash(b"abcdefgh"), 8_664_279_048_047_335_611);
        assert_eq!(std_hash(b"abcdefghijk"), 3_672_398_144_843_267_301);
        assert_eq!(key_position("key-000017"), 105);
        assert_eq!(key_position("a much longer key with spaces"), 348);
    }

    #[test]
    fn replicas_start_at_the_first_node_at_or_after_the_key_and_wrap() {
        let members: Vec<NodeId> = (1..=10).collect();
        // Ring order: 6@0 4@53 5@67 1@73 2@99 10@240 9@272 3@368 7@413 8@494.
        assert_eq!(replicas("invalidKey", &members, 3), vec![4, 5, 1]); // 33
        assert_eq!(replicas("abcde", &members, 3), vec![3, 7, 8]); // 305
        assert_eq!(replicas("ZZZZZ", &members, 3), vec![9, 3, 7]); // 247
                                                                   // Ring order 6@0 1@73 2@99 8@494: from 305 the first is 8, then wrap to 6 and 1.
        assert_eq!(replicas("abcde", &[1, 2, 6, 8], 3), vec![8, 6, 1]);
    }

    #[test]
    fn fewer_members_than_replicas_name_no_replicas() {
        assert!(replicas("abcde", &[1, 2], 3).is_empty());
        assert!(replicas("abcde", &[1, 1, 2], 3).is_empty());
    }

    #[test]
    fn ties_at_one_position_are_ordered_by_node_id() {
        // Nodes 8 and 34 both sit at 494 (design.md).
        assert_eq!(node_position(8), node_position(34));
        assert_eq!(replicas("abcde", &[34, 8, 6, 1], 3), vec![8, 34, 6]);
    }
}
