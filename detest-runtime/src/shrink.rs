//! Shrinking a failing schedule (after DEMi, NSDI'16): fewer preemptions and fewer steps make a
//! failure far easier to read. The failing schedule is turned into *directives* (the decisions
//! that differ from "keep running the current task", and the picks that differ from option 0: a
//! waiter other than the longest, a spurious wake-up, a barrier leader other than the last to
//! arrive), keyed by task-local progress so removing one does not shift the others. Delta
//! debugging (ddmin) then removes preemptive directives, then the remaining ones, keeping only
//! candidates that fail with the same kind at the same location. Every candidate runs on the deterministic executor, so the result is exact.
//!
//! ```
//! use detest::sync::atomic::{AtomicU32, Ordering};
//! use detest::sync::Arc;
//! use detest::{thread, Config, Policy};
//!
//! let body = || {
//!     let n = Arc::new(AtomicU32::new(0));
//!     let handles: Vec<_> = (0..3).map(|_| {
//!         let n = n.clone();
//!         thread::spawn(move || {
//!             let v = n.load(Ordering::SeqCst);
//!             n.store(v + 1, Ordering::SeqCst);
//!         })
//!     }).collect();
//!     for h in handles { h.join().unwrap(); }
//!     assert_eq!(n.load(Ordering::SeqCst), 3);
//! };
//! let config = Config::new().seeds(1000).policy(Policy::Random);
//! let failure = config.run(body).failures.remove(0);
//! let shrunk = config.shrink(&failure, body).unwrap();
//! assert_eq!(shrunk.preemptions_after, 1); // one preemption is all a lost update needs
//! assert!(Config::new().replay(&shrunk.schedule, body).failure.is_some());
//! println!("{}", shrunk.summary());
//! ```

use crate::config::Config;
use crate::render::count;
use crate::report::{Failure, FailureKind};
use crate::rt::execution::run_execution;
use crate::schedule::Schedule;
use crate::scheduler::{Directive, Guided, Recording, Replay};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Bounds on the work shrinking may do.
#[derive(Clone, Copy, Debug)]
pub struct ShrinkBudget {
    pub max_executions: u64,
    pub max_time: Duration,
}

impl Default for ShrinkBudget {
    fn default() -> Self {
        ShrinkBudget {
            max_executions: 2_000,
            max_time: Duration::from_secs(10),
        }
    }
}

/// The outcome of shrinking one failure.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// Replays the failure with fewer preemptions and steps.
    pub schedule: Schedule,
    /// The failure as the shrunk schedule produces it (traced).
    pub failure: Failure,
    pub steps_before: u64,
    pub steps_after: u64,
    pub preemptions_before: u32,
    pub preemptions_after: u32,
    /// Candidate executions run.
    pub executions: u64,
    pub elapsed: Duration,
    /// False when the budget ran out (the result still fails, but may not be minimal).
    pub complete: bool,
}

impl Shrunk {
    /// `shrunk 412 → 23 steps, 9 → 1 preemption in 0.4 s (412 executions)`: each noun agrees
    /// with the number next to it.
    pub fn summary(&self) -> String {
        format!(
            "shrunk {} → {}, {} → {} in {:.1} s ({}{})",
            self.steps_before,
            count(self.steps_after, "step"),
            self.preemptions_before,
            count(u64::from(self.preemptions_after), "preemption"),
            self.elapsed.as_secs_f64(),
            count(self.executions, "execution"),
            if self.complete {
                ""
            } else {
                ", budget exhausted"
            }
        )
    }
}

fn same_failure(a: &Failure, kind: FailureKind, location: &Option<String>) -> bool {
    a.kind == kind && &a.location == location
}

struct Search<'a, F: Fn()> {
    config: &'a Config,
    /// The failure's seed: candidates draw `detest::rand` values as the failing run did.
    seed: u64,
    body: &'a F,
    kind: FailureKind,
    location: Option<String>,
    budget: ShrinkBudget,
    started: Instant,
    executions: u64,
    exhausted: bool,
}

impl<F: Fn()> Search<'_, F> {
    fn fails(&mut self, directives: &[Directive]) -> bool {
        if self.executions >= self.budget.max_executions
            || self.started.elapsed() > self.budget.max_time
        {
            self.exhausted = true;
            return false;
        }
        self.executions += 1;
        let mut options = self.config.exec_options(false);
        options.keep_schedule = false;
        let exec = run_execution(
            &options,
            self.seed,
            "shrink",
            Box::new(Guided::new(directives)),
            self.body,
        );
        exec.failure
            .is_some_and(|f| same_failure(&f, self.kind, &self.location))
    }
}

/// Minimal failing subset by delta debugging (Zeller & Hildebrandt's ddmin).
fn ddmin(items: Vec<Directive>, mut fails: impl FnMut(&[Directive]) -> bool) -> Vec<Directive> {
    if items.is_empty() || fails(&[]) {
        return Vec::new();
    }
    let mut current = items;
    let mut n = 2usize;
    while current.len() >= 2 {
        let chunk = current.len().div_ceil(n);
        let subsets: Vec<Vec<Directive>> =
            current.chunks(chunk).map(<[Directive]>::to_vec).collect();
        let mut reduced = false;
        for subset in &subsets {
            if fails(subset) {
                current = subset.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && subsets.len() > 2 {
            for i in 0..subsets.len() {
                let complement: Vec<Directive> = subsets
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, s)| s.iter().copied())
                    .collect();
                if fails(&complement) {
                    current = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (n * 2).min(current.len());
        }
    }
    current
}

impl Config {
    /// Shrinks `failure` (found with this config) within the default budget. `None` when its
    /// schedule does not reproduce the same failure (the program is not deterministic).
    pub fn shrink<F: Fn()>(&self, failure: &Failure, body: F) -> Option<Shrunk> {
        self.shrink_with(failure, ShrinkBudget::default(), body)
    }

    pub fn shrink_with<F: Fn()>(
        &self,
        failure: &Failure,
        budget: ShrinkBudget,
        body: F,
    ) -> Option<Shrunk> {
        let started = Instant::now();
        let (original, directives) = self.directives_of(&failure.schedule, failure, &body)?;
        let mut search = Search {
            config: self,
            seed: failure.seed,
            body: &body,
            kind: failure.kind,
            location: failure.location.clone(),
            budget,
            started,
            executions: 1,
            exhausted: false,
        };
        let mut chosen = minimize(&mut search, directives);

        // ddmin only removes preemptions the failing run had; a schedule with fewer preemptions
        // may need different ones. Search those exhaustively, fewest first (iterative context
        // bounding), within what is left of the budget.
        // First only preemption placements around the default order (a small space), then
        // every order, for each bound below what ddmin kept.
        'search: for branch_forced in [false, true] {
            let kept = chosen.iter().filter(|d| d.preemptive).count() as u32;
            for bound in 0..kept {
                let left = budget.max_executions.saturating_sub(search.executions);
                if left == 0 || started.elapsed() > budget.max_time {
                    search.exhausted = true;
                    break 'search;
                }
                let mut report = crate::report::Report::default();
                let mut hit = None;
                let exhausted_tree = self.walk(
                    bound,
                    branch_forced,
                    left,
                    &body,
                    &mut |f, _| {
                        let matches = same_failure(&f, failure.kind, &failure.location);
                        if matches {
                            hit = Some(f);
                        }
                        matches
                    },
                    &mut report,
                );
                search.executions += report.executions;
                if let Some(hit) = hit {
                    if let Some((_, found)) = self.directives_of(&hit.schedule, failure, &body) {
                        chosen = minimize(&mut search, found);
                    }
                    continue 'search;
                }
                if !exhausted_tree {
                    search.exhausted = true;
                    break 'search;
                }
            }
        }
        chosen.sort();

        // Record the shrunk execution as an ordinary schedule, traced for the report.
        let mut final_exec = run_execution(
            &self.exec_options(true),
            failure.seed,
            &failure.policy,
            Box::new(Guided::new(&chosen)),
            &body,
        );
        let shrunk_failure = match final_exec.failure.take() {
            Some(f) if same_failure(&f, failure.kind, &failure.location) => f,
            _ => return None,
        };
        Some(Shrunk {
            schedule: shrunk_failure.schedule.clone(),
            failure: shrunk_failure,
            steps_before: original.steps,
            steps_after: final_exec.steps,
            preemptions_before: original.preemptions,
            preemptions_after: final_exec.preemptions,
            executions: search.executions + 1,
            elapsed: started.elapsed(),
            complete: !search.exhausted,
        })
    }

    /// Replays `schedule` and returns its execution and the directives that reproduce it, if it
    /// fails like `failure`.
    fn directives_of<F: Fn()>(
        &self,
        schedule: &Schedule,
        failure: &Failure,
        body: &F,
    ) -> Option<(crate::report::Execution, Vec<Directive>)> {
        let directives = Rc::new(RefCell::new(Vec::new()));
        let recording = Recording {
            inner: Box::new(Replay::new(schedule)),
            directives: directives.clone(),
        };
        let exec = run_execution(
            &self.exec_options(false),
            failure.seed,
            "shrink",
            Box::new(recording),
            body,
        );
        let reproduced = exec.failure.as_ref()?;
        if !same_failure(reproduced, failure.kind, &failure.location) {
            return None;
        }
        let found = directives.take();
        Some((exec, found))
    }
}

/// Fewer preemptions first, then fewer other directives (which shortens the run).
fn minimize<F: Fn()>(search: &mut Search<'_, F>, directives: Vec<Directive>) -> Vec<Directive> {
    let (preemptive, other): (Vec<Directive>, Vec<Directive>) =
        directives.into_iter().partition(|d| d.preemptive);
    let kept_preemptive = ddmin(preemptive, |s| {
        let candidate: Vec<Directive> = s.iter().chain(&other).copied().collect();
        search.fails(&candidate)
    });
    let kept_other = ddmin(other, |s| {
        let candidate: Vec<Directive> = kept_preemptive.iter().chain(s).copied().collect();
        search.fails(&candidate)
    });
    kept_preemptive.into_iter().chain(kept_other).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::{Directed, PointKey};

    fn d(task: u32) -> Directive {
        Directive {
            at: PointKey { task, progress: 0 },
            decide: Directed::Run(task),
            preemptive: true,
        }
    }

    #[test]
    fn ddmin_finds_the_minimal_pair() {
        let items: Vec<Directive> = (0..16).map(d).collect();
        let result = ddmin(items, |s| s.contains(&d(3)) && s.contains(&d(11)));
        assert_eq!(result, vec![d(3), d(11)]);
    }

    #[test]
    fn ddmin_returns_empty_when_nothing_is_needed() {
        assert!(ddmin((0..5).map(d).collect(), |_| true).is_empty());
    }
}
