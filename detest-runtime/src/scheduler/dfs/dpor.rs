//! Dynamic partial-order reduction: source sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal
//! dynamic partial order reduction", POPL'14) with sleep sets, over the segments of one
//! execution.
//!
//! A node of the search starts with one option (the default order's choice). Each execution
//! records its *events*: the segments it ran (from one scheduling point to the next, whatever
//! the number of runnable tasks, see `Scheduler::observe`), each with its task, footprint and
//! a vector clock of the happens-before over the trace: program order plus every pair of
//! dependent events (footprints that do not commute, see `sleep.rs`). When an event `j` of task
//! `p` ends, each earlier event `e` of another task that it depends on and that does not
//! happen before `p`'s last event through the others is a *race*: the order of `e` and `j`
//! could be reversed. The search must then also explore, from the node where `e` was chosen,
//! one of the *initials* of `v` (the events after `e` that do not happen after it, then `j`:
//! the tasks whose first event in `v` has no predecessor in `v`), unless one of them is already
//! an option there or asleep. When none of them could run there (a task blocked then, or
//! giving way), every task that could is added, as classic DPOR (Flanagan, Godefroid, POPL'05)
//! does for a process that is not enabled.
//!
//! Where the algorithm's model and detest differ, the difference is made conservative:
//! - events are segments, and a segment whose effect is not provably one object is `Unknown`,
//!   dependent on everything (condvar waits, parks, unlocks, notifies, draws, ...);
//! - picks (which waiter wakes, spurious wake-ups, small data draws) stay nodes of the tree,
//!   enumerated whatever the reduction; a segment that made one is `Unknown`;
//! - the end of an execution is an event too: the segment still running is `Unknown`, and so
//!   is the unexecuted next step of every task that did not finish (blocked, or an async task
//!   ended with the body), so a task that never ran again still races with what ran before it;
//! - below a node whose every task is asleep the execution runs to its end along one path
//!   (detest cannot stop an execution midway): nothing is recorded there, as source-DPOR
//!   explores nothing from a sleep-blocked state;
//! - `UnsafeCell` accesses are no events (no scheduling points): a data race is decided by the
//!   task clocks, so it fails every schedule in which both accesses happen, whatever their
//!   order, and the orders happens-before imposes go through operations that are events;
//! - only the unbounded search is reduced (with a preemption bound, the equivalent schedule
//!   DPOR keeps may need more preemptions than the one it drops).

use super::sleep::Footprint;
use crate::scheduler::TaskId;

/// No tree node: an event that started at a point where only one task could run.
pub(super) const NO_NODE: usize = usize::MAX;

#[derive(Debug)]
struct Event {
    /// The tree node whose choice started it ([`NO_NODE`]: no choice).
    node: usize,
    task: TaskId,
    /// Its position among its task's events, from 1.
    local: u32,
    footprint: Footprint,
    /// Happens-before: `clock[t]` events of task `t` happen before it (itself included).
    clock: Vec<u32>,
}

/// The events of the running execution.
#[derive(Debug, Default)]
pub(super) struct Events {
    events: Vec<Event>,
    /// Each task's clock after its last event (or, before its first one, its parent's at the
    /// spawn).
    clocks: Vec<Vec<u32>>,
    finished: Vec<bool>,
}

/// A race found: the node to add an option to, the tasks to choose from (initials), and
/// whether one of them must be taken.
pub(super) struct Race {
    pub(super) node: usize,
    pub(super) initials: Vec<TaskId>,
}

fn get(clock: &[u32], t: TaskId) -> u32 {
    clock.get(t as usize).copied().unwrap_or(0)
}

fn join(into: &mut Vec<u32>, other: &[u32]) {
    if into.len() < other.len() {
        into.resize(other.len(), 0);
    }
    for (a, &b) in into.iter_mut().zip(other) {
        *a = (*a).max(b);
    }
}

impl Events {
    pub(super) fn clear(&mut self) {
        self.events.clear();
        self.clocks.clear();
        self.finished.clear();
    }

    fn grow(&mut self, tasks: usize) {
        if self.clocks.len() < tasks {
            self.clocks.resize(tasks, Vec::new());
            self.finished.resize(tasks, false);
        }
    }

    /// Records the event of `task` that started at `node` and touched `footprint`, and returns
    /// the races it closes. `tasks`: the number of tasks when it started and when it ended
    /// (the ones spawned during it start with its clock). `finished`: the task returned in it.
    pub(super) fn push(
        &mut self,
        node: usize,
        task: TaskId,
        footprint: Footprint,
        tasks: (usize, usize),
        finished: bool,
    ) -> Vec<Race> {
        self.grow(tasks.0.max(task as usize + 1));
        let (clock, races) = self.analyse(task, footprint);
        let local = get(&clock, task);
        let spawned = self.clocks.len();
        self.grow(tasks.1);
        for t in spawned..self.clocks.len() {
            self.clocks[t] = clock.clone();
        }
        self.finished[task as usize] |= finished;
        self.clocks[task as usize] = clock.clone();
        self.events.push(Event {
            node,
            task,
            local,
            footprint,
            clock,
        });
        races
    }

    /// The end of the execution: the running event (if any) and the next step of every task
    /// that did not finish, all unknown.
    pub(super) fn finish(&mut self, running: Option<(usize, TaskId)>) -> Vec<Race> {
        let mut races = Vec::new();
        if let Some((node, task)) = running {
            let tasks = self.clocks.len();
            races = self.push(node, task, Footprint::UNKNOWN, (tasks, tasks), true);
        }
        for t in 0..self.clocks.len() as TaskId {
            if !self.finished[t as usize] {
                races.extend(self.analyse(t, Footprint::UNKNOWN).1);
            }
        }
        races
    }

    /// The clock a new event of `task` with `footprint` gets, and its races.
    fn analyse(&self, task: TaskId, footprint: Footprint) -> (Vec<u32>, Vec<Race>) {
        let mut clock = self.clocks.get(task as usize).cloned().unwrap_or_default();
        let mut racing = Vec::new();
        // Latest first: an earlier event that happens before a later dependent one is ordered
        // with the new event through it, so it is no race of its own.
        // A join that found its task running changed nothing: it neither races nor orders
        // (it orders only for sleep sets, see `Footprint::blocked_join`).
        let events = if footprint.blocked_join() {
            &[][..]
        } else {
            &self.events[..]
        };
        for (i, e) in events.iter().enumerate().rev() {
            if e.task == task || e.footprint.blocked_join() || e.footprint.independent(footprint) {
                continue;
            }
            // A join that returned after the end of its task cannot come before it: ordered,
            // but no race.
            if !e.footprint.joined_by(footprint) && get(&clock, e.task) < e.local {
                racing.push(i);
            }
            join(&mut clock, &e.clock);
        }
        let own = get(&clock, task) + 1;
        if clock.len() <= task as usize {
            clock.resize(task as usize + 1, 0);
        }
        clock[task as usize] = own;
        let races = racing
            .into_iter()
            .filter(|&i| self.events[i].node != NO_NODE)
            .map(|i| Race {
                node: self.events[i].node,
                initials: self.initials(i, task, &clock),
            })
            .collect();
        (clock, races)
    }

    /// The tasks whose first event in `v` (the events after `e` that do not happen after it,
    /// then the new event of `task` with `clock`) has no predecessor in `v`.
    fn initials(&self, e: usize, task: TaskId, clock: &[u32]) -> Vec<TaskId> {
        let racer = &self.events[e];
        // The first event in `v` of each task met so far: (task, local index).
        let mut firsts: Vec<(TaskId, u32)> = Vec::new();
        let mut initials = Vec::new();
        let candidates = self.events[e + 1..]
            .iter()
            .filter(|k| get(&k.clock, racer.task) < racer.local && !k.footprint.blocked_join())
            .map(|k| (k.task, k.local, &k.clock[..]))
            .chain(std::iter::once((task, get(clock, task), clock)));
        for (t, local, k_clock) in candidates {
            if firsts.iter().any(|&(f, _)| f == t) {
                continue;
            }
            let preceded = firsts.iter().any(|&(f, l)| get(k_clock, f) >= l);
            firsts.push((t, local));
            if !preceded {
                initials.push(t);
            }
        }
        initials
    }
}
