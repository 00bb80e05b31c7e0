//! detest: deterministic, schedule-exploring tests for concurrent Rust.
//!
//! Logical threads and async tasks run as coroutines on one OS thread; at every scheduling point
//! (lock, atomic, channel, spawn, join, sleep, ...) a policy picks who runs next. The same seed
//! gives the same interleaving, the same virtual time and the same random values, so a failure
//! found once replays forever.
//!
//! ```
//! use detest::sync::atomic::{AtomicUsize, Ordering};
//! use detest::sync::Arc;
//! use detest::{Config, FailureKind, Policy};
//!
//! // A lost update: two threads load, then store, without a lock.
//! let report = Config::new().seeds(1000).policy(Policy::Pct { depth: 3 }).run(|| {
//!     let n = Arc::new(AtomicUsize::new(0));
//!     let n2 = n.clone();
//!     let t = detest::thread::spawn(move || {
//!         let v = n2.load(Ordering::SeqCst);
//!         n2.store(v + 1, Ordering::SeqCst);
//!     });
//!     let v = n.load(Ordering::SeqCst);
//!     n.store(v + 1, Ordering::SeqCst);
//!     t.join().unwrap();
//!     assert_eq!(n.load(Ordering::SeqCst), 2);
//! });
//! let failure = &report.failures[0];
//! assert_eq!(failure.kind, FailureKind::Panic);
//! // The schedule replays the failure exactly.
//! # let body = || {
//! #     let n = Arc::new(AtomicUsize::new(0));
//! #     let n2 = n.clone();
//! #     let t = detest::thread::spawn(move || {
//! #         let v = n2.load(Ordering::SeqCst);
//! #         n2.store(v + 1, Ordering::SeqCst);
//! #     });
//! #     let v = n.load(Ordering::SeqCst);
//! #     n.store(v + 1, Ordering::SeqCst);
//! #     t.join().unwrap();
//! #     assert_eq!(n.load(Ordering::SeqCst), 2);
//! # };
//! let replay = Config::new().replay(&failure.schedule, body);
//! assert_eq!(replay.failure.unwrap().message, failure.message);
//! ```
//!
//! The crate feature `model` (default) is the executor and its primitives. A library depends
//! on detest with `default-features = false`, where `detest::sync`, `thread`, `time`, ... are
//! std's own items, and dev-depends on it with `features = ["model"]`, so the same code runs
//! on the model under `cargo test` (see the README, "Library code"). Outside any execution
//! the model's primitives behave like std's.

// Lets `#[detest]` name the crate as `::detest` inside its own tests too.
extern crate self as detest;

/// Items that exist only with the `model` feature (the executor and its primitives).
macro_rules! model {
    ($($item:item)*) => {$(
        #[cfg(feature = "model")]
        $item
    )*};
}

// Without the model, `detest::sync`, `thread`, `time`, ... are std's (see `std_mode`).
#[cfg(not(feature = "model"))]
mod std_mode;
#[cfg(not(feature = "model"))]
pub use std_mode::*;

pub mod rand;

model! {
pub mod cell;
mod config;
pub mod current;
mod determinism;
pub mod env;
mod explore;
pub mod fixture;
pub mod future;
pub mod hint;
pub mod lazy_static;
mod memory;
mod outside;
// The std executor of `detest::future::block_on`, also run outside executions.
#[path = "std_mode/future.rs"]
mod std_future;
pub mod protocol;
pub mod render;
mod report;
mod rt;
pub mod runner;
mod schedule;
pub mod scheduler;
mod seeds;
mod shrink;
pub mod sync;
pub mod thread;
pub mod time;
pub mod trace;

pub use config::{
    check, Config, MemoryModel, Policy, DEFAULT_MAX_STEPS, DEFAULT_PCT_DEPTH, DEFAULT_STACK_SIZE,
};
pub use determinism::{DeterminismReport, Divergence};
pub use explore::Exploration;
pub use report::{Execution, Failure, FailureKind, Report, TaskInfo};
pub use rt::execution::panic_message;

/// The seed of the execution running on this thread (for logging, or for a test that wants to
/// know which seed it is running under).
///
/// # Panics
/// Outside a detest execution.
#[track_caller]
pub fn seed() -> u64 {
    rt::execution::seed("detest::seed")
}
pub use schedule::{
    schedule_fits, shown_schedule, Decision, Schedule, ScheduleParseError, SCHEDULE_SHOWN_MAX,
};
pub use seeds::{SeedIter, SeedRange, SeedRangeError};
pub use shrink::{ShrinkBudget, Shrunk};

/// `#[detest(...)]`: run a test on the detest executor, swept over seeds, with failing seeds
/// saved as regression fixtures and replayed first. The arguments are below; the `DETEST_*`
/// environment variables that override them for one run, and what a run does (fixtures,
/// shrinking, reports), are in [`runner`] ([its table of variables](runner#environment)).
///
/// ```
/// use detest::detest;
/// use detest::sync::{Arc, Mutex};
///
/// #[detest(seeds = 100, chaos, timeout = "10s")]
/// fn counter_is_exact() {
///     let n = Arc::new(Mutex::new(0));
///     let n2 = n.clone();
///     let t = detest::thread::spawn(move || *n2.lock().unwrap() += 1);
///     *n.lock().unwrap() += 1;
///     t.join().unwrap();
///     assert_eq!(*n.lock().unwrap(), 2);
/// }
/// ```
///
/// A malformed argument does not compile:
///
/// ```compile_fail
/// #[detest::detest(seeds = 0)]
/// fn never_runs() {}
/// ```
///
/// ```compile_fail
/// #[detest::detest(seed = 3, seeds = 10)]
/// fn which_is_it() {}
/// ```
pub use detest_macros::detest;

/// Used by the expansion of `#[detest]`; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::rt::execution::leaked_stacks;
    pub use crate::runner::{announce_at_load, run_test, Expect, TestReturn, TestSpec};
}
}
