//! std's clock and sleep inside an execution read the virtual clock (glibc Linux), and outside
//! one (this test's own thread between executions, other test threads, the timeout) stay real.
#![cfg(detest_std_env)]

use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::sync::{Arc, Mutex};
use detest::{Config, FailureKind, Policy};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HOUR: Duration = Duration::from_secs(3600);

// These tests run on glibc Linux only, where the interposition must be on.
const _: () = assert!(detest::env::INTERPOSED);

#[test]
fn instant_differences_are_the_virtual_sleeps() {
    let report = Config::new().seeds(20).run(|| {
        let start = Instant::now();
        let virtual_start = detest::time::Instant::now();
        // An hour and a bit, in no wall time (the test would otherwise take 20 hours).
        std::thread::sleep(HOUR + Duration::from_nanos(7));
        assert_eq!(start.elapsed(), HOUR + Duration::from_nanos(7));
        assert_eq!(virtual_start.elapsed(), HOUR + Duration::from_nanos(7));
        // `Instant::now()` is never at zero, so code may subtract from it.
        let _ = Instant::now() - Duration::from_secs(60);
        assert_eq!(
            detest::time::Instant::now().duration_since(virtual_start),
            Instant::now() - start
        );
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.executions, 20);
}

#[test]
fn system_time_is_the_seeds_epoch_plus_virtual_time() {
    let seen = std::sync::Mutex::new(Vec::new());
    for seed in [3u64, 3, 4] {
        let exec = Config::new().run_seed(seed, || {
            let at_zero = SystemTime::now();
            std::thread::sleep(Duration::from_millis(1500));
            let later = SystemTime::now();
            assert_eq!(
                later.duration_since(at_zero).unwrap(),
                Duration::from_millis(1500)
            );
            let nanos = at_zero.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
            assert_eq!(nanos, detest::env::epoch(detest::seed()));
            // libc's other wall-clock reads agree with std's.
            let mut tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            };
            unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
            let secs = later.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
            assert_eq!(tv.tv_sec, secs);
            assert_eq!(unsafe { libc::time(std::ptr::null_mut()) }, secs);
            seen.lock().unwrap().push(nanos);
        });
        assert!(exec.failure.is_none(), "{:?}", exec.failure);
    }
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], seen[1], "one seed, one epoch");
    assert_ne!(seen[0], seen[2], "another seed, another epoch");
}

#[test]
fn std_sleeps_are_scheduling_points_in_virtual_time() {
    // Wake-up order follows virtual deadlines whatever the policy picks.
    let orders = std::sync::Mutex::new(BTreeSet::new());
    let report = Config::new().seeds(200).policy(Policy::Chaos).run(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = [3u64, 1, 2]
            .into_iter()
            .map(|secs| {
                let log = log.clone();
                detest::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(secs));
                    log.lock().unwrap().push(secs);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        orders.lock().unwrap().insert(log.lock().unwrap().clone());
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(
        orders.into_inner().unwrap(),
        BTreeSet::from([vec![1, 2, 3]])
    );

    // The spawned task wakes as the main one does: whether it loads before or after main's
    // store is the policy's choice at that instant, so both outcomes show up (the sleeps are
    // points where time passes, not no-ops, and not real ones).
    let outcomes = std::sync::Mutex::new(BTreeSet::new());
    Config::new().seeds(200).policy(Policy::Chaos).run(|| {
        let n = Arc::new(AtomicUsize::new(0));
        let bump = |n: &AtomicUsize| {
            let v = n.load(Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
            n.store(v + 1, Ordering::SeqCst);
        };
        let n2 = n.clone();
        let t = detest::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            bump(&n2)
        });
        bump(&n);
        t.join().unwrap();
        outcomes.lock().unwrap().insert(n.load(Ordering::SeqCst));
    });
    assert_eq!(outcomes.into_inner().unwrap(), BTreeSet::from([1, 2]));
}

#[test]
fn nanosleep_and_clock_nanosleep_deadlines_are_virtual() {
    let report = Config::new().run(|| {
        let start = Instant::now();
        let ts = libc::timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        assert_eq!(unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) }, 0);
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        // An absolute deadline on the monotonic clock, as read inside the execution.
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let deadline = libc::timespec {
            tv_sec: now.tv_sec + 10,
            tv_nsec: now.tv_nsec,
        };
        let r = unsafe {
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &deadline,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(r, 0);
        assert_eq!(start.elapsed(), Duration::from_secs(15));
        unsafe { libc::usleep(250_000) };
        unsafe { libc::sleep(1) };
        assert_eq!(start.elapsed(), Duration::from_millis(16_250));
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[test]
fn outside_an_execution_time_is_real() {
    // Between executions, on this very thread.
    let before = Instant::now();
    Config::new().run(|| std::thread::sleep(HOUR));
    let after = Instant::now();
    assert!(after >= before);
    assert!(after.duration_since(before) < HOUR, "the hour was virtual");
    // A real sleep here sleeps: at least as long as asked, as the OS guarantees.
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    assert!(t.elapsed() >= Duration::from_millis(2));
    // Another OS thread sees real time while this one runs executions.
    let real_start = SystemTime::now();
    let watcher = std::thread::spawn(move || {
        let mut readings = 0;
        for _ in 0..200 {
            let now = SystemTime::now();
            assert!(
                now >= real_start,
                "a virtual reading leaked to another thread"
            );
            std::thread::sleep(Duration::from_micros(50));
            readings += 1;
        }
        readings
    });
    Config::new().seeds(200).run(|| {
        std::thread::sleep(HOUR);
    });
    assert_eq!(watcher.join().unwrap(), 200);
    // Inside an execution, `detest::env::real` reads the real clocks.
    Config::new().run(|| {
        let real = detest::env::real(SystemTime::now);
        assert!(real >= real_start);
        assert_ne!(real, SystemTime::now());
    });
}

#[test]
fn the_wall_clock_timeout_fires_while_std_time_stands_still() {
    // The loop waits for an hour of std time that never passes (nothing sleeps): only the
    // wall-clock timeout, which reads the real clock, can end it.
    let report = Config::new()
        .max_steps(u64::MAX)
        .timeout(Duration::from_millis(200))
        .run(|| {
            let start = Instant::now();
            let n = AtomicUsize::new(0);
            while start.elapsed() < HOUR {
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].kind, FailureKind::Timeout);
}

/// The watchdog (a thread of its own) times every execution on the real clock, also when the
/// runner restarts that clock from inside the execution: ten hours of std sleep per seed pass
/// under its timeout, and the executions see only virtual time.
#[detest::detest(seeds = 5, timeout = "30s")]
fn the_watchdog_times_executions_on_the_real_clock() {
    let start = Instant::now();
    std::thread::sleep(10 * HOUR);
    assert_eq!(start.elapsed(), 10 * HOUR);
}

/// Past the leak budget teardown unwinds unfinished tasks, but never one suspended inside a std
/// sleep: the unwind would reach the `extern "C"` frame of the interposed `clock_nanosleep`
/// and abort the process. That task is leaked still; the one blocked in a detest join is not.
#[test]
fn past_the_leak_budget_a_task_in_a_std_sleep_is_still_leaked() {
    // On a fresh OS thread: the budget counts the stacks leaked on one thread.
    std::thread::spawn(|| {
        let config = Config::new().trace_failures(false).max_steps(40);
        let body = || {
            let sleeper = detest::thread::spawn(|| loop {
                std::thread::sleep(HOUR);
            });
            sleeper.join().unwrap();
        };
        while detest::__private::leaked_stacks() < 16_384 {
            let exec = config.run_seed(0, body);
            assert_eq!(exec.failure.unwrap().kind, FailureKind::StepLimit);
        }
        let before = detest::__private::leaked_stacks();
        let exec = config.run_seed(0, body);
        assert_eq!(exec.failure.unwrap().kind, FailureKind::StepLimit);
        assert_eq!(detest::__private::leaked_stacks(), before + 1);
    })
    .join()
    .unwrap();
}
