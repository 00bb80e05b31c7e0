use crate::outside;
use crate::rt::execution::{self as rt, ObjectId, Wait, WaitKind};
use crate::scheduler::{Pick, PickKind};
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
    /// Rounds whose leader is not the last to arrive: (round, the leader's arrival index,
    /// waiters that have not looked yet). Usually empty; a round's entry goes when its last
    /// waiter has looked (a round can complete again before a slow waiter of the previous one
    /// runs, when more than `n` threads use the barrier).
    leaders: std::sync::Mutex<Vec<(u64, usize, usize)>>,
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
            id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()),
            n,
            arrived: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            leaders: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Blocks until `n` threads have called `wait`. One of them is the leader: std says "a
    /// single (arbitrary) thread", so the policy picks it (the last to arrive under the
    /// deterministic policies).
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let location = Location::caller();
        if !rt::in_execution() {
            return self.wait_outside();
        }
        let obj = rt::before(WHAT, Op::Barrier, Some(&self.id), "Barrier", location);
        let round = self.generation.load(Relaxed);
        let index = self.arrived.fetch_add(1, Relaxed);
        // Every arrival of a round happens before every departure from it.
        rt::release(WHAT, &self.id);
        if index + 1 >= self.n {
            self.arrived.store(0, Relaxed);
            self.generation.store(round + 1, Relaxed);
            // Option 0 is the last to arrive (this task); option k the k-th to arrive.
            let k = if self.n >= 2 {
                let pick = Pick {
                    kind: PickKind::Leader,
                    n: self.n as u64,
                };
                rt::pick(WHAT, pick, location)
            } else {
                0
            };
            if k != 0 {
                self.leaders_lock()
                    .push((round, k as usize - 1, self.n - 1));
            }
            rt::wake_all(WHAT, obj);
            rt::acquire(WHAT, &self.id);
            return BarrierWaitResult(k == 0);
        }
        while self.generation.load(Relaxed) == round && !rt::tearing_down() {
            rt::block(WHAT, Wait::new(WaitKind::Barrier, obj, "Barrier", location));
        }
        rt::acquire(WHAT, &self.id);
        let mut leaders = self.leaders_lock();
        let Some(pos) = leaders.iter().position(|e| e.0 == round) else {
            return BarrierWaitResult(false);
        };
        let entry = &mut leaders[pos];
        entry.2 -= 1;
        let leader = entry.1 == index;
        if entry.2 == 0 {
            leaders.swap_remove(pos);
        }
        BarrierWaitResult(leader)
    }

    /// [`Barrier::wait`] outside any execution: the last to arrive leads.
    fn wait_outside(&self) -> BarrierWaitResult {
        let round = outside::change(WHAT, &self.id, || {
            let round = self.generation.load(Relaxed);
            let index = self.arrived.load(Relaxed);
            if index + 1 >= self.n {
                self.arrived.store(0, Relaxed);
                self.generation.store(round + 1, Relaxed);
                None
            } else {
                self.arrived.store(index + 1, Relaxed);
                Some(round)
            }
        });
        let Some(round) = round else {
            return BarrierWaitResult(true);
        };
        outside::wait_until(WHAT, &self.id, None, || {
            (self.generation.load(Relaxed) != round).then_some(())
        });
        BarrierWaitResult(false)
    }

    fn leaders_lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, usize, usize)>> {
        self.leaders.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}
