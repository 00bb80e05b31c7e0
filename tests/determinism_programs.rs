//! Every example and every benchmark program is deterministic: each seed, run 100 times under
//! chaos, gives one trace and one outcome.

#[allow(dead_code)]
mod programs {
    use detest::{future, sync, thread};
    include!("../detest-bench/src/programs.rs");
    include!("../detest-bench/src/programs_async.rs");
}

#[allow(dead_code)]
#[path = "../examples/bank_transfer.rs"]
mod bank_transfer;

#[allow(dead_code)]
#[path = "../examples/dining_philosophers.rs"]
mod dining_philosophers;

use detest::{Config, Policy};

const RUNS: u32 = 100;

fn assert_deterministic(name: &str, body: fn()) {
    for seed in 0..2 {
        let report = Config::new()
            .policy(Policy::Chaos)
            .check_determinism(seed, RUNS, body);
        assert!(report.is_deterministic(), "{name}: {}", report.render());
        assert_eq!(report.histogram[0].1, RUNS, "{name}");
    }
}

#[test]
fn bug_programs_are_deterministic() {
    let mut all = programs::bug_programs();
    all.extend(programs::async_bug_programs());
    for p in all {
        assert_deterministic(p.name, p.body);
    }
}

#[test]
fn workloads_are_deterministic() {
    let mut all = programs::workloads();
    all.extend(programs::async_workloads());
    for w in all {
        assert_deterministic(w.name, w.body);
    }
}

#[test]
fn examples_are_deterministic() {
    assert_deterministic("bank_transfer", bank_transfer::scenario);
    assert_deterministic("dining_philosophers", dining_philosophers::dinner);
}
