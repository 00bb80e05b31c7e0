//! A real thread or a std blocking call inside an execution fails it with the call site and
//! the detest replacement, instead of racing the schedule or hanging (glibc Linux).
#![cfg(detest_std_env)]

use detest::{Config, FailureKind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn std_thread_spawn_fails_the_execution_at_its_call_site() {
    let after = AtomicUsize::new(0);
    let spawn_line = AtomicUsize::new(0);
    let report = Config::new().seeds(3).run(|| {
        spawn_line.store(line!() as usize + 1, Ordering::SeqCst);
        let t = std::thread::spawn(|| 1);
        after.fetch_add(1, Ordering::SeqCst);
        t.join().unwrap();
    });
    let f = &report.failures[0];
    assert_eq!(f.kind, FailureKind::Panic);
    assert!(f.message.contains("real OS thread"), "{}", f.message);
    assert!(f.message.contains("detest::thread::spawn"), "{}", f.message);
    let location = f.location.as_deref().unwrap_or("");
    assert!(
        location.contains(&format!(
            "tests/std_threads.rs:{}:",
            spawn_line.load(Ordering::SeqCst)
        )),
        "{location} / {}",
        f.message
    );
    assert_eq!(
        after.load(Ordering::SeqCst),
        0,
        "the body never went past the spawn"
    );
}

#[test]
fn a_scoped_std_thread_fails_too() {
    let report = Config::new().seeds(1).run(|| {
        let mut n = 0;
        std::thread::scope(|s| {
            s.spawn(|| n += 1);
        });
    });
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].message.contains("detest::thread::scope"));
}

#[test]
fn a_std_mutex_no_task_can_release_fails_instead_of_hanging() {
    // The main task holds a std lock while it joins a task that wants it: on one OS thread
    // that is a hang for good (the task blocks the thread the holder needs to run on).
    let lock_line = AtomicUsize::new(0);
    let report = Config::new().seeds(1).fixed_first(false).run(|| {
        let lock = Arc::new(std::sync::Mutex::new(0));
        let guard = lock.lock().unwrap();
        let lock2 = lock.clone();
        lock_line.store(line!() as usize + 1, Ordering::SeqCst);
        let t = detest::thread::spawn(move || *lock2.lock().unwrap() += 1);
        t.join().unwrap();
        drop(guard);
    });
    assert_eq!(report.failures.len(), 1);
    let f = &report.failures[0];
    assert_eq!(f.kind, FailureKind::Panic);
    assert!(f.message.contains("std blocking call"), "{}", f.message);
    assert!(f.message.contains("detest::sync"), "{}", f.message);
    assert_eq!(f.task.as_ref().map(|t| t.id), Some(1), "{f:?}");
    let location = f.location.as_deref().unwrap_or("");
    let at = format!("tests/std_threads.rs:{}:", lock_line.load(Ordering::SeqCst));
    assert!(location.contains(&at), "{location}");
}

#[test]
fn a_std_lock_a_real_thread_releases_is_waited_for() {
    // A real thread (started outside the model) holds the lock for a moment: the task waits
    // for it as std would, and the execution passes.
    let report = Config::new().seeds(3).run(|| {
        let lock = Arc::new(std::sync::Mutex::new(0));
        let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
        let lock2 = lock.clone();
        let t = detest::env::real(|| {
            std::thread::spawn(move || {
                let mut g = lock2.lock().unwrap();
                held_tx.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
                *g += 1;
            })
        });
        detest::env::real(|| held_rx.recv().unwrap());
        *lock.lock().unwrap() += 1;
        detest::env::real(|| t.join().unwrap());
        assert_eq!(*lock.lock().unwrap(), 2);
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[test]
fn outside_an_execution_std_threads_work() {
    let t = std::thread::spawn(|| std::thread::spawn(|| 2).join().unwrap());
    assert_eq!(t.join().unwrap(), 2);
}
