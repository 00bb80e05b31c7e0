use super::{Choice, ChoicePoint, Pct, Pick, Pos, RandomWalk, Scheduler, TaskId};

/// The `chaos` policy: each seed draws one member policy (as Coyote's portfolio does): POS for
/// six seeds in ten (it samples partial orders evenly and was the best single policy on every
/// ordering bug we measured), PCT(3) for two (its probabilistic guarantee for bugs of depth
/// up to 3) and the random walk for two (breadth, and the orders of unrelated lock
/// acquisitions, which POS does not reshuffle). A chaos sweep also starts with fixed
/// executions (see `Config::fixed_executions`): round-robin, for bugs that need no preemption
/// at all, `rotate`, for bugs that need a switch at the first chance, and `first-release`, for
/// atomicity violations between two critical sections.
pub struct Portfolio {
    inner: Box<dyn Scheduler>,
    name: &'static str,
}

impl Portfolio {
    pub fn new(seed: u64, estimated_choices: u64) -> Self {
        // Pick the member from a hash of the seed, not `seed % n`: sweeps often start at round
        // numbers, and every sweep's first seed should not be the same member. The member's own
        // randomness comes from a second, independent draw.
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
        let member = rng.u32(..10);
        let member_seed = rng.u64(..);
        let (inner, name): (Box<dyn Scheduler>, &'static str) = match member {
            0..=5 => (Box::new(Pos::new(member_seed)), "pos"),
            6 | 7 => (
                Box::new(Pct::new(member_seed, 3, estimated_choices)),
                "pct:3",
            ),
            _ => (Box::new(RandomWalk::new(member_seed)), "random"),
        };
        Portfolio { inner, name }
    }

    /// The member policy `seed` uses under chaos (for reports and benchmarks).
    pub fn member_of(seed: u64) -> &'static str {
        Portfolio::new(seed, 1).name
    }

    /// The member policy this seed uses.
    pub fn member(&self) -> &'static str {
        self.name
    }
}

impl Scheduler for Portfolio {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        self.inner.choose(p)
    }
    fn on_spawn(&mut self, task: TaskId) {
        self.inner.on_spawn(task)
    }
    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        self.inner.pick(pick, data_rng)
    }
}
