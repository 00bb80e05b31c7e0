//! Configuring and running sweeps: the programmatic API under `#[detest]` and `cargo detest`.

use crate::report::{Execution, Failure, Report};
use crate::rt::execution::{run_execution, ExecOptions};
use crate::schedule::Schedule;
use crate::scheduler::{
    EventEstimate, FirstRelease, Pct, Portfolio, Pos, RandomWalk, Replay, Rotate, RoundRobin,
    Scheduler, Urw, UrwProbe,
};
use crate::seeds::{SeedRange, SeedRangeError};
use std::fmt;
use std::time::{Duration, Instant};

/// Default bound on scheduling steps per execution.
pub const DEFAULT_MAX_STEPS: u64 = 1_000_000;
/// Default stack size of a logical thread's coroutine.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;
/// Default PCT depth.
pub const DEFAULT_PCT_DEPTH: u32 = 3;
/// The seed of URW's probe execution (a random walk; see [`Config::estimate_events`]).
pub(crate) const URW_PROBE_SEED: u64 = 0;

/// A scheduling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Non-preemptive round-robin (no exploration; seeds vary only `detest::rand` and time).
    #[default]
    RoundRobin,
    /// Preemptive round-robin: a switch to the next task at every choice point (no
    /// exploration either). PCT and chaos sweeps run it once before their seeds.
    Rotate,
    /// Round-robin, except that the first task to release something (an unlock, a notify)
    /// drops below all others for the rest of the execution: it runs only when nobody else can
    /// (or one yields). PCT and chaos sweeps run it once too.
    FirstRelease,
    /// Uniformly random choice at every choice point.
    Random,
    /// Probabilistic concurrency testing with the given depth.
    Pct { depth: u32 },
    /// Partial-order sampling.
    Pos,
    /// The exploring default: a per-seed portfolio of PCT, POS and random walk.
    Chaos,
    /// Selectively uniform random walk (SURW, shuttle's `check_urw`): a task is chosen with
    /// probability proportional to the events it has left, estimated by one probe execution
    /// (see [`crate::scheduler::Urw`] and [`Config::estimate_events`]).
    Urw,
}

impl Policy {
    /// Parses a policy name as `DETEST_POLICY` and `--policy` take it: `round-robin` (or `rr`),
    /// `rotate`, `first-release`, `random`, `pct` (depth 3), `pct:D` or `pctD` (depth D >= 1,
    /// as in `pct:3` or `pct3`), `pos`, `chaos`, `urw` (or `surw`). Case and surrounding spaces are ignored.
    ///
    /// ```
    /// use detest::Policy;
    ///
    /// assert_eq!(Policy::parse("pct3"), Ok(Policy::Pct { depth: 3 }));
    /// assert_eq!(Policy::parse("PCT:5"), Ok(Policy::Pct { depth: 5 }));
    /// assert!(Policy::parse("pct:0").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Policy, String> {
        let text = text.trim().to_ascii_lowercase();
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            // `pct3`: the depth written right after the name.
            None => match text.strip_prefix("pct") {
                Some(depth) if !depth.is_empty() => ("pct", Some(depth)),
                _ => (text.as_str(), None),
            },
        };
        let policy = match name {
            "rr" | "round-robin" | "roundrobin" => Policy::RoundRobin,
            "rotate" => Policy::Rotate,
            "first-release" => Policy::FirstRelease,
            "random" => Policy::Random,
            "pct" => {
                let depth = match arg {
                    Some(a) => a.parse::<u32>().ok().filter(|d| *d >= 1).ok_or_else(|| {
                        format!("PCT depth must be a whole number >= 1 (as in pct:3 or pct3), got `{a}`")
                    })?,
                    None => DEFAULT_PCT_DEPTH,
                };
                return Ok(Policy::Pct { depth });
            }
            "pos" => Policy::Pos,
            "chaos" => Policy::Chaos,
            "urw" | "surw" => Policy::Urw,
            _ => {
                return Err(format!(
                    "unknown policy `{text}` (expected round-robin, rr, rotate, first-release, random, pct, pct:DEPTH, pctDEPTH, pos, chaos or urw)"
                ))
            }
        };
        if arg.is_some() {
            return Err(format!("policy `{name}` takes no argument"));
        }
        Ok(policy)
    }

    /// PCT and chaos sweeps begin with [`Config::fixed_executions`].
    pub(crate) fn has_fixed_executions(self) -> bool {
        matches!(self, Policy::Pct { .. } | Policy::Chaos)
    }

    pub(crate) fn scheduler(self, seed: u64, estimated_choices: u64) -> Box<dyn Scheduler> {
        self.scheduler_with(seed, estimated_choices, &EventEstimate::default())
    }

    /// [`Policy::scheduler`] with URW's event estimate (the other policies ignore it).
    pub(crate) fn scheduler_with(
        self,
        seed: u64,
        estimated_choices: u64,
        events: &EventEstimate,
    ) -> Box<dyn Scheduler> {
        match self {
            Policy::RoundRobin => Box::new(RoundRobin),
            Policy::Rotate => Box::new(Rotate),
            Policy::FirstRelease => Box::<FirstRelease>::default(),
            Policy::Random => Box::new(RandomWalk::new(seed)),
            Policy::Pct { depth } => Box::new(Pct::new(seed, depth, estimated_choices)),
            Policy::Pos => Box::new(Pos::new(seed)),
            Policy::Chaos => Box::new(Portfolio::new(seed, estimated_choices)),
            Policy::Urw => Box::new(Urw::new(seed, events.clone())),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::RoundRobin => f.write_str("round-robin"),
            Policy::Rotate => f.write_str("rotate"),
            Policy::FirstRelease => f.write_str("first-release"),
            Policy::Random => f.write_str("random"),
            Policy::Pct { depth } => write!(f, "pct:{depth}"),
            Policy::Pos => f.write_str("pos"),
            Policy::Chaos => f.write_str("chaos"),
            Policy::Urw => f.write_str("urw"),
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::parse(s)
    }
}

/// The fixed executions' policies, in order (see [`Config::fixed_executions`]); the protocol
/// spells them in [`crate::protocol::FIXED_POLICIES`].
const FIXED: [Policy; 3] = [Policy::RoundRobin, Policy::Rotate, Policy::FirstRelease];

#[test]
fn the_protocol_spells_the_fixed_policies() {
    assert_eq!(
        FIXED.map(|p| p.to_string()),
        crate::protocol::FIXED_POLICIES.map(str::to_owned)
    );
}

/// PCT's choice-point estimate from the fixed executions' choice counts: the larger of
/// round-robin's and first-release's, or of round-robin's and rotate's when first-release does
/// not run (round-robin passed no release). First-release is itself a PCT schedule (one change
/// point), so its length is that of a PCT execution; rotate's is not where tasks contend for a
/// lock: a switch at every choice point wakes a waiter that retries and blocks again, so its
/// count grows with the square of the contenders (8,606 on cs_twostage_100, whose PCT
/// executions pass 800-1,000), and change points drawn over it mostly fall past the end.
fn estimate_of(round_robin: u64, rotate: Option<u64>, first_release: Option<u64>) -> u64 {
    round_robin
        .max(first_release.or(rotate).unwrap_or(0))
        .max(1)
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
/// // PCT sweeps begin with fixed executions: round-robin, rotate and (the program releases a
/// // lock) first-release.
/// assert_eq!(report.executions, 3 + 100);
/// ```
///
/// Exactly N executions under PCT or chaos (a benchmark): leave the fixed executions out with
/// [`Config::fixed_first`], and give PCT its choice-point estimate, which it would otherwise
/// measure with two probe executions of its own (counted in [`Report::executions`] too):
///
/// ```
/// use detest::{Config, Policy};
///
/// let report = Config::new()
///     .seeds(50)
///     .policy(Policy::Chaos)
///     .fixed_first(false)
///     .choice_estimate(20)
///     .run(|| {
///         let t = detest::thread::spawn(|| detest::thread::yield_now());
///         t.join().unwrap();
///     });
/// assert_eq!(report.executions, 50);
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
    /// Replay each failure with tracing on to attach its trace (the default). The replay is one
    /// more call of the body, counted in [`Report::executions`].
    pub trace_failures: bool,
    /// Begin a PCT or chaos sweep with the fixed executions ([`Config::fixed_executions`]; the
    /// default). Off, [`Config::run`] runs the seeds only.
    pub fixed_first: bool,
    /// PCT's expected number of choice points per execution; `None` (the default) measures it
    /// ([`Config::estimate_choices`]).
    pub choice_estimate: Option<u64>,
    /// Condvar waits and parks may return spuriously, as std allows (the default). The
    /// exploring policies draw one rarely; the deterministic ones never do.
    pub spurious_wakeups: bool,
    /// Which stores atomic loads may read (default: [`MemoryModel::Weak`]).
    pub memory_model: MemoryModel,
}

/// Which stores an atomic load may read.
///
/// ```
/// use detest::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
/// use detest::{Config, MemoryModel};
/// use std::sync::Arc;
///
/// // Message passing with Relaxed: under the weak model the reader may see the flag but not
/// // the data; under SeqCst every load reads the newest store.
/// let mp = || {
///     let (data, flag) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicBool::new(false)));
///     let (d, f) = (data.clone(), flag.clone());
///     let t = detest::thread::spawn(move || {
///         d.store(1, Relaxed);
///         f.store(true, Relaxed);
///     });
///     if flag.load(Relaxed) {
///         assert_eq!(data.load(Relaxed), 1, "stale data");
///     }
///     t.join().unwrap();
/// };
/// let weak = Config::new().explore(u32::MAX, 10_000, mp);
/// assert!(!weak.report.passed());
/// let sc = Config::new().memory_model(MemoryModel::SeqCst).explore(u32::MAX, 10_000, mp);
/// assert!(sc.complete && sc.report.passed());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryModel {
    /// C11/C++20: a load may read any store coherence, happens-before and the SeqCst order
    /// allow, not only the newest (see `detest::sync::atomic`).
    #[default]
    Weak,
    /// Every load reads the newest store (sequential consistency); happens-before is still
    /// tracked. `#[detest(memory_model = "sc")]`, `DETEST_MEMORY_MODEL=sc`.
    SeqCst,
}

impl MemoryModel {
    /// Parses `weak` or `sc` (the attribute's and `DETEST_MEMORY_MODEL`'s spelling).
    pub fn parse(s: &str) -> Option<MemoryModel> {
        match s {
            "weak" => Some(MemoryModel::Weak),
            "sc" => Some(MemoryModel::SeqCst),
            _ => None,
        }
    }
}

impl fmt::Display for MemoryModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemoryModel::Weak => "weak",
            MemoryModel::SeqCst => "sc",
        })
    }
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
            fixed_first: true,
            choice_estimate: None,
            spurious_wakeups: true,
            memory_model: MemoryModel::Weak,
        }
    }
}

impl Config {
    /// One round-robin execution with seed 0.
    pub fn new() -> Self {
        Self::default()
    }
    /// Run `n` seeds starting at the start seed. The range must end at `u64::MAX` or below
    /// (see [`Config::seed_range`]).
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
    /// Whether a PCT or chaos sweep begins with the fixed executions (the default: yes). With
    /// `false`, [`Config::run`] calls the body once per seed, plus the two probes that measure
    /// PCT's estimate unless [`Config::choice_estimate`] gives it.
    pub fn fixed_first(mut self, yes: bool) -> Self {
        self.fixed_first = yes;
        self
    }
    /// PCT's (and chaos's) expected number of choice points per execution, instead of
    /// measuring it with the fixed executions. Other policies ignore it.
    pub fn choice_estimate(mut self, choices: u64) -> Self {
        self.choice_estimate = Some(choices.max(1));
        self
    }

    /// Whether condvar waits and `park` may return spuriously (default: yes, as std allows).
    /// Only the exploring policies (random, PCT, POS, chaos) ever draw one, rarely; off, no
    /// spurious decision is taken or recorded. A schedule recorded with them on replays only
    /// with them on.
    pub fn spurious_wakeups(mut self, yes: bool) -> Self {
        self.spurious_wakeups = yes;
        self
    }

    /// Which stores atomic loads may read (default: [`MemoryModel::Weak`]). With
    /// [`MemoryModel::SeqCst`] every load reads the newest store and no read-from decision is
    /// taken or recorded; a schedule recorded under one model replays only under it.
    pub fn memory_model(mut self, model: MemoryModel) -> Self {
        self.memory_model = model;
        self
    }

    /// The seeds this configuration runs, or an error when `seed_start` + `seeds` would go past
    /// `u64::MAX` (a range is never silently cut short).
    ///
    /// ```
    /// use detest::Config;
    ///
    /// assert_eq!(Config::new().seed(u64::MAX).seed_range().unwrap().count(), 1);
    /// assert!(Config::new().seed_start(u64::MAX - 4).seeds(10).seed_range().is_err());
    /// ```
    pub fn seed_range(&self) -> Result<SeedRange, SeedRangeError> {
        SeedRange::new(self.seed_start, self.seeds)
    }

    /// [`Config::seed_range`], panicking on a range past `u64::MAX`: for callers that take the
    /// range from a `Config` they already checked.
    #[track_caller]
    pub(crate) fn checked_range(&self) -> SeedRange {
        self.seed_range()
            .unwrap_or_else(|e| panic!("detest: invalid seed range: {e}"))
    }

    pub(crate) fn exec_options(&self, trace: bool) -> ExecOptions {
        ExecOptions {
            max_steps: self.max_steps,
            stack_size: self.stack_size,
            timeout: self.timeout,
            trace,
            keep_schedule: true,
            spurious_wakeups: self.spurious_wakeups,
            weak_memory: self.memory_model == MemoryModel::Weak,
        }
    }

    /// The expected number of choice points of one execution, which PCT needs to place its
    /// change points: the larger count of round-robin and first-release (or rotate, when
    /// first-release does not run; see `estimate_of` and [`Config::fixed_executions`]), so it
    /// depends only on the program and every
    /// seed's execution stays a function of the seed alone, whichever seeds ran before it.
    /// [`Config::choice_estimate`], when given, is returned as it is.
    pub fn estimate_choices<F: Fn()>(&self, f: &F) -> u64 {
        if !self.policy.has_fixed_executions() {
            return 0;
        }
        if let Some(estimate) = self.choice_estimate {
            return estimate;
        }
        // Only the counts are wanted here: no trace replay even if one fails.
        let round_robin = self.run_fixed(Policy::RoundRobin, f);
        let count = |policy| self.run_fixed(policy, f).schedule.choice_count() as u64;
        let rr = round_robin.schedule.choice_count() as u64;
        if round_robin.release_points == 0 {
            estimate_of(rr, Some(count(Policy::Rotate)), None)
        } else {
            estimate_of(rr, None, Some(count(Policy::FirstRelease)))
        }
    }

    /// URW's event estimate ([`EventEstimate`]): the counted events of each task in one probe
    /// execution, a random walk of seed 0 (`URW_PROBE_SEED`) that depends only on the program,
    /// never on the seed range (as PCT's estimate does). Empty for the other policies, which
    /// need none. A failure of the probe is not reported here ([`Config::run`] reports it).
    pub fn estimate_events<F: Fn()>(&self, f: &F) -> EventEstimate {
        if self.policy != Policy::Urw {
            return EventEstimate::default();
        }
        self.probe_events(f).1
    }

    /// The URW probe, reported as seed 0 of `random` (it makes exactly that
    /// execution's decisions, so `DETEST_POLICY=random` replays it), and its estimate.
    fn probe_events<F: Fn()>(&self, f: &F) -> (Execution, EventEstimate) {
        let (probe, result) = UrwProbe::new(URW_PROBE_SEED);
        let label = Policy::Random.to_string();
        let exec = run_execution(
            &self.exec_options(false),
            URW_PROBE_SEED,
            &label,
            Box::new(probe),
            f,
        );
        (exec, result.estimate())
    }

    /// One fixed execution: seed 0 of `policy`, labelled with its name.
    fn run_fixed<F: Fn()>(&self, policy: Policy, f: &F) -> Execution {
        let label = policy.to_string();
        run_execution(
            &self.exec_options(false),
            0,
            &label,
            policy.scheduler(0, 0),
            f,
        )
    }

    /// The fixed executions PCT and chaos sweeps begin with, before any seed, each reported as
    /// seed 0 of its own policy (so `DETEST_POLICY=rotate DETEST_SEED=0` replays that one):
    ///
    /// 1. [`Policy::RoundRobin`], no preemption: the plain schedule, where a bug that needs no
    ///    preemption shows (shuttle's PCT also begins with such a run);
    /// 2. [`Policy::Rotate`], a switch at every choice point: the most interleaved schedule,
    ///    where opposite lock orders deadlock and a read-modify-write is split at once;
    /// 3. [`Policy::FirstRelease`], round-robin except that the first task to release
    ///    something drops below all others for the rest of the execution (PCT with its change
    ///    point at the first release), so other tasks run on in the gap after its first
    ///    critical section. Left out when round-robin passed no choice point after a release:
    ///    it would be the same execution again.
    ///
    /// They depend only on the program, never on the seed range, so chunks of a sweep in
    /// different processes agree on them, and the first two give PCT its estimate. With
    /// `fail_fast`, none runs after a failing one.
    pub fn fixed_executions<F: Fn()>(&self, f: &F) -> Vec<Execution> {
        self.fixed_executions_with(f, &mut |_| {})
    }

    /// [`Config::fixed_executions`], calling `on_start` with the policy of each before it runs:
    /// a runner's watchdog blames a hang on the right one.
    pub(crate) fn fixed_executions_with<F: Fn()>(
        &self,
        f: &F,
        on_start: &mut dyn FnMut(Policy),
    ) -> Vec<Execution> {
        let mut out: Vec<Execution> = Vec::with_capacity(FIXED.len());
        for fixed in FIXED {
            if fixed == Policy::FirstRelease && out[0].release_points == 0 {
                continue;
            }
            on_start(fixed);
            let mut exec = self.run_fixed(fixed, f);
            let failed = exec.failure.is_some();
            if let Some(failure) = exec.failure.as_mut().filter(|_| self.trace_failures) {
                self.attach_trace(failure, f);
            }
            out.push(exec);
            if failed && self.fail_fast {
                break;
            }
        }
        out
    }

    /// PCT's estimate from the fixed executions, as [`Config::estimate_choices`] measures it;
    /// `None` when a fail-fast stop left out one it needs. (It does not look at
    /// [`Config::choice_estimate`].)
    pub fn estimate_from(fixed: &[Execution]) -> Option<u64> {
        let count = |i: usize| fixed.get(i).map(|e| e.schedule.choice_count() as u64);
        let round_robin = fixed.first()?;
        let rr = round_robin.schedule.choice_count() as u64;
        Some(if round_robin.release_points == 0 {
            estimate_of(rr, Some(count(1)?), None)
        } else {
            estimate_of(rr, None, Some(count(2)?))
        })
    }

    /// Runs one seed with a choice-point estimate from [`Config::estimate_choices`]. Under URW
    /// this runs its probe first (see [`Config::estimate_events`]); a caller running many
    /// seeds measures that once and calls [`Config::run_seed_with_estimates`].
    pub fn run_seed_with_estimate<F: Fn()>(
        &self,
        seed: u64,
        estimated_choices: u64,
        f: &F,
    ) -> Execution {
        let events = self.estimate_events(f);
        self.run_seed_with_estimates(seed, estimated_choices, &events, f)
    }

    /// Runs one seed with PCT's choice-point estimate and URW's event estimate
    /// ([`Config::estimate_choices`], [`Config::estimate_events`]).
    pub fn run_seed_with_estimates<F: Fn()>(
        &self,
        seed: u64,
        estimated_choices: u64,
        events: &EventEstimate,
        f: &F,
    ) -> Execution {
        self.run_one(
            seed,
            (estimated_choices, events),
            f,
            true,
            &self.policy.to_string(),
        )
    }

    fn run_one<F: Fn()>(
        &self,
        seed: u64,
        (estimated_choices, events): (u64, &EventEstimate),
        f: &F,
        keep_schedule: bool,
        policy: &str,
    ) -> Execution {
        let scheduler = self.policy.scheduler_with(seed, estimated_choices, events);
        let options = ExecOptions {
            keep_schedule,
            ..self.exec_options(self.trace)
        };
        let mut exec = run_execution(&options, seed, policy, scheduler, f);
        if let Some(failure) = exec.failure.as_mut().filter(|_| self.trace_failures) {
            self.attach_trace(failure, f);
        }
        exec
    }

    /// Attaches a trace to a failure found without one by replaying its schedule with tracing
    /// on. A replay that does not reproduce the failure (a nondeterministic program) has
    /// nothing useful to show, and attaches nothing.
    pub(crate) fn attach_trace<F: Fn()>(&self, failure: &mut Failure, f: &F) {
        if !failure.trace.is_empty() {
            return;
        }
        let replay = self.replay_inner(&failure.schedule, failure.seed, &failure.policy, f);
        if replay
            .failure
            .as_ref()
            .is_some_and(|r| r.kind == failure.kind && r.message == failure.message)
        {
            failure.trace = replay.trace;
        }
    }

    /// Runs exactly one seed.
    pub fn run_seed<F: Fn()>(&self, seed: u64, f: F) -> Execution {
        let est = self.estimate_choices(&f);
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
    ///
    /// A PCT or chaos sweep begins with the fixed executions (unless [`Config::fixed_first`]
    /// is off); a URW sweep with its probe (see [`Config::estimate_events`]), whose failure is
    /// reported as seed 0 of `random`. [`Report::executions`] counts every call of the body: the fixed executions,
    /// the seeds, PCT's estimate probes and the replays that attach a trace to a failure
    /// ([`Config::trace_failures`]); [`Report::steps`] adds up the steps of the fixed
    /// executions and the seeds.
    ///
    /// # Panics
    /// When the seed range goes past `u64::MAX` ([`Config::seed_range`]), before running
    /// anything.
    pub fn run<F: Fn()>(&self, f: F) -> Report {
        let range = self.checked_range();
        let started = Instant::now();
        let mut report = Report::default();
        let calls = std::cell::Cell::new(0u64);
        let f = || {
            calls.set(calls.get() + 1);
            f()
        };
        let (fixed, est) = match (range.is_empty(), self.policy.has_fixed_executions()) {
            (false, true) if self.fixed_first => {
                let fixed = self.fixed_executions(&f);
                // A fail-fast sweep stops at a failing fixed execution, before the seeds.
                let est = self
                    .choice_estimate
                    .or_else(|| Config::estimate_from(&fixed))
                    .unwrap_or(1);
                (fixed, est)
            }
            (false, true) => (Vec::new(), self.estimate_choices(&f)),
            _ => (Vec::new(), 0),
        };
        let (fixed, events) = match range.is_empty() || self.policy != Policy::Urw {
            true => (fixed, EventEstimate::default()),
            false => {
                let (mut probe, events) = self.probe_events(&f);
                if let Some(failure) = probe.failure.as_mut().filter(|_| self.trace_failures) {
                    self.attach_trace(failure, &f);
                }
                (vec![probe], events)
            }
        };
        let policy = self.policy.to_string();
        let runs = fixed.into_iter().chain(
            range
                .iter()
                .map(|seed| self.run_one(seed, (est, &events), &f, false, &policy)),
        );
        for exec in runs {
            report.steps += exec.steps;
            if let Some(failure) = exec.failure {
                report.failures.push(failure);
                if self.fail_fast {
                    break;
                }
            }
        }
        report.executions = calls.get();
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
