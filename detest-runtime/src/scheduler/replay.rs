use super::{default_pick, round_robin, Choice, ChoicePoint, Pick, Scheduler, TaskId};
use crate::schedule::{Decision, Schedule};

/// Replays a recorded [`Schedule`]. A recorded task that is not runnable where the schedule says
/// it ran is a divergence (the program is not deterministic, or the code changed). Once the
/// schedule is used up, choices fall back to round-robin so that a shortened schedule (shrinking)
/// still runs to completion.
pub struct Replay {
    decisions: Vec<Decision>,
    index: usize,
    used_in_run: u32,
}

impl Replay {
    pub fn new(schedule: &Schedule) -> Self {
        Replay {
            decisions: schedule.decisions().to_vec(),
            index: 0,
            used_in_run: 0,
        }
    }

    fn next_run(&mut self) -> Option<TaskId> {
        loop {
            match self.decisions.get(self.index)? {
                Decision::Run { task, count } => {
                    if self.used_in_run < *count {
                        self.used_in_run += 1;
                        return Some(*task);
                    }
                    self.index += 1;
                    self.used_in_run = 0;
                }
                Decision::Random(_) => return None,
            }
        }
    }
}

impl Scheduler for Replay {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        match self.next_run() {
            Some(task) if p.runnable.binary_search(&task).is_ok() => Choice::Run(task),
            Some(task) => Choice::Diverged { expected: task },
            None if self.index < self.decisions.len() => {
                // A random draw was recorded here, but the program reached a scheduling point.
                Choice::Diverged {
                    expected: TaskId::MAX,
                }
            }
            None => Choice::Run(round_robin(p)),
        }
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        // Skip a finished run.
        if let Some(Decision::Run { count, .. }) = self.decisions.get(self.index) {
            if self.used_in_run >= *count {
                self.index += 1;
                self.used_in_run = 0;
            }
        }
        match self.decisions.get(self.index) {
            // A recorded value out of this pick's range is a divergence, not something to wrap.
            Some(Decision::Random(v)) if pick.n != 0 && *v >= pick.n => None,
            Some(Decision::Random(v)) => {
                self.index += 1;
                Some(*v)
            }
            Some(Decision::Run { .. }) => None,
            None => Some(default_pick(pick, data_rng)),
        }
    }

    fn remaining(&self) -> usize {
        self.decisions[self.index.min(self.decisions.len())..]
            .iter()
            .map(|d| match d {
                Decision::Run { count, .. } => *count as usize,
                Decision::Random(_) => 1,
            })
            .sum::<usize>()
            .saturating_sub(self.used_in_run as usize)
    }
}
