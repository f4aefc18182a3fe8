//! Per-key rounds, CASPaxos style: phase 1 (prepare / promise) learns the newest state at a
//! quorum of the key's range, phase 2 (accept) installs what the client operation (or a repair,
//! the identity) makes of it; deadlines, resends and ballot races.

use super::client_op::{apply, Answer, Purpose, Verdict};
use super::round::{backoff_until, recipients, Refusals, Tally};
use super::{newest_vote, Env, VersionedStore};
use crate::agreement::{Ballot, Config, Refusal, Versioned, Vote, WriteId, LINEAGE_WRITES};
use crate::bugs::PlantedBug;
use crate::client::{Ack, Reason};
use crate::ids::{NodeId, Tick};
use crate::message::Message;
use crate::observation::Observation;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub(super) enum KeyStep {
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

// `KeyStep::phase` / `RangeStep::phase` and the two `send_phase`s only look alike: they pick
// the variants of two different step enums and build two different sets of messages.
impl KeyStep {
    /// The phase that awaits answers, if any (a backoff awaits none).
    fn phase(&mut self) -> Option<&mut dyn Refusals> {
        match self {
            KeyStep::Preparing(tally) => Some(tally),
            KeyStep::Accepting { tally, .. } => Some(tally),
            KeyStep::Backoff { .. } => None,
        }
    }
}

/// A round this node drives for one key.
#[derive(Debug, Clone)]
pub(super) struct KeyRound {
    pub(super) purpose: Purpose,
    pub(super) config: Rc<Config>,
    pub(super) ballot: Ballot,
    pub(super) step: KeyStep,
    pub(super) sent_at: Tick,
    pub(super) deadline: Tick,
    /// Ballot races lost so far: the first is retried at once (the refusal usually comes from
    /// a promise left behind by a round that gave up), later ones after a random backoff.
    pub(super) conflicts: u32,
}

impl KeyRound {
    /// Moves the round to the phase `step` and sends it to every member.
    fn begin(&mut self, key: &Rc<str>, step: KeyStep, env: &mut Env) {
        self.step = step;
        self.send_phase(key, false, env);
        self.sent_at = env.now;
    }

    /// Sends the phase in flight to the members of the round's configuration: to all of them
    /// when it starts, only to the silent ones on a `resend`. (A new attempt's prepare also
    /// goes to the replicas the ring names: [`VersionedStore::key_attempt`].)
    fn send_phase(&self, key: &Rc<str>, resend: bool, env: &mut Env) {
        let ballot = self.ballot;
        let due = |answered: bool| !(resend && answered);
        match &self.step {
            KeyStep::Preparing(tally) => {
                for m in self
                    .config
                    .members
                    .iter()
                    .filter(|m| due(tally.answered(m.id)))
                {
                    let key = Rc::clone(key);
                    env.send(m.id, Message::Prepare { key, ballot });
                }
            }
            KeyStep::Accepting { state, tally, .. } => {
                for m in self
                    .config
                    .members
                    .iter()
                    .filter(|m| due(tally.answered(m.id)))
                {
                    let message = Message::Accept {
                        key: Rc::clone(key),
                        ballot,
                        state: Box::new(state.clone()),
                        op: self.purpose.op_ref(),
                    };
                    env.send(m.id, message);
                }
            }
            KeyStep::Backoff { .. } => {}
        }
    }

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

impl VersionedStore {
    /// The key round an answer from `from` under `ballot` belongs to, if still running.
    pub(super) fn key_round_for(
        &mut self,
        key: &str,
        ballot: Ballot,
        from: NodeId,
    ) -> Option<&mut KeyRound> {
        self.key_rounds
            .get_mut(key)
            .filter(|r| r.ballot == ballot && r.config.has_node(from))
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

    pub(super) fn start_key_round(
        &mut self,
        key: Rc<str>,
        purpose: Purpose,
        deadline: Tick,
        env: &mut Env,
    ) {
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
    pub(super) fn key_attempt(&mut self, key: &Rc<str>, env: &mut Env) {
        let range = self.range_of(key);
        let config = Rc::clone(&self.ranges[range].newest);
        let seen = self.seen.get(key).copied().unwrap_or(Ballot::ZERO);
        let ballot = self.new_ballot(seen, config.epoch, env.now);
        self.note_ballot(key, ballot);
        let to = recipients(&config, &self.targets[range]);
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
    pub(super) fn propose(&mut self, key: &Rc<str>, env: &mut Env) {
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
        let (state, answer) = match &mut round.purpose {
            Purpose::Repair => (current, Answer::Repaired),
            Purpose::Client(c) => {
                let writer = WriteId {
                    node: me.id,
                    incarnation: me.incarnation,
                    txn: c.txn,
                };
                let beyond_lineage = c
                    .first_base
                    .is_some_and(|base| current.version > base + LINEAGE_WRITES as u64);
                if current.written_by(writer) {
                    (current, Answer::Wrote) // an earlier attempt's write got in
                } else if beyond_lineage {
                    // The chain moved on too far to tell whether an earlier attempt got in.
                    return self.finish_client(key, Verdict::failed(false, Reason::NoQuorum), env);
                } else {
                    let (state, answer) = apply(&c.request, &current, writer);
                    if matches!(answer, Answer::Wrote) && c.first_base.is_none() {
                        c.first_base = Some(current.version);
                    }
                    (state, answer)
                }
            }
        };
        round.begin(
            key,
            KeyStep::Accepting {
                state,
                answer,
                tally: Tally::new(),
                repairing,
                chosen: false,
            },
            env,
        );
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
        // Planted bugs: `first-accept-decides` takes the first acceptance as chosen for the
        // commits (the client's answer still waits for a quorum, below); `wait-for-all-accepts`
        // decides and answers only once every seat accepted.
        let (decides, needed) = match env.params.bug {
            PlantedBug::FirstAcceptDecides => (1, quorum),
            PlantedBug::WaitForAllAccepts => (members, members),
            _ => (quorum, quorum),
        };
        if !tally.yes(from, ()) {
            return;
        }
        if tally.yes.len() >= decides && !*chosen {
            *chosen = true;
            let seats = round.config.seat_nodes();
            env.out.observations.push(Observation::Decided {
                key: Rc::clone(key),
                ballot,
                seats: Rc::clone(&seats),
            });
            let vote = Vote {
                ballot,
                state: state.clone(),
            };
            // Every seat that did not accept gets it, a seat that refused included.
            for m in &round.config.members {
                if !tally.ids().any(|id| id == m.id) {
                    let key = Rc::clone(key);
                    let vote = Box::new(vote.clone());
                    env.send(m.id, Message::Commit { key, vote });
                }
            }
            if *repairing {
                env.out.observations.push(Observation::ReadRepair {
                    key: Rc::clone(key),
                    ballot,
                    seats,
                });
            }
        }
        if tally.yes.len() < needed {
            return; // not chosen yet
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
        let alive = |seat| env.alive(seat);
        let hopeless = round
            .step
            .phase()
            .is_some_and(|phase| phase.refuse(from, &round.config, &alive));
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
                KeyStep::Preparing(_) | KeyStep::Accepting { .. }
                    if env.now >= round.sent_at + resend =>
                {
                    round.send_phase(&key, true, env);
                    round.sent_at = env.now;
                }
                KeyStep::Preparing(_) | KeyStep::Accepting { .. } => {}
            }
        }
        self.expire_waiting(env);
    }
}
