//! The original key-value grader (MP2): its four test timelines and its scoring rules.

use super::log::{field, parse_line, LogBuilder, LogLine};
use super::membership::{grader_world, TOTAL_TICKS};
use super::{Part, ScenarioRun};
use crate::streams::{stream, Consumer};
use crate::trace::TraceLevel;
use crate::world::World;
use node::random::below;
use node::{NodeId, OpKind, Request, Tick};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Which key-value test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvTest {
    /// 100 creates, nothing more.
    Create,
    /// 100 creates, then 50 deletes and a delete of a missing key.
    Delete,
    /// 100 creates, then reads of one key through replica failures.
    Read,
    /// 100 creates, then updates of one key through replica failures.
    Update,
}

const INSERT_TICK: Tick = 100;
const TEST_TICK: Tick = 150;
const ONE_FAILURE_TICK: Tick = 175;
const TWO_FAILURES_TICK: Tick = 225;
const RECOVERED_TICK: Tick = 275;
const NON_REPLICA_FAILURE_TICK: Tick = 285;
const KEYS: usize = 100;
const KEY_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const INVALID_KEY: &str = "invalidKey";
const INVALID_VALUE: &str = "invalidValue";
const NEW_VALUE: &str = "newValue";

/// The grader's side of a run: its random choices, its log lines and its operation ids.
struct Driver {
    rng: ChaCha8Rng,
    log: LogBuilder,
    next_op: u64,
}

impl Driver {
    fn random_live(&mut self, world: &World) -> NodeId {
        let live = world.live_ids();
        live[below(&mut self.rng, live.len() as u64) as usize]
    }

    /// Logs the grader's operation line at the coordinator and invokes the operation there.
    fn issue(&mut self, world: &mut World, request: Request) {
        let coordinator = self.random_live(world);
        let now = world.now();
        let text = match &request {
            Request::Create { key, value } => {
                format!("CREATE OPERATION KEY: {key} VALUE: {value} at time: {now}")
            }
            Request::Read { key } if &**key == INVALID_KEY => {
                format!("READ OPERATION KEY: {key} at time: {now}")
            }
            Request::Delete { key } if &**key == INVALID_KEY => {
                format!("DELETE OPERATION KEY: {key} at time: {now}")
            }
            Request::Update { key, value } => {
                format!("UPDATE OPERATION KEY: {key} VALUE: {value} at time: {now}")
            }
            Request::Read { .. } | Request::Delete { .. } => {
                unreachable!("logged with their value by the caller")
            }
        };
        self.log_and_invoke(world, coordinator, text, request);
    }

    fn log_and_invoke(
        &mut self,
        world: &mut World,
        coordinator: NodeId,
        text: String,
        request: Request,
    ) {
        let seq = world.next_seq();
        self.log.push(seq, world.now(), coordinator, text);
        self.next_op += 1;
        world.invoke(self.next_op, self.next_op, coordinator, request);
    }

    /// Reads and deletes of a present key are logged with the value the grader expects.
    fn issue_with_value(&mut self, world: &mut World, kind: OpKind, key: &str, value: &str) {
        let coordinator = self.random_live(world);
        let now = world.now();
        let key: Rc<str> = key.into();
        let (verb, request) = match kind {
            OpKind::Read => (
                "READ",
                Request::Read {
                    key: Rc::clone(&key),
                },
            ),
            OpKind::Delete => (
                "DELETE",
                Request::Delete {
                    key: Rc::clone(&key),
                },
            ),
            OpKind::Create | OpKind::Update => unreachable!("create and update carry their value"),
        };
        let text = format!("{verb} OPERATION KEY: {key} VALUE: {value} at time: {now}");
        self.log_and_invoke(world, coordinator, text, request);
    }

    fn fail(&mut self, world: &mut World, id: NodeId) {
        world.crash(id);
        let seq = world.next_seq();
        let now = world.now();
        self.log
            .push(seq, now, id, format_args!("Node failed at time={now}"));
    }

    /// The key's replicas as a random live node's ring names them.
    fn replicas(&mut self, world: &World, key: &str) -> Vec<NodeId> {
        let viewer = self.random_live(world);
        world
            .slot(viewer)
            .node
            .ring()
            .replicas_of(key, world.params().replicas)
    }
}

/// 100 distinct random 5-character keys with values `value<n>` in drawing order, sorted by key.
fn draw_keys(rng: &mut ChaCha8Rng) -> Vec<(String, String)> {
    let mut keys = BTreeMap::new();
    while keys.len() < KEYS {
        let key: String = (0..5)
            .map(|_| char::from(KEY_CHARS[below(rng, KEY_CHARS.len() as u64) as usize]))
            .collect();
        let n = keys.len();
        keys.entry(key).or_insert_with(|| format!("value{n}"));
    }
    keys.into_iter().collect()
}

/// Runs one key-value test and scores its log.
pub fn run(which: KvTest, seed: u64, trace: TraceLevel) -> ScenarioRun {
    let mut world = grader_world(seed, None, trace);
    let mut driver = Driver {
        rng: stream(seed, Consumer::Scenario),
        log: LogBuilder::default(),
        next_op: 0,
    };
    let mut keys = Vec::new();
    for _ in 0..TOTAL_TICKS {
        world.run_tick();
        let now = world.now();
        if now == INSERT_TICK {
            keys = draw_keys(&mut driver.rng);
            for (key, value) in &keys {
                driver.issue(
                    &mut world,
                    Request::Create {
                        key: key.as_str().into(),
                        value: value.as_str().into(),
                    },
                );
            }
        } else if which == KvTest::Delete && now == TEST_TICK {
            for (key, value) in &keys[..KEYS / 2] {
                driver.issue_with_value(&mut world, OpKind::Delete, key, value);
            }
            driver.issue(
                &mut world,
                Request::Delete {
                    key: INVALID_KEY.into(),
                },
            );
        } else if matches!(which, KvTest::Read | KvTest::Update) && now >= TEST_TICK {
            fault_and_operate(which, now, &keys, &mut world, &mut driver);
        }
        world.advance();
    }
    driver.log.add_observations(world.observations());
    let lines = driver.log.finish();
    let parts = score(which, &lines);
    ScenarioRun::new(lines, parts, &world)
}

/// The read and update tests' timeline from tick 150 on.
fn fault_and_operate(
    which: KvTest,
    now: Tick,
    keys: &[(String, String)],
    world: &mut World,
    driver: &mut Driver,
) {
    let (key, value) = match which {
        KvTest::Read => (keys[0].0.as_str(), keys[0].1.as_str()),
        _ => (keys[1].0.as_str(), NEW_VALUE),
    };
    let operate = |world: &mut World, driver: &mut Driver| match which {
        KvTest::Read => driver.issue_with_value(world, OpKind::Read, key, value),
        _ => driver.issue(
            world,
            Request::Update {
                key: key.into(),
                value: value.into(),
            },
        ),
    };
    match now {
        TEST_TICK | RECOVERED_TICK => operate(world, driver),
        ONE_FAILURE_TICK => {
            let replicas = driver.replicas(world, key);
            driver.fail(world, replicas[2]);
            operate(world, driver);
        }
        TWO_FAILURES_TICK => {
            let replicas = driver.replicas(world, key);
            for &victim in [replicas[2], replicas[1]].iter() {
                if world.live_ids().contains(&victim) {
                    driver.fail(world, victim);
                }
            }
            operate(world, driver);
        }
        NON_REPLICA_FAILURE_TICK => {
            let replicas = driver.replicas(world, key);
            let victim = world
                .live_ids()
                .into_iter()
                .find(|id| !replicas.contains(id));
            if let Some(victim) = victim {
                driver.fail(world, victim);
            }
            operate(world, driver);
            match which {
                KvTest::Read => driver.issue(
                    world,
                    Request::Read {
                        key: INVALID_KEY.into(),
                    },
                ),
                _ => driver.issue(
                    world,
                    Request::Update {
                        key: INVALID_KEY.into(),
                        value: INVALID_VALUE.into(),
                    },
                ),
            }
        }
        _ => {}
    }
}

/// Store lines (`server:` or `coordinator:`) of one operation kind and outcome.
fn store_lines<'a>(
    parsed: &'a [LogLine<'a>],
    kind: &str,
    outcome: &str,
) -> impl Iterator<Item = &'a LogLine<'a>> + 'a {
    let needle = format!("{kind} {outcome} at time");
    parsed.iter().filter(move |l| {
        (l.message.starts_with("server: ") || l.message.starts_with("coordinator: "))
            && l.message.contains(&needle)
    })
}

/// How many store lines of one operation kind and outcome name each key (in their `key=`
/// field). One pass over the log for every key a test checks, instead of one pass per key: the
/// per-key scans were two thirds of a create test's instructions.
fn counts_by_key<'a>(
    parsed: &'a [LogLine<'a>],
    kind: &str,
    outcome: &str,
) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for line in store_lines(parsed, kind, outcome) {
        if let Some(key) = field(line.message, "key") {
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

/// The keys (and values) of the grader's operation lines that start with `prefix`.
fn operated_keys<'a>(parsed: &'a [LogLine<'a>], prefix: &str) -> Vec<(&'a str, Option<&'a str>)> {
    parsed
        .iter()
        .filter_map(|l| l.message.strip_prefix(prefix))
        .map(|rest| {
            let key = rest.split(' ').next().unwrap_or("");
            let value = rest
                .split_once(" VALUE: ")
                .map(|(_, v)| v.split(' ').next().unwrap_or(""));
            (key, value)
        })
        .collect()
}

/// Scores a key-value log with the original rules.
pub fn score(which: KvTest, lines: &[String]) -> Vec<Part> {
    let parsed: Vec<LogLine<'_>> = lines.iter().filter_map(|l| parse_line(l)).collect();
    let replicas_plus_coordinator = 4;
    // Whether every key has exactly one line per replica and one at the coordinator.
    let each_logged_by_all = |keys: &[(&str, Option<&str>)], kind: &str| {
        let counts = counts_by_key(&parsed, kind, "success");
        keys.iter()
            .all(|(k, _)| counts.get(k).copied() == Some(replicas_plus_coordinator))
    };
    match which {
        KvTest::Create => {
            let keys = operated_keys(&parsed, "CREATE OPERATION KEY: ");
            let total = store_lines(&parsed, "create", "success").count();
            let each = each_logged_by_all(&keys, "create");
            vec![Part::new(
                "create",
                3,
                keys.len() == KEYS && total == KEYS * 4 && each,
            )]
        }
        KvTest::Delete => {
            let keys: Vec<_> = operated_keys(&parsed, "DELETE OPERATION KEY: ")
                .into_iter()
                .filter(|(k, _)| *k != INVALID_KEY)
                .collect();
            let total = store_lines(&parsed, "delete", "success").count();
            let each = each_logged_by_all(&keys, "delete");
            let invalid = store_lines(&parsed, "delete", "fail")
                .filter(|l| field(l.message, "key") == Some(INVALID_KEY))
                .count();
            vec![
                Part::new(
                    "delete success",
                    3,
                    keys.len() == KEYS / 2 && total == KEYS / 2 * 4 && each,
                ),
                Part::new(
                    "delete invalid key",
                    4,
                    invalid == replicas_plus_coordinator,
                ),
            ]
        }
        KvTest::Read | KvTest::Update => {
            let (kind, prefix) = match which {
                KvTest::Read => ("read", "READ OPERATION KEY: "),
                _ => ("update", "UPDATE OPERATION KEY: "),
            };
            let target = operated_keys(&parsed, prefix)
                .into_iter()
                .find(|(k, _)| *k != INVALID_KEY);
            let (key, value) = target
                .map(|(k, v)| (k, v.unwrap_or("")))
                .unwrap_or(("", ""));
            let in_window =
                |outcome: &str, key: &str, value: Option<&str>, from: Tick, to: Tick| {
                    store_lines(&parsed, kind, outcome)
                        .filter(|l| from <= l.tick && l.tick < to)
                        .filter(|l| field(l.message, "key") == Some(key))
                        .filter(|l| value.is_none_or(|v| field(l.message, "value") == Some(v)))
                        .count()
                };
            let quorum_or_all = |n: usize| n == 3 || n == 4;
            vec![
                Part::new(
                    "test 1: all replicas up",
                    3,
                    quorum_or_all(in_window(
                        "success",
                        key,
                        Some(value),
                        TEST_TICK,
                        ONE_FAILURE_TICK,
                    )),
                ),
                Part::new(
                    "test 2: one replica down",
                    9,
                    in_window(
                        "success",
                        key,
                        Some(value),
                        ONE_FAILURE_TICK,
                        TWO_FAILURES_TICK,
                    ) == 3,
                ),
                Part::new(
                    "test 3a: two replicas down",
                    9,
                    in_window("fail", key, None, TWO_FAILURES_TICK, RECOVERED_TICK) == 1,
                ),
                Part::new(
                    "test 3b: after stabilization",
                    10,
                    quorum_or_all(in_window(
                        "success",
                        key,
                        Some(value),
                        RECOVERED_TICK,
                        NON_REPLICA_FAILURE_TICK,
                    )),
                ),
                Part::new(
                    "test 4: non-replica down",
                    6,
                    quorum_or_all(in_window(
                        "success",
                        key,
                        Some(value),
                        NON_REPLICA_FAILURE_TICK,
                        Tick::MAX,
                    )),
                ),
                Part::new(
                    "test 5: invalid key",
                    3,
                    quorum_or_all(in_window(
                        "fail",
                        INVALID_KEY,
                        None,
                        NON_REPLICA_FAILURE_TICK,
                        Tick::MAX,
                    )),
                ),
            ]
        }
    }
}
