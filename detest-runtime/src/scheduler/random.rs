use super::{Choice, ChoicePoint, Scheduler};

/// Random walk: every choice point picks a runnable task uniformly at random.
pub struct RandomWalk {
    rng: fastrand::Rng,
}

impl RandomWalk {
    pub fn new(seed: u64) -> Self {
        RandomWalk {
            rng: fastrand::Rng::with_seed(seed),
        }
    }
}

impl Scheduler for RandomWalk {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        let candidates = p.runnable;
        // A yielding task gives way when anyone else can run, so spin-with-yield loops progress.
        if p.yielding {
            if let Some(cur) = p.current {
                let i = self.rng.usize(..candidates.len() - 1);
                let pick = candidates[i];
                return Choice::Run(if pick >= cur { candidates[i + 1] } else { pick });
            }
        }
        Choice::Run(candidates[self.rng.usize(..candidates.len())])
    }
}
