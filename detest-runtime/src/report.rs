//! What a run produced: plain data, no behaviour beyond formatting.

use crate::render::count;
use crate::schedule::Schedule;
use crate::trace::TraceEvent;
use std::fmt;
use std::time::Duration;

/// How an execution failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// A task panicked (and nobody joined it to observe the panic, or the panic reached the test).
    Panic,
    /// No task could run: every live task was blocked.
    Deadlock,
    /// The execution took more scheduling steps than allowed: a livelock or a spin loop.
    StepLimit,
    /// The execution ran longer than the wall-clock timeout.
    Timeout,
    /// Replaying a schedule diverged from it: the program is not deterministic.
    Nondeterminism,
    /// Two accesses to a `detest::cell::UnsafeCell`, at least one a write, with no
    /// happens-before between them (see [`crate::cell`]).
    DataRace,
}

impl FailureKind {
    /// The lower-case name used in fixtures, JSON and the `expect = "..."` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::Deadlock => "deadlock",
            FailureKind::StepLimit => "step-limit",
            FailureKind::Timeout => "timeout",
            FailureKind::Nondeterminism => "nondeterminism",
            FailureKind::DataRace => "data-race",
        }
    }

    /// Parses the name produced by [`FailureKind::as_str`] (also accepts `_` for `-`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.replace('_', "-").as_str() {
            "panic" => FailureKind::Panic,
            "deadlock" => FailureKind::Deadlock,
            "step-limit" => FailureKind::StepLimit,
            "timeout" => FailureKind::Timeout,
            "nondeterminism" => FailureKind::Nondeterminism,
            "data-race" => FailureKind::DataRace,
            _ => return None,
        })
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A logical task as named in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: u32,
    pub name: Option<String>,
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "task {} ({name})", self.id),
            None if self.id == 0 => write!(f, "task 0 (main)"),
            None => write!(f, "task {}", self.id),
        }
    }
}

/// One failing execution.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The seed that produced it.
    pub seed: u64,
    /// The policy, in the form `DETEST_POLICY` accepts (`pct:3`, `random`, ...).
    pub policy: String,
    pub kind: FailureKind,
    /// The panic message, or a description (for a deadlock: who waits on what).
    pub message: String,
    /// `file:line:column` of the panic, when known.
    pub location: Option<String>,
    /// The task that failed (for a panic), if any.
    pub task: Option<TaskInfo>,
    /// Every decision of the failing execution: replaying it reproduces the failure.
    pub schedule: Schedule,
    /// Scheduling steps taken before the failure.
    pub steps: u64,
    /// The recorded trace, when tracing was on (replays record it).
    pub trace: Vec<TraceEvent>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at seed {} (policy {})",
            self.kind, self.seed, self.policy
        )?;
        if let Some(task) = &self.task {
            write!(f, " in {task}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(loc) = &self.location {
            write!(f, " at {loc}")?;
        }
        Ok(())
    }
}

/// The outcome of one execution.
#[derive(Clone, Debug)]
pub struct Execution {
    pub seed: u64,
    pub steps: u64,
    /// Switches away from a task that could have continued.
    pub preemptions: u32,
    /// Choice points right after a release (an unlock, a notify, ...): where the
    /// `first-release` policy first differs from round-robin.
    pub release_points: u32,
    pub schedule: Schedule,
    pub failure: Option<Failure>,
    pub trace: Vec<TraceEvent>,
}

/// The outcome of a sweep over seeds.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Calls of the test body: every execution, including PCT's estimate probes and the
    /// replays that attach a trace to a failure (see [`crate::Config::run`]).
    pub executions: u64,
    /// Scheduling steps over all executions.
    pub steps: u64,
    /// Failing executions, in seed order.
    pub failures: Vec<Failure>,
    /// Wall-clock time of the sweep.
    pub elapsed: Duration,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}, {}, {} in {:.3}s",
            count(self.executions, "execution"),
            count(self.steps, "step"),
            count(self.failures.len() as u64, "failure"),
            self.elapsed.as_secs_f64()
        )?;
        for failure in &self.failures {
            writeln!(f, "  {failure}")?;
            let schedule = failure.schedule.encode();
            writeln!(f, "    schedule: {}", crate::shown_schedule(&schedule))?;
        }
        Ok(())
    }
}
