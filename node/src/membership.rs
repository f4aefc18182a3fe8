//! Gossip heartbeat membership with suspicion, removal, tombstones and rejoin.
//!
//! Every tick a node bumps its own heartbeat, and every `gossip_interval_ticks` (1 in the
//! original protocol) it gossips its table of non-suspected members to `gossip_fanout` random
//! members. A member whose heartbeat has not advanced for `tfail_ticks` is
//! suspected (and no longer gossiped, so stale entries do not spread); after `tremove_ticks` it is
//! removed and a tombstone remembers its last (incarnation, heartbeat), so that stale gossip can
//! never bring it back. A live member refutes a wrong suspicion simply by its heartbeat advancing:
//! any fresher entry clears the suspicion, or re-adds a member that was removed by mistake.
//! A restarted node comes back with a higher incarnation, which beats every tombstone.

use crate::ids::{Incarnation, NodeId, Tick};
use crate::message::{Digest, Message, Outbox, Outgoing};
use crate::observation::Observation;
use crate::params::{Params, PlantedBug};
use crate::random::{below, choose_distinct};
use crate::table::Table;
use rand_core::RngCore;

/// Slots in the dense member tables: one per possible node id. The tables are arrays of this
/// length, so indexing them by a `u8` id needs no bounds check (on every table entry merged).
const ID_SLOTS: usize = 256;

/// What this node knows about one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The member's incarnation.
    pub incarnation: Incarnation,
    /// The highest heartbeat heard for that incarnation.
    pub heartbeat: u64,
    /// Local time at which the heartbeat last advanced.
    pub heard_at: Tick,
    /// Whether the heartbeat is overdue.
    pub suspected: bool,
}

/// One node's membership view and failure detector.
#[derive(Debug, Clone)]
pub struct Membership {
    me: NodeId,
    members: Box<[Option<Member>; ID_SLOTS]>,
    tombstones: Box<[Option<(Incarnation, u64)>; ID_SLOTS]>,
    view: Vec<NodeId>,
    joined: bool,
    join_sent_at: Tick,
    version: u64,
    scratch: Vec<NodeId>,
    table_scratch: Vec<Digest>,
}

impl Membership {
    /// A node that has not started yet.
    pub fn new(me: NodeId) -> Membership {
        Membership {
            me,
            members: Box::new([None; ID_SLOTS]),
            tombstones: Box::new([None; ID_SLOTS]),
            view: Vec::new(),
            joined: false,
            join_sent_at: 0,
            version: 0,
            scratch: Vec::new(),
            table_scratch: Vec::new(),
        }
    }

    /// The current view, sorted by id, self included.
    pub fn view(&self) -> &[NodeId] {
        &self.view
    }

    /// What this node knows of a member in its view.
    pub fn member(&self, id: NodeId) -> Option<&Member> {
        self.members[usize::from(id.0)].as_ref()
    }

    /// Whether the node has been admitted to the group (its join was answered). Only the tests
    /// ask: the node itself reads the field, and no run reports it.
    #[cfg(test)]
    pub fn joined(&self) -> bool {
        self.joined
    }

    /// Bumps whenever the set of members or one of their incarnations changes, so the store knows
    /// when to rebuild its ring and stabilize.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Start (or restart) with only self in the view, and ask to join.
    pub fn start<R: RngCore + ?Sized>(
        &mut self,
        now: Tick,
        incarnation: Incarnation,
        params: &Params,
        rng: &mut R,
        out: &mut Outbox,
    ) {
        self.insert(
            self.me,
            Member {
                incarnation,
                heartbeat: 0,
                heard_at: now,
                suspected: false,
            },
            out,
        );
        if self.me == params.introducer && incarnation == 0 {
            self.joined = true;
        } else {
            self.send_join(now, params, rng, out);
        }
    }

    fn send_join<R: RngCore + ?Sized>(
        &mut self,
        now: Tick,
        params: &Params,
        rng: &mut R,
        out: &mut Outbox,
    ) {
        // An admitted node has every member's gossip coming in: asking again would only add a
        // join exchange per retry interval for nothing. (A panic here fails the run: `no-panic`.)
        assert!(
            !self.joined,
            "a node asks to join only before it is admitted"
        );
        self.join_sent_at = now;
        let first_try = self.me != params.introducer && self.self_entry().incarnation == 0;
        let target = if first_try {
            Some(params.introducer)
        } else {
            let others: Vec<NodeId> = params
                .seed_nodes
                .iter()
                .copied()
                .filter(|&s| s != self.me)
                .collect();
            (!others.is_empty()).then(|| others[below(rng, others.len() as u64) as usize])
        };
        if let Some(to) = target {
            let member = self.digest_of(self.me);
            out.send(to, Message::JoinRequest { member });
        }
    }

    fn self_entry(&self) -> &Member {
        self.members[usize::from(self.me.0)]
            .as_ref()
            .expect("a started node is in its own view")
    }

    fn digest_of(&self, id: NodeId) -> Digest {
        let m = self.members[usize::from(id.0)].expect("digest of a member in the view");
        Digest {
            id,
            incarnation: m.incarnation,
            heartbeat: m.heartbeat,
        }
    }

    /// The table this node gossips: every member it does not suspect, itself included.
    fn table(&mut self, params: &Params) -> Table {
        // Planted bug `stale-gossip-revives` gossips suspected members too.
        let gossip_suspected = params.bug == PlantedBug::StaleGossipRevives;
        let mut table = std::mem::take(&mut self.table_scratch);
        table.clear();
        for &id in &self.view {
            let m = self.members[usize::from(id.0)].expect("view member has an entry");
            if !m.suspected || gossip_suspected {
                table.push(Digest {
                    id,
                    incarnation: m.incarnation,
                    heartbeat: m.heartbeat,
                });
            }
        }
        let shared = Table::new(&table);
        self.table_scratch = table;
        shared
    }

    /// One tick of the node's clock: heartbeat, failure detection, gossip, probes, join retries.
    pub fn tick<R: RngCore + ?Sized>(
        &mut self,
        now: Tick,
        params: &Params,
        rng: &mut R,
        out: &mut Outbox,
    ) {
        if let Some(me) = self.members[usize::from(self.me.0)].as_mut() {
            me.heartbeat += 1;
            me.heard_at = now;
        }
        if !self.joined && now.saturating_sub(self.join_sent_at) >= params.join_retry_ticks {
            self.send_join(now, params, rng, out);
        }
        self.detect_failures(now, params, out);
        // Staggered by id, like the probes below, so that nodes do not all gossip in one tick.
        if (now + u64::from(self.me.0)).is_multiple_of(params.gossip_interval_ticks) {
            self.gossip(params, rng, out);
        }
        // Staggered by id so nodes do not all probe in one tick. An interval of 0 would never
        // be due (`is_multiple_of(0)` holds only for 0, and `now + id` is at least 1), though
        // seed-file validation already refuses it.
        if (now + u64::from(self.me.0)).is_multiple_of(params.probe_interval_ticks) {
            self.probe(params, rng, out);
        }
    }

    fn detect_failures(&mut self, now: Tick, params: &Params, out: &mut Outbox) {
        let mut i = 0;
        while i < self.view.len() {
            let id = self.view[i];
            let slot = usize::from(id.0);
            if id == self.me {
                i += 1;
                continue;
            }
            let member = self.members[slot]
                .as_mut()
                .expect("view member has an entry");
            let silent_ticks = now.saturating_sub(member.heard_at);
            let tremove_ticks = match params.bug {
                PlantedBug::SingleMissRemoval => 2,
                _ => params.tremove_ticks,
            };
            if silent_ticks >= tremove_ticks && params.bug != PlantedBug::NeverRemove {
                self.tombstones[slot] = Some((member.incarnation, member.heartbeat));
                self.members[slot] = None;
                self.view.remove(i);
                self.version += 1;
                out.observations
                    .push(Observation::MemberRemoved { member: id });
                continue;
            }
            if silent_ticks >= params.tfail_ticks && !member.suspected {
                member.suspected = true;
                out.observations
                    .push(Observation::MemberSuspected { member: id });
            }
            i += 1;
        }
    }

    fn gossip<R: RngCore + ?Sized>(&mut self, params: &Params, rng: &mut R, out: &mut Outbox) {
        if self.view.len() < 2 || params.gossip_fanout == 0 {
            return;
        }
        let mut targets = std::mem::take(&mut self.scratch);
        let me = self.me;
        targets.clear();
        targets.extend(self.view.iter().copied().filter(|&id| id != me));
        choose_distinct(rng, &mut targets, params.gossip_fanout);
        let members = self.table(params);
        // Extended, not pushed one by one: the copies are written straight into the outbox,
        // where a push built each on the stack first and copied it over in loads wider than
        // the stores that wrote it (they stalled).
        out.sends.extend(targets.iter().map(|&to| Outgoing {
            message: Message::Gossip {
                members: members.clone(),
            },
            to,
        }));
        self.scratch = targets;
    }

    /// Gossip to one seed node outside the view, so that groups split by a long partition (each
    /// side having removed the other) find each other again once it heals.
    fn probe<R: RngCore + ?Sized>(&mut self, params: &Params, rng: &mut R, out: &mut Outbox) {
        let outside: Vec<NodeId> = params
            .seed_nodes
            .iter()
            .copied()
            .filter(|&s| s != self.me && self.members[usize::from(s.0)].is_none())
            .collect();
        if outside.is_empty() || !self.joined {
            return;
        }
        let to = outside[below(rng, outside.len() as u64) as usize];
        out.send(
            to,
            Message::Gossip {
                members: self.table(params),
            },
        );
    }

    /// Handles a membership message; returns `false` if it was not one.
    pub fn on_message(
        &mut self,
        now: Tick,
        from: NodeId,
        message: &Message,
        params: &Params,
        out: &mut Outbox,
    ) -> bool {
        match message {
            Message::JoinRequest { member } => {
                self.merge(now, *member, params, out);
                if self.members[usize::from(member.id.0)].is_some() {
                    out.send(
                        from,
                        Message::JoinReply {
                            members: self.table(params),
                        },
                    );
                }
            }
            Message::JoinReply { members } => {
                self.joined = true;
                for &d in members.iter() {
                    self.merge(now, d, params, out);
                }
            }
            Message::Gossip { members } => {
                // Being gossiped to means some member counts us in: we are part of the group.
                self.joined = true;
                for &d in members.iter() {
                    self.merge(now, d, params, out);
                }
            }
            _ => return false,
        }
        true
    }

    /// Always inlined into the table loops: it runs once per entry of every table received
    /// (most of a run's node work), the compiler would not inline it on its own in `release`,
    /// and the call was about a fifth of its cost (6% of a grader scenario's instructions).
    #[inline(always)]
    fn merge(&mut self, now: Tick, d: Digest, params: &Params, out: &mut Outbox) {
        if d.id == self.me {
            return;
        }
        let slot = usize::from(d.id.0);
        match self.members[slot].as_mut() {
            Some(m) if d.incarnation > m.incarnation => {
                *m = Member {
                    incarnation: d.incarnation,
                    heartbeat: d.heartbeat,
                    heard_at: now,
                    suspected: false,
                };
                self.version += 1;
                out.observations.push(Observation::MemberRejoined {
                    member: d.id,
                    incarnation: d.incarnation,
                });
            }
            Some(m) => {
                if d.incarnation == m.incarnation && d.heartbeat > m.heartbeat {
                    m.heartbeat = d.heartbeat;
                    m.heard_at = now;
                    if m.suspected {
                        m.suspected = false;
                        out.observations
                            .push(Observation::SuspicionRefuted { member: d.id });
                    }
                }
            }
            None => {
                let fresh = params.bug == PlantedBug::StaleGossipRevives
                    || self.tombstones[slot]
                        .is_none_or(|(inc, hb)| (d.incarnation, d.heartbeat) > (inc, hb));
                if fresh {
                    self.insert(
                        d.id,
                        Member {
                            incarnation: d.incarnation,
                            heartbeat: d.heartbeat,
                            heard_at: now,
                            suspected: false,
                        },
                        out,
                    );
                }
            }
        }
    }

    fn insert(&mut self, id: NodeId, member: Member, out: &mut Outbox) {
        self.members[usize::from(id.0)] = Some(member);
        if let Err(at) = self.view.binary_search(&id) {
            self.view.insert(at, id);
        }
        self.version += 1;
        out.observations
            .push(Observation::MemberAdded { member: id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn digest(id: u8, incarnation: Incarnation, heartbeat: u64) -> Digest {
        Digest {
            id: NodeId(id),
            incarnation,
            heartbeat,
        }
    }

    fn gossip(m: &mut Membership, now: Tick, from: u8, entries: &[Digest], out: &mut Outbox) {
        let message = Message::Gossip {
            members: entries.into(),
        };
        assert!(m.on_message(now, NodeId(from), &message, &Params::original(10), out));
    }

    fn started(me: u8) -> (Membership, Params, ChaCha8Rng) {
        let params = Params::original(10);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut m = Membership::new(NodeId(me));
        m.start(0, 0, &params, &mut rng, &mut Outbox::default());
        (m, params, rng)
    }

    #[test]
    fn a_silent_member_is_suspected_then_removed_and_stale_gossip_cannot_revive_it() {
        let (mut m, params, mut rng) = started(1);
        let mut out = Outbox::default();
        gossip(&mut m, 0, 2, &[digest(2, 0, 5)], &mut out);
        assert_eq!(m.view(), [NodeId(1), NodeId(2)]);
        for now in 1..params.tfail_ticks {
            m.tick(now, &params, &mut rng, &mut out);
        }
        assert!(!m.member(NodeId(2)).unwrap().suspected);
        m.tick(params.tfail_ticks, &params, &mut rng, &mut out);
        assert!(m.member(NodeId(2)).unwrap().suspected);
        for now in params.tfail_ticks + 1..=params.tremove_ticks {
            m.tick(now, &params, &mut rng, &mut out);
        }
        assert_eq!(m.view(), [NodeId(1)]);
        assert!(out
            .observations
            .contains(&Observation::MemberRemoved { member: NodeId(2) }));
        gossip(&mut m, 30, 3, &[digest(2, 0, 5), digest(3, 0, 1)], &mut out);
        assert_eq!(
            m.view(),
            [NodeId(1), NodeId(3)],
            "the stale entry of 2 is not re-added"
        );
    }

    #[test]
    fn a_fresher_heartbeat_refutes_a_suspicion() {
        let (mut m, params, mut rng) = started(1);
        let mut out = Outbox::default();
        gossip(&mut m, 0, 2, &[digest(2, 0, 5)], &mut out);
        for now in 1..=params.tfail_ticks {
            m.tick(now, &params, &mut rng, &mut out);
        }
        assert!(m.member(NodeId(2)).unwrap().suspected);
        gossip(&mut m, 6, 3, &[digest(2, 0, 6)], &mut out);
        assert!(!m.member(NodeId(2)).unwrap().suspected);
        assert!(out
            .observations
            .contains(&Observation::SuspicionRefuted { member: NodeId(2) }));
    }

    #[test]
    fn a_wrongly_removed_live_member_comes_back_and_a_restart_beats_the_tombstone() {
        let (mut m, params, mut rng) = started(1);
        let mut out = Outbox::default();
        gossip(&mut m, 0, 2, &[digest(2, 0, 5)], &mut out);
        for now in 1..=params.tremove_ticks {
            m.tick(now, &params, &mut rng, &mut out);
        }
        assert_eq!(m.view(), [NodeId(1)]);
        gossip(&mut m, 21, 2, &[digest(2, 0, 30)], &mut out);
        assert_eq!(
            m.view(),
            [NodeId(1), NodeId(2)],
            "a live member's newer heartbeat re-adds it"
        );
        gossip(&mut m, 22, 2, &[digest(2, 1, 0)], &mut out);
        assert!(out.observations.contains(&Observation::MemberRejoined {
            member: NodeId(2),
            incarnation: 1
        }));
        assert_eq!(m.member(NodeId(2)).unwrap().incarnation, 1);
    }

    #[test]
    fn a_longer_gossip_interval_gossips_once_per_interval_staggered_by_id() {
        // Nodes 3 and 4 each know nodes 5 and 6 (heartbeats far ahead, so nobody is suspected
        // within the 30 ticks): with an interval of 3 each gossips to its view in 10 of them,
        // and never in the same tick as the other.
        let mut params = Params::original(10);
        params.gossip_interval_ticks = 3;
        params.tfail_ticks = 100;
        params.tremove_ticks = 200;
        let gossip_ticks = |me: u8| -> Vec<Tick> {
            let (mut m, _, mut rng) = started(me);
            let mut out = Outbox::default();
            gossip(
                &mut m,
                0,
                5,
                &[digest(5, 0, 50), digest(6, 0, 50)],
                &mut out,
            );
            (1..=30)
                .filter(|&now| {
                    let mut out = Outbox::default();
                    m.tick(now, &params, &mut rng, &mut out);
                    // To a member of its view: probes go to seeds outside it.
                    out.sends.iter().any(|sent| {
                        matches!(sent.message, Message::Gossip { .. })
                            && m.member(sent.to).is_some()
                    })
                })
                .collect()
        };
        let (three, four) = (gossip_ticks(3), gossip_ticks(4));
        assert_eq!((three.len(), four.len()), (10, 10), "{three:?} {four:?}");
        assert!(three.windows(2).all(|w| w[1] - w[0] == 3), "{three:?}");
        assert!(
            three.iter().all(|t| !four.contains(t)),
            "{three:?} {four:?}"
        );
    }

    #[test]
    fn joining_goes_through_the_introducer_and_gossip_reaches_fanout_members() {
        let params = Params::original(10);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut joiner = Membership::new(NodeId(4));
        let mut out = Outbox::default();
        joiner.start(0, 0, &params, &mut rng, &mut out);
        assert!(matches!(
            out.sends.as_slice(),
            [Outgoing {
                to: NodeId(1),
                message: Message::JoinRequest { .. }
            }]
        ));
        assert!(!joiner.joined());
        let (mut intro, _, _) = started(1);
        let mut intro_out = Outbox::default();
        let request = out.sends.pop().unwrap().message;
        intro.on_message(1, NodeId(4), &request, &params, &mut intro_out);
        assert_eq!(intro.view(), [NodeId(1), NodeId(4)]);
        let Outgoing { message: reply, to } = intro_out.sends.pop().unwrap();
        assert_eq!(to, NodeId(4));
        joiner.on_message(2, NodeId(1), &reply, &params, &mut out);
        assert!(joiner.joined());
        assert_eq!(joiner.view(), [NodeId(1), NodeId(4)]);
        for id in [5, 6, 7] {
            gossip(&mut joiner, 2, id, &[digest(id, 0, 1)], &mut out);
        }
        let mut out = Outbox::default();
        joiner.tick(3, &params, &mut rng, &mut out);
        let gossiped: Vec<NodeId> = out
            .sends
            .iter()
            .filter(|sent| matches!(sent.message, Message::Gossip { .. }))
            .map(|sent| sent.to)
            .collect();
        assert_eq!(gossiped.len(), params.gossip_fanout);
        assert!(gossiped.iter().all(|t| *t != NodeId(4)));
    }
}
