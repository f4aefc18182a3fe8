//! The steward's anti-entropy: it sends the other seats a digest of the range's key ballots,
//! commits what a quorum of seats already holds to the seats behind, installs seats that have
//! not recovered the range, and repairs keys that stay out of sync.

use super::round::send_install;
use super::{Env, VersionedStore};
use crate::agreement::{Ballot, RangeId, Standing, Vote};
use crate::bugs::PlantedBug;
use crate::ids::NodeId;
use crate::message::{Message, SyncDigest, SyncStale};
use crate::observation::Observation;
use std::collections::BTreeSet;
use std::rc::Rc;

impl VersionedStore {
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
        let digest: SyncDigest = state
            .keys
            .iter()
            .map(|(k, s)| (Rc::clone(k), s.vote.as_ref().map(|v| v.ballot)))
            .collect();
        state.syncs_sent += 1;
        state.sync_digest = Rc::clone(&digest);
        for m in config.members.iter().filter(|&&m| m != me) {
            let message = Message::Sync {
                range: RangeId(range as u16),
                epoch: config.epoch,
                sync: state.syncs_sent,
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
        (epoch, sync): (u64, u64),
        standing: Standing,
        stale: &SyncStale,
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
            let (config, target) = (Rc::clone(config), self.target(usize::from(range.0)));
            if !target.is_empty() {
                self.start_range_round(config, target, true, env);
            }
            return;
        }
        if standing == Standing::Absent {
            let votes = state.handover();
            return send_install(from, config, votes, state.established, env);
        }
        let config = Rc::clone(config);
        if sync != state.syncs_sent {
            return; // a late answer to an earlier sync: what it lists is against that digest
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
            let sent = state
                .sync_digest
                .binary_search_by(|(k, _)| k.cmp(key))
                .ok()
                .and_then(|i| state.sync_digest[i].1);
            // Planted bug `sync-trusts-moved-vote`: the check is skipped.
            if mine.map(|v| v.ballot) != sent && env.params.bug != PlantedBug::SyncTrustsMovedVote {
                // This node voted on the key since its digest: the seats that did not list it
                // hold the digest's vote, not this one. The next sync judges the key.
                continue;
            }
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
                ballot: vote.ballot,
                seats: config.seat_nodes(),
            });
            match seat {
                Some(to) => {
                    let vote = Box::new(vote);
                    env.send(to, Message::Commit { key, vote })
                }
                None => self.on_commit(&key, &vote, env),
            }
        }
        for key in &repairs {
            self.start_repair(key, env);
        }
    }
}
