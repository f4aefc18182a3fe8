//! The model of Porcupine's Jepsen key-value histories: per-key string registers, initially the
//! empty string, with get, put and append.
//!
//! A state is one `u32`: the id of a string, so a get compares two ids. Strings are hash-consed
//! without being built: the string a put writes or a get saw is stored flat, and the string an
//! append produces is stored as (the string before, the suffix), with its length and polynomial
//! hash computed from those of its parts. Two ids name the same string only if they are the
//! same id: a new string is compared, by content, with the strings of equal hash and length
//! before it gets an id of its own. Appends memoize their results, so the search pays for each
//! (state, suffix) pair once.
//!
//! Interning is most of reading a history (every get's string is hashed), so it allocates
//! nothing per string: flat strings are copied, once each, into one buffer, and the strings of
//! one hash and length are chained through their entries rather than listed in a vector each.

use crate::model::{Explain, Model, Pending, Tokens};
use rustc_hash::FxHashMap;

/// An interned string; 0 is the empty string.
pub type Text = u32;

const EMPTY: Text = 0;

/// The base of the polynomial string hash (any odd constant; collisions only cost a compare).
const HASH_BASE: u64 = 0x0100_0000_01b3;

/// One operation on a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JepsenKvOp {
    /// A get that saw this string.
    Get(Text),
    /// A put that took effect.
    Put(Text),
    /// An append that took effect.
    Append(Text),
    /// A put of unknown outcome.
    MaybePut(Text),
    /// An append of unknown outcome.
    MaybeAppend(Text),
}

/// How a string is stored.
#[derive(Debug, Clone, Copy)]
enum Repr {
    /// At this byte offset of [`JepsenKvModel::flat_texts`] (its length is the entry's).
    Flat(usize),
    /// The string `.0` followed by the (flat) string `.1`.
    Appended(Text, Text),
}

/// A string's identity: content hash, `HASH_BASE` to the power of its length, and length.
#[derive(Debug, Clone)]
struct Stored {
    hash: u64,
    power: u64,
    len: usize,
    repr: Repr,
    /// The string of the same hash and length stored before this one, if any: the chain
    /// [`JepsenKvModel::by_hash`] starts.
    same_hash: Option<Text>,
    /// Whether a put or append writes it, for [`Explain::tokens`].
    written: bool,
}

/// The string-register model.
#[derive(Debug, Clone)]
pub struct JepsenKvModel {
    texts: Vec<Stored>,
    /// The contents of the flat strings, one after the other.
    flat_texts: String,
    /// (hash, length) -> the last string stored with that hash and length (the others are
    /// chained from it by [`Stored::same_hash`]).
    by_hash: FxHashMap<(u64, usize), Text>,
    appended: FxHashMap<(Text, Text), Text>,
    /// Per string id, for the strings gets saw: the hashes of its prefixes, by length (empty
    /// until asked for). Indexed, not hashed: the lookahead asks for every pending get in
    /// every configuration.
    prefix_hashes: Vec<Vec<u64>>,
    /// Scratch space of [`Model::may_finish`].
    scratch: Vec<Text>,
    /// The distinct lengths of the written strings, longest first.
    written_lengths: Vec<usize>,
}

impl Default for JepsenKvModel {
    fn default() -> Self {
        JepsenKvModel::with_capacity(0, 0)
    }
}

impl JepsenKvModel {
    /// A model with room for `strings` strings of `bytes` bytes in all before it reallocates:
    /// for a history read, its operations and its length, which bound those it holds.
    pub fn with_capacity(strings: usize, bytes: usize) -> Self {
        let mut texts = Vec::with_capacity(strings + 1);
        texts.push(Stored {
            hash: 0,
            power: 1,
            len: 0,
            repr: Repr::Flat(0),
            same_hash: None,
            written: false,
        });
        JepsenKvModel {
            texts,
            flat_texts: String::with_capacity(bytes),
            by_hash: FxHashMap::default(),
            appended: FxHashMap::default(),
            prefix_hashes: Vec::new(),
            scratch: Vec::new(),
            written_lengths: Vec::new(),
        }
    }

    /// The id of a string a get saw.
    pub fn seen(&mut self, text: &str) -> Text {
        self.flat(text)
    }

    /// The id of a string a put or append writes.
    pub fn written(&mut self, text: &str) -> Text {
        let id = self.flat(text);
        let stored = &mut self.texts[id as usize];
        if id != EMPTY && !stored.written {
            stored.written = true;
            if let Err(at) = self
                .written_lengths
                .binary_search_by(|len| text.len().cmp(len))
            {
                self.written_lengths.insert(at, text.len());
            }
        }
        id
    }

    /// The written strings `text` is made of, if it splits into them from left to right
    /// (longest first at each point).
    fn split_into_written(&self, text: &str) -> Option<Vec<Text>> {
        let mut pieces = Vec::new();
        let mut at = 0;
        'next: while at < text.len() {
            for &len in &self.written_lengths {
                let written = text
                    .get(at..at + len)
                    .and_then(|piece| self.find_flat(piece, hash(piece)))
                    .filter(|&id| self.texts[id as usize].written);
                if let Some(id) = written {
                    pieces.push(id);
                    at += len;
                    continue 'next;
                }
            }
            return None;
        }
        Some(pieces)
    }

    fn flat(&mut self, text: &str) -> Text {
        if text.is_empty() {
            return EMPTY;
        }
        let hash = hash(text);
        if let Some(id) = self.find_flat(text, hash) {
            return id;
        }
        let start = self.flat_texts.len();
        self.flat_texts.push_str(text);
        self.store(Stored {
            hash,
            // The same product the bytes' fold would give, in a few squarings.
            power: HASH_BASE.wrapping_pow(text.len() as u32),
            len: text.len(),
            repr: Repr::Flat(start),
            same_hash: None,
            written: false,
        })
    }

    /// The id of a stored (non-empty) string with `text`'s content, whose hash is `hash`.
    fn find_flat(&self, text: &str, hash: u64) -> Option<Text> {
        self.find(hash, text.len(), |model, id| {
            match model.texts[id as usize].repr {
                Repr::Flat(start) => model.flat_texts[start..start + text.len()] == *text,
                Repr::Appended(..) => model.text(id) == text,
            }
        })
    }

    /// The stored string of this hash and length that `same` accepts. (Every string is stored
    /// once, so at most one is.)
    fn find(&self, hash: u64, len: usize, same: impl Fn(&Self, Text) -> bool) -> Option<Text> {
        let mut candidate = self.by_hash.get(&(hash, len)).copied();
        while let Some(id) = candidate {
            if same(self, id) {
                return Some(id);
            }
            candidate = self.texts[id as usize].same_hash;
        }
        None
    }

    /// Gives a string not stored yet its id.
    fn store(&mut self, mut stored: Stored) -> Text {
        let id = self.texts.len() as Text;
        stored.same_hash = self.by_hash.insert((stored.hash, stored.len), id);
        self.texts.push(stored);
        id
    }

    /// The content of a string.
    fn text(&self, id: Text) -> String {
        let mut suffixes = Vec::new();
        let mut at = id;
        loop {
            match self.texts[at as usize].repr {
                Repr::Flat(start) => {
                    let len = self.texts[at as usize].len;
                    let mut text = String::with_capacity(self.texts[id as usize].len);
                    text.push_str(&self.flat_texts[start..start + len]);
                    for &suffix in suffixes.iter().rev() {
                        text.push_str(&self.text(suffix));
                    }
                    return text;
                }
                Repr::Appended(before, suffix) => {
                    suffixes.push(suffix);
                    at = before;
                }
            }
        }
    }

    fn append(&mut self, state: Text, suffix: Text) -> Text {
        if let Some(&next) = self.appended.get(&(state, suffix)) {
            return next;
        }
        let (before, after) = (&self.texts[state as usize], &self.texts[suffix as usize]);
        let stored = Stored {
            hash: before
                .hash
                .wrapping_mul(after.power)
                .wrapping_add(after.hash),
            power: before.power.wrapping_mul(after.power),
            len: before.len + after.len,
            repr: Repr::Appended(state, suffix),
            same_hash: None,
            written: false,
        };
        let existing = self.find(stored.hash, stored.len, |model, id| {
            model.text(id) == model.text(state) + &model.text(suffix)
        });
        let next = existing.unwrap_or_else(|| self.store(stored));
        self.appended.insert((state, suffix), next);
        next
    }

    /// Whether `prefix`'s string may be a prefix of `whole`'s: `false` only when it certainly
    /// is not (its hash differs from the hash of `whole`'s prefix of the same length).
    fn may_be_prefix(&mut self, prefix: Text, whole: Text) -> bool {
        let len = self.texts[prefix as usize].len;
        if len > self.texts[whole as usize].len {
            return false;
        }
        let hash = self.texts[prefix as usize].hash;
        let at = whole as usize;
        if self.prefix_hashes.len() <= at {
            self.prefix_hashes.resize_with(at + 1, Vec::new);
        }
        if self.prefix_hashes[at].is_empty() {
            let mut hashes = Vec::with_capacity(self.texts[at].len + 1);
            hashes.push(0u64);
            for b in self.text(whole).bytes() {
                let last = hashes[hashes.len() - 1];
                hashes.push(last.wrapping_mul(HASH_BASE).wrapping_add(u64::from(b)));
            }
            self.prefix_hashes[at] = hashes;
        }
        self.prefix_hashes[at][len] == hash
    }

    /// A string as a person reads it: quoted, and cut to its end when long (reads of appended
    /// registers differ at their ends).
    fn quoted(&self, id: Text) -> String {
        const SHOWN_CHARS: usize = 40;
        let text = self.text(id);
        let count = text.chars().count();
        if count <= SHOWN_CHARS {
            format!("{text:?}")
        } else {
            let tail: String = text.chars().skip(count - SHOWN_CHARS).collect();
            format!("\"…{}\"", tail.escape_debug())
        }
    }
}

/// The polynomial hash of a string's bytes.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0u64, |h, b| {
        h.wrapping_mul(HASH_BASE).wrapping_add(u64::from(b))
    })
}

impl Model for JepsenKvModel {
    type State = Text;
    type Op = JepsenKvOp;

    fn init(&self) -> Text {
        EMPTY
    }

    #[inline]
    fn step(&mut self, state: Text, op: &JepsenKvOp) -> Option<Text> {
        match *op {
            JepsenKvOp::Get(seen) => (state == seen).then_some(state),
            JepsenKvOp::Put(text) | JepsenKvOp::MaybePut(text) => Some(text),
            JepsenKvOp::Append(suffix) | JepsenKvOp::MaybeAppend(suffix) => {
                Some(self.append(state, suffix))
            }
        }
    }

    #[inline]
    fn is_observation(&self, op: &JepsenKvOp) -> bool {
        matches!(op, JepsenKvOp::Get(_))
    }

    /// Appends only extend a string, so a get can still complete only if the state, or what a
    /// put invoked before the get's completion writes, is a prefix of what it saw.
    fn may_finish<'a>(
        &mut self,
        state: Text,
        pending: impl Iterator<Item = Pending<'a, JepsenKvOp>>,
    ) -> bool {
        let mut puts = std::mem::take(&mut self.scratch);
        puts.clear();
        let mut possible = true;
        for event in pending {
            match event {
                Pending::Invoked(JepsenKvOp::Put(put) | JepsenKvOp::MaybePut(put)) => {
                    puts.push(*put);
                }
                Pending::Completes(JepsenKvOp::Get(seen)) => {
                    if !self.may_be_prefix(state, *seen)
                        && !puts.iter().any(|&put| self.may_be_prefix(put, *seen))
                    {
                        possible = false;
                        break;
                    }
                }
                Pending::Invoked(_) | Pending::Completes(_) => {}
            }
        }
        self.scratch = puts;
        possible
    }
}

impl Explain for JepsenKvModel {
    fn kind(&self, op: &JepsenKvOp) -> &'static str {
        match op {
            JepsenKvOp::Get(_) => "get",
            JepsenKvOp::Put(_) | JepsenKvOp::MaybePut(_) => "put",
            JepsenKvOp::Append(_) | JepsenKvOp::MaybeAppend(_) => "append",
        }
    }

    fn describe(&self, op: &JepsenKvOp) -> String {
        match *op {
            JepsenKvOp::Get(_) => "get".to_string(),
            JepsenKvOp::Put(t) | JepsenKvOp::MaybePut(t) => format!("put {}", self.quoted(t)),
            JepsenKvOp::Append(t) | JepsenKvOp::MaybeAppend(t) => {
                format!("append {}", self.quoted(t))
            }
        }
    }

    fn outcome(&self, op: &JepsenKvOp) -> String {
        match *op {
            JepsenKvOp::Get(t) => format!("ok, saw {}", self.quoted(t)),
            JepsenKvOp::Put(_) | JepsenKvOp::Append(_) => "ok".to_string(),
            JepsenKvOp::MaybePut(_) | JepsenKvOp::MaybeAppend(_) => "unknown".to_string(),
        }
    }

    fn describe_state(&self, state: Text) -> String {
        self.quoted(state)
    }

    /// A get needs the written strings what it saw is made of (Jepsen's appended values are
    /// unique tokens, so containing one means having seen its append); if it does not split
    /// into written strings, every written string it contains.
    fn tokens(&self, op: &JepsenKvOp) -> Tokens {
        match *op {
            JepsenKvOp::Get(seen) => {
                let seen_text = self.text(seen);
                let mut needed = self.split_into_written(&seen_text).unwrap_or_else(|| {
                    (0..self.texts.len() as Text)
                        .filter(|&id| {
                            self.texts[id as usize].written && seen_text.contains(&self.text(id))
                        })
                        .collect()
                });
                needed.sort_unstable();
                needed.dedup();
                Tokens {
                    produced: vec![],
                    needed,
                }
            }
            JepsenKvOp::Put(t)
            | JepsenKvOp::MaybePut(t)
            | JepsenKvOp::Append(t)
            | JepsenKvOp::MaybeAppend(t) => Tokens {
                produced: vec![t],
                needed: vec![],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_concatenate_and_gets_compare_whole_strings() {
        let mut m = JepsenKvModel::default();
        let x = m.written("x 0 0 y");
        let y = m.written("x 1 0 y");
        let xy = m.seen("x 0 0 yx 1 0 y");
        let after_x = m.step(EMPTY, &JepsenKvOp::Append(x)).unwrap();
        let after_xy = m.step(after_x, &JepsenKvOp::Append(y)).unwrap();
        assert_eq!(after_xy, xy);
        assert_eq!(m.step(after_xy, &JepsenKvOp::Get(xy)), Some(xy));
        assert_eq!(m.step(after_x, &JepsenKvOp::Get(xy)), None);
        assert_eq!(m.step(after_xy, &JepsenKvOp::Put(y)), Some(y));
        assert_eq!(m.seen(""), EMPTY);
    }

    #[test]
    fn a_get_cannot_complete_once_the_state_left_its_prefixes_unless_a_put_comes_first() {
        let mut m = JepsenKvModel::default();
        let (a, b) = (m.written("a"), m.written("b"));
        let get_ab = JepsenKvOp::Get(m.seen("ab"));
        let after_a = m.append(EMPTY, a);
        let after_b = m.append(EMPTY, b);
        let (put_a, put_b) = (JepsenKvOp::Put(a), JepsenKvOp::Put(b));
        let mut may_finish = |state, events: &[Pending<'_, JepsenKvOp>]| {
            m.may_finish(state, &mut events.iter().copied())
        };
        assert!(may_finish(after_a, &[Pending::Completes(&get_ab)]));
        assert!(!may_finish(after_b, &[Pending::Completes(&get_ab)]));
        let put_a_first = [Pending::Invoked(&put_a), Pending::Completes(&get_ab)];
        assert!(may_finish(after_b, &put_a_first));
        let put_a_after = [Pending::Completes(&get_ab), Pending::Invoked(&put_a)];
        assert!(!may_finish(after_b, &put_a_after));
        let put_b_first = [Pending::Invoked(&put_b), Pending::Completes(&get_ab)];
        assert!(!may_finish(after_b, &put_b_first));
    }

    #[test]
    fn one_string_has_one_id_however_it_was_built() {
        let mut m = JepsenKvModel::default();
        let ab = m.seen("ab");
        let (a, b, abc) = (m.written("a"), m.written("b"), m.seen("abc"));
        let c = m.written("c");
        let bc = m.written("bc");
        let after_a = m.append(EMPTY, a);
        let built_ab = m.append(after_a, b);
        assert_eq!(built_ab, ab);
        assert_eq!(m.append(built_ab, c), abc);
        assert_eq!(m.append(after_a, bc), abc);
        let after_b = m.append(EMPTY, b);
        assert_ne!(m.append(after_b, a), ab);
        assert_eq!(m.text(abc), "abc");
    }

    #[test]
    fn a_get_needs_the_appends_it_shows() {
        let mut m = JepsenKvModel::default();
        let x = m.written("x 0 0 y");
        let y = m.written("x 1 0 y");
        let _z = m.written("x 2 0 y");
        let seen = m.seen("x 1 0 yx 0 0 y");
        assert_eq!(m.tokens(&JepsenKvOp::Get(seen)).needed, vec![x, y]);
        // A string that does not split into written ones still needs those it contains.
        let odd = m.seen("?x 0 0 y!");
        assert_eq!(m.tokens(&JepsenKvOp::Get(odd)).needed, vec![x]);
    }
}
