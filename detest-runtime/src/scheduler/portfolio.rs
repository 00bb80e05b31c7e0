use super::{Choice, ChoicePoint, Pct, Pos, RandomWalk, Scheduler, TaskId};

/// The `chaos` policy: each seed picks one policy from a portfolio (as Coyote does), so a sweep
/// gets PCT's strength on ordering bugs of small depth (depth 1 is plain random priorities,
/// which finds "one thread runs to the end first" bugs at once), POS's even sampling of
/// partial orders and the random walk's breadth, without the user having to know which fits.
pub struct Portfolio {
    inner: Box<dyn Scheduler>,
    name: &'static str,
}

impl Portfolio {
    pub fn new(seed: u64, estimated_steps: u64) -> Self {
        // Pick the member from a hash of the seed, not `seed % n`: sweeps often start at round
        // numbers, and every sweep's first seed should not be the same member. The member's own
        // randomness comes from a second, independent draw.
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
        let member = rng.u32(..5);
        let member_seed = rng.u64(..);
        let (inner, name): (Box<dyn Scheduler>, &'static str) = match member {
            0 => (Box::new(Pct::new(member_seed, 3, estimated_steps)), "pct:3"),
            1 => (Box::new(Pos::new(member_seed)), "pos"),
            2 => (Box::new(Pct::new(member_seed, 2, estimated_steps)), "pct:2"),
            3 => (Box::new(Pct::new(member_seed, 1, estimated_steps)), "pct:1"),
            _ => (Box::new(RandomWalk::new(member_seed)), "random"),
        };
        Portfolio { inner, name }
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
}
