//! The line of a field in YAML text, for errors found after deserialization (a quorum above
//! the replica count is only wrong next to another field).
//!
//! The YAML parser itself finds it: the text is deserialized once more by a visitor that
//! follows the field's path and fails on purpose when it reaches the field's key (or list
//! element); `serde_yaml` stamps that error with the position of what it was reading. This
//! follows the parser's own view of the document, so flow style (`{a: 1}`), comments, quoting
//! and odd indentation cannot mislead it the way a line scanner could be misled.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `scenario.faults[3].from[0]` as steps; `None` if it is not such a path.
fn steps(path: &str) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if name.is_empty() {
            return None;
        }
        out.push(Step::Key(name.to_string()));
        while let Some(inner) = rest.strip_prefix('[') {
            let (index, after) = inner.split_once(']')?;
            out.push(Step::Index(index.parse().ok()?));
            rest = after;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// The error the walker raises where the field is; any other error is the text's own.
const FOUND: &str = "\u{0}found the field";

/// The 1-based line of `path` in `text`, or of the nearest enclosing field that is there (a
/// missing field is reported where its parent is); 1 when nothing is found.
pub fn line_of(text: &str, path: &str) -> usize {
    let Some(mut steps) = steps(path) else {
        return 1;
    };
    while !steps.is_empty() {
        let walker = Walker { rest: &steps };
        if let Err(e) = walker.deserialize(serde_yaml::Deserializer::from_str(text)) {
            if e.to_string().contains(FOUND) {
                if let Some(location) = e.location() {
                    return location.line();
                }
            }
        }
        steps.pop();
    }
    1
}

/// Follows `rest` into the document; fails with [`FOUND`] at the last step.
struct Walker<'a> {
    rest: &'a [Step],
}

impl<'de> DeserializeSeed<'de> for Walker<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walker<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let target = match self.rest.first() {
            Some(Step::Index(i)) => Some(*i),
            _ => None,
        };
        let mut index = 0;
        loop {
            let more = if Some(index) == target {
                let found = self.rest.len() == 1;
                seq.next_element_seed(Element {
                    rest: &self.rest[1..],
                    found,
                })?
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if more.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let target = match self.rest.first() {
            Some(Step::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        while let Some(matched) = map.next_key_seed(Key {
            target,
            found: self.rest.len() == 1,
        })? {
            if matched {
                map.next_value_seed(Walker {
                    rest: &self.rest[1..],
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A list element on the path: the field itself (`found`) or a step on the way.
struct Element<'a> {
    rest: &'a [Step],
    found: bool,
}

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.found {
            // Raised inside the element's own deserialization, so it carries its position.
            deserializer.deserialize_any(Found)
        } else {
            Walker { rest: self.rest }.deserialize(deserializer)
        }
    }
}

/// Fails with [`FOUND`] on whatever value it is given.
struct Found;

impl<'de> Visitor<'de> for Found {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the field")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

/// A map key: whether it is the path's next step; fails with [`FOUND`] when that step is the
/// field itself, so the error carries the key's position.
struct Key<'a> {
    target: Option<&'a str>,
    found: bool,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        let matched = self.target == Some(key);
        if matched && self.found {
            return Err(E::custom(FOUND));
        }
        Ok(matched)
    }

    // Keys that are not strings (numbers, lists) are never on a field path.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
format: 1
scenario:
  nodes: 5   # a comment
  params: {quorum: 2,
    replicas: 3}
  faults:
  - kind: crash
    at: 3
  - kind: partition
    from:
    - 1
    - 2
";

    #[test]
    fn finds_keys_list_elements_and_flow_style() {
        assert_eq!(line_of(TEXT, "format"), 1);
        assert_eq!(line_of(TEXT, "scenario.nodes"), 3);
        assert_eq!(line_of(TEXT, "scenario.params.quorum"), 4);
        assert_eq!(line_of(TEXT, "scenario.params.replicas"), 5);
        assert_eq!(line_of(TEXT, "scenario.faults[0].at"), 8);
        assert_eq!(line_of(TEXT, "scenario.faults[1]"), 9);
        assert_eq!(line_of(TEXT, "scenario.faults[1].from[1]"), 12);
    }

    #[test]
    fn a_missing_field_is_reported_at_its_parent() {
        assert_eq!(line_of(TEXT, "scenario.params.tfail_ticks"), 4);
        assert_eq!(line_of(TEXT, "scenario.faults[7].at"), 6);
        assert_eq!(line_of(TEXT, "nowhere"), 1);
        assert_eq!(line_of("not: [valid", "not"), 1);
    }
}
