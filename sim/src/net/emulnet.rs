//! EmulNet, the original course's network emulator, reproduced.
//!
//! One shared buffer of at most 30000 messages. Every send draws one random number in 0..100;
//! the message is dropped if the buffer is full, if its payload is 3984 bytes or more, or if drops
//! are on and the draw is below the drop percentage. A node collects its messages once per tick by
//! scanning the buffer from the end and swap-removing what is addressed to it, so a message sent
//! at tick t is handled at t+1, roughly newest first. Messages to a failed node are never
//! collected: they stay in the buffer, as they did in the original.

use super::{InFlight, SendFate};
use crate::real::wire;
use node::random::below;
use node::{Message, NodeId, Tick};
use rand_chacha::ChaCha8Rng;

/// EmulNet's buffer capacity (`ENBUFFSIZE`).
pub const BUFFER_CAP_MESSAGES: usize = 30_000;
/// Payloads of this many bytes or more are dropped (`MAX_MSG_SIZE` 4000 less the 16-byte header).
pub const PAYLOAD_CAP_BYTES: usize = 3984;

/// Ticks during which sends may be dropped: `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropWindow {
    /// First tick with drops.
    pub from: Tick,
    /// First tick without drops again.
    pub to: Tick,
    /// Drop probability in percent.
    pub percent: u32,
}

/// The emulated network.
#[derive(Debug)]
pub struct EmulNet {
    buffer: Vec<InFlight>,
    /// `buffer[i].to.0` for every `i`, kept beside the buffer (pushed and swap-removed with
    /// it), so that a node's scan of the buffer is a backwards byte search (`memrchr`, in
    /// SIMD) rather than a read of every 80-byte message: the scan was a tenth of a
    /// membership grader scenario, whose buffer keeps every message sent to a failed node.
    receivers: Vec<u8>,
    waiting: Vec<u32>,
    drops: Option<DropWindow>,
    rng: ChaCha8Rng,
}

impl EmulNet {
    /// A network with an optional drop window, drawing from `rng`.
    pub fn new(drops: Option<DropWindow>, rng: ChaCha8Rng) -> EmulNet {
        EmulNet {
            buffer: Vec::new(),
            receivers: Vec::new(),
            waiting: vec![0; 256],
            drops,
            rng,
        }
    }

    /// `ENsend`'s decision: one draw per send, then the buffer cap, the size cap and the drop
    /// window, in the original's order; [`Self::take`] queues what it lets through.
    pub fn route(&mut self, now: Tick, message: &Message) -> SendFate {
        let draw = below(&mut self.rng, 100) as u32;
        let dropping = self.drops.filter(|d| d.from <= now && now < d.to);
        if self.buffer.len() >= BUFFER_CAP_MESSAGES {
            return SendFate::BufferFull;
        }
        if !wire::message_bytes_below(message, PAYLOAD_CAP_BYTES) {
            return SendFate::TooLarge;
        }
        if dropping.is_some_and(|d| draw < d.percent) {
            return SendFate::Lost;
        }
        SendFate::Queued
    }

    /// Puts a message that [`Self::route`] queued into the shared buffer.
    pub fn take(&mut self, msg: InFlight) {
        let to = msg.to();
        self.waiting[usize::from(to.0)] += 1;
        self.receivers.push(to.0);
        self.buffer.push(msg);
    }

    /// `ENrecv`: scan from the end, swap-remove what is addressed to `to`.
    pub fn collect(&mut self, _now: Tick, to: NodeId, inbox: &mut Vec<InFlight>) {
        let mut left = self.waiting[usize::from(to.0)];
        let mut i = self.buffer.len();
        // Stop as soon as every waiting message was found: the rest of the scan cannot move
        // anything (a swap-remove only moves the last element, which was already scanned).
        while left > 0 {
            let Some(found) = memchr::memrchr(to.0, &self.receivers[..i]) else {
                break;
            };
            i = found;
            self.receivers.swap_remove(i);
            inbox.push(self.buffer.swap_remove(i));
            left -= 1;
        }
        self.waiting[usize::from(to.0)] = left;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use std::rc::Rc;

    fn replicate(value_bytes: usize) -> Message {
        Message::Replicate {
            key: Rc::from("k1"),
            value: Rc::from("v".repeat(value_bytes)),
        }
    }

    #[test]
    fn the_payload_cap_counts_the_wire_format_bytes() {
        let mut net = EmulNet::new(None, ChaCha8Rng::seed_from_u64(1));
        assert_eq!(net.route(0, &replicate(10)), SendFate::Queued);
        // The largest value that fits: the rest of the message (tag, key, lengths) is a few
        // bytes of postcard, so it is just under the cap, and one byte more is refused.
        let largest = (0..PAYLOAD_CAP_BYTES)
            .rev()
            .find(|&n| wire::message_bytes(&replicate(n)) < PAYLOAD_CAP_BYTES)
            .expect("a small value fits");
        assert!(
            largest > PAYLOAD_CAP_BYTES - 8,
            "framing took {}",
            PAYLOAD_CAP_BYTES - largest
        );
        assert_eq!(net.route(0, &replicate(largest)), SendFate::Queued);
        assert_eq!(net.route(0, &replicate(largest + 1)), SendFate::TooLarge);
    }
}
