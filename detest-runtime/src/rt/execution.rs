//! One execution: the tasks, the scheduler, the step counter, the virtual clock, the seeded RNG
//! and the trace. The test body runs as task 0; every task is a coroutine on the caller's OS
//! thread. A task that reaches a scheduling point asks the scheduler who runs next and, only
//! when that is another task, suspends to the runner loop, which resumes the chosen one. So a
//! step that does not switch costs a function call, not a context switch.

use super::stack_pool;
use crate::render::count;
use crate::report::{Execution, Failure, FailureKind, TaskInfo};
use crate::schedule::Schedule;
pub(crate) use crate::scheduler::TaskId;
use crate::scheduler::{Choice, ChoicePoint, PendingOp, Scheduler};
use crate::trace::{ObjectRef, Op, TraceEvent};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::any::Any;
use std::cell::{Cell, RefCell, RefMut};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

type Coro = Coroutine<(), (), (), DefaultStack>;

/// A task's coroutine with the stack size it was created with (the stack pool's key).
struct TaskCoro {
    coro: Coro,
    stack_size: usize,
}

/// Sentinel for "no task" in atomics that store task ids.
pub(crate) const NO_TASK: u32 = u32::MAX;
const NO_DEADLINE: u64 = u64::MAX;

#[derive(Clone, Debug)]
pub(crate) struct ExecOptions {
    pub max_steps: u64,
    pub stack_size: usize,
    pub timeout: Option<Duration>,
    pub trace: bool,
    /// Return the schedule of a passing execution too (failures always carry theirs). The
    /// schedule is always recorded: re-running a failing seed to record it would not be exact
    /// when state leaks between executions (statics), and the failure must be the one seen.
    pub keep_schedule: bool,
}

/// What a blocked task waits for (used for wake-ups and for deadlock reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitKind {
    Lock,
    Read,
    Write,
    Condvar,
    Join,
    Channel,
    Barrier,
    Once,
    Park,
    Sleep,
    Future,
}

impl WaitKind {
    /// Whether `object` is an object id (woken through `wake_all`/`wake_one`), not a task.
    fn on_object(self) -> bool {
        !matches!(
            self,
            WaitKind::Join | WaitKind::Park | WaitKind::Future | WaitKind::Sleep
        )
    }

    fn describe(self) -> &'static str {
        match self {
            WaitKind::Lock => "waits to lock",
            WaitKind::Read => "waits to read-lock",
            WaitKind::Write => "waits to write-lock",
            WaitKind::Condvar => "waits on",
            WaitKind::Join => "waits to join",
            WaitKind::Channel => "waits on",
            WaitKind::Barrier => "waits at",
            WaitKind::Once => "waits for initialisation of",
            WaitKind::Park => "is parked",
            WaitKind::Sleep => "sleeps",
            WaitKind::Future => "waits for a wake-up of its future",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Wait {
    pub kind: WaitKind,
    /// Object id, or the joined task for `Join`.
    pub object: u32,
    pub object_kind: &'static str,
    /// The task holding the object, when known (for deadlock reports).
    pub holder: u32,
    pub deadline: u64,
    pub location: &'static Location<'static>,
}

impl Wait {
    /// A wait for `kind` on `object` with no known holder and no deadline.
    pub(crate) fn new(
        kind: WaitKind,
        object: u32,
        object_kind: &'static str,
        location: &'static Location<'static>,
    ) -> Wait {
        Wait {
            kind,
            object,
            object_kind,
            holder: NO_TASK,
            deadline: NO_DEADLINE,
            location,
        }
    }

    /// The task holding the object, for deadlock reports.
    pub(crate) fn held_by(self, holder: u32) -> Wait {
        Wait { holder, ..self }
    }

    /// Gives up waiting at `deadline` (virtual nanoseconds; `no_deadline()` for never).
    pub(crate) fn until(self, deadline: u64) -> Wait {
        Wait { deadline, ..self }
    }
}

#[derive(Clone, Copy, Debug)]
enum TaskState {
    Runnable,
    Blocked { wait: Wait, seq: u64 },
    Finished,
}

struct Task {
    state: TaskState,
    name: Option<Arc<str>>,
    yielder: *const Yielder<(), ()>,
    panic: Option<(String, Option<String>)>,
    panic_observed: bool,
    timed_out: bool,
    park_token: bool,
    locals: Vec<(usize, Box<dyn Any>)>,
    join_wakers: Vec<Waker>,
    /// Tasks blocked joining this one.
    joiners: Vec<TaskId>,
    /// Blocked while unwinding from a panic (see `block`).
    suspended_unwinding: bool,
}

/// A task's operation at a scheduling point, as the trace records it.
#[derive(Clone, Copy)]
struct PointOp {
    task: TaskId,
    op: Op,
    object: u32,
    kind: &'static str,
    location: &'static Location<'static>,
}

impl PointOp {
    fn new(
        task: TaskId,
        op: Op,
        object: u32,
        kind: &'static str,
        location: &'static Location<'static>,
    ) -> Self {
        PointOp {
            task,
            op,
            object,
            kind,
            location,
        }
    }
}

/// A traced preemption whose step is not recorded yet (see `State::unrecorded`).
#[derive(Clone, Copy)]
struct Unrecorded {
    at: PointOp,
    by: TaskId,
}

enum Abort {
    Fail(FailureKind, String),
    /// The test body finished and the remaining tasks are all blocked: like a process exiting.
    MainDone,
}

pub(crate) struct State {
    tasks: Vec<Task>,
    pending: Vec<PendingOp>,
    /// Scheduling points each task has passed: a task-local clock that identifies a point in a
    /// task's run independently of how other tasks were interleaved (shrinking keys on it).
    progress: Vec<u32>,
    runnable: Vec<TaskId>,
    pub(crate) current: TaskId,
    seed: u64,
    step: u64,
    finished: usize,
    /// Tasks blocked on each object (by object id), so wake-ups skip the scan when nobody waits.
    waiters: Vec<u32>,
    preemptions: u32,
    /// Choice points right after a release (see `ChoicePoint::released`).
    release_points: u32,
    block_seq: u64,
    now: u64,
    timers: u32,
    scheduler: Box<dyn Scheduler>,
    schedule: Schedule,
    data_rng: fastrand::Rng,
    trace: Option<Vec<TraceEvent>>,
    /// The task the last choice preempted the running one for (taken by the tracing code).
    preemption: Option<TaskId>,
    /// Traced tasks preempted at an operation that takes effect when they run again: the mark
    /// goes on that operation's step (see `TraceEvent::preempted_by`).
    unrecorded: Vec<Unrecorded>,
    options: ExecOptions,
    started: Instant,
    abort: Option<Abort>,
    tearing_down: bool,
    new_coroutines: Vec<TaskCoro>,
    objects: u32,
    generation: u64,
    panic_order: Vec<TaskId>,
}

/// Allocations of one execution, kept for the next: a sweep runs thousands of short executions
/// and would otherwise spend much of its time in malloc.
#[derive(Default)]
struct Buffers {
    tasks: Vec<Task>,
    pending: Vec<PendingOp>,
    progress: Vec<u32>,
    waiters: Vec<u32>,
    runnable: Vec<TaskId>,
    decisions: Vec<crate::schedule::Decision>,
    new_coroutines: Vec<TaskCoro>,
    panic_order: Vec<TaskId>,
    coros: Vec<Option<TaskCoro>>,
}

thread_local! {
    static BUFFERS: Cell<Option<Box<Buffers>>> = const { Cell::new(None) };
    static CURRENT: Cell<*const RefCell<State>> = const { Cell::new(std::ptr::null()) };
}

/// The state of the execution running on this thread. Panics, naming `what`, outside one.
#[inline]
#[track_caller]
pub(crate) fn state(what: &str) -> &'static RefCell<State> {
    let ptr = CURRENT.with(|c| c.get());
    if ptr.is_null() {
        outside(what)
    }
    // SAFETY: the pointer is set by `run_execution` for exactly as long as the state lives on its
    // stack frame, and only tasks of that execution (running inside that frame) read it.
    unsafe { &*ptr }
}

#[cold]
#[track_caller]
fn outside(what: &str) -> ! {
    panic!(
        "{what} was used outside a detest execution. detest primitives only work inside a test \
         body run by detest: put #[detest] on the test, or run the code with \
         detest::Config::new().run(|| ...) / detest::check(|| ...)"
    )
}

/// Whether this thread is inside an execution.
pub(crate) fn in_execution() -> bool {
    CURRENT.with(|c| !c.get().is_null())
}

/// A lazily assigned, per-execution object id stored inside each primitive. Ids are handed out in
/// the order objects are first used, so they are the same on every replay of a schedule.
#[derive(Debug, Default)]
pub(crate) struct ObjectId(AtomicU64);

impl ObjectId {
    pub const fn new() -> Self {
        ObjectId(AtomicU64::new(0))
    }

    #[inline]
    fn get(&self, st: &mut State) -> u32 {
        let v = self.0.load(Ordering::Relaxed);
        if v >> 32 == st.generation {
            return v as u32;
        }
        st.objects += 1;
        let id = st.objects;
        self.0
            .store((st.generation << 32) | u64::from(id), Ordering::Relaxed);
        id
    }
}

impl State {
    fn new(
        options: ExecOptions,
        seed: u64,
        scheduler: Box<dyn Scheduler>,
        generation: u64,
        buffers: Buffers,
    ) -> Self {
        State {
            tasks: buffers.tasks,
            pending: buffers.pending,
            progress: buffers.progress,
            runnable: buffers.runnable,
            current: 0,
            seed,
            step: 0,
            finished: 0,
            waiters: buffers.waiters,
            preemptions: 0,
            release_points: 0,
            block_seq: 0,
            now: 0,
            timers: 0,
            scheduler,
            schedule: Schedule::from_vec(buffers.decisions),
            data_rng: fastrand::Rng::with_seed(seed ^ 0xd1b5_4a32_d192_ed03),
            trace: if options.trace {
                Some(Vec::new())
            } else {
                None
            },
            preemption: None,
            unrecorded: Vec::new(),
            started: Instant::now(),
            options,
            abort: None,
            tearing_down: false,
            new_coroutines: buffers.new_coroutines,
            objects: 0,
            generation,
            panic_order: buffers.panic_order,
        }
    }

    /// Gives the allocations back for the next execution.
    fn into_buffers(mut self, coros: Vec<Option<TaskCoro>>) -> Buffers {
        self.tasks.clear();
        self.pending.clear();
        self.progress.clear();
        self.waiters.clear();
        self.runnable.clear();
        self.new_coroutines.clear();
        self.panic_order.clear();
        let mut decisions = self.schedule.into_vec();
        decisions.clear();
        let mut coros = coros;
        coros.clear();
        Buffers {
            tasks: self.tasks,
            pending: self.pending,
            progress: self.progress,
            waiters: self.waiters,
            runnable: self.runnable,
            decisions,
            new_coroutines: self.new_coroutines,
            panic_order: self.panic_order,
            coros,
        }
    }

    fn make_runnable(&mut self, task: TaskId) {
        if let TaskState::Blocked { wait, .. } = self.tasks[task as usize].state {
            if wait.deadline != NO_DEADLINE {
                self.timers -= 1;
            }
            if wait.kind.on_object() {
                self.waiters[wait.object as usize] -= 1;
            }
        }
        self.tasks[task as usize].state = TaskState::Runnable;
        if let Err(pos) = self.runnable.binary_search(&task) {
            self.runnable.insert(pos, task);
        }
    }

    fn remove_runnable(&mut self, task: TaskId) {
        if let Ok(pos) = self.runnable.binary_search(&task) {
            self.runnable.remove(pos);
        }
    }

    /// Asks the policy (only when there is a real choice). Records the decision.
    fn choose(
        &mut self,
        current: Option<TaskId>,
        yielding: bool,
        released: bool,
    ) -> Option<TaskId> {
        match self.runnable.len() {
            0 => None,
            1 => Some(self.runnable[0]),
            _ => {
                self.release_points += u32::from(released);
                let point = ChoicePoint {
                    runnable: &self.runnable,
                    current,
                    yielding,
                    released,
                    pending: &self.pending,
                    last: self.current,
                    progress: &self.progress,
                };
                match self.scheduler.choose(&point) {
                    Choice::Run(task) => {
                        debug_assert!(self.runnable.binary_search(&task).is_ok());
                        self.schedule.push_choice(task);
                        if !yielding && current.is_some_and(|c| c != task) {
                            // The one definition of a preemption: counted here, marked in
                            // the trace from `preemption` (see `TraceEvent::preempted_by`).
                            self.preemption = Some(task);
                            self.preemptions += 1;
                        }
                        Some(task)
                    }
                    Choice::Diverged { expected } => {
                        let msg = if expected == TaskId::MAX {
                            format!(
                                "the schedule recorded a random draw at step {}, \
                                 but the program reached a scheduling point",
                                self.step
                            )
                        } else {
                            format!(
                                "expected task {expected} to be runnable at step {} \
                                 (runnable: {:?})",
                                self.step, self.runnable
                            )
                        };
                        self.abort = Some(Abort::Fail(FailureKind::Nondeterminism, msg));
                        None
                    }
                }
            }
        }
    }

    /// Picks the next task when the current one cannot continue, advancing virtual time when
    /// everyone is waiting for a deadline. Sets `abort` when nobody can ever run again.
    fn choose_after_block(&mut self) -> Option<TaskId> {
        loop {
            if !self.runnable.is_empty() {
                return self.choose(None, false, false);
            }
            if !self.advance_clock() {
                self.abort = Some(if matches!(self.tasks[0].state, TaskState::Finished) {
                    Abort::MainDone
                } else {
                    Abort::Fail(FailureKind::Deadlock, self.deadlock_message())
                });
                return None;
            }
        }
    }

    /// Moves the clock to the earliest deadline and wakes every task due by then.
    fn advance_clock(&mut self) -> bool {
        if self.timers == 0 {
            return false;
        }
        let earliest = self
            .tasks
            .iter()
            .filter_map(|t| match t.state {
                TaskState::Blocked { wait, .. } if wait.deadline != NO_DEADLINE => {
                    Some(wait.deadline)
                }
                _ => None,
            })
            .min();
        let Some(deadline) = earliest else {
            return false;
        };
        self.now = self.now.max(deadline);
        for id in 0..self.tasks.len() {
            if let TaskState::Blocked { wait, .. } = self.tasks[id].state {
                if wait.deadline <= self.now {
                    self.tasks[id].timed_out = true;
                    self.make_runnable(id as TaskId);
                }
            }
        }
        true
    }

    fn deadlock_message(&self) -> String {
        let mut msg = String::from("every task is blocked");
        for (id, task) in self.tasks.iter().enumerate() {
            if let TaskState::Blocked { wait, .. } = task.state {
                let info = self.task_info(id as TaskId);
                let _ = write!(msg, "\n  {info} {}", wait.kind.describe());
                match wait.kind {
                    WaitKind::Join => {
                        let _ = write!(msg, " task {}", wait.object);
                    }
                    WaitKind::Park | WaitKind::Sleep | WaitKind::Future => {}
                    _ => {
                        let _ = write!(
                            msg,
                            " {}",
                            ObjectRef {
                                id: wait.object,
                                kind: wait.object_kind
                            }
                        );
                    }
                }
                if wait.holder != NO_TASK {
                    let _ = write!(msg, " (held by task {})", wait.holder);
                }
                let _ = write!(msg, " at {}:{}", wait.location.file(), wait.location.line());
            }
        }
        msg
    }

    fn record(
        &mut self,
        op: Op,
        object: u32,
        kind: &'static str,
        location: &'static Location<'static>,
    ) {
        let Some(trace) = &mut self.trace else { return };
        let task = self.current;
        let preempted_by = self
            .unrecorded
            .iter()
            .position(|u| u.at.task == task)
            .map(|i| self.unrecorded.swap_remove(i).by);
        let last = trace.last().map_or(0, |e| e.step);
        let event = TraceEvent {
            // Operations in the order they took effect. (The scheduling-step counter is not
            // used: a task's operation takes effect when it is next scheduled, possibly several
            // steps after it reached its point.) A random draw is no step of its own.
            step: if op == Op::Rand { last } else { last + 1 },
            task,
            op,
            object: (object != 0).then_some(ObjectRef { id: object, kind }),
            location: Some(location),
            preempted_by,
            time: self.now,
            value: None,
        };
        trace.push(event);
    }

    /// Traces the preemption the last choice made at `at`, if it made one, on the step of
    /// that operation: the one just recorded (`recorded`, an operation that publishes), or the
    /// one it performs when it runs again.
    fn trace_preemption(&mut self, at: PointOp, recorded: bool) {
        let Some(by) = self.preemption.take() else {
            return;
        };
        let Some(trace) = &mut self.trace else { return };
        match trace.last_mut() {
            Some(last) if recorded => last.preempted_by = Some(by),
            _ => self.unrecorded.push(Unrecorded { at, by }),
        }
    }

    /// Traces the operations that preempted tasks never got to perform (the execution ended
    /// first) as their last steps, so every preemption counted has its mark.
    fn trace_unrecorded(&mut self) {
        let Some(trace) = &mut self.trace else { return };
        for Unrecorded { at, by } in self.unrecorded.drain(..) {
            trace.push(TraceEvent {
                step: trace.last().map_or(0, |e| e.step) + 1,
                task: at.task,
                op: at.op,
                object: (at.object != 0).then_some(ObjectRef {
                    id: at.object,
                    kind: at.kind,
                }),
                location: Some(at.location),
                preempted_by: Some(by),
                time: self.now,
                value: None,
            });
        }
    }

    /// Counts a step; false (with `abort` set) when a limit is exceeded.
    #[inline(always)]
    fn count_step(&mut self) -> bool {
        self.step += 1;
        self.progress[self.current as usize] += 1;
        if self.step > self.options.max_steps || self.step & 1023 == 0 {
            return self.check_limits();
        }
        true
    }

    /// The rare part of [`State::count_step`]: kept out of line so every step's path stays short.
    #[cold]
    #[inline(never)]
    fn check_limits(&mut self) -> bool {
        if self.step > self.options.max_steps {
            self.abort = Some(Abort::Fail(
                FailureKind::StepLimit,
                format!(
                    "step limit of {} exceeded: a livelock, or a spin loop that never lets \
                     another task run (raise it with max_steps if the test is just long)",
                    self.options.max_steps
                ),
            ));
            return false;
        }
        !self.timed_out()
    }

    /// Whether the wall-clock timeout has passed; if so, the execution fails with it.
    fn timed_out(&mut self) -> bool {
        let Some(limit) = self.options.timeout else {
            return false;
        };
        if self.started.elapsed() <= limit {
            return false;
        }
        self.abort = Some(Abort::Fail(
            FailureKind::Timeout,
            format!("execution exceeded the wall-clock timeout of {limit:?}"),
        ));
        true
    }

    /// The timeout check as an execution ends. Steps look at the clock only every 1024 steps,
    /// so an execution with fewer (one long blocking call, say) would otherwise never be
    /// judged. Another failure already found stays the one reported.
    fn check_timeout_at_end(&mut self) {
        if matches!(self.abort, None | Some(Abort::MainDone)) {
            self.timed_out();
        }
    }

    fn yielder(&self, task: TaskId) -> *const Yielder<(), ()> {
        self.tasks[task as usize].yielder
    }

    fn task_info(&self, id: TaskId) -> TaskInfo {
        TaskInfo {
            id,
            name: self.tasks[id as usize].name.as_deref().map(str::to_owned),
        }
    }
}

/// Counts a step. When a limit is exceeded (the abort is set), suspends the current task for
/// good, since the runner tears the execution down, and returns `None`.
#[inline(always)]
fn count_step_or_stop(mut st: RefMut<'_, State>) -> Option<RefMut<'_, State>> {
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
fn suspend(yielder: *const Yielder<(), ()>) {
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

/// [`before`], also returning the current task (saves primitives a second trip to the state).
#[inline]
pub(crate) fn before_as(
    what: &str,
    op: Op,
    object: Option<&ObjectId>,
    kind: &'static str,
    location: &'static Location<'static>,
) -> (u32, TaskId) {
    let cell = state(what);
    let (id, cur, switch_to) = {
        let mut st = cell.borrow_mut();
        let id = object.map_or(0, |o| o.get(&mut st));
        let cur = st.current;
        if st.tearing_down {
            return (id, cur);
        }
        st.pending[cur as usize] = PendingOp { op, object: id };
        let Some(mut st) = count_step_or_stop(st) else {
            return (id, cur);
        };
        match switch_from(&mut st, cur, false, false) {
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
                return (id, cur);
            }
        }
    };
    suspend(switch_to);
    let mut st = cell.borrow_mut();
    if st.trace.is_some() && !st.tearing_down {
        st.record(op, id, kind, location);
    }
    (id, cur)
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
    let cell = state(what);
    let switch_to = {
        let mut st = cell.borrow_mut();
        let id = object.map_or(0, |o| o.get(&mut st));
        if st.tearing_down {
            return;
        }
        let cur = st.current;
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
        if yielding && st.runnable.len() == 1 {
            // A lone task spinning with yield_now waits for time to pass.
            st.advance_clock();
        }
        // An `after` point that is no yield follows a release (unlock, notify, unpark, ...).
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

/// Offers the policy a choice at the running task's scheduling point. Returns the yielder to
/// suspend on when another task was chosen (or the execution is aborting), `None` when the
/// running task simply goes on.
#[inline(always)]
fn switch_from(
    st: &mut State,
    cur: TaskId,
    yielding: bool,
    released: bool,
) -> Option<*const Yielder<(), ()>> {
    // A task that is unwinding (a guard dropped by a panic) runs on without a switch: a
    // coroutine suspended mid-unwind could not be torn down without aborting the process.
    if st.runnable.len() == 1 || std::thread::panicking() {
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
}

/// Assigns (if needed) and returns an object's id without a scheduling point.
pub(crate) fn object_id(what: &str, object: &ObjectId) -> u32 {
    let mut st = state(what).borrow_mut();
    object.get(&mut st)
}

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

/// Wakes the task that has waited longest on `object` with `kind`; true if there was one.
pub(crate) fn wake_one(what: &str, object: u32, kind: WaitKind) -> bool {
    let mut st = state(what).borrow_mut();
    if st.waiters.get(object as usize).copied().unwrap_or(0) == 0 {
        return false;
    }
    let mut best: Option<(u64, usize)> = None;
    for (id, task) in st.tasks.iter().enumerate() {
        if let TaskState::Blocked { wait, seq } = task.state {
            if wait.object == object && wait.kind == kind && best.is_none_or(|(s, _)| seq < s) {
                best = Some((seq, id));
            }
        }
    }
    match best {
        Some((_, id)) => {
            st.make_runnable(id as TaskId);
            true
        }
        None => false,
    }
}

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

/// Parks the current task unless its token is set.
pub(crate) fn park(location: &'static Location<'static>) {
    let what = "detest::thread::park";
    before(what, Op::Park, None, "", location);
    loop {
        {
            let mut st = state(what).borrow_mut();
            let cur = st.current as usize;
            if std::mem::take(&mut st.tasks[cur].park_token) {
                return;
            }
        }
        if block(what, Wait::new(WaitKind::Park, 0, "", location))
            && state(what).borrow().tearing_down
        {
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
    if let TaskState::Blocked { wait, .. } = st.tasks[target.task as usize].state {
        if wait.kind == WaitKind::Future {
            st.make_runnable(target.task);
        }
    }
}

/// Draws a random value (recorded in the schedule, and in the trace with the caller's location).
#[track_caller]
pub(crate) fn random_u64(what: &str) -> u64 {
    let cell = state(what);
    let mut guard = cell.borrow_mut();
    let st = &mut *guard;
    if let Some(v) = st.scheduler.random(&mut st.data_rng) {
        st.schedule.push_random(v);
        if st.trace.is_some() && !st.tearing_down {
            st.record(Op::Rand, 0, "", Location::caller());
            if let Some(e) = st.trace.as_mut().and_then(|t| t.last_mut()) {
                e.value = Some(v);
            }
        }
        return v;
    }
    let msg = format!(
        "the program drew a random value at step {}, where the schedule \
         recorded a scheduling choice",
        st.step
    );
    st.abort = Some(Abort::Fail(FailureKind::Nondeterminism, msg));
    let y = st.yielder(st.current);
    drop(guard);
    suspend(y);
    0
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

fn add_task(st: &mut State, id: TaskId, name: Option<Arc<str>>) {
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
    st.pending.push(PendingOp {
        op: Op::Spawn,
        object: 0,
    });
    st.runnable.push(id); // ids grow, so the list stays sorted
    st.scheduler.on_spawn(id);
}

unsafe fn new_coroutine<F: FnOnce()>(
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

fn try_state() -> Option<&'static RefCell<State>> {
    let ptr = CURRENT.with(|c| c.get());
    // SAFETY: see `state`.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Called by the panic hook: remembers where the current task panicked. Returns false when the
/// panic is not inside an execution (the previous hook then prints it as usual).
pub(crate) fn note_panic_location(
    location: Option<&Location<'_>>,
    payload: &(dyn Any + Send),
) -> bool {
    let Some(cell) = try_state() else {
        return false;
    };
    let Ok(mut st) = cell.try_borrow_mut() else {
        return false;
    };
    if st.tearing_down {
        return true;
    }
    let cur = st.current as usize;
    if let Some(task) = st.tasks.get_mut(cur) {
        let loc = location.map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        // The message too: a task whose unwinding gets stuck (a destructor blocks) never
        // reaches `record_panic`, and its panic is still the failure to report.
        task.panic = Some((panic_message(payload), loc));
    }
    true
}

/// For the stack-overflow handler: `task N` (and its name) of the task running on this thread.
/// Read through raw pointers, without borrowing the state (the fault may strike while it is
/// borrowed) and without allocating.
pub(crate) fn describe_current_task_for_signal(out: &mut dyn std::fmt::Write) {
    let ptr = CURRENT.with(|c| c.get());
    if ptr.is_null() {
        let _ = out.write_str("a detest task");
        return;
    }
    // SAFETY: `ptr` is this thread's live execution state (see `state`); only read here.
    unsafe {
        let st = (*ptr).as_ptr();
        let id = std::ptr::addr_of!((*st).current).read();
        let _ = write!(out, "task {id}");
        let tasks = &*std::ptr::addr_of!((*st).tasks);
        if let Some(name) = tasks.get(id as usize).and_then(|t| t.name.as_deref()) {
            let _ = write!(out, " ({name})");
        }
    }
}

struct CurrentGuard;

impl CurrentGuard {
    fn install(cell: &RefCell<State>) -> CurrentGuard {
        CURRENT.with(|c| {
            assert!(
                c.get().is_null(),
                "detest executions cannot be nested: a test body is already running on this thread"
            );
            c.set(cell as *const _);
        });
        CurrentGuard
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null()));
    }
}

/// Runs one execution of `body` under `scheduler`.
pub(crate) fn run_execution<F: Fn()>(
    options: &ExecOptions,
    seed: u64,
    policy: &str,
    scheduler: Box<dyn Scheduler>,
    body: &F,
) -> Execution {
    super::panic_hook::install();
    super::stack_guard::install();
    // Global, not per OS thread: an object shared by executions on two threads (a static)
    // must not mistake one execution's id for another's.
    static GENERATION: AtomicU64 = AtomicU64::new(0);
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
    let mut buffers = BUFFERS.with(|b| b.take()).map(|b| *b).unwrap_or_default();
    let mut coros = std::mem::take(&mut buffers.coros);
    let cell = RefCell::new(State::new(
        options.clone(),
        seed,
        scheduler,
        generation,
        buffers,
    ));
    let guard = CurrentGuard::install(&cell);
    // SAFETY: `cell` outlives every coroutine of this execution (all are finished or torn down
    // before this function returns), and `body` outlives them likewise.
    let cell_ref: &'static RefCell<State> = unsafe { &*(&cell as *const RefCell<State>) };
    let main = TaskCoro {
        coro: unsafe { new_coroutine(cell_ref, 0, options.stack_size, body) },
        stack_size: options.stack_size,
    };
    {
        let mut st = cell.borrow_mut();
        add_task(&mut st, 0, None);
    }
    coros.push(Some(main));

    loop {
        let cur = {
            let mut st = cell.borrow_mut();
            if !st.new_coroutines.is_empty() {
                coros.extend(st.new_coroutines.drain(..).map(Some));
            }
            st.current
        };
        let coro = coros[cur as usize]
            .as_mut()
            .expect("scheduled a finished task");
        match coro.coro.resume(()) {
            CoroutineResult::Yield(()) => {
                if cell.borrow().abort.is_some() {
                    break;
                }
            }
            CoroutineResult::Return(()) => {
                let done = coros[cur as usize].take().expect("coroutine");
                stack_pool::give(done.coro.into_stack(), done.stack_size);
                // Wake async joiners first, without holding the state (wakers borrow it).
                let wakers = std::mem::take(&mut cell.borrow_mut().tasks[cur as usize].join_wakers);
                cell.borrow_mut().tasks[cur as usize].state = TaskState::Finished;
                for waker in wakers {
                    waker.wake();
                }
                let mut st = cell.borrow_mut();
                let st = &mut *st;
                st.finished += 1;
                st.remove_runnable(cur);
                for joiner in std::mem::take(&mut st.tasks[cur as usize].joiners) {
                    if let TaskState::Blocked { wait, .. } = st.tasks[joiner as usize].state {
                        if wait.kind == WaitKind::Join && wait.object == cur {
                            st.make_runnable(joiner);
                        }
                    }
                }
                if cur == 0 && st.tasks[0].panic.is_some() {
                    break;
                }
                if st.finished == st.tasks.len() {
                    break;
                }
                match st.choose_after_block() {
                    Some(next) => st.current = next,
                    None => break,
                }
            }
        }
    }

    cell.borrow_mut().check_timeout_at_end();
    // Tear down: unwind every unfinished coroutine, newest first, so that a scoped thread
    // unwinds before the stack frame it borrows from.
    cell.borrow_mut().tearing_down = true;
    {
        let mut st = cell.borrow_mut();
        coros.extend(st.new_coroutines.drain(..).map(Some));
    }
    for (id, slot) in coros.iter_mut().enumerate().rev() {
        if let Some(mut coro) = slot.take() {
            if cell.borrow().tasks[id].suspended_unwinding {
                // Unwinding it a second time would abort the process: leak its stack instead.
                std::mem::forget(coro);
                continue;
            }
            coro.coro.force_unwind();
            stack_pool::give(coro.coro.into_stack(), coro.stack_size);
        }
    }
    drop(guard);

    let mut st = cell.into_inner();
    st.trace_unrecorded();
    let failure = failure_of(&mut st, seed, policy);
    let schedule = if options.keep_schedule {
        std::mem::take(&mut st.schedule)
    } else {
        Schedule::new()
    };
    let execution = Execution {
        seed,
        steps: st.step,
        preemptions: st.preemptions,
        release_points: st.release_points,
        schedule,
        failure,
        trace: st.trace.take().unwrap_or_default(),
    };
    let buffers = st.into_buffers(coros);
    BUFFERS.with(|b| b.set(Some(Box::new(buffers))));
    execution
}

/// Whether a panic with `message` merely passes on an earlier one with `earlier`: it unwraps the
/// `Err` a join returned (its payload prints as `Any { .. }`), re-raises the payload
/// (`resume_unwind`), or is a scope reporting that one of its threads panicked.
fn is_consequence(message: &str, earlier: &str) -> bool {
    message.ends_with("Any { .. }") || message == earlier || message == "a scoped thread panicked"
}

fn failure_of(st: &mut State, seed: u64, policy: &str) -> Option<Failure> {
    // A task stuck while unwinding panicked, even though its panic never finished.
    for t in 0..st.tasks.len() as TaskId {
        let task = &st.tasks[t as usize];
        if task.suspended_unwinding && task.panic.is_some() && !st.panic_order.contains(&t) {
            st.panic_order.push(t);
        }
    }
    // An unobserved panic is the root cause even when a deadlock or limit followed it.
    let panicked = st
        .panic_order
        .iter()
        .copied()
        .find(|&t| !st.tasks[t as usize].panic_observed || t == 0);
    let (kind, message, location, task) = if let Some(t) = panicked {
        let (mut message, mut location) = st.tasks[t as usize].panic.clone().unwrap_or_default();
        let mut task = t;
        // A failing panic that follows another (main unwrapping a joined thread's panic, say)
        // is usually a consequence: when it is one, the earlier panic is the failure (its
        // message, location and task lead the report, and fixtures dedup on its location),
        // with the consequence named after it; otherwise the earlier one is named.
        if let Some(&first) = st.panic_order.first().filter(|&&f| f != t) {
            let (first_message, first_location) =
                st.tasks[first as usize].panic.clone().unwrap_or_default();
            let at =
                |l: &Option<String>| l.as_ref().map(|l| format!(" at {l}")).unwrap_or_default();
            if is_consequence(&message, &first_message) {
                let note = format!(
                    "\n(then {} panicked: {message}{})",
                    st.task_info(t),
                    at(&location)
                );
                message = first_message + &note;
                location = first_location;
                task = first;
            } else {
                let _ = write!(
                    message,
                    "\n(earlier, {} panicked: {first_message}{})",
                    st.task_info(first),
                    at(&first_location)
                );
            }
        }
        (
            FailureKind::Panic,
            message,
            location,
            Some(st.task_info(task)),
        )
    } else {
        match st.abort.take() {
            Some(Abort::Fail(kind, message)) => {
                let task = matches!(kind, FailureKind::StepLimit | FailureKind::Timeout)
                    .then(|| st.task_info(st.current));
                (kind, message, None, task)
            }
            Some(Abort::MainDone) | None => {
                let left = st.scheduler.remaining();
                if left == 0 {
                    return None;
                }
                let message = format!(
                    "the execution ended after {} with {} left unused",
                    count(st.step, "step"),
                    count(left as u64, "recorded decision")
                );
                (FailureKind::Nondeterminism, message, None, None)
            }
        }
    };
    Some(Failure {
        seed,
        policy: policy.to_owned(),
        kind,
        message,
        location,
        task,
        schedule: st.schedule.clone(),
        steps: st.step,
        trace: st.trace.clone().unwrap_or_default(),
    })
}
