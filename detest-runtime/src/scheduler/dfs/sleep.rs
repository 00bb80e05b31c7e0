//! Sleep sets (Godefroid): after the subtree where task `a` ran first from a state has been
//! explored, a sibling branch where `b` runs first need not run `a` next if `a`'s step commutes
//! with `b`'s: that interleaving is equivalent to one already explored. `a` stays asleep down
//! the branch until a step that does not commute with it runs.
//!
//! What a step does is judged conservatively. The unit the tree branches on is a *segment*:
//! from a task choice to the next one. A segment's footprint is one object only when it is
//! provably that task's single pending operation and nothing else:
//! - the operation is on an object (id != 0) and of a kind whose effects stay on that object:
//!   atomic load / store / read-modify-write, mutex lock and try_lock, rwlock read / write /
//!   try, channel send / recv;
//! - the task passed exactly one scheduling point since (the one that ends the segment, or the
//!   block inside the operation), so no `after` point (an unlock, a notify), spawn or poll ran
//!   in between; no other task passed one (no forced switch); no pick was made;
//! - the segment ends at the task's next `before` point (not a release, not a yield), or with
//!   the task blocked inside an operation that can block, or with a spawned task finished
//!   without passing another point (finishing only wakes joiners, and joins are unknown; the
//!   body's end is unknown: it ends the execution).
//!
//! A segment of a task resumed after an `after` point or a yield, or just started, performed
//! nothing pending: if it reaches its next `before` point (or finishes) alone it is `Local`
//! and commutes with everything. Everything else is `Unknown` and commutes with nothing: condvar waits (they release a
//! mutex), parks, joins, sleeps, fences, yields, unlocks, notifies, once, barriers, segments
//! with draws. Two footprints commute when their objects differ, or both are atomic loads.
//! Object ids are safe to compare across executions: a pending operation's object got its id
//! when the task reached its point, before the state the sleep set belongs to, and executions
//! with a common prefix assign ids identically.

use crate::scheduler::{ChoicePoint, PendingOp, TaskId};
use crate::trace::Op;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Footprint {
    Unknown,
    /// Touched nothing shared: a task resumed after a release or yield (or just started)
    /// that ran only its own code up to its next `before` point.
    Local,
    Object {
        id: u32,
        read: bool,
    },
}

impl Footprint {
    pub(super) fn independent(self, other: Footprint) -> bool {
        match (self, other) {
            (Footprint::Object { id: a, read: ra }, Footprint::Object { id: b, read: rb }) => {
                a != b || (ra && rb)
            }
            (Footprint::Local, _) | (_, Footprint::Local) => true,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Sleeping {
    pub(super) task: TaskId,
    pub(super) footprint: Footprint,
}

/// A running segment: what was known when its task was chosen.
#[derive(Clone, Copy, Debug)]
pub(super) struct Segment {
    /// The tree node whose choice started it.
    pub(super) node: usize,
    task: TaskId,
    pending: PendingOp,
    progress: u32,
    others: u64,
    pub(super) picked: bool,
}

fn others_progress(p: &ChoicePoint<'_>, task: TaskId) -> u64 {
    let all: u64 = p.progress.iter().map(|&n| u64::from(n)).sum();
    all - u64::from(p.progress[task as usize])
}

impl Segment {
    pub(super) fn start(node: usize, task: TaskId, p: &ChoicePoint<'_>) -> Self {
        Segment {
            node,
            task,
            pending: p.pending[task as usize],
            progress: p.progress[task as usize],
            others: others_progress(p, task),
            picked: false,
        }
    }

    /// The footprint of the segment that ends at `p` (see the module docs).
    pub(super) fn footprint(&self, p: &ChoicePoint<'_>) -> Footprint {
        let t = self.task;
        let PendingOp { op, object } = self.pending;
        let same_others = !self.picked && p.last == t && others_progress(p, t) == self.others;
        let passed = p
            .progress
            .get(t as usize)
            .map(|&n| n.wrapping_sub(self.progress));
        let at_next_point = passed == Some(1) && p.current == Some(t) && !p.released && !p.yielding;
        // A spawned task that returned without passing a point: finishing only wakes its
        // joiners (joins are unknown steps). The body's end is not: it ends the execution.
        let finished = passed == Some(0)
            && t != 0
            && p.current.is_none()
            && p.runnable.binary_search(&t).is_err();
        if !same_others {
            return Footprint::Unknown;
        }
        // Suspended at an `after` point (the operation was done before it) or never run:
        // nothing is pending, so up to the next `before` point only the task's own code ran.
        if object == 0 && matches!(op, Op::Yield | Op::Spawn) {
            return if at_next_point || finished {
                Footprint::Local
            } else {
                Footprint::Unknown
            };
        }
        let contained = matches!(
            op,
            Op::Load
                | Op::Store
                | Op::Rmw
                | Op::Lock
                | Op::TryLock
                | Op::Read
                | Op::Write
                | Op::Send
                | Op::Recv
        );
        if object == 0 || !contained {
            return Footprint::Unknown;
        }
        // Blocked inside the operation (blocking counts as the one point passed).
        let blocked = passed == Some(1)
            && p.current.is_none()
            && matches!(op, Op::Lock | Op::Read | Op::Write | Op::Send | Op::Recv)
            && p.runnable.binary_search(&t).is_err();
        if !(at_next_point || blocked || finished) {
            return Footprint::Unknown;
        }
        Footprint::Object {
            id: object,
            read: op == Op::Load,
        }
    }
}
