//! The programmatic API as a benchmark author uses it: how many times the body runs, which
//! seeds a range runs, and how policies are spelled.

use detest::sync::{Arc, Mutex};
use detest::{thread, Config, Policy, SeedRange};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex as StdMutex;

/// A racy-free program with choice points, calling `count` once per run.
fn counted(calls: &AtomicU64) -> impl Fn() + '_ {
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let t = thread::spawn(move || *m2.lock().unwrap() += 1);
        *m.lock().unwrap() += 1;
        t.join().unwrap();
    }
}

#[test]
fn fixed_first_off_with_an_estimate_runs_exactly_the_seeds() {
    for policy in [Policy::Pct { depth: 3 }, Policy::Chaos] {
        let calls = AtomicU64::new(0);
        let report = Config::new()
            .seeds(40)
            .policy(policy)
            .fixed_first(false)
            .choice_estimate(10)
            .run(counted(&calls));
        assert!(report.passed(), "{policy}: {report}");
        assert_eq!(calls.load(Ordering::SeqCst), 40, "{policy}");
        assert_eq!(report.executions, 40, "{policy}");
    }
}

#[test]
fn fixed_first_off_without_an_estimate_counts_the_probes() {
    let calls = AtomicU64::new(0);
    let report = Config::new()
        .seeds(40)
        .policy(Policy::Pct { depth: 3 })
        .fixed_first(false)
        .run(counted(&calls));
    // Round-robin and rotate measure PCT's estimate: two calls more, and counted.
    assert_eq!(calls.load(Ordering::SeqCst), 42);
    assert_eq!(report.executions, 42);
    // The default keeps the fixed executions (and takes the estimate from them).
    let calls = AtomicU64::new(0);
    let report = Config::new()
        .seeds(40)
        .policy(Policy::Pct { depth: 3 })
        .run(counted(&calls));
    assert_eq!(calls.load(Ordering::SeqCst), 43);
    assert_eq!(report.executions, 43);
}

#[test]
fn executions_count_the_replay_that_traces_a_failure() {
    for trace_failures in [true, false] {
        let calls = AtomicU64::new(0);
        let report = Config::new()
            .seeds(5)
            .trace_failures(trace_failures)
            .run(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                thread::yield_now();
                panic!("always");
            });
        assert_eq!(report.failures.len(), 1);
        // Seed 0 fails (fail-fast), then, when tracing failures, its replay.
        let expected = if trace_failures { 2 } else { 1 };
        assert_eq!(calls.load(Ordering::SeqCst), expected);
        assert_eq!(
            report.executions, expected,
            "trace_failures {trace_failures}"
        );
        assert_eq!(!report.failures[0].trace.is_empty(), trace_failures);
    }
}

#[test]
fn policy_parse_accepts_both_depth_spellings() {
    assert_eq!(Policy::parse("pct3"), Ok(Policy::Pct { depth: 3 }));
    assert_eq!(Policy::parse("pct:3"), Ok(Policy::Pct { depth: 3 }));
    assert_eq!(Policy::parse(" PCT12 "), Ok(Policy::Pct { depth: 12 }));
    assert_eq!(Policy::parse("pct"), Ok(Policy::Pct { depth: 3 }));
    for bad in ["pct0", "pct:0", "pctx", "pct:"] {
        let err = Policy::parse(bad).unwrap_err();
        assert!(err.contains("pct:3 or pct3"), "{bad}: {err}");
    }
    let err = Policy::parse("fast").unwrap_err();
    assert!(err.contains("pctDEPTH") && err.contains("chaos"), "{err}");
    assert!(Policy::parse("rotate:2").is_err());
}

fn seeds_run(config: &Config) -> Vec<u64> {
    let seen = StdMutex::new(Vec::new());
    let report = config.run(|| seen.lock().unwrap().push(detest::seed()));
    assert!(report.passed());
    seen.into_inner().unwrap()
}

#[test]
fn the_top_seed_runs() {
    assert_eq!(seeds_run(&Config::new().seed(u64::MAX)), [u64::MAX]);
    let top = seeds_run(&Config::new().seed_start(u64::MAX - 5).seeds(6));
    assert_eq!(
        top,
        SeedRange::new(u64::MAX - 5, 6)
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(top.len(), 6);
}

#[test]
fn a_range_past_the_top_is_rejected_before_anything_runs() {
    let config = Config::new().seed_start(18446744073709551610).seeds(10);
    let err = config.seed_range().unwrap_err();
    assert!(err.to_string().contains("at most 6 seeds"), "{err}");
    let calls = AtomicU64::new(0);
    let panic = std::panic::catch_unwind(|| {
        config.run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
        })
    })
    .unwrap_err();
    let message = detest::panic_message(&*panic);
    assert!(message.contains("invalid seed range"), "{message}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
