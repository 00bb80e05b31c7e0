use super::{exploring_pick, highest, pick_rng, Choice, ChoicePoint, Pick, Scheduler, TaskId};

/// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS'10): every task gets a random
/// priority and the highest-priority runnable task runs; at `depth - 1` random change points
/// the running task drops below every initial priority. A bug of depth `d` is found with
/// probability at least `1 / (n * k^(d-1))` per execution, for `k` the number of places a change
/// point can fall. Those are counted in choice points, not steps (as shuttle and Coyote do): a
/// step where only one task can run is no place for a change, and counting it only makes `k`
/// bigger and the right point rarer.
pub struct Pct {
    rng: fastrand::Rng,
    priorities: Vec<i64>,
    change_points: Vec<u64>,
    next_change: usize,
    lowest: i64,
    /// Choice points seen so far.
    choices: u64,
    picks: fastrand::Rng,
}

impl Pct {
    /// `estimated_choices` is the expected number of choice points of one execution.
    pub fn new(seed: u64, depth: u32, estimated_choices: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let k = estimated_choices.max(1);
        let mut change_points: Vec<u64> = (1..depth.max(1)).map(|_| rng.u64(1..=k)).collect();
        change_points.sort_unstable();
        Pct {
            rng,
            priorities: Vec::new(),
            change_points,
            next_change: 0,
            lowest: 0,
            choices: 0,
            picks: pick_rng(seed),
        }
    }

    fn demote(&mut self, task: TaskId) {
        self.lowest -= 1;
        self.priorities[task as usize] = self.lowest;
    }
}

impl Scheduler for Pct {
    fn on_spawn(&mut self, task: TaskId) {
        debug_assert_eq!(task as usize, self.priorities.len());
        // Initial priorities are positive and distinct with overwhelming probability; ties fall
        // back to the lower task id.
        self.priorities.push(self.rng.i64(1 << 20..i64::MAX >> 1));
    }

    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        self.choices += 1;
        while self.next_change < self.change_points.len()
            && self.choices >= self.change_points[self.next_change]
        {
            self.next_change += 1;
            if let Some(cur) = p.current {
                self.demote(cur);
            }
        }
        if p.yielding {
            // A yield means "let others run": without this a spinning high-priority task
            // would starve everyone.
            if let Some(cur) = p.current {
                self.demote(cur);
            }
        }
        let best = highest(p.runnable, &self.priorities);
        Choice::Run(best)
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        Some(exploring_pick(pick, &mut self.picks, data_rng))
    }
}
