//! Where std defines the behaviour, detest's primitives behave the same.

use detest::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use detest::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use detest::sync::{Arc, Condvar, Mutex, Once, OnceLock};
use detest::time::{sleep, Instant};
use detest::{check, thread, Config, FailureKind, Policy};
use std::cell::Cell;
use std::time::Duration;

#[test]
fn mutex_poisoning() {
    check(|| {
        let m = Arc::new(Mutex::new(1));
        let m2 = m.clone();
        let result = thread::spawn(move || {
            let _guard = m2.lock().unwrap();
            panic!("boom");
        })
        .join();
        assert!(result.is_err());
        assert!(m.is_poisoned());
        let guard = m.lock().unwrap_err().into_inner();
        assert_eq!(*guard, 1);
    });
}

#[test]
fn join_returns_the_panic_payload() {
    check(|| {
        let err = thread::spawn(|| panic!("payload {}", 7))
            .join()
            .unwrap_err();
        assert_eq!(detest::panic_message(&*err), "payload 7");
    });
}

#[test]
fn unjoined_panic_fails_the_execution() {
    let execution = Config::new().run_seed(0, || {
        thread::spawn(|| panic!("lost panic"));
    });
    let failure = execution.failure.expect("a detached panic is a failure");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert_eq!(failure.message, "lost panic");
    assert_eq!(failure.task.unwrap().id, 1);
    assert!(failure.location.unwrap().contains("std_semantics.rs"));
}

#[test]
fn try_lock_and_try_recv() {
    check(|| {
        let m = Mutex::new(());
        let g = m.lock().unwrap();
        assert!(matches!(
            m.try_lock(),
            Err(detest::sync::TryLockError::WouldBlock)
        ));
        drop(g);
        assert!(m.try_lock().is_ok());

        let (tx, rx) = mpsc::channel::<u8>();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send(3).unwrap();
        assert_eq!(rx.try_recv(), Ok(3));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert!(rx.recv().is_err());
    });
}

#[test]
fn send_to_dropped_receiver_fails() {
    check(|| {
        let (tx, rx) = mpsc::channel();
        drop(rx);
        assert_eq!(tx.send(1).unwrap_err().0, 1);
    });
}

#[test]
fn virtual_time_orders_sleepers() {
    check(|| {
        let order = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                thread::spawn(move || {
                    sleep(Duration::from_millis(ms));
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        let start = Instant::now();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![10, 20, 30]);
        assert_eq!(start.elapsed(), Duration::from_millis(30));
    });
}

#[test]
fn timeouts_on_virtual_time() {
    check(|| {
        let (_tx, rx) = mpsc::channel::<u8>();
        let start = Instant::now();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(start.elapsed(), Duration::from_secs(5));

        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let (lock, cv) = &*pair;
        let (guard, timeout) = cv
            .wait_timeout(lock.lock().unwrap(), Duration::from_secs(1))
            .unwrap();
        assert!(timeout.timed_out());
        assert!(!*guard);
    });
}

#[test]
fn condvar_notify_wakes_waiter() {
    Config::new().seeds(200).policy(Policy::Random).check(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p = pair.clone();
        let t = thread::spawn(move || {
            *p.0.lock().unwrap() = true;
            p.1.notify_all();
        });
        let (lock, cv) = &*pair;
        let guard = cv
            .wait_while(lock.lock().unwrap(), |ready| !*ready)
            .unwrap();
        assert!(*guard);
        drop(guard);
        t.join().unwrap();
    });
}

#[test]
fn once_and_once_lock_run_once() {
    Config::new().seeds(200).policy(Policy::Random).check(|| {
        let once = Arc::new(Once::new());
        let cell = Arc::new(OnceLock::new());
        let runs = Arc::new(AtomicU32::new(0));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let (once, cell, runs) = (once.clone(), cell.clone(), runs.clone());
                thread::spawn(move || {
                    once.call_once(|| {
                        runs.fetch_add(1, Ordering::SeqCst);
                    });
                    *cell.get_or_init(|| i)
                })
            })
            .collect();
        let values: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(values.iter().all(|v| *v == values[0]), "{values:?}");
        assert!(once.is_completed());
    });
}

#[test]
fn park_unpark() {
    Config::new().seeds(200).policy(Policy::Random).check(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let parked = thread::spawn(move || {
            while !f.load(Ordering::SeqCst) {
                thread::park();
            }
        });
        flag.store(true, Ordering::SeqCst);
        parked.thread().unpark();
        parked.join().unwrap();
    });
}

detest::thread_local! {
    static LOCAL: Cell<u32> = const { Cell::new(0) };
}

#[test]
fn thread_locals_are_per_logical_thread() {
    check(|| {
        LOCAL.with(|c| c.set(5));
        let other = thread::spawn(|| {
            LOCAL.with(|c| c.set(c.get() + 1));
            LOCAL.with(|c| c.get())
        });
        assert_eq!(other.join().unwrap(), 1);
        assert_eq!(LOCAL.with(|c| c.get()), 5);
    });
}

#[test]
fn thread_names_and_ids() {
    check(|| {
        assert_eq!(thread::current().id().as_u64(), 0);
        assert_eq!(thread::current().name(), Some("main"));
        let t = thread::Builder::new()
            .name("worker".into())
            .spawn(|| {
                (
                    thread::current().id().as_u64(),
                    thread::current().name().map(String::from),
                )
            })
            .unwrap();
        assert_eq!(t.join().unwrap(), (1, Some("worker".into())));
    });
}

#[test]
fn a_thousand_threads_in_one_execution() {
    check(|| {
        let n = Arc::new(AtomicU32::new(0));
        let handles: Vec<_> = (0..1000)
            .map(|_| {
                let n = n.clone();
                thread::spawn(move || n.fetch_add(1, Ordering::SeqCst))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(n.load(Ordering::SeqCst), 1000);
    });
}

/// Primitives work outside executions like std's (see tests/outside.rs); what needs an
/// execution (its seed, its task numbers) says how to run under detest.
#[test]
fn model_only_items_outside_an_execution_explain_themselves() {
    let m = Mutex::new(0);
    *m.lock().unwrap() += 1;
    assert_eq!(thread::spawn(|| 2).join().unwrap(), 2);

    let err = std::panic::catch_unwind(detest::seed).unwrap_err();
    let msg = detest::panic_message(&*err);
    assert!(
        msg.contains("detest::seed was used outside a detest execution"),
        "{msg}"
    );
    assert!(msg.contains("#[detest]"), "{msg}");
}

#[test]
fn random_values_are_recorded_and_vary_by_seed() {
    let draws = |seed| {
        let v = std::sync::Mutex::new(0u64);
        let exec =
            Config::new().run_seed(seed, || *v.lock().unwrap() = detest::rand::random::<u64>());
        assert!(exec.failure.is_none());
        (v.into_inner().unwrap(), exec.schedule)
    };
    let (a, schedule_a) = draws(1);
    let (b, _) = draws(2);
    assert_ne!(a, b);
    assert_eq!(draws(1).0, a);
    assert_eq!(schedule_a.decisions(), &[detest::Decision::Random(a)]);
}

#[test]
fn the_running_seed_is_visible() {
    let seen = std::sync::Mutex::new(Vec::new());
    let report = Config::new()
        .seed_start(40)
        .seeds(3)
        .policy(Policy::Random)
        .run(|| {
            seen.lock().unwrap().push(detest::seed());
        });
    assert!(report.passed());
    assert_eq!(*seen.lock().unwrap(), vec![40, 41, 42]);
}

#[test]
fn sender_handles_cloned_and_dropped_on_real_threads_keep_count() {
    // Handles may be cloned and dropped outside any execution, on any OS thread.
    let (tx, rx) = mpsc::channel::<u8>();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    drop(tx.clone());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    drop(tx);
    let exec = Config::new().run_seed(0, || {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected))
    });
    assert!(exec.failure.is_none(), "{:?}", exec.failure);
}

#[test]
fn a_thread_handle_from_an_earlier_execution_unparks_nothing() {
    let kept = std::sync::Mutex::new(None);
    check(|| {
        let t = thread::spawn(|| ());
        *kept.lock().unwrap() = Some(t.thread().clone());
        t.join().unwrap();
    });
    let stale = kept.lock().unwrap().take().unwrap();
    let exec = Config::new().run_seed(0, || {
        // No task 1 here yet: the stale handle must not reach into this execution.
        stale.unpark();
        let t = thread::spawn(thread::park);
        stale.unpark(); // task 1 exists now, but it is not the thread `stale` named
        t.join().unwrap();
    });
    // Nobody unparked this execution's task 1: it parks for good, and main waits on it.
    let failure = exec.failure.expect("the parked thread never wakes");
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
}

#[test]
fn dropping_the_last_sender_is_a_scheduling_point() {
    // With std, the receiver can see the value before the sender is dropped: `try_recv` is then
    // `Empty`, not `Disconnected`. detest must be able to show that interleaving.
    let report = Config::new().seeds(1000).policy(Policy::Random).run(|| {
        let (tx, rx) = mpsc::channel();
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
            drop(tx);
        });
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Disconnected),
            "sender not dropped yet"
        );
        t.join().unwrap();
    });
    let failure = report.failures.first().expect("the early receive is found");
    assert!(
        failure.message.contains("sender not dropped yet"),
        "{}",
        failure.message
    );
}
