//! What a failure report leads with, and how its messages read.

use detest::{thread, Config, FailureKind};

const BOOM_LINE: u32 = line!() + 6;

fn tenth_worker_panics() {
    let handles: Vec<_> = (1..=10)
        .map(|i| {
            thread::spawn(move || {
                assert!(i != 10, "worker {i} gave up");
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Main's `join().unwrap()` only passes the panic on: the worker's panic is the failure.
#[test]
fn the_root_cause_leads_when_main_unwraps_a_joined_panic() {
    let exec = Config::new().run_seed(0, tenth_worker_panics);
    let failure = exec.failure.expect("the worker's panic fails the test");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert_eq!(failure.task.as_ref().map(|t| t.id), Some(10));
    let headline = failure.message.lines().next().unwrap();
    assert_eq!(headline, "worker 10 gave up");
    let location = failure.location.clone().unwrap();
    assert!(
        location.contains(&format!("failure_report.rs:{BOOM_LINE}:")),
        "{location}"
    );
    // The consequence is still named, after the cause.
    assert!(
        failure.message.contains(
            "(then task 0 (main) panicked: called `Result::unwrap()` on an `Err` value: Any { .. }"
        ),
        "{}",
        failure.message
    );
    let block = detest::render::failure_block(&failure, None);
    let fields: Vec<&str> = block.lines().skip(1).take(3).collect();
    assert_eq!(fields[0].trim(), "task:     task 10", "{block}");
    assert_eq!(fields[1].trim(), "message:  worker 10 gave up", "{block}");
    assert!(fields[2].contains("failure_report.rs"), "{block}");
}

/// A main that handles the join error and then fails on its own is the failure itself.
#[test]
fn an_independent_later_panic_stays_the_failure() {
    let exec = Config::new().run_seed(0, || {
        let h = thread::spawn(|| panic!("worker failed"));
        assert!(h.join().is_err());
        panic!("main failed on its own");
    });
    let failure = exec.failure.unwrap();
    assert_eq!(failure.task.as_ref().map(|t| t.id), Some(0));
    assert!(failure.message.starts_with("main failed on its own"));
    assert!(
        failure
            .message
            .contains("(earlier, task 1 panicked: worker failed"),
        "{}",
        failure.message
    );
}

/// A deadlock reads `deadlock ...: every task is blocked`, the kind named once.
#[test]
fn a_deadlock_names_its_kind_once() {
    let exec = Config::new().run_seed(0, || {
        let m = detest::sync::Mutex::new(());
        let _a = m.lock().unwrap();
        let _b = m.lock().unwrap();
    });
    let failure = exec.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Deadlock);
    let line = failure.to_string();
    assert!(line.contains(": every task is blocked"), "{line}");
    assert!(!line.contains("deadlock: deadlock"), "{line}");
    let block = detest::render::failure_block(&failure, None);
    assert!(block.contains("message:  every task is blocked"), "{block}");
}

/// Counts agree with their nouns: `1 execution, 1 step`, `3 → 1 preemption`.
#[test]
fn counts_agree_with_their_nouns() {
    let report = detest::Report {
        executions: 1,
        steps: 1,
        failures: Vec::new(),
        elapsed: std::time::Duration::ZERO,
    };
    assert!(
        report
            .to_string()
            .starts_with("1 execution, 1 step, 0 failures in "),
        "{report}"
    );
    let body = || {
        let n = detest::sync::Arc::new(detest::sync::Mutex::new(0));
        let n2 = n.clone();
        let t = thread::spawn(move || {
            let v = *n2.lock().unwrap();
            *n2.lock().unwrap() = v + 1;
        });
        let v = *n.lock().unwrap();
        *n.lock().unwrap() = v + 1;
        t.join().unwrap();
        assert_eq!(*n.lock().unwrap(), 2, "lost update");
    };
    let report = Config::new()
        .seeds(200)
        .policy(detest::Policy::Random)
        .run(body);
    let failure = &report.failures[0];
    let shrunk = Config::new().shrink(failure, body).expect("it shrinks");
    let summary = shrunk.summary();
    assert_eq!(shrunk.preemptions_after, 1, "{summary}");
    assert!(summary.contains(" → 1 preemption in "), "{summary}");
    assert!(!summary.contains("1 preemptions"), "{summary}");
}
