//! loom's `tests/spec.rs` (the examples of cppreference's memory-order page), ported:
//! `loom::model` becomes `explore`, with loom's preemption bound where it sets one.

use detest::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use detest::sync::Arc;
use detest::{thread, Config, MemoryModel};
use std::collections::BTreeSet;

/// cppreference's relaxed example: r1 == r2 == 42 is allowed, but needs load buffering (each
/// load reads a store executed after it), which neither loom (it ignores this test) nor detest
/// models. Asserted never reached.
#[test]
fn relaxed() {
    use Ordering::Relaxed;
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let e = Config::new().explore(u32::MAX, 100_000, || {
        let x1 = Arc::new(AtomicUsize::new(0));
        let y1 = Arc::new(AtomicUsize::new(0));
        let (x2, y2) = (x1.clone(), y1.clone());
        let t1 = thread::spawn(move || {
            let r1 = y1.load(Relaxed);
            x1.store(r1, Relaxed);
            r1
        });
        let t2 = thread::spawn(move || {
            let r2 = x2.load(Relaxed);
            y2.store(42, Relaxed);
            r2
        });
        let r1 = t1.join().unwrap();
        let r2 = t2.join().unwrap();
        seen.lock().unwrap().insert((r1, r2));
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
    assert_eq!(
        seen.into_inner().unwrap(),
        BTreeSet::from([(0, 0), (42, 0)]),
        "r2 == 42 needs r1 == 42 first, and that needs t2's store: load buffering"
    );
}

/// loom's tests/spec.rs `acq_rel` and `test_seq_cst` (cppreference's sequential-consistency
/// example): x is stored by the main thread, y by a spawned one; t1 waits for x and counts y,
/// t2 waits for y and counts x. With `SeqCst` z is never 0. With acquire/release it may be, and
/// is found (each counter reads the other flag's older store), as loom finds it. loom explores
/// these with a preemption bound of 1 ("the yield loop makes loom really sad without this");
/// so does this port, and with 2. loom ignores its `test_seq_cst` (its SeqCst model produces
/// z == 0); detest passes it.
fn spec_seq_cst(order: (Ordering, Ordering), bound: u32, model: MemoryModel) -> BTreeSet<usize> {
    let (store, load) = order;
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let e = Config::new()
        .memory_model(model)
        .explore(bound, 100_000, || {
            let x = Arc::new(AtomicBool::new(false));
            let y = Arc::new(AtomicBool::new(false));
            let z = Arc::new(AtomicUsize::new(0));
            {
                let y = y.clone();
                thread::spawn(move || y.store(true, store));
            }
            let t1 = {
                let (x, y, z) = (x.clone(), y.clone(), z.clone());
                thread::spawn(move || {
                    while !x.load(load) {
                        thread::yield_now();
                    }
                    if y.load(load) {
                        z.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            let t2 = {
                let (x, y, z) = (x.clone(), y.clone(), z.clone());
                thread::spawn(move || {
                    while !y.load(load) {
                        thread::yield_now();
                    }
                    if x.load(load) {
                        z.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            x.store(true, store);
            t1.join().unwrap();
            t2.join().unwrap();
            let z = z.load(Ordering::SeqCst);
            if store == Ordering::SeqCst {
                assert_ne!(z, 0, "z == 0 is not possible with SeqCst");
            }
            seen.lock().unwrap().insert(z);
        });
    assert!(e.report.passed(), "{}", e.report);
    // Plain depth-first search (no partial-order reduction with a bound): 2,103 executions with
    // bound 1 and the SeqCst model, 49,432 with the weak one (each load that may read the
    // flag's older store branches); 860,784 with bound 2 and the weak model, so that one runs
    // under the SeqCst model only.
    assert!(e.complete, "{} executions", e.report.executions);
    assert!(e.report.executions <= 60_000, "{}", e.report.executions);
    seen.into_inner().unwrap()
}

#[test]
fn loom_spec_acq_rel() {
    let acq_rel = (Ordering::Release, Ordering::Acquire);
    assert_eq!(
        spec_seq_cst(acq_rel, 1, MemoryModel::Weak),
        BTreeSet::from([0, 1, 2])
    );
    for bound in [1, 2] {
        let seen = spec_seq_cst(acq_rel, bound, MemoryModel::SeqCst);
        assert_eq!(
            seen,
            BTreeSet::from([1, 2]),
            "every load reads the newest store"
        );
    }
}

#[test]
fn loom_spec_test_seq_cst() {
    let seen = spec_seq_cst((Ordering::SeqCst, Ordering::SeqCst), 1, MemoryModel::Weak);
    assert_eq!(seen, BTreeSet::from([1, 2]));
}
