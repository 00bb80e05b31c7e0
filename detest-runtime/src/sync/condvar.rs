use super::mutex::MutexGuard;
use crate::outside;
use crate::rt::execution::{self as rt, ObjectId, Wait, WaitKind};
use crate::trace::Op;
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

/// A condition variable, like `std::sync::Condvar`. Waiting releases the mutex and blocks in one
/// step. As with std, which waiter `notify_one` wakes is not specified (the policy picks it:
/// the longest waiter under the deterministic policies) and a wait may return spuriously
/// (under the exploring policies, unless `spurious_wakeups` is off): wait in a loop.
#[derive(Default)]
pub struct Condvar {
    id: ObjectId,
}

/// Whether a timed wait returned because its timeout elapsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

const WHAT: &str = "detest::sync::Condvar";

impl Condvar {
    pub const fn new() -> Self {
        Condvar {
            id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()),
        }
    }

    fn wait_inner<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: u64,
        location: &'static Location<'static>,
    ) -> (LockResult<MutexGuard<'a, T>>, bool) {
        let obj = rt::before(WHAT, Op::Wait, Some(&self.id), "Condvar", location);
        let (lock, lock_location) = (guard.lock, guard.location);
        // Release without the guard's drop (which would be a scheduling point between the
        // release and the wait, a window std does not have).
        std::mem::forget(guard);
        lock.release();
        let timed_out = if rt::spurious_wakeup(WHAT, location) {
            // As std's: the mutex stays released while others may run, then is re-acquired,
            // and a timed wait reports no timeout.
            rt::after(
                WHAT,
                Op::Spurious,
                Some(&self.id),
                "Condvar",
                location,
                false,
            );
            false
        } else {
            rt::block(
                WHAT,
                Wait::new(WaitKind::Condvar, obj, "Condvar", location).until(deadline),
            )
        };
        lock.reacquire(location);
        let guard = MutexGuard {
            lock,
            location: lock_location,
            _not_send: PhantomData,
        };
        let result = if lock.is_poisoned() {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        };
        (result, timed_out)
    }

    /// Blocks until notified, releasing the mutex meanwhile.
    /// A wait outside any execution (see `crate::outside`): releases the mutex and waits in
    /// one critical section of `outside`'s lock, so a notify after the release wakes it.
    /// Returns whether `deadline` passed.
    fn wait_outside<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<std::time::Instant>,
    ) -> (LockResult<MutexGuard<'a, T>>, bool) {
        let (lock, lock_location) = (guard.lock, guard.location);
        std::mem::forget(guard);
        let timed_out =
            outside::release_and_wait(WHAT, &self.id, deadline, || lock.unlock_outside());
        lock.lock_outside();
        let guard = MutexGuard {
            lock,
            location: lock_location,
            _not_send: PhantomData,
        };
        let result = if lock.is_poisoned() {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        };
        (result, timed_out)
    }

    #[track_caller]
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        if !rt::in_execution() {
            return self.wait_outside(guard, None).0;
        }
        self.wait_inner(guard, rt::no_deadline(), Location::caller())
            .0
    }

    /// Blocks while `condition` holds.
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        let location = Location::caller();
        if !rt::in_execution() {
            while condition(&mut *guard) {
                guard = self.wait_outside(guard, None).0?;
            }
            return Ok(guard);
        }
        while condition(&mut *guard) && !rt::tearing_down() {
            guard = self.wait_inner(guard, rt::no_deadline(), location).0?;
        }
        Ok(guard)
    }

    /// Blocks until notified or until `dur` of virtual time has passed.
    #[track_caller]
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let waited = if !rt::in_execution() {
            self.wait_outside(guard, outside::deadline_after(dur))
        } else {
            let deadline = rt::deadline_after(WHAT, dur);
            self.wait_inner(guard, deadline, Location::caller())
        };
        match waited {
            (Ok(g), t) => Ok((g, WaitTimeoutResult(t))),
            (Err(e), t) => Err(PoisonError::new((e.into_inner(), WaitTimeoutResult(t)))),
        }
    }

    /// Like [`Condvar::wait_while`] with a timeout.
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        let location = Location::caller();
        if !rt::in_execution() {
            let deadline = outside::deadline_after(dur);
            loop {
                if !condition(&mut *guard) {
                    return Ok((guard, WaitTimeoutResult(false)));
                }
                if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                    return Ok((guard, WaitTimeoutResult(true)));
                }
                match self.wait_outside(guard, deadline) {
                    (Ok(g), _) => guard = g,
                    (Err(e), t) => {
                        return Err(PoisonError::new((e.into_inner(), WaitTimeoutResult(t))))
                    }
                }
            }
        }
        let deadline = rt::deadline_after(WHAT, dur);
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            if rt::now_nanos(WHAT) >= deadline || rt::tearing_down() {
                return Ok((guard, WaitTimeoutResult(true)));
            }
            match self.wait_inner(guard, deadline, location) {
                (Ok(g), _) => guard = g,
                (Err(e), t) => {
                    return Err(PoisonError::new((e.into_inner(), WaitTimeoutResult(t))))
                }
            }
        }
    }

    /// Wakes one waiting thread, if any (a scheduling point); which one is the policy's pick.
    /// A notify with nobody waiting is lost, as with std.
    #[track_caller]
    pub fn notify_one(&self) {
        if !rt::in_execution() {
            // Every outside waiter re-checks: waking more than one is a spurious wake-up.
            return outside::change(WHAT, &self.id, || ());
        }
        let obj = rt::object_id(WHAT, &self.id);
        rt::wake_one(WHAT, obj, WaitKind::Condvar, Location::caller());
        rt::after(
            WHAT,
            Op::Notify,
            Some(&self.id),
            "Condvar",
            Location::caller(),
            false,
        );
    }

    /// Wakes every waiting thread (a scheduling point).
    #[track_caller]
    pub fn notify_all(&self) {
        if !rt::in_execution() {
            return outside::change(WHAT, &self.id, || ());
        }
        // Only condvar waits sit on a condvar's object: wake them all in one pass.
        rt::wake_all(WHAT, rt::object_id(WHAT, &self.id));
        rt::after(
            WHAT,
            Op::Notify,
            Some(&self.id),
            "Condvar",
            Location::caller(),
            false,
        );
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Condvar { .. }")
    }
}
