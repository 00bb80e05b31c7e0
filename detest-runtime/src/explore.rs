//! Bounded exhaustive exploration: every schedule with at most `k` preemptions, depth first
//! (iterative context bounding, as in CHESS and loom's `preemption_bound`); without a bound,
//! with dynamic partial-order reduction (as loom's default). Sampling policies
//! find bugs faster; this one proves their absence up to the bound, which is how detest shows
//! that a shrunk schedule's preemption count is minimal.
//!
//! ```
//! use detest::sync::{Arc, Mutex};
//! use detest::{thread, Config};
//!
//! // Two locks taken in opposite orders deadlock only if a thread is preempted in between.
//! let body = || {
//!     let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
//!     let (a2, b2) = (a.clone(), b.clone());
//!     let t = thread::spawn(move || { let _x = b2.lock(); let _y = a2.lock(); });
//!     { let _x = a.lock(); let _y = b.lock(); }
//!     t.join().unwrap();
//! };
//! let none = Config::new().explore(0, 100_000, body);
//! assert!(none.complete && none.report.passed()); // no deadlock without a preemption
//! let one = Config::new().explore(1, 100_000, body);
//! assert!(!one.report.passed()); // one preemption is enough
//! ```

use crate::config::Config;
use crate::report::{Failure, Report};
use crate::rt::execution::run_execution;
use crate::scheduler::{Dfs, DfsTree};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

#[derive(Clone, Copy)]
enum Mode {
    Full { reduce: Reduction },
    PreemptionsOnly,
}

/// How much partial-order reduction an unbounded search uses.
#[derive(Clone, Copy)]
enum Reduction {
    None,
    SleepSets,
    Dpor,
}

/// The result of a bounded exhaustive exploration.
#[derive(Clone, Debug)]
pub struct Exploration {
    pub report: Report,
    /// Every schedule within the bound was run (false: stopped at a failure or the limit).
    pub complete: bool,
}

impl Config {
    /// Runs every schedule with at most `preemption_bound` preemptions, up to `max_executions`,
    /// stopping at the first failure when `fail_fast` is set (the default). Small random draws
    /// are enumerated too. With `u32::MAX` (no bound), schedules that only reorder independent
    /// steps are pruned by dynamic partial-order reduction (source sets with sleep sets: each
    /// choice explores only the tasks that races seen in earlier executions call for), so a
    /// program whose threads touch disjoint state runs once. Every outcome of the unreduced
    /// search is still reached. A bounded search is not reduced (a pruned schedule's explored
    /// equivalent may need more preemptions than the bound allows).
    pub fn explore<F: Fn()>(
        &self,
        preemption_bound: u32,
        max_executions: u64,
        body: F,
    ) -> Exploration {
        self.explore_with(preemption_bound, max_executions, Reduction::Dpor, body)
    }

    /// [`Config::explore`] without partial-order reduction: every interleaving within the
    /// bound is run (to compare against, or to count them).
    pub fn explore_unreduced<F: Fn()>(
        &self,
        preemption_bound: u32,
        max_executions: u64,
        body: F,
    ) -> Exploration {
        self.explore_with(preemption_bound, max_executions, Reduction::None, body)
    }

    /// [`Config::explore`] with sleep sets only, without dynamic partial-order reduction:
    /// every schedule is tried except those whose next step was explored from an equivalent
    /// state (to compare against).
    pub fn explore_sleep_sets<F: Fn()>(
        &self,
        preemption_bound: u32,
        max_executions: u64,
        body: F,
    ) -> Exploration {
        self.explore_with(preemption_bound, max_executions, Reduction::SleepSets, body)
    }

    fn explore_with<F: Fn()>(
        &self,
        preemption_bound: u32,
        max_executions: u64,
        reduce: Reduction,
        body: F,
    ) -> Exploration {
        let started = Instant::now();
        let mut report = Report::default();
        let fail_fast = self.fail_fast;
        let complete = self.walk_mode(
            preemption_bound,
            Mode::Full { reduce },
            max_executions,
            &body,
            &mut |failure, report| {
                report.failures.push(failure);
                fail_fast
            },
            &mut report,
        );
        if self.trace_failures {
            for failure in &mut report.failures {
                self.attach_trace(failure, &body);
            }
        }
        report.elapsed = started.elapsed();
        Exploration { report, complete }
    }

    /// Walks the bounded tree; `on_failure` returns true to stop. Returns whether the tree was
    /// exhausted.
    pub(crate) fn walk<F: Fn()>(
        &self,
        preemption_bound: u32,
        branch_forced: bool,
        max_executions: u64,
        body: &F,
        on_failure: &mut dyn FnMut(Failure, &mut Report) -> bool,
        report: &mut Report,
    ) -> bool {
        let mode = if branch_forced {
            Mode::Full {
                reduce: Reduction::None,
            }
        } else {
            Mode::PreemptionsOnly
        };
        self.walk_mode(
            preemption_bound,
            mode,
            max_executions,
            body,
            on_failure,
            report,
        )
    }

    fn walk_mode<F: Fn()>(
        &self,
        preemption_bound: u32,
        mode: Mode,
        max_executions: u64,
        body: &F,
        on_failure: &mut dyn FnMut(Failure, &mut Report) -> bool,
        report: &mut Report,
    ) -> bool {
        let tree = Rc::new(RefCell::new(DfsTree::default()));
        let policy = format!("dfs:{preemption_bound}");
        let start = report.executions;
        while report.executions - start < max_executions {
            let scheduler = Box::new(match mode {
                Mode::Full {
                    reduce: Reduction::Dpor,
                } => Dfs::dpor(tree.clone(), preemption_bound),
                Mode::Full {
                    reduce: Reduction::SleepSets,
                } => Dfs::reducing(tree.clone(), preemption_bound),
                Mode::Full {
                    reduce: Reduction::None,
                } => Dfs::new(tree.clone(), preemption_bound),
                Mode::PreemptionsOnly => Dfs::preemptions_only(tree.clone(), preemption_bound),
            });
            let exec = run_execution(
                &self.exec_options(false),
                report.executions,
                &policy,
                scheduler,
                body,
            );
            report.executions += 1;
            report.steps += exec.steps;
            if let Some(failure) = exec.failure {
                if on_failure(failure, report) {
                    return false;
                }
            }
            if !tree.borrow_mut().advance() {
                return true;
            }
        }
        false
    }
}
