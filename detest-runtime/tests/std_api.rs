//! std API coverage beyond the core primitives: `LazyLock`, `lazy_static!`, `RwLock::
//! clear_poison`, `Receiver::recv_deadline`, `available_parallelism`, task names.

use detest::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use detest::sync::{mpsc, Arc, LazyLock, Mutex, RwLock};
use detest::{thread, Config, Policy};
use std::time::Duration;

static INITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

detest::lazy_static! {
    static ref COUNTER: AtomicUsize = {
        INITS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        AtomicUsize::new(0)
    };
    /// A channel in a static: its halves are dropped with the execution.
    static ref PIPE: (Mutex<mpsc::Sender<u32>>, Mutex<mpsc::Receiver<u32>>) = {
        let (tx, rx) = mpsc::channel();
        (Mutex::new(tx), Mutex::new(rx))
    };
}

#[test]
fn lazy_static_is_fresh_in_every_execution() {
    INITS.store(0, std::sync::atomic::Ordering::SeqCst);
    let report = Config::new().seeds(50).policy(Policy::Random).run(|| {
        let t = thread::spawn(|| COUNTER.fetch_add(1, SeqCst));
        COUNTER.fetch_add(1, SeqCst);
        t.join().unwrap();
        // Shared by the tasks of one execution, never carried into the next.
        assert_eq!(COUNTER.load(SeqCst), 2);
        PIPE.0.lock().unwrap().send(7).unwrap();
        assert_eq!(PIPE.1.lock().unwrap().recv().unwrap(), 7);
    });
    assert!(
        report.passed(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
    assert_eq!(INITS.load(std::sync::atomic::Ordering::SeqCst), 50);
}

detest::lazy_static! {
    static ref PLAIN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(5);
}

#[test]
fn lazy_static_outside_an_execution_is_one_value() {
    use std::sync::atomic::Ordering::SeqCst;
    let before = PLAIN.fetch_add(1, SeqCst);
    assert!(before >= 5);
    assert_eq!(PLAIN.load(SeqCst), before + 1);
}

#[test]
fn lazy_lock_initialises_once_whoever_gets_there_first() {
    let run = Config::new().explore(u32::MAX, 10_000, || {
        let runs = Arc::new(AtomicUsize::new(0));
        let r2 = runs.clone();
        let lazy = Arc::new(LazyLock::new(move || r2.fetch_add(1, SeqCst) + 10));
        let l2 = lazy.clone();
        let t = thread::spawn(move || **l2);
        assert_eq!(**lazy, 10);
        assert_eq!(t.join().unwrap(), 10);
        assert_eq!(runs.load(SeqCst), 1);
    });
    assert!(run.report.passed() && run.complete);
    assert!(run.report.executions > 1);
}

#[test]
fn rwlock_clear_poison() {
    detest::check(|| {
        let lock = Arc::new(RwLock::new(0));
        let l2 = lock.clone();
        let r = thread::spawn(move || {
            let _g = l2.write().unwrap();
            panic!("poison it");
        })
        .join();
        assert!(r.is_err());
        assert!(lock.is_poisoned());
        lock.clear_poison();
        assert!(!lock.is_poisoned());
    });
}

#[test]
fn recv_deadline_times_out_on_the_virtual_clock() {
    detest::check(|| {
        let (_tx, rx) = mpsc::channel::<u32>();
        let start = detest::time::Instant::now();
        let deadline = start + Duration::from_secs(3600);
        assert_eq!(
            rx.recv_deadline(deadline),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        assert_eq!(detest::time::Instant::now(), deadline);
    });
}

#[test]
fn available_parallelism_is_fixed_and_names_are_readable() {
    detest::check(|| {
        assert_eq!(thread::available_parallelism().unwrap().get(), 4);
        let t = thread::Builder::new()
            .name("worker".into())
            .spawn(|| ())
            .unwrap();
        t.join().unwrap();
        assert_eq!(
            detest::current::get_name_for_task(1).as_deref(),
            Some("worker")
        );
        assert_eq!(detest::current::get_name_for_task(0), None);
    });
}
