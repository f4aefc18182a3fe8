//! The acceptor side of range rounds: a seat's answers to seals and installs, establishment of
//! a new epoch, and its answers to the steward's syncs and to queries about where a range went.

use super::acceptor::{KeySlot, Seat};
use super::round::send_install;
use super::{Env, VersionedStore};
use crate::agreement::{Ballot, Config, Handover, RangeId, Refusal, SealVote, Standing, Vote};
use crate::ids::NodeId;
use crate::message::Message;
use crate::observation::Observation;
use std::collections::BTreeMap;
use std::rc::Rc;

impl VersionedStore {
    /// Phase 1 of a range's seal round.
    pub(super) fn on_seal_prepare(
        &mut self,
        from: NodeId,
        range: RangeId,
        ballot: Ballot,
        env: &mut Env,
    ) {
        let r = usize::from(range.0);
        let state = &mut self.ranges[r];
        state.seal_seen = state.seal_seen.max(ballot);
        let reply = if state.seat.config().map(|c| c.epoch) != Some(ballot.epoch) {
            Message::SealRefuse {
                range,
                ballot,
                why: self.refusal_noted(r, ballot.epoch, env),
            }
        } else if ballot >= state.seal_promised {
            state.seal_promised = ballot;
            Message::SealPromise {
                range,
                ballot,
                vote: state.seal_vote.clone(),
            }
        } else {
            Message::SealRefuse {
                range,
                ballot,
                why: Refusal::Promised(state.seal_promised),
            }
        };
        env.send(from, reply);
    }

    /// Phase 2 of a range's seal round: accepting it freezes the range's keys here, and the
    /// answer carries their votes to the proposer, which hands them to the next configuration.
    pub(super) fn on_seal_accept(
        &mut self,
        from: NodeId,
        range: RangeId,
        ballot: Ballot,
        next: &Rc<Config>,
        env: &mut Env,
    ) {
        let r = usize::from(range.0);
        let now = env.now;
        let state = &mut self.ranges[r];
        state.seal_seen = state.seal_seen.max(ballot);
        let Some(config) = state.seat.config().cloned() else {
            let why = self.refusal_noted(r, ballot.epoch, env);
            return env.send(from, Message::SealRefuse { range, ballot, why });
        };
        if config.epoch != ballot.epoch || next.epoch != config.epoch + 1 || next.range != range {
            let why = self.refusal_noted(r, ballot.epoch, env);
            return env.send(from, Message::SealRefuse { range, ballot, why });
        }
        if ballot < state.seal_promised {
            let why = Refusal::Promised(state.seal_promised);
            return env.send(from, Message::SealRefuse { range, ballot, why });
        }
        state.seal_promised = ballot;
        state.seal_vote = Some(SealVote {
            ballot,
            next: Rc::clone(next),
        });
        if matches!(state.seat, Seat::Voter(_)) {
            state.seat = Seat::Frozen { config, since: now };
        }
        let votes = state.handover();
        env.send(
            from,
            Message::SealAccepted {
                range,
                ballot,
                votes,
            },
        );
    }

    /// Becomes a voter of `config` from the handed-over votes, unless it already is one (or
    /// holds a newer seat, or is not a member).
    pub(super) fn on_install(
        &mut self,
        from: NodeId,
        config: &Rc<Config>,
        votes: &Handover,
        established: bool,
        env: &mut Env,
    ) {
        self.learn_config(config);
        if !config.has(self.me) {
            return;
        }
        let range = config.range;
        let state = &mut self.ranges[usize::from(range.0)];
        let seat_epoch = state.seat.config().map(|c| c.epoch);
        if state.seat.votes_in(config.epoch) {
            state.established |= established;
        } else if seat_epoch.is_some_and(|e| e >= config.epoch) || state.newest.epoch > config.epoch
        {
            return; // a stale handover
        } else {
            let keys = votes
                .iter()
                .map(|(k, v)| {
                    let slot = KeySlot {
                        promised: v.ballot,
                        vote: Some(v.clone()),
                        touched_at: env.now,
                    };
                    (Rc::clone(k), slot)
                })
                .collect();
            state.replace_keys(keys, &mut env.out.observations);
            // An installed vote is this seat's vote, as if the accept had reached it late: the
            // seat's syncs count it as held, so the checker counts it as voted.
            env.out
                .observations
                .extend(votes.iter().map(|(key, v)| Observation::Voted {
                    key: Rc::clone(key),
                    ballot: v.ballot,
                }));
            state.seat = Seat::Voter(Rc::clone(config));
            state.established = established;
            state.seal_promised = Ballot::ZERO;
            state.seal_vote = None;
            env.out.observations.push(Observation::RangeRecovered {
                range,
                epoch: config.epoch,
            });
            self.drop_obsolete_round(range);
        }
        env.send(
            from,
            Message::Installed {
                range,
                epoch: config.epoch,
            },
        );
    }

    /// A quorum of `config` holds the range: members may vouch for it; a node outside it that
    /// holds an older seat drops the range (nothing it holds is needed for a handover any more).
    pub(super) fn on_established(&mut self, config: &Rc<Config>, env: &mut Env) {
        self.learn_config(config);
        let state = &mut self.ranges[usize::from(config.range.0)];
        if config.has(self.me) {
            if state.seat.votes_in(config.epoch) {
                state.established = true;
            }
            return;
        }
        if state.seat.config().is_some_and(|c| c.epoch < config.epoch) {
            state.replace_keys(BTreeMap::new(), &mut env.out.observations);
            state.seat = Seat::Outside;
            state.established = false;
            self.drop_obsolete_round(config.range);
        }
    }

    /// A steward's digest: answer which keys differ (or that this node is not a voter of that
    /// epoch, so the steward installs it).
    pub(super) fn on_sync(
        &mut self,
        from: NodeId,
        range: RangeId,
        (epoch, sync): (u64, u64),
        digest: &[(Rc<str>, Option<Ballot>)],
        env: &mut Env,
    ) {
        let state = &self.ranges[usize::from(range.0)];
        if state.newest.epoch > epoch {
            // The steward is behind: tell it what this node knows.
            return self.on_query(from, range, env);
        }
        let standing = match &state.seat {
            Seat::Voter(c) if c.epoch == epoch => Standing::Voter,
            Seat::Frozen { config, .. } if config.epoch == epoch => Standing::Sealed,
            Seat::Voter(_) | Seat::Frozen { .. } | Seat::Outside => Standing::Absent,
        };
        let mut stale: Vec<(Rc<str>, Option<Vote>)> = Vec::new();
        if standing == Standing::Voter {
            let mine = |key: &str| state.keys.get(key).and_then(|s| s.vote.as_ref());
            stale.extend(
                digest
                    .iter()
                    .filter(|(k, b)| mine(k).map(|v| v.ballot) != *b)
                    .map(|(k, _)| (Rc::clone(k), mine(k).cloned())),
            );
            stale.extend(state.keys.iter().filter_map(|(k, s)| {
                let vote = s.vote.as_ref()?;
                (!digest.iter().any(|(d, _)| d == k)).then(|| (Rc::clone(k), Some(vote.clone())))
            }));
        }
        env.send(
            from,
            Message::SyncReply {
                range,
                epoch,
                sync,
                standing,
                stale: stale.into(),
            },
        );
    }

    /// A node asks about a range: a voter hands it the range if it is a member, or, once the
    /// configuration is established, tells it so (so it may drop an old seat).
    ///
    /// A sealed (frozen) seat answers too: its votes are final votes of its epoch, and a member
    /// that never voted in that epoch may take them as if the accepts had reached it late. That
    /// keeps a range alive when its last voter froze for a seal whose proposer then crashed.
    pub(super) fn on_query(&mut self, from: NodeId, range: RangeId, env: &mut Env) {
        let state = &self.ranges[usize::from(range.0)];
        let Some(config) = state.seat.config() else {
            return;
        };
        if config.has_node(from) {
            send_install(from, config, state.handover(), state.established, env);
        } else if state.established {
            let config = Rc::clone(config);
            env.send(from, Message::Established { config });
        }
    }
}
