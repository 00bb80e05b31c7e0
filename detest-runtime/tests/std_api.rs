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

#[derive(Clone, Debug, PartialEq)]
struct Role(&'static str);

#[test]
fn labels_are_per_task_typed_and_inherited_at_spawn() {
    let report = Config::new().seeds(20).policy(Policy::Random).run(|| {
        use detest::current::{get_label_for_task, me, remove_label_for_task, set_label_for_task};
        assert_eq!(get_label_for_task::<Role>(me()), None);
        assert_eq!(set_label_for_task(me(), Role("server")), None);
        assert_eq!(set_label_for_task(me(), 7u32), None);
        // Spawned after the labels were set: inherits both.
        let t = thread::spawn(|| {
            let inherited = get_label_for_task::<Role>(me());
            // Replacing its own leaves the parent's alone.
            set_label_for_task(me(), Role("worker"));
            (inherited, get_label_for_task::<u32>(me()), me())
        });
        let (inherited, number, child) = t.join().unwrap();
        assert_eq!(inherited, Some(Role("server")));
        assert_eq!(number, Some(7));
        assert_eq!(get_label_for_task::<Role>(child), Some(Role("worker")));
        assert_eq!(
            set_label_for_task(me(), Role("primary")),
            Some(Role("server"))
        );
        assert_eq!(remove_label_for_task::<u32>(me()), Some(7));
        assert_eq!(get_label_for_task::<u32>(me()), None);
        assert_eq!(get_label_for_task::<Role>(me()), Some(Role("primary")));
        // A task spawned now inherits only what is left.
        let t = thread::spawn(|| get_label_for_task::<u32>(me()));
        assert_eq!(t.join().unwrap(), None);
    });
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(report.executions, 20);
}

#[test]
fn set_name_for_task_renames_it_in_reports() {
    let report = Config::new().seeds(1).run(|| {
        let _t = thread::spawn(|| {
            detest::current::set_name_for_task(detest::current::me(), "renamed");
            assert_eq!(
                detest::current::get_name_for_task(detest::current::me()).as_deref(),
                Some("renamed")
            );
            panic!("boom");
        });
    });
    assert_eq!(report.failures.len(), 1, "{report}");
    let task = report.failures[0].task.as_ref().expect("a task's panic");
    assert_eq!(task.name.as_deref(), Some("renamed"), "{report}");
}

detest::thread_local! {
    static HITS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static LOG: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[test]
fn thread_local_shorthands_and_fetch_not() {
    let report = Config::new().seeds(10).policy(Policy::Random).run(|| {
        HITS.set(2);
        assert_eq!(HITS.replace(5), 2);
        LOG.with_borrow_mut(|l| l.push(1));
        let t = thread::spawn(|| {
            // Another logical thread: its own values.
            assert_eq!(HITS.get(), 0);
            LOG.with_borrow(|l| assert!(l.is_empty()));
        });
        t.join().unwrap();
        assert_eq!(HITS.take(), 5);
        assert_eq!(HITS.get(), 0);
        assert_eq!(LOG.replace(vec![9]), vec![1]);
        assert_eq!(LOG.take(), vec![9]);
        let flag = detest::sync::atomic::AtomicBool::new(false);
        assert!(!flag.fetch_not(SeqCst));
        assert!(flag.fetch_not(SeqCst));
        assert!(!flag.load(SeqCst));
    });
    assert!(report.failures.is_empty(), "{report}");
}
