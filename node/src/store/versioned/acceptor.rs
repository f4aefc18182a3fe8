//! The acceptor side of the `versioned` store: a node's seat in each range, its per-key
//! promises and votes, and how it answers key proposers (range rounds: `range_acceptor`).

use super::{Env, VersionedStore};
use crate::agreement::{
    Ballot, Config, Handover, OpRef, RangeId, Refusal, Replica, SealVote, Versioned, Vote,
};
use crate::bugs::PlantedBug;
use crate::client::OpKind;
use crate::ids::{NodeId, Tick};
use crate::message::{Message, SyncDigest, SyncStale};
use crate::observation::{Observation, Role};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// This node's part in one range.
#[derive(Debug, Clone)]
pub(super) enum Seat {
    /// It votes on the range's keys in this configuration's epoch.
    Voter(Rc<Config>),
    /// It accepted a seal in this epoch: it no longer votes on keys, keeps its votes for the
    /// handover, and still answers seal rounds (so a stalled handover can be finished).
    Frozen {
        /// The sealed configuration.
        config: Rc<Config>,
        /// When it froze (local time).
        since: Tick,
    },
    /// It holds nothing: never a replica, handed off, or restarted and not yet recovered.
    Outside,
}

impl Seat {
    /// The configuration of the seat, if it holds one.
    pub(super) fn config(&self) -> Option<&Rc<Config>> {
        match self {
            Seat::Voter(config) | Seat::Frozen { config, .. } => Some(config),
            Seat::Outside => None,
        }
    }

    pub(super) fn votes_in(&self, epoch: u64) -> bool {
        matches!(self, Seat::Voter(config) if config.epoch == epoch)
    }
}

/// An acceptor's state for one key, valid in its seat's epoch.
#[derive(Debug, Clone)]
pub(super) struct KeySlot {
    /// The highest ballot promised.
    pub(super) promised: Ballot,
    /// What it accepted last.
    pub(super) vote: Option<Vote>,
    /// When a proposer last asked it to promise or accept (local time): a steward does not
    /// start a repair on a key that is busy.
    pub(super) touched_at: Tick,
}

impl KeySlot {
    fn new(now: Tick) -> KeySlot {
        KeySlot {
            promised: Ballot::ZERO,
            vote: None,
            touched_at: now,
        }
    }
}

/// Everything a node knows and holds about one range.
#[derive(Debug, Clone)]
pub(super) struct RangeState {
    /// The newest configuration known (routing); never older than the seat's.
    pub(super) newest: Rc<Config>,
    pub(super) seat: Seat,
    /// Whether the seat's configuration is known to be installed at a quorum.
    pub(super) established: bool,
    pub(super) seal_promised: Ballot,
    pub(super) seal_vote: Option<SealVote>,
    /// The highest seal ballot seen, so that a new seal attempt outbids it.
    pub(super) seal_seen: Ballot,
    /// Per-key agreement state of the seat's epoch.
    pub(super) keys: BTreeMap<Rc<str>, KeySlot>,
    /// How many syncs of the range the steward has sent: the current one's number.
    pub(super) syncs_sent: u64,
    /// The digest of the steward's current sync: a seat that does not list a key holds the
    /// ballot the digest shows, which is not the steward's vote any more if that moved since.
    pub(super) sync_digest: SyncDigest,
    /// The steward's current sync: the seats that answered as voters of its epoch, with the
    /// keys where they differ and their ballots there.
    pub(super) sync_replies: Vec<(NodeId, SyncStale)>,
    /// Keys some seat reported out of sync in the steward's current sync, and in the one
    /// before: a repair round runs only for a key out of sync in both (rounds in flight bring
    /// the replicas together by themselves, and a repair would pre-empt them).
    pub(super) out_of_sync: [BTreeSet<Rc<str>>; 2],
    /// When the steward syncs again ahead of its sweep, because the last sync left keys out
    /// of sync: a repair should come a couple of round trips later, not a sweep later.
    pub(super) resync_at: Option<Tick>,
}

impl RangeState {
    /// The state at start: a voter of epoch 0 if this is the genesis seat.
    pub(super) fn new(epoch0: Rc<Config>, me: Replica) -> RangeState {
        let seat = if epoch0.has(me) {
            Seat::Voter(Rc::clone(&epoch0))
        } else {
            Seat::Outside
        };
        RangeState {
            newest: epoch0,
            seat,
            established: true,
            seal_promised: Ballot::ZERO,
            seal_vote: None,
            seal_seen: Ballot::ZERO,
            keys: BTreeMap::new(),
            syncs_sent: 0,
            sync_digest: Rc::from([]),
            sync_replies: Vec::new(),
            out_of_sync: Default::default(),
            resync_at: None,
        }
    }

    /// Every key vote held, for a handover.
    pub(super) fn handover(&self) -> Handover {
        self.keys
            .iter()
            .filter_map(|(k, s)| s.vote.clone().map(|v| (Rc::clone(k), v)))
            .collect()
    }

    /// Why this node will not vote in `epoch` of the range.
    fn refusal(&self, epoch: u64) -> Refusal {
        if epoch < self.newest.epoch {
            Refusal::Moved(Rc::clone(&self.newest))
        } else {
            Refusal::NotReady
        }
    }

    /// Replaces the range's keys (install or drop), reporting every copy that changed.
    pub(super) fn replace_keys(
        &mut self,
        keys: BTreeMap<Rc<str>, KeySlot>,
        observations: &mut Vec<Observation>,
    ) {
        let old = std::mem::replace(&mut self.keys, keys);
        for (key, slot) in &old {
            if !self.keys.contains_key(key) {
                report_change(key, slot.vote.as_ref(), None, observations);
            }
        }
        for (key, slot) in &self.keys {
            let before = old.get(key).and_then(|s| s.vote.as_ref());
            report_change(key, before, slot.vote.as_ref(), observations);
        }
    }
}

/// Tells a proposer why its key proposal was not taken.
fn refuse(to: NodeId, key: &Rc<str>, ballot: Ballot, why: Refusal, env: &mut Env) {
    let key = Rc::clone(key);
    env.send(to, Message::Refuse { key, ballot, why });
}

/// The written state a vote holds (`None`: nothing written yet).
fn written(vote: Option<&Vote>) -> Option<&Versioned> {
    vote.map(|v| &v.state).filter(|s| s.version > 0)
}

/// Reports a replica's copy changing from one vote to another.
fn report_change(
    key: &Rc<str>,
    before: Option<&Vote>,
    after: Option<&Vote>,
    observations: &mut Vec<Observation>,
) {
    let (before, after) = (written(before), written(after));
    let same = match (before, after) {
        (Some(b), Some(a)) => b.value == a.value && b.version == a.version,
        (None, None) => true,
        _ => false,
    };
    if !same {
        observations.push(Observation::ReplicaStored {
            key: Rc::clone(key),
            value: after.and_then(|s| s.value.clone()),
        });
    }
}

impl VersionedStore {
    /// Refuses a key proposal this node cannot vote on, saying why.
    fn refuse_key(&self, from: NodeId, key: &Rc<str>, ballot: Ballot, range: usize, env: &mut Env) {
        let why = self.refusal_noted(range, ballot.epoch, env);
        refuse(from, key, ballot, why, env);
    }

    /// The refusal for a proposal in `epoch`, with its coverage observation.
    pub(super) fn refusal_noted(&self, range: usize, epoch: u64, env: &mut Env) -> Refusal {
        let state = &self.ranges[range];
        let why = state.refusal(epoch);
        let id = RangeId(range as u16);
        match &why {
            Refusal::Moved(_) => env
                .out
                .observations
                .push(Observation::EpochRefused { range: id, epoch }),
            Refusal::NotReady if !matches!(state.seat, Seat::Frozen { .. }) => env
                .out
                .observations
                .push(Observation::NotRecovered { range: id, epoch }),
            Refusal::NotReady | Refusal::Promised(_) => {}
        }
        why
    }

    /// The slot of a key this node votes on under `ballot`, marked busy; otherwise the
    /// proposer is told why not and there is no slot.
    fn voting_slot(
        &mut self,
        from: NodeId,
        key: &Rc<str>,
        ballot: Ballot,
        env: &mut Env,
    ) -> Option<&mut KeySlot> {
        self.note_ballot(key, ballot);
        let range = self.range_of(key);
        // Planted bug `vote-before-recovery`: a seat that holds nothing votes anyway.
        let unrecovered_votes = env.params.bug == PlantedBug::VoteBeforeRecovery
            && matches!(self.ranges[range].seat, Seat::Outside);
        if !self.ranges[range].seat.votes_in(ballot.epoch) && !unrecovered_votes {
            self.refuse_key(from, key, ballot, range, env);
            return None;
        }
        let slot = self.ranges[range]
            .keys
            .entry(Rc::clone(key))
            .or_insert_with(|| KeySlot::new(env.now));
        slot.touched_at = env.now;
        Some(slot)
    }

    /// Phase 1 for a key.
    pub(super) fn on_prepare(
        &mut self,
        from: NodeId,
        key: &Rc<str>,
        ballot: Ballot,
        env: &mut Env,
    ) {
        let Some(slot) = self.voting_slot(from, key, ballot, env) else {
            return;
        };
        if ballot < slot.promised {
            return refuse(from, key, ballot, Refusal::Promised(slot.promised), env);
        }
        slot.promised = ballot;
        let vote = slot.vote.clone().map(Box::new);
        let key = Rc::clone(key);
        env.send(from, Message::Promise { key, ballot, vote });
    }

    /// Phase 2 for a key.
    pub(super) fn on_accept(
        &mut self,
        from: NodeId,
        key: &Rc<str>,
        ballot: Ballot,
        state: &Versioned,
        op: Option<OpRef>,
        env: &mut Env,
    ) {
        let Some(slot) = self.voting_slot(from, key, ballot, env) else {
            return;
        };
        let accepted = ballot >= slot.promised;
        if accepted {
            slot.promised = ballot;
            let vote = Vote {
                ballot,
                state: state.clone(),
            };
            report_change(
                key,
                slot.vote.as_ref(),
                Some(&vote),
                &mut env.out.observations,
            );
            slot.vote = Some(vote);
            env.out.observations.push(Observation::Voted {
                key: Rc::clone(key),
                ballot,
            });
            env.send(
                from,
                Message::Accepted {
                    key: Rc::clone(key),
                    ballot,
                },
            );
        } else {
            refuse(from, key, ballot, Refusal::Promised(slot.promised), env);
        }
        if let Some(op) = op {
            env.out.observations.push(Observation::StoreOp {
                role: Role::Server,
                kind: op.kind,
                txn: op.txn,
                key: Rc::clone(key),
                value: match op.kind {
                    OpKind::Delete => None,
                    OpKind::Create | OpKind::Read | OpKind::Update => state.value.clone(),
                },
                success: accepted,
            });
        }
    }

    /// A chosen state: a voter behind it adopts it (a chosen value is safe to learn whatever
    /// this node promised since).
    pub(super) fn on_commit(&mut self, key: &Rc<str>, vote: &Vote, env: &mut Env) {
        let range = self.range_of(key);
        let state = &mut self.ranges[range];
        if !state.seat.votes_in(vote.ballot.epoch) {
            return;
        }
        let slot = state
            .keys
            .entry(Rc::clone(key))
            .or_insert_with(|| KeySlot::new(env.now));
        if slot.vote.as_ref().is_none_or(|v| v.ballot < vote.ballot) {
            report_change(
                key,
                slot.vote.as_ref(),
                Some(vote),
                &mut env.out.observations,
            );
            slot.vote = Some(vote.clone());
            slot.promised = slot.promised.max(vote.ballot);
        }
    }
}
