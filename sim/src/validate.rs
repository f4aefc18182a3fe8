//! The range of every scenario field, stated once: [`RULES`] is both the validation every
//! scenario passes (from a seed file or from the generator) and the table the README prints.
//!
//! A rule is either a numeric range whose ends may name other fields (`quorum` in
//! `1..=params.replicas`) or a condition that is not a range (faults sorted by time). Rules run
//! in table order and the first one broken is reported, so the fields others depend on (`nodes`,
//! `fault_phase_ticks`, `params.replicas`) come first and the limits they give are sane.
//!
//! The bounds keep every run finite and every tick computation far from `u64::MAX`: a run ends
//! by [`RUN_TICKS_MAX`], and no sum of a tick and a delay or timeout can wrap.

use crate::scenario::{Fault, Scenario};
use node::Tick;

/// The largest cluster: the ring has 512 positions, and a run's cost grows with the square of
/// the cluster (every heartbeat table holds every member).
pub const NODES_MAX: u64 = 16;
/// The longest fault phase, and the longest quiet phase.
pub const PHASE_TICKS_MAX: Tick = 10_000;
/// Every run ends by this tick: a fault phase and a quiet phase, each at most
/// [`PHASE_TICKS_MAX`].
pub const RUN_TICKS_MAX: Tick = 2 * PHASE_TICKS_MAX;
/// The longest protocol timeout or interval (`tfail_ticks`, `op_timeout_ticks`, ...).
pub const PROTOCOL_TICKS_MAX: Tick = 10_000;
/// The longest message delay, and the longest think time of a client.
pub const DELAY_TICKS_MAX: Tick = 1_000;
/// A probability in parts per million is at most certainty.
pub const PPM_MAX: u64 = 1_000_000;
/// The most gossip targets per tick.
pub const FANOUT_MAX: u64 = NODES_MAX;
/// The most clients.
pub const CLIENTS_MAX: u64 = 64;
/// The most keys.
pub const KEYS_MAX: u64 = 1_000;
/// The most operations per client.
pub const OPS_PER_CLIENT_MAX: u64 = 10_000;
/// The largest weight of one operation in the mix.
pub const MIX_WEIGHT_MAX: u64 = 1_000;
/// Longest `workload.key_prefix`, in bytes.
pub const KEY_PREFIX_BYTES_MAX: usize = 32;
/// Clock rates, in parts per thousand of world time: from half to twice as fast.
pub const RATE_PERMILLE_MIN: u64 = 500;
/// See [`RATE_PERMILLE_MIN`].
pub const RATE_PERMILLE_MAX: u64 = 2_000;

/// A field that holds a value it may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Where, as a path below the scenario: `faults[2].node`.
    pub field: String,
    /// What it holds.
    pub found: String,
    /// What it may hold, in this scenario.
    pub allowed: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: found {}; allowed: {}",
            self.field, self.found, self.allowed
        )
    }
}

/// One end of a range.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// A constant.
    Fixed(u64),
    /// Computed from other fields of the scenario, named as the README shows it.
    Of(&'static str, fn(&Scenario) -> u64),
    /// Computed from the same list element (a fault's own `at`), named as the README shows it;
    /// the value comes with each [`Value`].
    Item(&'static str),
}

impl Limit {
    fn value(self, s: &Scenario, item: u64) -> u64 {
        match self {
            Limit::Fixed(v) => v,
            Limit::Of(_, f) => f(s),
            Limit::Item(_) => item,
        }
    }

    fn describe(self) -> String {
        match self {
            Limit::Fixed(v) => v.to_string(),
            Limit::Of(name, _) | Limit::Item(name) => name.to_string(),
        }
    }
}

/// One occurrence of a field: its path, its value, and the element's own limit (for
/// [`Limit::Item`]; 0 otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    path: String,
    value: u64,
    item_limit: u64,
}

fn one(path: &str, value: u64) -> Vec<Value> {
    vec![Value {
        path: path.to_string(),
        value,
        item_limit: 0,
    }]
}

/// Where a range rule finds its field's values.
#[derive(Debug, Clone, Copy)]
pub enum Values {
    /// One value, at the rule's own path.
    Scalar(fn(&Scenario) -> u64),
    /// Every element of a list (or every field a fault kind has), each with its path.
    Each(fn(&Scenario) -> Vec<Value>),
}

/// What a rule asks of its field.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Every occurrence is in `min..=max`.
    Range {
        /// Smallest allowed.
        min: Limit,
        /// Largest allowed.
        max: Limit,
        /// Every occurrence of the field in a scenario.
        values: Values,
    },
    /// A condition that is not a range; `broken` gives the first offending path and what it
    /// holds.
    Condition {
        /// The condition in words.
        text: &'static str,
        /// The first place that breaks it.
        broken: fn(&Scenario) -> Option<(String, String)>,
    },
}

/// A field of the scenario and what it may hold.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The field, as a path below `scenario` (`[]`: every element of a list).
    pub field: &'static str,
    /// What is asked of it.
    pub check: Check,
}

impl Rule {
    /// What is allowed, in the README's words.
    pub fn allowed(&self) -> String {
        match self.check {
            Check::Range { min, max, .. } => format!("{}..={}", min.describe(), max.describe()),
            Check::Condition { text, .. } => text.to_string(),
        }
    }

    /// The first occurrence in `s` that breaks the rule.
    fn first_broken(&self, s: &Scenario) -> Option<Invalid> {
        match self.check {
            Check::Range { min, max, values } => match values {
                Values::Scalar(value) => one(self.field, value(s)),
                Values::Each(values) => values(s),
            }
            .into_iter()
            .find_map(|v| {
                let (lo, hi) = (min.value(s, v.item_limit), max.value(s, v.item_limit));
                (!(lo..=hi).contains(&v.value)).then(|| {
                    let concrete = format!("{lo}..={hi}");
                    let stated = self.allowed();
                    Invalid {
                        field: v.path,
                        found: v.value.to_string(),
                        allowed: if stated == concrete {
                            stated
                        } else {
                            format!("{stated}, here {concrete}")
                        },
                    }
                })
            }),
            Check::Condition { text, broken } => broken(s).map(|(field, found)| Invalid {
                field,
                found,
                allowed: text.to_string(),
            }),
        }
    }
}

/// Checks every rule in order; the first one broken is the error.
pub fn validate(s: &Scenario) -> Result<(), Invalid> {
    match RULES.iter().find_map(|rule| rule.first_broken(s)) {
        Some(invalid) => Err(invalid),
        None => Ok(()),
    }
}

/// The rule of a field path such as `faults[3].node` (indices are ignored), if it has one.
pub fn rule_for(path: &str) -> Option<&'static Rule> {
    let mut general = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                general.push('[');
            }
            ']' => {
                in_index = false;
                general.push(']');
            }
            _ if in_index => {}
            _ => general.push(c),
        }
    }
    RULES.iter().find(|rule| {
        rule.field
            .split(", ")
            .any(|part| part.split(" (").next() == Some(general.as_str()))
    })
}

/// The README's table of fields: `| field | allowed |` rows.
pub fn markdown_table() -> String {
    let mut out = String::from("| field | allowed |\n|---|---|\n");
    for rule in RULES {
        let field: Vec<String> = rule
            .field
            .split(", ")
            .map(|part| match part.split_once(" (") {
                Some((path, note)) => format!("`{path}` ({note}"),
                None => format!("`{part}`"),
            })
            .collect();
        out += &format!("| {} | {} |\n", field.join(", "), rule.allowed());
    }
    out
}

/// Every element of a list field, by index.
fn each<T>(path: &str, items: &[T], value: impl Fn(&T) -> u64) -> Vec<Value> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| Value {
            path: format!("{path}[{i}]"),
            value: value(item),
            item_limit: 0,
        })
        .collect()
}

/// Every node id a fault names, as (path, id).
fn fault_nodes(s: &Scenario) -> Vec<Value> {
    let mut out = Vec::new();
    let mut push = |path: String, id: u8| {
        out.push(Value {
            path,
            value: u64::from(id),
            item_limit: 0,
        })
    };
    for (i, fault) in s.faults.iter().enumerate() {
        match fault {
            Fault::Crash { node, .. }
            | Fault::Restart { node, .. }
            | Fault::Join { node, .. }
            | Fault::Skew { node, .. } => push(format!("faults[{i}].node"), *node),
            Fault::Clog { from, to, .. } => {
                push(format!("faults[{i}].from"), *from);
                push(format!("faults[{i}].to"), *to);
            }
            Fault::Partition { from, to, .. } => {
                for (side, ids) in [("from", from), ("to", to)] {
                    for (j, id) in ids.iter().enumerate() {
                        push(format!("faults[{i}].{side}[{j}]"), *id);
                    }
                }
            }
        }
    }
    out
}

/// The end of a partition or clog, with the fault's own `at` as its element limit.
fn fault_ends(s: &Scenario) -> Vec<Value> {
    s.faults
        .iter()
        .enumerate()
        .filter_map(|(i, fault)| match fault {
            Fault::Partition { at, heal_at, .. } => {
                Some((format!("faults[{i}].heal_at"), at, heal_at))
            }
            Fault::Clog { at, until, .. } => Some((format!("faults[{i}].until"), at, until)),
            _ => None,
        })
        .map(|(path, at, end)| Value {
            path,
            value: *end,
            item_limit: *at,
        })
        .collect()
}

fn last_fault_tick(s: &Scenario) -> u64 {
    s.fault_phase_ticks.saturating_sub(1)
}

fn nodes(s: &Scenario) -> u64 {
    u64::from(s.nodes)
}

/// A range rule on one field.
const fn scalar(field: &'static str, min: Limit, max: Limit, value: fn(&Scenario) -> u64) -> Rule {
    Rule {
        field,
        check: Check::Range {
            min,
            max,
            values: Values::Scalar(value),
        },
    }
}

/// A range rule on every element of a list field.
const fn list(
    field: &'static str,
    min: Limit,
    max: Limit,
    values: fn(&Scenario) -> Vec<Value>,
) -> Rule {
    Rule {
        field,
        check: Check::Range {
            min,
            max,
            values: Values::Each(values),
        },
    }
}

/// A protocol timeout or interval, in `1..=PROTOCOL_TICKS_MAX`.
const fn protocol_ticks(field: &'static str, value: fn(&Scenario) -> u64) -> Rule {
    scalar(
        field,
        Limit::Fixed(1),
        Limit::Fixed(PROTOCOL_TICKS_MAX),
        value,
    )
}

/// A probability, in `0..=PPM_MAX`.
const fn ppm(field: &'static str, value: fn(&Scenario) -> u64) -> Rule {
    scalar(field, Limit::Fixed(0), Limit::Fixed(PPM_MAX), value)
}

const ONE: Limit = Limit::Fixed(1);
const ZERO: Limit = Limit::Fixed(0);
const NODES: Limit = Limit::Of("nodes", nodes);
const LAST_FAULT_TICK: Limit = Limit::Of("fault_phase_ticks - 1", last_fault_tick);

/// Every field's range, in the order they are checked.
pub const RULES: &[Rule] = &[
    scalar("nodes", ONE, Limit::Fixed(NODES_MAX), nodes),
    scalar(
        "fault_phase_ticks",
        ONE,
        Limit::Fixed(PHASE_TICKS_MAX),
        |s| s.fault_phase_ticks,
    ),
    scalar("quiet_ticks_max", ONE, Limit::Fixed(PHASE_TICKS_MAX), |s| {
        s.quiet_ticks_max
    }),
    scalar("params.introducer", ONE, NODES, |s| {
        u64::from(s.params.introducer.0)
    }),
    list("params.seed_nodes[]", ONE, NODES, |s| {
        each("params.seed_nodes", &s.params.seed_nodes, |n| {
            u64::from(n.0)
        })
    }),
    protocol_ticks("params.tfail_ticks", |s| s.params.tfail_ticks),
    scalar(
        "params.tremove_ticks",
        Limit::Of("params.tfail_ticks", |s| s.params.tfail_ticks),
        Limit::Fixed(PROTOCOL_TICKS_MAX),
        |s| s.params.tremove_ticks,
    ),
    scalar("params.gossip_fanout", ONE, Limit::Fixed(FANOUT_MAX), |s| {
        s.params.gossip_fanout as u64
    }),
    scalar(
        "params.gossip_interval_ticks",
        ONE,
        Limit::Of("params.tfail_ticks", |s| s.params.tfail_ticks),
        |s| s.params.gossip_interval_ticks,
    ),
    protocol_ticks("params.probe_interval_ticks", |s| {
        s.params.probe_interval_ticks
    }),
    protocol_ticks("params.join_retry_ticks", |s| s.params.join_retry_ticks),
    protocol_ticks("params.sweep_interval_ticks", |s| {
        s.params.sweep_interval_ticks
    }),
    scalar("params.replicas", ONE, NODES, |s| s.params.replicas as u64),
    scalar(
        "params.quorum",
        ONE,
        Limit::Of("params.replicas", |s| s.params.replicas as u64),
        |s| s.params.quorum as u64,
    ),
    protocol_ticks("params.op_timeout_ticks", |s| s.params.op_timeout_ticks),
    ppm("params.extra_handover_ppm", |s| {
        u64::from(s.params.extra_handover_ppm)
    }),
    scalar(
        "network.delay_ticks_min",
        ONE,
        Limit::Fixed(DELAY_TICKS_MAX),
        |s| s.network.delay_ticks_min,
    ),
    scalar(
        "network.delay_ticks_max",
        Limit::Of("network.delay_ticks_min", |s| s.network.delay_ticks_min),
        Limit::Fixed(DELAY_TICKS_MAX),
        |s| s.network.delay_ticks_max,
    ),
    ppm("network.tail_ppm", |s| u64::from(s.network.tail_ppm)),
    scalar(
        "network.tail_delay_ticks_max",
        Limit::Of("network.delay_ticks_max", |s| s.network.delay_ticks_max),
        Limit::Fixed(DELAY_TICKS_MAX),
        |s| s.network.tail_delay_ticks_max,
    ),
    ppm("network.loss_ppm", |s| u64::from(s.network.loss_ppm)),
    ppm("network.duplicate_ppm", |s| {
        u64::from(s.network.duplicate_ppm)
    }),
    scalar(
        "quiet_delay_ticks",
        ONE,
        Limit::Fixed(DELAY_TICKS_MAX),
        |s| s.quiet_delay_ticks,
    ),
    list("faults[].at", ZERO, LAST_FAULT_TICK, |s| {
        let at = |(i, f): (usize, &Fault)| one(&format!("faults[{i}].at"), f.at());
        s.faults.iter().enumerate().flat_map(at).collect()
    }),
    Rule {
        field: "faults[].at",
        check: Check::Condition {
            text: "faults sorted by `at`",
            broken: |s| {
                s.faults.windows(2).enumerate().find_map(|(i, pair)| {
                    (pair[0].at() > pair[1].at()).then(|| {
                        (
                            format!("faults[{}].at", i + 1),
                            format!("{} after faults[{i}].at {}", pair[1].at(), pair[0].at()),
                        )
                    })
                })
            },
        },
    },
    list(
        "faults[].node, faults[].from, faults[].to",
        ONE,
        NODES,
        fault_nodes,
    ),
    Rule {
        field: "faults[].from, faults[].to (partition)",
        check: Check::Condition {
            text: "at least one node on each side",
            broken: |s| {
                s.faults.iter().enumerate().find_map(|(i, f)| match f {
                    Fault::Partition { from, .. } if from.is_empty() => {
                        Some((format!("faults[{i}].from"), "[]".to_string()))
                    }
                    Fault::Partition { to, .. } if to.is_empty() => {
                        Some((format!("faults[{i}].to"), "[]".to_string()))
                    }
                    _ => None,
                })
            },
        },
    },
    // The quiet phase heals what is still cut; shrinking a fault phase can leave a heal after it.
    list(
        "faults[].heal_at, faults[].until",
        Limit::Item("at"),
        Limit::Of("fault_phase_ticks + quiet_ticks_max", Scenario::tick_cap),
        fault_ends,
    ),
    Rule {
        field: "faults[].node (join)",
        check: Check::Condition {
            text: "a node joins late at most once, and not the introducer",
            broken: |s| {
                s.faults.iter().enumerate().find_map(|(i, f)| {
                    let Fault::Join { node, .. } = f else {
                        return None;
                    };
                    let earlier = s.faults[..i]
                        .iter()
                        .any(|g| matches!(g, Fault::Join { node: n, .. } if n == node));
                    (earlier || *node == s.params.introducer.0).then(|| {
                        let why = if earlier {
                            "a second join of"
                        } else {
                            "the introducer"
                        };
                        (format!("faults[{i}].node"), format!("{why} {node}"))
                    })
                })
            },
        },
    },
    list(
        "faults[].rate_permille",
        Limit::Fixed(RATE_PERMILLE_MIN),
        Limit::Fixed(RATE_PERMILLE_MAX),
        |s| {
            let rate = |(i, f): (usize, &Fault)| match f {
                Fault::Skew { rate_permille, .. } => {
                    one(&format!("faults[{i}].rate_permille"), *rate_permille)
                }
                _ => Vec::new(),
            };
            s.faults.iter().enumerate().flat_map(rate).collect()
        },
    ),
    scalar("workload.clients", ZERO, Limit::Fixed(CLIENTS_MAX), |s| {
        u64::from(s.workload.clients)
    }),
    scalar("workload.keys", ONE, Limit::Fixed(KEYS_MAX), |s| {
        u64::from(s.workload.keys)
    }),
    scalar(
        "workload.ops_per_client",
        ZERO,
        Limit::Fixed(OPS_PER_CLIENT_MAX),
        |s| u64::from(s.workload.ops_per_client),
    ),
    scalar(
        "workload.think_ticks_max",
        ZERO,
        Limit::Fixed(DELAY_TICKS_MAX),
        |s| s.workload.think_ticks_max,
    ),
    scalar("workload.start_tick", ZERO, LAST_FAULT_TICK, |s| {
        s.workload.start_tick
    }),
    scalar(
        "workload.fresh_node_ticks",
        ZERO,
        Limit::Fixed(DELAY_TICKS_MAX),
        |s| s.workload.fresh_node_ticks,
    ),
    list(
        "workload.mix.create, workload.mix.read, workload.mix.update, workload.mix.delete",
        ZERO,
        Limit::Fixed(MIX_WEIGHT_MAX),
        |s| {
            let m = s.workload.mix;
            [
                ("create", m.create),
                ("read", m.read),
                ("update", m.update),
                ("delete", m.delete),
            ]
            .into_iter()
            .flat_map(|(name, w)| one(&format!("workload.mix.{name}"), u64::from(w)))
            .collect()
        },
    ),
    Rule {
        field: "workload.key_prefix",
        check: Check::Condition {
            text: "1 to 32 of the ASCII letters, digits and - _ / : .",
            broken: |s| {
                let prefix = &s.workload.key_prefix;
                let allowed = |c: char| c.is_ascii_alphanumeric() || "-_/:.".contains(c);
                (prefix.is_empty()
                    || prefix.len() > KEY_PREFIX_BYTES_MAX
                    || !prefix.chars().all(allowed))
                .then(|| ("workload.key_prefix".to_string(), format!("{prefix:?}")))
            },
        },
    },
    Rule {
        field: "workload.mix",
        check: Check::Condition {
            text: "at least one non-zero weight",
            broken: |s| {
                (s.workload.mix.total() == 0)
                    .then(|| ("workload.mix".to_string(), "all weights zero".to_string()))
            },
        },
    },
];
