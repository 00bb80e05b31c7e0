//! Happens-before as `detest::current::clock()` shows it: present exactly where std's
//! contracts and the C++20 model put it (release/acquire, fences, joins), absent where they do
//! not (relaxed atomics, unsynchronised tasks). Each case is checked in every schedule.

use detest::current::{self, VectorClock};
use detest::sync::atomic::{fence, AtomicUsize, Ordering};
use detest::sync::{mpsc, Arc};
use detest::{thread, Config};

/// Runs `body` in every schedule; fails the test with the first failure's message.
#[track_caller]
fn in_every_schedule(body: impl Fn()) {
    let run = Config::new().explore(u32::MAX, 20_000, body);
    if let Some(f) = run.report.failures.first() {
        panic!("{}", f.message);
    }
    assert!(run.complete);
}

/// Task 1 stores a flag with `store` (after a release fence if `fences`); the body loads it
/// with `load` (then an acquire fence if `fences`). Whenever the body reads the flag set, it
/// must have seen task 1's past exactly when the orderings synchronise.
fn publish(store: Ordering, load: Ordering, fences: bool) -> impl Fn() {
    move || {
        let flag = Arc::new(AtomicUsize::new(0));
        let f2 = flag.clone();
        let writer = thread::spawn(move || {
            let _ = AtomicUsize::new(0).load(Ordering::SeqCst); // an event of task 1's own
            let before = current::clock();
            if fences {
                fence(Ordering::Release);
            }
            f2.store(1, store);
            before
        });
        let seen = flag.load(load) == 1;
        if fences {
            fence(Ordering::Acquire);
        }
        let mine = current::clock();
        let published = writer.join().unwrap();
        let strong = fences
            || matches!(store, Ordering::Release | Ordering::SeqCst)
                && matches!(load, Ordering::Acquire | Ordering::SeqCst);
        if seen && strong {
            assert!(
                published.le_all(&mine),
                "the acquire saw the release but not what came before it: {published:?} vs {mine:?}"
            );
        } else {
            assert_eq!(
                mine.get(1),
                0,
                "synchronised without release/acquire: {mine:?}"
            );
        }
    }
}

#[test]
fn release_acquire_publishes_the_writers_past() {
    in_every_schedule(publish(Ordering::Release, Ordering::Acquire, false));
    in_every_schedule(publish(Ordering::SeqCst, Ordering::SeqCst, false));
}

#[test]
fn fences_upgrade_relaxed_accesses() {
    in_every_schedule(publish(Ordering::Relaxed, Ordering::Relaxed, true));
}

#[test]
fn half_strong_orderings_do_not_synchronise() {
    in_every_schedule(publish(Ordering::Relaxed, Ordering::Acquire, false));
    in_every_schedule(publish(Ordering::Release, Ordering::Relaxed, false));
}

#[test]
fn relaxed_accesses_do_not_synchronise() {
    in_every_schedule(|| {
        let flag = Arc::new(AtomicUsize::new(0));
        let f2 = flag.clone();
        let t = thread::spawn(move || f2.store(1, Ordering::Relaxed));
        let seen = flag.load(Ordering::Relaxed);
        // Before the join, the body knows nothing of task 1's own events, whatever it read.
        assert_eq!(current::clock().get(1), 0, "saw {seen}");
        t.join().unwrap();
        assert!(current::clock().get(1) > 0);
    });
}

#[test]
fn unsynchronised_tasks_are_concurrent() {
    in_every_schedule(|| {
        let a = thread::spawn(|| {
            let _ = AtomicUsize::new(0).load(Ordering::SeqCst);
            current::clock()
        });
        let b = thread::spawn(|| {
            let _ = AtomicUsize::new(0).load(Ordering::SeqCst);
            current::clock()
        });
        let (ca, cb) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(ca.partial_cmp(&cb), None, "{ca:?} vs {cb:?}");
        let mine = current::clock();
        assert!(ca < mine && cb < mine);
    });
}

#[test]
fn a_message_carries_its_senders_clock_and_no_later_one() {
    in_every_schedule(|| {
        let (tx, rx) = mpsc::channel();
        let t = thread::spawn(move || {
            tx.send(current::clock()).unwrap();
            // Sent after the first message: a receiver of the first must not see it.
            tx.send(current::clock()).unwrap();
        });
        let first: VectorClock = rx.recv().unwrap();
        let after_first = current::clock();
        assert!(first.get(1) <= after_first.get(1));
        assert!(
            after_first.get(1) <= first.get(1) + 1,
            "the first receipt saw the second send: {first:?} vs {after_first:?}"
        );
        let _ = rx.recv().unwrap();
        t.join().unwrap();
    });
}

#[test]
fn clock_for_reads_another_tasks_clock() {
    detest::check(|| {
        let t = thread::spawn(|| {});
        t.join().unwrap();
        assert!(current::clock_for(1) < current::clock());
        assert_eq!(current::me(), 0);
    });
}
