//! `#[detest]` in-process: each test here passes only if the attribute ran the body the way its
//! arguments say (expectation tests pass only when the sweep finds the outcome).

use detest::detest;
use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::sync::{Arc, Mutex};
use detest::thread;

fn lost_update() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let t = thread::spawn(move || {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
    });
    let v = n.load(Ordering::SeqCst);
    n.store(v + 1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "lost update");
}

/// A doc comment stays on the test.
#[detest]
fn runs_once_with_threads() {
    let counter = Arc::new(Mutex::new(0));
    let c = counter.clone();
    let t = thread::spawn(move || *c.lock().unwrap() += 1);
    *counter.lock().unwrap() += 1;
    t.join().unwrap();
    assert_eq!(*counter.lock().unwrap(), 2);
}

#[detest(seeds = 50, chaos)]
fn correct_counter_passes_every_seed() {
    let counter = Arc::new(Mutex::new(0));
    let c = counter.clone();
    let t = thread::spawn(move || *c.lock().unwrap() += 1);
    *counter.lock().unwrap() += 1;
    t.join().unwrap();
    assert_eq!(*counter.lock().unwrap(), 2);
}

// Round-robin never preempts, so the lost update cannot happen without exploration.
#[detest(seeds = 20)]
fn round_robin_does_not_explore() {
    lost_update();
}

#[detest(seeds = 300, chaos, expect = "panic", expect_message = "lost update")]
fn chaos_finds_the_lost_update() {
    lost_update();
}

// A PCT sweep's fixed executions (rotate) would find the lost update whatever the depth: an
// exact seed (no fixed executions) shows that `depth` reaches PCT. Seed 2 fails with one change
// point (depth 2) and passes with none (depth 1: a fixed priority order never preempts).
#[detest(seed = 2, policy = "pct", depth = 2, expect = "panic")]
fn pct_finds_the_lost_update() {
    lost_update();
}

#[detest(seed = 2, policy = "pct", depth = 1)]
fn pct_depth_1_never_preempts() {
    lost_update();
}

#[detest(seed = 3, policy = "random", expect = "fail", max_steps = 500)]
fn step_limit_counts_as_a_failure() {
    let flag = AtomicUsize::new(0);
    while flag.load(Ordering::SeqCst) == 0 {}
}

#[detest(seeds = 200, chaos, expect = "deadlock")]
fn chaos_finds_a_lock_order_inversion() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || {
        let _b = b2.lock().unwrap();
        let _a = a2.lock().unwrap();
    });
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    t.join().unwrap();
}

#[detest]
async fn async_body_runs_on_the_executor() {
    let task = detest::future::spawn(async {
        detest::future::yield_now().await;
        21
    });
    assert_eq!(task.await.unwrap() * 2, 42);
}

#[detest(
    seeds = 300,
    chaos,
    expect = "panic",
    expect_message = "async lost update"
)]
async fn async_lost_update_is_found() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let task = detest::future::spawn(async move {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
    });
    let v = n.load(Ordering::SeqCst);
    n.store(v + 1, Ordering::SeqCst);
    task.await.unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "async lost update");
}

#[detest]
fn result_ok_passes() -> Result<(), String> {
    let v: u32 = "7".parse().map_err(|e| format!("{e}"))?;
    assert_eq!(v, 7);
    Ok(())
}

#[detest(expect = "panic", expect_message = "returned Err(\"nope\")")]
fn result_err_fails_the_execution() -> Result<(), String> {
    Err("nope".to_owned())
}

#[detest(timeout = "30s", max_steps = 10_000, stack_size = 65_536)]
fn limits_are_accepted() {
    thread::spawn(|| {}).join().unwrap();
}

/// `max_steps` is applied: 200 yields cannot fit in 100 steps.
#[detest(
    max_steps = 100,
    expect = "fail",
    expect_message = "step limit of 100 exceeded"
)]
fn max_steps_is_applied() {
    for _ in 0..200 {
        thread::yield_now();
    }
}

mod nested {
    #[detest::detest(seeds = 3)]
    fn in_a_module() {
        // Plain `cargo test` runs seeds 0, 1, 2.
        assert!(detest::seed() < 3, "seed {}", detest::seed());
        let _ = detest::rand::next_u64();
    }
}

#[detest]
#[cfg(any())]
fn removed_by_cfg() {
    compile_error!("cfg must remove this test before it is expanded");
}

#[detest]
#[ignore = "ignored tests stay ignored"]
fn ignored_is_not_run() {
    panic!("an ignored #[detest] test ran");
}

// The shrinking arguments compile and leave an expectation test alone (it never shrinks).
#[detest(
    seeds = 300,
    chaos,
    expect = "panic",
    shrink = false,
    shrink_executions = 10,
    shrink_time = "1s"
)]
fn shrink_arguments_are_accepted() {
    lost_update();
}

/// `seed = S` is exactly that seed: a chaos sweep's fixed executions (seed 0 of round-robin,
/// rotate and first-release) do not run.
#[detest(seed = 3, chaos)]
fn an_exact_seed_runs_alone() {
    assert_eq!(detest::seed(), 3, "a fixed execution ran");
    two_increments();
}

fn two_increments() {
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    let t = thread::spawn(move || *n2.lock().unwrap() += 1);
    *n.lock().unwrap() += 1;
    t.join().unwrap();
    assert_eq!(*n.lock().unwrap(), 2);
}
