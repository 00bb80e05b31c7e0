//! Step limits, timeouts, deadlocks and yields.

use detest::sync::atomic::{AtomicBool, Ordering};
use detest::sync::{mpsc, Arc, Mutex};
use detest::{thread, Config, FailureKind, Policy};
use std::time::Duration;

#[test]
fn spin_loop_without_yield_hits_the_step_limit() {
    // The spinner is descheduled for the other task (see spin_fidelity.rs), but that one
    // never sets the flag: nothing can end the spin.
    let exec = Config::new().max_steps(10_000).run_seed(0, || {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let other = thread::spawn(move || f.store(false, Ordering::SeqCst));
        while !flag.load(Ordering::SeqCst) {}
        other.join().unwrap();
    });
    let failure = exec.failure.expect("step limit");
    assert_eq!(failure.kind, FailureKind::StepLimit);
    assert!(
        failure.message.contains("step limit of 10000"),
        "{}",
        failure.message
    );
    assert_eq!(failure.task.unwrap().id, 0);
}

#[test]
fn spin_loop_with_yield_does_not_hang() {
    for policy in [
        Policy::RoundRobin,
        Policy::Random,
        Policy::Pct { depth: 3 },
        Policy::Pos,
        Policy::Chaos,
    ] {
        let report = Config::new()
            .seeds(100)
            .max_steps(10_000)
            .policy(policy)
            .run(|| {
                let flag = Arc::new(AtomicBool::new(false));
                let f = flag.clone();
                let setter = thread::spawn(move || f.store(true, Ordering::SeqCst));
                while !flag.load(Ordering::SeqCst) {
                    thread::yield_now();
                }
                setter.join().unwrap();
            });
        assert!(report.passed(), "{policy}: {report}");
    }
}

#[test]
fn lone_yielding_task_lets_virtual_time_pass() {
    let report = Config::new().run(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let sleeper = thread::spawn(move || {
            thread::sleep(Duration::from_secs(1));
            f.store(true, Ordering::SeqCst);
        });
        while !flag.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        sleeper.join().unwrap();
    });
    assert!(report.passed(), "{report}");
}

#[test]
fn deadlock_names_who_waits_on_what() {
    let report = Config::new().seeds(1000).policy(Policy::Random).run(|| {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::Builder::new()
            .name("t1".into())
            .spawn(move || {
                let _x = b2.lock().unwrap();
                let _y = a2.lock().unwrap();
            })
            .unwrap();
        {
            let _x = a.lock().unwrap();
            let _y = b.lock().unwrap();
        }
        t.join().unwrap();
    });
    let failure = report
        .failures
        .first()
        .expect("random walk finds deadlock01");
    assert_eq!(failure.kind, FailureKind::Deadlock);
    let msg = &failure.message;
    assert!(
        msg.contains("task 1 (t1) waits to lock Mutex<()>#"),
        "{msg}"
    );
    assert!(msg.contains("(held by task 0)"), "{msg}");
    assert!(msg.contains("task 0 (main) waits to lock"), "{msg}");
    assert!(msg.contains("limits.rs:"), "{msg}");
}

#[test]
fn receiving_from_a_silent_channel_is_a_deadlock() {
    let exec = Config::new().run_seed(0, || {
        let (tx, rx) = mpsc::channel::<u8>();
        let _keep = tx;
        let _ = rx.recv();
    });
    assert_eq!(exec.failure.unwrap().kind, FailureKind::Deadlock);
}

#[test]
fn main_finishing_ends_the_execution_like_a_process_exit() {
    let exec = Config::new().run_seed(0, || {
        let (tx, rx) = mpsc::channel::<u8>();
        thread::spawn(move || {
            let _ = rx.recv(); // waits forever: the process would exit under it
            drop(tx);
        });
    });
    assert!(exec.failure.is_none(), "{:?}", exec.failure);
}

#[test]
fn wall_clock_timeout_stops_a_long_execution() {
    let exec = Config::new()
        .max_steps(u64::MAX)
        .timeout(Duration::from_millis(1))
        .run_seed(0, || loop {
            thread::yield_now();
            // Spend real time per step, so the timeout triggers after a bounded number of steps
            // (a std sleep inside an execution is virtual, unless made in `env::real`).
            detest::env::real(|| std::thread::sleep(Duration::from_micros(5)));
        });
    assert_eq!(exec.failure.unwrap().kind, FailureKind::Timeout);
}

#[test]
fn wall_clock_timeout_is_checked_when_a_short_execution_ends() {
    // One blocking call past the timeout and a single scheduling point: far fewer than the
    // 1024 steps between the step path's clock checks, so only the check as the execution
    // ends can see it.
    let report = Config::new().timeout(Duration::from_millis(20)).run(|| {
        detest::env::real(|| std::thread::sleep(Duration::from_millis(60)));
        thread::yield_now();
    });
    let failure = report.failures.first().expect("a timeout");
    assert_eq!(failure.kind, FailureKind::Timeout, "{}", failure.message);
    assert!(
        failure.message.contains("wall-clock timeout of 20ms"),
        "{}",
        failure.message
    );
}

#[test]
fn a_panic_past_the_timeout_is_still_reported_as_the_panic() {
    let exec = Config::new()
        .timeout(Duration::from_millis(5))
        .run_seed(0, || {
            detest::env::real(|| std::thread::sleep(Duration::from_millis(20)));
            panic!("the real failure");
        });
    let failure = exec.failure.expect("a failure");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert_eq!(failure.message, "the real failure");
}
