//! `tokio::sync`. Each primitive keeps its state behind a `detest::sync::Mutex`: taking it is
//! the scheduling point of the operation (where another task may run first) and orders the
//! operation with the others (happens-before). Waiters queue where tokio promises FIFO
//! (`Mutex`, `RwLock`, `Semaphore`, bounded `mpsc` senders, `Notify::notify_one`); everything tokio leaves
//! unordered (which task runs, which `select!` branch wins) is the policy's decision.

mod barrier;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// A primitive's state: `with` is one scheduling point, then runs `f` without any other (so
/// `f` is atomic with respect to every other task).
pub(crate) struct State<T>(detest::sync::Mutex<T>);

impl<T> State<T> {
    pub(crate) const fn new(value: T) -> Self {
        State(detest::sync::Mutex::new(value))
    }

    #[track_caller]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // A panic never happens while this is held (no user code runs inside), so poison
        // can only come from teardown: the value is still consistent.
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}
