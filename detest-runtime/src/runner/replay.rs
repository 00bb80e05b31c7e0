//! Running saved fixture entries, and attaching traces to failures.

use crate::fixture::FixtureEntry;
use crate::{Config, Execution, Failure, FailureKind, Policy, Schedule};

/// PCT's choice-point estimate, measured at most once per test (it costs two fixed
/// executions), or taken from the fixed executions when the sweep checked them anyway; and
/// URW's event estimate, measured once too (one probe execution).
#[derive(Default)]
pub(crate) struct Estimate(Option<u64>, Option<crate::scheduler::EventEstimate>);

impl Estimate {
    pub(crate) fn events<F: Fn()>(
        &mut self,
        config: &Config,
        body: &F,
    ) -> crate::scheduler::EventEstimate {
        self.1
            .get_or_insert_with(|| config.estimate_events(body))
            .clone()
    }

    pub(crate) fn get<F: Fn()>(&mut self, config: &Config, body: &F) -> u64 {
        if !config.policy.has_fixed_executions() {
            return 0;
        }
        *self.0.get_or_insert_with(|| config.estimate_choices(body))
    }

    /// Takes the estimate from the fixed executions, when they include what it needs.
    pub(crate) fn set(&mut self, estimate: Option<u64>) {
        if estimate.is_some() {
            self.0 = estimate;
        }
    }
}

/// How a fixture entry was replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum How {
    /// By the shrunk schedule stored with the entry (it still fails).
    ShrunkSchedule,
    /// By the original schedule; `shrunk` says why not by the shrunk one, when the entry has one.
    Schedule { shrunk: Option<String> },
    /// The schedule no longer applies (the code changed): ran the seed instead.
    SeedFallback(String),
    /// The entry has no schedule (a crash or hang saved by `cargo detest`).
    SeedOnly,
}

impl How {
    pub(crate) fn describe(&self) -> String {
        match self {
            How::ShrunkSchedule => "by shrunk schedule".to_owned(),
            How::Schedule { shrunk: None } => "by schedule".to_owned(),
            How::Schedule { shrunk: Some(why) } => format!("by schedule ({why})"),
            How::SeedFallback(why) => format!(
                "by seed: the saved schedule no longer applies ({})",
                why.lines().next().unwrap_or("")
            ),
            How::SeedOnly => "by seed (no schedule was saved)".to_owned(),
        }
    }

    /// Whether the run followed a saved schedule (so its failure is already saved, exactly).
    pub(crate) fn by_schedule(&self) -> bool {
        matches!(self, How::ShrunkSchedule | How::Schedule { .. })
    }

    /// `shrunk_schedule`, `schedule` or `seed`: what the worker protocol reports.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            How::ShrunkSchedule => "shrunk_schedule",
            How::Schedule { .. } => "schedule",
            How::SeedFallback(_) | How::SeedOnly => "seed",
        }
    }
}

/// Replays one saved entry: by its shrunk schedule if it has one and that still fails, else by
/// its schedule, falling back to the seed when the schedule diverges.
pub(crate) fn replay_entry<F: Fn()>(
    base: &Config,
    entry: &FixtureEntry,
    estimate: &mut Estimate,
    body: &F,
) -> (Execution, How) {
    let config = Config {
        policy: Policy::parse(&entry.policy).unwrap_or(base.policy),
        ..base.clone()
    };
    let mut shrunk_note = None;
    if !entry.shrunk_schedule.is_empty() {
        shrunk_note = Some(match Schedule::decode(&entry.shrunk_schedule) {
            Ok(schedule) => {
                let exec = config.replay_seed(&schedule, entry.seed, body);
                match &exec.failure {
                    Some(f) if f.kind == FailureKind::Nondeterminism => {
                        "the shrunk schedule no longer applies".to_owned()
                    }
                    Some(_) => return (exec, How::ShrunkSchedule),
                    None => "the shrunk schedule passes".to_owned(),
                }
            }
            Err(e) => format!("the shrunk schedule is invalid: {e}"),
        });
    }
    let how = if entry.schedule.is_empty() {
        How::SeedOnly
    } else {
        match Schedule::decode(&entry.schedule) {
            Ok(schedule) => {
                let exec = config.replay_seed(&schedule, entry.seed, body);
                match &exec.failure {
                    Some(f) if f.kind == FailureKind::Nondeterminism => {
                        How::SeedFallback(f.message.clone())
                    }
                    _ => {
                        return (
                            exec,
                            How::Schedule {
                                shrunk: shrunk_note,
                            },
                        )
                    }
                }
            }
            Err(e) => How::SeedFallback(e.to_string()),
        }
    };
    let est = estimate.get(&config, body);
    (config.run_seed_with_estimate(entry.seed, est, body), how)
}

/// Attaches a trace to a failure found without one, by replaying its schedule.
pub(crate) fn traced<F: Fn()>(config: &Config, mut failure: Failure, body: &F) -> Failure {
    config.attach_trace(&mut failure, body);
    failure
}
