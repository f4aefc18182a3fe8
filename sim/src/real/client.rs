//! The client side of the wire: one UDP socket that asks nodes to run operations and sends
//! control commands. Every wait ends at a deadline; a lost request is unknown, never a hang.

use super::layout::LOOPBACK;
use super::wire::{self, Command, Packet, Status};
use node::{ClientReply, NodeId, Request};
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// How long one control command waits for its answer before it is sent again.
pub const CONTROL_WAIT: Duration = Duration::from_millis(300);
/// How many times a control command is sent before the node counts as not answering.
pub const CONTROL_ATTEMPTS: u32 = 3;

/// A node's answer to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The reply (with the client's op id).
    pub reply: ClientReply,
    /// The coordinator's incarnation.
    pub incarnation: u32,
    /// The coordinator's view when it answered.
    pub view: Vec<NodeId>,
}

/// A client endpoint on an ephemeral loopback port.
#[derive(Debug)]
pub struct Client {
    socket: UdpSocket,
    nonce: u64,
    buf: Vec<u8>,
}

impl Client {
    /// Binds a fresh loopback port.
    pub fn new() -> std::io::Result<Client> {
        Ok(Client {
            socket: UdpSocket::bind((LOOPBACK, 0))?,
            nonce: 0,
            buf: vec![0; wire::MAX_DATAGRAM_BYTES + 1],
        })
    }

    /// The socket, for tests that send raw bytes.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Asks `node` to run `request` as the client's operation `op`; `None` when no answer came
    /// within `timeout` (the outcome is unknown).
    pub fn request(
        &mut self,
        node: SocketAddr,
        op: u64,
        request: Request,
        timeout: Duration,
    ) -> Option<Answer> {
        let bytes = wire::encode(&Packet::Request { op, request })?;
        self.socket.send_to(&bytes, node).ok()?;
        self.wait(node, Instant::now() + timeout, |packet| match packet {
            Packet::Reply {
                reply,
                incarnation,
                view,
            } if reply.op == op => Some(Answer {
                reply,
                incarnation,
                view,
            }),
            _ => None,
        })
    }

    /// Sends a control command to `node` until it answers (at most [`CONTROL_ATTEMPTS`] times).
    pub fn control(&mut self, node: SocketAddr, command: &Command) -> Option<Status> {
        for _ in 0..CONTROL_ATTEMPTS {
            self.nonce += 1;
            let nonce = self.nonce;
            let packet = Packet::Control {
                nonce,
                command: command.clone(),
            };
            let bytes = wire::encode(&packet)?;
            if self.socket.send_to(&bytes, node).is_err() {
                continue;
            }
            let answer = self.wait(node, Instant::now() + CONTROL_WAIT, |packet| match packet {
                Packet::Status { nonce: n, status } if n == nonce => Some(status),
                _ => None,
            });
            if answer.is_some() {
                return answer;
            }
        }
        None
    }

    /// Waits until `deadline` for a packet from `node` that `accept` takes; drops the rest
    /// (late answers to earlier requests).
    fn wait<T>(
        &mut self,
        node: SocketAddr,
        deadline: Instant,
        mut accept: impl FnMut(Packet) -> Option<T>,
    ) -> Option<T> {
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).ok()?;
            match self.socket.recv_from(&mut self.buf) {
                Ok((len, src)) if src == node => {
                    if let Some(found) = wire::decode(&self.buf[..len]).ok().and_then(&mut accept) {
                        return Some(found);
                    }
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                // Port unreachable: the node is down. Keep waiting out the deadline so a caller's
                // timing does not depend on whether the kernel said so.
                Err(_) => std::thread::sleep(left.min(Duration::from_millis(5))),
            }
        }
    }
}
