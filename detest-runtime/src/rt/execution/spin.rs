//! Spinning: a task that keeps re-reading values nobody changes is descheduled, as an OS would
//! preempt it, so a correct spin-wait (`while !flag.load(Acquire) {}`, with or without
//! `spin_loop()` / `yield_now()`) passes under every policy and `explore` ends on it.
//!
//! A task *spins* when it re-reads an atomic (the same object at the same place in the code)
//! while nothing has changed anywhere since its previous read there: `State::changes` has not
//! moved, and the task itself has done nothing but such reads since. At its next choice point,
//! if it is about to read again (a load or read-modify-write of an object it just re-read, a
//! fence, a yield), it *gives way*: it is not offered to the policy while any task that does
//! not give way can run, until `changes` moves.
//!
//! Why giving way loses no outcome of a spin-wait: the re-read brought back a state the
//! execution was already in (the same shared values, the task at the same read, nothing
//! written since), so everything that can happen from here could already happen from there;
//! running the spinner again before anything changes only repeats that state. As soon as any
//! task changes anything (`changes` moves), the spinner is offered again, at every later choice
//! point, so it can observe every intermediate value. What it can lose: a loop that counts its
//! own iterations (spin 100 times, then park) is in a different local state on each round, and
//! the rounds it would have spun with nobody else running are not explored; the
//! give-up-and-park path is still reached once the others are blocked or done. A yield that
//! follows no re-read (`x.store(1); yield_now(); x.store(2)`) is a plain choice point, where
//! the yielder may also go on, so every interleaving of straight-line code stays reachable.
//!
//! Everything here is derived from the execution itself, so recorded schedules replay exactly.

use super::*;

/// Reads a task remembers per window: a spin-wait polls one or two flags; a loop reading more
/// distinct atomics than this is not recognised (it runs, it just is not descheduled).
const READS: usize = 4;

/// A task's reads since `State::changes` last moved.
#[derive(Clone, Copy)]
pub(super) struct Spin {
    /// `State::changes` when the reads below began (u64::MAX: none yet).
    window: u64,
    /// (location, object) of each read in the window.
    reads: [(*const Location<'static>, u32); READS],
    len: u8,
    /// The last read re-read one of `reads`.
    repeated: bool,
    /// `State::changes` at which the task gave way (u64::MAX: it does not).
    gives_way: u64,
}

impl Default for Spin {
    fn default() -> Self {
        Spin {
            window: u64::MAX,
            reads: [(std::ptr::null(), 0); READS],
            len: 0,
            repeated: false,
            gives_way: u64::MAX,
        }
    }
}

impl Spin {
    fn has_read(&self, object: u32) -> bool {
        self.reads[..self.len as usize]
            .iter()
            .any(|&(_, o)| o == object)
    }

    /// Where the task re-reads (for the step-limit message).
    fn location(&self) -> Option<&'static Location<'static>> {
        let (loc, _) = *self.reads[..self.len as usize].last()?;
        // SAFETY: only `&'static Location` references are stored.
        Some(unsafe { &*loc })
    }
}

impl State {
    /// Something another task may observe happened (a value-changing write, a lock, a send, a
    /// spawn, a task ending, the clock moving): every spinner may see something new.
    #[inline(always)]
    pub(super) fn changed(&mut self) {
        self.changes += 1;
    }

    /// The current task read `object` at `location` and learnt nothing new if it read it there
    /// already in this window.
    #[inline]
    pub(super) fn read_at(&mut self, task: TaskId, object: u32, location: &'static Location) {
        let changes = self.changes;
        let s = &mut self.spin[task as usize];
        let key = (location as *const Location<'static>, object);
        if s.window != changes {
            s.window = changes;
            s.reads[0] = key;
            s.len = 1;
            s.repeated = false;
            return;
        }
        // Pointer identity of the location: one call site, one static (a site duplicated by
        // codegen is merely not recognised).
        s.repeated = s.reads[..s.len as usize]
            .iter()
            .any(|&(l, o)| o == object && std::ptr::eq(l, key.0));
        if s.repeated {
            self.repeated = changes;
        } else if (s.len as usize) < READS {
            s.reads[s.len as usize] = key;
            s.len += 1;
        }
    }

    /// Whether `task`'s last read re-read a location with nothing changed since it read it
    /// there (it spins): a weak load then reads the newest store, so a spin-wait sees every
    /// store in finite time.
    #[inline]
    pub(super) fn rereading(&self, task: TaskId) -> bool {
        let s = &self.spin[task as usize];
        s.repeated && s.window == self.changes
    }

    /// An atomic operation's outcome: a write that changed the value, or a read (a load, a
    /// failed or value-preserving read-modify-write).
    #[inline]
    pub(super) fn accessed(
        &mut self,
        task: TaskId,
        object: u32,
        location: &'static Location,
        changed: bool,
    ) {
        if changed {
            self.changed();
        } else {
            self.read_at(task, object, location);
        }
    }

    /// Whether `task`, at its choice point (its operation pending), gives way; marks it if so.
    #[inline(always)]
    pub(super) fn gives_way(&mut self, task: TaskId) -> bool {
        let changes = self.changes;
        // The common case, without touching the task: no re-read since the last change (so
        // no mark is current either).
        if self.repeated != changes {
            return false;
        }
        let s = &mut self.spin[task as usize];
        // The mark of an earlier point (where it was run anyway) does not carry over.
        s.gives_way = u64::MAX;
        if !s.repeated || s.window != changes {
            return false;
        }
        let pending = self.pending[task as usize];
        let again = match pending.op {
            Op::Yield | Op::Fence => true,
            Op::Load | Op::Rmw => s.has_read(pending.object),
            _ => false,
        };
        if again {
            self.spin[task as usize].gives_way = changes;
            self.giving_way = changes;
        }
        again
    }

    /// The tasks to offer at a choice point: `runnable` without those that give way, when any
    /// task that does not can run. When all give way, time moves on to the next deadline if
    /// there is one (a spinner waiting for a sleeper, as an OS lets time pass); otherwise
    /// everyone but `current` is offered (a livelock of spinners then runs into the step limit;
    /// ending it earlier is not sound, since a spin that counts its rounds ends by itself).
    /// Returns whether `offered` holds the answer (else it is `runnable`). Only called when a
    /// task gave way since the last change.
    #[inline(never)]
    pub(super) fn fill_offered(&mut self, current: Option<TaskId>) -> bool {
        self.offered.clear();
        for &t in &self.runnable {
            if self.spin[t as usize].gives_way != self.changes {
                self.offered.push(t);
            }
        }
        if !self.offered.is_empty() {
            return true;
        }
        if self.advance_clock() {
            return false;
        }
        for &t in &self.runnable {
            if Some(t) != current {
                self.offered.push(t);
            }
        }
        !self.offered.is_empty()
    }

    /// Every task still able to run spins: the explanation for a step limit.
    pub(super) fn spinners_message(&self) -> Option<String> {
        if self.runnable.is_empty() {
            return None;
        }
        let mut msg = String::new();
        for &t in &self.runnable {
            let s = &self.spin[t as usize];
            if !s.repeated || s.window != self.changes {
                return None;
            }
            let _ = write!(msg, "\n  {} re-reads", self.task_info(t));
            if let Some(l) = s.location() {
                let _ = write!(msg, " at {}:{}", l.file(), l.line());
            }
        }
        Some(msg)
    }
}
