//! The sequential specification a history is checked against.
//!
//! A [`Model`] is what the search needs and nothing more, so that the hot loop stays small: an
//! initial state, a step function that says whether an operation is legal in a state and what
//! state follows, and whether an operation only observes. States are small `Copy` values
//! (interned ids) so that the memo table of (linearized set, state) is cheap to hash and compare.
//!
//! [`Explain`] adds what a person and the witness minimizer need: names, text, and which values
//! an operation writes and which it must have seen.

use std::fmt::Debug;
use std::hash::Hash;

/// A sequential object specification.
pub trait Model {
    /// The object's state: small, `Copy`, hashable (typically an interned value id).
    type State: Copy + Eq + Hash + Debug;
    /// One operation: input and output together, already interned.
    type Op: Clone + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// `Some(next)` if `op` may happen in `state` with the output it recorded; `None` if not.
    /// Takes `&mut self` so that models may intern states they discover (string appends).
    fn step(&mut self, state: Self::State, op: &Self::Op) -> Option<Self::State>;

    /// Whether `op` never changes the state (a read, a failed compare-and-set, a rejection).
    /// The search linearizes a legal observation at once instead of branching on it: moving an
    /// operation that changes nothing earlier keeps every other operation legal.
    fn is_observation(&self, op: &Self::Op) -> bool;

    /// For a register model, what `op` needs and may write; `None` (the default) for other
    /// models. When a model answers for every operation, the search runs the register
    /// lookahead ([`crate::lookahead`]) from tables it builds once, instead of calling
    /// [`Model::may_finish`] on every configuration.
    fn register_access(&self, op: &Self::Op) -> Option<RegisterAccess<Self::State>> {
        let _ = op;
        None
    }

    /// Operations of one class step alike: from any state, both are illegal, or both lead to
    /// the same state (an optional operation that would change nothing counting as illegal,
    /// since the search never makes that move). `None` (the default) puts the operation in a
    /// class of its own. The search uses classes to break symmetry: of two candidates of one
    /// class it tries only the one whose completion is due first ([`crate::search`]).
    fn step_class(&self, op: &Self::Op) -> Option<u64> {
        let _ = op;
        None
    }

    /// A cheap necessary condition the search uses to give up early: could every operation
    /// not yet linearized still be, from `state`? `pending` lists their invocations and (for
    /// definite outcomes) completions in real-time order; an operation can only be linearized
    /// before a completion if its invocation comes before it in this list. Must answer `true`
    /// when unsure; the default always does. (Generic rather than `dyn`: the search calls it
    /// once per configuration and walks the whole list, so the walk must inline.)
    fn may_finish<'a>(
        &mut self,
        state: Self::State,
        pending: impl Iterator<Item = Pending<'a, Self::Op>>,
    ) -> bool
    where
        Self::Op: 'a,
    {
        let _ = (state, pending);
        true
    }
}

/// An endpoint of an operation the search has not linearized yet.
#[derive(Debug, Clone, Copy)]
pub enum Pending<'a, O> {
    /// The operation was invoked here.
    Invoked(&'a O),
    /// The operation completed here, so it must be linearized before whatever is invoked after.
    Completes(&'a O),
}

/// What an operation of a register model needs the register to hold when it is linearized (a
/// read that saw a value, a compare-and-set that expected one) and what it may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterAccess<S> {
    /// The value it needs, if any.
    pub needs: Option<S>,
    /// The value it writes if it takes effect, if any.
    pub writes: Option<S>,
}

/// A value written or observed, as an interned id: the unit of "this read saw that write".
pub type Token = u32;

/// Which values an operation brings into the state and which it can only have seen if some
/// operation brought them in. The witness minimizer drops, with an operation, every operation
/// whose observation needed a value only the dropped one wrote ("the reads that saw its value").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Values this operation writes (if it takes effect).
    pub produced: Vec<Token>,
    /// Values this operation's output shows it saw.
    pub needed: Vec<Token>,
}

/// What a person (and the witness minimizer) needs to know about a model's operations.
pub trait Explain: Model {
    /// A short stable name of the operation's kind ("read", "cas"), used in signatures.
    fn kind(&self, op: &Self::Op) -> &'static str;

    /// The operation as asked, without its outcome ("create v12", "cas 3 -> 0").
    fn describe(&self, op: &Self::Op) -> String;

    /// The outcome as answered ("ok", "rejected: exists", "unknown", "ok, saw 3").
    fn outcome(&self, op: &Self::Op) -> String;

    /// A state as a person reads it ("absent", "3", a string).
    fn describe_state(&self, state: Self::State) -> String;

    /// Values written and values seen; see [`Tokens`].
    fn tokens(&self, op: &Self::Op) -> Tokens;
}
