//! Tasks: spawning one as a coroutine, its thread-locals, its panics, and what others may ask
//! about it (name, finished, seed of its execution).

use super::*;

/// The seed of the running execution.
pub(crate) fn seed(what: &str) -> u64 {
    state(what).borrow().seed
}

/// The current task's id.
pub(crate) fn current_task(what: &str) -> TaskId {
    state(what).borrow().current
}

pub(crate) fn task_name(what: &str, task: TaskId) -> Option<Arc<str>> {
    state(what)
        .borrow()
        .tasks
        .get(task as usize)
        .and_then(|t| t.name.clone())
}

pub(crate) fn is_finished(what: &str, task: TaskId) -> bool {
    matches!(
        state(what).borrow().tasks[task as usize].state,
        TaskState::Finished
    )
}

/// Marks a task's panic as seen by whoever joined it (so it is not a failure by itself).
pub(crate) fn observe_panic(what: &str, task: TaskId) {
    state(what).borrow_mut().tasks[task as usize].panic_observed = true;
}

/// Registers a waker to be woken when `task` finishes.
pub(crate) fn add_join_waker(what: &str, task: TaskId, waker: &Waker) {
    let mut st = state(what).borrow_mut();
    let t = &mut st.tasks[task as usize];
    if !t.join_wakers.iter().any(|w| w.will_wake(waker)) {
        t.join_wakers.push(waker.clone());
    }
}

/// Accesses the current task's slot for a `thread_local!` key, initialising it on first use.
/// The returned pointer stays valid until the task finishes.
pub(crate) fn task_local<T: 'static>(key: usize, init: fn() -> T) -> *const T {
    let what = "detest::thread_local!";
    {
        let st = state(what).borrow();
        let cur = st.current as usize;
        if let Some((_, b)) = st.tasks[cur].locals.iter().find(|(k, _)| *k == key) {
            return b.downcast_ref::<T>().expect("thread_local type") as *const T;
        }
    }
    // Initialise without holding the borrow: the initialiser may use detest primitives.
    let value: Box<dyn Any> = Box::new(init());
    let ptr = value.downcast_ref::<T>().expect("thread_local type") as *const T;
    let mut st = state(what).borrow_mut();
    let cur = st.current as usize;
    st.tasks[cur].locals.push((key, value));
    ptr
}

/// Spawns a task running `f`. The task is runnable at once; the caller follows with a scheduling
/// point.
///
/// # Safety
/// Everything `f` borrows must outlive the task (a `'static` closure, or a scope that joins).
pub(crate) unsafe fn spawn_task<F>(
    what: &str,
    name: Option<Arc<str>>,
    stack_size: Option<usize>,
    f: F,
) -> TaskId
where
    F: FnOnce(),
{
    let cell = state(what);
    let mut st = cell.borrow_mut();
    let size = stack_size.unwrap_or(st.options.stack_size);
    let id = st.tasks.len() as TaskId;
    let coro = TaskCoro {
        coro: new_coroutine(cell, id, size, f),
        stack_size: size,
    };
    add_task(&mut st, id, name);
    st.new_coroutines.push(coro);
    id
}

pub(super) fn add_task(st: &mut State, id: TaskId, name: Option<Arc<str>>) {
    st.tasks.push(Task {
        state: TaskState::Runnable,
        name,
        yielder: std::ptr::null(),
        panic: None,
        panic_observed: false,
        timed_out: false,
        park_token: false,
        locals: Vec::new(),
        join_wakers: Vec::new(),
        joiners: Vec::new(),
        suspended_unwinding: false,
    });
    st.progress.push(0);
    st.spin.push(Default::default());
    st.pending.push(PendingOp {
        op: Op::Spawn,
        object: 0,
    });
    st.runnable.push(id); // ids grow, so the list stays sorted
    st.scheduler.on_spawn(id);
}

pub(super) unsafe fn new_coroutine<F: FnOnce()>(
    cell: &'static RefCell<State>,
    id: TaskId,
    stack_size: usize,
    f: F,
) -> Coro {
    let stack = stack_pool::take(stack_size);
    Coroutine::with_stack_unchecked(stack, move |yielder: &Yielder<(), ()>, ()| {
        cell.borrow_mut().tasks[id as usize].yielder = yielder as *const _;
        let result = std::panic::catch_unwind(AssertUnwindSafe(f));
        if let Err(payload) = result {
            if cell.borrow().tearing_down {
                std::panic::resume_unwind(payload);
            }
            record_panic(&payload);
        }
        // Thread-locals die with their task, while it is still the current task.
        let locals = std::mem::take(&mut cell.borrow_mut().tasks[id as usize].locals);
        drop(locals);
    })
}

/// Records a panic of the current task (message from the payload; location from the hook).
pub(crate) fn record_panic(payload: &Box<dyn Any + Send>) {
    let Some(cell) = try_state() else { return };
    let mut st = cell.borrow_mut();
    if st.tearing_down {
        return;
    }
    let cur = st.current;
    let message = panic_message(&**payload);
    let task = &mut st.tasks[cur as usize];
    let location = task.panic.take().and_then(|(_, loc)| loc);
    task.panic = Some((message, location));
    st.panic_order.push(cur);
}

pub(crate) fn tearing_down() -> bool {
    try_state().is_some_and(|c| c.borrow().tearing_down)
}

pub(super) fn try_state() -> Option<&'static RefCell<State>> {
    let ptr = CURRENT.with(|c| c.get());
    // SAFETY: see `state`.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}
