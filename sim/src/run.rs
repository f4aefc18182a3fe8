//! One run of a resolved scenario: fault phase, quiet phase, final reads, and the run record.

use crate::caught::catching;
use crate::net::faulty::{FaultyNet, LinkModel, Tally};
use crate::net::Network;
use crate::recorder::Recorder;
use crate::scenario::{Fault, Scenario};
use crate::trace::TraceLevel;
use crate::workload::Clients;
use crate::world::{NodeState, World, WorldConfig};
use checker::record::{
    AgreementEvent, Bounds, DrawnFault, FaultDraws, FinalNode, HandoverKey, HandoverSeen, HeldLink,
    LogLine, LogRole, LoggedKind, Panic, Recovery, Rejoin, RunRecord, Stamp, StoreEvent, StoredKey,
    ViewChange, Window, WriteForward, WriteRoute,
};
use node::params::Variant;
use node::{Incarnation, NodeId, Observation, Tick};
use std::collections::BTreeMap;

/// How far to run and what to keep.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Trace lines to keep.
    pub trace: TraceLevel,
    /// Stop after this tick (for `replay --until`).
    pub until: Option<Tick>,
    /// Keep what a picture of the run draws (`replay --html/--svg`).
    pub picture: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            trace: TraceLevel::HashOnly,
            until: None,
            picture: false,
        }
    }
}

/// A finished run.
#[derive(Debug)]
pub struct Execution {
    /// The world as the run left it.
    pub world: World,
    /// What the checker judges.
    pub record: RunRecord,
    /// Ticks simulated.
    pub ticks: Tick,
    /// How often each fault kind fired.
    pub faults: BTreeMap<String, u64>,
    /// Named protocol events reached.
    pub coverage: BTreeMap<String, u64>,
}

/// Ticks to let stabilization finish once views agree, before the final reads (saturating, as
/// every sum of ticks from a seed file is: validation bounds them, this keeps them from wrapping
/// even where it was skipped).
fn settle_ticks(s: &Scenario) -> Tick {
    s.params
        .foreign_copy_linger_ticks()
        .saturating_add(s.quiet_delay_ticks.saturating_mul(4))
        .saturating_add(2)
}

/// Runs `scenario` with root seed `seed`.
pub fn execute(scenario: &Scenario, seed: u64, options: RunOptions) -> Execution {
    let nodes = scenario.start_ticks();
    let config = WorldConfig {
        seed,
        params: scenario.params.clone(),
        nodes,
        trace: options.trace,
    };
    let net = Network::Faulty(Box::new(FaultyNet::new(
        scenario.network.clone(),
        NodeId(scenario.nodes),
        seed,
    )));
    let mut world = World::new(config, net);
    if options.picture {
        world.capture_picture();
    }
    let mut clients = Clients::new(&scenario.workload, seed);
    let mut faults_fired: BTreeMap<String, u64> = BTreeMap::new();
    let mut held_links = Vec::new();
    let mut next_fault = 0;
    let mut heals: Vec<(Tick, Fault)> = Vec::new();
    let mut converged_at = None;
    let mut final_reads_issued = false;
    let mut fault_phase_tally = None;
    let mut settled = Settled::default();
    let mut live = Live::default();
    let cap = scenario.tick_cap();
    // A panic inside a step ends the run where it happened, as a failure the run found
    // (`no-panic`): the record keeps what happened up to it, so the seed is saved and shrunk
    // like any other, instead of the panic taking the whole campaign and the seed with it.
    let ran = catching(|| {
        loop {
            let now = world.now();
            if options.until.is_some_and(|u| now > u) || now >= cap {
                break;
            }
            if now == scenario.fault_phase_ticks {
                fault_phase_tally = enter_quiet_phase(&mut world, scenario);
                heals.clear();
            }
            heal_due(&mut world, &mut heals, now);
            while let Some(fault) = scenario.faults.get(next_fault).filter(|f| f.at() == now) {
                next_fault += 1;
                if apply_fault(&mut world, fault, &mut clients) {
                    *faults_fired
                        .entry(fault.kind_name().to_string())
                        .or_default() += 1;
                    match *fault {
                        Fault::Partition { heal_at, .. } => heals.push((heal_at, fault.clone())),
                        Fault::Clog {
                            at,
                            from,
                            to,
                            until,
                            ..
                        } => held_links.push(HeldLink {
                            from,
                            to,
                            at,
                            until,
                        }),
                        _ => {}
                    }
                }
            }
            if now < scenario.fault_phase_ticks {
                clients.issue(&mut world);
            }
            world.run_tick();
            // Views and hand-overs, judged once a tick for both the settled windows and convergence.
            live.gather(&world);
            let agreed = live.views_agree(&world) && handovers_done(&world);
            settled.watch(&world, &live, now, agreed);
            let answered = world.take_answered();
            clients.on_answered(&answered, &world);
            if now >= scenario.fault_phase_ticks {
                if converged_at.is_none() && clients.idle() && agreed {
                    converged_at = Some(now);
                }
                if let Some(at) = converged_at {
                    if !final_reads_issued && now >= at.saturating_add(settle_ticks(scenario)) {
                        final_reads_issued = true;
                        clients.final_reads(&mut world);
                    } else if final_reads_issued && clients.idle() {
                        world.advance();
                        break;
                    }
                }
            }
            world.advance();
        }
    });
    let panic = ran.err().map(|caught| Panic {
        at: world.now(),
        message: caught.message,
        location: caught.location,
    });
    let ticks = world.now();
    let messages = world.recorder().message_faults();
    for (name, count) in [
        ("message-loss", messages.lost),
        ("partition-drop", messages.partitioned),
        ("duplicate", messages.duplicated),
    ] {
        if count > 0 {
            faults_fired.insert(name.to_string(), count);
        }
    }
    let coverage = coverage(world.recorder());
    // A run stopped inside the fault phase (`replay --until`) tallies what it drew so far.
    let tally = fault_phase_tally.or_else(|| match world.network_mut() {
        Network::Faulty(net) => Some(net.tally()),
        Network::Emulnet(_) => None,
    });
    let draws = tally.map_or_else(Vec::new, |t| fault_draws(&scenario.network, &t));
    let watched = Watched {
        fault_draws: draws,
        held_links,
        settled: settled.windows,
    };
    let record = build_record(&world, scenario, converged_at, ticks, watched, panic);
    Execution {
        world,
        record,
        ticks,
        faults: faults_fired,
        coverage,
    }
}

/// What the run watched for the harness's own properties, beyond what the recorder keeps.
struct Watched {
    /// The fault phase's random message faults, asked for and realized.
    fault_draws: Vec<FaultDraws>,
    /// The clogs that fired.
    held_links: Vec<HeldLink>,
    /// When the cluster was settled.
    settled: Vec<Window>,
}

/// The windows of ticks at whose end the cluster was settled (every live view the set of live
/// nodes, every hand-over done), for `fault-tolerance`.
#[derive(Debug, Default)]
struct Settled {
    windows: Vec<Window>,
}

impl Settled {
    /// Notes whether the cluster is settled at the end of tick `now`, given whether every view
    /// agrees and every hand-over is done (`agreed`).
    fn watch(&mut self, world: &World, live: &Live, now: Tick, agreed: bool) {
        if !(agreed && live.incarnations_known(world)) {
            return;
        }
        match self.windows.last_mut() {
            Some(w) if w.to == now => w.to = now + 1,
            _ => self.windows.push(Window {
                from: now,
                to: now + 1,
            }),
        }
    }
}

/// What the fault phase's link model asked for and what the network realized, for
/// `faults-realized`.
fn fault_draws(model: &LinkModel, tally: &Tally) -> Vec<FaultDraws> {
    let draws = |fault, ppm, trials, realized| FaultDraws {
        fault,
        ppm,
        trials,
        realized,
    };
    vec![
        draws(DrawnFault::Loss, model.loss_ppm, tally.sends, tally.lost),
        draws(
            DrawnFault::Duplication,
            model.duplicate_ppm,
            tally.kept,
            tally.duplicated,
        ),
        draws(
            DrawnFault::DelaySpread,
            model.spread_ppm(),
            tally.usual_delays,
            tally.spread_delays,
        ),
        draws(
            DrawnFault::LongTail,
            model.tail_ppm,
            tally.delays,
            tally.tails,
        ),
    ]
}

/// Heals every fault, restores clocks, switches to a clean constant-delay network; returns what
/// the fault phase's network drew.
fn enter_quiet_phase(world: &mut World, scenario: &Scenario) -> Option<Tally> {
    let mut tally = None;
    if let Network::Faulty(net) = world.network_mut() {
        net.heal_all();
        tally = Some(net.set_model(LinkModel::constant(scenario.quiet_delay_ticks)));
    }
    for id in scenario.node_ids() {
        if world.slot(id).rate_permille != 1000 {
            world.set_clock_rate(id, 1000);
        }
    }
    world.note_fault("quiet phase: all faults healed, clean network");
    tally
}

fn set_partition(world: &mut World, fault: &Fault, blocked: bool) {
    let Fault::Partition {
        from, to, one_way, ..
    } = fault
    else {
        return;
    };
    if let Network::Faulty(net) = world.network_mut() {
        for &a in from {
            for &b in to {
                net.set_blocked(NodeId(a), NodeId(b), blocked);
                if !one_way {
                    net.set_blocked(NodeId(b), NodeId(a), blocked);
                }
            }
        }
    }
}

fn heal_due(world: &mut World, heals: &mut Vec<(Tick, Fault)>, now: Tick) {
    let (due, pending): (Vec<_>, Vec<_>) = heals.drain(..).partition(|(at, _)| *at <= now);
    *heals = pending;
    for (_, fault) in due {
        set_partition(world, &fault, false);
        world.note_fault(&format!("heal {}", describe_fault(&fault)));
    }
}

/// A fault in a few words, for traces.
pub fn describe_fault(fault: &Fault) -> String {
    match fault {
        Fault::Crash { node, .. } => format!("crash n{node}"),
        Fault::Restart { node, .. } => format!("restart n{node}"),
        Fault::Partition {
            from, to, one_way, ..
        } => {
            format!(
                "partition {from:?} {} {to:?}",
                if *one_way { "->" } else { "<->" }
            )
        }
        Fault::Clog {
            from, to, until, ..
        } => format!("clog n{from} -> n{to} until {until}"),
        Fault::Skew {
            node,
            rate_permille,
            ..
        } => format!("skew n{node} {rate_permille}permille"),
        Fault::Join { node, .. } => format!("late join n{node}"),
    }
}

/// Applies a fault if it makes sense now (a crash of a running node, a restart of a crashed
/// one); returns whether it fired.
fn apply_fault(world: &mut World, fault: &Fault, clients: &mut Clients) -> bool {
    match fault {
        Fault::Crash { node, .. } => {
            if world.slot(NodeId(*node)).state != NodeState::Up {
                return false;
            }
            let orphaned = world.crash(NodeId(*node));
            clients.on_orphaned(&orphaned);
        }
        Fault::Restart { node, .. } => {
            if world.slot(NodeId(*node)).state != NodeState::Down {
                return false;
            }
            world.restart(NodeId(*node));
        }
        Fault::Partition { .. } => {
            set_partition(world, fault, true);
            world.note_fault(&describe_fault(fault));
        }
        Fault::Clog {
            from, to, until, ..
        } => {
            if let Network::Faulty(net) = world.network_mut() {
                net.clog(NodeId(*from), NodeId(*to), *until);
            }
            world.note_fault(&describe_fault(fault));
        }
        Fault::Skew {
            node,
            rate_permille,
            ..
        } => world.set_clock_rate(NodeId(*node), *rate_permille),
        // The world starts the node at its start tick; nothing to do but count it.
        Fault::Join { .. } => {}
    }
    true
}

/// Whether every running node's hand-overs are done (design.md: converged means views equal and
/// handovers done).
fn handovers_done(world: &World) -> bool {
    world.running().all(|s| s.node.handovers_done())
}

/// The running nodes at the end of a tick, in slot order, with their incarnations: gathered
/// once a tick into a buffer the run keeps, so that the settle checks below walk the slots
/// once per view instead of once per view and peer (they were about 2% of a classic run).
#[derive(Debug, Default)]
struct Live {
    nodes: Vec<(NodeId, Incarnation)>,
}

impl Live {
    fn gather(&mut self, world: &World) {
        self.nodes.clear();
        self.nodes
            .extend(world.running().map(|s| (s.id, s.node.incarnation())));
    }

    /// Whether every running node knows every running node at its current incarnation,
    /// unsuspected: a node restarted (empty, about to recover) before its peers noticed is not
    /// settled, even though the view's ids never changed.
    fn incarnations_known(&self, world: &World) -> bool {
        world.running().all(|observer| {
            let membership = observer.node.membership();
            self.nodes.iter().all(|&(id, incarnation)| {
                membership
                    .member(id)
                    .is_some_and(|m| m.incarnation == incarnation && !m.suspected)
            })
        })
    }

    /// Whether every running node's view is exactly the set of running nodes.
    fn views_agree(&self, world: &World) -> bool {
        world.running().all(|s| {
            let view = s.node.membership().view();
            view.iter()
                .copied()
                .eq(self.nodes.iter().map(|&(id, _)| id))
        })
    }
}

/// Named protocol events, counted from the observations.
fn coverage(recorder: &Recorder) -> BTreeMap<String, u64> {
    let mut marks: BTreeMap<String, u64> = BTreeMap::new();
    for (_, _, _, observation) in recorder.observations() {
        let name = match observation {
            Observation::MemberSuspected { .. } => "suspicion",
            Observation::SuspicionRefuted { .. } => "refuted-suspicion",
            Observation::MemberRejoined { .. } => "rejoin",
            Observation::MemberRemoved { .. } => "member-removed",
            Observation::HandedOver { .. } => "stabilization-handover",
            Observation::WriteForwarded { .. } => "write-forwarded",
            Observation::BallotConflict { .. }
            | Observation::ReadRepair { .. }
            | Observation::EpochRefused { .. }
            | Observation::NotRecovered { .. }
            | Observation::RangeRecovered { .. }
            | Observation::HandoverDone { .. } => observation.kind_name(),
            Observation::StoreOp {
                success: false,
                role: node::Role::Coordinator,
                ..
            } => "coordinator-failure",
            Observation::MemberAdded { .. }
            | Observation::StoreOp { .. }
            | Observation::ReplicaStored { .. }
            | Observation::Voted { .. }
            | Observation::Decided { .. }
            | Observation::WriteRouted { .. } => continue,
        };
        *marks.entry(name.to_string()).or_default() += 1;
    }
    for op in recorder.history() {
        if op.reason == checker::record::Reason::CoordinatorCrashed {
            *marks.entry("coordinator-crashed".to_string()).or_default() += 1;
        }
    }
    marks
}

/// The checker's name for a ballot.
pub(crate) fn checker_ballot(ballot: &node::agreement::Ballot) -> checker::record::Ballot {
    checker::record::Ballot {
        epoch: ballot.epoch,
        round: ballot.round,
        node: ballot.node.0,
        incarnation: ballot.incarnation,
    }
}

fn build_record(
    world: &World,
    s: &Scenario,
    converged_at: Option<Tick>,
    ticks: Tick,
    watched: Watched,
    panic: Option<Panic>,
) -> RunRecord {
    let recorder = world.recorder();
    let mut views = Vec::new();
    let mut stored = Vec::new();
    let mut agreement = Vec::new();
    let mut routes = Vec::new();
    let mut forwards = Vec::new();
    let mut log = Vec::new();
    let mut rejoins = Vec::new();
    let mut handovers = recorder.handovers().to_vec();
    let mut recoveries = Vec::new();
    let versioned = s.params.variant == Variant::Versioned;
    for (tick, seq, node, observation) in recorder.observations() {
        let at = Stamp {
            tick: *tick,
            seq: *seq,
        };
        match observation {
            Observation::MemberAdded { member } => views.push(ViewChange {
                at,
                node: node.0,
                member: member.0,
                added: true,
            }),
            Observation::MemberRemoved { member } => views.push(ViewChange {
                at,
                node: node.0,
                member: member.0,
                added: false,
            }),
            Observation::MemberRejoined { member, .. } => rejoins.push(Rejoin {
                at,
                node: node.0,
                member: member.0,
            }),
            Observation::Voted { key, ballot } => agreement.push(AgreementEvent::Voted {
                at,
                node: node.0,
                key: String::from(&**key),
                ballot: checker_ballot(ballot),
            }),
            Observation::Decided { key, ballot, seats }
            | Observation::ReadRepair { key, ballot, seats } => {
                let (node, key, ballot) = (node.0, String::from(&**key), checker_ballot(ballot));
                let seats = seats.iter().map(|n| n.0).collect();
                agreement.push(match observation {
                    Observation::Decided { .. } => AgreementEvent::Decided {
                        at,
                        node,
                        key,
                        ballot,
                        seats,
                    },
                    _ => AgreementEvent::Repaired {
                        at,
                        node,
                        key,
                        ballot,
                        seats,
                    },
                })
            }
            Observation::RangeRecovered { range, epoch }
            | Observation::NotRecovered { range, epoch } => recoveries.push(Recovery {
                at,
                node: node.0,
                range: range.0,
                epoch: *epoch,
                recovered: matches!(observation, Observation::RangeRecovered { .. }),
            }),
            Observation::HandedOver { key, to } if versioned => handovers.push(HandoverKey {
                at: *tick,
                from: node.0,
                to: to.0,
                key: String::from(&**key),
                seen: HandoverSeen::Reported,
            }),
            Observation::WriteRouted { key, to, txn } => routes.push(WriteRoute {
                at,
                node: node.0,
                key: String::from(&**key),
                to: to.iter().map(|n| n.0).collect(),
                txn: *txn,
            }),
            Observation::WriteForwarded {
                key,
                to,
                coordinator,
                txn,
            } => forwards.push(WriteForward {
                at,
                node: node.0,
                key: String::from(&**key),
                to: to.0,
                coordinator: coordinator.0,
                txn: *txn,
            }),
            Observation::StoreOp {
                role,
                kind,
                txn,
                key,
                success,
                ..
            } => log.push(LogLine {
                at,
                node: node.0,
                role: match role {
                    node::Role::Server => LogRole::Server,
                    node::Role::Coordinator => LogRole::Coordinator,
                },
                kind: match kind {
                    node::OpKind::Create => LoggedKind::Create,
                    node::OpKind::Read => LoggedKind::Read,
                    node::OpKind::Update => LoggedKind::Update,
                    node::OpKind::Delete => LoggedKind::Delete,
                },
                txn: *txn,
                key: String::from(&**key),
                success: *success,
            }),
            Observation::ReplicaStored { key, value } => stored.push(StoreEvent {
                at,
                node: node.0,
                key: String::from(&**key),
                value: value.as_ref().map(|v| String::from(&**v)),
            }),
            _ => {}
        }
    }
    let clean_network = if s.message_faults_free() {
        vec![Window { from: 0, to: ticks }]
    } else {
        vec![Window {
            from: s.fault_phase_ticks.min(ticks),
            to: ticks,
        }]
    };
    // After a panic a node's state is whatever the step left half done: no final state.
    let final_slots = if panic.is_some() {
        &[][..]
    } else {
        world.slots()
    };
    let final_nodes = final_slots
        .iter()
        .map(|slot| {
            let live = slot.state == NodeState::Up;
            FinalNode {
                node: slot.id.0,
                live,
                view: if live {
                    slot.node.membership().view().iter().map(|n| n.0).collect()
                } else {
                    Vec::new()
                },
                store: if live {
                    slot.node
                        .stored()
                        .into_iter()
                        .map(|e| StoredKey {
                            key: e.key.to_string(),
                            value: e.value.map(|v| v.to_string()),
                            version: e.version,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let p = &s.params;
    let delay = s.network.delay_ticks_bound();
    let slowest_permille = s
        .faults
        .iter()
        .filter_map(|f| match f {
            Fault::Skew { rate_permille, .. } => Some(*rate_permille),
            _ => None,
        })
        .min()
        .unwrap_or(1000)
        .clamp(1, 1000);
    // A slow clock stretches every local timeout by 1000 / rate.
    let stretch =
        |ticks: Tick| (ticks.saturating_mul(1000) / slowest_permille).saturating_sub(ticks);
    let sum = |terms: &[Tick]| terms.iter().fold(0, |a: Tick, &t| a.saturating_add(t));
    RunRecord {
        nodes: s.node_ids().iter().map(|n| n.0).collect(),
        history: recorder.history().to_vec(),
        views,
        stored,
        process_events: recorder.process_events().to_vec(),
        agreement,
        routes,
        forwards,
        log,
        clean_network,
        quiet_from: s.fault_phase_ticks,
        converged_at,
        tick_cap: s.tick_cap(),
        final_nodes,
        bounds: Bounds {
            tfail_ticks: p.tfail_ticks,
            tremove_ticks: p.tremove_ticks,
            detection_slack_ticks: sum(&[
                stretch(p.tremove_ticks),
                p.tfail_ticks.saturating_mul(2),
                delay.saturating_mul(6),
                5,
            ]),
            op_timeout_ticks: p.op_timeout_ticks,
            response_slack_ticks: sum(&[stretch(p.op_timeout_ticks), delay.saturating_mul(2), 2]),
            replicas: p.replicas,
            quorum: p.quorum,
            gossip_fanout: p.gossip_fanout,
            sweep_interval_ticks: p.sweep_interval_ticks,
            delay_ticks_max: delay.max(s.quiet_delay_ticks),
        },
        fault_draws: watched.fault_draws,
        held_links: watched.held_links,
        settled: watched.settled,
        seed_nodes: p.seed_nodes.iter().map(|n| n.0).collect(),
        join_requests: recorder.join_requests().to_vec(),
        gossip_peak: recorder.gossip_peak(),
        probe_peak: recorder.probe_peak(),
        rejoins,
        range_events: recorder.range_events().to_vec(),
        handovers,
        quick_resends: recorder.quick_resends().to_vec(),
        unchanged_listed: recorder.unchanged_listed().to_vec(),
        recoveries,
        clock_rates: recorder.clock_rates().to_vec(),
        panic,
    }
}
