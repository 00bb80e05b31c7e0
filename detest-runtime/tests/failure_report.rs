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
