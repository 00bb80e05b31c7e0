//! loom's `tests/atomic_relaxed.rs`, ported (`loom::model` becomes an exhaustive `explore`;
//! `#[should_panic]` tests assert the exploration finds the failure). `compare_and_swap`
//! (deprecated in std) becomes `compare_exchange`.

use detest::sync::atomic::{AtomicUsize, Ordering::*};
use detest::sync::Arc;
use detest::{thread, Config, FailureKind};

fn explore(body: impl Fn()) -> detest::Exploration {
    Config::new().explore(u32::MAX, 200_000, body)
}

#[test]
fn compare_and_swap() {
    let e = explore(|| {
        let num = Arc::new(AtomicUsize::new(0));
        let ths: Vec<_> = (0..2)
            .map(|_| {
                let num = num.clone();
                thread::spawn(move || {
                    let mut curr = num.load(Relaxed);
                    loop {
                        let actual = match num.compare_exchange(curr, curr + 1, Relaxed, Relaxed) {
                            Ok(v) | Err(v) => v,
                        };
                        if actual == curr {
                            return;
                        }
                        curr = actual;
                    }
                })
            })
            .collect();
        for th in ths {
            th.join().unwrap();
        }
        assert_eq!(2, num.load(Relaxed));
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
}

fn ordering(
    store: detest::sync::atomic::Ordering,
    load: detest::sync::atomic::Ordering,
) -> impl Fn() {
    move || {
        let n1 = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let n2 = n1.clone();
        thread::spawn(move || {
            n1.0.store(1, Relaxed);
            n1.1.store(1, store);
        });
        if 1 == n2.1.load(load) {
            assert_eq!(1, n2.0.load(Relaxed));
        }
    }
}

#[test]
fn check_ordering_valid() {
    let e = explore(ordering(Release, Acquire));
    assert!(e.complete && e.report.passed(), "{}", e.report);
}

#[test]
fn check_ordering_invalid_1() {
    let e = explore(ordering(Release, Relaxed));
    let f = e.report.failures.first().expect("the stale read is found");
    assert_eq!(f.kind, FailureKind::Panic);
    assert!(f.message.contains("assertion"), "{}", f.message);
}

#[test]
fn check_ordering_invalid_2() {
    let e = explore(ordering(Relaxed, Relaxed));
    assert!(!e.report.passed(), "the stale read is found");
}
