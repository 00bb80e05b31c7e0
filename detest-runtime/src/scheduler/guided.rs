use super::{default_pick, next_after, Choice, ChoicePoint, Pick, PickKind, Scheduler, TaskId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Where a decision was taken, in terms that survive changes elsewhere in the schedule: the task
/// that reached the point and how many scheduling points that task had passed. Removing a
/// preemption of another task shifts global step numbers but not this key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PointKey {
    pub task: TaskId,
    pub progress: u32,
}

/// A decision that differs from the default (continue the running task, otherwise the next
/// task after it in id order; option 0 of a pick: the longest waiter, no spurious wake-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Directive {
    /// For a pick, the task that took it and its progress then. A pick and a choice can share
    /// a key (a notify picks its waiter before its own scheduling point), never two picks of
    /// one kind: every pick but a data draw sits in a different step of its task.
    pub at: PointKey,
    pub decide: Directed,
    /// The running task could have continued: this directive is a preemption.
    pub preemptive: bool,
}

/// What a [`Directive`] decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Directed {
    /// Run this task at a choice point.
    Run(TaskId),
    /// Take this option of a pick (never a data draw: those follow the seed).
    Pick(PickKind, u64),
}

/// The decision a directive-free execution takes.
pub(crate) fn default_choice(p: &ChoicePoint<'_>) -> TaskId {
    match p.current {
        Some(cur) if !p.yielding => cur,
        _ => next_after(p.runnable, Some(p.last)),
    }
}

pub(crate) fn key_of(p: &ChoicePoint<'_>) -> PointKey {
    PointKey {
        task: p.last,
        progress: p.progress[p.last as usize],
    }
}

/// Follows a set of directives and takes the default decision everywhere else. Directives whose
/// task cannot run at their point are skipped, so any subset of a failing schedule's directives
/// is a valid schedule: exactly what delta debugging needs.
pub struct Guided {
    directives: HashMap<PointKey, TaskId>,
    picks: HashMap<(PointKey, PickKind), u64>,
}

impl Guided {
    pub fn new(directives: &[Directive]) -> Self {
        let mut guided = Guided {
            directives: HashMap::new(),
            picks: HashMap::new(),
        };
        for d in directives {
            match d.decide {
                Directed::Run(task) => {
                    guided.directives.insert(d.at, task);
                }
                Directed::Pick(kind, v) => {
                    guided.picks.insert((d.at, kind), v);
                }
            }
        }
        guided
    }
}

impl Scheduler for Guided {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        match self.directives.get(&key_of(p)) {
            Some(&task) if p.runnable.binary_search(&task).is_ok() => Choice::Run(task),
            _ => Choice::Run(default_choice(p)),
        }
    }

    fn pick_at(&mut self, pick: Pick, at: PointKey, data_rng: &mut fastrand::Rng) -> Option<u64> {
        // An option out of this pick's range (fewer waiters here) is skipped, like a task
        // that cannot run.
        match self.picks.get(&(at, pick.kind)) {
            Some(&v) if v < pick.n => Some(v),
            _ => Some(default_pick(pick, data_rng)),
        }
    }
}

/// Wraps a policy and notes every decision that differs from the default, as directives.
pub(crate) struct Recording {
    pub inner: Box<dyn Scheduler>,
    pub directives: Rc<RefCell<Vec<Directive>>>,
}

impl Scheduler for Recording {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        let choice = self.inner.choose(p);
        if let Choice::Run(task) = choice {
            if task != default_choice(p) {
                let preemptive = !p.yielding && p.current.is_some();
                self.directives.borrow_mut().push(Directive {
                    at: key_of(p),
                    decide: Directed::Run(task),
                    preemptive,
                });
            }
        }
        choice
    }

    fn on_spawn(&mut self, task: TaskId) {
        self.inner.on_spawn(task)
    }

    fn pick_at(&mut self, pick: Pick, at: PointKey, data_rng: &mut fastrand::Rng) -> Option<u64> {
        let v = self.inner.pick_at(pick, at, data_rng)?;
        if pick.kind != PickKind::Data && v != 0 {
            self.directives.borrow_mut().push(Directive {
                at,
                decide: Directed::Pick(pick.kind, v),
                preemptive: false,
            });
        }
        Some(v)
    }

    fn remaining(&self) -> usize {
        self.inner.remaining()
    }
}
