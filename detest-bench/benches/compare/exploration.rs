//! Exhaustive exploration: executions detest's `explore` needs (unbounded: with DPOR, its
//! default, with sleep sets only and unreduced; and with preemption bound 2) next to loom's
//! (its default, unbounded DPOR, and `preemption_bound` 2). A bug program counts executions until the bug is found
//! (both tools stop there); a correct workload counts the whole exploration. A count that hit
//! the cap is shown as `>N`.

use super::{on_detest, on_loom, Options};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One tool's result on one program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// The bug was found after this many executions.
    Found(u64),
    /// The exploration finished without a failure after this many.
    Complete(u64),
    /// Stopped at the cap (or loom's time limit) with nothing found.
    Capped(u64),
    /// A correct workload failed, or a bug program finished without finding the bug.
    Wrong(u64),
    /// The tool cannot run the program (loom: more than 4 spawned threads).
    NotApplicable,
}

impl Count {
    fn cell(self) -> String {
        match self {
            Count::Found(n) => format!("found@{n}"),
            Count::Complete(n) => n.to_string(),
            Count::Capped(n) => format!(">{n}"),
            Count::Wrong(n) => format!("WRONG@{n}"),
            Count::NotApplicable => "n/a".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ExploreRow {
    pub program: &'static str,
    pub bug: bool,
    pub reduced: Count,
    pub sleep_sets: Count,
    pub unreduced: Count,
    pub bound2: Count,
    pub loom: Count,
    pub loom_bound2: Count,
}

/// How `detest_count` explores.
#[derive(Clone, Copy)]
enum Search {
    /// `explore`: DPOR without a bound, unreduced with one.
    Default,
    SleepSets,
    Unreduced,
}

fn detest_count(body: fn(), bug: bool, bound: u32, search: Search, cap: u64) -> Count {
    let config = detest::Config::new();
    let run = match search {
        Search::Default => config.explore(bound, cap, body),
        Search::SleepSets => config.explore_sleep_sets(bound, cap, body),
        Search::Unreduced => config.explore_unreduced(bound, cap, body),
    };
    let n = run.report.executions;
    match (bug, run.report.passed(), run.complete) {
        (true, false, _) => Count::Found(n),
        (false, true, true) => Count::Complete(n),
        (_, true, false) => Count::Capped(n),
        _ => Count::Wrong(n),
    }
}

/// Bug programs with more threads than loom's limit (4 spawned): loom aborts the process on
/// them (a panic while its execution unwinds), so they are not run there.
const LOOM_TOO_MANY_THREADS: &[&str] = &[
    "reorder_5",
    "reorder_10",
    "cs_wronglock",
    "cs_din_phil5",
    "cs_twostage_20",
    "cs_twostage_100",
];

static LOOM_RUNS: AtomicU64 = AtomicU64::new(0);

/// Set by the bench binary's `main`: loom may then be run in a child process of it.
pub static CAN_REEXEC: AtomicBool = AtomicBool::new(false);

/// Loom aborts the process when it reports a deadlock (its panic unwinds through its own
/// thread-locals), so deadlock programs run on loom in a child: `--loom-child NAME BOUND CAP MS`.
fn loom_in_child(name: &str, bound: Option<usize>, cap: u64, max: Duration) -> Count {
    if !CAN_REEXEC.load(Ordering::SeqCst) {
        return Count::NotApplicable;
    }
    let Ok(exe) = std::env::current_exe() else {
        return Count::NotApplicable;
    };
    let bound = bound.map_or("none".to_string(), |b| b.to_string());
    let out = std::process::Command::new(exe)
        .args(["--loom-child", name, &bound, &cap.to_string()])
        .arg(max.as_millis().to_string())
        .stderr(std::process::Stdio::null())
        .output();
    let Ok(out) = out else {
        return Count::NotApplicable;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("loom-child "));
    let mut words = line.unwrap_or("").split_whitespace().skip(1);
    let (what, n) = (words.next(), words.next().and_then(|n| n.parse().ok()));
    match (what, n) {
        (Some("panic"), Some(n)) => Count::Found(n),
        (Some("complete"), Some(n)) => Count::Wrong(n),
        (Some("capped"), Some(n)) => Count::Capped(n),
        _ => Count::NotApplicable,
    }
}

/// The child side of [`loom_in_child`]: prints how many executions loom had run when it
/// panicked (before it can abort), or how its exploration ended.
pub fn loom_child(args: &[String]) -> ! {
    let name = args[0].as_str();
    let bound = args[1].parse().ok();
    let cap: u64 = args[2].parse().expect("cap");
    let max = Duration::from_millis(args[3].parse().expect("ms"));
    let program = on_loom::bug_programs()
        .into_iter()
        .chain(on_loom::sct_bug_programs())
        .find(|b| b.name == name)
        .expect("a bug program");
    std::panic::set_hook(Box::new(|_| {
        println!("loom-child panic {}", LOOM_RUNS.load(Ordering::SeqCst));
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }));
    let count = loom_count(program.body, true, bound, cap, max, false);
    match count {
        Count::Capped(n) => println!("loom-child capped {n}"),
        Count::Wrong(n) => println!("loom-child complete {n}"),
        _ => {}
    }
    std::process::exit(0)
}

fn loom_count(
    body: fn(),
    bug: bool,
    bound: Option<usize>,
    cap: u64,
    max: Duration,
    quiet: bool,
) -> Count {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = bound;
    builder.max_permutations = Some(cap as usize);
    builder.max_duration = Some(max);
    builder.checkpoint_interval = 1;
    builder.checkpoint_file = None;
    LOOM_RUNS.store(0, Ordering::SeqCst);
    let started = Instant::now();
    // Loom reports a failure by panicking out of `check`; keep its message off the table.
    let hook = quiet.then(std::panic::take_hook);
    if quiet {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let result = std::panic::catch_unwind(move || {
        builder.check(move || {
            LOOM_RUNS.fetch_add(1, Ordering::Relaxed);
            body();
        })
    });
    if let Some(hook) = hook {
        std::panic::set_hook(hook);
    }
    let n = LOOM_RUNS.load(Ordering::SeqCst);
    match result {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if msg.contains("self.max()") {
                Count::NotApplicable
            } else if bug {
                Count::Found(n)
            } else {
                Count::Wrong(n)
            }
        }
        // Loom stops one short of `max_permutations`.
        Ok(()) if n + 1 >= cap || started.elapsed() >= max => Count::Capped(n),
        Ok(()) if bug => Count::Wrong(n),
        Ok(()) => Count::Complete(n),
    }
}

/// Runs the table: every thread bug program and every loom-compatible workload (async ones
/// on detest only).
pub fn run_exploration(opts: &Options, out: &mut Vec<ExploreRow>) {
    let cap = opts.explore_cap;
    // (name, detest body, is a bug program, loom body when loom can run it)
    type Entry = (&'static str, fn(), bool, Option<fn()>);
    let mut programs: Vec<Entry> = Vec::new();
    let mut deadlocks = Vec::new();
    let loom_bugs: Vec<_> = on_loom::bug_programs()
        .into_iter()
        .chain(on_loom::sct_bug_programs())
        .collect();
    let detest_bugs = on_detest::bug_programs()
        .into_iter()
        .chain(on_detest::sct_bug_programs());
    for (i, b) in detest_bugs.enumerate() {
        let loom = (!LOOM_TOO_MANY_THREADS.contains(&b.name)).then_some(loom_bugs[i].body);
        if b.deadlock {
            deadlocks.push(b.name);
        }
        programs.push((b.name, b.body, true, loom));
    }
    for b in on_detest::async_bug_programs() {
        programs.push((b.name, b.body, true, None));
    }
    let loom_w = on_loom::workloads();
    for (i, w) in on_detest::workloads().into_iter().enumerate() {
        let loom = loom_w.get(i).filter(|l| l.loom && l.name == w.name);
        programs.push((w.name, w.body, false, loom.map(|l| l.body)));
    }
    for w in on_detest::async_workloads() {
        programs.push((w.name, w.body, false, None));
    }
    if opts.print {
        println!(
            "exhaustive exploration: executions (bugs: until found; workloads: whole tree; cap {cap})"
        );
        println!(
            "{:<15} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "program", "detest", "sleep sets", "unreduced", "detest pb2", "loom", "loom pb2"
        );
    }
    for (name, body, bug, loom_body) in programs {
        if !opts.wants(name) {
            continue;
        }
        let loom_of = |bound| match loom_body {
            Some(_) if deadlocks.contains(&name) => loom_in_child(name, bound, cap, opts.loom_max),
            Some(b) => loom_count(b, bug, bound, cap, opts.loom_max, true),
            None => Count::NotApplicable,
        };
        let row = ExploreRow {
            program: name,
            bug,
            reduced: detest_count(body, bug, u32::MAX, Search::Default, cap),
            sleep_sets: detest_count(body, bug, u32::MAX, Search::SleepSets, cap),
            unreduced: detest_count(body, bug, u32::MAX, Search::Unreduced, cap),
            bound2: detest_count(body, bug, 2, Search::Default, cap),
            loom: loom_of(None),
            loom_bound2: loom_of(Some(2)),
        };
        if opts.print {
            println!(
                "{:<15} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
                row.program,
                row.reduced.cell(),
                row.sleep_sets.cell(),
                row.unreduced.cell(),
                row.bound2.cell(),
                row.loom.cell(),
                row.loom_bound2.cell()
            );
        }
        out.push(row);
    }
    if opts.print {
        println!();
    }
}
