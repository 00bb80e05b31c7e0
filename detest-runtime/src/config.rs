//! Configuring and running sweeps: the programmatic API under `#[detest]` and `cargo detest`.

use crate::report::{Execution, Report};
use crate::rt::execution::{run_execution, ExecOptions};
use crate::schedule::Schedule;
use crate::scheduler::{Pct, Portfolio, Pos, RandomWalk, Replay, RoundRobin, Scheduler};
use std::fmt;
use std::time::{Duration, Instant};

/// Default bound on scheduling steps per execution.
pub const DEFAULT_MAX_STEPS: u64 = 1_000_000;
/// Default stack size of a logical thread's coroutine.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;
/// Default PCT depth.
pub const DEFAULT_PCT_DEPTH: u32 = 3;

/// A scheduling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Non-preemptive round-robin (no exploration; seeds vary only `detest::rand` and time).
    #[default]
    RoundRobin,
    /// Uniformly random choice at every choice point.
    Random,
    /// Probabilistic concurrency testing with the given depth.
    Pct { depth: u32 },
    /// Partial-order sampling.
    Pos,
    /// The exploring default: a per-seed portfolio of PCT, POS and random walk.
    Chaos,
}

impl Policy {
    /// Parses `rr` / `round-robin`, `random`, `pct`, `pct:3`, `pos`, `chaos`.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let text = text.trim().to_ascii_lowercase();
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (text.as_str(), None),
        };
        let policy = match name {
            "rr" | "round-robin" | "roundrobin" => Policy::RoundRobin,
            "random" => Policy::Random,
            "pct" => {
                let depth = match arg {
                    Some(a) => a
                        .parse::<u32>()
                        .ok()
                        .filter(|d| *d >= 1)
                        .ok_or_else(|| format!("PCT depth must be a whole number >= 1, got `{a}`"))?,
                    None => DEFAULT_PCT_DEPTH,
                };
                return Ok(Policy::Pct { depth });
            }
            "pos" => Policy::Pos,
            "chaos" => Policy::Chaos,
            _ => {
                return Err(format!(
                    "unknown policy `{text}` (expected round-robin, random, pct, pct:DEPTH, pos or chaos)"
                ))
            }
        };
        if arg.is_some() {
            return Err(format!("policy `{name}` takes no argument"));
        }
        Ok(policy)
    }

    fn needs_step_estimate(self) -> bool {
        matches!(self, Policy::Pct { .. } | Policy::Chaos)
    }

    pub(crate) fn scheduler(self, seed: u64, estimated_steps: u64) -> Box<dyn Scheduler> {
        match self {
            Policy::RoundRobin => Box::new(RoundRobin),
            Policy::Random => Box::new(RandomWalk::new(seed)),
            Policy::Pct { depth } => Box::new(Pct::new(seed, depth, estimated_steps)),
            Policy::Pos => Box::new(Pos::new(seed)),
            Policy::Chaos => Box::new(Portfolio::new(seed, estimated_steps)),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::RoundRobin => f.write_str("round-robin"),
            Policy::Random => f.write_str("random"),
            Policy::Pct { depth } => write!(f, "pct:{depth}"),
            Policy::Pos => f.write_str("pos"),
            Policy::Chaos => f.write_str("chaos"),
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::parse(s)
    }
}

/// How to run a test body: which seeds, which policy, which limits.
///
/// ```
/// use detest::{Config, Policy};
/// use detest::sync::{Arc, Mutex};
///
/// let report = Config::new().seeds(100).policy(Policy::Pct { depth: 3 }).run(|| {
///     let counter = Arc::new(Mutex::new(0));
///     let c = counter.clone();
///     let t = detest::thread::spawn(move || *c.lock().unwrap() += 1);
///     *counter.lock().unwrap() += 1;
///     t.join().unwrap();
///     assert_eq!(*counter.lock().unwrap(), 2);
/// });
/// assert!(report.passed());
/// assert_eq!(report.executions, 1 + 100); // PCT sweeps start with the baseline execution
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub seed_start: u64,
    pub seeds: u64,
    pub policy: Policy,
    pub max_steps: u64,
    pub stack_size: usize,
    pub timeout: Option<Duration>,
    /// Stop at the first failing seed (the default).
    pub fail_fast: bool,
    /// Record a trace for every execution (slow; failures are traced by replay anyway).
    pub trace: bool,
    /// Replay each failure with tracing on to attach its trace (the default).
    pub trace_failures: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed_start: 0,
            seeds: 1,
            policy: Policy::RoundRobin,
            max_steps: DEFAULT_MAX_STEPS,
            stack_size: DEFAULT_STACK_SIZE,
            timeout: None,
            fail_fast: true,
            trace: false,
            trace_failures: true,
        }
    }
}

impl Config {
    /// One round-robin execution with seed 0.
    pub fn new() -> Self {
        Self::default()
    }
    /// Run `n` seeds starting at the start seed.
    pub fn seeds(mut self, n: u64) -> Self {
        self.seeds = n;
        self
    }
    /// First seed of the range.
    pub fn seed_start(mut self, s: u64) -> Self {
        self.seed_start = s;
        self
    }
    /// Exactly this seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed_start = s;
        self.seeds = 1;
        self
    }
    pub fn policy(mut self, p: Policy) -> Self {
        self.policy = p;
        self
    }
    pub fn max_steps(mut self, n: u64) -> Self {
        self.max_steps = n;
        self
    }
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.fail_fast = yes;
        self
    }
    pub fn trace(mut self, yes: bool) -> Self {
        self.trace = yes;
        self
    }
    pub fn trace_failures(mut self, yes: bool) -> Self {
        self.trace_failures = yes;
        self
    }

    pub(crate) fn exec_options(&self, trace: bool) -> ExecOptions {
        ExecOptions {
            max_steps: self.max_steps,
            stack_size: self.stack_size,
            timeout: self.timeout,
            trace,
            keep_schedule: true,
        }
    }

    /// The expected length of one execution, which PCT needs to place its change points. It is
    /// measured by one round-robin execution of seed 0, so it depends only on the program: every
    /// seed's execution stays a function of the seed alone, whichever seeds ran before it.
    pub fn estimate_steps<F: Fn()>(&self, f: &F) -> u64 {
        if !self.policy.needs_step_estimate() {
            return 0;
        }
        // Only the length is wanted here: no trace replay even if the baseline fails.
        let baseline = run_execution(
            &self.exec_options(false),
            0,
            "round-robin",
            Box::new(RoundRobin),
            f,
        );
        baseline.steps.max(1)
    }

    /// The baseline execution: round-robin, seed 0, no preemptions. PCT and chaos sweeps run it
    /// first: it measures the execution length PCT's change points are drawn from, and it is
    /// the plain schedule a bug without any preemption shows up in (as shuttle's first PCT
    /// execution is), so [`Config::run`] reports its failure as that of seed 0 under
    /// round-robin. It depends only on the program, never on the seed range, so chunks of a
    /// sweep in different processes agree on it.
    pub fn baseline<F: Fn()>(&self, f: &F) -> Execution {
        let mut exec = run_execution(
            &self.exec_options(false),
            0,
            "round-robin",
            Box::new(RoundRobin),
            f,
        );
        if let Some(failure) = &mut exec.failure {
            if self.trace_failures {
                failure.trace = self
                    .replay_inner(&failure.schedule, 0, "round-robin", f)
                    .trace;
            }
        }
        exec
    }

    /// Runs one seed with a step estimate from [`Config::estimate_steps`].
    pub fn run_seed_with_estimate<F: Fn()>(
        &self,
        seed: u64,
        estimated_steps: u64,
        f: &F,
    ) -> Execution {
        self.run_one(seed, estimated_steps, f, true, &self.policy.to_string())
    }

    fn run_one<F: Fn()>(
        &self,
        seed: u64,
        estimated_steps: u64,
        f: &F,
        keep_schedule: bool,
        policy: &str,
    ) -> Execution {
        let scheduler = self.policy.scheduler(seed, estimated_steps);
        let options = ExecOptions {
            keep_schedule,
            ..self.exec_options(self.trace)
        };
        let mut exec = run_execution(&options, seed, policy, scheduler, f);
        if let Some(failure) = &mut exec.failure {
            if self.trace_failures && failure.trace.is_empty() {
                let replayed = self.replay_inner(&failure.schedule, seed, policy, f);
                failure.trace = replayed.trace;
            }
        }
        exec
    }

    /// Runs exactly one seed.
    pub fn run_seed<F: Fn()>(&self, seed: u64, f: F) -> Execution {
        let est = self.estimate_steps(&f);
        self.run_seed_with_estimate(seed, est, &f)
    }

    /// Replays a recorded schedule once, with tracing on.
    pub fn replay<F: Fn()>(&self, schedule: &Schedule, f: F) -> Execution {
        self.replay_inner(schedule, 0, "replay", &f)
    }

    /// Replays a schedule as `seed` (the seed only labels the report and seeds any random draws
    /// beyond the end of the schedule).
    pub fn replay_seed<F: Fn()>(&self, schedule: &Schedule, seed: u64, f: F) -> Execution {
        self.replay_inner(schedule, seed, &self.policy.to_string(), &f)
    }

    fn replay_inner<F: Fn()>(
        &self,
        schedule: &Schedule,
        seed: u64,
        policy: &str,
        f: &F,
    ) -> Execution {
        run_execution(
            &self.exec_options(true),
            seed,
            policy,
            Box::new(Replay::new(schedule)),
            f,
        )
    }

    /// Runs the seed range and returns what happened, never panicking on a test failure.
    pub fn run<F: Fn()>(&self, f: F) -> Report {
        let started = Instant::now();
        let mut report = Report::default();
        let mut est = 0;
        if self.seeds > 0 && self.policy.needs_step_estimate() {
            let baseline = self.baseline(&f);
            est = baseline.steps.max(1);
            report.executions += 1;
            report.steps += baseline.steps;
            if let Some(failure) = baseline.failure {
                report.failures.push(failure);
                if self.fail_fast {
                    report.elapsed = started.elapsed();
                    return report;
                }
            }
        }
        let policy = self.policy.to_string();
        for seed in self.seed_start..self.seed_start.saturating_add(self.seeds) {
            let exec = self.run_one(seed, est, &f, false, &policy);
            report.executions += 1;
            report.steps += exec.steps;
            if let Some(failure) = exec.failure {
                report.failures.push(failure);
                if self.fail_fast {
                    break;
                }
            }
        }
        report.elapsed = started.elapsed();
        report
    }

    /// Runs the seed range and panics with a readable report if any execution fails.
    pub fn check<F: Fn()>(&self, f: F) {
        let report = self.run(f);
        if let Some(failure) = report.failures.first() {
            panic!("{}", crate::render::failure_block(failure, None));
        }
    }
}

/// Runs `f` once under detest with the default configuration and panics on failure.
pub fn check<F: Fn()>(f: F) {
    Config::new().check(f)
}
