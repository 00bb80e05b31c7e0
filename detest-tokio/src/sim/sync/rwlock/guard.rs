//! The guards that borrow the lock: [`RwLockReadGuard`], [`RwLockWriteGuard`] and
//! [`RwLockMappedWriteGuard`] (a write guard narrowed by `map` to a part of the value). A
//! guard holds its semaphore permits until dropped; mapping moves them into the new guard,
//! so a mapped write guard excludes everyone exactly as the write guard did and its drop
//! releases the write lock as the write guard's would.

use super::super::semaphore::Semaphore;
use super::RwLock;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

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

// SAFETY: the guard gives `&T` only, as a `&T` would (tokio's bounds, which also ask `Send`
// for `Sync`).
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard {
            sem: &lock.sem,
            data: lock.value.get(),
            marker: PhantomData,
        }
    }

    /// A guard for a part of the value, holding the same read permit.
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
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
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
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

/// Exclusive access; gives all the permits back when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockWriteGuard { lock }
    }

    /// Forgets the guard without releasing its permits; the caller takes them over.
    fn into_lock(this: Self) -> &'a RwLock<T> {
        let lock = this.lock;
        std::mem::forget(this);
        lock
    }

    /// A write guard for a part of the value, holding the same (write) permits: still
    /// exclusive, and dropping it unlocks the whole lock.
    ///
    /// ```ignore
    /// let lock = tokio::sync::RwLock::new((1, 'a'));
    /// {
    ///     let mut first = RwLockWriteGuard::map(lock.write().await, |v| &mut v.0);
    ///     *first = 2;
    /// }
    /// assert_eq!(*lock.read().await, (2, 'a'));
    /// ```
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let lock = RwLockWriteGuard::into_lock(this);
        RwLockMappedWriteGuard::new(&lock.sem, lock.mr, data)
    }

    /// As [`map`](Self::map), giving the guard back when `f` returns `None`.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(|d| d as *mut U) else {
            return Err(this);
        };
        let lock = RwLockWriteGuard::into_lock(this);
        Ok(RwLockMappedWriteGuard::new(&lock.sem, lock.mr, data))
    }

    /// The same guard as a mapped one (for code that stores mapped guards).
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |v| v)
    }

    /// Turns exclusive access into shared access atomically: the waiters at the queue front
    /// that are readers get in at once, no writer can slip in between.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        RwLockWriteGuard::downgrade_map(self, |v| v)
    }

    /// Downgrades to a read guard for a part of the value; the waiting readers get in only
    /// after `f` returned (they cannot see the value while `f` runs).
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        match RwLockWriteGuard::try_downgrade_map(this, |v| Some(f(v))) {
            Ok(guard) => guard,
            Err(_) => unreachable!("f returned Some"),
        }
    }

    /// As [`downgrade_map`](Self::downgrade_map); when `f` returns `None` the write guard
    /// comes back unchanged (still exclusive).
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(|d| d as *const U) else {
            return Err(this);
        };
        let lock = RwLockWriteGuard::into_lock(this);
        // The write permits become the read permit (one kept).
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

/// Exclusive access to a part of the locked value, from [`RwLockWriteGuard::map`]; holds
/// the write lock's permits and gives them all back when dropped. It cannot be downgraded
/// (as tokio's: the rest of the value is out of its reach).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    sem: &'a Semaphore,
    /// Permits held: the lock's `max_readers`.
    permits: u32,
    /// Raw, as in [`RwLockReadGuard`].
    data: *mut T,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard gives `&mut T` (tokio's bounds: the value may be sent or shared through it).
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    fn new(sem: &'a Semaphore, permits: u32, data: *mut T) -> Self {
        RwLockMappedWriteGuard {
            sem,
            permits,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows further, holding the same permits.
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let (sem, permits) = (this.sem, this.permits);
        std::mem::forget(this);
        RwLockMappedWriteGuard::new(sem, permits, data)
    }

    /// As [`map`](Self::map), giving the guard back when `f` returns `None`.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(|d| d as *mut U) else {
            return Err(this);
        };
        let (sem, permits) = (this.sem, this.permits);
        std::mem::forget(this);
        Ok(RwLockMappedWriteGuard::new(sem, permits, data))
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

/// `Debug` and `Display` show the guarded value, as tokio's guards do.
macro_rules! fmt_as_value {
    ($($guard:ident),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: ?Sized + fmt::Display> fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    )*};
}

fmt_as_value!(RwLockReadGuard, RwLockWriteGuard, RwLockMappedWriteGuard);
