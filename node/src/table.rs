//! A heartbeat table as gossip and join replies carry it, with its fingerprint.
//!
//! A table is built once per tick and shared by every message that carries it (its fanout
//! sends, a probe). Whoever hashes messages (the simulator folds every send into its trace hash)
//! would otherwise walk every entry of every copy: three words per entry, a fan-out's worth of
//! times, which was an eighth of a fuzz run. The fingerprint is computed once, when the table is
//! built, and a message's hash takes that one word for the whole table.

use crate::message::Digest;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::rc::Rc;

/// The multiplier of the fold (FxHash's, as the simulator's trace hash uses).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// An immutable heartbeat table: entries in view order and a fingerprint of them.
///
/// Equality compares the entries; [`Hash`] writes only the fingerprint, which is a fixed,
/// platform-independent function of the entries (see [`Table::fingerprint`]), so equal tables
/// hash alike on every machine.
#[derive(Debug, Clone)]
pub struct Table {
    entries: Rc<[Digest]>,
    fingerprint: u64,
}

impl Table {
    /// A table of `entries`, fingerprinted.
    pub fn new(entries: &[Digest]) -> Table {
        Table {
            entries: Rc::from(entries),
            fingerprint: fingerprint(entries),
        }
    }

    /// A fold of the entries into 64 bits: the length, then per entry one word of
    /// `id << 32 | incarnation` and one of the heartbeat, in two lanes (ids and incarnations in
    /// one, heartbeats in the other) so that the two multiply chains run side by side, joined at
    /// the end. Each lane steps `h = (h.rotl(5) ^ word) * K`.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}

fn fingerprint(entries: &[Digest]) -> u64 {
    let step = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let (mut who, mut beats) = (step(0, entries.len() as u64), 0u64);
    for d in entries {
        who = step(who, (u64::from(d.id.0) << 32) | u64::from(d.incarnation));
        beats = step(beats, d.heartbeat);
    }
    step(who, beats)
}

impl Deref for Table {
    type Target = [Digest];

    fn deref(&self) -> &[Digest] {
        &self.entries
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Table) -> bool {
        self.fingerprint == other.fingerprint && self.entries == other.entries
    }
}

impl Eq for Table {}

impl Hash for Table {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint);
    }
}

impl From<Vec<Digest>> for Table {
    fn from(entries: Vec<Digest>) -> Table {
        Table::new(&entries)
    }
}

impl From<&[Digest]> for Table {
    fn from(entries: &[Digest]) -> Table {
        Table::new(entries)
    }
}

/// On the wire a table is its entries (the same bytes as a plain sequence of them); the
/// fingerprint is recomputed on arrival, never trusted from a peer.
impl Serialize for Table {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Table, D::Error> {
        Vec::<Digest>::deserialize(deserializer).map(Table::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NodeId;

    fn digest(id: u8, incarnation: u32, heartbeat: u64) -> Digest {
        Digest {
            id: NodeId(id),
            incarnation,
            heartbeat,
        }
    }

    #[test]
    fn the_fingerprint_tells_entries_order_and_length_apart() {
        let a = [digest(1, 0, 7), digest(2, 1, 3)];
        let base = Table::new(&a).fingerprint();
        assert_eq!(
            base,
            Table::new(&a).fingerprint(),
            "a function of the entries"
        );
        let others = [
            Table::new(&[digest(2, 1, 3), digest(1, 0, 7)]),
            Table::new(&[digest(1, 0, 7), digest(2, 1, 4)]),
            Table::new(&[digest(1, 0, 7), digest(2, 0, 3)]),
            Table::new(&[digest(1, 0, 7), digest(3, 1, 3)]),
            Table::new(&a[..1]),
            Table::new(&[]),
        ];
        for other in &others {
            assert_ne!(base, other.fingerprint(), "{other:?}");
            assert_ne!(Table::new(&a), *other);
        }
    }

    #[test]
    fn a_fixed_table_has_a_fixed_fingerprint_on_every_platform() {
        // The fold is specified, so the simulator's trace hashes do not depend on the machine:
        // the figure is the fold computed by hand (in Python, on 64-bit wrapping integers).
        assert_eq!(
            Table::new(&[digest(3, 1, 700), digest(5, 0, 12)]).fingerprint(),
            FIXED
        );
    }

    const FIXED: u64 = 3_468_935_181_943_657_151;

    /// Keeps every word written to it.
    #[derive(Default)]
    struct Words(Vec<u64>);

    impl Hasher for Words {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, _: &[u8]) {
            unreachable!("a table writes whole words");
        }
        fn write_u64(&mut self, word: u64) {
            self.0.push(word);
        }
    }

    #[test]
    fn a_table_hashes_as_its_fingerprint_alone() {
        let table = Table::new(&[digest(3, 1, 700), digest(5, 0, 12)]);
        let mut words = Words::default();
        table.hash(&mut words);
        assert_eq!(words.0, [table.fingerprint()]);
    }
}
