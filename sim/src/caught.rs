//! Panics inside runs, caught as verdicts (`no-panic`) instead of ending the process.
//!
//! The standard hook prints every panic to stderr. Inside a run that would be one block of text
//! per failing run and per shrinking attempt, for a failure the verdict already names; so a hook
//! installed once keeps quiet for panics inside [`catching`], noting where they happened for the
//! verdict, and hands every other panic to the standard hook as before. The hook is process-wide
//! but no run reads it: what it notes goes only into the record of the run that panicked.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A panic caught inside a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// Its message (the text of `panic!`, `expect`, `assert!`).
    pub message: String,
    /// Where it was raised, as `file:line:column`, when the hook saw it.
    pub location: Option<String>,
}

thread_local! {
    /// Whether this thread is inside [`catching`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// Where the last panic caught on this thread was raised.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let standard = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                standard(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it comes back as [`Caught`]. Whatever `f` mutated may be left half
/// done: the caller reads it only to record what happened before the panic.
pub fn catching<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    install_hook();
    let outer = CATCHING.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(outer));
    result.map_err(|payload| Caught {
        message: message_of(payload.as_ref()),
        location: LOCATION.with(|l| l.borrow_mut().take()),
    })
}

/// A panic's message: its text when it has one (the payload of `panic!` and `expect`).
fn message_of(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(text), _) => (*text).to_string(),
        (None, Some(text)) => text.clone(),
        (None, None) => "a panic without a message".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_gives_its_message_and_where_it_was_raised() {
        let caught = catching(|| -> u32 { panic!("broken invariant {}", 7) }).unwrap_err();
        assert_eq!(caught.message, "broken invariant 7");
        let location = caught.location.expect("the hook saw it");
        assert!(location.starts_with("sim/src/caught.rs:"), "{location}");
        assert_eq!(catching(|| 5), Ok(5));
        let nested = catching(|| catching(|| -> () { panic!("inner") }).is_err());
        assert_eq!(
            nested,
            Ok(true),
            "an inner catch leaves the outer one catching"
        );
    }
}
