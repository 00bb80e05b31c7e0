use super::{round_robin, Choice, ChoicePoint, Scheduler};

/// Non-preemptive round-robin: the running task continues until it blocks, finishes or yields;
/// then the next task in id order runs. The default without `chaos`: seeds then vary only
/// `detest::rand` values.
#[derive(Debug, Default)]
pub struct RoundRobin;

impl Scheduler for RoundRobin {
    // Deterministic orders: the longest waiter, no spurious wake-up, the last to arrive.
    fn default_picks(&self) -> bool {
        true
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        Choice::Run(round_robin(p))
    }
}
