//! Schedule policies. Each policy is a small [`Scheduler`] in a file of its own; the execution
//! consults it only at choice points (two or more runnable tasks), so a policy never sees the
//! steps where there was nothing to decide.

mod dfs;
mod first_release;
mod guided;
mod pct;
mod portfolio;
mod pos;
mod random;
mod replay;
mod rotate;
mod round_robin;
mod urw;

pub use dfs::{Dfs, DfsTree};
pub use first_release::FirstRelease;
pub(crate) use guided::Recording;
pub use guided::{Directed, Directive, Guided, PointKey};
pub use pct::Pct;
pub use portfolio::Portfolio;
pub use pos::Pos;
pub use random::RandomWalk;
pub use replay::Replay;
pub use rotate::Rotate;
pub use round_robin::RoundRobin;
pub(crate) use urw::UrwProbe;
pub use urw::{EventEstimate, Urw};

use crate::trace::Op;

/// A task id: tasks are numbered in spawn order from 0 (the test body).
pub type TaskId = u32;

/// The operation a runnable task will perform when it next runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingOp {
    pub op: Op,
    /// Per-execution object id (0 when the operation touches no shared object). For
    /// [`Op::Join`]: the id of the joined task.
    pub object: u32,
}

/// What a policy sees at a choice point.
pub struct ChoicePoint<'a> {
    /// The runnable tasks offered, sorted by id; at least two (at most one for
    /// [`Scheduler::observe`]). Tasks that spin on values
    /// nobody changes give way: they are left out while another task can run (so `current`
    /// may be missing here; it is then `yielding`).
    pub runnable: &'a [TaskId],
    /// The task that reached the scheduling point, when it can continue running.
    pub current: Option<TaskId>,
    /// The current task asked to yield (`yield_now`, a spin hint) or spins: prefer another.
    pub yielding: bool,
    /// The point follows a release by the current task (an unlock, a notify, an unpark, a
    /// `Once` completing): others may have just become able to run.
    pub released: bool,
    /// When `released`: the release (its operation and object) the point follows. It was
    /// performed by the current task just before this point, with no point of its own.
    pub release: PendingOp,
    /// Times virtual time has jumped to the next deadline in this execution (when every task
    /// waited): a jump wakes tasks that no operation woke.
    pub clock_moves: u32,
    /// Next operation of every task, indexed by task id.
    pub pending: &'a [PendingOp],
    /// The task that reached this point (running, or just blocked or finished).
    pub last: TaskId,
    /// Scheduling points each task has passed, indexed by task id.
    pub progress: &'a [u32],
}

/// What a decision that is not "which task runs next" is about. std leaves these open (which
/// waiter a `notify_one` wakes, whether a wait returns spuriously), so they belong to the
/// scheduler: recorded in the schedule like a random draw, replayed, explored and shrunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PickKind {
    /// A `detest::rand` value.
    Data,
    /// Which of `n` waiters a wake-up goes to (0: the one that has waited longest).
    Waiter,
    /// Whether a wait returns without a wake-up (`n` is 2; 1: spuriously).
    Spurious,
    /// Which of `n` tasks at a barrier is its leader (0: the last to arrive).
    Leader,
    /// Which of the `n` stores an atomic load may read it reads (0: the newest, `i`: the
    /// `i`-th older one), under the weak memory model.
    ReadFrom,
}

/// A decision among `n` options (`n == 0`: any `u64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub kind: PickKind,
    pub n: u64,
}

/// The plain-run answer to a pick: data is drawn from the seeded stream, everything else takes
/// option 0.
pub(crate) fn default_pick(pick: Pick, data_rng: &mut fastrand::Rng) -> u64 {
    match (pick.kind, pick.n) {
        (PickKind::Data, 0) => data_rng.u64(..),
        (PickKind::Data, n) => data_rng.u64(..n),
        _ => 0,
    }
}

/// A spurious wake-up is drawn for one wait in this many under the exploring policies. Rare
/// enough that a correct wait loop pays a few steps per execution at most, frequent enough
/// that a wait without a loop fails within a few hundred seeds (see the README, "Wake-ups").
pub const SPURIOUS_ONE_IN: u64 = 8;

/// A load that may read an older store reads one (uniformly among the older candidates) in
/// this many under the exploring policies: stale values are rare on real hardware but must be
/// reachable, and a weak-memory bug needs only one or two of them (see the README, "Memory
/// model", for the figures this was tuned on).
pub const READ_OLD_ONE_IN: u64 = 4;

/// The exploring policies' answer to a pick: data as a plain run draws it; which waiter or
/// leader uniformly (std promises no order, and no option is likelier to hide a bug); a
/// spurious wake-up once in [`SPURIOUS_ONE_IN`] waits; an older store once in
/// [`READ_OLD_ONE_IN`] loads that may read one. `rng` is the policy's own stream for
/// picks, apart from the one its task choices use, so a program without picks runs exactly
/// the schedule it ran before picks existed.
pub(crate) fn exploring_pick(
    pick: Pick,
    rng: &mut fastrand::Rng,
    data_rng: &mut fastrand::Rng,
) -> u64 {
    match pick.kind {
        PickKind::Data => default_pick(pick, data_rng),
        PickKind::Spurious => u64::from(rng.u64(..SPURIOUS_ONE_IN) == 0),
        PickKind::Waiter | PickKind::Leader => rng.u64(..pick.n.max(1)),
        PickKind::ReadFrom if pick.n > 1 && rng.u64(..READ_OLD_ONE_IN) == 0 => {
            1 + rng.u64(..pick.n - 1)
        }
        PickKind::ReadFrom => 0,
    }
}

/// The seed of a policy's pick stream, derived from its seed.
pub(crate) fn pick_rng(seed: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed ^ 0x5bd1_e995_2c8f_3b71)
}

/// What a policy decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Run(TaskId),
    /// Replay only: the recorded task cannot run here.
    Diverged {
        expected: TaskId,
    },
}

/// A scheduling policy. One instance serves one execution; a seed fully determines it.
pub trait Scheduler {
    /// Picks the task to run at a choice point.
    fn choose(&mut self, point: &ChoicePoint<'_>) -> Choice;

    /// A new task was spawned (called for every task, including task 0).
    fn on_spawn(&mut self, _task: TaskId) {}

    /// Decides a [`Pick`]: a value in `0..n` (the whole `u64` range when `n` is 0). `None`
    /// means replay diverged. The default is a plain run's: a seeded draw for data, option 0
    /// (the longest waiter, no spurious wake-up) for what the scheduler owns.
    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        Some(default_pick(pick, data_rng))
    }

    /// Whether [`Scheduler::pick`] is the default for every pick but data draws (option 0):
    /// the execution then records those without asking (a wait is frequent, a virtual call
    /// on each one is not free).
    fn default_picks(&self) -> bool {
        false
    }

    /// [`Scheduler::pick`], told where it is taken: `at` is the running task and its progress
    /// (what shrinking keys directives on). Only the shrinker's schedulers need that.
    fn pick_at(&mut self, pick: Pick, _at: PointKey, data_rng: &mut fastrand::Rng) -> Option<u64> {
        self.pick(pick, data_rng)
    }

    /// Whether [`Scheduler::observe`] wants the points where only one task can run (the
    /// exhaustive search's partial-order reduction cuts the execution into steps there).
    /// Asked once per execution.
    fn observes_every_point(&self) -> bool {
        false
    }

    /// A scheduling point with a single task to run (`point.runnable` has one task), or the
    /// end of the execution (none, when no task can run any more): not a decision, nothing is
    /// recorded. Only called when [`Scheduler::observes_every_point`].
    fn observe(&mut self, _point: &ChoicePoint<'_>) {}

    /// Replay only: decisions of the recorded schedule not used yet. An execution that passes
    /// with decisions left over did not follow the schedule.
    fn remaining(&self) -> usize {
        0
    }
}

/// The non-preemptive round-robin choice: the current task goes on unless it yields; else
/// the next runnable task in id order (the first one when the current task cannot continue).
pub(crate) fn round_robin(p: &ChoicePoint<'_>) -> TaskId {
    match p.current {
        Some(cur) if !p.yielding => cur,
        cur => next_after(p.runnable, cur),
    }
}

/// The runnable task of highest priority (the lowest id among equals), for the priority-based
/// policies.
pub(crate) fn highest<P: Ord>(runnable: &[TaskId], priorities: &[P]) -> TaskId {
    let mut best = runnable[0];
    for &t in &runnable[1..] {
        if priorities[t as usize] > priorities[best as usize] {
            best = t;
        }
    }
    best
}

/// Round-robin successor of `current` among `runnable` (used for yields by several policies).
pub(crate) fn next_after(runnable: &[TaskId], current: Option<TaskId>) -> TaskId {
    match current {
        Some(cur) => *runnable.iter().find(|&&t| t > cur).unwrap_or(&runnable[0]),
        None => runnable[0],
    }
}
