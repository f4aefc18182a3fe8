//! What a run records for the checker and the logs: client history, observations, process events.

use crate::net::SendFate;
use crate::run::checker_ballot;
use checker::record::{
    self, ClockRate, GossipPeak, HandoverKey, HandoverSeen, JoinRequest, KvInput, Operation,
    Outcome, ProcessEvent, QuickResend, RangeEvent, Stamp, UnchangedListed,
};
use node::agreement::{Ballot, Handover};
use node::{
    ClientReply, Message, NodeId, Observation, OpId, Reason, Request, SyncDigest, SyncStale, Tick,
};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The record of one run, filled as it goes.
#[derive(Debug, Default)]
pub struct Recorder {
    observations: Vec<(Tick, u64, NodeId, Observation)>,
    history: Vec<Operation>,
    open: BTreeMap<OpId, usize>,
    process_events: Vec<ProcessEvent>,
    join_requests: Vec<JoinRequest>,
    gossip_peak: Option<GossipPeak>,
    probe_peak: Option<GossipPeak>,
    range_events: Vec<RangeEvent>,
    handovers: Vec<HandoverKey>,
    phase_sends: PhaseSends,
    unchanged_listed: Vec<UnchangedListed>,
    clock_rates: Vec<ClockRate>,
    message_faults: MessageFaults,
}

/// The phase messages of rounds sent in the current tick and the one before, to find a message
/// sent to the same node again within a tick (for `resend-pacing`). Two ticks of sends, not the
/// whole run: a repeat further apart needs no record.
#[derive(Debug, Default)]
struct PhaseSends {
    tick: Tick,
    current: Vec<(PhaseSend, Tick)>,
    previous: Vec<(PhaseSend, Tick)>,
    repeats: Vec<QuickResend>,
}

/// One phase message of a round, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseSend {
    /// The proposer.
    pub from: NodeId,
    /// The node it went to.
    pub to: NodeId,
    /// The kind of message (`prepare`, `accept`, `seal-prepare`, `seal-accept`).
    pub kind: &'static str,
    /// The round's ballot.
    pub ballot: Ballot,
    /// The key of a key round, or the range of a seal.
    pub subject: PhaseSubject,
}

/// What a round is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhaseSubject {
    /// A key round's key.
    Key(Rc<str>),
    /// A range hand-over's range.
    Range(u16),
}

impl PhaseSubject {
    /// The round a phase message belongs to (its key or range, and its ballot), if it is one.
    pub fn of(message: &Message) -> Option<(PhaseSubject, Ballot)> {
        match message {
            Message::Prepare { key, ballot } | Message::Accept { key, ballot, .. } => {
                Some((PhaseSubject::Key(Rc::clone(key)), *ballot))
            }
            Message::SealPrepare { range, ballot } | Message::SealAccept { range, ballot, .. } => {
                Some((PhaseSubject::Range(range.0), *ballot))
            }
            _ => None,
        }
    }
}

/// How much gossip a node sent in one step, by whether the target is in its view.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GossipSent {
    /// Gossip messages to members of the sender's view.
    pub members: u32,
    /// Gossip messages to nodes outside it.
    pub outsiders: u32,
}

/// How often the network misbehaved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MessageFaults {
    /// Messages lost by the loss model.
    pub lost: u64,
    /// Messages dropped by a partition.
    pub partitioned: u64,
    /// Messages duplicated.
    pub duplicated: u64,
    /// Messages dropped by EmulNet's buffer or size caps.
    pub capped: u64,
}

/// The checker's name for a request.
pub fn kv_input(request: &Request) -> KvInput {
    match request {
        Request::Create { key, value } => KvInput::Create {
            key: String::from(&**key),
            value: String::from(&**value),
        },
        Request::Read { key } => KvInput::Read {
            key: String::from(&**key),
        },
        Request::Update { key, value } => KvInput::Update {
            key: String::from(&**key),
            value: String::from(&**value),
        },
        Request::Delete { key } => KvInput::Delete {
            key: String::from(&**key),
        },
    }
}

/// The checker's name for a reason.
pub fn kv_reason(reason: Reason) -> record::Reason {
    match reason {
        Reason::Ok => record::Reason::Ok,
        Reason::Exists => record::Reason::Exists,
        Reason::NotFound => record::Reason::NotFound,
        Reason::NoQuorum => record::Reason::NoQuorum,
        Reason::Timeout => record::Reason::Timeout,
    }
}

/// Completes `op` at `at` with what a coordinator's reply says: its outcome, reason, value and
/// acknowledgements. The simulator's recorder and the real test's history both record replies
/// this way, so the checker reads the same facts from either.
pub fn complete_from_reply(op: &mut Operation, at: Stamp, reply: &ClientReply) {
    op.complete = Some(at);
    op.outcome = outcome_of(reply);
    op.reason = kv_reason(reply.reason);
    op.output = reply.value.as_ref().map(|v| String::from(&**v));
    op.acks = reply
        .acks
        .iter()
        .map(|a| record::Ack {
            from: a.from.0,
            value: a.value.as_ref().map(|v| String::from(&**v)),
        })
        .collect();
}

/// How a reply counts for the history: a failure is `rejected` only when the coordinator knows
/// it had no effect; every other failure (every classic one) is `unknown`.
pub fn outcome_of(reply: &ClientReply) -> Outcome {
    match (reply.success, reply.rejected) {
        (true, _) => Outcome::Ok,
        (false, true) => Outcome::Rejected,
        (false, false) => Outcome::Unknown,
    }
}

impl Recorder {
    /// A node observation.
    pub fn observe(&mut self, tick: Tick, seq: u64, node: NodeId, observation: Observation) {
        self.observations.push((tick, seq, node, observation));
    }

    /// A client invocation.
    pub fn invoke(
        &mut self,
        tick: Tick,
        seq: u64,
        op: OpId,
        client: u64,
        coordinator: NodeId,
        request: &Request,
    ) {
        self.open.insert(op, self.history.len());
        self.history.push(Operation {
            id: op,
            client,
            coordinator: coordinator.0,
            input: kv_input(request),
            invoke: Stamp { tick, seq },
            complete: None,
            outcome: Outcome::Unknown,
            reason: record::Reason::Timeout,
            output: None,
            acks: Vec::new(),
        });
    }

    /// A coordinator's answer.
    pub fn complete(&mut self, tick: Tick, seq: u64, reply: &ClientReply) {
        let Some(i) = self.open.remove(&reply.op) else {
            return;
        };
        complete_from_reply(&mut self.history[i], Stamp { tick, seq }, reply);
    }

    /// A crash. The operations the node was coordinating stay open, with the reason recorded;
    /// returns their ids.
    pub fn crash(&mut self, tick: Tick, seq: u64, node: NodeId) -> Vec<OpId> {
        self.process_events.push(ProcessEvent::Crash {
            at: Stamp { tick, seq },
            node: node.0,
        });
        let orphaned: Vec<OpId> = self
            .open
            .iter()
            .filter(|(_, &i)| self.history[i].coordinator == node.0)
            .map(|(&op, _)| op)
            .collect();
        for op in &orphaned {
            let i = self.open.remove(op).expect("listed as open");
            self.history[i].reason = record::Reason::CoordinatorCrashed;
        }
        orphaned
    }

    /// A restart with an empty store.
    pub fn restart(&mut self, tick: Tick, seq: u64, node: NodeId) {
        self.process_events.push(ProcessEvent::Restart {
            at: Stamp { tick, seq },
            node: node.0,
        });
    }

    /// `node` sent a join request to `to` (for `rejoin`).
    pub fn join_requested(&mut self, tick: Tick, seq: u64, node: NodeId, to: NodeId) {
        self.join_requests.push(JoinRequest {
            at: Stamp { tick, seq },
            node: node.0,
            to: to.0,
        });
    }

    /// `node` sent gossip in one step (for `gossip-fanout`): to `members` of its view, the
    /// last of them at `seq.0`, and to `outsiders`, the last at `seq.1`. Only the largest count
    /// of each kind over the run is kept. A node sends gossip only in the step of a tick of its
    /// own clock, so a step is a tick here, even on a skewed clock that ticks twice in one world
    /// tick.
    pub fn gossiped(&mut self, tick: Tick, seq: (u64, u64), node: NodeId, sent: GossipSent) {
        let raise = |peak: &mut Option<GossipPeak>, messages: u32, seq: u64| {
            if messages > 0 && peak.is_none_or(|p| messages > p.messages) {
                *peak = Some(GossipPeak {
                    at: Stamp { tick, seq },
                    node: node.0,
                    messages,
                });
            }
        };
        raise(&mut self.gossip_peak, sent.members, seq.0);
        raise(&mut self.probe_peak, sent.outsiders, seq.1);
    }

    /// The most gossip one node sent to members of its view in one tick, if any node gossiped.
    pub fn gossip_peak(&self) -> Option<GossipPeak> {
        self.gossip_peak
    }

    /// The most gossip one node sent to nodes outside its view in one tick, if any node did.
    pub fn probe_peak(&self) -> Option<GossipPeak> {
        self.probe_peak
    }

    /// `node` sent its digest of `range` to a seat (for `sweep-cadence`).
    pub fn synced(&mut self, tick: Tick, node: NodeId, range: u16) {
        self.range_event(RangeEvent::Synced {
            at: tick,
            node: node.0,
            range,
        });
    }

    /// `node` asked a node about `range` (for `query-budget`).
    pub fn queried(&mut self, tick: Tick, node: NodeId, range: u16) {
        self.range_event(RangeEvent::Queried {
            at: tick,
            node: node.0,
            range,
        });
    }

    /// A seat's answer listing stale keys of `range` reached the steward `node`.
    pub fn stale_reply(&mut self, tick: Tick, node: NodeId, range: u16) {
        self.range_events.push(RangeEvent::StaleReply {
            at: tick,
            node: node.0,
            range,
        });
    }

    /// One event per tick, node, range and kind: a step sends its digest or its query to
    /// several nodes one after the other.
    fn range_event(&mut self, event: RangeEvent) {
        if self.range_events.last() != Some(&event) {
            self.range_events.push(event);
        }
    }

    /// `from` sent `to` the written keys of these hand-over votes (for `handover-reported`).
    pub fn installed(&mut self, tick: Tick, from: NodeId, to: NodeId, votes: &Handover) {
        let written = votes.iter().filter(|(_, v)| v.state.version > 0);
        self.handovers.extend(written.map(|(key, _)| HandoverKey {
            at: tick,
            from: from.0,
            to: to.0,
            key: String::from(&**key),
            seen: HandoverSeen::Sent,
        }));
    }

    /// A round's phase message went out: noted as a quick resend if the same message went to
    /// the same node in this tick or the one before.
    pub fn phase_sent(&mut self, tick: Tick, send: PhaseSend) {
        let sends = &mut self.phase_sends;
        if tick != sends.tick {
            // Swap the buffers rather than move them, so that neither is reallocated each tick.
            std::mem::swap(&mut sends.previous, &mut sends.current);
            sends.current.clear();
            if tick != sends.tick + 1 {
                sends.previous.clear();
            }
            sends.tick = tick;
        }
        let earlier = sends.current.iter().chain(&sends.previous);
        if let Some((_, at)) = earlier
            .filter(|(s, _)| *s == send)
            .max_by_key(|(_, at)| *at)
        {
            let subject = match &send.subject {
                PhaseSubject::Key(key) => key.to_string(),
                PhaseSubject::Range(range) => format!("range{range}"),
            };
            sends.repeats.push(QuickResend {
                at: tick,
                from: send.from.0,
                to: send.to.0,
                what: format!("{} {subject}", send.kind),
                ballot: checker_ballot(&send.ballot),
                gap_ticks: tick - at,
            });
        }
        sends.current.push((send, tick));
    }

    /// `seat` answered `steward`'s digest of `range`: notes every key it listed whose vote is the
    /// one the digest shows (for `sync-listing`).
    pub fn sync_answered(
        &mut self,
        tick: Tick,
        seat: NodeId,
        steward: NodeId,
        range: u16,
        digest: &SyncDigest,
        stale: &SyncStale,
    ) {
        for (key, vote) in stale.iter() {
            let digested = digest.iter().find(|(k, _)| k == key).map(|(_, b)| *b);
            if digested == Some(vote.as_ref().map(|v| v.ballot)) {
                self.unchanged_listed.push(UnchangedListed {
                    at: tick,
                    seat: seat.0,
                    steward: steward.0,
                    range,
                    key: key.to_string(),
                });
            }
        }
    }

    /// The keys seats listed in answers to syncs with the vote the digest showed, in order.
    pub fn unchanged_listed(&self) -> &[UnchangedListed] {
        &self.unchanged_listed
    }

    /// The phase messages sent to the same node again within a tick, in order.
    pub fn quick_resends(&self) -> &[QuickResend] {
        &self.phase_sends.repeats
    }

    /// The written keys hand-overs sent, as the network carried them.
    pub fn handovers(&self) -> &[HandoverKey] {
        &self.handovers
    }

    /// The syncs, stale answers and queries, in order.
    pub fn range_events(&self) -> &[RangeEvent] {
        &self.range_events
    }

    /// `node`'s clock runs at `rate_permille` from `tick` on.
    pub fn clock_rate(&mut self, tick: Tick, node: NodeId, rate_permille: u64) {
        self.clock_rates.push(ClockRate {
            at: tick,
            node: node.0,
            rate_permille,
        });
    }

    /// Every clock rate change, in order.
    pub fn clock_rates(&self) -> &[ClockRate] {
        &self.clock_rates
    }

    /// Every join request sent, in order.
    pub fn join_requests(&self) -> &[JoinRequest] {
        &self.join_requests
    }

    /// What the network did with one send.
    pub fn count_send(&mut self, fate: SendFate, duplicated: bool) {
        let faults = &mut self.message_faults;
        match fate {
            SendFate::Queued => {}
            SendFate::Lost => faults.lost += 1,
            SendFate::Partitioned => faults.partitioned += 1,
            SendFate::BufferFull | SendFate::TooLarge => faults.capped += 1,
        }
        faults.duplicated += u64::from(duplicated);
    }

    /// How often the network misbehaved.
    pub fn message_faults(&self) -> MessageFaults {
        self.message_faults
    }

    /// Every observation, in order.
    pub fn observations(&self) -> &[(Tick, u64, NodeId, Observation)] {
        &self.observations
    }

    /// The client history, in invocation order.
    pub fn history(&self) -> &[Operation] {
        &self.history
    }

    /// Crashes and restarts, in order.
    pub fn process_events(&self) -> &[ProcessEvent] {
        &self.process_events
    }
}
