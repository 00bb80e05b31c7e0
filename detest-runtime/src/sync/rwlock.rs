use super::mutex::Pollers;
use super::mutex::OUTSIDE_OWNER;
use crate::outside;
use crate::rt::execution::{self as rt, ObjectId, Wait, WaitKind, NO_TASK};
use crate::trace::Op;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::{Location, RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// A reader-writer lock, like `std::sync::RwLock`, with poisoning on writer panics.
///
/// It follows the policy of std's Linux implementation (the futex `RwLock`), which prefers
/// writers: while a writer waits, new readers block and `try_read` fails, so a thread that
/// read-locks twice can deadlock against a writer that came in between.
pub struct RwLock<T: ?Sized> {
    id: ObjectId,
    writer: AtomicU32,
    readers: AtomicU32,
    /// std's "readers waiting" bit: set by a reader that blocks, cleared by the unlock that
    /// wakes the readers. While set, new readers queue behind the ones already waiting.
    readers_waiting: AtomicBool,
    /// std's "writers waiting" bit: set by a writer that blocks, cleared by the unlock that
    /// wakes one writer (who sets it again when it locks, for the writers still asleep).
    writers_waiting: AtomicBool,
    poisoned: AtomicBool,
    pollers: Pollers,
    data: UnsafeCell<T>,
}

// SAFETY: as std's RwLock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

// As std's: poisoning is what tells a caller that a panic left the data half-updated.
impl<T: ?Sized> UnwindSafe for RwLock<T> {}
impl<T: ?Sized> RefUnwindSafe for RwLock<T> {}

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
            id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()),
            writer: AtomicU32::new(NO_TASK),
            readers: AtomicU32::new(0),
            readers_waiting: AtomicBool::new(false),
            writers_waiting: AtomicBool::new(false),
            poisoned: AtomicBool::new(false),
            pollers: Pollers::new(),
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

    /// std's `is_read_lockable`: not write-locked, and nobody waiting (writers go first, and
    /// readers already waiting are woken together by the unlock that lets them in).
    fn read_lockable(&self) -> bool {
        self.writer.load(Relaxed) == NO_TASK
            && !self.readers_waiting.load(Relaxed)
            && !self.writers_waiting.load(Relaxed)
    }

    /// Shared access; blocks while a writer holds the lock or waits for it.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        if !rt::in_execution() {
            outside::wait_until(WHAT, &self.id, None, || self.read_outside());
            return self.poison(self.read_guard(location));
        }
        let obj = rt::before(WHAT, Op::Read, Some(&self.id), Self::kind(), location);
        while !self.read_lockable() && !rt::tearing_down() {
            self.readers_waiting.store(true, Relaxed);
            self.wait(WaitKind::Read, obj, location);
        }
        self.readers.fetch_add(1, Relaxed);
        // The last write-unlock happens before this read lock.
        rt::acquire(WHAT, &self.id);
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
        if !rt::in_execution() {
            outside::wait_until(WHAT, &self.id, None, || self.write_outside());
            return self.poison(self.write_guard(location));
        }
        let obj = rt::before(WHAT, Op::Write, Some(&self.id), Self::kind(), location);
        let mut waited = false;
        while !self.write_lockable() && !rt::tearing_down() {
            self.writers_waiting.store(true, Relaxed);
            waited = true;
            self.wait(WaitKind::Write, obj, location);
        }
        if waited {
            // The unlock that woke this writer cleared the bit, but other writers may still
            // sleep: keep it set (as std does) so that the next unlock wakes one of them.
            self.writers_waiting.store(true, Relaxed);
        }
        self.writer.store(rt::current_task(WHAT), Relaxed);
        // Every earlier unlock, read or write, happens before this write lock.
        rt::acquire_write(WHAT, &self.id);
        self.poison(RwLockWriteGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        })
    }

    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        if !rt::in_execution() {
            if outside::with(WHAT, &self.id, || self.read_outside()).is_none() {
                return Err(TryLockError::WouldBlock);
            }
            return self
                .poison(self.read_guard(location))
                .map_err(TryLockError::Poisoned);
        }
        self.pollers.point(|| {
            rt::before(WHAT, Op::TryLock, Some(&self.id), Self::kind(), location);
        });
        if !self.read_lockable() {
            return Err(TryLockError::WouldBlock);
        }
        self.readers.fetch_add(1, Relaxed);
        // The last write-unlock happens before this read lock.
        rt::acquire(WHAT, &self.id);
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
        if !rt::in_execution() {
            if outside::with(WHAT, &self.id, || self.write_outside()).is_none() {
                return Err(TryLockError::WouldBlock);
            }
            return self
                .poison(self.write_guard(location))
                .map_err(TryLockError::Poisoned);
        }
        self.pollers.point(|| {
            rt::before(WHAT, Op::TryLock, Some(&self.id), Self::kind(), location);
        });
        if !self.write_lockable() {
            return Err(TryLockError::WouldBlock);
        }
        self.writer.store(rt::current_task(WHAT), Relaxed);
        // Every earlier unlock, read or write, happens before this write lock.
        rt::acquire_write(WHAT, &self.id);
        self.poison(RwLockWriteGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        })
        .map_err(TryLockError::Poisoned)
    }

    /// Writers take a free lock whatever waits (std's writers barge in).
    fn write_lockable(&self) -> bool {
        self.writer.load(Relaxed) == NO_TASK && self.readers.load(Relaxed) == 0
    }

    fn poison<G>(&self, guard: G) -> LockResult<G> {
        if self.poisoned.load(Relaxed) {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        }
    }

    pub fn is_poisoned(&self) -> bool {
        rt::touch(&self.id);
        self.poisoned.load(Relaxed)
    }

    pub fn clear_poison(&self) {
        rt::touch(&self.id);
        self.poisoned.store(false, Relaxed);
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

    /// std's `wake_writer_or_readers`, called on a lock that has just become free: one writer
    /// if any waits (readers keep waiting behind it), otherwise the readers. The readers'
    /// wake-up also reaches writers blocked on the same object; they find the lock taken or
    /// free and act as after a spurious futex wake-up, which std's loop allows for.
    fn wake_waiters(&self, location: &'static Location<'static>) {
        let obj = rt::object_id(WHAT, &self.id);
        if self.writers_waiting.swap(false, Relaxed)
            && rt::wake_one(WHAT, obj, WaitKind::Write, location)
        {
            return;
        }
        if self.readers_waiting.swap(false, Relaxed) {
            rt::wake_all(WHAT, obj);
        }
    }

    /// Outside any execution (under `outside`'s lock): takes a read lock if no writer holds it.
    fn read_outside(&self) -> Option<()> {
        let free = self.writer.load(Relaxed) == NO_TASK;
        free.then(|| self.readers.store(self.readers.load(Relaxed) + 1, Relaxed))
    }

    /// Outside any execution (under `outside`'s lock): takes the write lock if nobody holds it.
    fn write_outside(&self) -> Option<()> {
        let free = self.writer.load(Relaxed) == NO_TASK && self.readers.load(Relaxed) == 0;
        free.then(|| self.writer.store(OUTSIDE_OWNER, Relaxed))
    }

    fn read_guard(&self, location: &'static Location<'static>) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        }
    }

    fn write_guard(&self, location: &'static Location<'static>) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        }
    }

    fn unlocked(&self, location: &'static Location<'static>) {
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
        let lock = self.lock;
        if !rt::in_execution() {
            outside::change(WHAT, &lock.id, || {
                lock.readers.store(lock.readers.load(Relaxed) - 1, Relaxed)
            });
            return;
        }
        if lock.pollers.any() {
            rt::holding(WHAT, &lock.id, RwLock::<T>::kind(), self.location);
        }
        rt::release_read(WHAT, &lock.id);
        let left = lock.readers.load(Relaxed) - 1;
        lock.readers.store(left, Relaxed);
        // Readers only ever wait while a writer does, so the last reader out wakes that writer.
        if left == 0 && lock.writers_waiting.load(Relaxed) {
            lock.wake_waiters(self.location);
        }
        lock.unlocked(self.location);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        let lock = self.lock;
        if !rt::in_execution() {
            outside::change(WHAT, &lock.id, || {
                if std::thread::panicking() {
                    lock.poisoned.store(true, Relaxed);
                }
                lock.writer.store(NO_TASK, Relaxed);
            });
            return;
        }
        if lock.pollers.any() {
            rt::holding(WHAT, &lock.id, RwLock::<T>::kind(), self.location);
        }
        if std::thread::panicking() && !rt::tearing_down() {
            lock.poisoned.store(true, Relaxed);
        }
        rt::release(WHAT, &lock.id);
        lock.writer.store(NO_TASK, Relaxed);
        if lock.writers_waiting.load(Relaxed) || lock.readers_waiting.load(Relaxed) {
            lock.wake_waiters(self.location);
        }
        lock.unlocked(self.location);
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
