//! One execution: the tasks, the scheduler, the step counter, the virtual clock, the seeded RNG
//! and the trace. The test body runs as task 0; every task is a coroutine on the caller's OS
//! thread. A task that reaches a scheduling point asks the scheduler who runs next and, only
//! when that is another task, suspends to the runner loop, which resumes the chosen one. So a
//! step that does not switch costs a function call, not a context switch.

use super::stack_pool;
use crate::memory::Memory;
use crate::render::count;
use crate::report::{Execution, Failure, FailureKind, TaskInfo};
use crate::schedule::Schedule;
pub(crate) use crate::scheduler::TaskId;
use crate::scheduler::{Choice, ChoicePoint, PendingOp, Pick, PickKind, PointKey, Scheduler};
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
    /// Waits may return spuriously, as std allows (a decision the policy takes; see
    /// `Config::spurious_wakeups`).
    pub spurious_wakeups: bool,
    /// Atomic loads may read older stores, as C11/C++20 allows (see `memory/atomic.rs` and
    /// `Config::memory_model`); off, they read the newest and only happens-before is tracked.
    pub weak_memory: bool,
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
    Blocked {
        wait: Wait,
        seq: u64,
    },
    Finished,
    /// Never runs again: an async task when the test body returned (see `end_async_tasks`).
    Ended,
}

struct Task {
    state: TaskState,
    name: Option<Arc<str>>,
    yielder: *const Yielder<(), ()>,
    panic: Option<(String, Option<String>)>,
    panic_observed: bool,
    timed_out: bool,
    park_token: bool,
    locals: Vec<Local>,
    join_wakers: Vec<Waker>,
    /// Tasks blocked joining this one.
    joiners: Vec<TaskId>,
    /// Blocked while unwinding from a panic (see `block`).
    suspended_unwinding: bool,
    /// Spawned by `detest::future::spawn`: ends with the test body (see `end_async_tasks`).
    is_async: bool,
    /// The panic before `panic`, kept for the report of a process about to abort (a panic in
    /// a destructor while unwinding from this one).
    earlier_panic: Option<Box<(String, Option<String>)>>,
    /// Values attached with `current::set_label_for_task`, one per type; a spawned task starts
    /// with its parent's (shared until replaced, so spawning copies no value).
    labels: Vec<(std::any::TypeId, std::rc::Rc<dyn Any>)>,
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
    // Teardown and abort reports (rt/execution/run.rs): the policy's name, for a report
    // printed from the panic hook before the process aborts.
    policy: &'static str,
    // Wake-ups (picks): the policy answers every pick but data draws with option 0, so a
    // spurious-wake-up decision is recorded without asking it (see `spurious_wakeup`).
    default_picks: bool,
    /// The policy watches points with a single task to run too (see
    /// `Scheduler::observes_every_point`).
    observing: bool,
    /// The release the current `after` point follows (see `ChoicePoint::release`).
    release: PendingOp,
    /// The task the current join waits for (see `points::before_join`).
    join_target: TaskId,
    /// Times virtual time jumped to a deadline (see `ChoicePoint::clock_moves`).
    clock_moves: u32,
    // Spinning (see `spin.rs`).
    /// Operations so far that may have changed what another task observes.
    changes: u64,
    /// Per task: its reads since `changes` last moved.
    spin: Vec<Spin>,
    /// `changes` when a task last re-read something (while it differs, nobody spins).
    repeated: u64,
    /// `changes` when a task last gave way: while it differs, nobody does and choices skip
    /// the filter.
    giving_way: u64,
    /// The tasks offered at a choice point where some give way.
    offered: Vec<TaskId>,
    /// Happens-before (see `memory`).
    pub(crate) memory: Memory,
    /// `detest::lazy_static!` values of this execution.
    statics: Vec<statics::ExecutionStatic>,
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
    spin: Vec<Spin>,
    offered: Vec<TaskId>,
    memory: Memory,
    statics: Vec<statics::ExecutionStatic>,
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
        let scheduler_default_picks = scheduler.default_picks();
        let weak_memory = options.weak_memory;
        let observing = scheduler.observes_every_point();
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
            // The runtime's own clock reads bypass the interposition (see `crate::env`).
            started: crate::env::real_now(),
            options,
            abort: None,
            tearing_down: false,
            new_coroutines: buffers.new_coroutines,
            objects: 0,
            generation,
            panic_order: buffers.panic_order,
            policy: "",
            default_picks: scheduler_default_picks,
            observing,
            release: PendingOp {
                op: Op::Yield,
                object: 0,
            },
            join_target: 0,
            clock_moves: 0,
            changes: 0,
            spin: buffers.spin,
            repeated: u64::MAX,
            giving_way: u64::MAX,
            offered: buffers.offered,
            memory: {
                let mut memory = buffers.memory;
                memory.reset();
                memory.set_weak(weak_memory);
                memory
            },
            statics: buffers.statics,
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
        self.spin.clear();
        self.offered.clear();
        self.statics.clear();
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
            spin: self.spin,
            offered: self.offered,
            memory: self.memory,
            statics: self.statics,
        }
    }

    fn make_runnable(&mut self, task: TaskId) {
        match self.tasks[task as usize].state {
            TaskState::Blocked { wait, .. } => self.forget_wait(wait),
            TaskState::Ended => return,
            _ => {}
        }
        self.tasks[task as usize].state = TaskState::Runnable;
        if let Err(pos) = self.runnable.binary_search(&task) {
            self.runnable.insert(pos, task);
        }
    }

    /// Takes a blocked task's wait off the counts of timers and waiters.
    fn forget_wait(&mut self, wait: Wait) {
        if wait.deadline != NO_DEADLINE {
            self.timers -= 1;
        }
        if wait.kind.on_object() {
            self.waiters[wait.object as usize] -= 1;
        }
    }

    fn remove_runnable(&mut self, task: TaskId) {
        if let Ok(pos) = self.runnable.binary_search(&task) {
            self.runnable.remove(pos);
        }
    }

    /// Asks the policy (only when there is a real choice). Records the decision. Tasks that
    /// give way (see `spin.rs`) are not offered while another can run.
    fn choose(
        &mut self,
        current: Option<TaskId>,
        yielding: bool,
        released: bool,
    ) -> Option<TaskId> {
        // The filter's cheap half inline: nobody gives way unless one did since the last change.
        let filtered = self.giving_way == self.changes
            && self.runnable.len() > 1
            && self.fill_offered(current);
        let offered = if filtered {
            &self.offered
        } else {
            &self.runnable
        };
        match offered.len() {
            0 => None,
            1 => {
                if self.observing {
                    let point = ChoicePoint {
                        runnable: offered,
                        current,
                        yielding,
                        released,
                        release: self.release,
                        clock_moves: self.clock_moves,
                        pending: &self.pending,
                        last: self.current,
                        progress: &self.progress,
                    };
                    self.scheduler.observe(&point);
                }
                Some(offered[0])
            }
            _ => {
                self.release_points += u32::from(released);
                let point = ChoicePoint {
                    runnable: offered,
                    current,
                    yielding,
                    released,
                    release: self.release,
                    clock_moves: self.clock_moves,
                    pending: &self.pending,
                    last: self.current,
                    progress: &self.progress,
                };
                match self.scheduler.choose(&point) {
                    Choice::Run(task) => {
                        debug_assert!(offered.binary_search(&task).is_ok());
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
                                "the schedule recorded a random draw or another decision (a \
                                 spurious wake-up, a waiter) at step {}, but the program reached \
                                 a scheduling point (a schedule recorded with spurious wake-ups on \
                                 replays only with them on)",
                                self.step
                            )
                        } else {
                            format!(
                                "expected task {expected} to be runnable at step {} \
                                 (runnable: {:?})",
                                self.step, offered
                            )
                        };
                        self.abort = Some(Abort::Fail(FailureKind::Nondeterminism, msg));
                        None
                    }
                }
            }
        }
    }

    /// A point where `cur` is the only task that can run (`None`: no task can, the execution
    /// ends), for a policy that observes every point: not a decision, so nothing is recorded.
    #[cold]
    #[inline(never)]
    pub(super) fn observe_alone(&mut self, cur: Option<TaskId>, yielding: bool, released: bool) {
        let point = ChoicePoint {
            runnable: cur.as_slice(),
            current: cur,
            yielding,
            released,
            release: self.release,
            clock_moves: self.clock_moves,
            pending: &self.pending,
            last: self.current,
            progress: &self.progress,
        };
        self.scheduler.observe(&point);
    }

    /// Picks the next task when the current one cannot continue, advancing virtual time when
    /// everyone is waiting for a deadline. Sets `abort` when nobody can ever run again.
    fn choose_after_block(&mut self) -> Option<TaskId> {
        // A task ending is observable (`is_finished`, joins); a block is counted alike.
        self.changed();
        loop {
            if !self.runnable.is_empty() {
                return self.choose(None, false, false);
            }
            if !self.advance_clock() {
                if self.observing {
                    // The end: the last step's footprint is known too.
                    self.observe_alone(None, false, false);
                }
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
        self.clock_moves += 1;
        self.changed();
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
            // steps after it reached its point.) A random draw is no step of its own, nor is
            // a cell access (see `cells.rs`).
            step: if matches!(op, Op::Rand | Op::CellRead | Op::CellWrite) {
                last
            } else {
                last + 1
            },
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
            let msg = match self.spinners_message() {
                Some(spinners) => format!(
                    "step limit of {} exceeded: every task that can run keeps re-reading \
                     values no task changes any more, a spin-wait whose condition nobody will \
                     make true (raise max_steps if a spin is meant to end by counting){spinners}",
                    self.options.max_steps
                ),
                None => format!(
                    "step limit of {} exceeded: a livelock (tasks that keep changing state \
                     without getting anywhere), or a loop that never reaches a scheduling \
                     point (raise it with max_steps if the test is just long)",
                    self.options.max_steps
                ),
            };
            self.abort = Some(Abort::Fail(FailureKind::StepLimit, msg));
            return false;
        }
        !self.timed_out()
    }

    /// Whether the wall-clock timeout has passed; if so, the execution fails with it.
    fn timed_out(&mut self) -> bool {
        let Some(limit) = self.options.timeout else {
            return false;
        };
        if crate::env::real_now().saturating_duration_since(self.started) <= limit {
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

mod cells;
mod failure;
mod foreign;
mod happens;
mod points;
mod run;
mod spin;
mod statics;
mod tasks;
mod waits;

pub(crate) use cells::*;
use failure::*;
pub(crate) use foreign::*;
pub(crate) use happens::*;
pub(crate) use points::*;
pub use run::*;
use spin::Spin;
pub(crate) use statics::execution_static;
pub(crate) use tasks::*;
pub(crate) use waits::*;
