//! loom's `tests/litmus.rs`, ported (`loom::model` becomes an exhaustive `explore`). See
//! `litmus.rs` for the full set, each checked both ways.

use detest::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use detest::sync::Arc;
use detest::{thread, Config};
use std::collections::HashSet;

/// loom ignores it ("loom currently does not support load buffering"); neither does detest:
/// the outcome a == 1 is asserted never reached.
#[test]
fn load_buffering() {
    let values = std::sync::Mutex::new(HashSet::new());
    let e = Config::new().explore(u32::MAX, 100_000, || {
        let x = Arc::new(AtomicUsize::new(0));
        let y = Arc::new(AtomicUsize::new(0));
        let th = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || {
                x.store(y.load(Relaxed), Relaxed);
            })
        };
        let a = x.load(Relaxed);
        y.store(1, Relaxed);
        th.join().unwrap();
        values.lock().unwrap().insert(a);
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
    assert!(!values.into_inner().unwrap().contains(&1));
}

#[test]
fn store_buffering() {
    let values = std::sync::Mutex::new(HashSet::new());
    let e = Config::new().explore(u32::MAX, 100_000, || {
        let x = Arc::new(AtomicUsize::new(0));
        let y = Arc::new(AtomicUsize::new(0));
        let a = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || {
                x.store(1, Relaxed);
                y.load(Relaxed)
            })
        };
        y.store(1, Relaxed);
        let b = x.load(Relaxed);
        let a = a.join().unwrap();
        values.lock().unwrap().insert((a, b));
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
    assert!(values.into_inner().unwrap().contains(&(0, 0)));
}
