//! The running task, as shuttle's `current` module exposes it: its id and its vector clock,
//! for assertions about causality ("this happened before that").
//!
//! ```
//! use detest::sync::{Arc, Mutex};
//!
//! detest::check(|| {
//!     let m = Arc::new(Mutex::new(None));
//!     let m2 = m.clone();
//!     let t = detest::thread::spawn(move || {
//!         *m2.lock().unwrap() = Some(detest::current::clock());
//!     });
//!     t.join().unwrap();
//!     // The child's critical section happens before the join returns.
//!     let child = m.lock().unwrap().clone().unwrap();
//!     assert!(child < detest::current::clock());
//! });
//! ```
//!
//! A task's own entry counts its synchronising operations (spawns, joins, locks and unlocks,
//! sends and receipts, atomics that release or acquire, ...); entry `t` is how many of task
//! `t`'s it has seen happen before. Task 0 is the test body; spawned tasks count up from 1.

pub use crate::memory::VectorClock;
use crate::rt::execution as rt;

/// The current task's id in this execution (0: the test body).
///
/// # Panics
/// Outside a detest execution.
#[track_caller]
pub fn me() -> usize {
    rt::current_task("detest::current::me") as usize
}

/// The current task's vector clock.
///
/// # Panics
/// Outside a detest execution.
#[track_caller]
pub fn clock() -> VectorClock {
    rt::clock_of("detest::current::clock", None)
}

/// Task `task`'s vector clock as it is now.
///
/// # Panics
/// Outside a detest execution, or when the execution has no task `task`.
#[track_caller]
pub fn clock_for(task: usize) -> VectorClock {
    rt::clock_of("detest::current::clock_for", Some(task as u32))
}

/// The name of task `task` (as given to `thread::Builder::name`), if it has one.
///
/// # Panics
/// Outside a detest execution.
#[track_caller]
pub fn get_name_for_task(task: usize) -> Option<String> {
    rt::task_name("detest::current::get_name_for_task", task as u32).map(|n| n.to_string())
}
