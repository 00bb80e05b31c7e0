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

/// A mutual-exclusion lock, like `std::sync::Mutex`, with poisoning.
///
/// Locking and unlocking are scheduling points. Locking a mutex the current thread already holds
/// blocks forever, which detest reports as a deadlock.
pub struct Mutex<T: ?Sized> {
    pub(crate) id: ObjectId,
    owner: AtomicU32,
    /// Tasks blocked on this mutex: unlocking skips the runtime's wake-up when there are none.
    waiting: AtomicU32,
    poisoned: AtomicBool,
    pollers: Pollers,
    data: UnsafeCell<T>,
}

/// How many tasks wait at the scheduling point of a `try_*` on a lock. Only they can tell a
/// held lock from one released a moment later, so a guard's drop offers a choice inside the
/// section (`rt::holding`) only while there are some: a lock nobody polls pays one load.
pub(crate) struct Pollers(AtomicU32);

impl Pollers {
    pub(crate) const fn new() -> Self {
        Pollers(AtomicU32::new(0))
    }

    /// Runs a `try_*`'s scheduling point `point`, counted as a poller meanwhile.
    pub(crate) fn point(&self, point: impl FnOnce()) {
        /// Uncounts even when teardown unwinds the task out of its point.
        struct Done<'a>(&'a AtomicU32);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Relaxed);
            }
        }
        self.0.fetch_add(1, Relaxed);
        let _done = Done(&self.0);
        point();
    }

    pub(crate) fn any(&self) -> bool {
        self.0.load(Relaxed) != 0
    }
}

// SAFETY: as std's Mutex; all logical threads of an execution run on one OS thread and the
// owner field grants exclusive access.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

// As std's: poisoning is what tells a caller that a panic left the data half-updated.
impl<T: ?Sized> UnwindSafe for Mutex<T> {}
impl<T: ?Sized> RefUnwindSafe for Mutex<T> {}

/// RAII guard; unlocking (a scheduling point) happens on drop.
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    pub(crate) lock: &'a Mutex<T>,
    /// Where the lock was taken: a drop has no caller location of its own worth showing.
    pub(crate) location: &'static Location<'static>,
    /// Not `Send`, as std's guards are not: a lock is released by the thread that took it.
    pub(crate) _not_send: PhantomData<*const ()>,
}

unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

const WHAT: &str = "detest::sync::Mutex";

/// The owner of a mutex locked outside any execution (see `crate::outside`).
pub(crate) const OUTSIDE_OWNER: u32 = NO_TASK - 1;

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex::__in_value(value, 0, std::mem::size_of::<Self>())
    }

    /// For crates built on detest's primitives (detest-tokio): a mutex `offset` bytes into a
    /// value `size` bytes long (`offset_of!`, `size_of`) that, in a static, is put back as a
    /// whole at its first use in each execution (see the README, "Statics"), instead of only
    /// the mutex.
    #[doc(hidden)]
    pub const fn __in_value(value: T, offset: usize, size: usize) -> Self {
        Mutex {
            id: ObjectId::within(offset + std::mem::offset_of!(Self, id), size),
            owner: AtomicU32::new(NO_TASK),
            waiting: AtomicU32::new(0),
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

impl<T: ?Sized> Mutex<T> {
    /// Acquires the lock, blocking the logical thread until it is free.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let location = Location::caller();
        if !rt::in_execution() {
            self.lock_outside();
            return self.guard(location);
        }
        // The acquire is logged with the point (no second trip to the state), and again if
        // the lock turns out to be held: every unlock before the one that let this task in
        // happens before it, and logging early only adds edges that hold anyway.
        let (obj, me) = rt::before_then(
            WHAT,
            Op::Lock,
            Some(&self.id),
            std::any::type_name::<Self>(),
            location,
            |memory, cur, id| memory.acquire(cur, id),
        );
        if self.acquire(obj, me, location) {
            rt::acquire_at(WHAT, obj);
        }
        self.guard(location)
    }

    /// Acquires the lock if it is free (a scheduling point either way).
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let location = Location::caller();
        if !rt::in_execution() {
            let free = outside::with(WHAT, &self.id, || {
                let free = self.owner.load(Relaxed) == NO_TASK;
                if free {
                    self.owner.store(OUTSIDE_OWNER, Relaxed);
                }
                free
            });
            if !free {
                return Err(TryLockError::WouldBlock);
            }
            return self.guard(location).map_err(TryLockError::Poisoned);
        }
        self.pollers.point(|| {
            rt::before(
                WHAT,
                Op::TryLock,
                Some(&self.id),
                std::any::type_name::<Self>(),
                location,
            );
        });
        if self.owner.load(Relaxed) != NO_TASK {
            return Err(TryLockError::WouldBlock);
        }
        self.owner.store(rt::current_task(WHAT), Relaxed);
        rt::acquire(WHAT, &self.id);
        self.guard(location).map_err(TryLockError::Poisoned)
    }

    fn guard(&self, location: &'static Location<'static>) -> LockResult<MutexGuard<'_, T>> {
        let guard = MutexGuard {
            lock: self,
            location,
            _not_send: PhantomData,
        };
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

    /// Takes the lock outside any execution, blocking the OS thread while it is held.
    pub(crate) fn lock_outside(&self) {
        outside::wait_until(WHAT, &self.id, None, || {
            (self.owner.load(Relaxed) == NO_TASK).then(|| self.owner.store(OUTSIDE_OWNER, Relaxed))
        });
    }

    /// Releases the lock outside any execution (run under `outside`'s lock).
    pub(crate) fn unlock_outside(&self) {
        if std::thread::panicking() {
            self.poisoned.store(true, Relaxed);
        }
        self.owner.store(NO_TASK, Relaxed);
    }

    /// Releases the lock and wakes its waiters, without a scheduling point (condvar waits).
    pub(crate) fn release(&self) {
        rt::release(WHAT, &self.id);
        self.unlock();
    }

    /// [`Mutex::release`] without the happens-before edge (a guard's drop adds it at its
    /// `after` point).
    fn unlock(&self) {
        if std::thread::panicking() && !rt::tearing_down() {
            self.poisoned.store(true, Relaxed);
        }
        self.owner.store(NO_TASK, Relaxed);
        if self.waiting.load(Relaxed) > 0 {
            let obj = rt::object_id(WHAT, &self.id);
            rt::wake_all(WHAT, obj);
        }
    }

    /// Re-acquires after a condvar wait.
    pub(crate) fn reacquire(&self, location: &'static Location<'static>) {
        let obj = rt::object_id(WHAT, &self.id);
        self.acquire(obj, rt::current_task(WHAT), location);
        rt::acquire_at(WHAT, obj);
    }

    /// Takes the lock for `me` (object `obj`), blocking while another task holds it. Returns
    /// whether it blocked. (The caller adds the happens-before edge.)
    fn acquire(&self, obj: u32, me: u32, location: &'static Location<'static>) -> bool {
        let mut blocked = false;
        loop {
            let owner = self.owner.load(Relaxed);
            // During teardown nobody else will run again: take the lock so that the drop
            // being run completes.
            if owner == NO_TASK || rt::tearing_down() {
                self.owner.store(me, Relaxed);
                return blocked;
            }
            blocked = true;
            self.waiting.store(self.waiting.load(Relaxed) + 1, Relaxed);
            rt::block(
                WHAT,
                Wait::new(WaitKind::Lock, obj, std::any::type_name::<Self>(), location)
                    .held_by(owner),
            );
            self.waiting.store(self.waiting.load(Relaxed) - 1, Relaxed);
        }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if !rt::in_execution() {
            let lock = self.lock;
            outside::change(WHAT, &lock.id, || lock.unlock_outside());
            return;
        }
        if self.lock.pollers.any() {
            rt::holding(
                WHAT,
                &self.lock.id,
                std::any::type_name::<Mutex<T>>(),
                self.location,
            );
        }
        self.lock.unlock();
        rt::after_then(
            WHAT,
            Op::Unlock,
            Some(&self.lock.id),
            std::any::type_name::<Mutex<T>>(),
            self.location,
            false,
            |memory, cur, id| memory.release(cur, id),
        );
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves ownership of the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves ownership of the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(v: T) -> Self {
        Mutex::new(v)
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("poisoned", &self.poisoned.load(Relaxed))
            .finish_non_exhaustive()
    }
}
