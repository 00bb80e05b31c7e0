//! `tokio::task`: every task is a detest task (its own coroutine, scheduled by the policy).
//!
//! ```ignore
//! let task = tokio::spawn(async { 1 + 1 });
//! assert_eq!(task.await.unwrap(), 2);
//! let blocking = tokio::task::spawn_blocking(|| 3);
//! assert_eq!(blocking.await.unwrap(), 3);
//! ```

pub use detest::future::{id, try_id, AbortHandle, Id, JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local::{spawn_local, LocalEnterGuard, LocalSet};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

/// tokio's `task::futures`.
pub mod futures {
    pub use super::task_local::TaskLocalFuture;
}

pub mod coop;
pub use coop::{consume_budget, unconstrained, Unconstrained};

mod join_set;
mod local;
mod task_local;
use crate::runtime::{current_flavor, RuntimeFlavor};
use std::cell::Cell;
use std::future::Future;

detest::thread_local! {
    /// Whether this task is a `spawn_blocking` one (on tokio's blocking pool, outside the
    /// runtime's workers: `block_in_place` is allowed there on any flavor).
    static BLOCKING: Cell<bool> = const { Cell::new(false) };
}

/// Spawns a task on the execution; it runs interleaved with the others as the policy picks.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    detest::future::spawn(future)
}

/// Runs blocking code as a task of its own: a detest task is a coroutine, so blocking calls
/// inside it (detest locks, sleeps, joins) block only it, as on tokio's blocking pool.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    detest::future::spawn(async move {
        BLOCKING.with(|b| b.set(true));
        f()
    })
}

/// Runs blocking code in the current task. tokio moves the worker's other tasks to another
/// thread first; here every task is a coroutine of its own, so the others go on anyway.
///
/// # Panics
/// As tokio's, on a current-thread runtime (`#[tokio::test]`'s default flavor) and inside a
/// `LocalSet`, unless called from a `spawn_blocking` task.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    let on_worker =
        current_flavor() == Some(RuntimeFlavor::CurrentThread) || local::in_local_poll();
    if on_worker && !BLOCKING.with(Cell::get) {
        panic!("can call blocking only when running on the multi-threaded runtime");
    }
    f()
}

/// Yields to the scheduler once (a scheduling point that hands over to another task).
pub async fn yield_now() {
    detest::future::yield_now().await
}
