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

/// Renames task `task` (what reports and traces call it, and [`get_name_for_task`] returns).
///
/// # Panics
/// Outside a detest execution, or when the execution has no task `task`.
#[track_caller]
pub fn set_name_for_task(task: usize, name: impl Into<String>) {
    let name: String = name.into();
    rt::set_task_name(
        "detest::current::set_name_for_task",
        task as u32,
        name.into(),
    );
}

/// Attaches `value` to task `task` as its label of type `T`, returning the label it replaces.
/// A task spawned afterwards starts with the labels of its spawner (shuttle's
/// `set_label_for_task`); labels live as long as the execution.
///
/// ```
/// #[derive(Clone, Debug, PartialEq)]
/// struct Role(&'static str);
///
/// detest::check(|| {
///     detest::current::set_label_for_task(detest::current::me(), Role("server"));
///     let t = detest::thread::spawn(|| detest::current::get_label_for_task::<Role>(detest::current::me()));
///     assert_eq!(t.join().unwrap(), Some(Role("server"))); // inherited
/// });
/// ```
///
/// # Panics
/// Outside a detest execution, or when the execution has no task `task`.
#[track_caller]
pub fn set_label_for_task<T: Clone + 'static>(task: usize, value: T) -> Option<T> {
    let key = std::any::TypeId::of::<T>();
    let new: std::rc::Rc<dyn std::any::Any> = std::rc::Rc::new(value);
    let old = rt::with_labels(
        "detest::current::set_label_for_task",
        task as u32,
        |labels| match labels.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, new)),
            None => {
                labels.push((key, new));
                None
            }
        },
    );
    old.and_then(|v| v.downcast_ref::<T>().cloned())
}

/// Task `task`'s label of type `T`, if it has one (see [`set_label_for_task`]).
///
/// # Panics
/// Outside a detest execution, or when the execution has no task `task`.
#[track_caller]
pub fn get_label_for_task<T: Clone + 'static>(task: usize) -> Option<T> {
    let key = std::any::TypeId::of::<T>();
    let v = rt::with_labels(
        "detest::current::get_label_for_task",
        task as u32,
        |labels| {
            labels
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        },
    );
    v.and_then(|v| v.downcast_ref::<T>().cloned())
}

/// Removes task `task`'s label of type `T`, returning it (see [`set_label_for_task`]).
///
/// # Panics
/// Outside a detest execution, or when the execution has no task `task`.
#[track_caller]
pub fn remove_label_for_task<T: Clone + 'static>(task: usize) -> Option<T> {
    let key = std::any::TypeId::of::<T>();
    let v = rt::with_labels(
        "detest::current::remove_label_for_task",
        task as u32,
        |labels| {
            let i = labels.iter().position(|(k, _)| *k == key)?;
            Some(labels.swap_remove(i).1)
        },
    );
    v.and_then(|v| v.downcast_ref::<T>().cloned())
}

/// Whether the calling code runs inside a detest execution (on one of its tasks). Outside one
/// (a plain `#[test]`, the harness, another OS thread), detest's primitives behave like std's
/// and the rest of this module panics.
pub fn in_execution() -> bool {
    rt::in_execution()
}
