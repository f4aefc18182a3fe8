//! The proposer side of the `versioned` store: client operations and repairs as per-key rounds,
//! handovers as per-range seal rounds, and the steward's anti-entropy.

use super::{newest_vote, Env, VersionedStore};
use crate::agreement::{
    Ballot, Config, Handover, OpRef, RangeId, Refusal, Replica, SealVote, Standing, Versioned,
    Vote, WriteId, LINEAGE_WRITES,
};
use crate::bugs::PlantedBug;
use crate::client::{Ack, ClientReply, OpKind, Reason, Request, TxnId};
use crate::ids::{NodeId, OpId, Tick};
use crate::message::Message;
use crate::observation::{Observation, Role};
use crate::random::between;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// A client operation queued behind another round on its key.
#[derive(Debug, Clone)]
pub(super) struct Waiting {
    op: OpId,
    request: Request,
    deadline: Tick,
}

/// The distinct members' answers to one phase of a round.
#[derive(Debug, Clone)]
struct Tally<T> {
    yes: Vec<(NodeId, T)>,
    no: Vec<NodeId>,
}

impl<T> Tally<T> {
    fn new() -> Tally<T> {
        Tally {
            yes: Vec::new(),
            no: Vec::new(),
        }
    }

    fn answered(&self, id: NodeId) -> bool {
        self.no.contains(&id) || self.yes.iter().any(|(y, _)| *y == id)
    }

    /// Counts a positive answer; `false` if the member had answered already.
    fn yes(&mut self, id: NodeId, payload: T) -> bool {
        let fresh = !self.answered(id);
        if fresh {
            self.yes.push((id, payload));
        }
        fresh
    }

    /// Counts a refusal; `false` if the member had answered already.
    fn no(&mut self, id: NodeId) -> bool {
        let fresh = !self.answered(id);
        if fresh {
            self.no.push(id);
        }
        fresh
    }

    /// Whether a quorum of `config` can no longer say yes: too many seats refused, or are
    /// silent and not `alive` (not in the view in that incarnation, so no answer is coming).
    fn hopeless(&self, config: &Config, alive: impl Fn(Replica) -> bool) -> bool {
        let out = config
            .members
            .iter()
            .filter(|m| self.no.contains(&m.id) || (!self.answered(m.id) && !alive(**m)))
            .count();
        config.members.len().saturating_sub(out) < config.quorum()
    }

    fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.yes.iter().map(|(id, _)| *id)
    }
}

/// What a decided client round tells the client.
#[derive(Debug, Clone)]
enum Answer {
    /// The write took effect.
    Wrote,
    /// The read saw this value.
    Read(Rc<str>),
    /// Refused for a semantic reason (with the value seen, for an existing key).
    Refused(Reason, Option<Rc<str>>),
    /// A repair: nobody to tell.
    Repaired,
}

/// A client operation in its round.
#[derive(Debug, Clone)]
struct ClientOp {
    op: OpId,
    txn: TxnId,
    request: Request,
    /// The version its first changed state was built on, once an attempt proposed one: from
    /// then on the operation may have taken effect. A later attempt that finds its write in the
    /// lineage of the newest state is done; one that does not may apply it again (if the
    /// earlier vote ever joins the chain, the new one cannot be chosen, and the other way
    /// round), as long as the lineage reaches back to that version; beyond it, unknown.
    first_base: Option<u64>,
}

impl ClientOp {
    /// Whether the operation may have taken effect.
    fn may_have_written(&self) -> bool {
        self.first_base.is_some()
    }
}

/// Why a key round runs.
#[derive(Debug, Clone)]
enum Purpose {
    Client(ClientOp),
    Repair,
}

#[derive(Debug, Clone)]
enum KeyStep {
    Preparing(Tally<Option<Vote>>),
    Accepting {
        state: Versioned,
        answer: Answer,
        tally: Tally<()>,
        /// Whether phase 1 found replicas that disagreed.
        repairing: bool,
        /// Whether a quorum accepted (and the commit went out).
        chosen: bool,
    },
    Backoff {
        until: Tick,
    },
}

/// A round this node drives for one key.
#[derive(Debug, Clone)]
pub(super) struct KeyRound {
    purpose: Purpose,
    config: Rc<Config>,
    ballot: Ballot,
    step: KeyStep,
    sent_at: Tick,
    deadline: Tick,
    /// Ballot races lost so far: the first is retried at once (the refusal usually comes from
    /// a promise left behind by a round that gave up), later ones after a random backoff.
    conflicts: u32,
}

impl KeyRound {
    /// Whether it serves a client.
    pub(super) fn is_client(&self) -> bool {
        matches!(self.purpose, Purpose::Client(_))
    }

    /// The round in a few words, for state dumps.
    pub(super) fn describe(&self) -> String {
        let purpose = match &self.purpose {
            Purpose::Client(c) => format!("op{} {}", c.op, c.request.kind().name()),
            Purpose::Repair => "repair".to_string(),
        };
        let step = match &self.step {
            KeyStep::Preparing(t) => format!("preparing ({} promised)", t.yes.len()),
            KeyStep::Accepting { tally, .. } => format!("accepting ({} accepted)", tally.yes.len()),
            KeyStep::Backoff { until } => format!("backing off until {until}"),
        };
        format!(
            "{purpose} e{} r{} {step}",
            self.ballot.epoch, self.ballot.round
        )
    }
}

#[derive(Debug, Clone)]
enum RangeStep {
    Preparing(Tally<Option<SealVote>>),
    Accepting {
        next: Rc<Config>,
        tally: Tally<()>,
        votes: BTreeMap<Rc<str>, Vote>,
    },
    Installing {
        next: Rc<Config>,
        votes: Handover,
        tally: Tally<()>,
    },
    Backoff {
        until: Tick,
    },
}

/// A handover this node drives: seal the range's configuration at a quorum of it, then install
/// the next one at a quorum of the new seats.
#[derive(Debug, Clone)]
pub(super) struct RangeRound {
    from: Rc<Config>,
    target: Vec<Replica>,
    ballot: Ballot,
    step: RangeStep,
    sent_at: Tick,
    deadline: Tick,
    /// Attempts that failed so far: each one doubles the backoff window, so that two nodes
    /// driving the same seal (views differ for a while) stop pre-empting each other.
    failures: u32,
    /// Whether the round must seal even if the ring names the current seats again: it is
    /// there to release seats frozen by a seal that did not finish (an epoch bump does).
    release: bool,
}

impl RangeRound {
    /// The round in a few words, for state dumps.
    pub(super) fn describe(&self) -> String {
        let step = match &self.step {
            RangeStep::Preparing(t) => format!("sealing, {} promised", t.yes.len()),
            RangeStep::Accepting { tally, .. } => format!("sealing, {} accepted", tally.yes.len()),
            RangeStep::Installing { next, tally, .. } => {
                format!("installing e{}, {} installed", next.epoch, tally.yes.len())
            }
            RangeStep::Backoff { until } => format!("backing off until {until}"),
        };
        let target: Vec<String> = self
            .target
            .iter()
            .map(|m| format!("n{}.{}", m.id, m.incarnation))
            .collect();
        format!(
            "from e{} to [{}] r{}: {step}",
            self.from.epoch,
            target.join(","),
            self.ballot.round
        )
    }
}

/// The state a client operation proposes, and what it will answer once that is chosen.
fn apply(request: &Request, current: &Versioned, writer: WriteId) -> (Versioned, Answer) {
    match (request, &current.value) {
        (Request::Create { value, .. }, None) => {
            (current.next(Some(Rc::clone(value)), writer), Answer::Wrote)
        }
        (Request::Update { value, .. }, Some(_)) => {
            (current.next(Some(Rc::clone(value)), writer), Answer::Wrote)
        }
        (Request::Delete { .. }, Some(_)) => (current.next(None, writer), Answer::Wrote),
        (Request::Read { .. }, Some(v)) => (current.clone(), Answer::Read(Rc::clone(v))),
        (Request::Create { .. }, Some(v)) => (
            current.clone(),
            Answer::Refused(Reason::Exists, Some(Rc::clone(v))),
        ),
        (Request::Read { .. } | Request::Update { .. } | Request::Delete { .. }, None) => {
            (current.clone(), Answer::Refused(Reason::NotFound, None))
        }
    }
}

/// A random wait after losing a race, so that competing proposers stop colliding: up to about
/// two round trips (`rtt_ticks`, as the node has seen them lately, or a longer span for a
/// proposer that keeps losing), at most an operation timeout.
fn backoff_until(rtt_ticks: Tick, env: &mut Env) -> Tick {
    let window = (2 * rtt_ticks).clamp(2, env.params.op_timeout_ticks.max(2));
    env.now + between(env.rng, 1, window)
}

/// A client answer: (success, definite rejection, reason, value, acks).
struct Verdict {
    success: bool,
    rejected: bool,
    reason: Reason,
    value: Option<Rc<str>>,
    acks: Vec<Ack>,
}

impl Verdict {
    /// A failure that says only whether the operation surely had no effect.
    fn failed(rejected: bool, reason: Reason) -> Verdict {
        Verdict {
            success: false,
            rejected,
            reason,
            value: None,
            acks: Vec::new(),
        }
    }
}

/// Answers a client and logs the coordinator's decision.
fn answer_client(op: OpId, txn: TxnId, request: &Request, verdict: Verdict, env: &mut Env) {
    let kind = request.kind();
    env.out.observations.push(Observation::StoreOp {
        role: Role::Coordinator,
        kind,
        txn,
        key: Rc::clone(request.key()),
        value: match kind {
            OpKind::Read => verdict.value.clone(),
            OpKind::Create | OpKind::Update | OpKind::Delete => request.value().cloned(),
        },
        success: verdict.success,
    });
    env.out.replies.push(ClientReply {
        op,
        success: verdict.success,
        rejected: verdict.rejected,
        reason: verdict.reason,
        value: verdict.value,
        acks: verdict.acks,
    });
}

/// The members of a configuration, by node id, plus extra nodes (deduplicated).
fn recipients(config: &Config, extra: &[Replica]) -> Vec<NodeId> {
    let mut ids: Vec<NodeId> = config.members.iter().chain(extra).map(|m| m.id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl VersionedStore {
    /// The key round an answer from `from` under `ballot` belongs to, if still running.
    fn key_round_for(&mut self, key: &str, ballot: Ballot, from: NodeId) -> Option<&mut KeyRound> {
        self.key_rounds
            .get_mut(key)
            .filter(|r| r.ballot == ballot && r.config.has_node(from))
    }

    /// The range round an answer from `from` under `ballot` belongs to, if still running.
    fn range_round_for(
        &mut self,
        range: RangeId,
        ballot: Ballot,
        from: NodeId,
    ) -> Option<&mut RangeRound> {
        self.range_rounds
            .get_mut(&range)
            .filter(|r| r.ballot == ballot && r.from.has_node(from))
    }

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
    fn resend_ticks(&self, op_timeout_ticks: Tick) -> Tick {
        (2 * self.rtt_ticks + 1).clamp(2, (op_timeout_ticks / 2).max(2))
    }

    /// A client request arrives.
    pub(super) fn client_request(&mut self, op: OpId, request: Request, env: &mut Env) {
        let key = Rc::clone(request.key());
        let deadline = env.now + env.params.op_timeout_ticks;
        if self.target(self.range_of(&key), env).is_empty() {
            // Too few live nodes to place the key: nothing was sent, so nothing happened.
            let txn = self.take_txn();
            return answer_client(
                op,
                txn,
                &request,
                Verdict::failed(true, Reason::NoQuorum),
                env,
            );
        }
        match self.key_rounds.get(&key) {
            Some(round) if round.is_client() => {
                self.waiting.entry(key).or_default().push_back(Waiting {
                    op,
                    request,
                    deadline,
                });
            }
            _ => self.start_client(op, request, deadline, env),
        }
    }

    fn take_txn(&mut self) -> TxnId {
        let txn = self.next_txn;
        self.next_txn = self.next_txn.wrapping_add(1);
        txn
    }

    fn start_client(&mut self, op: OpId, request: Request, deadline: Tick, env: &mut Env) {
        let key = Rc::clone(request.key());
        let txn = self.take_txn();
        let purpose = Purpose::Client(ClientOp {
            op,
            txn,
            request,
            first_base: None,
        });
        self.start_key_round(key, purpose, deadline, env);
    }

    /// An identity round that makes a quorum agree on the key's newest state and sends it to
    /// every replica (anti-entropy). Skipped while the key has a round or clients waiting.
    pub(super) fn start_repair(&mut self, key: &Rc<str>, env: &mut Env) {
        if self.key_rounds.contains_key(key) || self.waiting.contains_key(key) {
            return;
        }
        let deadline = env.now + env.params.op_timeout_ticks;
        self.start_key_round(Rc::clone(key), Purpose::Repair, deadline, env);
    }

    fn start_key_round(&mut self, key: Rc<str>, purpose: Purpose, deadline: Tick, env: &mut Env) {
        let range = self.range_of(&key);
        let round = KeyRound {
            purpose,
            config: Rc::clone(&self.ranges[range].newest),
            ballot: Ballot::ZERO,
            step: KeyStep::Backoff { until: env.now },
            sent_at: env.now,
            deadline,
            conflicts: 0,
        };
        self.key_rounds.insert(Rc::clone(&key), round);
        self.key_attempt(&key, env);
    }

    /// A new attempt: phase 1 under a fresh ballot, in the newest configuration known. The
    /// prepare also goes to the replicas this node's ring names, so that a coordinator whose
    /// knowledge of the range is old (or lost in a restart) learns the newer configuration.
    fn key_attempt(&mut self, key: &Rc<str>, env: &mut Env) {
        let range = self.range_of(key);
        let config = Rc::clone(&self.ranges[range].newest);
        let seen = self.seen.get(key).copied().unwrap_or(Ballot::ZERO);
        let ballot = self.new_ballot(seen, config.epoch, env.now);
        self.note_ballot(key, ballot);
        let to = recipients(&config, &self.target(range, env));
        let round = self
            .key_rounds
            .get_mut(key)
            .expect("attempt of a live round");
        round.config = config;
        round.ballot = ballot;
        round.step = KeyStep::Preparing(Tally::new());
        round.sent_at = env.now;
        // Planted bug `skip-first-round`: go straight to accepting, on an assumed-empty state.
        if env.params.bug == PlantedBug::SkipFirstRound
            && matches!(round.purpose, Purpose::Client(_))
        {
            return self.propose(key, env);
        }
        for id in to {
            let key = Rc::clone(key);
            env.send(id, Message::Prepare { key, ballot });
        }
    }

    /// A promise for a key round.
    pub(super) fn on_promise(
        &mut self,
        from: NodeId,
        key: &Rc<str>,
        ballot: Ballot,
        vote: Option<&Vote>,
        env: &mut Env,
    ) {
        if let Some(v) = vote {
            self.note_ballot(key, v.ballot);
        }
        let Some(round) = self.key_round_for(key, ballot, from) else {
            return;
        };
        let quorum = round.config.quorum();
        let KeyStep::Preparing(tally) = &mut round.step else {
            return;
        };
        if tally.yes(from, vote.cloned()) && tally.yes.len() >= quorum {
            self.propose(key, env);
        }
    }

    /// Phase 2: apply the operation to the newest state a quorum reported.
    fn propose(&mut self, key: &Rc<str>, env: &mut Env) {
        let me = self.me;
        let round = self
            .key_rounds
            .get_mut(key)
            .expect("proposing a live round");
        let KeyStep::Preparing(tally) = &round.step else {
            return;
        };
        let newest = newest_vote(tally.yes.iter().map(|(_, v)| v.as_ref()));
        let newest_ballot = newest.map(|v| v.ballot);
        let repairing = tally
            .yes
            .iter()
            .any(|(_, v)| v.as_ref().map(|v| v.ballot) != newest_ballot);
        let current = newest.map(|v| v.state.clone()).unwrap_or_default();
        let (state, answer, op) = match &mut round.purpose {
            Purpose::Repair => (current, Answer::Repaired, None),
            Purpose::Client(c) => {
                let writer = WriteId {
                    node: me.id,
                    incarnation: me.incarnation,
                    txn: c.txn,
                };
                let op = Some(OpRef {
                    kind: c.request.kind(),
                    txn: c.txn,
                });
                let beyond_lineage = c
                    .first_base
                    .is_some_and(|base| current.version > base + LINEAGE_WRITES as u64);
                if current.written_by(writer) {
                    (current, Answer::Wrote, op) // an earlier attempt's write got in
                } else if beyond_lineage {
                    // The chain moved on too far to tell whether an earlier attempt got in.
                    return self.finish_client(key, Verdict::failed(false, Reason::NoQuorum), env);
                } else {
                    let (state, answer) = apply(&c.request, &current, writer);
                    if matches!(answer, Answer::Wrote) && c.first_base.is_none() {
                        c.first_base = Some(current.version);
                    }
                    (state, answer, op)
                }
            }
        };
        let ballot = round.ballot;
        for m in &round.config.members {
            let message = Message::Accept {
                key: Rc::clone(key),
                ballot,
                state: state.clone(),
                op,
            };
            env.send(m.id, message);
        }
        round.step = KeyStep::Accepting {
            state,
            answer,
            tally: Tally::new(),
            repairing,
            chosen: false,
        };
        round.sent_at = env.now;
    }

    /// An acceptance for a key round.
    pub(super) fn on_accepted(
        &mut self,
        from: NodeId,
        key: &Rc<str>,
        ballot: Ballot,
        env: &mut Env,
    ) {
        let evidence = env.params.quorum;
        let replicas = self.ring.replicas_of(key, env.params.replicas);
        let Some(round) = self.key_round_for(key, ballot, from) else {
            return;
        };
        let members = round.config.members.len();
        let quorum = round.config.quorum();
        let KeyStep::Accepting {
            state,
            answer,
            tally,
            repairing,
            chosen,
        } = &mut round.step
        else {
            return;
        };
        if !tally.yes(from, ()) || tally.yes.len() < quorum {
            return;
        }
        if !*chosen {
            *chosen = true;
            let vote = Vote {
                ballot,
                state: state.clone(),
            };
            // Every seat that did not accept gets it, a seat that refused included.
            for m in &round.config.members {
                if !tally.ids().any(|id| id == m.id) {
                    let key = Rc::clone(key);
                    let vote = vote.clone();
                    env.send(m.id, Message::Commit { key, vote });
                }
            }
            if *repairing {
                env.out.observations.push(Observation::ReadRepair {
                    key: Rc::clone(key),
                });
            }
        }
        // A success must show a quorum of the replicas this node's own ring names.
        let acks: Vec<NodeId> = tally.ids().filter(|id| replicas.contains(id)).collect();
        let verdict = match answer {
            Answer::Wrote | Answer::Read(_) if acks.len() < evidence => {
                if tally.yes.len() < members {
                    return; // wait for the other replica
                }
                // Chosen, but not provably by this node's replicas: say unknown.
                Verdict::failed(false, Reason::NoQuorum)
            }
            Answer::Wrote => Verdict {
                success: true,
                rejected: false,
                reason: Reason::Ok,
                value: None,
                acks: acks.iter().map(|&from| Ack { from, value: None }).collect(),
            },
            Answer::Read(value) => Verdict {
                success: true,
                rejected: false,
                reason: Reason::Ok,
                value: Some(Rc::clone(value)),
                acks: acks
                    .iter()
                    .map(|&from| Ack {
                        from,
                        value: Some(Rc::clone(value)),
                    })
                    .collect(),
            },
            Answer::Refused(reason, value) => Verdict {
                success: false,
                rejected: true,
                reason: *reason,
                value: value.clone(),
                acks: Vec::new(),
            },
            Answer::Repaired => {
                self.key_rounds.remove(key);
                return self.next_waiting(key, env);
            }
        };
        self.finish_client(key, verdict, env);
    }

    /// A refusal for a key round.
    pub(super) fn on_refuse(
        &mut self,
        from: NodeId,
        key: &Rc<str>,
        ballot: Ballot,
        why: &Refusal,
        env: &mut Env,
    ) {
        let rtt = self.rtt_ticks;
        match why {
            Refusal::Promised(p) => self.note_ballot(key, *p),
            Refusal::Moved(config) => self.learn_config(config),
            Refusal::NotReady => {}
        }
        let Some(round) = self.key_rounds.get_mut(key) else {
            return;
        };
        if round.ballot != ballot {
            return;
        }
        if let Refusal::Moved(config) = why {
            if config.epoch > round.config.epoch {
                self.key_attempt(key, env);
            }
            return;
        }
        if !round.config.has_node(from) {
            return;
        }
        let config = &round.config;
        let alive = |seat| env.alive(seat);
        let hopeless = match &mut round.step {
            KeyStep::Preparing(tally) => tally.no(from) && tally.hopeless(config, alive),
            KeyStep::Accepting { tally, .. } => tally.no(from) && tally.hopeless(config, alive),
            KeyStep::Backoff { .. } => false,
        };
        if !hopeless {
            return;
        }
        let until = if matches!(why, Refusal::Promised(_)) {
            env.out.observations.push(Observation::BallotConflict {
                key: Rc::clone(key),
            });
            round.conflicts += 1;
            if round.conflicts == 1 {
                return self.key_attempt(key, env);
            }
            backoff_until(rtt, env)
        } else {
            // Not a race but a range being handed over (or seats still recovering): that
            // takes a round trip or two, so look again soon.
            env.now + 1
        };
        round.step = KeyStep::Backoff { until };
    }

    /// Ends a client round with an answer and starts the next operation waiting on the key.
    fn finish_client(&mut self, key: &Rc<str>, verdict: Verdict, env: &mut Env) {
        if let Some(KeyRound {
            purpose: Purpose::Client(c),
            ..
        }) = self.key_rounds.remove(key)
        {
            answer_client(c.op, c.txn, &c.request, verdict, env);
        }
        self.next_waiting(key, env);
    }

    fn next_waiting(&mut self, key: &Rc<str>, env: &mut Env) {
        let Some(queue) = self.waiting.get_mut(key) else {
            return;
        };
        let next = queue.pop_front();
        if queue.is_empty() {
            self.waiting.remove(key);
        }
        if let Some(w) = next {
            self.start_client(w.op, w.request, w.deadline, env);
        }
    }

    /// Deadlines, backoffs and resends of key rounds, and queued operations that expired.
    pub(super) fn key_timers(&mut self, env: &mut Env) {
        let resend = self.resend_ticks(env.params.op_timeout_ticks);
        let keys: Vec<Rc<str>> = self.key_rounds.keys().cloned().collect();
        for key in keys {
            let Some(round) = self.key_rounds.get_mut(&key) else {
                continue;
            };
            if env.now >= round.deadline {
                match &round.purpose {
                    Purpose::Client(c) => {
                        // Unknown if it may have written; otherwise surely without effect.
                        let verdict = Verdict::failed(!c.may_have_written(), Reason::Timeout);
                        self.finish_client(&key, verdict, env);
                    }
                    Purpose::Repair => {
                        self.key_rounds.remove(&key);
                        self.next_waiting(&key, env);
                    }
                }
                continue;
            }
            // The range moved on since this attempt began (a handover this node heard of):
            // its seats no longer vote in that epoch, so start over in the new one.
            let newest_epoch = self.ranges[self.range_of(&key)].newest.epoch;
            let Some(round) = self.key_rounds.get_mut(&key) else {
                continue;
            };
            if round.config.epoch < newest_epoch && !matches!(round.step, KeyStep::Backoff { .. }) {
                self.key_attempt(&key, env);
                continue;
            }

            match &round.step {
                KeyStep::Backoff { until } if env.now >= *until => self.key_attempt(&key, env),
                KeyStep::Backoff { .. } => {}
                KeyStep::Preparing(tally) if env.now >= round.sent_at + resend => {
                    for m in &round.config.members {
                        if !tally.answered(m.id) {
                            let key = Rc::clone(&key);
                            let ballot = round.ballot;
                            env.send(m.id, Message::Prepare { key, ballot });
                        }
                    }
                    round.sent_at = env.now;
                }
                KeyStep::Accepting { state, tally, .. } if env.now >= round.sent_at + resend => {
                    let op = match &round.purpose {
                        Purpose::Client(c) => Some(OpRef {
                            kind: c.request.kind(),
                            txn: c.txn,
                        }),
                        Purpose::Repair => None,
                    };
                    for m in &round.config.members {
                        if !tally.answered(m.id) {
                            let message = Message::Accept {
                                key: Rc::clone(&key),
                                ballot: round.ballot,
                                state: state.clone(),
                                op,
                            };
                            env.send(m.id, message);
                        }
                    }
                    round.sent_at = env.now;
                }
                KeyStep::Preparing(_) | KeyStep::Accepting { .. } => {}
            }
        }
        let now = env.now;
        let mut expired = Vec::new();
        for queue in self.waiting.values_mut() {
            while queue.front().is_some_and(|w| now >= w.deadline) {
                expired.extend(queue.pop_front());
            }
        }
        self.waiting.retain(|_, q| !q.is_empty());
        for w in expired {
            let txn = self.take_txn();
            answer_client(
                w.op,
                txn,
                &w.request,
                Verdict::failed(true, Reason::Timeout),
                env,
            );
        }
    }

    /// Starts handing a range over from configuration `from` to `target` (even to the same
    /// seats, if `release`), unless a handover of it is under way here.
    pub(super) fn start_range_round(
        &mut self,
        from: Rc<Config>,
        target: Vec<Replica>,
        release: bool,
        env: &mut Env,
    ) {
        let id = from.range;
        if self.range_rounds.contains_key(&id) {
            return;
        }
        let round = RangeRound {
            from,
            target,
            ballot: Ballot::ZERO,
            step: RangeStep::Backoff { until: env.now },
            sent_at: env.now,
            deadline: env.now + 2 * env.params.op_timeout_ticks,
            failures: 0,
            release,
        };
        self.range_rounds.insert(id, round);
        self.range_attempt(id, env);
    }

    /// Drops a handover this node drives from an epoch it no longer holds a seat in (it
    /// installed a newer one, or dropped the range) if its seal is not chosen yet: that epoch
    /// is closed, and the round would only keep the steward from starting the handover the ring
    /// now calls for. A round that is installing goes on: it is what completes the handover.
    pub(super) fn drop_obsolete_round(&mut self, range: RangeId) {
        let seat_epoch = self.ranges[usize::from(range.0)]
            .seat
            .config()
            .map(|c| c.epoch);
        if self.range_rounds.get(&range).is_some_and(|r| {
            !matches!(r.step, RangeStep::Installing { .. })
                && seat_epoch.is_none_or(|e| r.from.epoch < e)
        }) {
            self.range_rounds.remove(&range);
        }
    }

    fn range_attempt(&mut self, range: RangeId, env: &mut Env) {
        let Some(round) = self.range_rounds.get(&range) else {
            return;
        };
        let from = Rc::clone(&round.from);
        let seen = self.ranges[usize::from(range.0)].seal_seen;
        let ballot = self.new_ballot(seen, from.epoch, env.now);
        let state = &mut self.ranges[usize::from(range.0)];
        state.seal_seen = state.seal_seen.max(ballot);
        let round = self
            .range_rounds
            .get_mut(&range)
            .expect("attempt of a live round");
        for m in &from.members {
            env.send(m.id, Message::SealPrepare { range, ballot });
        }
        round.ballot = ballot;
        round.step = RangeStep::Preparing(Tally::new());
        round.sent_at = env.now;
    }

    /// A seal promise: on a quorum, propose the next configuration (the one an earlier seal
    /// round may already have chosen, if a promise carries one).
    pub(super) fn on_seal_promise(
        &mut self,
        from: NodeId,
        range: RangeId,
        ballot: Ballot,
        vote: Option<&SealVote>,
        env: &mut Env,
    ) {
        // Where the ring places the range now, a round trip after the round began: a view
        // that flapped for a tick must not cost two handovers.
        let target = self.target(usize::from(range.0), env);
        let Some(round) = self.range_round_for(range, ballot, from) else {
            return;
        };
        let quorum = round.from.quorum();
        let RangeStep::Preparing(tally) = &mut round.step else {
            return;
        };
        if !tally.yes(from, vote.cloned()) || tally.yes.len() < quorum {
            return;
        }
        let accepted = tally
            .yes
            .iter()
            .filter_map(|(_, v)| v.as_ref())
            .max_by_key(|v| v.ballot);
        let next = match accepted {
            Some(v) => Rc::clone(&v.next),
            None if target.is_empty() || (!round.release && round.from.same_seats(&target)) => {
                self.range_rounds.remove(&range); // nothing to hand over (any more)
                return;
            }
            None => {
                round.target = target;
                Rc::new(Config {
                    range,
                    epoch: round.from.epoch + 1,
                    members: round.target.clone(),
                })
            }
        };
        for m in &round.from.members {
            let next = Rc::clone(&next);
            env.send(
                m.id,
                Message::SealAccept {
                    range,
                    ballot,
                    next,
                },
            );
        }
        round.step = RangeStep::Accepting {
            next,
            tally: Tally::new(),
            votes: BTreeMap::new(),
        };
        round.sent_at = env.now;
    }

    /// A seal acceptance with the acceptor's frozen votes: on a quorum the seal is chosen, and
    /// the newest vote of each key among the quorum goes to the next configuration.
    pub(super) fn on_seal_accepted(
        &mut self,
        from: NodeId,
        range: RangeId,
        ballot: Ballot,
        frozen: &Handover,
        env: &mut Env,
    ) {
        let Some(round) = self.range_round_for(range, ballot, from) else {
            return;
        };
        let quorum = round.from.quorum();
        let RangeStep::Accepting { next, tally, votes } = &mut round.step else {
            return;
        };
        if !tally.yes(from, ()) {
            return;
        }
        for (key, vote) in frozen.iter() {
            match votes.get_mut(key) {
                Some(v) if v.ballot >= vote.ballot => {}
                Some(v) => *v = vote.clone(),
                None => {
                    votes.insert(Rc::clone(key), vote.clone());
                }
            }
        }
        if tally.yes.len() < quorum {
            return;
        }
        let next = Rc::clone(next);
        let votes: Handover = votes
            .iter()
            .map(|(k, v)| (Rc::clone(k), v.clone()))
            .collect();
        for m in &next.members {
            let message = Message::Install {
                config: Rc::clone(&next),
                votes: Rc::clone(&votes),
                established: false,
            };
            env.send(m.id, message);
            if !round.from.has_node(m.id) {
                for (key, vote) in votes.iter() {
                    if vote.state.version > 0 {
                        env.out.observations.push(Observation::HandedOver {
                            key: Rc::clone(key),
                            to: m.id,
                        });
                    }
                }
            }
        }
        round.step = RangeStep::Installing {
            next,
            votes,
            tally: Tally::new(),
        };
        round.sent_at = env.now;
    }

    /// A seal refusal.
    pub(super) fn on_seal_refuse(
        &mut self,
        from: NodeId,
        range: RangeId,
        ballot: Ballot,
        why: &Refusal,
        env: &mut Env,
    ) {
        let rtt = self.rtt_ticks;
        let state = &mut self.ranges[usize::from(range.0)];
        match why {
            Refusal::Promised(p) => state.seal_seen = state.seal_seen.max(*p),
            Refusal::Moved(config) => self.learn_config(config),
            Refusal::NotReady => {}
        }
        // A seat of the sealed configuration that never recovered it cannot vote on the seal:
        // if this node holds a seat there, hand it this node's votes (a copy of a seat's votes
        // is as good as the accepts reaching it late), so that the next attempt finds a quorum.
        let state = &self.ranges[usize::from(range.0)];
        let sealing = self.range_rounds.get(&range).map(|r| &r.from);
        if let Some(config) = sealing.filter(|c| state.seat.config() == Some(*c)) {
            if *why == Refusal::NotReady {
                let message = Message::Install {
                    config: Rc::clone(config),
                    votes: state.handover(),
                    established: state.established,
                };
                env.send(from, message);
            }
        }
        let Some(round) = self.range_round_for(range, ballot, from) else {
            return;
        };
        // A member that moved on does not vote in this epoch any more. That is not a reason to
        // stop: hearing of a newer epoch does not mean it is installed, and a seal this round
        // may have to finish could still be the only way there.
        let config = &round.from;
        let alive = |seat| env.alive(seat);
        let hopeless = match &mut round.step {
            RangeStep::Preparing(tally) => tally.no(from) && tally.hopeless(config, alive),
            RangeStep::Accepting { tally, .. } => tally.no(from) && tally.hopeless(config, alive),
            RangeStep::Installing { .. } | RangeStep::Backoff { .. } => false,
        };
        if hopeless {
            round.failures += 1;
            let window = rtt << round.failures.min(6);
            round.step = RangeStep::Backoff {
                until: backoff_until(window, env),
            };
        }
    }

    /// A new seat installed the range: on a quorum the handover is done; tell the old and new
    /// seats (old ones drop the range, new ones can vouch for it) and everyone else.
    pub(super) fn on_installed(&mut self, from: NodeId, range: RangeId, epoch: u64, env: &mut Env) {
        let Some(round) = self.range_rounds.get_mut(&range) else {
            return;
        };
        let RangeStep::Installing { next, tally, .. } = &mut round.step else {
            return;
        };
        if next.epoch != epoch || !next.has_node(from) {
            return;
        }
        if !tally.yes(from, ()) || tally.yes.len() < next.quorum() {
            return;
        }
        let next = Rc::clone(next);
        // Everyone hears of it, not only the seats: coordinators route their first prepare by
        // the newest configuration they know, and a stale one costs a redirect round trip.
        let mut to = recipients(&round.from, &next.members);
        to.extend(env.membership.view().iter().copied());
        to.sort_unstable();
        to.dedup();
        self.range_rounds.remove(&range);
        env.out
            .observations
            .push(Observation::HandoverDone { range, epoch });
        for id in to {
            let config = Rc::clone(&next);
            env.send(id, Message::Established { config });
        }
        // The seal may have carried an older round's choice: if that is not where this node's
        // ring places the range, hand it over again now rather than at the next sweep.
        self.learn_config(&next);
        let target = self.target(usize::from(range.0), env);
        if !target.is_empty() && !next.same_seats(&target) {
            self.start_range_round(next, target, false, env);
        }
    }

    /// Deadlines, backoffs and resends of range rounds.
    pub(super) fn range_timers(&mut self, env: &mut Env) {
        let resend = self.resend_ticks(env.params.op_timeout_ticks);
        let ranges: Vec<RangeId> = self.range_rounds.keys().copied().collect();
        for range in ranges {
            let Some(round) = self.range_rounds.get_mut(&range) else {
                continue;
            };
            if env.now >= round.deadline {
                self.range_rounds.remove(&range);
                continue;
            }
            let due = env.now >= round.sent_at + resend;
            let ballot = round.ballot;

            match &round.step {
                RangeStep::Backoff { until } if env.now >= *until => {
                    self.range_attempt(range, env);
                    continue;
                }
                RangeStep::Backoff { .. } => {}
                _ if !due => {}
                RangeStep::Preparing(tally) => {
                    for m in round.from.members.iter().filter(|m| !tally.answered(m.id)) {
                        env.send(m.id, Message::SealPrepare { range, ballot });
                    }
                }
                RangeStep::Accepting { next, tally, .. } => {
                    for m in round.from.members.iter().filter(|m| !tally.answered(m.id)) {
                        let next = Rc::clone(next);
                        env.send(
                            m.id,
                            Message::SealAccept {
                                range,
                                ballot,
                                next,
                            },
                        );
                    }
                }
                RangeStep::Installing { next, votes, tally } => {
                    for m in next.members.iter().filter(|m| !tally.answered(m.id)) {
                        let message = Message::Install {
                            config: Rc::clone(next),
                            votes: Rc::clone(votes),
                            established: false,
                        };
                        env.send(m.id, message);
                    }
                }
            }
            if due {
                round.sent_at = env.now;
            }
        }
    }

    /// The steward sends its digest of the range's key ballots to the other seats.
    pub(super) fn send_sync(&mut self, range: usize, env: &mut Env) {
        let me = self.me;
        let state = &mut self.ranges[range];
        state.resync_at = None;
        let super::Seat::Voter(config) = &state.seat else {
            return;
        };
        state.sync_replies.clear();
        let [latest, previous] = &mut state.out_of_sync;
        *previous = std::mem::take(latest);
        let digest: Rc<[(Rc<str>, Option<Ballot>)]> = state
            .keys
            .iter()
            .map(|(k, s)| (Rc::clone(k), s.vote.as_ref().map(|v| v.ballot)))
            .collect();
        for m in config.members.iter().filter(|&&m| m != me) {
            let message = Message::Sync {
                range: RangeId(range as u16),
                epoch: config.epoch,
                digest: Rc::clone(&digest),
            };
            env.send(m.id, message);
        }
    }

    /// A seat's answer to the steward's sync: install it if it is not a voter of the epoch,
    /// count it towards establishing the epoch, and bring the keys that differ together.
    ///
    /// A vote that a quorum of seats holds was chosen, so the seats behind it (the steward
    /// included) just take it as a commit. Anything else that stays out of sync across two
    /// syncs gets an identity round, once the key has been idle here for an operation timeout.
    pub(super) fn on_sync_reply(
        &mut self,
        from: NodeId,
        range: RangeId,
        epoch: u64,
        standing: Standing,
        stale: &super::acceptor::SyncStale,
        env: &mut Env,
    ) {
        let state = &mut self.ranges[usize::from(range.0)];
        let super::Seat::Voter(config) = &state.seat else {
            return;
        };
        if config.epoch != epoch || !config.has_node(from) {
            return;
        }
        let quorum = config.quorum();
        if standing == Standing::Sealed {
            // A seat froze for a seal that did not finish while the others went on voting:
            // only a seal round can release it (finishing that seal, or superseding it).
            let (config, target) = (Rc::clone(config), self.target(usize::from(range.0), env));
            if !target.is_empty() {
                self.start_range_round(config, target, true, env);
            }
            return;
        }
        if standing == Standing::Absent {
            let votes = state.handover();
            for (key, vote) in votes.iter() {
                if vote.state.version > 0 {
                    env.out.observations.push(Observation::HandedOver {
                        key: Rc::clone(key),
                        to: from,
                    });
                }
            }
            let message = Message::Install {
                config: Rc::clone(config),
                votes,
                established: state.established,
            };
            return env.send(from, message);
        }
        if state.sync_replies.iter().any(|(id, _)| *id == from) {
            return; // a duplicate
        }
        state.sync_replies.push((from, Rc::clone(stale)));
        if state.sync_replies.len() + 1 >= quorum {
            state.established = true;
        }
        // For each key a seat listed, the newest vote a quorum of seats holds was chosen: the
        // seats behind it (the steward included) can take it as a commit, no round needed.
        let mut listed: Vec<&Rc<str>> = state
            .sync_replies
            .iter()
            .flat_map(|(_, l)| l.iter().map(|(k, _)| k))
            .collect();
        listed.sort();
        listed.dedup();
        let mut commits: Vec<(Option<NodeId>, Rc<str>, Vote)> = Vec::new();
        let mut settled = BTreeSet::new();
        for key in listed {
            let mine = state.keys.get(key).and_then(|s| s.vote.as_ref());
            // Every seat's vote: a seat that did not list the key holds the steward's.
            let votes: Vec<(Option<NodeId>, Option<&Vote>)> = std::iter::once((None, mine))
                .chain(state.sync_replies.iter().map(|(member, l)| {
                    let theirs = l.iter().find(|(k, _)| k == key);
                    (Some(*member), theirs.map_or(mine, |(_, v)| v.as_ref()))
                }))
                .collect();
            let holders = |b: Ballot| {
                votes
                    .iter()
                    .filter(|(_, v)| v.is_some_and(|v| v.ballot == b))
                    .count()
            };
            let chosen = votes
                .iter()
                .filter_map(|(_, v)| *v)
                .filter(|v| holders(v.ballot) >= quorum)
                .max_by_key(|v| v.ballot);
            if let Some(chosen) = chosen {
                // Settled unless a seat holds a vote above the chosen one: a leftover of a
                // round that did not finish, which only a round can resolve.
                if votes
                    .iter()
                    .all(|(_, v)| v.map(|v| v.ballot) <= Some(chosen.ballot))
                {
                    settled.insert(Rc::clone(key));
                }
                for (seat, v) in &votes {
                    if v.map(|v| v.ballot) < Some(chosen.ballot) {
                        commits.push((*seat, Rc::clone(key), chosen.clone()));
                    }
                }
            }
        }
        let mut repairs = Vec::new();
        let quiet_ticks = self.resend_ticks(env.params.op_timeout_ticks);
        let state = &mut self.ranges[usize::from(range.0)];
        let [latest, previous] = &mut state.out_of_sync;
        for (key, _) in stale.iter().filter(|(k, _)| !settled.contains(k)) {
            latest.insert(Rc::clone(key));
            let idle = state
                .keys
                .get(key)
                .is_none_or(|s| env.now >= s.touched_at + quiet_ticks);
            if previous.contains(key) && idle {
                repairs.push(Rc::clone(key));
            } else if state.resync_at.is_none() {
                state.resync_at = Some(env.now + quiet_ticks);
            }
        }
        for (seat, key, vote) in commits {
            env.out.observations.push(Observation::ReadRepair {
                key: Rc::clone(&key),
            });
            match seat {
                Some(to) => env.send(to, Message::Commit { key, vote }),
                None => self.on_commit(&key, &vote, env),
            }
        }
        for key in &repairs {
            self.start_repair(key, env);
        }
    }
}
