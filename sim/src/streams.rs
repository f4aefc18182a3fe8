//! Random streams: one ChaCha stream per consumer, all derived from the run's root seed.
//!
//! Each consumer gets the root seed's ChaCha8 key with its own stream number, so a change in how
//! much one consumer draws never reshuffles what another one draws.

use node::NodeId;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Who draws from a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// The network model (loss, delay, duplication).
    Network,
    /// The fault schedule generator.
    Faults,
    /// The workload's own choices (the final reads' coordinators).
    Workload,
    /// The network's draws for messages on one directed link.
    Link(NodeId, NodeId),
    /// One client's operations, keys, values, coordinators and think times: a stream per client,
    /// so that shrinking one client's work does not reshuffle every other client's.
    Client(u32),
    /// A scenario script (the grader's random choices).
    Scenario,
    /// One node's protocol randomness (per incarnation: a restart draws a fresh stream).
    Node(NodeId, u32),
    /// The swarm's choice of protocol options (the gossip interval): a stream of its own, so
    /// that drawing them left every other draw of a seed, and so every run that keeps the
    /// original protocol, as it was before they existed.
    Protocol,
}

impl Consumer {
    fn stream_number(self) -> u64 {
        match self {
            Consumer::Network => 1,
            Consumer::Faults => 2,
            Consumer::Workload => 3,
            Consumer::Scenario => 4,
            Consumer::Protocol => 5,
            Consumer::Client(i) => (2 << 32) | u64::from(i),
            Consumer::Link(from, to) => (3 << 32) | (u64::from(from.0) << 8) | u64::from(to.0),
            Consumer::Node(id, incarnation) => {
                (1 << 32) | (u64::from(incarnation) << 8) | u64::from(id.0)
            }
        }
    }
}

/// The stream of `consumer` in the run with root seed `seed`.
pub fn stream(seed: u64, consumer: Consumer) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(consumer.stream_number());
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::RngCore;

    #[test]
    fn consumers_get_different_streams_and_seeds_replay() {
        let a = stream(7, Consumer::Network).next_u64();
        let b = stream(7, Consumer::Workload).next_u64();
        let c = stream(7, Consumer::Node(NodeId(1), 0)).next_u64();
        let d = stream(7, Consumer::Node(NodeId(1), 1)).next_u64();
        assert!(a != b && b != c && c != d && a != c);
        assert_eq!(a, stream(7, Consumer::Network).next_u64());
        assert_ne!(a, stream(8, Consumer::Network).next_u64());
    }
}
