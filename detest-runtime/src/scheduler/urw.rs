use super::{
    exploring_pick, pick_rng, Choice, ChoicePoint, PendingOp, Pick, RandomWalk, Scheduler, TaskId,
};
use crate::trace::Op;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Selectively uniform random walk, SURW (Zhao, Wolff, Mathur, Roychoudhury, "Selectively
/// Uniform Concurrency Testing", ASPLOS'25; shuttle 0.9.9's `check_urw`): at a choice point,
/// each runnable task is chosen with probability proportional to the number of events it has
/// left. For a program without blocking, whose event counts are known, that samples every
/// interleaving of those events with the same probability, where a random walk (uniform per
/// point) favours the orders that finish the short tasks first: a random walk puts a task of
/// one event before all 25 events of another half the time, URW once in 26.
///
/// The counts come from a probe: one random-walk execution, seed-independent (see
/// [`EventEstimate`] and `Config::estimate_events`), so every seed's execution stays a function
/// of the seed and the program. A task's count includes the events of the tasks it will spawn
/// (the paper's rule, as in shuttle): before a child exists its events can only happen after
/// the parent's spawn, and the parent must carry their weight until then.
///
/// Selective: only events on a shared object count (a lock, an atomic, a channel, ...; not a
/// spawn, join, finish or yield), the subset whose orders decide a program's outcome. Weighting
/// by every scheduling point would give a task with many thread-local points (joins, yields)
/// weight for orders that cannot differ. A task whose next step counts for nothing (its start,
/// a join, its finish) runs before any weighed choice: that step orders no counted event.
/// Every runnable task keeps a weight of at least one, so no interleaving becomes unreachable
/// when an estimate is short.
pub struct Urw {
    state: u64,
    estimate: EventEstimate,
    /// Counted events each task has left (its own and its unspawned descendants'), by task id.
    remaining: Vec<u32>,
    /// The task that runs between points (the spawner, when a task is spawned).
    running: TaskId,
    picks: fastrand::Rng,
}

/// Whether an event counts for URW's weights (the selective subset): an operation on a
/// shared object. A join's object is a task id, not an object (see `PendingOp::object`).
fn counts(op: PendingOp) -> bool {
    op.object != 0 && op.op != Op::Join
}

/// Whether a step is run before any weighed choice: a task's start, a join, a finish, which
/// touch nothing another task can observe but through the join itself. Not a yield or a sleep:
/// two spinners that yield would hand the turn to each other for ever.
fn free(op: PendingOp) -> bool {
    matches!(op.op, Op::Spawn | Op::Join | Op::Finish)
}

impl Urw {
    /// An empty `estimate` (no probe was run) weighs every task alike: a random walk.
    pub fn new(seed: u64, estimate: EventEstimate) -> Self {
        Urw {
            state: seed,
            estimate,
            remaining: Vec::new(),
            running: 0,
            picks: pick_rng(seed),
        }
    }

    fn weight(&self, task: TaskId) -> u64 {
        u64::from(self.remaining[task as usize].max(1))
    }

    /// Uniform in `0..n` (the random walk's generator: wyrand, then a multiply-shift).
    fn below(&mut self, n: u64) -> u64 {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        let x = (t as u64) ^ ((t >> 64) as u64);
        ((u128::from(x) * u128::from(n)) >> 64) as u64
    }

    /// `task` runs next and performs `op`.
    fn ran(&mut self, task: TaskId, op: PendingOp) {
        self.running = task;
        if counts(op) {
            let left = &mut self.remaining[task as usize];
            *left = left.saturating_sub(1);
        }
    }
}

impl Scheduler for Urw {
    fn on_spawn(&mut self, task: TaskId) {
        debug_assert_eq!(task as usize, self.remaining.len());
        let events = self.estimate.of_task(task);
        if task != 0 {
            // The child's events leave the parent's count: from now on they are the child's.
            let parent = &mut self.remaining[self.running as usize];
            *parent = parent.saturating_sub(events);
        }
        self.remaining.push(events);
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        // A yielding task gives way when anyone else can run (spin-with-yield loops progress).
        let skip = p
            .current
            .filter(|c| p.yielding && p.runnable.binary_search(c).is_ok());
        // A task whose next step is free (see `free`) runs first: that step orders no counted
        // event, and were it weighed like one, a short task would need to win twice (its
        // start, then its event) and come late too often. The running task first, so that
        // such a step is no preemption (when it is offered: a task that gives way is not).
        let free = |t: &TaskId| {
            Some(*t) != skip && free(p.pending[*t as usize]) && p.runnable.binary_search(t).is_ok()
        };
        if let Some(t) = p
            .current
            .filter(free)
            .or_else(|| p.runnable.iter().copied().find(free))
        {
            self.running = t;
            return Choice::Run(t);
        }
        let total: u64 = p
            .runnable
            .iter()
            .filter(|&&t| Some(t) != skip)
            .map(|&t| self.weight(t))
            .sum();
        let mut draw = self.below(total);
        let mut chosen = p.runnable[0];
        for &t in p.runnable.iter().filter(|&&t| Some(t) != skip) {
            let w = self.weight(t);
            if draw < w {
                chosen = t;
                break;
            }
            draw -= w;
        }
        self.ran(chosen, p.pending[chosen as usize]);
        Choice::Run(chosen)
    }

    fn observes_every_point(&self) -> bool {
        // Events at points with one runnable task count too (they are done, not left).
        true
    }

    fn observe(&mut self, p: &ChoicePoint<'_>) {
        if let Some(&t) = p.runnable.first() {
            self.ran(t, p.pending[t as usize]);
        }
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        Some(exploring_pick(pick, &mut self.picks, data_rng))
    }
}

/// URW's event counts of one program: for each task (by id, in spawn order), the counted
/// events it and its descendants perform, measured by a probe execution
/// (`Config::estimate_events`). Cheap to clone (shared).
///
/// ```
/// use detest::{sync::atomic::{AtomicU32, Ordering::SeqCst}, sync::Arc, thread, Config, Policy};
///
/// let body = || {
///     let n = Arc::new(AtomicU32::new(0));
///     let n2 = n.clone();
///     let child = thread::spawn(move || {
///         n2.fetch_add(1, SeqCst);
///         n2.fetch_add(1, SeqCst);
///     });
///     n.store(5, SeqCst);
///     child.join().unwrap();
/// };
/// let estimate = Config::new().policy(Policy::Urw).estimate_events(&body);
/// // Task 0 (main): its store and its child's two adds; task 1: its two adds.
/// assert_eq!(estimate.tasks(), &[3, 2]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventEstimate {
    events: Arc<[u32]>,
    /// For a task the probe never spawned: the fewest events of a task it did spawn (as
    /// shuttle does: an unseen task is most likely a short one).
    unseen: u32,
}

impl EventEstimate {
    /// The estimate of each task the probe spawned, by task id.
    pub fn tasks(&self) -> &[u32] {
        &self.events
    }

    fn of_task(&self, task: TaskId) -> u32 {
        self.events
            .get(task as usize)
            .copied()
            .unwrap_or(self.unseen)
    }

    /// Folds each task's own events into its ancestors'. Parents have lower ids than their
    /// children (ids are given in spawn order), so one pass from the last task up suffices.
    fn from_tally(tally: &Tally) -> Self {
        let mut events = tally.own.clone();
        for child in (1..events.len()).rev() {
            if let Some(parent) = tally.parent[child] {
                events[parent as usize] += events[child];
            }
        }
        let unseen = events.iter().skip(1).copied().min().unwrap_or(1).max(1);
        EventEstimate {
            events: events.into(),
            unseen,
        }
    }
}

/// What the probe saw: each task's own counted events and its parent.
#[derive(Default)]
struct Tally {
    own: Vec<u32>,
    parent: Vec<Option<TaskId>>,
    running: TaskId,
}

impl Tally {
    fn ran(&mut self, task: TaskId, op: PendingOp) {
        self.running = task;
        self.own[task as usize] += u32::from(counts(op));
    }
}

/// The probe URW's estimate comes from: a random walk of the given seed (its decisions are
/// exactly [`RandomWalk`]'s, so the probe replays as `random` with that seed) that counts each
/// task's events as they happen.
pub(crate) struct UrwProbe {
    walk: RandomWalk,
    tally: Rc<RefCell<Tally>>,
}

/// Reads the estimate after the probe ran (the probe itself is consumed by the execution).
pub(crate) struct ProbeResult(Rc<RefCell<Tally>>);

impl ProbeResult {
    pub(crate) fn estimate(&self) -> EventEstimate {
        EventEstimate::from_tally(&self.0.borrow())
    }
}

impl UrwProbe {
    pub(crate) fn new(seed: u64) -> (Self, ProbeResult) {
        let tally = Rc::new(RefCell::new(Tally::default()));
        let probe = UrwProbe {
            walk: RandomWalk::new(seed),
            tally: tally.clone(),
        };
        (probe, ProbeResult(tally))
    }
}

impl Scheduler for UrwProbe {
    fn on_spawn(&mut self, task: TaskId) {
        let mut t = self.tally.borrow_mut();
        let parent = (task != 0).then_some(t.running);
        t.own.push(0);
        t.parent.push(parent);
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        let choice = self.walk.choose(p);
        if let Choice::Run(t) = choice {
            self.tally.borrow_mut().ran(t, p.pending[t as usize]);
        }
        choice
    }

    fn observes_every_point(&self) -> bool {
        true
    }

    fn observe(&mut self, p: &ChoicePoint<'_>) {
        if let Some(&t) = p.runnable.first() {
            self.tally.borrow_mut().ran(t, p.pending[t as usize]);
        }
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        self.walk.pick(pick, data_rng)
    }
}
