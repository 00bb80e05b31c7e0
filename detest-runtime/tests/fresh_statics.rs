//! Detest primitives in statics are fresh in every execution and private to it: each
//! execution starts from the values the program started with, whatever earlier executions
//! (and their leaked tasks) left, and executions on parallel OS threads do not share them.
//! (Linux: elsewhere statics are not recognised; see the README.)
#![cfg(target_os = "linux")]

use detest::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};
use detest::sync::{mpsc, Barrier, Condvar, LazyLock, Mutex, Once, OnceLock, RwLock};
use detest::{thread, Config};

fn run(seeds: u64, body: impl Fn()) {
    let report = Config::new().seeds(seeds).run(body);
    assert!(report.passed(), "{:?}", report.failures);
    assert!(report.executions >= seeds);
}

#[test]
fn atomics_start_from_their_initial_values() {
    static COUNT: AtomicUsize = AtomicUsize::new(5);
    static FLAG: AtomicBool = AtomicBool::new(false);
    static WIDE: AtomicU64 = AtomicU64::new(u64::MAX - 1);
    static PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
    run(50, || {
        assert_eq!(COUNT.load(SeqCst), 5);
        assert!(!FLAG.load(SeqCst));
        assert_eq!(WIDE.load(SeqCst), u64::MAX - 1);
        assert!(PTR.load(SeqCst).is_null());
        let t = thread::spawn(|| {
            COUNT.fetch_add(1, SeqCst);
            FLAG.store(true, SeqCst);
        });
        COUNT.fetch_add(10, SeqCst);
        WIDE.fetch_sub(7, SeqCst);
        PTR.store(Box::into_raw(Box::new(1u8)), SeqCst);
        t.join().unwrap();
        assert_eq!(COUNT.load(SeqCst), 16);
    });
}

#[test]
fn a_lock_and_its_data_start_fresh() {
    static LIST: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    static TABLE: RwLock<(u32, String)> = RwLock::new((1, String::new()));
    run(50, || {
        assert!(
            LIST.lock().unwrap().is_empty(),
            "an earlier execution's pushes"
        );
        assert_eq!(*TABLE.read().unwrap(), (1, String::new()));
        let t = thread::spawn(|| {
            LIST.lock().unwrap().push(1);
            TABLE.write().unwrap().1.push_str("written");
        });
        LIST.lock().unwrap().push(2);
        TABLE.write().unwrap().0 += 1;
        t.join().unwrap();
        let mut list = LIST.lock().unwrap().clone();
        list.sort();
        assert_eq!(list, [1, 2]);
        assert_eq!(*TABLE.read().unwrap(), (2, "written".to_string()));
    });
}

#[test]
fn a_lock_held_by_a_leaked_task_is_free_in_the_next_execution() {
    // The body returns while the thread holds the lock, blocked for good: it is leaked with
    // the lock held. Shared, the next execution would deadlock at its first `lock`.
    static HELD: Mutex<u32> = Mutex::new(0);
    static NEVER: Condvar = Condvar::new();
    static GATE: Mutex<bool> = Mutex::new(false);
    run(20, || {
        let mut value = HELD.lock().unwrap();
        assert_eq!(*value, 0);
        *value += 1;
        drop(value);
        thread::spawn(|| {
            let _held = HELD.lock().unwrap();
            let gate = GATE.lock().unwrap();
            let _never = NEVER.wait_while(gate, |open| !*open).unwrap();
        });
        thread::yield_now();
    });
}

#[test]
fn a_poisoned_lock_is_healthy_in_the_next_execution() {
    static POISONED: Mutex<u32> = Mutex::new(0);
    run(10, || {
        assert!(!POISONED.is_poisoned());
        let t = thread::spawn(|| {
            let _g = POISONED.lock().unwrap();
            panic!("poison it");
        });
        assert!(t.join().is_err());
        assert!(POISONED.is_poisoned());
    });
}

#[test]
fn the_once_family_initialises_again_in_every_execution() {
    static ONCE: Once = Once::new();
    static CELL: OnceLock<String> = OnceLock::new();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static LAZY: LazyLock<Mutex<u32>> = LazyLock::new(|| {
        RUNS.fetch_add(1, SeqCst);
        Mutex::new(10)
    });
    run(50, || {
        assert!(!ONCE.is_completed());
        assert!(CELL.get().is_none());
        let t = thread::spawn(|| {
            ONCE.call_once(|| {});
            *LAZY.lock().unwrap() += 1;
            CELL.get_or_init(|| "thread".into()).clone()
        });
        ONCE.call_once(|| {});
        *LAZY.lock().unwrap() += 1;
        let mine = CELL.get_or_init(|| "main".into()).clone();
        assert_eq!(t.join().unwrap(), mine);
        assert!(ONCE.is_completed());
        assert_eq!(*LAZY.lock().unwrap(), 12);
        assert_eq!(
            RUNS.load(SeqCst),
            1,
            "the initialiser once in this execution"
        );
    });
}

#[test]
fn a_barrier_starts_a_new_generation() {
    // A barrier whose last round an execution left half-full (one waiter leaked).
    static BARRIER: Barrier = Barrier::new(2);
    run(20, || {
        let t = thread::spawn(|| BARRIER.wait().is_leader());
        let leader = BARRIER.wait().is_leader();
        assert_ne!(leader, t.join().unwrap());
        thread::spawn(|| {
            BARRIER.wait();
        });
    });
}

#[test]
fn a_failing_seed_fails_alone_too() {
    // The bug needs two increments in one execution: with a shared static, it would also
    // fail at the second execution of any seed, and that seed would not fail on replay.
    static HITS: AtomicUsize = AtomicUsize::new(0);
    let body = || {
        let (tx, rx) = mpsc::channel();
        let t = thread::spawn(move || {
            if HITS.fetch_add(1, SeqCst) == 1 {
                panic!("second hit");
            }
            tx.send(()).unwrap();
        });
        if rx.try_recv().is_err() {
            HITS.fetch_add(1, SeqCst);
        }
        t.join().unwrap();
    };
    let report = Config::new().seeds(200).fail_fast(false).run(body);
    assert!(!report.failures.is_empty(), "the race is found");
    let report_passes = Config::new().seeds(200).run(|| {
        HITS.fetch_add(1, SeqCst);
        assert_eq!(HITS.load(SeqCst), 1);
    });
    assert!(report_passes.passed(), "{:?}", report_passes.failures);
    for failure in &report.failures {
        let again = Config::new().seed(failure.seed).run(body);
        assert!(!again.passed(), "seed {} fails alone", failure.seed);
    }
}

/// Executions on parallel OS threads (as `cargo test` runs tests) do not see each other's
/// values: each takes its turn with the statics.
#[test]
fn executions_on_parallel_threads_do_not_share_statics() {
    static TOTAL: AtomicUsize = AtomicUsize::new(0);
    static LOG: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let threads: Vec<_> = (0..4)
        .map(|who| {
            std::thread::spawn(move || {
                run(100, || {
                    for _ in 0..3 {
                        TOTAL.fetch_add(1, SeqCst);
                        LOG.lock().unwrap().push(who);
                        thread::yield_now();
                    }
                    assert_eq!(TOTAL.load(SeqCst), 3);
                    assert_eq!(*LOG.lock().unwrap(), [who; 3]);
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// A primitive the program constructs at run time in a std static (here a std `OnceLock`)
/// is not reset: its bytes as the program started are not a primitive, and resetting would
/// hand the next execution the first one's heap buffer. It is shared, as the README says.
#[test]
fn a_primitive_built_at_run_time_in_a_std_static_is_left_alone() {
    static HOLDER: std::sync::OnceLock<Mutex<Vec<u32>>> = std::sync::OnceLock::new();
    static LONGEST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    run(20, || {
        let list = HOLDER.get_or_init(|| Mutex::new(vec![1]));
        let mut list = list.lock().unwrap();
        list.extend(0..100);
        LONGEST.fetch_max(list.len(), SeqCst);
    });
    assert!(LONGEST.load(SeqCst) > 101, "shared by the executions");
}

/// Control flow that depends on statics is deterministic run after run: the check that
/// `cargo detest check-determinism` makes (shared, the second run would take the other path).
#[test]
fn control_flow_on_statics_passes_the_determinism_check() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static SEEN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    let body = || {
        if RUNS.fetch_add(1, SeqCst) == 0 {
            let t = thread::spawn(|| SEEN.lock().unwrap().push(1));
            SEEN.lock().unwrap().push(2);
            t.join().unwrap();
        }
        assert!(SEEN.lock().unwrap().len() <= 2);
    };
    for seed in 0..3 {
        let report = Config::new().check_determinism(seed, 100, body);
        assert!(report.is_deterministic(), "{}", report.render());
        assert_eq!(report.histogram[0].1, 100);
    }
}
