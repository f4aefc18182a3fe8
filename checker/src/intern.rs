//! Interning of values to small ids, so that model states are `Copy` integers.

use rustc_hash::FxHashMap;
use std::hash::Hash;

/// Maps values to dense ids starting at 1; id 0 is left to the model's "no value" (absent, nil,
/// the empty string), so that the initial state needs no lookup.
#[derive(Debug, Clone)]
pub struct Interner<V> {
    ids: FxHashMap<V, u32>,
    values: Vec<V>,
}

impl<V: Hash + Eq + Clone> Default for Interner<V> {
    fn default() -> Self {
        Interner {
            ids: FxHashMap::default(),
            values: Vec::new(),
        }
    }
}

impl<V: Hash + Eq + Clone> Interner<V> {
    /// The id of `value`, assigning the next one if it is new.
    pub fn intern(&mut self, value: &V) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        self.values.push(value.clone());
        let id = self.values.len() as u32;
        self.ids.insert(value.clone(), id);
        id
    }

    /// The value behind a non-zero id.
    pub fn value(&self, id: u32) -> Option<&V> {
        id.checked_sub(1).and_then(|i| self.values.get(i as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_stable_and_start_at_one() {
        let mut values = Interner::default();
        assert_eq!(values.intern(&"a".to_string()), 1);
        assert_eq!(values.intern(&"b".to_string()), 2);
        assert_eq!(values.intern(&"a".to_string()), 1);
        assert_eq!(values.value(2).map(String::as_str), Some("b"));
        assert_eq!(values.value(0), None);
    }
}
