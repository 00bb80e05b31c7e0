use super::{next_after, Choice, ChoicePoint, Scheduler, TaskId};

/// Round-robin without preemption, except once: the first task to reach a choice point right
/// after a release (an unlock, a notify) is set aside until no other task can run (or one
/// yields); from then on it is round-robin again. So other tasks run on in the gap between
/// that first critical section and whatever follows it, which is where an atomicity violation
/// across two critical sections shows (a check in one lock scope and the act in the next, two
/// stages meant to be seen together). Those are the most common concurrency bugs in practice
/// (Lu et al., ASPLOS'08). PCT and chaos sweeps run it once, as seed 0, after round-robin and
/// rotate, unless round-robin passed no such point (it would then be the very same execution).
#[derive(Debug, Default)]
pub struct FirstRelease {
    state: State,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// No release yet: plain round-robin.
    #[default]
    Before,
    /// This task is set aside.
    Aside(TaskId),
    /// The task set aside has run again: plain round-robin.
    After,
}

impl Scheduler for FirstRelease {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        match self.state {
            State::Before if p.released => {
                if let Some(cur) = p.current {
                    self.state = State::Aside(cur);
                }
            }
            // Only a task that ran reaches a point: the one set aside is back.
            State::Aside(aside) if p.last == aside => self.state = State::After,
            _ => {}
        }
        let aside = match self.state {
            State::Aside(a) => Some(a),
            _ => None,
        };
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
