//! The memory model: which operations happen before which, tracked with vector clocks through
//! every synchronising operation (spawn and join, locks, channels, barriers, once, park and
//! unpark, futures' wake-ups, and atomics by their orderings).
//!
//! Every task has a clock ([`VectorClock`]); every synchronising object has the clock its
//! releases published. Every synchronising operation first counts a new event of the task
//! (its own entry), as shuttle's clocks do; a release then joins the task's clock into the
//! object's, an acquire joins the object's into the task's. So an access made while a task's
//! own entry is `e` happens before task `c`'s present point exactly when `c`'s entry for it
//! is greater than `e` (the FastTrack epoch test): what the task does after a release has the
//! new entry, which that release did not publish.
//!
//! A channel's messages each carry their sender's clock. Where std's primitives synchronise
//! more coarsely than their contracts promise, the model follows the contract where it is
//! cheap and documents the rest: a barrier's departures see every arrival of the round (and
//! possibly of the next), which can hide a race but never reports one that cannot happen.
//!
//! All buffers live across executions (see `rt::execution::Buffers`): once a sweep's first
//! executions have grown them, a synchronisation allocates nothing.

mod clock;
mod happens;
mod sc;

pub use clock::VectorClock;
pub(crate) use sc::AtomicAccess;

use crate::scheduler::TaskId;
use happens::Clocks;
use std::sync::atomic::Ordering;

/// A synchronising operation, as logged before anything needs the clocks.
#[derive(Clone, Copy, Debug)]
enum Event {
    AddTask {
        task: TaskId,
        parent: Option<TaskId>,
    },
    Release {
        task: TaskId,
        object: u32,
    },
    Acquire {
        task: TaskId,
        object: u32,
    },
    ReleaseRead {
        task: TaskId,
        object: u32,
    },
    AcquireWrite {
        task: TaskId,
        object: u32,
    },
    Signal {
        task: TaskId,
        target: TaskId,
    },
    AcquireSignals {
        task: TaskId,
    },
    Join {
        task: TaskId,
        joined: TaskId,
    },
    Send {
        task: TaskId,
        channel: u32,
        reuses_slot: bool,
    },
    Receive {
        task: TaskId,
        channel: u32,
        frees_slot: bool,
    },
    Atomic {
        task: TaskId,
        object: u32,
        access: AtomicAccess,
    },
}

/// Events logged at most before the clocks are computed anyway (bounds the log's memory on
/// long executions).
const LOG_MAX: usize = 1 << 16;

/// Happens-before for one execution, computed lazily: most programs (locks and `SeqCst`
/// atomics only, no `detest::cell`, no clock queries) never look at a clock, and updating
/// vector clocks at every synchronisation would cost them a quarter of their throughput. So
/// operations are logged (a push) until something needs the clocks — a non-`SeqCst` atomic,
/// whose outcome depends on them, a cell access, `detest::current::clock()` — which replays
/// the log in order and tracks eagerly from then on. Replaying gives exactly the clocks eager
/// tracking would have had.
#[derive(Default)]
pub(crate) struct Memory {
    eager: bool,
    log: Vec<Event>,
    /// Boxed: the state moves between executions (see `rt::execution::Buffers`), and a
    /// large inline struct would be copied each time.
    clocks: Box<Clocks>,
}

impl Memory {
    /// Forgets the last execution, keeping every allocation.
    pub(crate) fn reset(&mut self) {
        self.eager = false;
        self.log.clear();
        self.clocks.reset();
    }

    #[inline(always)]
    fn event(&mut self, event: Event) {
        if !self.eager && self.log.len() < LOG_MAX {
            self.log.push(event);
        } else {
            self.apply_now(event);
        }
    }

    #[cold]
    #[inline(never)]
    fn apply_now(&mut self, event: Event) {
        self.track();
        self.clocks.apply(event);
    }

    /// Computes the clocks from the log and tracks eagerly from now on.
    #[cold]
    #[inline(never)]
    pub(crate) fn track(&mut self) {
        if self.eager {
            return;
        }
        self.eager = true;
        for &event in &self.log {
            self.clocks.apply(event);
        }
        self.log.clear();
    }

    /// The task's clock (tracking from now on).
    pub(crate) fn clock(&mut self, task: TaskId) -> &VectorClock {
        self.track();
        self.clocks.clock(task)
    }

    /// A new task (`parent`: its spawner; none for the test body).
    #[inline]
    pub(crate) fn add_task(&mut self, task: TaskId, parent: Option<TaskId>) {
        self.event(Event::AddTask { task, parent });
    }

    /// `task` publishes what it has seen through `object` (unlock, barrier arrival, ...).
    #[inline]
    pub(crate) fn release(&mut self, task: TaskId, object: u32) {
        self.event(Event::Release { task, object });
    }

    /// `task` sees what `object`'s releases published (lock, barrier departure, ...).
    #[inline]
    pub(crate) fn acquire(&mut self, task: TaskId, object: u32) {
        self.event(Event::Acquire { task, object });
    }

    /// A read-unlock of a `RwLock`: published to later writers only.
    #[inline]
    pub(crate) fn release_read(&mut self, task: TaskId, object: u32) {
        self.event(Event::ReleaseRead { task, object });
    }

    /// A write-lock: sees the last writer's release and every reader's since.
    #[inline]
    pub(crate) fn acquire_write(&mut self, task: TaskId, object: u32) {
        self.event(Event::AcquireWrite { task, object });
    }

    /// `task` signals `target` (unpark, a waker's wake).
    #[inline]
    pub(crate) fn signal(&mut self, task: TaskId, target: TaskId) {
        self.event(Event::Signal { task, target });
    }

    /// `task` returns from a park, or is polled after a wake-up.
    #[inline]
    pub(crate) fn acquire_signals(&mut self, task: TaskId) {
        self.event(Event::AcquireSignals { task });
    }

    /// `task` joined the finished task `joined`.
    #[inline]
    pub(crate) fn join_task(&mut self, task: TaskId, joined: TaskId) {
        self.event(Event::Join { task, joined });
    }

    /// `task` sends a message on `channel` (see `Clocks::send`).
    #[inline]
    pub(crate) fn send(&mut self, task: TaskId, channel: u32, reuses_slot: bool) {
        self.event(Event::Send {
            task,
            channel,
            reuses_slot,
        });
    }

    /// `task` receives the oldest message on `channel` (see `Clocks::receive`).
    #[inline]
    pub(crate) fn receive(&mut self, task: TaskId, channel: u32, frees_slot: bool) {
        self.event(Event::Receive {
            task,
            channel,
            frees_slot,
        });
    }

    /// An atomic access. One that is not `SeqCst` needs the clocks.
    #[inline(always)]
    pub(crate) fn atomic(&mut self, task: TaskId, object: u32, access: AtomicAccess) {
        if !self.eager && access.ordering() != Ordering::SeqCst {
            self.track();
        }
        self.event(Event::Atomic {
            task,
            object,
            access,
        });
    }
}
