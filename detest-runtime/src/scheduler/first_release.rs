use super::{next_after, round_robin, Choice, ChoicePoint, Scheduler, TaskId};

/// Round-robin, except that the first task to reach a choice point right after a release (an
/// unlock, a notify) drops below every other task for the rest of the execution: PCT with its
/// one change point at the first release, and no randomness. The task runs only when no other
/// can (or when one yields: a task spinning until it acts must not spin forever). So other
/// tasks run on in the gap after its first critical section, which is where an atomicity
/// violation across two critical sections shows (a check in one lock scope and the act in the
/// next, two stages meant to be seen together); those are the most common concurrency bugs in
/// practice (Lu et al., ASPLOS'08). PCT and chaos sweeps run it once, as seed 0, after
/// round-robin and rotate, unless round-robin passed no such point (it would then be the very
/// same execution).
#[derive(Debug, Default)]
pub struct FirstRelease {
    set_aside: Option<TaskId>,
}

impl Scheduler for FirstRelease {
    // Deterministic orders: the longest waiter, no spurious wake-up, the last to arrive.
    fn default_picks(&self) -> bool {
        true
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        if self.set_aside.is_none() && p.released {
            self.set_aside = p.current;
        }
        // Round-robin, except that the task set aside gives way to the next one (there are
        // always two or more runnable tasks here) unless someone yields to it: a task spinning
        // until the set-aside one acts must not spin forever.
        let next = round_robin(p);
        if !p.yielding && Some(next) == self.set_aside {
            Choice::Run(next_after(p.runnable, Some(next)))
        } else {
            Choice::Run(next)
        }
    }
}
