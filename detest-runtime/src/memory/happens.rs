//! The eager half of the memory model: vector clocks updated at each synchronising operation
//! (see the module above for the rules).

use super::sc::{self, AtomicAccess};
use super::VectorClock;
use crate::scheduler::TaskId;
use std::collections::VecDeque;

#[derive(Default)]
pub(crate) struct Clocks {
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
    /// Per channel object id: the clocks of the messages in flight, oldest first.
    messages: Vec<VecDeque<VectorClock>>,
    /// Per bounded channel: the clocks of the receipts that freed a slot no send has taken
    /// yet, oldest first (a send into a freed slot sees the receipt that freed it).
    freed: Vec<VecDeque<VectorClock>>,
    /// Spare clocks for messages (so a send allocates nothing once warm).
    pool: Vec<VectorClock>,
    /// The atomics' part (see `sc.rs`).
    atomics: sc::Atomics,
}

/// Grows `v` to hold index `i` (entries beyond the execution's are reused, cleared).
#[inline]
pub(super) fn slot(v: &mut Vec<VectorClock>, i: usize) -> &mut VectorClock {
    if i >= v.len() {
        v.resize_with(i + 1, VectorClock::new);
    }
    &mut v[i]
}

impl Clocks {
    /// Applies one logged operation.
    #[inline]
    pub(super) fn apply(&mut self, event: super::Event) {
        use super::Event::*;
        match event {
            AddTask { task, parent } => self.add_task(task, parent),
            Release { task, object } => self.release(task, object),
            Acquire { task, object } => self.acquire(task, object),
            ReleaseRead { task, object } => self.release_read(task, object),
            AcquireWrite { task, object } => self.acquire_write(task, object),
            Signal { task, target } => self.signal(task, target),
            AcquireSignals { task } => self.acquire_signals(task),
            Join { task, joined } => self.join_task(task, joined),
            Send {
                task,
                channel,
                reuses_slot,
            } => self.send(task, channel, reuses_slot),
            Receive {
                task,
                channel,
                frees_slot,
            } => self.receive(task, channel, frees_slot),
            Atomic {
                task,
                object,
                access,
            } => self.atomic(task, object, access),
        }
    }

    /// Forgets the last execution, keeping every allocation.
    pub(super) fn reset(&mut self) {
        for c in self
            .tasks
            .iter_mut()
            .chain(&mut self.objects)
            .chain(&mut self.read_releases)
            .chain(&mut self.signals)
        {
            c.clear();
        }
        for queue in self.messages.iter_mut().chain(&mut self.freed) {
            self.pool.extend(queue.drain(..));
        }
        self.live = 0;
        self.atomics.reset();
    }

    /// A new task: the parent counts the spawn, and the child starts having seen everything
    /// the parent has (a spawn happens before the child's first step). The child's own entry
    /// is 0 until it synchronises.
    pub(super) fn add_task(&mut self, task: TaskId, parent: Option<TaskId>) {
        let t = task as usize;
        debug_assert_eq!(t, self.live);
        self.live = t + 1;
        slot(&mut self.tasks, t).clear();
        slot(&mut self.signals, t).clear();
        self.atomics.add_task(t);
        if let Some(p) = parent {
            self.tasks[p as usize].tick(p as usize);
            let (child, parent) = two(&mut self.tasks, t, p as usize);
            child.copy_from(parent);
        }
    }

    /// The task's clock.
    #[inline]
    pub(super) fn clock(&self, task: TaskId) -> &VectorClock {
        &self.tasks[task as usize]
    }

    /// `task` publishes what it has seen through `object` (unlock, send, barrier arrival).
    #[inline]
    pub(super) fn release(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        self.tasks[t].tick(t);
        slot(&mut self.objects, object as usize).join(&self.tasks[t]);
    }

    /// `task` sees what `object`'s releases published (lock, receive, barrier departure).
    #[inline]
    pub(super) fn acquire(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        self.tasks[t].tick(t);
        if let Some(c) = self.objects.get(object as usize) {
            self.tasks[t].join(c);
        }
    }

    /// A read-unlock: publishes to later writers only.
    #[inline]
    pub(super) fn release_read(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        self.tasks[t].tick(t);
        slot(&mut self.read_releases, object as usize).join(&self.tasks[t]);
    }

    /// A write-lock: sees the last writer's release and every reader's since.
    #[inline]
    pub(super) fn acquire_write(&mut self, task: TaskId, object: u32) {
        let t = task as usize;
        if let Some(c) = self.read_releases.get(object as usize) {
            self.tasks[t].join(c);
        }
        self.acquire(task, object);
    }

    /// `task` signals `target` (unpark, a waker's wake): published to `target`'s next
    /// [`Memory::acquire_signals`].
    #[inline]
    pub(super) fn signal(&mut self, task: TaskId, target: TaskId) {
        let t = task as usize;
        self.tasks[t].tick(t);
        self.signals[target as usize].join(&self.tasks[t]);
    }

    /// `task` returns from a park, or is polled after a wake-up.
    #[inline]
    pub(super) fn acquire_signals(&mut self, task: TaskId) {
        let t = task as usize;
        let (tasks, signals) = (&mut self.tasks, &self.signals);
        tasks[t].tick(t);
        tasks[t].join(&signals[t]);
    }

    /// `task` joined `joined`, which has finished: everything it did happens before. (Its
    /// end counts as an event of its own, a release of everything it did.)
    #[inline]
    pub(super) fn join_task(&mut self, task: TaskId, joined: TaskId) {
        let j = joined as usize;
        self.tasks[j].tick(j);
        let (me, other) = two(&mut self.tasks, task as usize, j);
        me.join(other);
        me.tick(task as usize);
    }

    /// `task` sends a message on `channel`: it carries the sender's clock. `reuses_slot`:
    /// the send takes a slot of a bounded channel that a receipt freed, and sees that receipt.
    #[inline]
    pub(super) fn send(&mut self, task: TaskId, channel: u32, reuses_slot: bool) {
        let t = task as usize;
        let c = channel as usize;
        self.tasks[t].tick(t);
        if reuses_slot {
            if let Some(freed) = self.freed.get_mut(c).and_then(VecDeque::pop_front) {
                self.tasks[t].join(&freed);
                self.pool.push(freed);
            }
        }
        let mut clock = self.pool.pop().unwrap_or_default();
        clock.copy_from(&self.tasks[t]);
        queue(&mut self.messages, c).push_back(clock);
    }

    /// `task` receives the oldest message on `channel`: its send happens before. `frees_slot`:
    /// the channel is bounded, and the send that takes the freed slot will see this receipt.
    #[inline]
    pub(super) fn receive(&mut self, task: TaskId, channel: u32, frees_slot: bool) {
        let t = task as usize;
        let c = channel as usize;
        self.tasks[t].tick(t);
        if let Some(clock) = self.messages.get_mut(c).and_then(VecDeque::pop_front) {
            self.tasks[t].join(&clock);
            self.pool.push(clock);
        }
        if frees_slot {
            let mut clock = self.pool.pop().unwrap_or_default();
            clock.copy_from(&self.tasks[t]);
            queue(&mut self.freed, c).push_back(clock);
        }
    }

    /// An atomic access (see `sc.rs`). Every one counts an event, as in shuttle.
    #[inline]
    pub(super) fn atomic(&mut self, task: TaskId, object: u32, access: AtomicAccess) {
        let t = task as usize;
        self.tasks[t].tick(t);
        self.atomics.access(&mut self.tasks[t], t, object, access);
    }
}

/// The queue of channel `c` (grown as needed).
fn queue(v: &mut Vec<VecDeque<VectorClock>>, c: usize) -> &mut VecDeque<VectorClock> {
    if c >= v.len() {
        v.resize_with(c + 1, VecDeque::new);
    }
    &mut v[c]
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
