//! Sleep sets (Godefroid): after the subtree where task `a` ran first from a state has been
//! explored, a sibling branch where `b` runs first need not run `a` next if `a`'s step commutes
//! with `b`'s: that interleaving is equivalent to one already explored. `a` stays asleep down
//! the branch until a step that does not commute with it runs.
//!
//! What a step does is judged conservatively. The unit the tree branches on is a *segment*:
//! from a task choice to the next scheduling point (under DPOR every point ends one, see
//! `Scheduler::observe`; otherwise the next choice). A segment's footprint is one object only
//! when it is provably that task's single pending operation and nothing else:
//! - the operation is on an object (id != 0) and of a kind whose effects stay on that object:
//!   atomic load / store / read-modify-write, mutex lock and try_lock, rwlock read / write /
//!   try, channel send / recv, an unlock resumed at its point inside the critical section;
//! - the task passed exactly one scheduling point since (the one that ends the segment, or the
//!   block inside the operation), so no other `after` point (a notify), spawn or poll ran in
//!   between; no other task passed one (no forced switch); no pick was made;
//! - the segment ends at the task's next `before` point (not a yield), or at the point right
//!   after an unlock (the unlock that closes a critical section has no point of its own, so
//!   the segment also wrote that lock: `unlocked`), or with the task blocked inside an
//!   operation that can block, or with the task finished without passing another point.
//!
//! A join is known too: its object is the joined task, and it depends only on that task's
//! end (`finishes`). A segment of a task resumed after an `after` point or a yield, or just
//! started, performed nothing pending: if it reaches its next `before` point (or finishes)
//! alone it is `Local` and commutes with everything (after an unlock: it wrote that lock).
//! Everything else is `Unknown` and commutes with nothing: condvar waits (they release a
//! mutex), notifies, parks, sleeps, fences, yields, once, barriers, segments with draws, the
//! end of the test body while others run. Two footprints commute when their objects differ,
//! or both are atomic loads, and no join meets the end of its task.
//! Object ids are safe to compare across executions: a pending operation's object got its id
//! when the task reached its point, before the state the sleep set belongs to, and executions
//! with a common prefix assign ids identically.

use crate::scheduler::{ChoicePoint, PendingOp, TaskId};
use crate::trace::Op;

/// What a segment touched, and whether its task finished in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Footprint {
    pub(super) access: Access,
    /// A lock released at the segment's end (0: none): the unlock that closes a critical
    /// section has no point of its own, so it belongs to the segment before it.
    pub(super) unlocked: u32,
    /// The task returned in this segment (its id + 1; 0: it did not): a join of it sees that.
    pub(super) finishes: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    Unknown,
    /// Touched nothing shared: a task resumed after a release or yield (or just started)
    /// that ran only its own code up to its next `before` point.
    Local,
    Object {
        id: u32,
        read: bool,
    },
    /// A join of `task` that returned or (`blocked`) found it running: it reads only
    /// whether that task has finished, and takes its clock, fixed once it has.
    Join {
        task: u32,
        blocked: bool,
    },
}

impl Footprint {
    pub(super) const UNKNOWN: Footprint = Footprint::of(Access::Unknown);

    pub(super) const fn of(access: Access) -> Footprint {
        Footprint {
            access,
            unlocked: 0,
            finishes: 0,
        }
    }

    /// A join that found its task running: it changed nothing (the task retries when woken),
    /// so reordering it after the task's end reaches the same state, and DPOR leaves it out
    /// of races and happens-before. For sleep sets it still depends on that end: a joiner
    /// asleep on an explored blocked join must wake when the task ends, since its join then
    /// returns instead.
    pub(super) fn blocked_join(self) -> bool {
        matches!(self.access, Access::Join { blocked: true, .. })
    }

    /// A join that returned, after the end `self` of its task: the two cannot be reordered.
    pub(super) fn joined_by(self, later: Footprint) -> bool {
        matches!(later.access, Access::Join { task, blocked: false } if task + 1 == self.finishes)
    }

    pub(super) fn independent(self, other: Footprint) -> bool {
        let sees = |a: Footprint, b: Footprint| matches!(a.access, Access::Join { task, .. } if task + 1 == b.finishes);
        let join_sees_finish = sees(self, other) || sees(other, self);
        let unlock_conflicts = |a: Footprint, b: Footprint| {
            a.unlocked != 0
                && (b.unlocked == a.unlocked
                    || !b.access.independent(Access::Object {
                        id: a.unlocked,
                        read: false,
                    }))
        };
        !join_sees_finish
            && self.access.independent(other.access)
            && !unlock_conflicts(self, other)
            && !unlock_conflicts(other, self)
    }
}

impl Access {
    fn independent(self, other: Access) -> bool {
        match (self, other) {
            (Access::Object { id: a, read: ra }, Access::Object { id: b, read: rb }) => {
                a != b || (ra && rb)
            }
            // Local touches nothing shared.
            (Access::Local, _) | (_, Access::Local) => true,
            (Access::Unknown, _) | (_, Access::Unknown) => false,
            // A join reads only task states, which no access changes.
            _ => true,
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
    pub(super) task: TaskId,
    pending: PendingOp,
    progress: u32,
    others: u64,
    pub(super) picked: bool,
    /// Tasks that existed when it started.
    pub(super) tasks: usize,
    clock_moves: u32,
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
            tasks: p.pending.len(),
            clock_moves: p.clock_moves,
        }
    }

    /// The footprint of the segment that ends at `p` (see the module docs).
    pub(super) fn footprint(&self, p: &ChoicePoint<'_>) -> Footprint {
        let finishes = self.finished(p);
        let (access, unlocked) = self.access(p, finishes);
        let known = access != Access::Unknown;
        Footprint {
            finishes: if finishes && known { self.task + 1 } else { 0 },
            unlocked: if known { unlocked } else { 0 },
            access,
        }
    }

    /// The task returned without passing a point: it is gone (neither running nor runnable).
    /// Task 0's end counts only at the end of the execution (nobody can run): before, it ends
    /// the test body while others run on, which is unknown. (Async tasks ended with the body
    /// are not runnable at the end; DPOR treats their unexecuted steps as unknown.)
    pub(super) fn finished(&self, p: &ChoicePoint<'_>) -> bool {
        let t = self.task;
        let passed = p
            .progress
            .get(t as usize)
            .map(|&n| n.wrapping_sub(self.progress));
        passed == Some(0)
            && (t != 0 || p.runnable.is_empty())
            && p.current.is_none()
            && p.runnable.binary_search(&t).is_err()
    }

    /// What the segment accessed, and the lock it released at its end (0: none).
    fn access(&self, p: &ChoicePoint<'_>, finished: bool) -> (Access, u32) {
        let t = self.task;
        let PendingOp { op, object } = self.pending;
        // Virtual time jumping wakes sleepers and timed waits: not this segment's object.
        let same_others = !self.picked
            && p.last == t
            && others_progress(p, t) == self.others
            && p.clock_moves == self.clock_moves;
        let passed = p
            .progress
            .get(t as usize)
            .map(|&n| n.wrapping_sub(self.progress));
        let next_point = passed == Some(1) && p.current == Some(t) && !p.yielding;
        // Ended at the point right after an unlock: the unlock is this segment's last step.
        let unlocked = if next_point && p.released && p.release.op == Op::Unlock {
            p.release.object
        } else {
            0
        };
        let at_next_point = next_point && (!p.released || unlocked != 0);
        if !same_others {
            return (Access::Unknown, 0);
        }
        // Suspended at an `after` point (the operation was done before it) or never run:
        // nothing is pending, so up to the next `before` point only the task's own code ran.
        if object == 0 && matches!(op, Op::Yield | Op::Spawn) {
            return if unlocked != 0 {
                (
                    Access::Object {
                        id: unlocked,
                        read: false,
                    },
                    0,
                )
            } else if at_next_point || finished {
                (Access::Local, 0)
            } else {
                (Access::Unknown, 0)
            };
        }
        // Blocked inside the operation (blocking counts as the one point passed).
        let blocked = passed == Some(1)
            && p.current.is_none()
            && matches!(
                op,
                Op::Lock | Op::Read | Op::Write | Op::Send | Op::Recv | Op::Join
            )
            && p.runnable.binary_search(&t).is_err();
        if !(at_next_point || blocked || finished) {
            return (Access::Unknown, 0);
        }
        if op == Op::Join {
            // The object of a join is the joined task (see `points::before_join`).
            let access = Access::Join {
                task: object,
                blocked,
            };
            return (access, unlocked);
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
                | Op::Unlock
        );
        if object == 0 || !contained {
            return (Access::Unknown, 0);
        }
        let access = Access::Object {
            id: object,
            read: op == Op::Load && unlocked == 0,
        };
        (access, if unlocked == object { 0 } else { unlocked })
    }
}
