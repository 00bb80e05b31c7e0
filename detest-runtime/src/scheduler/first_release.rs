use super::{Choice, ChoicePoint, Scheduler, TaskId};

/// Round-robin without preemption, except once: the first task to reach a choice point right
/// after a release (an unlock, a notify) is set aside until no other task can run. So another
/// task runs to its end in the gap between the first critical section and whatever follows it,
/// which is where an atomicity violation across two critical sections shows (a check in one
/// lock scope and the act in the next, two stages meant to be seen together). Those are the
/// most common concurrency bugs in practice (Lu et al., ASPLOS'08). PCT and chaos sweeps run
/// it once, as seed 0, after round-robin and rotate, unless round-robin passed no such point
/// (it would then be the very same execution).
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
        let current = p.current.filter(|&c| Some(c) != aside && !p.yielding);
        if let Some(cur) = current {
            return Choice::Run(cur);
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
