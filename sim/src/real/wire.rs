//! The wire encoding of everything a real-network process sends: one datagram, one [`Packet`].
//!
//! A datagram is a version byte ([`WIRE_VERSION`]) followed by the packet in postcard. Postcard
//! because its wire format is specified and stable across its 1.x releases (a node built
//! yesterday decodes what one built today sends), it is compact (varints, no field names: a
//! gossip of 5 members is under 60 bytes), it decodes from a borrowed slice without trusting
//! length prefixes beyond the bytes present, and it needs no schema beside the serde derives the
//! node's types already have. JSON would have been readable in `tcpdump` but four times larger
//! and would need a cap on nesting; bincode 1.x is similar but no longer developed.
//!
//! Nothing here panics on input: a datagram that is empty, has another version byte, does not
//! decode, or is longer than [`MAX_DATAGRAM_BYTES`] is a [`Refused`] that the receiver counts and
//! drops.

use node::{ClientReply, Message, NodeId, Request};
use serde::{Deserialize, Serialize};

/// The first byte of every datagram. Bump it whenever [`Packet`] or a node message changes
/// shape: a process of another version then counts the datagram as foreign instead of
/// misreading it.
pub const WIRE_VERSION: u8 = 1;

/// The largest datagram a process sends or accepts, version byte included. Loopback carries
/// up to 64 KiB; half of that leaves room for the largest hand-over of the small key spaces a
/// local cluster holds, and bounds what a stranger can make a node decode.
pub const MAX_DATAGRAM_BYTES: usize = 32 * 1024;

/// One datagram's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Packet {
    /// A node's protocol message to another node.
    Peer {
        /// The sending node (checked against the datagram's source address).
        from: NodeId,
        /// The message, exactly as the node's step function produced it.
        message: Message,
    },
    /// A client asks the receiving node to coordinate one operation.
    Request {
        /// The client's own id for the operation, echoed in the reply.
        op: u64,
        /// What it asks.
        request: Request,
    },
    /// A node's answer to a [`Packet::Request`].
    Reply {
        /// The client's op id is `reply.op`.
        reply: ClientReply,
        /// The coordinator's incarnation, so a tester can tell an answer sent just before a
        /// kill from one of the restarted node.
        incarnation: u32,
        /// The coordinator's membership view when it answered (sorted), so a checker can name
        /// the replicas the coordinator's own view gave the key (`quorum`).
        view: Vec<NodeId>,
    },
    /// The control channel: a command from a launcher, a tester or `sim cluster status`.
    Control {
        /// Echoed in the answer, so a retried command is matched to its answer.
        nonce: u64,
        /// The command.
        command: Command,
    },
    /// A node's answer to a [`Packet::Control`]: its state after the command.
    Status {
        /// The command's nonce.
        nonce: u64,
        /// The node's state.
        status: Status,
    },
}

/// A control-channel command. Both are idempotent, so a lost answer is simply retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Say how you are.
    Status,
    /// From now on drop every peer datagram from or to these nodes (empty: heal). This is how a
    /// partition is made without a firewall: each side obeys the rule it is given.
    Block {
        /// The peers to cut off.
        peers: Vec<NodeId>,
    },
}

/// What a node process reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The node.
    pub id: NodeId,
    /// Its incarnation (restarts so far).
    pub incarnation: u32,
    /// Ticks the node has run.
    pub now_ticks: u64,
    /// Its membership view, sorted.
    pub view: Vec<NodeId>,
    /// Whether its stabilization hand-overs are done.
    pub handovers_done: bool,
    /// Client operations it coordinates and has not answered.
    pub pending_ops: usize,
    /// The peers it currently drops datagrams from and to.
    pub blocked: Vec<NodeId>,
    /// How many keys it stores (tombstones included).
    pub stored_keys: usize,
    /// What it received and refused.
    pub counters: Counters,
}

/// Datagram counts of one node process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Datagrams received, whatever became of them.
    pub received: u64,
    /// Peer messages delivered to the node.
    pub delivered: u64,
    /// Refused: empty, unknown version, or not a packet.
    pub malformed: u64,
    /// Refused: longer than [`MAX_DATAGRAM_BYTES`].
    pub oversized: u64,
    /// Refused: a peer message from a node outside the cluster or from an address that is not
    /// the sender's, or a packet only nodes send to clients.
    pub foreign: u64,
    /// Peer datagrams dropped by a partition rule, either way.
    pub partitioned: u64,
    /// Peer datagrams sent.
    pub sent: u64,
    /// Outgoing datagrams that failed to encode within the size limit or to send.
    pub send_failed: u64,
    /// Client requests taken.
    pub requests: u64,
}

/// Why a datagram was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Longer than [`MAX_DATAGRAM_BYTES`].
    Oversized,
    /// Empty, another version byte, or bytes that are not a packet.
    Malformed,
}

/// The bytes a node message takes in a datagram, without the version byte and the packet's
/// framing: the size EmulNet holds against its payload cap, so that the simulator and the real
/// network agree on what a message costs (one format, not a hand-kept model beside it).
/// Postcard's size count cannot fail for node messages; if it ever did, the message would count
/// as too large to send rather than as free.
pub fn message_bytes(message: &Message) -> usize {
    postcard::experimental::serialized_size(message).unwrap_or(usize::MAX)
}

/// Postcard's most bytes for one heartbeat-table entry: the id's byte and the varints of a
/// `u32` incarnation (at most 5 bytes) and a `u64` heartbeat (at most 10).
const MAX_DIGEST_BYTES: usize = 1 + 5 + 10;
/// Postcard's most bytes for a table message around its entries: the variant's index and the
/// table's length, varints of at most 5 and 10 bytes.
const MAX_TABLE_FRAMING_BYTES: usize = 5 + 10;

/// Whether [`message_bytes`] of `message` is below `cap`, without counting the bytes when a
/// bound settles it. Heartbeat tables (gossip and join replies) are nearly every message a run
/// sends, and counting each through serde's size flavor was an eighth of a grader scenario's
/// instructions; a table whose most possible bytes are below the cap needs no count, and any
/// other message is counted as before, so the answer is always the count's.
pub fn message_bytes_below(message: &Message, cap: usize) -> bool {
    if let Message::JoinReply { members } | Message::Gossip { members } = message {
        if MAX_TABLE_FRAMING_BYTES + members.len() * MAX_DIGEST_BYTES < cap {
            return true;
        }
    }
    message_bytes(message) < cap
}

/// Encodes a packet as one datagram; `None` if it would exceed [`MAX_DATAGRAM_BYTES`].
pub fn encode(packet: &Packet) -> Option<Vec<u8>> {
    let mut bytes = vec![WIRE_VERSION];
    let body = postcard::to_allocvec(packet).ok()?;
    bytes.extend_from_slice(&body);
    (bytes.len() <= MAX_DATAGRAM_BYTES).then_some(bytes)
}

/// Decodes one datagram. Trailing bytes after a packet make it malformed: a datagram is one
/// packet, so anything else is not ours.
pub fn decode(bytes: &[u8]) -> Result<Packet, Refused> {
    if bytes.len() > MAX_DATAGRAM_BYTES {
        return Err(Refused::Oversized);
    }
    let Some((&WIRE_VERSION, body)) = bytes.split_first() else {
        return Err(Refused::Malformed);
    };
    match postcard::take_from_bytes::<Packet>(body) {
        Ok((packet, [])) => Ok(packet),
        _ => Err(Refused::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node::{Digest, Reason, Table};
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::rc::Rc;

    fn gossip() -> Packet {
        Packet::Peer {
            from: NodeId(3),
            message: Message::Gossip {
                members: Table::from(vec![
                    Digest {
                        id: NodeId(3),
                        incarnation: 1,
                        heartbeat: 700,
                    },
                    Digest {
                        id: NodeId(5),
                        incarnation: 0,
                        heartbeat: 12,
                    },
                ]),
            },
        }
    }

    #[test]
    fn packets_round_trip_with_the_version_byte_first() {
        let packets = [
            gossip(),
            Packet::Request {
                op: 9,
                request: Request::Create {
                    key: Rc::from("k1"),
                    value: Rc::from("v1"),
                },
            },
            Packet::Reply {
                reply: ClientReply {
                    op: 9,
                    success: false,
                    rejected: true,
                    reason: Reason::Exists,
                    value: Some(Rc::from("v0")),
                    acks: Vec::new(),
                },
                incarnation: 2,
                view: vec![NodeId(1), NodeId(2)],
            },
            Packet::Control {
                nonce: 4,
                command: Command::Block {
                    peers: vec![NodeId(2)],
                },
            },
        ];
        for packet in packets {
            let bytes = encode(&packet).unwrap();
            assert_eq!(bytes[0], WIRE_VERSION);
            assert_eq!(decode(&bytes), Ok(packet));
        }
    }

    #[test]
    fn bad_datagrams_are_refused_not_panicked_on() {
        let good = encode(&gossip()).unwrap();
        assert_eq!(decode(&[]), Err(Refused::Malformed));
        let mut other_version = good.clone();
        other_version[0] = WIRE_VERSION + 1;
        assert_eq!(decode(&other_version), Err(Refused::Malformed));
        for cut in 1..good.len() {
            assert_eq!(decode(&good[..cut]), Err(Refused::Malformed), "cut {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(Refused::Malformed));
        let huge = vec![WIRE_VERSION; MAX_DATAGRAM_BYTES + 1];
        assert_eq!(decode(&huge), Err(Refused::Oversized));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for len in 0..2000 {
            let mut bytes = vec![0u8; len % 300];
            rng.fill_bytes(&mut bytes);
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn a_packet_over_the_limit_is_not_encoded() {
        let big = Packet::Request {
            op: 1,
            request: Request::Create {
                key: Rc::from("k"),
                value: Rc::from("x".repeat(MAX_DATAGRAM_BYTES).as_str()),
            },
        };
        assert_eq!(encode(&big), None);
    }

    #[test]
    fn the_table_bound_is_never_below_the_count() {
        // The largest entries postcard can write, in tables of every length up to past the
        // cap: the bound is never below the count, so the answer is the count's; and it settles
        // tables of up to 200 members (a seed file's cluster has at most 16) without a count.
        let largest = Digest {
            id: NodeId(u8::MAX),
            incarnation: u32::MAX,
            heartbeat: u64::MAX,
        };
        let cap = crate::net::emulnet::PAYLOAD_CAP_BYTES;
        for len in 0..=cap / MAX_DIGEST_BYTES + 2 {
            let members = Table::from(vec![largest; len]);
            for message in [
                Message::Gossip {
                    members: members.clone(),
                },
                Message::JoinReply {
                    members: members.clone(),
                },
            ] {
                let bytes = message_bytes(&message);
                assert_eq!(message_bytes_below(&message, cap), bytes < cap, "{len}");
                assert!(MAX_TABLE_FRAMING_BYTES + len * MAX_DIGEST_BYTES >= bytes);
            }
        }
        assert!(MAX_TABLE_FRAMING_BYTES + 200 * MAX_DIGEST_BYTES < cap);
    }
}
