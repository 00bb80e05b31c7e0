use crate::rt::execution::{self as rt, ObjectId, Wait, WaitKind};
use crate::trace::Op;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// A barrier for `n` threads, like `std::sync::Barrier`.
pub struct Barrier {
    id: ObjectId,
    n: usize,
    arrived: AtomicUsize,
    generation: AtomicU64,
}

/// Returned by [`Barrier::wait`]; exactly one thread per round is the leader.
#[derive(Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

const WHAT: &str = "detest::sync::Barrier";

impl Barrier {
    pub const fn new(n: usize) -> Self {
        Barrier {
            id: ObjectId::new(),
            n,
            arrived: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// Blocks until `n` threads have called `wait`; the last to arrive is the leader.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let location = Location::caller();
        let obj = rt::before(WHAT, Op::Barrier, Some(&self.id), "Barrier", location);
        let round = self.generation.load(Relaxed);
        if self.arrived.fetch_add(1, Relaxed) + 1 >= self.n {
            self.arrived.store(0, Relaxed);
            self.generation.store(round + 1, Relaxed);
            rt::wake_all(WHAT, obj);
            return BarrierWaitResult(true);
        }
        while self.generation.load(Relaxed) == round && !rt::tearing_down() {
            rt::block(WHAT, Wait::new(WaitKind::Barrier, obj, "Barrier", location));
        }
        BarrierWaitResult(false)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}
