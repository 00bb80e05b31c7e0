//! Runs the comparison benchmark in a tiny mode under `cargo test`, so it compiles and runs on
//! every CI run (bench targets are only built by `cargo bench` or `cargo test --benches`). It
//! asserts behaviour, never time: every correct workload passes on all three tools (the
//! benchmark asserts that), and detest's PCT(3) and chaos find every bug program in every trial.

#[allow(dead_code)]
#[path = "../benches/compare.rs"]
mod compare;

#[test]
fn quick_benchmark_runs_and_detest_finds_every_bug() {
    let opts = compare::Options {
        throughput_divisor: 1_000,
        trials: 2,
        shuttle_budget: 300,
        loom_max: std::time::Duration::from_millis(200),
        explore_cap: 200,
        ..compare::Options::quick()
    };
    let summary = compare::run(&opts);
    assert!(summary.throughput.len() >= 8, "{:?}", summary.throughput);
    for row in &summary.throughput {
        assert!(row.detest > 0.0 && row.shuttle.is_some_and(|s| s > 0.0));
    }
    assert!(summary.bugs.len() >= 7);
    for row in &summary.bugs {
        for policy in ["pct:3", "chaos"] {
            let t = row.detest_policy(policy);
            assert_eq!(
                t.wrong_kind, 0,
                "{} {policy}: wrong failure kind",
                row.program
            );
            assert_eq!(
                t.found.len() as u64,
                t.trials,
                "{} {policy}: a trial missed the bug",
                row.program
            );
        }
    }
    // Exploration never calls a correct workload failing or a bug program's tree clean, with
    // or without reduction (counts are capped; no claim about time).
    assert!(summary.explore.len() >= 10);
    for row in &summary.explore {
        for count in [row.reduced, row.unreduced, row.bound2] {
            assert!(
                !matches!(count, compare::Count::Wrong(_)),
                "{}: {count:?}",
                row.program
            );
        }
    }
}
