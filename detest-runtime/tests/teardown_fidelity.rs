//! How tasks end (issue 11, items 6, 8, 9, 13): thread-local destructors at thread exit,
//! unfinished tasks leaked rather than unwound, detached futures ending with the body, an
//! abort in a destructor reported before the process dies, and draws in the determinism check.

use detest::sync::atomic::{AtomicBool, Ordering};
use detest::sync::{mpsc, Arc, Mutex};
use detest::{future, thread, Config, FailureKind, Policy};
use std::collections::BTreeSet;
use std::sync::Mutex as StdMutex;

/// A log outside the execution: std, so that nothing in it is a scheduling point.
#[derive(Default)]
struct Log(StdMutex<Vec<String>>);

impl Log {
    fn push(&self, what: impl Into<String>) {
        self.0.lock().unwrap().push(what.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

static LOG: Log = Log(StdMutex::new(Vec::new()));
// Tests in this file share `LOG`: they take this lock first.
static SERIAL: StdMutex<()> = StdMutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

// ---- item 6: thread-local destructors run at thread exit, until none is left ----

struct Outer;
struct Inner;

impl Drop for Outer {
    fn drop(&mut self) {
        // std: the value being destroyed is no longer accessible, and a key first used here
        // gets a value whose destructor runs too, still at this thread's exit.
        LOG.push(format!(
            "outer sees itself: {}",
            OUTER.try_with(|_| ()).is_ok()
        ));
        INNER.with(|_| ());
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let me = thread::current().id().as_u64();
        LOG.push(format!("inner dropped on task {me}"));
    }
}

detest::thread_local! {
    static OUTER: Outer = Outer;
    static INNER: Inner = Inner;
}

fn nested_thread_local_body() {
    let t = thread::spawn(|| OUTER.with(|_| ()));
    let other = thread::spawn(|| ());
    t.join().unwrap();
    LOG.push("joined");
    other.join().unwrap();
}

#[test]
fn a_thread_local_created_in_a_destructor_is_dropped_before_join_returns() {
    let _s = serial();
    let outcomes = StdMutex::new(BTreeSet::new());
    let exploration = Config::new().explore(u32::MAX, 10_000, || {
        LOG.take();
        nested_thread_local_body();
        outcomes.lock().unwrap().insert(LOG.take());
    });
    assert!(exploration.complete, "{:?}", exploration.report.failures);
    assert!(exploration.report.failures.is_empty());
    // The one outcome std allows: both destructors on the exiting thread, before its join
    // returns; never after it (today's bug: at the end of the execution, outside any task).
    let expected = vec![
        "outer sees itself: false".to_owned(),
        "inner dropped on task 1".to_owned(),
        "joined".to_owned(),
    ];
    assert_eq!(*outcomes.lock().unwrap(), BTreeSet::from([expected]));
    assert!(
        LOG.take().is_empty(),
        "a destructor ran after the execution"
    );
}

#[test]
fn thread_local_destructors_run_newest_first() {
    let _s = serial();
    struct Named(&'static str);
    impl Drop for Named {
        fn drop(&mut self) {
            LOG.push(self.0);
        }
    }
    detest::thread_local! {
        static FIRST: Named = Named("first");
        static SECOND: Named = Named("second");
    }
    let exec = Config::new().run_seed(0, || {
        thread::spawn(|| {
            FIRST.with(|_| ());
            SECOND.with(|_| ());
        })
        .join()
        .unwrap();
    });
    assert!(exec.failure.is_none(), "{:?}", exec.failure);
    // glibc's order (__cxa_thread_atexit_impl), which std uses on Linux.
    assert_eq!(LOG.take(), ["second", "first"]);
}

#[test]
fn a_panicking_thread_local_destructor_fails_the_execution() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("thread-local bomb");
        }
    }
    detest::thread_local! {
        static BOMB: Bomb = Bomb;
    }
    let exec = Config::new().run_seed(0, || {
        let _ = thread::spawn(|| BOMB.with(|_| ())).join();
    });
    let failure = exec.failure.expect("std aborts the process here");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure.message.starts_with("thread-local bomb")
            && failure.message.contains("thread-local destructor"),
        "{}",
        failure.message
    );
}

// ---- item 8: unfinished tasks are leaked, not unwound ----

struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        LOG.push(self.0);
    }
}

/// Task 1 waits for a message that comes only when `send` is set; main joins it.
fn waiter(send: bool) {
    let (tx, rx) = mpsc::channel::<()>();
    let t = thread::spawn(move || {
        let _n = Noisy("waiter's destructor");
        rx.recv().unwrap();
    });
    if send {
        tx.send(()).unwrap();
    }
    t.join().unwrap();
}

#[test]
fn a_deadlocked_task_s_destructors_never_run() {
    let _s = serial();
    LOG.take();
    let report = Config::new()
        .seeds(50)
        .policy(Policy::Chaos)
        .run(|| waiter(false));
    assert!(!report.failures.is_empty());
    assert!(report
        .failures
        .iter()
        .all(|f| f.kind == FailureKind::Deadlock));
    assert!(LOG.take().is_empty(), "a leaked task's destructor ran");
    // The other direction: a task that finishes drops its values, on every seed.
    let report = Config::new()
        .seeds(50)
        .policy(Policy::Chaos)
        .run(|| waiter(true));
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(LOG.take().len() as u64, report.executions);
}

#[test]
fn a_destructor_that_would_panic_at_teardown_leaves_the_deadlock_reported() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("dropped at teardown");
        }
    }
    let exec = Config::new().run_seed(0, || {
        let (_tx, rx) = mpsc::channel::<()>();
        let _p = PanicsOnDrop;
        rx.recv().unwrap(); // a deadlock: nobody sends
    });
    let failure = exec.failure.expect("a deadlock");
    assert_eq!(failure.kind, FailureKind::Deadlock, "{}", failure.message);
}

#[test]
fn only_started_tasks_leak_their_stacks() {
    let before = detest::__private::leaked_stacks();
    // No replay to attach a trace: one execution.
    let exec = Config::new().trace_failures(false).run_seed(0, || {
        let (_tx, rx) = mpsc::channel::<()>();
        let _started = thread::spawn(thread::park);
        rx.recv().unwrap();
    });
    assert_eq!(exec.failure.unwrap().kind, FailureKind::Deadlock);
    // Main and the parked thread: two stacks for good.
    assert_eq!(detest::__private::leaked_stacks() - before, 2);
    let before = detest::__private::leaked_stacks();
    let exec = Config::new().run_seed(0, || {
        // The body returns before the task ever runs: its stack is reused.
        future::block_on(async { drop(future::spawn(async {})) });
    });
    assert!(exec.failure.is_none(), "{:?}", exec.failure);
    assert_eq!(detest::__private::leaked_stacks() - before, 0);
}

#[test]
fn scoped_threads_of_a_deadlocked_scope_leak_with_the_frame_they_borrow() {
    // Every seed deadlocks inside the scope; the scoped threads borrow the body's frame. Both
    // stay mapped, and later executions (reusing pooled stacks) run as usual.
    let chaos = Config::new()
        .seeds(30)
        .policy(Policy::Chaos)
        .fail_fast(false);
    let report = chaos.run(|| {
        let data = [1u64; 64];
        let m = Mutex::new(0u64);
        let (_tx, rx) = mpsc::channel::<()>();
        thread::scope(|s| {
            s.spawn(|| *m.lock().unwrap() += data.iter().sum::<u64>());
            s.spawn(|| {
                let _g = m.lock().unwrap();
                rx.recv().unwrap();
            });
        });
    });
    assert!(report.failures.len() >= 30, "every execution deadlocks");
    assert!(report
        .failures
        .iter()
        .all(|f| f.kind == FailureKind::Deadlock));
    let report = chaos.run(|| {
        let data = [2u64; 64];
        let total = Mutex::new(0u64);
        thread::scope(|s| {
            s.spawn(|| *total.lock().unwrap() += data[0]);
            s.spawn(|| *total.lock().unwrap() += data[63]);
        });
        assert_eq!(*total.lock().unwrap(), 4);
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

// ---- item 9: detached futures end with the body; threads run on ----

#[test]
fn a_detached_background_loop_ends_with_the_body() {
    let _s = serial();
    LOG.take();
    let ran = StdMutex::new(BTreeSet::new());
    let report = Config::new().seeds(40).policy(Policy::Chaos).run(|| {
        let ticks = Arc::new(Mutex::new(0u32));
        let t = ticks.clone();
        future::block_on(async move {
            let _background = future::spawn(async move {
                let _n = Noisy("background task dropped");
                loop {
                    *t.lock().unwrap() += 1;
                    detest::thread::sleep(std::time::Duration::from_millis(1));
                    future::yield_now().await;
                }
            });
            future::yield_now().await;
        });
        ran.lock().unwrap().insert(*ticks.lock().unwrap() > 0);
    });
    // Today every seed fails at the step limit.
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    // It may run before the body returns, and may not; it is never dropped.
    assert_eq!(*ran.lock().unwrap(), BTreeSet::from([false, true]));
    assert!(LOG.take().is_empty(), "a detached future was dropped");
}

#[test]
fn a_future_spawned_after_the_body_returned_never_runs() {
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let r = ran.clone();
    let exploration = Config::new().explore(u32::MAX, 1000, move || {
        let r = r.clone();
        // The body has no scheduling point after the spawn: the thread runs once it has
        // returned, and spawns a future then.
        thread::spawn(move || {
            drop(future::spawn(async move {
                r.store(true, std::sync::atomic::Ordering::SeqCst);
            }));
        });
    });
    assert!(exploration.complete && exploration.report.failures.is_empty());
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn a_runnable_thread_runs_on_after_the_body_and_a_blocked_one_ends_with_it() {
    let outcomes = StdMutex::new(BTreeSet::new());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let first = std::sync::atomic::AtomicBool::new(true);
    // An execution's outcome is read as the next one starts (and after the last).
    let record = || {
        let value = done.swap(0, std::sync::atomic::Ordering::SeqCst);
        outcomes.lock().unwrap().insert(value);
    };
    let exploration = Config::new().explore(u32::MAX, 10_000, || {
        if !first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            record();
        }
        let d = done.clone();
        let (tx, rx) = mpsc::channel::<()>();
        thread::spawn(move || {
            let x = Arc::new(AtomicBool::new(false));
            x.store(true, Ordering::SeqCst);
            d.store(1, std::sync::atomic::Ordering::SeqCst);
        });
        // Blocked for good once the body returns: it ends with it, not as a deadlock.
        thread::spawn(move || rx.recv().ok());
        std::mem::forget(tx);
    });
    assert!(exploration.complete, "{:?}", exploration.report.failures);
    assert!(exploration.report.failures.is_empty());
    record();
    // The body never waits for the first thread, yet it always completes.
    assert_eq!(*outcomes.lock().unwrap(), BTreeSet::from([1]));
}

// ---- item 8: a destructor panicking while unwinding aborts, after the report ----

const ABORT_CHILD: &str = "DETEST_TEST_DESTRUCTOR_ABORT_CHILD";

/// Runs only in the child (see `a_destructor_panic_while_unwinding_is_reported_before_the_abort`).
#[test]
fn destructor_abort_child() {
    if std::env::var_os(ABORT_CHILD).is_none() {
        return;
    }
    struct PanicsWhileUnwinding;
    impl Drop for PanicsWhileUnwinding {
        fn drop(&mut self) {
            panic!("the destructor's own panic");
        }
    }
    Config::new().seeds(1).seed_start(7).run(|| {
        let t = thread::spawn(|| {
            let _d = PanicsWhileUnwinding;
            panic!("the first panic, in task 1");
        });
        let _ = t.join();
    });
    unreachable!("the process should have aborted");
}

#[test]
fn a_destructor_panic_while_unwinding_is_reported_before_the_abort() {
    use std::os::unix::process::ExitStatusExt;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "destructor_abort_child", "--nocapture"])
        .env(ABORT_CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{stderr}");
    let last = stderr
        .lines()
        .rfind(|l| l.starts_with("detest: "))
        .unwrap_or_else(|| panic!("no detest line: {stderr}"));
    assert!(
        last.starts_with("detest: aborting at seed 7 (policy round-robin): task 1 panicked: the first panic, in task 1 at ")
            && last.contains("a destructor panicked: the destructor's own panic"),
        "{stderr}"
    );
    // The normal report, with the location and the calls that replay it.
    assert!(stderr.contains("teardown_fidelity.rs:"), "{stderr}");
    assert!(stderr.contains("run_seed(7, body)"), "{stderr}");
    // Before Rust's own words on the abort.
    let report = stderr.find("detest: aborting").unwrap();
    let abort = stderr
        .find("non-unwinding panic")
        .expect("Rust's abort message");
    assert!(report < abort, "{stderr}");
}

// ---- item 13: the determinism check compares where the draws happen ----

/// Per element of a std `HashSet` (a new random order in every run): a lock, and a draw for
/// one element, so the draw lands between different locks from run to run.
fn hashset_draws() {
    let set: std::collections::HashSet<u32> = (0..6).collect();
    let m = Arc::new(Mutex::new(0u64));
    let m2 = m.clone();
    let t = thread::spawn(move || *m2.lock().unwrap() += 1);
    for x in &set {
        let mut g = m.lock().unwrap();
        if *x == 2 {
            *g += detest::rand::range(0..4u64);
        }
    }
    t.join().unwrap();
}

#[test]
fn iterating_a_hashset_around_draws_is_reported_nondeterministic() {
    let config = Config::new().policy(Policy::Random);
    let report = config.check_determinism(0, 30, hashset_draws);
    assert!(!report.is_deterministic(), "{}", report.render());
    let d = report.divergence.as_ref().unwrap();
    assert!(d.likely_cause.contains("HashSet"), "{}", report.render());
    assert!(report.render().contains("first divergence at step"));
    // What the check protects: a schedule recorded from this program does not replay.
    let schedule = config.run_seed(0, hashset_draws).schedule;
    let diverged = (0..20)
        .filter(|_| {
            config
                .replay(&schedule, hashset_draws)
                .failure
                .is_some_and(|f| f.kind == FailureKind::Nondeterminism)
        })
        .count();
    assert!(diverged > 0, "no replay diverged");
}

#[test]
fn a_program_drawing_in_a_fixed_order_passes_the_check() {
    let config = Config::new().policy(Policy::Random);
    for seed in 0..10 {
        let report = config.check_determinism(seed, 10, || {
            let set: BTreeSet<u32> = (0..6).collect();
            let m = Arc::new(Mutex::new(0u64));
            let m2 = m.clone();
            let t = thread::spawn(move || *m2.lock().unwrap() += detest::rand::range(0..3u64));
            for x in &set {
                let mut g = m.lock().unwrap();
                if *x % 2 == 0 {
                    *g += detest::rand::range(0..4u64);
                }
            }
            t.join().unwrap();
        });
        assert!(report.is_deterministic(), "{}", report.render());
    }
}

#[test]
fn past_the_leak_budget_unfinished_tasks_are_unwound_instead() {
    // On a fresh OS thread: the budget counts the stacks leaked on one thread.
    std::thread::spawn(|| {
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let d = dropped.clone();
        let config = Config::new().trace_failures(false);
        let mut executions = 0u64;
        while detest::__private::leaked_stacks() < 16_384 {
            let d = d.clone();
            let exec = config.run_seed(0, move || {
                let d = d.clone();
                struct Counts(std::sync::Arc<std::sync::atomic::AtomicU64>);
                impl Drop for Counts {
                    fn drop(&mut self) {
                        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                let _c = Counts(d);
                let (_tx, rx) = mpsc::channel::<()>();
                rx.recv().unwrap();
            });
            assert_eq!(exec.failure.unwrap().kind, FailureKind::Deadlock);
            executions += 1;
        }
        assert_eq!(executions, 16_384, "one leaked stack per execution");
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 0);
        let exec = config.run_seed(0, move || {
            struct Counts(std::sync::Arc<std::sync::atomic::AtomicU64>);
            impl Drop for Counts {
                fn drop(&mut self) {
                    self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let _c = Counts(d.clone());
            let (_tx, rx) = mpsc::channel::<()>();
            rx.recv().unwrap();
        });
        assert_eq!(exec.failure.unwrap().kind, FailureKind::Deadlock);
        assert_eq!(detest::__private::leaked_stacks(), 16_384);
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 1);
    })
    .join()
    .unwrap();
}
