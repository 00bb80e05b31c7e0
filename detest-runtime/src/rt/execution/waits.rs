//! Blocking and waking: a task waits on an object, a task, a deadline or its future; wake-ups
//! make it runnable again. Parking lives here too (a wait on the task itself).

use super::*;

/// Blocks the current task until something wakes it (or `deadline`, in virtual nanoseconds,
/// passes). Returns true when it was woken by the deadline.
pub(crate) fn block(what: &str, wait: Wait) -> bool {
    let cell = state(what);
    let cur;
    let switch_to = {
        let st = cell.borrow_mut();
        cur = st.current;
        if st.tearing_down {
            // Nothing can wake anyone during teardown, and suspending here (inside a drop run by
            // the forced unwind) would abort the process. Callers see `true` and give up
            // waiting (see `tearing_down`).
            return true;
        }
        let Some(mut st) = count_step_or_stop(st) else {
            return false;
        };
        if std::thread::panicking() {
            // A drop run by a panic must wait: the coroutine will be suspended mid-unwind,
            // and one of those cannot be force-unwound again at teardown. Mark it; teardown
            // leaks it instead (rare: a destructor that blocks while its task panics).
            st.tasks[cur as usize].suspended_unwinding = true;
        }
        if st.trace.is_some() {
            let object = if wait.kind == WaitKind::Join {
                0
            } else {
                wait.object
            };
            st.record(Op::Wait, object, wait.object_kind, wait.location);
        }
        st.block_seq += 1;
        let seq = st.block_seq;
        if wait.kind.on_object() {
            let obj = wait.object as usize;
            if st.waiters.len() <= obj {
                st.waiters.resize(obj + 1, 0);
            }
            st.waiters[obj] += 1;
        } else if wait.kind == WaitKind::Join {
            st.tasks[wait.object as usize].joiners.push(cur);
        }
        if wait.deadline != NO_DEADLINE {
            st.timers += 1;
        }
        st.tasks[cur as usize].state = TaskState::Blocked { wait, seq };
        st.tasks[cur as usize].timed_out = false;
        st.remove_runnable(cur);
        match st.choose_after_block() {
            Some(next) if next == cur => {
                // Woken at once by the clock.
                return std::mem::take(&mut st.tasks[cur as usize].timed_out);
            }
            Some(next) => {
                st.current = next;
                st.yielder(cur)
            }
            None => st.yielder(cur),
        }
    };
    suspend(switch_to);
    let mut st = cell.borrow_mut();
    std::mem::take(&mut st.tasks[cur as usize].timed_out)
}

/// Converts a duration from now into a virtual deadline.
pub(crate) fn deadline_after(what: &str, d: Duration) -> u64 {
    let st = state(what).borrow();
    st.now
        .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1))
        .min(u64::MAX - 1)
}

pub(crate) const fn no_deadline() -> u64 {
    NO_DEADLINE
}

/// Virtual nanoseconds since the execution started.
pub(crate) fn now_nanos(what: &str) -> u64 {
    state(what).borrow().now
}

/// Wakes every task blocked on `object` (an object id: joins, parks and futures wait on task
/// ids instead).
pub(crate) fn wake_all(what: &str, object: u32) {
    let mut st = state(what).borrow_mut();
    if st.waiters.get(object as usize).copied().unwrap_or(0) == 0 {
        return;
    }
    for id in 0..st.tasks.len() {
        if let TaskState::Blocked { wait, .. } = st.tasks[id].state {
            if wait.object == object && wait.kind.on_object() {
                st.make_runnable(id as TaskId);
            }
        }
    }
}

/// Wakes one task blocked on `object` with `kind`; true if there was one. Which one is the
/// policy's pick when several wait (std promises no order): option `k` is the task with `k`
/// others waiting longer, so option 0, what the deterministic policies take, is FIFO. With a
/// single waiter nothing is decided (or recorded).
pub(crate) fn wake_one(
    what: &str,
    object: u32,
    kind: WaitKind,
    location: &'static Location<'static>,
) -> bool {
    let eligible = |task: &Task| match task.state {
        TaskState::Blocked { wait, seq } if wait.object == object && wait.kind == kind => Some(seq),
        _ => None,
    };
    // One scan finds how many wait and the longest waiter, the answer in the common cases (one
    // waiter, or the plain order's option 0) without a second scan.
    let (n, longest) = {
        let st = state(what).borrow();
        if st.waiters.get(object as usize).copied().unwrap_or(0) == 0 {
            return false;
        }
        let mut n = 0u64;
        let mut longest: Option<(u64, usize)> = None;
        for (id, task) in st.tasks.iter().enumerate() {
            if let Some(seq) = eligible(task) {
                n += 1;
                if longest.is_none_or(|(s, _)| seq < s) {
                    longest = Some((seq, id));
                }
            }
        }
        (n, longest)
    };
    let Some((_, first)) = longest else {
        return false;
    };
    let k = if n >= 2 {
        pick(
            what,
            Pick {
                kind: PickKind::Waiter,
                n,
            },
            location,
        )
    } else {
        0
    };
    if k == 0 {
        state(what).borrow_mut().make_runnable(first as TaskId);
        return true;
    }
    let mut st = state(what).borrow_mut();
    // The (k+1)-th smallest wait sequence number, found without allocating (n is small).
    let mut chosen: Option<(u64, usize)> = None;
    for _ in 0..=k {
        let floor = chosen.map(|(s, _)| s);
        let mut next: Option<(u64, usize)> = None;
        for (id, task) in st.tasks.iter().enumerate() {
            if let Some(seq) = eligible(task) {
                if floor.is_none_or(|f| seq > f) && next.is_none_or(|(s, _)| seq < s) {
                    next = Some((seq, id));
                }
            }
        }
        chosen = next;
    }
    match chosen {
        Some((_, id)) => {
            st.make_runnable(id as TaskId);
            true
        }
        None => false,
    }
}

/// Whether a wait that would block returns spuriously instead, as std allows for condvar waits
/// and parking: a pick (`n` = 2, 1: spurious) that deterministic policies answer with 0 and
/// exploring ones rarely with 1. Not asked at all with `spurious_wakeups` off, nor during
/// teardown. The caller traces a spurious return (`Op::Spurious`) at a scheduling point.
pub(crate) fn spurious_wakeup(what: &str, location: &'static Location<'static>) -> bool {
    {
        let mut st = state(what).borrow_mut();
        if !st.options.spurious_wakeups || st.tearing_down {
            return false;
        }
        if st.default_picks {
            st.schedule.push_random(0);
            return false;
        }
    }
    let pick_spurious = Pick {
        kind: PickKind::Spurious,
        n: 2,
    };
    pick(what, pick_spurious, location) == 1
}

/// Parks the current task unless its token is set; with `deadline`, until then at most. May
/// return spuriously (without consuming the token), as std's `park` may.
pub(crate) fn park(deadline: u64, location: &'static Location<'static>) {
    let what = "detest::thread::park";
    park_until(what, deadline, location);
    // An unpark happens before the park it ends (and any later return: std's token is a
    // release/acquire pair; a spurious return sees what earlier unparks published, no less).
    acquire_signals(what);
}

fn park_until(what: &str, deadline: u64, location: &'static Location<'static>) {
    before(what, Op::Park, None, "", location);
    let mut first = true;
    loop {
        {
            let mut st = state(what).borrow_mut();
            let cur = st.current as usize;
            if std::mem::take(&mut st.tasks[cur].park_token) {
                return;
            }
        }
        // Decided once per call: a park woken by its unpark has its token.
        if std::mem::take(&mut first) && spurious_wakeup(what, location) {
            after(what, Op::Spurious, None, "", location, false);
            return;
        }
        let wait = Wait::new(WaitKind::Park, 0, "", location).until(deadline);
        if block(what, wait) && (deadline != NO_DEADLINE || state(what).borrow().tearing_down) {
            return;
        }
    }
}

pub(crate) fn unpark(target: TaskRef, location: &'static Location<'static>) {
    let what = "detest::thread::Thread::unpark";
    let task = target.task;
    {
        let mut st = state(what).borrow_mut();
        if st.generation != target.generation {
            // A handle from an earlier execution: its thread is gone.
            return;
        }
        st.tasks[task as usize].park_token = true;
        if !st.tearing_down {
            let cur = st.current;
            st.memory.signal(cur, task);
        }
        if let TaskState::Blocked { wait, .. } = st.tasks[task as usize].state {
            if wait.kind == WaitKind::Park {
                st.make_runnable(task);
            }
        }
    }
    after(what, Op::Unpark, None, "", location, false);
}

/// Identifies a task within a specific execution (for wakers that may outlive it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskRef {
    pub generation: u64,
    pub task: TaskId,
}

pub(crate) fn current_task_ref(what: &str) -> TaskRef {
    let st = state(what).borrow();
    TaskRef {
        generation: st.generation,
        task: st.current,
    }
}

/// Wakes a task blocked in `block_on`, if it belongs to the execution running on this thread.
/// A wake from another thread or a finished execution is ignored: it cannot affect this one.
pub(crate) fn wake_future(target: TaskRef) {
    let ptr = CURRENT.with(|c| c.get());
    if ptr.is_null() {
        return;
    }
    // SAFETY: see `state`.
    let cell = unsafe { &*ptr };
    let Ok(mut st) = cell.try_borrow_mut() else {
        return;
    };
    if st.generation != target.generation {
        return;
    }
    // A task waking itself (`yield_now`) orders nothing.
    if !st.tearing_down && st.current != target.task {
        let cur = st.current;
        st.memory.signal(cur, target.task);
    }
    if let TaskState::Blocked { wait, .. } = st.tasks[target.task as usize].state {
        if wait.kind == WaitKind::Future {
            st.make_runnable(target.task);
        }
    }
}
