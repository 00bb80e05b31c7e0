//! loom's `tests/fence.rs`, ported: `loom::model` becomes an exhaustive `explore` (no
//! preemption bound, sleep-set reduction). loom's `UnsafeCell` data becomes a relaxed atomic:
//! without the synchronisation the fences give, its load may read the old value, so each test
//! fails when its fences are taken out (checked below).

use detest::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering, Ordering::*};
use detest::sync::Arc;
use detest::{thread, Config};

/// Explores every execution of `body`; returns whether one failed.
fn fails(body: impl Fn()) -> bool {
    let e = Config::new().explore(u32::MAX, 500_000, body);
    assert!(e.complete || !e.report.passed(), "exploration cut short");
    !e.report.passed()
}

#[track_caller]
fn model(body: impl Fn()) {
    let e = Config::new().explore(u32::MAX, 500_000, body);
    assert!(e.complete, "exploration cut short");
    assert!(e.report.passed(), "{}", e.report);
}

/// `fence_sw_base` and its collapsed forms: data, then (fence(Release), flag relaxed) or
/// flag(Release); the reader sees the flag, then (fence(Acquire)) or reads it with Acquire.
fn sw(release: (bool, Ordering), acquire: (bool, Ordering)) -> impl Fn() {
    move || {
        let data = Arc::new(AtomicUsize::new(0));
        let flag = Arc::new(AtomicBool::new(false));
        let th = {
            let (data, flag) = (data.clone(), flag.clone());
            thread::spawn(move || {
                data.store(42, Relaxed);
                if release.0 {
                    fence(Release);
                }
                flag.store(true, release.1);
            })
        };
        if flag.load(acquire.1) {
            if acquire.0 {
                fence(Acquire);
            }
            assert_eq!(42, data.load(Relaxed));
        }
        th.join().unwrap();
    }
}

#[test]
fn fence_sw_base() {
    model(sw((true, Relaxed), (true, Relaxed)));
    assert!(fails(sw((false, Relaxed), (true, Relaxed))));
    assert!(fails(sw((true, Relaxed), (false, Relaxed))));
}

#[test]
fn fence_sw_collapsed_store() {
    model(sw((false, Release), (true, Relaxed)));
}

#[test]
fn fence_sw_collapsed_load() {
    model(sw((true, Relaxed), (false, Acquire)));
}

/// SB+fences from the Promising Semantics paper.
fn sb_fences(order: Option<Ordering>) -> impl Fn() {
    move || {
        let x = Arc::new(AtomicBool::new(false));
        let y = Arc::new(AtomicBool::new(false));
        let a = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || {
                x.store(true, Relaxed);
                if let Some(o) = order {
                    fence(o);
                }
                y.load(Relaxed)
            })
        };
        y.store(true, Relaxed);
        if let Some(o) = order {
            fence(o);
        }
        let b = x.load(Relaxed);
        if !a.join().unwrap() {
            assert!(b);
        }
    }
}

#[test]
fn sb_fences_test() {
    model(sb_fences(Some(SeqCst)));
    assert!(fails(sb_fences(Some(AcqRel))));
    assert!(fails(sb_fences(None)));
}

fn hazard_pointer(order: Ordering) -> impl Fn() {
    move || {
        let reachable = Arc::new(AtomicBool::new(true));
        let protected = Arc::new(AtomicBool::new(false));
        let allocated = Arc::new(AtomicBool::new(true));
        let th = {
            let (reachable, protected, allocated) =
                (reachable.clone(), protected.clone(), allocated.clone());
            thread::spawn(move || {
                // put in protected list
                protected.store(true, Relaxed);
                fence(order);
                // validate, then access
                if reachable.load(Relaxed) {
                    assert!(allocated.load(Relaxed));
                }
            })
        };
        // unlink/retire
        reachable.store(false, Relaxed);
        fence(order);
        // reclaim unprotected
        if !protected.load(Relaxed) {
            allocated.store(false, Relaxed);
        }
        th.join().unwrap();
    }
}

#[test]
fn fence_hazard_pointer() {
    model(hazard_pointer(SeqCst));
    assert!(fails(hazard_pointer(AcqRel)));
}

/// RWC+syncs from the SCFix paper: allowed in C/C++11, forbidden in C/C++20.
fn rwc_syncs(order: Ordering) -> impl Fn() {
    move || {
        let x = Arc::new(AtomicBool::new(false));
        let y = Arc::new(AtomicBool::new(false));
        let t2 = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || {
                let a = x.load(Relaxed);
                fence(order);
                let b = y.load(Relaxed);
                (a, b)
            })
        };
        let t3 = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || {
                y.store(true, Relaxed);
                fence(order);
                x.load(Relaxed)
            })
        };
        x.store(true, Relaxed);
        let (a, b) = t2.join().unwrap();
        let c = t3.join().unwrap();
        if a && !b && !c {
            panic!();
        }
    }
}

#[test]
fn rwc_syncs_test() {
    model(rwc_syncs(SeqCst));
    assert!(fails(rwc_syncs(AcqRel)));
}

/// W+RWC from the SCFix paper.
fn w_rwc(order: Ordering) -> impl Fn() {
    move || {
        let x = Arc::new(AtomicBool::new(false));
        let y = Arc::new(AtomicBool::new(false));
        let z = Arc::new(AtomicBool::new(false));
        let t2 = {
            let (y, z) = (y.clone(), z.clone());
            thread::spawn(move || {
                let a = z.load(Acquire);
                fence(order);
                let b = y.load(Relaxed);
                (a, b)
            })
        };
        let t3 = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || {
                y.store(true, Relaxed);
                fence(order);
                x.load(Relaxed)
            })
        };
        x.store(true, Relaxed);
        z.store(true, Release);
        let (a, b) = t2.join().unwrap();
        let c = t3.join().unwrap();
        if a && !b && !c {
            panic!();
        }
    }
}

#[test]
fn w_rwc_test() {
    model(w_rwc(SeqCst));
    assert!(fails(w_rwc(AcqRel)));
}
