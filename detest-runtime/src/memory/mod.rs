//! The memory model: which operations happen before which, tracked with vector clocks through
//! every synchronising operation (spawn and join, locks, channels, barriers, once, park and
//! unpark, futures' wake-ups, and atomics by their orderings).
//!
//! Every task has a clock ([`VectorClock`]); every synchronising object has the clock its
//! releases published. A release joins the task's clock into the object's and then counts a
//! new event of the task (so what the task does afterwards is not covered by it); an acquire
//! joins the object's clock into the task's. Both count an event, as shuttle's clocks do, so a
//! task's clock grows at every synchronisation it takes part in.
//!
//! Where a primitive's real implementation synchronises more finely than one clock per object
//! (a channel's messages each carry their sender's view), one clock per object is kept: it
//! may order more than std promises (a receiver also sees what a later sender did before
//! sending), which can hide a race but never reports one that cannot happen.
//!
//! All buffers live across executions (see `rt::execution::Buffers`): once a sweep's first
//! executions have grown them, a synchronisation allocates nothing.

mod atomic;
mod clock;

pub(crate) use atomic::AtomicAccess;
pub use clock::VectorClock;

use crate::scheduler::TaskId;

#[derive(Default)]
pub(crate) struct Memory {
    /// Per task: what it has seen happen.
    tasks: Vec<VectorClock>,
    /// Task clocks in use this execution (the rest are kept for their allocations).
    live: usize,
    /// Per object id: what its releases published (a lock's unlocks, a channel's sends, ...).
    objects: Vec<VectorClock>,
    /// Per object id: what read-unlocks of a `RwLock` published (only writers acquire it:
    /// readers do not synchronise with each other).
    read_releases: Vec<VectorClock>,
    /// Per task: what its unparks and wakes published (acquired when it is next parked or
    /// polled).
    signals: Vec<VectorClock>,
    /// The atomics' part (see `atomic.rs`).
    pub(crate) atomics: atomic::Atomics,
}

/// Grows `v` to hold index `i` (entries beyond the execution's are reused, cleared).
#[inline]
fn slot(v: &mut Vec<VectorClock>, i: usize) -> &mut VectorClock {
    if i >= v.len() {
        v.resize_with(i + 1, VectorClock::new);
    }
    &mut v[i]
}

impl Memory {
    /// Forgets the last execution, keeping every allocation.
    pub(crate) fn reset(&mut self) {
        for c in self
            .tasks
            .iter_mut()
            .chain(&mut self.objects)
            .chain(&mut self.read_releases)
            .chain(&mut self.signals)
        {
            c.clear();
        }
        self.live = 0;
        self.atomics.reset();
    }

    /// A new task: it starts having seen everything its parent has (a spawn happens before
    /// the child's first step), and the parent counts the spawn.
    pub(crate) fn add_task(&mut self, task: TaskId, parent: Option<TaskId>) {
        let t = task as usize;
        debug_assert_eq!(t, self.live);
        self.live = t + 1;
        slot(&mut self.tasks, t).clear();
        slot(&mut self.signals, t).clear();
        self.atomics.add_task(t);
        if let Some(p) = parent {
            let (child, parent) = two(&mut self.tasks, t, p as usize);
            child.copy_from(parent);
            self.tasks[p as usize].tick(p as usize);
        }
        self.tasks[t].tick(t);
    }

    /// The task's clock.
    #[inline]
    pub(crate) fn clock(&self, task: TaskId) -> &VectorClock {
        &self.tasks[task as usize]
    }

    /// `task` publishes what it has seen through `object` (unlock, send, barrier arrival).
    #[inline]
    pub(crate) fn release(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        slot(&mut self.objects, object as usize).join(&self.tasks[t]);
        self.tasks[t].tick(t);
    }

    /// `task` sees what `object`'s releases published (lock, receive, barrier departure).
    #[inline]
    pub(crate) fn acquire(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        if let Some(c) = self.objects.get(object as usize) {
            self.tasks[t].join(c);
        }
        self.tasks[t].tick(t);
    }

    /// A read-unlock: publishes to later writers only.
    #[inline]
    pub(crate) fn release_read(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        slot(&mut self.read_releases, object as usize).join(&self.tasks[t]);
        self.tasks[t].tick(t);
    }

    /// A write-lock: sees the last writer's release and every reader's since.
    #[inline]
    pub(crate) fn acquire_write(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        if let Some(c) = self.read_releases.get(object as usize) {
            self.tasks[t].join(c);
        }
        self.acquire(task, object);
    }

    /// `task` signals `target` (unpark, a waker's wake): published to `target`'s next
    /// [`Memory::acquire_signals`].
    #[inline]
    pub(crate) fn signal(&mut self, task: TaskId, target: TaskId) {
        let t = task as usize;
        let (from, to) = (&self.tasks[t], &mut self.signals[target as usize]);
        to.join(from);
        self.tasks[t].tick(t);
    }

    /// `task` returns from a park, or is polled after a wake-up.
    #[inline]
    pub(crate) fn acquire_signals(&mut self, task: TaskId) {
        let t = task as usize;
        let (tasks, signals) = (&mut self.tasks, &self.signals);
        tasks[t].join(&signals[t]);
        tasks[t].tick(t);
    }

    /// `task` joined `joined`, which has finished: everything it did happens before.
    #[inline]
    pub(crate) fn join_task(&mut self, task: TaskId, joined: TaskId) {
        let (me, other) = two(&mut self.tasks, task as usize, joined as usize);
        me.join(other);
        me.tick(task as usize);
    }

    /// An atomic access (see `atomic.rs`). A load only computes its candidates here: the
    /// execution then asks [`Memory::load_options`] and reads with [`Memory::load_read`].
    #[inline]
    pub(crate) fn atomic(&mut self, task: TaskId, object: u32, access: AtomicAccess) {
        self.atomics.access(
            &mut self.tasks[task as usize],
            task as usize,
            object,
            access,
        );
    }
}

impl Memory {
    /// How many stores the load just passed to [`Memory::atomic`] may read (see `atomic.rs`);
    /// `spinning`: its task re-reads with nothing changed since, so it reads the newest.
    #[inline]
    pub(crate) fn load_options(&mut self, task: TaskId, spinning: bool) -> u64 {
        self.atomics.load_options(task as usize, spinning)
    }

    /// That load reads its option `option` (0: the newest store); returns the value's bits.
    #[inline]
    pub(crate) fn load_read(
        &mut self,
        task: TaskId,
        order: std::sync::atomic::Ordering,
        option: u64,
    ) -> u64 {
        self.atomics
            .load_read(&mut self.tasks[task as usize], task as usize, order, option)
    }
}

/// Two distinct elements of `v`, the first mutably.
fn two(v: &mut [VectorClock], a: usize, b: usize) -> (&mut VectorClock, &VectorClock) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&mut lo[a], &hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&mut hi[0], &lo[b])
    }
}
