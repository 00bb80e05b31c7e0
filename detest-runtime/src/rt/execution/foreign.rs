//! What the libc interposition (`crate::env`) needs from the execution: whether the calling
//! code is a task of a running execution, its virtual clock and seed, and a way to fail the
//! execution from inside a foreign call (a C function std called, which must not unwind).
// Where nothing is interposed (see `crate::env::INTERPOSED`), only `modelled_state` is used.
#![cfg_attr(not(detest_std_env), allow(dead_code))]

use super::*;

/// The execution whose task is calling, when libc calls made now are to be modelled: `None`
/// outside an execution, and while the state is borrowed (the runtime itself reading the
/// clock or drawing inside an operation: it must see the real world, and must not re-borrow).
#[inline]
pub(crate) fn modelled_state() -> Option<&'static RefCell<State>> {
    let cell = try_state()?;
    cell.try_borrow_mut().ok().map(|_| cell)
}

/// The execution's virtual nanoseconds and seed (see [`modelled_state`]).
#[inline]
pub(crate) fn virtual_clock(cell: &RefCell<State>) -> (u64, u64) {
    let st = cell.borrow();
    (st.now, st.seed)
}

/// Fails the execution with the current task's `message`, as if it had panicked at `location`,
/// and suspends the task for good. For a foreign call that cannot go on (a real thread, a std
/// lock no task can release): a panic there would have to unwind through a C frame, which
/// aborts the process. The runner sees the abort and ends the execution; the task is leaked,
/// never unwound (its stack holds std frames that cannot unwind).
pub(crate) fn fail_in_foreign_call(
    cell: &RefCell<State>,
    message: String,
    location: Option<String>,
) -> ! {
    let y = {
        let mut st = cell.borrow_mut();
        let cur = st.current;
        let task = &mut st.tasks[cur as usize];
        task.panic = Some((message.clone(), location));
        task.panic_observed = false;
        // Teardown leaks a task marked so, whatever the leak budget says (see `leak_unfinished`).
        task.suspended_unwinding = true;
        if !st.panic_order.contains(&cur) {
            st.panic_order.push(cur);
        }
        if st.abort.is_none() {
            st.abort = Some(Abort::Fail(FailureKind::Panic, message));
        }
        st.yielder(cur)
    };
    loop {
        suspend(y);
    }
}

/// Runs `f`, a part of a foreign call that may suspend the current task (a std sleep, a draw),
/// with the task marked as one teardown must leak, never unwind: past the leak budget
/// teardown unwinds unfinished tasks, and an unwind reaching the `extern "C"` frame of the
/// interposed function would abort the process.
pub(crate) fn in_foreign_call<R>(cell: &RefCell<State>, f: impl FnOnce() -> R) -> R {
    let (cur, was) = {
        let mut st = cell.borrow_mut();
        let cur = st.current as usize;
        (
            cur,
            std::mem::replace(&mut st.tasks[cur].suspended_unwinding, true),
        )
    };
    let result = f();
    // A wait made while unwinding marked the task for good (see `block`): keep that mark.
    if !std::thread::panicking() {
        if let Some(task) = cell.borrow_mut().tasks.get_mut(cur) {
            task.suspended_unwinding = was;
        }
    }
    result
}
