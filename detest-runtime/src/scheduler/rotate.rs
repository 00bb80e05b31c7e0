use super::{next_after, Choice, ChoicePoint, Scheduler};

/// Preemptive round-robin: at every choice point the next runnable task after the one that
/// reached it, in id order, runs (shuttle's `RoundRobinScheduler`). It is the schedule with the
/// most switches, the opposite end from [`RoundRobin`](super::RoundRobin)'s none: two locks
/// taken in opposite orders deadlock here, and a check-then-act is split at every step. PCT and
/// chaos sweeps run it once, as seed 0, right after round-robin.
#[derive(Debug, Default)]
pub struct Rotate;

impl Scheduler for Rotate {
    // Deterministic orders: the longest waiter, no spurious wake-up, the last to arrive.
    fn default_picks(&self) -> bool {
        true
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        Choice::Run(next_after(p.runnable, Some(p.last)))
    }
}
