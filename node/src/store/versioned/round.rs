//! What every round this node drives shares, key rounds and range hand-overs alike: the tally
//! of a phase's answers, when a refusal makes a phase hopeless, backoff after a lost race, and
//! the round-trip estimate that paces resends.

use super::{Env, VersionedStore};
use crate::agreement::{Config, Handover, Replica};
use crate::ids::{NodeId, Tick};
use crate::message::Message;
use crate::observation::Observation;
use crate::random::between;
use std::rc::Rc;

/// The distinct members' answers to one phase of a round.
#[derive(Debug, Clone)]
pub(super) struct Tally<T> {
    pub(super) yes: Vec<(NodeId, T)>,
    pub(super) no: Vec<NodeId>,
}

impl<T> Tally<T> {
    pub(super) fn new() -> Tally<T> {
        Tally {
            yes: Vec::new(),
            no: Vec::new(),
        }
    }

    pub(super) fn answered(&self, id: NodeId) -> bool {
        self.no.contains(&id) || self.yes.iter().any(|(y, _)| *y == id)
    }

    /// Counts a positive answer; `false` if the member had answered already.
    pub(super) fn yes(&mut self, id: NodeId, payload: T) -> bool {
        let fresh = !self.answered(id);
        if fresh {
            self.yes.push((id, payload));
        }
        fresh
    }

    pub(super) fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.yes.iter().map(|(id, _)| *id)
    }
}

/// What a refusal does to a phase in flight, whatever its positive answers carry: written once
/// for key rounds and range rounds alike.
pub(super) trait Refusals {
    /// Counts a refusal from `id` (a member that answered already is not counted again);
    /// whether a quorum of `config` can no longer say yes: too many seats refused, or are
    /// silent and not `alive` (not in the view in that incarnation, so no answer is coming).
    fn refuse(&mut self, id: NodeId, config: &Config, alive: &dyn Fn(Replica) -> bool) -> bool;
}

impl<T> Refusals for Tally<T> {
    fn refuse(&mut self, id: NodeId, config: &Config, alive: &dyn Fn(Replica) -> bool) -> bool {
        if self.answered(id) {
            return false;
        }
        self.no.push(id);
        let out = config
            .members
            .iter()
            .filter(|m| self.no.contains(&m.id) || (!self.answered(m.id) && !alive(**m)))
            .count();
        config.members.len().saturating_sub(out) < config.quorum()
    }
}

/// A random wait after losing a race, so that competing proposers stop colliding: up to about
/// two round trips (`rtt_ticks`, as the node has seen them lately, or a longer span for a
/// proposer that keeps losing), at most an operation timeout.
pub(super) fn backoff_until(rtt_ticks: Tick, env: &mut Env) -> Tick {
    let window = (2 * rtt_ticks).clamp(2, env.params.op_timeout_ticks.max(2));
    env.now + between(env.rng, 1, window)
}

/// The members of a configuration, by node id, plus extra nodes (deduplicated).
pub(super) fn recipients(config: &Config, extra: &[Replica]) -> Vec<NodeId> {
    let mut ids: Vec<NodeId> = config.members.iter().chain(extra).map(|m| m.id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Hands `votes` of `config`'s range to `to`, noting each written key that goes (the trace's
/// coverage, which the checker's `handover-reported` holds to the message).
pub(super) fn send_install(
    to: NodeId,
    config: &Rc<Config>,
    votes: Handover,
    established: bool,
    env: &mut Env,
) {
    for (key, vote) in votes.iter() {
        if vote.state.version > 0 {
            env.out.observations.push(Observation::HandedOver {
                key: Rc::clone(key),
                to,
            });
        }
    }
    let config = Rc::clone(config);
    let message = Message::Install {
        config,
        votes,
        established,
    };
    env.send(to, message);
}

impl VersionedStore {
    /// Folds the round trip of an answer to one of this node's rounds into its estimate.
    pub(super) fn observe_reply(&mut self, message: &Message, now: Tick) {
        let sent_at = match message {
            Message::Promise { key, ballot, .. } | Message::Accepted { key, ballot } => self
                .key_rounds
                .get(key)
                .filter(|r| r.ballot == *ballot)
                .map(|r| r.sent_at),
            Message::SealPromise { range, ballot, .. }
            | Message::SealAccepted { range, ballot, .. } => self
                .range_rounds
                .get(range)
                .filter(|r| r.ballot == *ballot)
                .map(|r| r.sent_at),
            _ => None,
        };
        if let Some(sent_at) = sent_at {
            let sample = now.saturating_sub(sent_at);
            self.rtt_ticks = (3 * self.rtt_ticks + sample) / 4;
        }
    }

    /// How long a proposer waits for answers before it resends a phase to the silent members:
    /// about two round trips as this node has seen them lately, at most half an operation
    /// timeout (which is sized for two round trips at the worst delay). Following the delays
    /// actually seen matters once the network calms down: a phase that lost a message must not
    /// wait out a timeout sized for the worst delays of the fault phase.
    pub(super) fn resend_ticks(&self, op_timeout_ticks: Tick) -> Tick {
        (2 * self.rtt_ticks + 1).clamp(2, (op_timeout_ticks / 2).max(2))
    }
}
