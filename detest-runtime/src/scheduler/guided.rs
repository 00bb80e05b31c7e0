use super::{next_after, Choice, ChoicePoint, Pick, Scheduler, TaskId};
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

/// A decision that differs from the default (continue the running task; otherwise the next
/// task after it in id order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Directive {
    pub at: PointKey,
    pub run: TaskId,
    /// The running task could have continued: this directive is a preemption.
    pub preemptive: bool,
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
}

impl Guided {
    pub fn new(directives: &[Directive]) -> Self {
        Guided {
            directives: directives.iter().map(|d| (d.at, d.run)).collect(),
        }
    }
}

impl Scheduler for Guided {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        match self.directives.get(&key_of(p)) {
            Some(&task) if p.runnable.binary_search(&task).is_ok() => Choice::Run(task),
            _ => Choice::Run(default_choice(p)),
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
                    run: task,
                    preemptive,
                });
            }
        }
        choice
    }

    fn on_spawn(&mut self, task: TaskId) {
        self.inner.on_spawn(task)
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        self.inner.pick(pick, data_rng)
    }

    fn remaining(&self) -> usize {
        self.inner.remaining()
    }
}
