//! `detest::sync::Section` (hidden; what detest-tokio keeps each primitive's state behind):
//! one scheduling point, then a body no other task's section on the same object interleaves
//! with, even when the body reaches a scheduling point (a foreign waker it wakes may); and
//! its bodies are ordered by happens-before, as a lock's critical sections are.

use detest::sync::atomic::{AtomicU64, Ordering::Relaxed};
use detest::sync::{Arc, Section};
use detest::{thread, Config, Policy};
use std::cell::Cell;

struct Shared {
    section: Section,
    count: std::sync::Mutex<Cell<u64>>,
}

#[test]
fn bodies_exclude_each_other_even_across_a_scheduling_point() {
    let report = Config::new().seeds(300).policy(Policy::Random).run(|| {
        let shared = Arc::new(Shared {
            section: Section::__in_value(0, 0),
            count: std::sync::Mutex::new(Cell::new(0)),
        });
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                thread::spawn(move || {
                    for _ in 0..3 {
                        shared.section.run(|| {
                            let v = shared.count.lock().unwrap().get();
                            // A scheduling point inside the body.
                            thread::yield_now();
                            shared.count.lock().unwrap().set(v + 1);
                        });
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(shared.count.lock().unwrap().get(), 6, "a lost update");
    });
    assert!(report.passed(), "{:?}", report.failures);
}

#[test]
fn a_body_happens_before_the_next_one() {
    // A Relaxed store inside one body, a Relaxed load inside a later one: the section's order
    // makes the store visible (the load may not read the initial value once the flag is seen).
    let report = Config::new().seeds(300).policy(Policy::Random).run(|| {
        let section = Arc::new(Section::__in_value(0, 0));
        let data = Arc::new(AtomicU64::new(0));
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (section, data, flag) = (section.clone(), data.clone(), flag.clone());
            thread::spawn(move || {
                data.store(1, Relaxed);
                section.run(|| flag.store(true, std::sync::atomic::Ordering::Relaxed));
            })
        };
        let seen = section.run(|| flag.load(std::sync::atomic::Ordering::Relaxed));
        if seen {
            assert_eq!(data.load(Relaxed), 1, "the section did not order the store");
        }
        writer.join().unwrap();
    });
    assert!(report.passed(), "{:?}", report.failures);
}
