use crate::rt::execution::{self as rt, ObjectId, Wait, WaitKind, NO_TASK};
use crate::trace::Op;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// A reader-writer lock, like `std::sync::RwLock`, with poisoning on writer panics.
pub struct RwLock<T: ?Sized> {
    id: ObjectId,
    writer: AtomicU32,
    readers: AtomicU32,
    poisoned: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: as std's RwLock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
    _not_send: PhantomData<*const ()>,
}

pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
    _not_send: PhantomData<*const ()>,
}

unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

const WHAT: &str = "detest::sync::RwLock";

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock {
            id: ObjectId::new(),
            writer: AtomicU32::new(NO_TASK),
            readers: AtomicU32::new(0),
            poisoned: AtomicBool::new(false),
            data: UnsafeCell::new(value),
        }
    }

    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.poisoned.load(Relaxed);
        let data = self.data.into_inner();
        if poisoned {
            Err(PoisonError::new(data))
        } else {
            Ok(data)
        }
    }
}

impl<T: ?Sized> RwLock<T> {
    fn kind() -> &'static str {
        std::any::type_name::<Self>()
    }

    fn wait(&self, kind: WaitKind, obj: u32, location: &'static Location<'static>) {
        let holder = self.writer.load(Relaxed);
        rt::block(
            WHAT,
            Wait::new(kind, obj, Self::kind(), location).held_by(holder),
        );
    }

    /// Shared access; blocks while a writer holds the lock.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        let obj = rt::before(WHAT, Op::Read, Some(&self.id), Self::kind(), location);
        while self.writer.load(Relaxed) != NO_TASK && !rt::tearing_down() {
            self.wait(WaitKind::Read, obj, location);
        }
        self.readers.fetch_add(1, Relaxed);
        self.poison(RwLockReadGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        })
    }

    /// Exclusive access; blocks while anyone holds the lock.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let location = Location::caller();
        let obj = rt::before(WHAT, Op::Write, Some(&self.id), Self::kind(), location);
        while (self.writer.load(Relaxed) != NO_TASK || self.readers.load(Relaxed) != 0)
            && !rt::tearing_down()
        {
            self.wait(WaitKind::Write, obj, location);
        }
        self.writer.store(rt::current_task(WHAT), Relaxed);
        self.poison(RwLockWriteGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        })
    }

    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        rt::before(WHAT, Op::TryLock, Some(&self.id), Self::kind(), location);
        if self.writer.load(Relaxed) != NO_TASK {
            return Err(TryLockError::WouldBlock);
        }
        self.readers.fetch_add(1, Relaxed);
        self.poison(RwLockReadGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        })
        .map_err(TryLockError::Poisoned)
    }

    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let location = Location::caller();
        rt::before(WHAT, Op::TryLock, Some(&self.id), Self::kind(), location);
        if self.writer.load(Relaxed) != NO_TASK || self.readers.load(Relaxed) != 0 {
            return Err(TryLockError::WouldBlock);
        }
        self.writer.store(rt::current_task(WHAT), Relaxed);
        self.poison(RwLockWriteGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        })
        .map_err(TryLockError::Poisoned)
    }

    fn poison<G>(&self, guard: G) -> LockResult<G> {
        if self.poisoned.load(Relaxed) {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        }
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Relaxed)
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.poisoned.load(Relaxed);
        let data = self.data.get_mut();
        if poisoned {
            Err(PoisonError::new(data))
        } else {
            Ok(data)
        }
    }

    fn unlock(&self, location: &'static Location<'static>) {
        let obj = rt::object_id(WHAT, &self.id);
        rt::wake_all(WHAT, obj);
        rt::after(
            WHAT,
            Op::Unlock,
            Some(&self.id),
            Self::kind(),
            location,
            false,
        );
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.readers.fetch_sub(1, Relaxed);
        self.lock.unlock(self.location);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() && !rt::tearing_down() {
            self.lock.poisoned.store(true, Relaxed);
        }
        self.lock.writer.store(NO_TASK, Relaxed);
        self.lock.unlock(self.location);
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: readers exclude writers.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the writer is exclusive.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the writer is exclusive.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}
