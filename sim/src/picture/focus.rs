//! Where a picture looks first: the operations, key and moment of the first violation.
//!
//! This is the one place that reads the checker's verdict for the picture. The operations and
//! the key come from the violation's data; the moment is the last `tick N` its details mention,
//! the one fact a violation does not carry as data yet.

use crate::judge::Found;
use checker::properties::Property;
use checker::record::{Operation, Tick};
use serde::Serialize;

/// The first violation, as the picture shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Focus {
    /// The violated property.
    pub property: String,
    /// Its signature.
    pub signature: String,
    /// The checker's details, for a person.
    pub details: String,
    /// The operations the violation is about (the witness), in id order.
    pub ops: Vec<u64>,
    /// The key it is about, if one.
    pub key: Option<String>,
    /// The tick from which the violation is certain.
    pub tick: Tick,
}

/// The last `tick N` the details mention.
fn last_tick(details: &str) -> Option<Tick> {
    details
        .rsplit("tick ")
        .next()
        .filter(|_| details.contains("tick "))
        .and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
}

/// Where the picture of a run whose first violation is `found` looks first. `end` is the run's
/// last tick (properties judged at the end are certain only there).
pub fn focus(found: &Found, history: &[Operation], end: Tick) -> Focus {
    let mut ops = found.ops.clone();
    ops.sort_unstable();
    ops.dedup();
    let key = found.key.clone().or_else(|| {
        let first = ops.first()?;
        let op = history.iter().find(|o| o.id == *first)?;
        Some(op.input.key().to_string())
    });
    let tick = match found.property {
        // Certain once the last witness operation has answered (or, if open, been invoked).
        Property::Linearizable => history
            .iter()
            .filter(|o| ops.contains(&o.id))
            .map(|o| o.complete.unwrap_or(o.invoke).tick)
            .max(),
        Property::Stabilization | Property::Convergence | Property::Progress => None,
        _ => last_tick(&found.details),
    }
    .unwrap_or(end)
    .min(end);
    Focus {
        property: found.property.name().to_string(),
        signature: found.signature.clone(),
        details: found.details.clone(),
        ops,
        key,
        tick,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checker::properties::{Class, Misplacement, OpKind};

    fn found(
        property: Property,
        class: Class,
        key: Option<&str>,
        ops: &[u64],
        details: &str,
    ) -> Found {
        Found {
            property,
            class,
            signature: String::new(),
            key: key.map(str::to_string),
            ops: ops.to_vec(),
            details: details.to_string(),
        }
    }

    #[test]
    fn quorum_violations_give_their_operation_key_and_tick() {
        let f = focus(
            &found(
                Property::Quorum,
                Class::UnderQuorum(OpKind::Create),
                Some("k0"),
                &[4],
                "op 4 (create \"k0\", coordinator 2, ok at tick 39): 1 of the 2 acks",
            ),
            &[],
            100,
        );
        assert_eq!((f.ops, f.key.as_deref(), f.tick), (vec![4], Some("k0"), 39));
    }

    #[test]
    fn end_of_run_properties_are_certain_at_the_end() {
        let f = focus(
            &found(
                Property::Stabilization,
                Class::Stabilization(Misplacement::MissingOnReplica),
                Some("k0"),
                &[],
                "key \"k0\" (replicas [4, 1, 2], newest state \"c0v9\"): replica 4 does not hold it at tick 90",
            ),
            &[],
            105,
        );
        assert_eq!(
            (f.ops.len(), f.key.as_deref(), f.tick),
            (0, Some("k0"), 105)
        );
    }

    #[test]
    fn membership_violations_have_no_key() {
        let f = focus(
            &found(
                Property::MembershipCompleteness,
                Class::CrashedStillInView,
                None,
                &[],
                "node 1 crashed at tick 79, but node 2 still had it at tick 145, 66 ticks later",
            ),
            &[],
            500,
        );
        assert_eq!((f.key, f.tick), (None, 145));
    }
}
