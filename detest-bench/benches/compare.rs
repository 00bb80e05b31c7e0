//! detest against shuttle 0.9 and loom 0.7, side by side in one run (see ../shared/benchmarks.md).
//!
//! ```text
//! cargo bench -p detest-bench --bench compare             # full run: the figures of BENCHMARKS.md
//! cargo bench -p detest-bench --bench compare -- --quick  # seconds: CI keeps it from rotting
//! ```
//!
//! Other flags: `--only NAME` (substring filter on workload/program names), `--extra` (also
//! measure detest's POS and PCT(2), the other members of the chaos portfolio), `--no-throughput`,
//! `--no-bugs`, `--no-explore`, `--no-weak`, `--no-cold`, `--cold-rounds N`, `--trials N`,
//! `--budget N`, `--explore-cap N`.
//!
//! Every program is written once (src/programs.rs, src/programs_sct.rs, src/programs_async.rs)
//! against the names
//! `thread`, `sync` and `future`, and included into one module per tool. The weak-memory
//! programs (src/programs_weak.rs) run on detest and loom only (compare/weak.rs).

#[path = "compare/actor.rs"]
mod actor;
#[path = "compare/cold.rs"]
mod cold;
#[path = "compare/exploration.rs"]
mod exploration;
#[path = "compare/weak.rs"]
mod weak;

pub use cold::ColdRow;
pub use exploration::{Count, ExploreRow};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
pub use weak::{Outcome, WeakRow, WeakTally};

/// The programs on detest.
#[allow(dead_code)]
pub mod on_detest {
    use detest::{future, sync, thread};
    include!("../src/programs.rs");
    include!("../src/programs_sct.rs");
    include!("../src/programs_async.rs");
}

/// The same programs on shuttle.
#[allow(dead_code)]
pub mod on_shuttle {
    use shuttle::{future, sync, thread};
    include!("../src/programs.rs");
    include!("../src/programs_sct.rs");
    include!("../src/programs_async.rs");
}

/// The same thread programs on loom (loom has no task spawner: no async programs).
#[allow(dead_code)]
pub mod on_loom {
    use loom::{sync, thread};
    include!("../src/programs.rs");
    include!("../src/programs_sct.rs");
}

/// What to run and how much.
#[derive(Clone, Debug)]
pub struct Options {
    /// Divide every workload's execution count by this.
    pub throughput_divisor: u64,
    /// Repetitions of each throughput measurement; the best rate counts (noise only slows).
    pub reps: u32,
    pub trials: u64,
    pub budget: u64,
    /// Shuttle's budget per trial (the full run uses `budget`).
    pub shuttle_budget: u64,
    pub loom_max: Duration,
    pub throughput: bool,
    /// The cold throughput table (a fresh process per sweep; needs this binary, so not under
    /// `cargo test`).
    pub cold: bool,
    /// Alternating rounds of each cold measurement; the median counts.
    pub cold_rounds: u32,
    pub bugs: bool,
    /// The exhaustive-exploration table (detest explore vs loom).
    pub explore: bool,
    /// Executions at most per exploration in that table.
    pub explore_cap: u64,
    /// The weak-memory table (detest vs loom on src/programs_weak.rs).
    pub weak: bool,
    pub shuttle: bool,
    pub extra: bool,
    /// The columns of the bug table (`--policies a,b`): detest's are these, shuttle's those of
    /// them it has (default: random, pct:3, urw and chaos; shuttle random, pct:3 and urw).
    pub policies: Option<Vec<String>>,
    pub only: Option<String>,
    /// Print tables to stdout.
    pub print: bool,
}

impl Options {
    pub fn full() -> Self {
        Options {
            throughput_divisor: 1,
            reps: 3,
            trials: 20,
            budget: 10_000,
            shuttle_budget: 10_000,
            loom_max: Duration::from_secs(20),
            throughput: true,
            cold: true,
            cold_rounds: 5,
            bugs: true,
            explore: true,
            explore_cap: 20_000,
            weak: true,
            shuttle: true,
            extra: false,
            policies: None,
            only: None,
            print: true,
        }
    }

    /// Seconds: tiny throughput budgets, 3 trials per program.
    pub fn quick() -> Self {
        Options {
            throughput_divisor: 100,
            reps: 1,
            cold_rounds: 1,
            trials: 3,
            shuttle_budget: 2_000,
            loom_max: Duration::from_millis(300),
            explore_cap: 1_000,
            ..Options::full()
        }
    }

    fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|o| name.contains(o))
    }
}

/// One throughput row.
#[derive(Clone, Debug)]
pub struct Throughput {
    pub workload: &'static str,
    pub policy: &'static str,
    pub executions: u64,
    pub detest: f64,
    pub shuttle: Option<f64>,
    /// Executions per second and the number of executions loom explored (and whether it
    /// finished the exhaustive exploration).
    pub loom: Option<(f64, u64, bool)>,
}

/// Trials of one tool and policy on one bug program.
#[derive(Clone, Debug, Default)]
pub struct Trials {
    /// Executions to the first failure of each trial that found the bug.
    pub found: Vec<u64>,
    pub trials: u64,
    /// Trials that failed with the wrong kind (a deadlock where a panic was expected, ...).
    pub wrong_kind: u64,
    /// For chaos: which member policy found the bug in each trial (see `MEMBERS`).
    pub members: [u64; MEMBERS.len()],
}

impl Trials {
    pub fn median(&self) -> Option<u64> {
        let mut v = self.found.clone();
        v.sort_unstable();
        (!v.is_empty()).then(|| v[(v.len() - 1) / 2])
    }

    /// Key for "better": more trials found, then a lower median.
    fn key(&self) -> (u64, std::cmp::Reverse<u64>) {
        (
            self.found.len() as u64,
            std::cmp::Reverse(self.median().unwrap_or(u64::MAX)),
        )
    }

    fn cell(&self) -> String {
        match self.median() {
            Some(m) => format!("{}/{} @ {}", self.found.len(), self.trials, m),
            None => format!("0/{}", self.trials),
        }
    }
}

#[derive(Clone, Debug)]
pub struct BugRow {
    pub program: &'static str,
    pub listed: bool,
    pub deadlock: bool,
    /// (label, trials) in column order.
    pub detest: Vec<(&'static str, Trials)>,
    pub shuttle: Vec<(&'static str, Trials)>,
}

impl BugRow {
    pub fn detest_policy(&self, label: &str) -> &Trials {
        &self.detest.iter().find(|(l, _)| *l == label).unwrap().1
    }

    /// Whether detest chaos is at least as good as shuttle's best policy (of random, PCT(3) and
    /// URW: more trials found, or as many at a median no higher). None without shuttle figures.
    pub fn chaos_beats_or_ties(&self) -> Option<bool> {
        let best = self.shuttle.iter().map(|(_, t)| t.key()).max()?;
        let chaos = self.detest.iter().find(|(l, _)| *l == "chaos")?;
        Some(chaos.1.key() >= best)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub throughput: Vec<Throughput>,
    pub cold: Vec<ColdRow>,
    pub bugs: Vec<BugRow>,
    pub explore: Vec<ExploreRow>,
    pub weak: Vec<WeakRow>,
}

// ------------------------------------------------------------------ throughput

fn rate(executions: u64, elapsed: Duration) -> f64 {
    executions as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn best_of<F: FnMut() -> f64>(reps: u32, mut f: F) -> f64 {
    (0..reps.max(1)).map(|_| f()).fold(0.0, f64::max)
}

fn detest_policy(label: &str) -> detest::Policy {
    match label {
        "random" => detest::Policy::Random,
        "pct:3" => detest::Policy::Pct { depth: 3 },
        "pct:2" => detest::Policy::Pct { depth: 2 },
        "pos" => detest::Policy::Pos,
        // `chaos-seeds`: chaos without its fixed executions (do they pay for themselves?).
        "chaos" | "chaos-seeds" => detest::Policy::Chaos,
        "urw" => detest::Policy::Urw,
        other => panic!("unknown policy {other}"),
    }
}

/// The static label of a detest policy named on the command line.
fn detest_label(name: &str) -> &'static str {
    [
        "random",
        "pct:3",
        "pct:2",
        "pos",
        "chaos",
        "chaos-seeds",
        "urw",
    ]
    .into_iter()
    .find(|l| *l == name)
    .unwrap_or_else(|| panic!("unknown policy {name}"))
}

fn detest_throughput(name: &str, body: fn(), policy: &str, n: u64, reps: u32) -> f64 {
    let config = detest::Config::new()
        .policy(detest_policy(policy))
        .fail_fast(false)
        .trace_failures(false);
    // Warm up (stack pool, caches).
    let _ = config
        .clone()
        .seeds(n / 10 + 1)
        .seed_start(1 << 40)
        .run(body);
    best_of(reps, || {
        let started = Instant::now();
        let report = config.clone().seeds(n).run(body);
        let elapsed = started.elapsed();
        assert!(
            report.failures.is_empty(),
            "correct workload {name} failed under detest {policy}: {:?}",
            report.failures[0].message
        );
        // PCT and chaos sweeps add their fixed executions (two or three), URW its probe:
        // count every one.
        assert!((n..=n + 3).contains(&report.executions));
        rate(report.executions, elapsed)
    })
}

fn shuttle_config() -> shuttle::Config {
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    config
}

/// Runs `f` under shuttle's `policy` for `n` executions (monomorphised: no dynamic dispatch in
/// shuttle's scheduler, to be fair); returns the executions run. Panics on a failure.
fn shuttle_run<F>(policy: &str, seed: u64, n: u64, f: F) -> usize
where
    F: Fn() + Send + Sync + 'static,
{
    use shuttle::scheduler::{PctScheduler, RandomScheduler, UrwRandomScheduler};
    match policy {
        "random" => shuttle::Runner::new(
            RandomScheduler::new_from_seed(seed, n as usize),
            shuttle_config(),
        )
        .run(f),
        "pct:3" => shuttle::Runner::new(
            PctScheduler::new_from_seed(seed, 3, n as usize),
            shuttle_config(),
        )
        .run(f),
        // `check_urw`'s scheduler: its first execution is a random walk that estimates each
        // task's events (counted, like detest's probe).
        "urw" => shuttle::Runner::new(
            UrwRandomScheduler::new_from_seed(seed, n as usize),
            shuttle_config(),
        )
        .run(f),
        other => panic!("shuttle has no policy {other} here"),
    }
}

fn shuttle_throughput(body: fn(), policy: &str, n: u64, reps: u32) -> f64 {
    let _ = shuttle_run(policy, 1 << 40, n / 10 + 1, body);
    best_of(reps, || {
        let started = Instant::now();
        let ran = shuttle_run(policy, 0, n, body);
        let elapsed = started.elapsed();
        assert_eq!(ran as u64, n);
        rate(n, elapsed)
    })
}

static LOOM_EXECUTIONS: AtomicU64 = AtomicU64::new(0);

fn loom_throughput(body: fn(), n: u64, max: Duration) -> (f64, u64, bool) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.max_permutations = Some(n as usize);
    builder.max_duration = Some(max);
    // Loom checks its limits only every `checkpoint_interval` executions.
    builder.checkpoint_interval = 1;
    builder.checkpoint_file = None;
    LOOM_EXECUTIONS.store(0, Ordering::SeqCst);
    let started = Instant::now();
    builder.check(move || {
        LOOM_EXECUTIONS.fetch_add(1, Ordering::Relaxed);
        body();
    });
    let elapsed = started.elapsed();
    let ran = LOOM_EXECUTIONS.load(Ordering::SeqCst);
    // Loom stops one short of `max_permutations` (see exploration.rs): a run that reached it
    // was capped.
    let complete = ran + 1 < n && elapsed < max;
    (rate(ran, elapsed), ran, complete)
}

/// The throughput workloads on detest: src/programs*.rs, then the tokio-style actor.
fn detest_workloads() -> Vec<on_detest::Workload> {
    let mut all = on_detest::workloads();
    all.extend(on_detest::async_workloads());
    all.push(on_detest::Workload {
        name: "actor",
        body: actor::on_detest,
        executions: 5_000,
        pct: false,
        loom: false,
    });
    all
}

/// [`detest_workloads`] on shuttle, in the same order.
fn shuttle_workloads() -> Vec<on_shuttle::Workload> {
    let mut all = on_shuttle::workloads();
    all.extend(on_shuttle::async_workloads());
    all.push(on_shuttle::Workload {
        name: "actor",
        body: actor::on_shuttle,
        executions: 5_000,
        pct: false,
        loom: false,
    });
    all
}

/// How many executions a throughput run of `w` makes, and under which policies.
fn throughput_plan(opts: &Options, w: &on_detest::Workload) -> (u64, &'static [&'static str]) {
    let n = (w.executions / opts.throughput_divisor).max(10);
    if w.pct {
        (n, &["random", "pct:3", "urw"])
    } else {
        (n, &["random"])
    }
}

fn run_throughput(opts: &Options, out: &mut Vec<Throughput>) {
    let detest_w = detest_workloads();
    let shuttle_w = shuttle_workloads();
    let loom_w = on_loom::workloads();
    if opts.print {
        println!(
            "throughput: executions/s (best of {}), loom: exhaustive with preemption_bound 2",
            opts.reps
        );
        println!(
            "{:<10} {:<7} {:>7} {:>12} {:>12} {:>8} {:>24}",
            "workload", "policy", "execs", "detest", "shuttle", "ratio", "loom (execs explored)"
        );
    }
    for (i, w) in detest_w.iter().enumerate() {
        if !opts.wants(w.name) {
            continue;
        }
        let (n, policies) = throughput_plan(opts, w);
        let loom = loom_w
            .get(i)
            .filter(|l| l.loom && l.name == w.name)
            .map(|l| loom_throughput(l.body, n, opts.loom_max));
        for &policy in policies {
            let detest = detest_throughput(w.name, w.body, policy, n, opts.reps);
            let shuttle = opts
                .shuttle
                .then(|| shuttle_throughput(shuttle_w[i].body, policy, n, opts.reps));
            let row = Throughput {
                workload: w.name,
                policy,
                executions: n,
                detest,
                shuttle,
                loom: if policy == "random" { loom } else { None },
            };
            if opts.print {
                print_throughput(&row);
            }
            out.push(row);
        }
    }
    if opts.print {
        if let Some(g) = geomean_speedup(out) {
            println!("geomean speedup vs shuttle: {g:.2}");
        }
        println!();
    }
}

fn human(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1}k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}

fn print_throughput(row: &Throughput) {
    let shuttle = row.shuttle.map_or("-".to_owned(), human);
    let ratio = row
        .shuttle
        .map_or("-".to_owned(), |s| format!("{:.2}x", row.detest / s));
    let loom = match row.loom {
        Some((r, ran, complete)) => format!(
            "{} ({}{})",
            human(r),
            ran,
            if complete { ", all" } else { ", capped" }
        ),
        None => "-".to_owned(),
    };
    println!(
        "{:<10} {:<7} {:>7} {:>12} {:>12} {:>8} {:>24}",
        row.workload,
        row.policy,
        row.executions,
        human(row.detest),
        shuttle,
        ratio,
        loom
    );
    let _ = std::io::stdout().flush();
}

/// Geometric mean of detest / shuttle over every row with a shuttle figure.
pub fn geomean_speedup(rows: &[Throughput]) -> Option<f64> {
    let logs: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.shuttle.map(|s| (r.detest / s).ln()))
        .collect();
    (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

// ------------------------------------------------------------------ bug finding

/// Who can find a bug under chaos: the fixed executions, then the portfolio's members.
const MEMBERS: [&str; 6] = [
    "round-robin",
    "rotate",
    "first-release",
    "pos",
    "pct:3",
    "random",
];

fn detest_trials(body: fn(), deadlock: bool, policy: &str, opts: &Options) -> Trials {
    let mut t = Trials {
        trials: opts.trials,
        ..Trials::default()
    };
    let expected = if deadlock {
        detest::FailureKind::Deadlock
    } else {
        detest::FailureKind::Panic
    };
    for trial in 0..opts.trials {
        let start = trial * opts.budget;
        let report = detest::Config::new()
            .seeds(opts.budget)
            .seed_start(start)
            .policy(detest_policy(policy))
            .fixed_first(policy != "chaos-seeds")
            .trace_failures(false)
            .fail_fast(true)
            .run(body);
        if let Some(f) = report.failures.first() {
            if f.kind == expected {
                // Executions to the first failure, counting the fixed executions PCT and
                // chaos sweeps begin with (shuttle's PCT counts its own first, fixed run too).
                t.found.push(report.executions);
                let member = if f.policy == "chaos" {
                    detest::scheduler::Portfolio::member_of(f.seed)
                } else {
                    f.policy.as_str()
                };
                if let Some(i) = MEMBERS.iter().position(|m| *m == member) {
                    t.members[i] += 1;
                }
            } else {
                t.wrong_kind += 1;
            }
        }
    }
    t
}

static SHUTTLE_EXECUTIONS: AtomicU64 = AtomicU64::new(0);

/// Redirects the process's stderr to /dev/null while alive (shuttle prints a line per failure).
struct QuietStderr {
    saved: i32,
}

impl QuietStderr {
    fn new() -> Self {
        let _ = std::io::stderr().flush();
        // `COMPARE_LOUD=1` keeps shuttle's stderr (to see why a trial went wrong).
        if std::env::var_os("COMPARE_LOUD").is_some() {
            return QuietStderr { saved: -1 };
        }
        // SAFETY: plain fd juggling on fds we own; restored in Drop.
        unsafe {
            let saved = libc::dup(2);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null >= 0 {
                libc::dup2(null, 2);
                libc::close(null);
            }
            QuietStderr { saved }
        }
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        if self.saved >= 0 {
            // SAFETY: restores the fd saved in `new`.
            unsafe {
                libc::dup2(self.saved, 2);
                libc::close(self.saved);
            }
        }
    }
}

fn shuttle_trials(body: fn(), policy: &str, opts: &Options) -> Trials {
    let mut t = Trials {
        trials: opts.trials,
        ..Trials::default()
    };
    let previous_hook = std::panic::take_hook();
    if std::env::var_os("COMPARE_LOUD").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let quiet = QuietStderr::new();
    for trial in 0..opts.trials {
        SHUTTLE_EXECUTIONS.store(0, Ordering::SeqCst);
        let seed = 0x5eed_0000 + trial;
        let result = std::panic::catch_unwind(|| {
            shuttle_run(policy, seed, opts.shuttle_budget, move || {
                SHUTTLE_EXECUTIONS.fetch_add(1, Ordering::Relaxed);
                body();
            })
        });
        if result.is_err() {
            t.found.push(SHUTTLE_EXECUTIONS.load(Ordering::SeqCst));
        }
    }
    drop(quiet);
    std::panic::set_hook(previous_hook);
    t
}

fn run_bugs(opts: &Options, out: &mut Vec<BugRow>) {
    let detest_p: Vec<_> = on_detest::bug_programs()
        .into_iter()
        .chain(on_detest::sct_bug_programs())
        .chain(on_detest::async_bug_programs())
        .collect();
    let shuttle_p: Vec<_> = on_shuttle::bug_programs()
        .into_iter()
        .chain(on_shuttle::sct_bug_programs())
        .chain(on_shuttle::async_bug_programs())
        .collect();
    let mut detest_policies = vec!["random", "pct:3", "urw", "chaos"];
    if opts.extra {
        detest_policies.extend(["pos", "pct:2"]);
    }
    if let Some(chosen) = &opts.policies {
        detest_policies = chosen.iter().map(|p| detest_label(p)).collect();
    }
    let mut shuttle_policies: Vec<&'static str> = if opts.shuttle {
        vec!["random", "pct:3", "urw"]
    } else {
        vec![]
    };
    if let Some(chosen) = &opts.policies {
        shuttle_policies.retain(|p| chosen.iter().any(|c| c == p));
    }
    if opts.print {
        println!(
            "bug finding: trials found/{} @ median executions to the first failure (budget {})",
            opts.trials, opts.budget
        );
        let mut header = format!("{:<18}", "program");
        for p in &detest_policies {
            header += &format!(" {:>15}", format!("detest {p}"));
        }
        for p in &shuttle_policies {
            header += &format!(" {:>15}", format!("shuttle {p}"));
        }
        println!("{header}  chaos found by ({})", MEMBERS.join("/"));
    }
    for (i, p) in detest_p.iter().enumerate() {
        if !opts.wants(p.name) {
            continue;
        }
        assert_eq!(p.name, shuttle_p[i].name);
        let detest = detest_policies
            .iter()
            .map(|&pol| (pol, detest_trials(p.body, p.deadlock, pol, opts)))
            .collect::<Vec<_>>();
        let shuttle = shuttle_policies
            .iter()
            .map(|&pol| (pol, shuttle_trials(shuttle_p[i].body, pol, opts)))
            .collect::<Vec<_>>();
        let row = BugRow {
            program: p.name,
            listed: p.listed,
            deadlock: p.deadlock,
            detest,
            shuttle,
        };
        if opts.print {
            let mut line = format!(
                "{:<18}",
                if row.listed {
                    row.program.to_owned()
                } else {
                    format!("{}*", row.program)
                }
            );
            for (_, t) in row.detest.iter().chain(&row.shuttle) {
                line += &format!(" {:>15}", t.cell());
            }
            if let Some((_, chaos)) = row.detest.iter().find(|(l, _)| *l == "chaos") {
                let m = chaos.members;
                line += &format!(
                    "  {}",
                    m.iter().map(u64::to_string).collect::<Vec<_>>().join("/")
                );
            }
            let wrong: u64 = row.detest.iter().map(|(_, t)| t.wrong_kind).sum();
            if wrong > 0 {
                line += &format!("  ({wrong} trials failed with the wrong kind)");
            }
            println!("{line}");
            let _ = std::io::stdout().flush();
        }
        out.push(row);
    }
    if opts.print && opts.shuttle {
        let (own_k, own_n) = count_beats(out, false);
        let (k, n) = count_beats(out, true);
        println!("listed programs: detest chaos beats or ties shuttle's best policy on {k}/{n}");
        if own_n > 0 {
            println!("* beyond the list: detest chaos beats or ties shuttle's best policy on {own_k}/{own_n}");
        }
        let (k, n) = (k + own_k, n + own_n);
        println!("programs where detest chaos beats or ties shuttle's best policy: {k}/{n}");
    }
}

/// (K, N) over the listed programs (or the ones beyond the list).
pub fn count_beats(rows: &[BugRow], listed: bool) -> (usize, usize) {
    let rows: Vec<_> = rows
        .iter()
        .filter(|r| r.listed == listed && r.chaos_beats_or_ties().is_some())
        .collect();
    let k = rows
        .iter()
        .filter(|r| r.chaos_beats_or_ties() == Some(true))
        .count();
    (k, rows.len())
}

/// Installs shuttle's panic hook and then detest's on top (each installs once and chains to the
/// previous one). detest's stays quiet for panics inside its executions; were shuttle's on top,
/// it would print "Task failed, serializing schedule" for every detest failure.
fn install_panic_hooks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        shuttle::check_random(|| {}, 1);
        detest::Config::new().run(|| {});
    });
}

/// Runs the benchmark.
pub fn run(opts: &Options) -> Summary {
    install_panic_hooks();
    let mut summary = Summary::default();
    if opts.throughput {
        run_throughput(opts, &mut summary.throughput);
    }
    if opts.cold && opts.shuttle && exploration::CAN_REEXEC.load(Ordering::SeqCst) {
        cold::run_cold(opts, &mut summary.cold);
    }
    if opts.bugs {
        run_bugs(opts, &mut summary.bugs);
    }
    if opts.explore {
        exploration::run_exploration(opts, &mut summary.explore);
    }
    if opts.weak {
        weak::run_weak(opts, &mut summary.weak);
    }
    summary
}

fn parse_args() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = if args.iter().any(|a| a == "--quick") {
        Options::quick()
    } else {
        Options::full()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |what: &str| -> String {
            it.next()
                .unwrap_or_else(|| panic!("{arg} needs {what}"))
                .clone()
        };
        match arg.as_str() {
            "--quick" | "--bench" => {}
            "--extra" => opts.extra = true,
            "--no-throughput" => opts.throughput = false,
            "--no-cold" => opts.cold = false,
            "--cold-rounds" => {
                opts.cold_rounds = value("a number").parse().expect("--cold-rounds N")
            }
            "--no-bugs" => opts.bugs = false,
            "--no-explore" => opts.explore = false,
            "--no-weak" => opts.weak = false,
            "--explore-cap" => {
                opts.explore_cap = value("a number").parse().expect("--explore-cap N")
            }
            "--no-shuttle" => opts.shuttle = false,
            "--only" => opts.only = Some(value("a name")),
            "--policies" => {
                opts.policies = Some(value("a,list").split(',').map(str::to_owned).collect())
            }
            "--trials" => opts.trials = value("a number").parse().expect("--trials N"),
            "--budget" => {
                opts.budget = value("a number").parse().expect("--budget N");
                opts.shuttle_budget = opts.budget;
            }
            other => eprintln!("compare: ignoring unknown argument `{other}`"),
        }
    }
    opts
}

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--cold-child") {
        cold::cold_child(&args[i + 1..]);
    }
    if let Some(i) = args.iter().position(|a| a == "--loom-child") {
        exploration::loom_child(&args[i + 1..]);
    }
    exploration::CAN_REEXEC.store(true, Ordering::SeqCst);
    let opts = parse_args();
    let started = Instant::now();
    run(&opts);
    eprintln!("compare: done in {:.1}s", started.elapsed().as_secs_f64());
}
