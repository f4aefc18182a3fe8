//! Range hand-overs: a seal round at a quorum of the range's configuration freezes its votes and
//! chooses the next configuration; the install phase hands those votes to a quorum of the new
//! seats, and the range is established in its new epoch.

use super::round::{backoff_until, recipients, send_install, Refusals, Tally};
use super::{Env, VersionedStore};
use crate::agreement::{Ballot, Config, Handover, RangeId, Refusal, Replica, SealVote, Vote};
use crate::ids::{NodeId, Tick};
use crate::message::Message;
use crate::observation::Observation;
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub(super) enum RangeStep {
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

impl RangeStep {
    /// The seal phase that awaits answers, if any (an install counts no refusals; a backoff
    /// awaits none).
    fn phase(&mut self) -> Option<&mut dyn Refusals> {
        match self {
            RangeStep::Preparing(tally) => Some(tally),
            RangeStep::Accepting { tally, .. } => Some(tally),
            RangeStep::Installing { .. } | RangeStep::Backoff { .. } => None,
        }
    }
}

/// A handover this node drives: seal the range's configuration at a quorum of it, then install
/// the next one at a quorum of the new seats.
#[derive(Debug, Clone)]
pub(super) struct RangeRound {
    pub(super) from: Rc<Config>,
    pub(super) target: Vec<Replica>,
    pub(super) ballot: Ballot,
    pub(super) step: RangeStep,
    pub(super) sent_at: Tick,
    pub(super) deadline: Tick,
    /// Attempts that failed so far: each one doubles the backoff window, so that two nodes
    /// driving the same seal (views differ for a while) stop pre-empting each other.
    pub(super) failures: u32,
    /// Whether the round must seal even if the ring names the current seats again: it is
    /// there to release seats frozen by a seal that did not finish (an epoch bump does).
    pub(super) release: bool,
}

impl RangeRound {
    /// Moves the round to the phase `step` and sends it to every member.
    fn begin(&mut self, step: RangeStep, env: &mut Env) {
        self.step = step;
        self.send_phase(false, env);
        self.sent_at = env.now;
    }

    /// Sends the phase in flight to its members: to all of them when it starts, only to the
    /// silent ones on a `resend`.
    fn send_phase(&self, resend: bool, env: &mut Env) {
        let (range, ballot) = (self.from.range, self.ballot);
        let due = |answered: bool| !(resend && answered);
        match &self.step {
            RangeStep::Preparing(tally) => {
                for m in self
                    .from
                    .members
                    .iter()
                    .filter(|m| due(tally.answered(m.id)))
                {
                    env.send(m.id, Message::SealPrepare { range, ballot });
                }
            }
            RangeStep::Accepting { next, tally, .. } => {
                for m in self
                    .from
                    .members
                    .iter()
                    .filter(|m| due(tally.answered(m.id)))
                {
                    let next = Rc::clone(next);
                    let message = Message::SealAccept {
                        range,
                        ballot,
                        next,
                    };
                    env.send(m.id, message);
                }
            }
            RangeStep::Installing { next, votes, tally } => {
                for m in next.members.iter().filter(|m| due(tally.answered(m.id))) {
                    send_install(m.id, next, Rc::clone(votes), false, env);
                }
            }
            RangeStep::Backoff { .. } => {}
        }
    }

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

impl VersionedStore {
    /// The range round an answer from `from` under `ballot` belongs to, if still running.
    pub(super) fn range_round_for(
        &mut self,
        range: RangeId,
        ballot: Ballot,
        from: NodeId,
    ) -> Option<&mut RangeRound> {
        self.range_rounds
            .get_mut(&range)
            .filter(|r| r.ballot == ballot && r.from.has_node(from))
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

    pub(super) fn range_attempt(&mut self, range: RangeId, env: &mut Env) {
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
        round.ballot = ballot;
        round.begin(RangeStep::Preparing(Tally::new()), env);
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
        let target = self.target(usize::from(range.0));
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
        round.begin(
            RangeStep::Accepting {
                next,
                tally: Tally::new(),
                votes: BTreeMap::new(),
            },
            env,
        );
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
        round.begin(
            RangeStep::Installing {
                next,
                votes,
                tally: Tally::new(),
            },
            env,
        );
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
                send_install(from, config, state.handover(), state.established, env);
            }
        }
        let Some(round) = self.range_round_for(range, ballot, from) else {
            return;
        };
        // A member that moved on does not vote in this epoch any more. That is not a reason to
        // stop: hearing of a newer epoch does not mean it is installed, and a seal this round
        // may have to finish could still be the only way there.
        let alive = |seat| env.alive(seat);
        let hopeless = round
            .step
            .phase()
            .is_some_and(|phase| phase.refuse(from, &round.from, &alive));
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
        let target = self.target(usize::from(range.0));
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
            match &round.step {
                RangeStep::Backoff { until } if env.now >= *until => {
                    self.range_attempt(range, env);
                    continue;
                }
                RangeStep::Backoff { .. } => {}
                _ if due => round.send_phase(true, env),
                _ => {}
            }
            if due {
                round.sent_at = env.now;
            }
        }
    }
}
