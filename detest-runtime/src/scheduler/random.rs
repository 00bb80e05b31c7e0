use super::{exploring_pick, pick_rng, Choice, ChoicePoint, Pick, Scheduler};

/// Random walk: every choice point picks a runnable task uniformly at random.
pub struct RandomWalk {
    state: u64,
    picks: fastrand::Rng,
}

impl RandomWalk {
    pub fn new(seed: u64) -> Self {
        RandomWalk {
            state: seed,
            picks: pick_rng(seed),
        }
    }

    /// Uniform in `0..n` (wyrand, then a multiply-shift: no division, no rejection loop; the
    /// bias is below n / 2^64). This runs at nearly every step of a sweep.
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        let x = (t as u64) ^ ((t >> 64) as u64);
        ((u128::from(x) * n as u128) >> 64) as usize
    }
}

impl Scheduler for RandomWalk {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        let candidates = p.runnable;
        // A yielding task gives way when anyone else can run, so spin-with-yield loops progress.
        if p.yielding {
            // (Unless it is not offered: it gives way, see `ChoicePoint::runnable`.)
            if let Some(cur) = p.current.filter(|c| candidates.binary_search(c).is_ok()) {
                let i = self.below(candidates.len() - 1);
                let pick = candidates[i];
                return Choice::Run(if pick >= cur { candidates[i + 1] } else { pick });
            }
        }
        Choice::Run(candidates[self.below(candidates.len())])
    }

    fn pick(&mut self, pick: Pick, data_rng: &mut fastrand::Rng) -> Option<u64> {
        Some(exploring_pick(pick, &mut self.picks, data_rng))
    }
}
