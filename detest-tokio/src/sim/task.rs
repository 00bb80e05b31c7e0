//! `tokio::task`: every task is a detest task (its own coroutine, scheduled by the policy).
//!
//! ```ignore
//! let task = tokio::spawn(async { 1 + 1 });
//! assert_eq!(task.await.unwrap(), 2);
//! let blocking = tokio::task::spawn_blocking(|| 3);
//! assert_eq!(blocking.await.unwrap(), 3);
//! ```

pub use detest::future::{AbortHandle, JoinError, JoinHandle};
pub use join_set::JoinSet;

mod join_set;
use std::future::Future;

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
    detest::future::spawn(async move { f() })
}

/// Yields to the scheduler once (a scheduling point that hands over to another task).
pub async fn yield_now() {
    detest::future::yield_now().await
}
