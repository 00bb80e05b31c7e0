//! Locks and rendezvous channels reach every outcome std allows, and none it forbids: a lock
//! can be found held by a critical section with no other operation in it, a rendezvous
//! `try_send` hands its value to a waiting receiver, and `RwLock` prefers writers as std's
//! Linux implementation does. Each property is checked by exhaustive exploration, both ways.

use detest::sync::mpsc::{self, TrySendError};
use detest::sync::{Arc, Mutex, RwLock, TryLockError};
use detest::trace::Op;
use detest::{thread, Config, FailureKind};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Every outcome `body` returns over an exhaustive exploration (no preemption bound), and
/// whether the exploration was complete (so that an outcome missing from the set is impossible).
fn outcomes<T: Ord + Debug + Send + 'static>(body: impl Fn() -> T) -> (BTreeSet<T>, bool) {
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let exploration = Config::new().explore(u32::MAX, 100_000, || {
        let outcome = body();
        seen.lock().unwrap().insert(outcome);
    });
    assert!(
        exploration.report.passed(),
        "{:?}",
        exploration.report.failures
    );
    (seen.into_inner().unwrap(), exploration.complete)
}

/// A lock holder. `inside` (a std atomic: no scheduling point) is true during its critical
/// section, which is plain code unless `yield_inside` puts a detest operation in it. The lock is
/// still held for a moment after `inside` is cleared (until the guard's drop releases it).
fn holder(
    m: Arc<Mutex<u32>>,
    inside: Arc<AtomicBool>,
    yield_inside: bool,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut g = m.lock().unwrap();
        inside.store(true, Relaxed);
        if yield_inside {
            thread::yield_now();
        }
        *g += 1;
        inside.store(false, Relaxed);
    })
}

/// `(try_lock found the lock busy, the final count)` over every schedule.
fn try_lock_outcomes(yield_inside: bool) -> (BTreeSet<(bool, u32)>, bool) {
    outcomes(move || {
        let m = Arc::new(Mutex::new(0));
        let inside = Arc::new(AtomicBool::new(false));
        let t = holder(m.clone(), inside.clone(), yield_inside);
        let busy = match m.try_lock() {
            Ok(mut g) => {
                // Forbidden: a lock acquired while its holder is inside its section.
                assert!(!inside.load(Relaxed), "try_lock succeeded on a held lock");
                *g += 10;
                false
            }
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Poisoned(_)) => unreachable!(),
        };
        t.join().unwrap();
        let value = *m.lock().unwrap();
        (busy, value)
    })
}

#[test]
fn try_lock_can_find_a_lock_held_by_a_section_without_operations() {
    let (seen, complete) = try_lock_outcomes(false);
    assert!(complete);
    // Busy: only the holder's increment counts; free: both, never a lost update.
    assert_eq!(seen, BTreeSet::from([(false, 11), (true, 1)]));
}

#[test]
fn try_lock_never_succeeds_inside_a_section_with_operations() {
    let (seen, complete) = try_lock_outcomes(true);
    assert!(complete);
    assert_eq!(seen, BTreeSet::from([(false, 11), (true, 1)]));
}

#[test]
fn a_section_can_be_observed_by_a_task_whose_next_operation_is_elsewhere() {
    // The holding point switches only to a task waiting at a try_*: one that first takes
    // another lock must still be able to reach its try_lock while the section runs.
    let (seen, complete) = outcomes(|| {
        let m = Arc::new(Mutex::new(0));
        let other = Mutex::new(());
        let t = holder(m.clone(), Arc::new(AtomicBool::new(false)), false);
        let busy = {
            let _o = other.lock().unwrap();
            m.try_lock().is_err()
        };
        t.join().unwrap();
        busy
    });
    assert!(complete);
    assert_eq!(seen, BTreeSet::from([false, true]));
}

#[test]
fn a_preemption_inside_a_critical_section_is_traced_as_holding() {
    // Two preemptions: the holder runs at main's try_lock, main runs again inside its section.
    let exploration = Config::new().trace_failures(true).explore(2, 10_000, || {
        let m = Arc::new(Mutex::new(0));
        let inside = Arc::new(AtomicBool::new(false));
        let t = holder(m.clone(), inside, false);
        assert!(m.try_lock().is_ok(), "busy");
        t.join().unwrap();
    });
    let failure = &exploration.report.failures[0];
    assert_eq!(failure.message, "busy");
    let holding: Vec<_> = failure
        .trace
        .iter()
        .filter(|e| e.op == Op::Holding)
        .collect();
    assert_eq!(holding.len(), 1, "{:#?}", failure.trace);
    assert_eq!((holding[0].task, holding[0].preempted_by), (1, Some(0)));
    // Each preemption of the schedule is carried by exactly one step.
    assert_eq!(detest::trace::preemptions(&failure.trace), 2);
}

#[test]
fn try_read_and_try_write_can_find_a_lock_held_without_operations() {
    let (seen, complete) = outcomes(|| {
        let l = Arc::new(RwLock::new(0));
        let inside = Arc::new(AtomicBool::new(false));
        let (l2, inside2) = (l.clone(), inside.clone());
        let writer = thread::spawn(move || {
            let mut g = l2.write().unwrap();
            inside2.store(true, Relaxed);
            *g += 1;
            inside2.store(false, Relaxed);
        });
        let read_busy = match l.try_read() {
            Ok(_g) => {
                assert!(!inside.load(Relaxed), "try_read inside a write section");
                false
            }
            Err(_) => true,
        };
        let write_busy = match l.try_write() {
            Ok(_g) => {
                assert!(!inside.load(Relaxed), "try_write inside a write section");
                false
            }
            Err(_) => true,
        };
        writer.join().unwrap();
        let value = *l.read().unwrap();
        (read_busy, write_busy, value)
    });
    assert!(complete);
    assert!(seen.contains(&(true, false, 1)), "{seen:?}");
    assert!(seen.contains(&(false, true, 1)), "{seen:?}");
    assert!(seen.contains(&(false, false, 1)), "{seen:?}");
}

#[test]
fn a_read_section_without_operations_can_be_found_by_try_write() {
    let (seen, complete) = outcomes(|| {
        let l = Arc::new(RwLock::new(0));
        let reading = Arc::new(AtomicBool::new(false));
        let (l2, reading2) = (l.clone(), reading.clone());
        let reader = thread::spawn(move || {
            let g = l2.read().unwrap();
            reading2.store(true, Relaxed);
            let v = *g;
            reading2.store(false, Relaxed);
            v
        });
        let busy = match l.try_write() {
            Ok(mut g) => {
                assert!(!reading.load(Relaxed), "try_write inside a read section");
                *g = 5;
                false
            }
            Err(_) => true,
        };
        (busy, reader.join().unwrap())
    });
    assert!(complete);
    assert_eq!(seen, BTreeSet::from([(false, 0), (false, 5), (true, 0)]));
}

/// `(try_send's result, what the receiver got)` on a rendezvous channel whose receiver may be
/// waiting in `recv`.
fn rendezvous_try_send() -> (&'static str, Option<u32>) {
    let (tx, rx) = mpsc::sync_channel(0);
    let receiver = thread::spawn(move || rx.recv().ok());
    let sent = match tx.try_send(1) {
        Ok(()) => "ok",
        Err(TrySendError::Full(_)) => "full",
        Err(TrySendError::Disconnected(_)) => "disconnected",
    };
    drop(tx);
    (sent, receiver.join().unwrap())
}

#[test]
fn rendezvous_try_send_hands_over_to_a_waiting_receiver() {
    let (seen, complete) = outcomes(rendezvous_try_send);
    assert!(complete);
    // Handed over when the receiver was already waiting; full when it was not there yet.
    assert_eq!(seen, BTreeSet::from([("full", None), ("ok", Some(1))]));
}

#[test]
fn rendezvous_try_send_is_full_when_nobody_waits_to_receive() {
    let (seen, complete) = outcomes(|| {
        let (tx, rx) = mpsc::sync_channel::<u32>(0);
        // A receiver that only polls never waits, so no value can be handed to it.
        let poller = thread::spawn(move || rx.try_recv().ok());
        let sent = tx.try_send(1).is_ok();
        (sent, poller.join().unwrap())
    });
    assert!(complete);
    assert_eq!(seen, BTreeSet::from([(false, None)]));
}

#[test]
fn rendezvous_try_send_hands_over_at_most_one_value_per_receive() {
    let (seen, complete) = outcomes(|| {
        let (tx, rx) = mpsc::sync_channel(0);
        let receiver = thread::spawn(move || rx.recv().ok());
        let tx2 = tx.clone();
        let other = thread::spawn(move || tx2.try_send(2).is_ok());
        let mine = tx.try_send(1).is_ok();
        let theirs = other.join().unwrap();
        drop(tx);
        (mine, theirs, receiver.join().unwrap())
    });
    assert!(complete);
    assert_eq!(
        seen,
        BTreeSet::from([
            (false, false, None),
            (false, true, Some(2)),
            (true, false, Some(1)),
        ])
    );
}

/// Reader holds, a writer queues, the same reader reads again.
fn recursive_read() {
    let l = Arc::new(RwLock::new(0));
    let l2 = l.clone();
    let first = l.read().unwrap();
    let writer = thread::spawn(move || *l2.write().unwrap() += 1);
    let second = l.read().unwrap();
    assert_eq!(*first + *second, 0);
    drop(second);
    drop(first);
    writer.join().unwrap();
}

#[test]
fn a_waiting_writer_blocks_new_readers_so_a_recursive_read_deadlocks() {
    let exploration = Config::new().explore(u32::MAX, 10_000, recursive_read);
    let failure = &exploration.report.failures[0];
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    assert!(failure.message.contains("waits to read-lock"), "{failure}");
    assert!(failure.message.contains("waits to write-lock"), "{failure}");
}

#[test]
fn recursive_reads_never_deadlock_without_a_writer() {
    let (seen, complete) = outcomes(|| {
        let l = Arc::new(RwLock::new(7));
        let l2 = l.clone();
        let other = thread::spawn(move || {
            let a = l2.read().unwrap();
            let b = l2.read().unwrap();
            *a + *b
        });
        let a = l.read().unwrap();
        let b = l.try_read().is_ok();
        let c = l.read().unwrap();
        (*a + *c, b, other.join().unwrap())
    });
    assert!(complete);
    // Without a writer, try_read never fails either.
    assert_eq!(seen, BTreeSet::from([(14, true, 14)]));
}

#[test]
fn try_read_fails_while_a_writer_waits() {
    let (seen, complete) = outcomes(|| {
        let l = Arc::new(RwLock::new(0));
        let l2 = l.clone();
        let first = l.read().unwrap();
        let writer = thread::spawn(move || *l2.write().unwrap() += 1);
        let second = l.try_read().is_ok();
        drop(first);
        writer.join().unwrap();
        second
    });
    assert!(complete);
    // Succeeds before the writer queues, fails once it has.
    assert_eq!(seen, BTreeSet::from([false, true]));
}

#[test]
fn readers_and_writers_exclude_each_other() {
    let (seen, complete) = outcomes(|| {
        let l = Arc::new(RwLock::new(0));
        let writing = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for _ in 0..2 {
            let (l, writing) = (l.clone(), writing.clone());
            handles.push(thread::spawn(move || {
                let mut g = l.write().unwrap();
                writing.store(true, Relaxed);
                *g += 1;
                writing.store(false, Relaxed);
            }));
        }
        let seen = {
            let g = l.read().unwrap();
            assert!(!writing.load(Relaxed), "a reader inside a write section");
            *g
        };
        for h in handles {
            h.join().unwrap();
        }
        let last = *l.read().unwrap();
        (seen, last)
    });
    assert!(complete);
    assert_eq!(seen, BTreeSet::from([(0, 2), (1, 2), (2, 2)]));
}

fn assert_unwind_safe<T: UnwindSafe + RefUnwindSafe + ?Sized>() {}

#[test]
fn locks_are_unwind_safe_like_std() {
    // `Cell` is not `RefUnwindSafe`: the locks are so whatever they hold, as std's are.
    assert_unwind_safe::<Mutex<std::cell::Cell<u32>>>();
    assert_unwind_safe::<RwLock<std::cell::Cell<u32>>>();
    assert_unwind_safe::<Mutex<[u8]>>();
    detest::check(|| {
        let m = Mutex::new(1);
        let l = RwLock::new(2);
        let got = std::panic::catch_unwind(|| *m.lock().unwrap() + *l.read().unwrap());
        assert_eq!(got.unwrap(), 3);
    });
}
