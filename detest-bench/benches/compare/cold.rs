//! Throughput measured as a user's sweep runs: a fresh process, one sweep of N seeds, no
//! warm-up (no stack pool, cold caches and allocator), for detest and shuttle alike. Each
//! run is a child process of this binary (`--cold-child SIDE WORKLOAD POLICY N`, which prints
//! its rate); rounds alternate which side goes first, and the median of each side is kept, so
//! a drift of the machine's speed during the run hits both.

use super::{
    detest_policy, detest_workloads, human, rate, shuttle_run, shuttle_workloads, throughput_plan,
    Options,
};
use std::process::Command;
use std::time::Instant;

/// One cold throughput row.
#[derive(Clone, Debug)]
pub struct ColdRow {
    pub workload: &'static str,
    pub policy: &'static str,
    pub executions: u64,
    pub detest: f64,
    pub shuttle: f64,
}

/// The child's side: one timed sweep, its rate on stdout, then exit.
pub fn cold_child(args: &[String]) -> ! {
    let [side, workload, policy, n] = args else {
        panic!("--cold-child SIDE WORKLOAD POLICY N, got {args:?}")
    };
    let n: u64 = n.parse().expect("N");
    let find = |names: Vec<(&'static str, fn())>| {
        names
            .into_iter()
            .find(|(name, _)| name == workload)
            .unwrap_or_else(|| panic!("no workload {workload}"))
            .1
    };
    let started = Instant::now();
    let ran = match side.as_str() {
        "detest" => {
            let body = find(
                detest_workloads()
                    .into_iter()
                    .map(|w| (w.name, w.body))
                    .collect(),
            );
            let report = detest::Config::new()
                .policy(detest_policy(policy))
                .fail_fast(false)
                .trace_failures(false)
                .seeds(n)
                .run(body);
            assert!(report.failures.is_empty(), "{workload} failed under detest");
            report.executions
        }
        "shuttle" => {
            let body = find(
                shuttle_workloads()
                    .into_iter()
                    .map(|w| (w.name, w.body))
                    .collect(),
            );
            shuttle_run(policy, 0, n, body) as u64
        }
        other => panic!("no side {other}"),
    };
    println!("RATE {}", rate(ran, started.elapsed()));
    std::process::exit(0)
}

fn child_rate(side: &str, workload: &str, policy: &str, n: u64) -> f64 {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .args(["--cold-child", side, workload, policy, &n.to_string()])
        .output()
        .expect("run the cold child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("RATE "))
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "cold child {side} {workload} {policy} failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn run_cold(opts: &Options, out: &mut Vec<ColdRow>) {
    let rounds = opts.cold_rounds.max(1);
    if opts.print {
        println!(
            "cold throughput: executions/s, a fresh process per sweep, no warm-up, median of \
             {rounds} alternating rounds"
        );
        println!(
            "{:<10} {:<7} {:>7} {:>12} {:>12} {:>8}",
            "workload", "policy", "execs", "detest", "shuttle", "ratio"
        );
    }
    let workloads = detest_workloads();
    for w in &workloads {
        if !opts.wants(w.name) {
            continue;
        }
        let (n, policies) = throughput_plan(opts, w);
        for &policy in policies {
            let (mut d, mut s) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                if round % 2 == 0 {
                    d.push(child_rate("detest", w.name, policy, n));
                    s.push(child_rate("shuttle", w.name, policy, n));
                } else {
                    s.push(child_rate("shuttle", w.name, policy, n));
                    d.push(child_rate("detest", w.name, policy, n));
                }
            }
            let row = ColdRow {
                workload: w.name,
                policy,
                executions: n,
                detest: median(d),
                shuttle: median(s),
            };
            if opts.print {
                println!(
                    "{:<10} {:<7} {:>7} {:>12} {:>12} {:>7.2}x",
                    row.workload,
                    row.policy,
                    row.executions,
                    human(row.detest),
                    human(row.shuttle),
                    row.detest / row.shuttle
                );
            }
            out.push(row);
        }
    }
    if opts.print && !out.is_empty() {
        let g =
            (out.iter().map(|r| (r.detest / r.shuttle).ln()).sum::<f64>() / out.len() as f64).exp();
        let least = out
            .iter()
            .map(|r| r.detest / r.shuttle)
            .fold(f64::INFINITY, f64::min);
        println!("cold geomean speedup vs shuttle: {g:.2} (least {least:.2}x)");
        println!();
    }
}
