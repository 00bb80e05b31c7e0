//! detest's primitives used outside any execution (plain `#[test]`s, as a library's own tests
//! and harness code use them) behave like std's, across real OS threads; and a primitive used
//! on both sides fails clearly.

use detest::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use detest::sync::{Arc, Barrier, Condvar, LazyLock, Mutex, Once, OnceLock, RwLock};
use detest::{thread, time};
use std::time::Duration;

#[test]
fn mutex_excludes_real_threads() {
    let n = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let n = n.clone();
            thread::spawn(move || {
                for _ in 0..2000 {
                    // A split read-modify-write under the lock: lost updates if it excluded
                    // nothing.
                    let mut g = n.lock().unwrap();
                    let v = *g;
                    thread::yield_now();
                    *g = v + 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*n.lock().unwrap(), 8000);
    let held = n.lock().unwrap();
    assert!(n.try_lock().is_err(), "try_lock of a held mutex");
    drop(held);
    assert!(n.try_lock().is_ok());
}

#[test]
fn mutex_poisons_on_panic() {
    let m = Arc::new(Mutex::new(1));
    let m2 = m.clone();
    let r = thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("boom");
    })
    .join();
    assert!(r.is_err());
    assert!(m.is_poisoned());
    assert_eq!(*m.lock().unwrap_err().into_inner(), 1);
}

#[test]
fn rwlock_readers_share_writers_exclude() {
    let l = Arc::new(RwLock::new(0u32));
    let r1 = l.read().unwrap();
    let r2 = l.try_read().expect("two readers share");
    assert!(l.try_write().is_err(), "a writer waits for the readers");
    drop((r1, r2));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..500 {
                    *l.write().unwrap() += 1;
                    let _ = *l.read().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*l.read().unwrap(), 1500);
}

#[test]
fn condvar_hands_over_between_real_threads() {
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    let p = pair.clone();
    let consumer = thread::spawn(move || {
        let (m, cv) = &*p;
        let mut got = 0;
        while got < 100 {
            let g = cv.wait_while(m.lock().unwrap(), |v| *v == got).unwrap();
            got = *g;
        }
        got
    });
    for i in 1..=100 {
        let (m, cv) = &*pair;
        *m.lock().unwrap() = i;
        cv.notify_all();
        thread::sleep(Duration::from_micros(50));
    }
    assert_eq!(consumer.join().unwrap(), 100);
    let (m, cv) = &*pair;
    // A bare `wait_timeout` may wake spuriously (std allows it, and outside waits do: any
    // change of any primitive wakes them); waiting while a condition holds must time out.
    let (_g, timeout) = cv
        .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(20), |_| true)
        .unwrap();
    assert!(timeout.timed_out(), "nobody notifies");
}

#[test]
fn atomics_are_atomic_across_real_threads() {
    let n = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let n = n.clone();
            thread::spawn(move || {
                for _ in 0..10_000 {
                    n.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(n.load(SeqCst), 40_000);
    assert_eq!(n.compare_exchange(40_000, 1, SeqCst, SeqCst), Ok(40_000));
    assert_eq!(n.fetch_update(SeqCst, SeqCst, |v| Some(v + 1)), Ok(1));
    stop.store(true, SeqCst);
    detest::sync::atomic::fence(SeqCst);
    assert!(stop.load(SeqCst));
}

#[test]
fn once_family_initialises_once_across_threads() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static ONCE: Once = Once::new();
    static CELL: OnceLock<u32> = OnceLock::new();
    static LAZY: LazyLock<u32> = LazyLock::new(|| {
        RUNS.fetch_add(1, SeqCst);
        7
    });
    let handles: Vec<_> = (0..4)
        .map(|i| {
            thread::spawn(move || {
                ONCE.call_once(|| {
                    RUNS.fetch_add(1, SeqCst);
                });
                let v = *CELL.get_or_init(|| i);
                assert_eq!(*LAZY, 7);
                v
            })
        })
        .collect();
    let values: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(values.iter().all(|v| *v == values[0]), "{values:?}");
    assert_eq!(CELL.get(), Some(&values[0]));
    assert!(ONCE.is_completed());
    assert_eq!(
        RUNS.load(SeqCst),
        2,
        "the Once's closure and the LazyLock's, once each"
    );
}

#[test]
fn barrier_releases_a_round_with_one_leader() {
    let b = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || (b.wait().is_leader(), b.wait().is_leader()))
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.0).count(), 1);
    assert_eq!(results.iter().filter(|r| r.1).count(), 1);
}

#[test]
fn threads_park_unpark_and_name_like_std() {
    let t = thread::Builder::new()
        .name("worker".into())
        .spawn(|| {
            thread::park();
            thread::current().name().map(str::to_owned)
        })
        .unwrap();
    assert_ne!(t.thread().id(), thread::current().id());
    // A token given before the park is kept, as std's is.
    t.thread().unpark();
    assert_eq!(t.join().unwrap().as_deref(), Some("worker"));
    let panicked = thread::spawn(|| panic!("in a real thread")).join();
    assert!(panicked.is_err());
    thread::park_timeout(Duration::from_millis(1));
    let mut v = vec![1, 2, 3];
    thread::scope(|s| {
        s.spawn(|| v.push(4));
    });
    assert_eq!(v, [1, 2, 3, 4]);
}

#[test]
fn time_is_real_outside() {
    let start = time::Instant::now();
    time::sleep(Duration::from_millis(5));
    thread::sleep(Duration::from_millis(5));
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert!(time::Instant::now() > start);
    let draws: Vec<u64> = (0..4).map(|_| detest::rand::next_u64()).collect();
    assert!(draws.windows(2).any(|w| w[0] != w[1]), "real randomness");
    assert!((10..20).contains(&detest::rand::range(10..20)));
}

#[test]
fn a_primitive_used_outside_then_inside_fails_the_execution() {
    let m = Arc::new(Mutex::new(0));
    *m.lock().unwrap() += 1;
    let report = detest::Config::new().run(|| {
        *m.lock().unwrap() += 1;
    });
    let failure = &report.failures[0];
    assert!(
        failure
            .message
            .contains("used outside any detest execution (a plain test"),
        "{}",
        failure.message
    );
}

#[test]
fn a_primitive_used_inside_then_outside_panics() {
    let n = Arc::new(AtomicUsize::new(0));
    let report = detest::Config::new().run(|| {
        n.fetch_add(1, SeqCst);
    });
    assert!(report.passed());
    let outside = std::panic::catch_unwind(|| n.load(SeqCst)).unwrap_err();
    let message = detest::panic_message(&*outside);
    assert!(
        message.contains("was used inside a detest execution and then outside one"),
        "{message}"
    );
}

#[test]
fn channels_carry_values_between_real_threads() {
    use detest::sync::mpsc::{channel, sync_channel, RecvTimeoutError, TryRecvError};
    let (tx, rx) = channel();
    let producers: Vec<_> = (0..3u64)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..100 {
                    tx.send(p * 1000 + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let mut got: Vec<u64> = rx.iter().collect();
    for p in producers {
        p.join().unwrap();
    }
    got.sort();
    let want: Vec<u64> = (0..3)
        .flat_map(|p| (0..100).map(move |i| p * 1000 + i))
        .collect();
    assert_eq!(
        got, want,
        "every value once, then Disconnected ends the iteration"
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // Bounded: a sender waits for room; rendezvous: a send returns once received.
    let (tx, rx) = sync_channel(1);
    let t = thread::spawn(move || (0..50i32).map(|i| tx.send(i).unwrap()).count());
    assert_eq!(rx.iter().sum::<i32>(), (0..50).sum::<i32>());
    assert_eq!(t.join().unwrap(), 50);
    let (tx, rx) = sync_channel(0);
    let t = thread::spawn(move || tx.send("handed over").unwrap());
    assert_eq!(rx.recv(), Ok("handed over"));
    t.join().unwrap();

    let (_tx, rx) = channel::<u8>();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    let deadline = time::Instant::now() + Duration::from_millis(10);
    assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
}

#[test]
fn thread_locals_and_block_on_work_outside() {
    use std::cell::Cell;
    detest::thread_local! {
        static COUNT: Cell<u32> = const { Cell::new(0) };
    }
    COUNT.with(|c| c.set(5));
    // Each OS thread has its own value, as with std's.
    let there = thread::spawn(|| COUNT.with(|c| c.get())).join().unwrap();
    assert_eq!((COUNT.with(|c| c.get()), there), (5, 0));
    assert_eq!(COUNT.try_with(|c| c.get()), Ok(5));

    let (tx, rx) = detest::sync::mpsc::channel();
    let v = detest::future::block_on(async move {
        detest::future::yield_now().await;
        // A waker called from another OS thread unparks the blocked one.
        let waker = std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
        thread::spawn(move || {
            tx.send(7).unwrap();
            waker.wake();
        });
        rx.recv().unwrap()
    });
    assert_eq!(v, 7);
}
