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

pub use dfs::{Dfs, DfsTree};
pub use first_release::FirstRelease;
pub(crate) use guided::Recording;
pub use guided::{Directive, Guided, PointKey};
pub use pct::Pct;
pub use portfolio::Portfolio;
pub use pos::Pos;
pub use random::RandomWalk;
pub use replay::Replay;
pub use rotate::Rotate;
pub use round_robin::RoundRobin;

use crate::trace::Op;

/// A task id: tasks are numbered in spawn order from 0 (the test body).
pub type TaskId = u32;

/// The operation a runnable task will perform when it next runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingOp {
    pub op: Op,
    /// Per-execution object id (0 when the operation touches no shared object).
    pub object: u32,
}

/// What a policy sees at a choice point.
pub struct ChoicePoint<'a> {
    /// The runnable tasks offered, sorted by id; always at least two. Tasks that spin on values
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickKind {
    /// A `detest::rand` value.
    Data,
    /// Which of `n` waiters a wake-up goes to (0: the one that has waited longest).
    Waiter,
    /// Whether a wait returns without a wake-up (`n` is 2; 1: spuriously).
    Spurious,
    /// Which of `n` tasks at a barrier is its leader (0: the last to arrive).
    Leader,
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
