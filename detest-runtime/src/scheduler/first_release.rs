use super::{next_after, Choice, ChoicePoint, Scheduler, TaskId};

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
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        if self.set_aside.is_none() && p.released {
            self.set_aside = p.current;
        }
        let aside = self.set_aside;
        if let Some(cur) = p.current {
            if !p.yielding && Some(cur) != aside {
                return Choice::Run(cur);
            }
        }
        if p.yielding {
            // A yield gives the turn to the next task, the one set aside included: a task
            // spinning until the set-aside one acts must not spin forever.
            return Choice::Run(next_after(p.runnable, p.current));
        }
        // The next task in id order (as round-robin), skipping the one set aside while anyone
        // else can run.
        let from = p.current;
        let later = p.runnable.iter().filter(|&&t| from.is_none_or(|f| t > f));
        let earlier = p.runnable.iter().filter(|&&t| from.is_some_and(|f| t <= f));
        let next = later.chain(earlier).copied().find(|&t| Some(t) != aside);
        Choice::Run(next.unwrap_or(p.runnable[0]))
    }
}
