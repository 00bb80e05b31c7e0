//! The model's primitives used outside any execution (a plain `#[test]` of library code, the
//! harness, a thread the test spawns with std) behave like std's, across real OS threads.
//!
//! Every primitive's outside operation runs under one process-wide lock, and every blocking
//! one waits on one process-wide condition variable, re-checking its own condition after each
//! change any primitive announces. That is std's behaviour, not std's speed: outside use is
//! test set-up and plain tests, and one lock makes every primitive correct without a second
//! implementation of each. The model's own fields (owner, counters, queues) hold the state, so
//! the in-execution code is unchanged; the only cost inside an execution is the thread-local
//! lookup of the execution every operation already makes.
//!
//! A primitive belongs to one side. The first outside operation stamps its object id (see
//! `ObjectId::use_outside`); an operation inside an execution on a primitive with that stamp
//! fails the execution, and an outside operation on one an execution has used panics, both
//! naming the primitive and what to do instead.

use crate::rt::execution::ObjectId;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

static LOCK: Mutex<()> = Mutex::new(());
static CHANGED: Condvar = Condvar::new();

fn lock() -> MutexGuard<'static, ()> {
    // A panic under the lock (a poisoned primitive, a mixing panic) leaves no state broken:
    // each primitive's fields are consistent between operations.
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` under the process-wide lock (a non-blocking operation on `id`).
#[track_caller]
pub(crate) fn with<R>(what: &str, id: &ObjectId, f: impl FnOnce() -> R) -> R {
    id.use_outside(what);
    let _held = lock();
    f()
}

/// Runs `f` under the process-wide lock and wakes every outside waiter to re-check (an
/// operation that may unblock someone: unlock, notify, send, ...).
#[track_caller]
pub(crate) fn change<R>(what: &str, id: &ObjectId, f: impl FnOnce() -> R) -> R {
    id.use_outside(what);
    let r = {
        let _held = lock();
        f()
    };
    CHANGED.notify_all();
    r
}

/// Blocks until `ready` (run under the lock) returns `Some`, or until `deadline`: `None` then.
#[track_caller]
pub(crate) fn wait_until<R>(
    what: &str,
    id: &ObjectId,
    deadline: Option<Instant>,
    mut ready: impl FnMut() -> Option<R>,
) -> Option<R> {
    id.use_outside(what);
    let mut held = lock();
    loop {
        if let Some(r) = ready() {
            drop(held);
            // What `ready` took may be what another waiter waits for the release of; it
            // announces that itself. Nothing to wake here.
            return Some(r);
        }
        held = match deadline {
            None => CHANGED.wait(held).unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                CHANGED
                    .wait_timeout(held, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
}

/// Runs `release` under the lock, wakes the outside waiters, and waits for one wake-up (or
/// `deadline`) in the same critical section, so no change after `release` is missed: what a
/// condvar wait needs. Returns whether the deadline passed. Any change wakes it: a spurious
/// wake-up, which std allows.
#[track_caller]
pub(crate) fn release_and_wait(
    what: &str,
    id: &ObjectId,
    deadline: Option<Instant>,
    release: impl FnOnce(),
) -> bool {
    id.use_outside(what);
    let held = lock();
    release();
    CHANGED.notify_all();
    match deadline {
        None => {
            drop(CHANGED.wait(held).unwrap_or_else(|e| e.into_inner()));
            false
        }
        Some(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            let (held, _) = CHANGED
                .wait_timeout(held, deadline - now)
                .unwrap_or_else(|e| e.into_inner());
            drop(held);
            Instant::now() >= deadline
        }
    }
}

/// Wakes every outside waiter to re-check, without marking anything (a handle's drop, which
/// may run anywhere, also after an execution that used the object ended).
pub(crate) fn notify() {
    drop(lock());
    CHANGED.notify_all();
}

/// A deadline `d` from now, on the real clock (`None` when it does not fit: never).
pub(crate) fn deadline_after(d: std::time::Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}
