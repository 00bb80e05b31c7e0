//! Weak memory: the programs of src/programs_weak.rs on loom and detest. For each bug version,
//! executions and seconds to the first failure: loom exhaustive (`loom::model::Builder::new()`,
//! so its default preemption bound: none unless `LOOM_MAX_PREEMPTIONS` is set), detest chaos
//! over fixed trial seeds (as the bug table) and detest `Config::explore` (no preemption bound,
//! with reduction). For each correct version, executions and seconds for loom and detest
//! `explore` to run every execution, and whether a chaos sweep stays clean.
//!
//! Nothing here asserts: a search that ends without the bug's assertion failing is shown as not
//! found (`>N` at the budget, `none@N` when the tool ran every execution it models and none
//! failed), a failure of a correct version as `WRONG@N`, and a failure with another cause (a
//! tool's own limit, a deadlock) as `error@N`.
//!
//! ```text
//! cargo bench -q -p detest-bench --bench compare -- --only weak_ --no-throughput --no-explore
//! ```

use super::Options;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The weak-memory programs on detest.
#[allow(dead_code)]
pub mod weak_on_detest {
    use detest::{sync, thread};
    include!("../../src/programs_weak.rs");
}

/// The same programs on loom.
#[allow(dead_code)]
pub mod weak_on_loom {
    use loom::{sync, thread};
    include!("../../src/programs_weak.rs");
}

use weak_on_detest::WEAK_MARK;

/// How one search of one program version ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The program's own assertion failed at this execution.
    Failed { executions: u64, secs: f64 },
    /// Every execution the tool models ran, none failed.
    Complete { executions: u64, secs: f64 },
    /// Stopped at the budget (executions or time), none failed.
    Capped { executions: u64, secs: f64 },
    /// Failed for another reason than the program's assertion (a tool's limit, a deadlock).
    Error { executions: u64, secs: f64 },
}

impl Outcome {
    pub fn executions(self) -> u64 {
        match self {
            Outcome::Failed { executions, .. }
            | Outcome::Complete { executions, .. }
            | Outcome::Capped { executions, .. }
            | Outcome::Error { executions, .. } => executions,
        }
    }

    pub fn secs(self) -> f64 {
        match self {
            Outcome::Failed { secs, .. }
            | Outcome::Complete { secs, .. }
            | Outcome::Capped { secs, .. }
            | Outcome::Error { secs, .. } => secs,
        }
    }

    /// The table cell, read as the result on a bug version (`bug`) or a correct one.
    fn cell(self, bug: bool) -> String {
        let n = self.executions();
        let what = match (self, bug) {
            (Outcome::Failed { .. }, true) | (Outcome::Complete { .. }, false) => n.to_string(),
            (Outcome::Failed { .. }, false) => format!("WRONG@{n}"),
            (Outcome::Complete { .. }, true) => format!("none@{n}"),
            (Outcome::Capped { .. }, _) => format!(">{n}"),
            (Outcome::Error { .. }, _) => format!("error@{n}"),
        };
        format!("{what} ({})", secs(self.secs()))
    }
}

fn secs(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0}us", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2}ms", s * 1e3)
    } else {
        format!("{s:.2}s")
    }
}

/// Chaos trials on a bug version: trial `t` runs seeds `t*budget .. (t+1)*budget`.
#[derive(Clone, Debug, Default)]
pub struct ChaosTrials {
    pub trials: u64,
    pub budget: u64,
    /// (executions, seconds) to the first failure of each trial that found the bug.
    pub found: Vec<(u64, f64)>,
    /// Trials that failed for another reason.
    pub errors: u64,
}

impl ChaosTrials {
    /// Median executions and median seconds over the trials that found the bug.
    pub fn median(&self) -> Option<(u64, f64)> {
        if self.found.is_empty() {
            return None;
        }
        let mid = (self.found.len() - 1) / 2;
        let mut n: Vec<u64> = self.found.iter().map(|f| f.0).collect();
        let mut s: Vec<f64> = self.found.iter().map(|f| f.1).collect();
        n.sort_unstable();
        s.sort_by(f64::total_cmp);
        Some((n[mid], s[mid]))
    }

    fn cell(&self) -> String {
        let mut cell = match self.median() {
            Some((n, s)) => format!("{}/{} @ {n} ({})", self.found.len(), self.trials, secs(s)),
            None => format!("0/{} (>{} each)", self.trials, self.budget),
        };
        if self.errors > 0 {
            cell += &format!(" +{} error", self.errors);
        }
        cell
    }
}

#[derive(Clone, Debug)]
pub struct WeakRow {
    pub program: &'static str,
    pub loom_bug: Outcome,
    pub chaos_bug: ChaosTrials,
    pub explore_bug: Outcome,
    pub loom_correct: Outcome,
    pub explore_correct: Outcome,
    /// One chaos sweep of `budget` seeds on the correct version.
    pub chaos_correct: Outcome,
}

static LOOM_RUNS: AtomicU64 = AtomicU64::new(0);

/// Runs `body` under loom's default `Builder` (its default preemption bound and branch limit),
/// stopping at `cap` executions or `max` seconds.
fn loom_search(body: fn(), cap: u64, max: Duration) -> Outcome {
    let mut builder = loom::model::Builder::new();
    builder.max_permutations = Some(cap as usize);
    builder.max_duration = Some(max);
    // Loom checks its limits only every `checkpoint_interval` executions.
    builder.checkpoint_interval = 1;
    builder.checkpoint_file = None;
    LOOM_RUNS.store(0, Ordering::SeqCst);
    // Loom reports a failure by panicking out of `check`; keep its message off the table.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let result = std::panic::catch_unwind(move || {
        builder.check(move || {
            LOOM_RUNS.fetch_add(1, Ordering::Relaxed);
            body();
        })
    });
    let elapsed = started.elapsed();
    std::panic::set_hook(hook);
    let executions = LOOM_RUNS.load(Ordering::SeqCst);
    let secs = elapsed.as_secs_f64();
    match result {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if msg.contains(WEAK_MARK) {
                Outcome::Failed { executions, secs }
            } else {
                Outcome::Error { executions, secs }
            }
        }
        // Loom stops one short of `max_permutations`.
        Ok(()) if executions + 1 >= cap || elapsed >= max => Outcome::Capped { executions, secs },
        Ok(()) => Outcome::Complete { executions, secs },
    }
}

/// How a detest report ended: the first failure, if it is the program's assertion.
fn detest_outcome(report: &detest::Report, complete: bool, secs: f64) -> Outcome {
    let executions = report.executions;
    match report.failures.first() {
        Some(f) if f.kind == detest::FailureKind::Panic && f.message.contains(WEAK_MARK) => {
            Outcome::Failed { executions, secs }
        }
        Some(_) => Outcome::Error { executions, secs },
        None if complete => Outcome::Complete { executions, secs },
        None => Outcome::Capped { executions, secs },
    }
}

fn chaos_sweep(body: fn(), start: u64, seeds: u64) -> Outcome {
    let started = Instant::now();
    let report = detest::Config::new()
        .seeds(seeds)
        .seed_start(start)
        .policy(detest::Policy::Chaos)
        .trace_failures(false)
        .fail_fast(true)
        .run(body);
    detest_outcome(&report, false, started.elapsed().as_secs_f64())
}

fn chaos_trials(body: fn(), opts: &Options) -> ChaosTrials {
    let mut t = ChaosTrials {
        trials: opts.trials,
        budget: opts.budget,
        ..ChaosTrials::default()
    };
    for trial in 0..opts.trials {
        match chaos_sweep(body, trial * opts.budget, opts.budget) {
            Outcome::Failed { executions, secs } => t.found.push((executions, secs)),
            Outcome::Error { .. } => t.errors += 1,
            _ => {}
        }
    }
    t
}

/// detest's exhaustive exploration (no preemption bound, sleep-set reduction), as loom's.
fn detest_explore(body: fn(), cap: u64) -> Outcome {
    let started = Instant::now();
    let run = detest::Config::new()
        .trace_failures(false)
        .explore(u32::MAX, cap, body);
    detest_outcome(&run.report, run.complete, started.elapsed().as_secs_f64())
}

/// Runs and prints the two weak-memory tables (programs filtered by `--only`).
pub fn run_weak(opts: &Options, out: &mut Vec<WeakRow>) {
    let cap = opts.explore_cap;
    let loom_programs = weak_on_loom::weak_programs();
    let width = 28;
    if opts.print {
        println!(
            "weak memory: loom exhaustive (default Builder), detest explore (unbounded, reduced), \
             cap {cap} executions, loom at most {:.1}s",
            opts.loom_max.as_secs_f64()
        );
        println!(
            "bug versions: executions to the first failure (time); chaos: trials found/{} @ \
             median (budget {} each)",
            opts.trials, opts.budget
        );
        println!(
            "{:<13} {:>w$} {:>w$} {:>w$}",
            "program",
            "loom",
            "detest chaos",
            "detest explore",
            w = width
        );
    }
    for (i, p) in weak_on_detest::weak_programs().into_iter().enumerate() {
        if !opts.wants(p.name) {
            continue;
        }
        let loom = &loom_programs[i];
        assert_eq!(loom.name, p.name);
        let loom_bug = loom_search(loom.bug, cap, opts.loom_max);
        let chaos_bug = chaos_trials(p.bug, opts);
        let explore_bug = detest_explore(p.bug, cap);
        if opts.print {
            println!(
                "{:<13} {:>w$} {:>w$} {:>w$}",
                p.name,
                loom_bug.cell(true),
                chaos_bug.cell(),
                explore_bug.cell(true),
                w = width
            );
            let _ = std::io::stdout().flush();
        }
        out.push(WeakRow {
            program: p.name,
            loom_bug,
            chaos_bug,
            explore_bug,
            loom_correct: loom_search(loom.correct, cap, opts.loom_max),
            explore_correct: detest_explore(p.correct, cap),
            chaos_correct: chaos_sweep(p.correct, 0, opts.budget),
        });
    }
    if opts.print && !out.is_empty() {
        println!(
            "correct versions: executions to run every execution (time); chaos: one sweep of \
             {} seeds",
            opts.budget
        );
        println!(
            "{:<13} {:>w$} {:>w$} {:>w$}",
            "program",
            "loom",
            "detest explore",
            "detest chaos",
            w = width
        );
        for row in out.iter() {
            println!(
                "{:<13} {:>w$} {:>w$} {:>w$}",
                row.program,
                row.loom_correct.cell(false),
                row.explore_correct.cell(false),
                chaos_correct_cell(row.chaos_correct),
                w = width
            );
        }
        let t = WeakTally::of(out);
        let n = t.programs;
        println!(
            "bugs found: loom {}/{n}; detest chaos in every trial {}/{n}, in less time than loom \
             {}/{n}; detest explore {}/{n}, in less time than loom {}/{n}",
            t.loom_found, t.chaos_found, t.chaos_faster, t.explore_found, t.explore_faster
        );
        println!(
            "correct versions fully explored: loom {}/{n}; detest {}/{n}, in less time than loom \
             {}/{n}; WRONG: loom {}, detest {}",
            t.loom_complete,
            t.explore_complete,
            t.explore_complete_faster,
            t.loom_wrong,
            t.detest_wrong
        );
    }
    if opts.print {
        println!();
    }
}

/// The section's closing counts, against the goal of issue 12: every bug found by detest, in
/// less time than loom. "In less time" also holds where loom did not find the bug (or finish).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WeakTally {
    pub programs: usize,
    pub loom_found: usize,
    /// Found by chaos in every trial.
    pub chaos_found: usize,
    /// ... with a median time below loom's.
    pub chaos_faster: usize,
    pub explore_found: usize,
    pub explore_faster: usize,
    pub loom_complete: usize,
    pub explore_complete: usize,
    pub explore_complete_faster: usize,
    /// Correct versions that failed.
    pub loom_wrong: usize,
    pub detest_wrong: usize,
}

impl WeakTally {
    pub fn of(rows: &[WeakRow]) -> Self {
        let failed = |o: Outcome| matches!(o, Outcome::Failed { .. });
        let complete = |o: Outcome| matches!(o, Outcome::Complete { .. });
        // Time of a loom run that reached `goal`, or infinity.
        let loom_time = |o: Outcome, goal: bool| if goal { o.secs() } else { f64::INFINITY };
        let mut t = WeakTally {
            programs: rows.len(),
            ..WeakTally::default()
        };
        for r in rows {
            let loom_bug = loom_time(r.loom_bug, failed(r.loom_bug));
            t.loom_found += failed(r.loom_bug) as usize;
            let c = &r.chaos_bug;
            if c.trials > 0 && c.found.len() as u64 == c.trials {
                t.chaos_found += 1;
                t.chaos_faster += c.median().is_some_and(|(_, s)| s < loom_bug) as usize;
            }
            if failed(r.explore_bug) {
                t.explore_found += 1;
                t.explore_faster += (r.explore_bug.secs() < loom_bug) as usize;
            }
            let loom_ok = loom_time(r.loom_correct, complete(r.loom_correct));
            t.loom_complete += complete(r.loom_correct) as usize;
            if complete(r.explore_correct) {
                t.explore_complete += 1;
                t.explore_complete_faster += (r.explore_correct.secs() < loom_ok) as usize;
            }
            t.loom_wrong += failed(r.loom_correct) as usize;
            t.detest_wrong += (failed(r.explore_correct) || failed(r.chaos_correct)) as usize;
        }
        t
    }
}

/// A clean chaos sweep is capped by construction: show it as passing, not as a cap.
fn chaos_correct_cell(o: Outcome) -> String {
    match o {
        Outcome::Capped { executions, secs } => format!("pass {executions} ({})", self::secs(secs)),
        other => other.cell(false),
    }
}
