//! `tokio::sync::RwLock`: built, as tokio's is, on a [`Semaphore`](super::Semaphore) of
//! `max_readers` permits: a read takes one, a write takes them all. The semaphore's FIFO makes
//! the lock fair: a queued writer gathers permits as readers leave, so readers that come after
//! it wait behind it (no writer starvation), and waiters are served in the order they queued.

use super::semaphore::Semaphore;
use super::TryLockError;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
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
        RwLockWriteGuard { lock: self }
    }

    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_raw(self.mr as usize) {
            Ok(()) => Ok(RwLockWriteGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.sem
            .acquire_raw(1)
            .await
            .expect("rwlock semaphore closed");
        OwnedRwLockReadGuard { lock: self }
    }

    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        match self.sem.try_acquire_raw(1) {
            Ok(()) => Ok(OwnedRwLockReadGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.sem
            .acquire_raw(self.mr as usize)
            .await
            .expect("rwlock semaphore closed");
        OwnedRwLockWriteGuard { lock: self }
    }

    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        match self.sem.try_acquire_raw(self.mr as usize) {
            Ok(()) => Ok(OwnedRwLockWriteGuard { lock: self }),
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

/// Shared access; gives its permit back when dropped. It points at the value (or, after
/// [`map`](Self::map), a part of it) and holds the semaphore, as tokio's does.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    sem: &'a Semaphore,
    /// A raw pointer, not `&'a T`: a reference field would still be live (for the borrow
    /// model) when `drop` has given the permit back and a writer mutates the value.
    data: *const T,
    marker: PhantomData<&'a T>,
}

// SAFETY: the guard gives `&T` only, as a `&T` would (tokio's bounds).
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    fn new(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard {
            sem: &lock.sem,
            data: lock.value.get(),
            marker: PhantomData,
        }
    }

    /// A guard for a part of the value, holding the same read permit.
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RwLockReadGuard<'a, U> {
        // SAFETY: the permit is held for 'a (it moves into the new guard).
        let data: *const U = f(unsafe { &*this.data });
        let sem = this.sem;
        std::mem::forget(this);
        RwLockReadGuard {
            sem,
            data,
            marker: PhantomData,
        }
    }

    /// As [`map`](Self::map), giving the guard back when `f` returns `None`.
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        // SAFETY: as in `map`.
        let Some(data) = f(unsafe { &*this.data }).map(|d| d as *const U) else {
            return Err(this);
        };
        let sem = this.sem;
        std::mem::forget(this);
        Ok(RwLockReadGuard {
            sem,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit excludes every writer.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access; gives all the permits back when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access atomically: the waiters at the queue front
    /// that are readers get in at once, no writer can slip in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        RwLockWriteGuard::downgrade_map(self, |v| v)
    }

    /// Downgrades to a read guard for a part of the value; the waiting readers get in only
    /// after `f` returned (they cannot see the value while `f` runs).
    pub fn downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> &U,
    ) -> RwLockReadGuard<'a, U> {
        match RwLockWriteGuard::try_downgrade_map(this, |v| Some(f(v))) {
            Ok(guard) => guard,
            Err(_) => unreachable!("f returned Some"),
        }
    }

    /// As [`downgrade_map`](Self::downgrade_map); when `f` returns `None` the write guard
    /// comes back unchanged (still exclusive).
    pub fn try_downgrade_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<RwLockReadGuard<'a, U>, Self> {
        let lock = this.lock;
        // SAFETY: the write permit is held for 'a (it becomes the read permit below).
        let Some(data) = f(unsafe { &*lock.value.get() }).map(|d| d as *const U) else {
            return Err(this);
        };
        std::mem::forget(this);
        lock.sem.release(lock.mr as usize - 1);
        Ok(RwLockReadGuard {
            sem: &lock.sem,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.mr as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Shared access through an `Arc` of the lock.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit excludes every writer.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access through an `Arc` of the lock.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// As [`RwLockWriteGuard::downgrade`].
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; the Arc moves into the new guard.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.sem.release(lock.mr as usize - 1);
        OwnedRwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.mr as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
