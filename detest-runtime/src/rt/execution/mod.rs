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
    /// What a runtime layer keeps for the poll under way (detest-tokio's coop budget): reset
    /// to `POLL_BUDGET` as each poll of the task's future starts (`None`: unconstrained).
    budget: Option<u8>,
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
    /// Held from this execution's first use of a primitive in a static to its end: one
    /// execution at a time uses them (see `fresh_statics.rs`).
    statics_claim: Option<fresh_statics::Claim>,
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
/// The running execution's state, if the caller is inside one (one thread-local read, for
/// calls that also work outside).
pub(crate) fn try_state() -> Option<&'static RefCell<State>> {
    let ptr = CURRENT.with(|c| c.get());
    // SAFETY: as `state`.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

pub(crate) fn in_execution() -> bool {
    CURRENT.with(|c| !c.get().is_null())
}

/// A lazily assigned, per-execution object id stored inside each primitive. Ids are handed out in
/// the order objects are first used, so they are the same on every replay of a schedule.
///
/// It also knows where the primitive it sits in lies ([`Extent`]): a primitive in a `static`
/// outlives executions, and its first use in each one puts its bytes back as the program
/// started with them (see `fresh_statics.rs`).
#[derive(Debug, Default)]
pub(crate) struct ObjectId {
    stamp: AtomicU64,
    extent: Extent,
}

/// The bytes of the primitive an [`ObjectId`] belongs to: `size` bytes starting `offset`
/// bytes before the id. Size 0: a primitive that cannot be in a static (a channel's shared
/// state), never reset.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Extent {
    pub(super) offset: u32,
    pub(super) size: u32,
}

impl ObjectId {
    /// The id of a primitive that is never in a static.
    pub const fn new() -> Self {
        ObjectId::within(0, 0)
    }

    /// The id of a primitive `size` bytes long whose id field is `offset` bytes into it
    /// (`offset_of!(Self, id)`, `size_of::<Self>()`). A primitive nested in one that resets
    /// it as a whole (`OnceLock`'s `Once`) passes the outer one's.
    pub const fn within(offset: usize, size: usize) -> Self {
        // A primitive too large to describe is not reset: a static of 4 GiB is not a case.
        let fits = offset <= u32::MAX as usize && size <= u32::MAX as usize;
        ObjectId {
            stamp: AtomicU64::new(0),
            extent: Extent {
                offset: if fits { offset as u32 } else { 0 },
                size: if fits { size as u32 } else { 0 },
            },
        }
    }

    #[inline]
    fn get(&self, st: &mut State) -> u32 {
        let v = self.stamp.load(Ordering::Relaxed);
        if v >> 32 == st.generation {
            return v as u32;
        }
        self.first_use(st, v)
    }

    /// The object's first use in this execution: a primitive in a static is made fresh (and
    /// this execution claims the statics), then the object gets the next id.
    #[cold]
    fn first_use(&self, st: &mut State, v: u64) -> u32 {
        if v == USED_OUTSIDE {
            used_outside_then_inside()
        }
        if self.extent.size != 0 {
            fresh_statics::first_use(st, self, self.extent);
        }
        st.objects += 1;
        let id = st.objects;
        self.stamp
            .store((st.generation << 32) | u64::from(id), Ordering::Relaxed);
        id
    }
}

/// The id of a primitive used outside any execution (see `crate::outside`); generations never
/// reach it.
const USED_OUTSIDE: u64 = u64::MAX;

impl ObjectId {
    /// Marks the primitive as used outside executions; panics, naming `what`, if an execution
    /// has used it (the object is the execution's, and may be held by one of its tasks).
    #[track_caller]
    pub(crate) fn use_outside(&self, what: &str) {
        match self.stamp.load(Ordering::Relaxed) {
            USED_OUTSIDE => {}
            0 => self.stamp.store(USED_OUTSIDE, Ordering::Relaxed),
            _ => panic!(
                "{what} was used inside a detest execution and then outside one (a plain test, \
                 the harness, another OS thread): a primitive belongs to one side. Keep objects \
                 an execution uses inside it (create them in the test body)"
            ),
        }
    }
}

#[cold]
#[track_caller]
fn used_outside_then_inside() -> ! {
    panic!(
        "a detest primitive was used outside any detest execution (a plain test, the harness, \
         another OS thread) and then inside one: a primitive belongs to one side. Create the \
         objects an execution uses inside it (in the test body)"
    )
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
            statics_claim: None,
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
mod choice;
mod failure;
mod foreign;
mod fresh_statics;
mod happens;
mod points;
mod run;
mod spin;
mod statics;
mod steps;
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
