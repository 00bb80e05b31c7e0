//! `tokio::sync`. Each primitive keeps its state behind a `detest::sync::Mutex`: taking it is
//! the scheduling point of the operation (where another task may run first) and orders the
//! operation with the others (happens-before). Waiters queue where tokio promises FIFO
//! (`Mutex`, `RwLock`, `Semaphore`, bounded `mpsc` senders, `Notify::notify_one`); everything tokio leaves
//! unordered (which task runs, which `select!` branch wins) is the policy's decision.

use std::cell::UnsafeCell;

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
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// A primitive's state: `with` is one scheduling point, then runs `f` without any other (so
/// `f` is atomic with respect to every other task): a detest `Section` (a lock would cost a
/// second point at its release and buy nothing).
pub(crate) struct State<T> {
    section: detest::sync::Section,
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only reached through `with`, inside the section, which excludes every
// other task (in an execution) or thread (outside one).
unsafe impl<T: Send> Send for State<T> {}
unsafe impl<T: Send> Sync for State<T> {}

impl<T> State<T> {
    pub(crate) const fn new(value: T) -> Self {
        State::within(value, 0, std::mem::size_of::<Self>())
    }

    /// The state of a primitive `size` bytes long, `offset` bytes into it (`offset_of!`,
    /// `size_of`): in a static, the whole primitive is put back as the program started at its
    /// first use in each execution (see detest's README, "Statics"), not only this state.
    pub(crate) const fn within(value: T, offset: usize, size: usize) -> Self {
        State {
            section: detest::sync::Section::__in_value(
                offset + std::mem::offset_of!(Self, section),
                size,
            ),
            value: UnsafeCell::new(value),
        }
    }

    #[track_caller]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: the section excludes every other task and thread until `f` returns.
        self.section.run(|| f(unsafe { &mut *self.value.get() }))
    }
}
