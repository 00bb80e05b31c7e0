//! `tokio::sync::RwLock`: built, as tokio's is, on a [`Semaphore`](super::Semaphore) of
//! `max_readers` permits: a read takes one, a write takes them all. The semaphore's FIFO makes
//! the lock fair: a queued writer gathers permits as readers leave, so readers that come after
//! it wait behind it (no writer starvation), and waiters are served in the order they queued.
//! The guards (borrowing the lock in `guard.rs`, owning an `Arc` of it in `owned.rs`) hold
//! their permits until dropped; `map` narrows a guard to a part of the value and moves its
//! permits into the new guard, so a mapped write guard is exactly as exclusive.

mod guard;
mod owned;

pub use guard::{RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};
pub use owned::{OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

use super::semaphore::Semaphore;
use super::TryLockError;
use std::cell::UnsafeCell;
use std::fmt;
use std::sync::Arc;

/// tokio's limit on concurrent readers (`u32::MAX >> 3`).
const MAX_READS: u32 = u32::MAX >> 3;

/// A fair async reader-writer lock.
///
/// ```ignore
/// let lock = tokio::sync::RwLock::new(5);
/// {
///     let (r1, r2) = (lock.read().await, lock.read().await);
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// ```
pub struct RwLock<T: ?Sized> {
    /// Permits a writer takes (`max_readers`).
    mr: u32,
    sem: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: as tokio's: readers share `&T` (needs Sync), a writer has `&mut T` (needs Send).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock::with_max_readers(value, MAX_READS)
    }

    pub const fn const_new(value: T) -> Self {
        RwLock::new(value)
    }

    /// A lock letting at most `max_reads` readers in at once (tokio's panics as these do).
    #[track_caller]
    pub const fn with_max_readers(value: T, max_reads: u32) -> Self {
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than MAX_READS readers"
        );
        assert!(max_reads != 0, "a RwLock may not be created with 0 readers");
        RwLock {
            mr: max_reads,
            sem: Semaphore::within(
                max_reads as usize,
                std::mem::offset_of!(Self, sem),
                std::mem::size_of::<Self>(),
            ),
            value: UnsafeCell::new(value),
        }
    }

    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> Self {
        RwLock::with_max_readers(value, max_reads)
    }

    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access (behind every earlier waiter, readers and writers alike).
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.sem
            .acquire_raw(1)
            .await
            .expect("rwlock semaphore closed");
        RwLockReadGuard::new(self)
    }

    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_raw(1) {
            Ok(()) => Ok(RwLockReadGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Waits for exclusive access.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.sem
            .acquire_raw(self.mr as usize)
            .await
            .expect("rwlock semaphore closed");
        RwLockWriteGuard::new(self)
    }

    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_raw(self.mr as usize) {
            Ok(()) => Ok(RwLockWriteGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.sem
            .acquire_raw(1)
            .await
            .expect("rwlock semaphore closed");
        OwnedRwLockReadGuard::new(self)
    }

    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        match self.sem.try_acquire_raw(1) {
            Ok(()) => Ok(OwnedRwLockReadGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.sem
            .acquire_raw(self.mr as usize)
            .await
            .expect("rwlock semaphore closed");
        OwnedRwLockWriteGuard::new(self)
    }

    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        match self.sem.try_acquire_raw(self.mr as usize) {
            Ok(()) => Ok(OwnedRwLockWriteGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}
