//! Data races on non-atomic memory (`detest::cell::UnsafeCell`), found with the FastTrack
//! algorithm (Flanagan and Freund, PLDI 2009) over the task clocks of [`super::Memory`].
//!
//! Per cell: the last write, and the reads since it, each as the accessing task, that task's
//! own clock entry at the access (its epoch), the step and the caller's location. A write must
//! happen after the last write and after every read since; a read after the last write. The
//! reads kept are an antichain: a read that happens before a newer one is dropped, since
//! anything ordered after the newer one is ordered after it too. So with the usual patterns
//! (one task at a time, or readers under a lock) the list holds one or two entries.
//!
//! An access spans its guard's lifetime, as in loom: a `ConstPtr`/`MutPtr` (or the closure of
//! `with`/`with_mut`) that lives across a synchronisation is recorded again when it ends, with
//! the task's epoch then; and another task's access while one is live is a race, whatever the
//! clocks say (the live one may still dereference its pointer).
//!
//! All state lives across executions: cells are indexed by object id and cleared, keeping
//! their allocations, so an access allocates nothing once a sweep's first executions ran.

use super::VectorClock;
use std::panic::Location;

/// Reading or writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessKind {
    Read,
    Write,
}

/// One access to a cell.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Access {
    pub kind: AccessKind,
    pub task: u32,
    /// The task's own clock entry at the access.
    pub epoch: u32,
    /// Scheduling steps taken before the access (as `Failure::steps` counts them).
    pub step: u64,
    pub location: &'static Location<'static>,
}

impl Access {
    /// Whether this access happens before the present point of `task`, whose clock is `clock`
    /// (FastTrack's epoch test; see `memory`'s docs for why it is strict).
    #[inline]
    fn happens_before(&self, task: u32, clock: &VectorClock) -> bool {
        self.task == task || clock.get(self.task as usize) > self.epoch
    }
}

/// Two conflicting accesses with no happens-before between them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Race {
    /// The access recorded before.
    pub earlier: Access,
    /// Whether `earlier` was still live (its guard not dropped) at `later`.
    pub live: bool,
    /// The access that found the race.
    pub later: Access,
}

/// What an access found.
#[derive(Debug)]
pub(crate) enum Outcome {
    Ok,
    Race(Race),
    /// The task accesses a cell while an access of its own conflicts and is still live (a
    /// `with_mut` inside a `with` of the same cell): no race, but aliasing a `&mut` (loom
    /// panics too). Carries the live access.
    Overlap(Access),
}

#[derive(Default)]
struct Cell {
    last_write: Option<Access>,
    /// Reads since `last_write`, none happening before another.
    reads: Vec<Access>,
    /// The write whose guard is live, if any.
    writing: Option<Access>,
    /// Reads whose guards are live.
    reading: Vec<Access>,
}

impl Cell {
    fn clear(&mut self) {
        self.last_write = None;
        self.reads.clear();
        self.writing = None;
        self.reading.clear();
    }

    /// The happens-before checks of an access (not the live ones), against what was recorded.
    #[inline]
    fn check(&self, a: &Access, clock: &VectorClock) -> Option<Access> {
        if let Some(w) = &self.last_write {
            if !w.happens_before(a.task, clock) {
                return Some(*w);
            }
        }
        if a.kind == AccessKind::Write {
            return self
                .reads
                .iter()
                .find(|r| !r.happens_before(a.task, clock))
                .copied();
        }
        None
    }

    /// Records `a` as the latest access of its kind (after [`Cell::check`] passed).
    #[inline]
    fn note(&mut self, a: Access, clock: &VectorClock) {
        match a.kind {
            AccessKind::Write => {
                self.reads.clear();
                self.last_write = Some(a);
            }
            AccessKind::Read => {
                self.reads.retain(|r| !r.happens_before(a.task, clock));
                self.reads.push(a);
            }
        }
    }
}

/// The cells of an execution.
#[derive(Default)]
pub(crate) struct Races {
    /// By object id (other objects' slots stay empty).
    cells: Vec<Cell>,
    /// Slots used this execution (the rest are clear).
    used: usize,
}

impl Races {
    /// Forgets the last execution, keeping every allocation.
    pub(crate) fn reset(&mut self) {
        for c in &mut self.cells[..self.used] {
            c.clear();
        }
        self.used = 0;
    }

    #[inline]
    fn cell(&mut self, id: u32) -> &mut Cell {
        let i = id as usize;
        if i >= self.cells.len() {
            self.cells.resize_with(i + 1, Cell::default);
        }
        self.used = self.used.max(i + 1);
        &mut self.cells[i]
    }

    /// An access to cell `id` begins, by `a.task` whose clock is `clock`. Unless it races, it
    /// is recorded and stays live until [`Races::end`].
    #[inline]
    pub(crate) fn begin(&mut self, id: u32, a: Access, clock: &VectorClock) -> Outcome {
        let cell = self.cell(id);
        // Live accesses that conflict with this one: a live write, or live reads for a write.
        // (Usually none is live: the scan is skipped.)
        if cell.writing.is_some() || a.kind == AccessKind::Write && !cell.reading.is_empty() {
            let (mut other, mut own) = (None, None);
            let reads = cell.reading.iter().filter(|_| a.kind == AccessKind::Write);
            for l in cell.writing.iter().chain(reads) {
                let slot = if l.task == a.task {
                    &mut own
                } else {
                    &mut other
                };
                slot.get_or_insert(*l);
            }
            if let Some(earlier) = other {
                return Outcome::Race(Race {
                    earlier,
                    live: true,
                    later: a,
                });
            }
            if let Some(l) = own {
                return Outcome::Overlap(l);
            }
        }
        if let Some(earlier) = cell.check(&a, clock) {
            return Outcome::Race(Race {
                earlier,
                live: false,
                later: a,
            });
        }
        cell.note(a, clock);
        match a.kind {
            AccessKind::Write => cell.writing = Some(a),
            AccessKind::Read => cell.reading.push(a),
        }
        Outcome::Ok
    }

    /// `task`'s live `kind` access to cell `id` ends, at epoch `epoch` of the task: it is
    /// recorded again with that epoch, as loom does, so what the task did after a
    /// synchronisation during the access is not taken as published by it. (No check is needed:
    /// while the access was live, any conflicting access of another task was a race at its
    /// `begin`, and the task's clock only grew since its own.) `record`: false while unwinding,
    /// when the access is only taken off the live ones. A guard cannot leave its task (it holds
    /// a raw pointer, so it is not `Send`), so the task identifies it; of a task's nested reads,
    /// the latest ends first.
    #[inline]
    pub(crate) fn end(
        &mut self,
        id: u32,
        kind: AccessKind,
        task: u32,
        epoch: u32,
        clock: &VectorClock,
        record: bool,
    ) {
        let cell = self.cell(id);
        let begun = match kind {
            AccessKind::Write => cell.writing.take(),
            // Usually the latest live read is this one (no other task read meanwhile).
            AccessKind::Read if cell.reading.last().is_some_and(|l| l.task == task) => {
                cell.reading.pop()
            }
            AccessKind::Read => cell
                .reading
                .iter()
                .rposition(|l| l.task == task)
                .map(|i| cell.reading.remove(i)),
        };
        let Some(begun) = begun else { return };
        if record && epoch != begun.epoch {
            let a = Access { epoch, ..begun };
            debug_assert!(cell.check(&a, clock).is_none());
            cell.note(a, clock);
        }
    }
}

impl super::Memory {
    /// `a.task` begins access `a` to cell `id` (see [`Races::begin`]). A cell access needs the
    /// clocks: the memory model tracks eagerly from the first one on.
    #[inline]
    pub(crate) fn cell_begin(&mut self, id: u32, a: Access) -> Outcome {
        self.track();
        self.races.begin(id, a, self.clocks.clock(a.task))
    }

    /// `task`'s live `kind` access to cell `id` ends (see [`Races::end`]).
    #[inline]
    pub(crate) fn cell_end(&mut self, id: u32, kind: AccessKind, task: u32, record: bool) {
        self.track();
        let clock = self.clocks.clock(task);
        self.races
            .end(id, kind, task, clock.get(task as usize), clock, record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(entries: &[(usize, u32)]) -> VectorClock {
        let mut c = VectorClock::new();
        for &(t, v) in entries {
            c.set(t, v);
        }
        c
    }

    #[track_caller]
    fn access(kind: AccessKind, task: u32, epoch: u32) -> Access {
        Access {
            kind,
            task,
            epoch,
            step: 0,
            location: Location::caller(),
        }
    }

    fn done(r: &mut Races, a: Access, c: &VectorClock) -> Outcome {
        let o = r.begin(1, a, c);
        if matches!(o, Outcome::Ok) {
            r.end(1, a.kind, a.task, a.epoch, c, true);
        }
        o
    }

    #[test]
    fn unordered_write_after_read_races_ordered_does_not() {
        let mut r = Races::default();
        // Task 1 reads at epoch 2.
        assert!(matches!(
            done(&mut r, access(AccessKind::Read, 1, 2), &clock(&[(1, 2)])),
            Outcome::Ok
        ));
        // Task 2 has seen task 1 up to epoch 2 only: not after the read.
        let c2 = clock(&[(1, 2), (2, 1)]);
        match done(&mut r, access(AccessKind::Write, 2, 1), &c2) {
            Outcome::Race(race) => {
                assert_eq!(race.earlier.task, 1);
                assert_eq!(race.earlier.kind, AccessKind::Read);
                assert!(!race.live);
            }
            o => panic!("{o:?}"),
        }
        // Having seen epoch 3 of task 1, it is after the read.
        let c2 = clock(&[(1, 3), (2, 1)]);
        assert!(matches!(
            done(&mut r, access(AccessKind::Write, 2, 1), &c2),
            Outcome::Ok
        ));
        // A read by task 1 that has not seen the write races with it.
        assert!(matches!(
            done(&mut r, access(AccessKind::Read, 1, 3), &clock(&[(1, 3)])),
            Outcome::Race(_)
        ));
    }

    #[test]
    fn concurrent_reads_do_not_race_and_a_live_write_does() {
        let mut r = Races::default();
        assert!(matches!(
            done(&mut r, access(AccessKind::Read, 1, 1), &clock(&[(1, 1)])),
            Outcome::Ok
        ));
        assert!(matches!(
            done(&mut r, access(AccessKind::Read, 2, 1), &clock(&[(2, 1)])),
            Outcome::Ok
        ));
        r.reset();
        let w = access(AccessKind::Write, 1, 1);
        assert!(matches!(r.begin(1, w, &clock(&[(1, 1)])), Outcome::Ok));
        // Task 2 has seen the write's epoch, but the write is still live.
        let c2 = clock(&[(1, 5), (2, 1)]);
        assert!(matches!(
            r.begin(1, access(AccessKind::Read, 2, 1), &c2),
            Outcome::Race(Race { live: true, .. })
        ));
        // Its own task nesting a read in it overlaps.
        assert!(matches!(
            r.begin(1, access(AccessKind::Read, 1, 1), &clock(&[(1, 1)])),
            Outcome::Overlap(_)
        ));
    }
}
