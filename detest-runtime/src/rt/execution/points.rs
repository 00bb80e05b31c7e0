//! Scheduling points: where a running task offers the policy a choice (before an operation,
//! after a release, at a note), and the random draws recorded beside them.

use super::*;
use crate::memory::AtomicAccess;

/// Counts a step. When a limit is exceeded (the abort is set), suspends the current task for
/// good, since the runner tears the execution down, and returns `None`.
#[inline(always)]
pub(super) fn count_step_or_stop(mut st: RefMut<'_, State>) -> Option<RefMut<'_, State>> {
    if st.count_step() {
        return Some(st);
    }
    let y = st.yielder(st.current);
    drop(st);
    suspend(y);
    None
}

/// Suspends the current task back to the runner loop.
#[inline]
pub(super) fn suspend(yielder: *const Yielder<(), ()>) {
    // SAFETY: the yielder belongs to the running coroutine and lives as long as its stack.
    unsafe { (*yielder).suspend(()) }
}

/// The heart of every primitive: a scheduling point before `op` (the caller performs the
/// operation after this returns). Returns the object's per-execution id (0 when `object` is None).
#[inline]
pub(crate) fn before(
    what: &str,
    op: Op,
    object: Option<&ObjectId>,
    kind: &'static str,
    location: &'static Location<'static>,
) -> u32 {
    before_as(what, op, object, kind, location).0
}

/// [`before`] for a join of `task`: the pending operation names the joined task (for
/// `Op::Join`, `PendingOp::object` is a task id), so a policy can tell which finish the join
/// waits for. The trace records no object, as before.
pub(crate) fn before_join(what: &str, task: TaskId, location: &'static Location<'static>) {
    state(what).borrow_mut().join_target = task;
    before(what, Op::Join, None, "", location);
}

/// [`before`], also returning the current task (saves primitives a second trip to the state).
#[inline]
pub(crate) fn before_as(
    what: &str,
    op: Op,
    object: Option<&ObjectId>,
    kind: &'static str,
    location: &'static Location<'static>,
) -> (u32, TaskId) {
    before_then(what, op, object, kind, location, |_, _, _| {})
}

/// [`before_as`], then `then` on the memory model (with the current task and the object's
/// id) as the operation takes effect, in the same borrow of the state: a lock's acquire
/// costs no second trip. (Not while tearing down.)
#[inline]
pub(crate) fn before_then(
    what: &str,
    op: Op,
    object: Option<&ObjectId>,
    kind: &'static str,
    location: &'static Location<'static>,
    then: impl FnOnce(&mut Memory, TaskId, u32),
) -> (u32, TaskId) {
    let cell = state(what);
    let (id, cur, switch_to) = {
        let mut st = cell.borrow_mut();
        let id = object.map_or(0, |o| o.get(&mut st));
        let cur = st.current;
        if st.tearing_down {
            return (id, cur);
        }
        // A join names the joined task instead (see `before_join`).
        let object = if op == Op::Join { st.join_target } else { id };
        st.pending[cur as usize] = PendingOp { op, object };
        let Some(mut st) = count_step_or_stop(st) else {
            return (id, cur);
        };
        let switched = switch_from(&mut st, cur, false, false);
        // Accounted before others run (if they do): a change seen early only wakes spinners
        // early, and a read noted early only starts its window early; both err on the side
        // of running a spinner.
        performed(&mut st, cur, op, id, location);
        match switched {
            Some(y) => {
                if st.trace.is_some() {
                    st.trace_preemption(PointOp::new(cur, op, id, kind, location), false);
                }
                (id, cur, y)
            }
            None => {
                if st.trace.is_some() {
                    st.record(op, id, kind, location);
                }
                then(&mut st.memory, cur, id);
                return (id, cur);
            }
        }
    };
    suspend(switch_to);
    let mut st = cell.borrow_mut();
    if !st.tearing_down {
        if st.trace.is_some() {
            st.record(op, id, kind, location);
        }
        then(&mut st.memory, cur, id);
    }
    (id, cur)
}

/// What an operation passed through [`before`] means for spinning (see `spin.rs`): a read of
/// shared state (`is_finished`, `OnceLock::get`) may be a re-read; anything else may change
/// what others see. Atomics account for themselves (their outcome decides: `fetch_update`
/// reports through [`atomic_done`]), and a fence changes nothing.
#[inline(always)]
fn performed(st: &mut State, cur: TaskId, op: Op, id: u32, location: &'static Location) {
    if op == Op::Load {
        st.read_at(cur, id, location);
    } else if op != Op::Rmw && op != Op::Fence {
        st.changed();
    }
}

/// An atomic operation: a scheduling point, then `f` performs it (returning its result and
/// whether it changed the value), and the outcome feeds spin detection. `f` runs while the
/// state is borrowed, so it must not call into detest (a std atomic operation only).
#[inline]
pub(crate) fn atomic<R>(
    what: &str,
    op: Op,
    object: &ObjectId,
    kind: &'static str,
    location: &'static Location<'static>,
    f: impl FnOnce() -> (R, bool, AtomicAccess),
) -> R {
    // Outside any execution the operation is the std atomic's (see `crate::outside`): the
    // same one lookup of the execution decides it.
    let Some(cell) = try_state() else {
        object.use_outside(what);
        return f().0;
    };
    let mut st = cell.borrow_mut();
    let id = object.get(&mut st);
    let cur = st.current;
    if st.tearing_down {
        drop(st);
        return f().0;
    }
    st.pending[cur as usize] = PendingOp { op, object: id };
    let Some(mut st) = count_step_or_stop(st) else {
        return f().0;
    };
    let mut st = match switch_from(&mut st, cur, false, false) {
        None => {
            if st.trace.is_some() {
                st.record(op, id, kind, location);
            }
            st
        }
        Some(y) => {
            if st.trace.is_some() {
                st.trace_preemption(PointOp::new(cur, op, id, kind, location), false);
            }
            drop(st);
            suspend(y);
            let mut st = cell.borrow_mut();
            if st.tearing_down {
                drop(st);
                return f().0;
            }
            if st.trace.is_some() {
                st.record(op, id, kind, location);
            }
            st
        }
    };
    let (result, changed, access) = f();
    st.accessed(cur, id, location, changed);
    st.memory.atomic(cur, id, access);
    result
}

/// An atomic load: the scheduling point and bookkeeping of [`atomic`], then the decision of
/// which store it reads (see `memory/atomic.rs`): a [`PickKind::ReadFrom`] pick among the
/// stores it may read, asked only when there are two or more. `f` returns the newest value's
/// bits (the std atomic's); the result is the bits of the store read.
#[inline]
pub(crate) fn atomic_load(
    what: &str,
    object: &ObjectId,
    kind: &'static str,
    location: &'static Location<'static>,
    order: std::sync::atomic::Ordering,
    f: impl FnOnce() -> u64,
) -> u64 {
    let latest = atomic(what, Op::Load, object, kind, location, || {
        let latest = f();
        (latest, false, AtomicAccess::Load { order, latest })
    });
    let Some(cell) = try_state() else {
        return latest;
    };
    let mut st = cell.borrow_mut();
    if st.tearing_down {
        return latest;
    }
    let cur = st.current;
    let spinning = st.rereading(cur);
    let n = st.memory.load_options(cur, spinning);
    let option = if n <= 1 {
        0
    } else if st.default_picks {
        st.schedule.push_random(0);
        0
    } else {
        drop(st);
        let v = pick(
            what,
            Pick {
                kind: PickKind::ReadFrom,
                n,
            },
            location,
        );
        st = cell.borrow_mut();
        if st.tearing_down {
            return latest;
        }
        v
    };
    let bits = st.memory.load_read(cur, order, option, latest);
    if option != 0 {
        // The load is the task's last traced step (no point since): show the stale value.
        if let Some(e) = st.trace.as_mut().and_then(|t| t.last_mut()) {
            e.value = Some(bits);
        }
    }
    bits
}

/// The outcome of an atomic operation performed after a plain [`before`] point (one that runs
/// user code, `fetch_update`, so it cannot run under the state's borrow).
pub(crate) fn atomic_done(
    what: &str,
    object: &ObjectId,
    location: &'static Location<'static>,
    changed: bool,
    access: AtomicAccess,
) {
    let mut st = state(what).borrow_mut();
    if st.tearing_down {
        return;
    }
    let id = object.get(&mut st);
    let cur = st.current;
    st.accessed(cur, id, location, changed);
    st.memory.atomic(cur, id, access);
}

/// A scheduling point after an operation that releases or publishes something (unlock, notify,
/// spawn): the operation is recorded, then others may run.
pub(crate) fn after(
    what: &str,
    op: Op,
    object: Option<&ObjectId>,
    kind: &'static str,
    location: &'static Location<'static>,
    yielding: bool,
) {
    after_then(what, op, object, kind, location, yielding, |_, _, _| {})
}

/// [`after`], with `then` on the memory model (current task, object id) before others may
/// run, in the same borrow: an unlock's release costs no second trip. (Not while tearing
/// down.)
#[inline]
pub(crate) fn after_then(
    what: &str,
    op: Op,
    object: Option<&ObjectId>,
    kind: &'static str,
    location: &'static Location<'static>,
    yielding: bool,
    then: impl FnOnce(&mut Memory, TaskId, u32),
) {
    let cell = state(what);
    let switch_to = {
        let mut st = cell.borrow_mut();
        let id = object.map_or(0, |o| o.get(&mut st));
        if st.tearing_down {
            return;
        }
        let cur = st.current;
        then(&mut st.memory, cur, id);
        st.pending[cur as usize] = PendingOp {
            op: Op::Yield,
            object: 0,
        };
        let Some(mut st) = count_step_or_stop(st) else {
            return;
        };
        if st.trace.is_some() {
            st.record(op, id, kind, location);
        }
        if op != Op::Yield {
            // The release it follows is done.
            st.changed();
        }
        // An `after` point that is no yield follows a release (unlock, notify, unpark, ...).
        st.release = PendingOp { op, object: id };
        let Some(y) = switch_from(&mut st, cur, yielding, !yielding) else {
            return;
        };
        // Only a switch can be a preemption: the trace is looked at off the no-switch path.
        if st.trace.is_some() {
            st.trace_preemption(PointOp::new(cur, op, id, kind, location), true);
        }
        y
    };
    suspend(switch_to);
}

/// A scheduling point inside a critical section, just before the lock `object` is released:
/// without it, a section with no other detest operation would be atomic, and `try_lock` from
/// another task could never find the lock held. It is a step (counted and traced, as
/// [`Op::Holding`]) only when it switches: a lock/unlock pair reads as before unless a
/// preemption came in between.
/// A guard dropped while unwinding never switches (see `switch_from`).
///
/// Callers offer it only while another task waits at a `try_lock`, `try_read` or `try_write` of
/// the lock (see `sync::mutex::Pollers`): that is the one operation that can tell a held lock
/// from one released a moment later (a blocking acquire parks until the release, the same as
/// running right after it). Any schedule in which a task reaches its `try_*` during the section
/// has a counterpart in which it waits at that point while the holder enters the section (with
/// one preemption more).
pub(crate) fn holding(
    what: &str,
    object: &ObjectId,
    kind: &'static str,
    location: &'static Location<'static>,
) {
    let cell = state(what);
    let switch_to = {
        let mut st = cell.borrow_mut();
        if st.tearing_down {
            return;
        }
        let id = object.get(&mut st);
        let cur = st.current;
        st.pending[cur as usize] = PendingOp {
            op: Op::Unlock,
            object: id,
        };
        let Some(y) = switch_from(&mut st, cur, false, false) else {
            return;
        };
        // The step is the preempted task's. A limit exceeded here sets the abort, which the
        // runner sees once this task has suspended (it does so either way).
        let next = std::mem::replace(&mut st.current, cur);
        st.count_step();
        if st.trace.is_some() {
            st.record(Op::Holding, id, kind, location);
        }
        st.current = next;
        if st.trace.is_some() {
            st.trace_preemption(PointOp::new(cur, Op::Holding, id, kind, location), true);
        }
        y
    };
    suspend(switch_to);
}

/// Offers the policy a choice at the running task's scheduling point. Returns the yielder to
/// suspend on when another task was chosen (or the execution is aborting), `None` when the
/// running task simply goes on. A task that spins gives way like a yield (see `spin.rs`); a
/// lone task that yields or spins lets virtual time pass to the next deadline.
#[inline(always)]
fn switch_from(
    st: &mut State,
    cur: TaskId,
    yielding: bool,
    released: bool,
) -> Option<*const Yielder<(), ()>> {
    // A task that is unwinding (a guard dropped by a panic) runs on without a switch: a
    // coroutine suspended mid-unwind could not be torn down without aborting the process.
    let yielding = st.gives_way(cur) || yielding;
    if st.runnable.len() == 1 && !(yielding && st.advance_clock()) || std::thread::panicking() {
        if st.observing && !std::thread::panicking() {
            st.observe_alone(Some(cur), yielding, released);
        }
        return None;
    }
    match st.choose(Some(cur), yielding, released) {
        Some(next) if next == cur => None,
        Some(next) => {
            st.current = next;
            Some(st.yielder(cur))
        }
        None => Some(st.yielder(cur)),
    }
}

/// Counts and traces an operation without offering a choice. Spawning is one: the parent does
/// only thread-local work until its next scheduling point, so letting the child run first there
/// loses no interleaving, while a choice here would let a child finish before its siblings
/// even exist (and cost a step's worth of choosing).
pub(crate) fn note(what: &str, op: Op, location: &'static Location<'static>) {
    let cell = state(what);
    let st = cell.borrow_mut();
    if st.tearing_down {
        return;
    }
    let Some(mut st) = count_step_or_stop(st) else {
        return;
    };
    if st.trace.is_some() {
        st.record(op, 0, "", location);
    }
    if op != Op::Poll {
        // A spawn; a poll is task-local (what the future does inside has points of its own).
        st.changed();
    } else {
        // The wakes that led to this poll happen before it.
        let cur = st.current;
        st.memory.acquire_signals(cur);
        // Each poll starts with a full budget (see `Task::budget`).
        st.tasks[cur as usize].budget = Some(POLL_BUDGET);
    }
}

/// Assigns (if needed) and returns an object's id without a scheduling point.
pub(crate) fn object_id(what: &str, object: &ObjectId) -> u32 {
    let mut st = state(what).borrow_mut();
    object.get(&mut st)
}

/// Marks a read of `object`'s state that is no scheduling point (`is_poisoned`,
/// `is_completed`) as a use: in an execution, a primitive in a static is fresh before it.
#[inline]
pub(crate) fn touch(object: &ObjectId) {
    if let Some(cell) = try_state() {
        object.get(&mut cell.borrow_mut());
    }
}

/// Draws a random value (recorded in the schedule, and in the trace with the caller's location).
#[track_caller]
pub(crate) fn random_u64(what: &str) -> u64 {
    pick(
        what,
        Pick {
            kind: PickKind::Data,
            n: 0,
        },
        Location::caller(),
    )
}

/// Asks the policy to decide `pick` (a value in `0..n`, any `u64` when `n` is 0) and records
/// the answer in the schedule. Data draws are traced with their value.
pub(crate) fn pick(what: &str, pick: Pick, location: &'static Location<'static>) -> u64 {
    let cell = state(what);
    let mut guard = cell.borrow_mut();
    let st = &mut *guard;
    let at = PointKey {
        task: st.current,
        progress: st.progress[st.current as usize],
    };
    if let Some(v) = st.scheduler.pick_at(pick, at, &mut st.data_rng) {
        debug_assert!(pick.n == 0 || v < pick.n, "{pick:?} answered {v}");
        st.schedule.push_random(v);
        if pick.kind == PickKind::Data && st.trace.is_some() && !st.tearing_down {
            st.record(Op::Rand, 0, "", location);
            if let Some(e) = st.trace.as_mut().and_then(|t| t.last_mut()) {
                e.value = Some(v);
            }
        }
        return v;
    }
    let msg = match pick.kind {
        PickKind::Data => format!(
            "the program drew a random value at step {}, where the schedule \
             recorded a scheduling choice",
            st.step
        ),
        kind => format!(
            "the program made a {kind:?} decision among {} options at step {}, where the \
             schedule recorded something else",
            pick.n, st.step
        ),
    };
    st.abort = Some(Abort::Fail(FailureKind::Nondeterminism, msg));
    let y = st.yielder(st.current);
    drop(guard);
    suspend(y);
    0
}
