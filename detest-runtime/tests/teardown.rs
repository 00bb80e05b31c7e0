//! Tearing an execution down (after a deadlock, a limit, or the test body returning with tasks
//! still blocked) leaks the unfinished tasks: the destructors on their stacks never run (see
//! teardown_fidelity.rs), so destructors that use detest primitives, even blocking ones, can
//! neither hang nor abort the process. Those that run while a task unwinds still may block.

use detest::sync::{mpsc, Arc, Mutex};
use detest::{thread, Config, FailureKind};

/// Locks a shared mutex when dropped.
struct Cleanup(Arc<Mutex<u32>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }
}

/// Task 1 holds the mutex and parks forever; task 2 parks with a `Cleanup` on its stack. At
/// teardown task 2 unwinds first and its drop wants the mutex task 1 still holds.
fn holder_and_cleaner(join: bool) {
    let m = Arc::new(Mutex::new(0));
    let (tx, rx) = mpsc::channel::<()>();
    let m1 = m.clone();
    let t1 = thread::spawn(move || {
        let _g = m1.lock().unwrap();
        tx.send(()).unwrap();
        thread::park();
    });
    rx.recv().unwrap();
    let m2 = m.clone();
    let t2 = thread::spawn(move || {
        let _c = Cleanup(m2);
        thread::park();
    });
    if join {
        t2.join().unwrap();
        t1.join().unwrap();
    }
}

#[test]
fn a_destructor_blocking_during_teardown_after_a_deadlock() {
    let exec = Config::new().run_seed(0, || holder_and_cleaner(true));
    let failure = exec.failure.expect("everyone is parked: a deadlock");
    assert_eq!(failure.kind, FailureKind::Deadlock);
    assert!(failure.message.contains("is parked"), "{}", failure.message);
}

#[test]
fn a_destructor_blocking_during_teardown_after_the_body_returned() {
    let exec = Config::new().run_seed(0, || holder_and_cleaner(false));
    assert!(exec.failure.is_none(), "{:?}", exec.failure);
}

#[test]
fn a_destructor_blocking_while_its_task_panics() {
    for _ in 0..3 {
        let exec = Config::new().run_seed(0, || {
            let m = Arc::new(Mutex::new(0));
            let (tx, rx) = mpsc::channel::<()>();
            let m2 = m.clone();
            let _t = thread::spawn(move || {
                let _g = m2.lock().unwrap();
                tx.send(()).unwrap();
                let (_keep, never) = mpsc::channel::<()>();
                never.recv().unwrap(); // holds the lock forever
            });
            rx.recv().unwrap();
            let _c = Cleanup(m.clone());
            panic!("main panics; its Cleanup waits for the held mutex while unwinding");
        });
        let failure = exec.failure.expect("the panic is the failure");
        assert_eq!(failure.kind, FailureKind::Panic);
        assert!(
            failure.message.starts_with("main panics"),
            "{}",
            failure.message
        );
    }
}

#[test]
fn joining_a_thread_from_a_destructor_during_teardown() {
    struct JoinOnDrop(Option<thread::JoinHandle<()>>);
    impl Drop for JoinOnDrop {
        fn drop(&mut self) {
            // The joined thread is parked forever; during teardown the join gives up.
            let result = self.0.take().unwrap().join();
            assert!(result.is_err());
        }
    }
    let exec = Config::new().run_seed(0, || {
        let parked = thread::spawn(thread::park);
        let _j = JoinOnDrop(Some(parked));
        let (_tx, rx) = mpsc::channel::<()>();
        rx.recv().unwrap(); // deadlock: main waits, the other thread is parked
    });
    assert_eq!(exec.failure.unwrap().kind, FailureKind::Deadlock);
}
