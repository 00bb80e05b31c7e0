use super::{
    exploring_pick, highest, pick_rng, Choice, ChoicePoint, PendingOp, Pick, Scheduler, TaskId,
};
use crate::trace::Op;

/// Partial-order sampling (Yuan, Yang, Gu, CAV'18): every pending operation carries a random
/// priority and the highest one runs; after an operation runs, the operations of other tasks
/// that race with it (same object, not both reads) are given fresh priorities. This samples
/// partial orders far more evenly than a random walk, which favours orders with many switches.
pub struct Pos {
    rng: fastrand::Rng,
    priorities: Vec<u64>,
    last: Option<(TaskId, PendingOp)>,
    picks: fastrand::Rng,
}

impl Pos {
    pub fn new(seed: u64) -> Self {
        Pos {
            rng: fastrand::Rng::with_seed(seed),
            priorities: Vec::new(),
            last: None,
            picks: pick_rng(seed),
        }
    }
}

fn races(a: PendingOp, b: PendingOp) -> bool {
    // A join's object is a task id, not an object (see `PendingOp::object`).
    let join = a.op == Op::Join || b.op == Op::Join;
    !join && a.object != 0 && a.object == b.object && !(a.op.is_read() && b.op.is_read())
}

impl Scheduler for Pos {
    fn on_spawn(&mut self, _task: TaskId) {
        self.priorities.push(self.rng.u64(..));
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        if let Some((last, op)) = self.last {
            // The last chosen task executed `op`; its next operation is a new event.
            self.priorities[last as usize] = self.rng.u64(..);
            for &t in p.runnable {
                if t != last && races(op, p.pending[t as usize]) {
                    self.priorities[t as usize] = self.rng.u64(..);
                }
            }
        }
        if p.yielding {
            if let Some(cur) = p.current {
                self.priorities[cur as usize] = 0;
            }
        }
        let best = highest(p.runnable, &self.priorities);
        self.last = Some((best, p.pending[best as usize]));
        Choice::Run(best)
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        Some(exploring_pick(pick, &mut self.picks, data_rng))
    }
}
