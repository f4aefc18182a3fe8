//! Node identities and the addresses the original course program printed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node id. The original program used ids 1..=10 and addresses `<id>.0.0.0:0`; ring positions
/// hash the single byte of the id, so an id is one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u8);

impl NodeId {
    /// The address the original logs print, e.g. `3.0.0.0:0`.
    pub fn address(self) -> Address {
        Address(self)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Displays a node id as the original program's address, `<id>.0.0.0:0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address(pub NodeId);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.0.0.0:0", (self.0).0)
    }
}

/// Virtual time in ticks.
pub type Tick = u64;

/// Identifies a client operation across the whole run (chosen by the driver).
pub type OpId = u64;

/// A membership incarnation: 0 at first start, one more at every restart.
pub type Incarnation = u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_the_original_format() {
        assert_eq!(NodeId(3).address().to_string(), "3.0.0.0:0");
        assert_eq!(NodeId(10).address().to_string(), "10.0.0.0:0");
    }
}
