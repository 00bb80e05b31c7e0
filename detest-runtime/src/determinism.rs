//! Determinism checking, as bazel-buildfarm does for build actions: run the same seed N times,
//! hash each run's trace and outcome, and print a histogram (hash → count). Any second hash means
//! something outside detest's control leaks into the test (the wall clock, a std `HashMap`'s
//! random order, real OS threads, state kept across executions), and then seeds no longer replay.
//! The report shows the first step where two runs diverge, a diff of the traces around it, and
//! the likely cause, read from the source lines there.

use crate::config::Config;
use crate::report::Execution;
use crate::rt::execution::run_execution;
use crate::schedule::{Decision, Schedule};
use crate::trace::TraceEvent;
use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::path::{Path, PathBuf};

/// Result of running one seed several times.
#[derive(Clone, Debug)]
pub struct DeterminismReport {
    pub seed: u64,
    pub runs: u32,
    /// Distinct fingerprints with how many runs produced each, most frequent first.
    pub histogram: Vec<(u64, u32)>,
    pub divergence: Option<Divergence>,
}

/// Where two runs of the same seed first differ.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// Index of the first differing trace event.
    pub index: usize,
    /// Step number of that event (in the first run).
    pub step: u64,
    /// The event in the first run and in the diverging run (`None`: that run ended there).
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// Unified diff of the two traces around the divergence.
    pub diff: String,
    /// The likely cause, in words.
    pub likely_cause: String,
}

impl DeterminismReport {
    pub fn is_deterministic(&self) -> bool {
        self.histogram.len() == 1
    }

    /// Human-readable histogram and divergence.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let verdict = if self.is_deterministic() {
            "deterministic"
        } else {
            "NONDETERMINISTIC"
        };
        let runs = crate::render::count(u64::from(self.runs), "run");
        let _ = writeln!(out, "seed {}: {verdict} over {runs}", self.seed);
        for (hash, count) in &self.histogram {
            let _ = writeln!(
                out,
                "  {hash:016x}  {count:>5} {}",
                "#".repeat((*count as usize * 40).div_ceil(self.runs.max(1) as usize))
            );
        }
        if let Some(d) = &self.divergence {
            let _ = writeln!(
                out,
                "  first divergence at step {} (trace event {}):",
                d.step, d.index
            );
            let _ = writeln!(
                out,
                "    run 1: {}",
                d.expected.as_deref().unwrap_or("(execution ended)")
            );
            let _ = writeln!(
                out,
                "    run k: {}",
                d.actual.as_deref().unwrap_or("(execution ended)")
            );
            let _ = writeln!(out, "  likely cause: {}", d.likely_cause);
            for line in d.diff.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        out
    }
}

/// What a run is compared on: its trace (with each draw where it happened and what it drew),
/// its outcome, and its schedule, the decisions a replay consumes in order: a draw that moves
/// past a scheduling choice breaks every replay even when the operations line up.
fn fingerprint(exec: &Execution) -> u64 {
    let mut h = DefaultHasher::new();
    for e in &exec.trace {
        (e.step, e.task, e.op.as_str(), e.object.map(|o| o.id)).hash(&mut h);
        (e.value, e.preempted_by).hash(&mut h);
        e.location
            .map(|l| (l.file(), l.line(), l.column()))
            .hash(&mut h);
    }
    exec.schedule.hash(&mut h);
    exec.steps.hash(&mut h);
    match &exec.failure {
        Some(f) => (f.kind.as_str(), &f.message, &f.location).hash(&mut h),
        None => "pass".hash(&mut h),
    }
    h.finish()
}

fn lines(trace: &[TraceEvent]) -> Vec<String> {
    trace.iter().map(|e| e.to_string()).collect()
}

impl Config {
    /// Runs `seed` `runs` times under this configuration and compares the runs.
    pub fn check_determinism<F: Fn()>(&self, seed: u64, runs: u32, body: F) -> DeterminismReport {
        let estimate = self.estimate_choices(&body);
        self.check_determinism_with_estimate(seed, runs, estimate, body)
    }

    /// [`Config::check_determinism`] with PCT's estimate already measured
    /// ([`Config::estimate_choices`]): a check of many seeds measures it once.
    pub fn check_determinism_with_estimate<F: Fn()>(
        &self,
        seed: u64,
        runs: u32,
        estimate: u64,
        body: F,
    ) -> DeterminismReport {
        let policy = self.policy.to_string();
        // URW's probe (nothing under the other policies): once per check, not per run.
        let events = self.estimate_events(&body);
        let mut executions: Vec<(u64, Execution)> = Vec::new();
        for _ in 0..runs.max(1) {
            let scheduler = self.policy.scheduler_with(seed, estimate, &events);
            let exec = run_execution(&self.exec_options(true), seed, &policy, scheduler, &body);
            executions.push((fingerprint(&exec), exec));
        }
        let mut histogram: Vec<(u64, u32)> = Vec::new();
        for (hash, _) in &executions {
            match histogram.iter_mut().find(|(h, _)| h == hash) {
                Some((_, c)) => *c += 1,
                None => histogram.push((*hash, 1)),
            }
        }
        histogram.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
        let first = &executions[0];
        let divergence = executions
            .iter()
            .find(|(h, _)| *h != first.0)
            .map(|(_, other)| divergence(&first.1, other));
        DeterminismReport {
            seed,
            runs: runs.max(1),
            histogram,
            divergence,
        }
    }
}

/// One decision of a schedule (a run of choices counts once per choice point).
#[derive(Clone, Copy, PartialEq, Eq)]
enum OneDecision {
    Ran(u32),
    Drew(u64),
}

fn one_by_one(s: &Schedule) -> impl Iterator<Item = OneDecision> + '_ {
    s.decisions().iter().flat_map(|d| match *d {
        Decision::Run { task, count } => {
            std::iter::repeat_n(OneDecision::Ran(task), count as usize)
        }
        Decision::Random(v) => std::iter::repeat_n(OneDecision::Drew(v), 1),
    })
}

/// Where the schedules of two runs with the same trace and outcome part: the first decision
/// that differs, placed at the draw nearest before it in the trace (the draws are where a
/// schedule can move without the operations moving).
fn schedule_divergence(a: &Execution, b: &Execution) -> Option<Divergence> {
    let (da, db): (Vec<_>, Vec<_>) = (
        one_by_one(&a.schedule).collect(),
        one_by_one(&b.schedule).collect(),
    );
    let index = da
        .iter()
        .zip(&db)
        .position(|(x, y)| x != y)
        .unwrap_or(da.len().min(db.len()));
    if index == da.len() && index == db.len() {
        return None;
    }
    let describe = |d: Option<&OneDecision>| match d {
        Some(OneDecision::Ran(task)) => {
            format!("decision {index}: a scheduling choice (task {task} runs)")
        }
        Some(OneDecision::Drew(v)) => format!("decision {index}: a random draw ({v})"),
        None => format!("decision {index}: none (the schedule ended)"),
    };
    // Draws before the divergence, in the trace of the first run: the nearest is where the
    // program's path moved.
    let draws = da[..index]
        .iter()
        .filter(|d| matches!(d, OneDecision::Drew(_)))
        .count();
    let mut rand_events = a.trace.iter().filter(|e| e.op == crate::trace::Op::Rand);
    let near = match rand_events.nth(draws.saturating_sub(1)) {
        Some(e) if draws > 0 => Some(e),
        _ => a.trace.iter().find(|e| e.op == crate::trace::Op::Rand),
    };
    let (expected, actual) = (describe(da.get(index)), describe(db.get(index)));
    let diff = similar::TextDiff::from_lines(&format!("{expected}\n"), &format!("{actual}\n"))
        .unified_diff()
        .header("run 1", "diverging run")
        .to_string();
    let locations: Vec<&'static Location<'static>> =
        near.and_then(|e| e.location).into_iter().collect();
    Some(Divergence {
        index: near.map_or(0, |e| {
            a.trace.iter().position(|x| std::ptr::eq(x, e)).unwrap_or(0)
        }),
        step: near.map_or(0, |e| e.step),
        expected: Some(expected),
        actual: Some(actual),
        diff,
        likely_cause: format!(
            "the operations agree, but the random draws moved against the scheduling choices \
             (a replay of the schedule diverges); {}",
            likely_cause(&locations)
        ),
    })
}

fn divergence(a: &Execution, b: &Execution) -> Divergence {
    let same_outcome = |x: &Execution, y: &Execution| match (&x.failure, &y.failure) {
        (None, None) => true,
        (Some(f), Some(g)) => f.kind == g.kind && f.message == g.message,
        _ => false,
    };
    if a.trace == b.trace && same_outcome(a, b) {
        if let Some(d) = schedule_divergence(a, b) {
            return d;
        }
    }
    let index = a
        .trace
        .iter()
        .zip(&b.trace)
        .position(|(x, y)| x != y)
        .unwrap_or(a.trace.len().min(b.trace.len()));
    let (la, lb) = (lines(&a.trace), lines(&b.trace));
    let from = index.saturating_sub(4);
    let window = |l: &[String]| l[from.min(l.len())..(index + 5).min(l.len())].join("\n") + "\n";
    let mut text_a = window(&la);
    let mut text_b = window(&lb);
    if index >= a.trace.len().min(b.trace.len()) {
        // The traces agree as far as both go: the outcome differs.
        let outcome = |e: &Execution| match &e.failure {
            Some(f) => format!(
                "=> {}: {}\n",
                f.kind,
                f.message.lines().next().unwrap_or("")
            ),
            None => "=> passed\n".to_owned(),
        };
        text_a.push_str(&outcome(a));
        text_b.push_str(&outcome(b));
    }
    let diff = similar::TextDiff::from_lines(&text_a, &text_b)
        .unified_diff()
        .context_radius(4)
        .header("run 1", "diverging run")
        .to_string();
    let near: Vec<&'static Location<'static>> = [index.checked_sub(1), Some(index)]
        .into_iter()
        .flatten()
        .flat_map(|i| [a.trace.get(i), b.trace.get(i)])
        .flatten()
        .filter_map(|e| e.location)
        .collect();
    Divergence {
        index,
        step: a
            .trace
            .get(index)
            .or(b.trace.get(index))
            .map_or(a.steps, |e| e.step),
        expected: la.get(index).cloned(),
        actual: lb.get(index).cloned(),
        diff,
        likely_cause: likely_cause(&near),
    }
}

/// Reads the source lines around the divergence and names the usual suspects found there.
fn likely_cause(near: &[&'static Location<'static>]) -> String {
    let Some(first) = near.first() else {
        return "the runs differ before the first scheduling point: something outside detest \
                (the wall clock, a std HashMap's order, real threads, or state kept across \
                executions) decides the path"
            .to_owned();
    };
    let lo = near
        .iter()
        .map(|l| l.line())
        .min()
        .unwrap_or(1)
        .saturating_sub(12);
    let hi = near.iter().map(|l| l.line()).max().unwrap_or(1) + 2;
    let source = find_source(first.file())
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| {
            text.lines()
                .skip(lo.saturating_sub(1) as usize)
                .take((hi - lo + 1) as usize)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    // Where std's clock and OS randomness are the execution's (see `crate::env`), only what
    // escapes the interposition is a suspect.
    let (clock, random) = if crate::env::INTERPOSED {
        (
            "it reads the real clock (std::time) through detest::env::real or on another OS thread",
            "it draws randomness outside detest (inside detest::env::real, from /dev/urandom, or \
             cached per OS thread like rand's thread_rng): use detest::rand",
        )
    } else {
        (
            "it reads the real clock (std::time): use detest::time::Instant",
            "it draws randomness outside detest: use detest::rand",
        )
    };
    let suspects: [(&[&str], &str); 5] = [
        (&["Instant::now", "SystemTime", "env::real"], clock),
        (&["HashMap", "HashSet", "RandomState"], "it iterates a std HashMap/HashSet, whose order is random per map: use a BTreeMap or a fixed hasher"),
        (&["std::thread", "std::sync::mpsc"], "it depends on the timing of real OS threads: use detest::thread"),
        (&["thread_rng", "rand::random", "getrandom"], random),
        (&["static "], "it keeps state in a static that survives from one execution to the next"),
    ];
    let found: Vec<&str> = suspects
        .iter()
        .filter(|(needles, _)| needles.iter().any(|n| source.contains(n)))
        .map(|(_, why)| *why)
        .collect();
    let place = format!("{}:{}", first.file(), first.line());
    if found.is_empty() {
        format!(
            "the path changes near {place}: a value there comes from outside detest (the wall \
             clock, a std HashMap's order, real threads, I/O, or state kept across executions)"
        )
    } else {
        format!("near {place}, {}", found.join("; or "))
    }
}

/// `Location::file()` is relative to the directory rustc ran in (the workspace root for a
/// workspace member), while tests run in their package root: try both.
fn find_source(file: &str) -> Option<PathBuf> {
    let path = Path::new(file);
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    let mut dir = std::env::current_dir().ok()?;
    for _ in 0..4 {
        let candidate = dir.join(path);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = dir.parent()?.to_path_buf();
    }
    let mut components = path.components();
    components.next();
    let tail = components.as_path();
    tail.is_file().then(|| tail.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execution(schedule: Schedule) -> Execution {
        Execution {
            seed: 0,
            steps: 4,
            preemptions: 0,
            release_points: 0,
            schedule,
            failure: None,
            trace: Vec::new(),
        }
    }

    /// Two runs whose operations agree but whose draw moved past a scheduling choice: a replay
    /// of either schedule diverges on the other path, so the check must tell them apart.
    #[test]
    fn a_draw_that_moves_past_a_choice_is_a_divergence() {
        let mut s1 = Schedule::new();
        s1.push_choice(1);
        s1.push_random(9);
        let mut s2 = Schedule::new();
        s2.push_random(9);
        s2.push_choice(1);
        let (a, b) = (execution(s1.clone()), execution(s2));
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&execution(s1)));
        let d = divergence(&a, &b);
        assert_eq!(
            d.expected.as_deref(),
            Some("decision 0: a scheduling choice (task 1 runs)")
        );
        assert_eq!(d.actual.as_deref(), Some("decision 0: a random draw (9)"));
        assert!(
            d.likely_cause.contains("random draws moved"),
            "{}",
            d.likely_cause
        );
    }
}
