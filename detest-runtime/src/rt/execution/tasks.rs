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

/// Renames task `task` (see `current::set_name_for_task`).
pub(crate) fn set_task_name(what: &str, task: TaskId, name: Arc<str>) {
    let cell = state(what);
    let mut st = cell.borrow_mut();
    let n = st.tasks.len();
    match st.tasks.get_mut(task as usize) {
        Some(t) => t.name = Some(name),
        None => panic!("{what}: this execution has {n} tasks, no task {task}"),
    }
}

/// Runs `f` on the labels of task `task` (see `current::set_label_for_task`).
#[allow(clippy::type_complexity)]
pub(crate) fn with_labels<R>(
    what: &str,
    task: TaskId,
    f: impl FnOnce(&mut Vec<(std::any::TypeId, std::rc::Rc<dyn Any>)>) -> R,
) -> R {
    let cell = state(what);
    let mut st = cell.borrow_mut();
    let n = st.tasks.len();
    match st.tasks.get_mut(task as usize) {
        Some(t) => f(&mut t.labels),
        None => panic!("{what}: this execution has {n} tasks, no task {task}"),
    }
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

/// A task's value of one `thread_local!` key.
pub(super) struct Local {
    key: usize,
    /// `None` once destroyed: std refuses access then (`AccessError`), it never re-creates it.
    value: Option<Box<dyn Any>>,
    /// std registers a destructor only for types that need one; the others stay accessible
    /// from the destructors of the rest.
    needs_drop: bool,
}

/// The current task's slot for `key`: `None` without one, `Some(None)` once its value was
/// destroyed (the task is running thread-local destructors).
fn existing_local<T: 'static>(st: &State, key: usize) -> Option<Option<*const T>> {
    let local = st.tasks[st.current as usize]
        .locals
        .iter()
        .find(|l| l.key == key)?;
    Some(local.value.as_ref().map(|value| {
        value.downcast_ref::<T>().expect("thread_local type") as *const T
    }))
}

/// The current task's value for a `thread_local!` key if it has one (no initialisation).
pub(crate) fn task_local_if_any<T: 'static>(key: usize) -> Option<*const T> {
    existing_local(&try_state()?.borrow(), key).flatten()
}

/// Accesses the current task's slot for a `thread_local!` key, initialising it on first use.
/// The returned pointer stays valid until the task finishes; `None` when the value was
/// destroyed already (the task is running thread-local destructors).
pub(crate) fn task_local<T: 'static>(key: usize, init: fn() -> T) -> Option<*const T> {
    let what = "detest::thread_local!";
    if let Some(found) = existing_local(&state(what).borrow(), key) {
        return found;
    }
    // Initialise without holding the borrow: the initialiser may use detest primitives.
    let value: Box<dyn Any> = Box::new(init());
    let ptr = value.downcast_ref::<T>().expect("thread_local type") as *const T;
    let mut st = state(what).borrow_mut();
    let cur = st.current as usize;
    st.tasks[cur].locals.push(Local {
        key,
        value: Some(value),
        needs_drop: std::mem::needs_drop::<T>(),
    });
    Some(ptr)
}

/// Runs the thread-local destructors of task `id` as its thread exits, like std on Linux: the
/// most recently created value first, and again until none is left, so a value first created
/// by another one's destructor is dropped here too, before the task counts as finished (and
/// so before a join of it returns).
fn drop_locals(cell: &'static RefCell<State>, id: TaskId) {
    if cell.borrow().tasks[id as usize].locals.is_empty() {
        return; // most tasks: no thread-locals, and their finish stays one borrow cheap
    }
    loop {
        let next = {
            let mut st = cell.borrow_mut();
            let locals = &mut st.tasks[id as usize].locals;
            let Some(i) = locals
                .iter()
                .rposition(|l| l.needs_drop && l.value.is_some())
            else {
                break;
            };
            locals[i].value.take()
        };
        // std aborts the process when a thread-local destructor panics ("thread local
        // panicked on drop"): here that is the task's failure.
        if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(|| drop(next))) {
            record_panic(&payload);
            let mut st = cell.borrow_mut();
            if let Some((message, _)) = &mut st.tasks[id as usize].panic {
                message.push_str("\n(in a thread-local destructor: std aborts the process here)");
            }
        }
    }
    let rest = std::mem::take(&mut cell.borrow_mut().tasks[id as usize].locals);
    drop(rest); // values without drop glue: no user code runs
}

/// tokio's per-poll coop budget: the operations a task may complete in one poll before its
/// resources make it yield.
pub(crate) const POLL_BUDGET: u8 = 128;

/// The current task's budget for the poll under way (see `Task::budget`).
pub(crate) fn budget() -> Option<u8> {
    let st = try_state()?.borrow();
    st.tasks[st.current as usize].budget
}

/// Takes a unit of the current poll's budget in one look: `Some(before)` when there was one
/// (`Some(None)`: unconstrained, also outside an execution), `None` when it is spent.
pub(crate) fn take_budget() -> Option<Option<u8>> {
    let Some(cell) = try_state() else {
        return Some(None);
    };
    let mut st = cell.borrow_mut();
    let current = st.current as usize;
    let budget = &mut st.tasks[current].budget;
    match *budget {
        None => Some(None),
        Some(0) => None,
        Some(n) => {
            *budget = Some(n - 1);
            Some(Some(n))
        }
    }
}

pub(crate) fn set_budget(what: &str, budget: Option<u8>) {
    let mut st = state(what).borrow_mut();
    let current = st.current as usize;
    st.tasks[current].budget = budget;
}

/// Whether `task` was spawned by `detest::future::spawn` (an async task).
pub(crate) fn is_async_task(what: &str, task: TaskId) -> bool {
    state(what).borrow().tasks[task as usize].is_async
}

/// Marks `task` as spawned by `detest::future::spawn`: it ends with the test body (a task
/// spawned after that never runs).
pub(crate) fn mark_async_task(what: &str, task: TaskId) {
    let mut st = state(what).borrow_mut();
    st.tasks[task as usize].is_async = true;
    if matches!(st.tasks[0].state, TaskState::Finished) {
        st.end_task(task);
    }
}

impl State {
    /// The test body returned: detached futures are polled no more, as when a runtime shuts
    /// down. They are leaked with the other unfinished tasks (see `leak_unfinished`), not
    /// dropped: dropping would run user destructors after the body, unwinding their
    /// coroutines, and a destructor that panicked then would abort the process.
    pub(super) fn end_async_tasks(&mut self) {
        for id in 1..self.tasks.len() as TaskId {
            if self.tasks[id as usize].is_async {
                self.end_task(id);
            }
        }
    }

    fn end_task(&mut self, id: TaskId) {
        match self.tasks[id as usize].state {
            TaskState::Finished | TaskState::Ended => return,
            TaskState::Blocked { wait, .. } => self.forget_wait(wait),
            TaskState::Runnable => self.remove_runnable(id),
        }
        self.tasks[id as usize].state = TaskState::Ended;
    }
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
    // Labels are inherited, as in shuttle (an empty list clones without allocating).
    let labels = match id {
        0 => Vec::new(),
        _ => st.tasks[st.current as usize].labels.clone(),
    };
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
        is_async: false,
        budget: Some(POLL_BUDGET),
        earlier_panic: None,
        labels,
    });
    st.progress.push(0);
    st.spin.push(Default::default());
    st.pending.push(PendingOp {
        op: Op::Spawn,
        object: 0,
    });
    st.runnable.push(id); // ids grow, so the list stays sorted
    st.scheduler.on_spawn(id);
    let parent = (id != 0).then_some(st.current);
    st.memory.add_task(id, parent);
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
        drop_locals(cell, id);
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
