//! The classic litmus tests of the C11/C++20 memory model, each checked both ways: `explore`
//! (exhaustive, with sleep-set reduction, and without it for comparison) reaches the weak
//! outcome under the orderings that allow it and never under those that forbid it.
//!
//! Load buffering (LB) and 2+2W are not modelled (a load never reads a store executed after
//! it, and the modification order is the execution order): their weak outcomes are asserted
//! never to appear, so a change that starts producing them is noticed.

use detest::sync::atomic::{fence, AtomicUsize, Ordering, Ordering::*};
use detest::sync::Arc;
use detest::{thread, Config, MemoryModel};
use std::collections::BTreeSet;

/// Every outcome `body` returns over a complete exploration, with reduction; checks the
/// unreduced search finds the same set.
fn outcomes<T: Ord + Clone + std::fmt::Debug>(
    model: MemoryModel,
    body: impl Fn() -> T,
) -> BTreeSet<T> {
    let run = |reduce: bool| {
        let seen = std::sync::Mutex::new(BTreeSet::new());
        let config = Config::new().memory_model(model);
        let body = || {
            let v = body();
            seen.lock().unwrap().insert(v);
        };
        let exploration = if reduce {
            config.explore(u32::MAX, 200_000, body)
        } else {
            config.explore_unreduced(u32::MAX, 200_000, body)
        };
        assert!(exploration.complete, "exploration cut short");
        assert!(
            exploration.report.passed(),
            "{:?}",
            exploration.report.failures
        );
        seen.into_inner().unwrap()
    };
    let reduced = run(true);
    assert_eq!(reduced, run(false), "reduction lost or added an outcome");
    reduced
}

fn weak<T: Ord + Clone + std::fmt::Debug>(body: impl Fn() -> T) -> BTreeSet<T> {
    outcomes(MemoryModel::Weak, body)
}

fn pair() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

/// MP: data then flag; the reader sees the flag and not the data.
fn mp(store_flag: Ordering, load_flag: Ordering) -> impl Fn() -> (usize, usize) {
    move || {
        let (data, flag) = pair();
        let (d, f) = (data.clone(), flag.clone());
        let t = thread::spawn(move || {
            d.store(1, Relaxed);
            f.store(1, store_flag);
        });
        let r1 = flag.load(load_flag);
        let r2 = data.load(Relaxed);
        t.join().unwrap();
        (r1, r2)
    }
}

#[test]
fn message_passing() {
    let relaxed = weak(mp(Relaxed, Relaxed));
    assert!(relaxed.contains(&(1, 0)), "{relaxed:?}");
    assert_eq!(relaxed.len(), 4, "{relaxed:?}");
    let release_acquire = weak(mp(Release, Acquire));
    assert!(!release_acquire.contains(&(1, 0)));
    assert_eq!(
        release_acquire,
        BTreeSet::from([(0, 0), (0, 1), (1, 1)]),
        "every other outcome is still reached"
    );
    // Release alone, or acquire alone, does not suffice.
    assert!(weak(mp(Release, Relaxed)).contains(&(1, 0)));
    assert!(weak(mp(Relaxed, Acquire)).contains(&(1, 0)));
    // The SeqCst model never reads a stale value.
    assert!(!outcomes(MemoryModel::SeqCst, mp(Relaxed, Relaxed)).contains(&(1, 0)));
}

/// SB: each task stores its flag and reads the other's.
fn sb(store: Ordering, load: Ordering) -> impl Fn() -> (usize, usize) {
    move || {
        let (x, y) = pair();
        let (x2, y2) = (x.clone(), y.clone());
        let t = thread::spawn(move || {
            x2.store(1, store);
            y2.load(load)
        });
        y.store(1, store);
        let r2 = x.load(load);
        (t.join().unwrap(), r2)
    }
}

#[test]
fn store_buffering() {
    for (store, load) in [(Relaxed, Relaxed), (Release, Acquire), (SeqCst, Acquire)] {
        let seen = weak(sb(store, load));
        assert!(seen.contains(&(0, 0)), "{store:?}/{load:?}: {seen:?}");
    }
    let sc = weak(sb(SeqCst, SeqCst));
    assert_eq!(sc, BTreeSet::from([(0, 1), (1, 0), (1, 1)]));
}

/// IRIW: two writers, two readers reading in opposite orders.
fn iriw(store: Ordering, load: Ordering) -> impl Fn() -> [usize; 4] {
    move || {
        let (x, y) = pair();
        let w1 = {
            let x = x.clone();
            thread::spawn(move || x.store(1, store))
        };
        let w2 = {
            let y = y.clone();
            thread::spawn(move || y.store(1, store))
        };
        let r1 = {
            let (x, y) = (x.clone(), y.clone());
            thread::spawn(move || (x.load(load), y.load(load)))
        };
        let (c, d) = (y.load(load), x.load(load));
        let (a, b) = r1.join().unwrap();
        w1.join().unwrap();
        w2.join().unwrap();
        [a, b, c, d]
    }
}

#[test]
fn independent_reads_of_independent_writes() {
    let acq_rel = weak(iriw(Release, Acquire));
    assert!(acq_rel.contains(&[1, 0, 1, 0]), "{acq_rel:?}");
    let sc = weak(iriw(SeqCst, SeqCst));
    assert!(!sc.contains(&[1, 0, 1, 0]));
    assert!(sc.contains(&[1, 1, 1, 1]) && sc.contains(&[0, 0, 0, 0]));
}

#[test]
fn two_plus_two_writes_is_not_modelled() {
    // x = 1; y = 2 || y = 1; x = 2; weak outcome x == 1 && y == 1 (allowed for Relaxed and
    // Release, forbidden for SeqCst). Not produced: the modification order is the order in
    // which stores execute.
    for order in [Relaxed, SeqCst] {
        let seen = weak(move || {
            let (x, y) = pair();
            let (x2, y2) = (x.clone(), y.clone());
            let t = thread::spawn(move || {
                x2.store(1, order);
                y2.store(2, order);
            });
            y.store(1, order);
            x.store(2, order);
            t.join().unwrap();
            (x.load(Relaxed), y.load(Relaxed))
        });
        assert!(!seen.contains(&(1, 1)), "{order:?}: {seen:?}");
        assert!(seen.contains(&(2, 1)) && seen.contains(&(1, 2)) && seen.contains(&(2, 2)));
    }
}

#[test]
fn load_buffering_is_not_modelled() {
    // r1 = x; y = 1 || r2 = y; x = 1; weak outcome r1 == r2 == 1 (allowed for Relaxed): needs
    // a load to read a store executed after it. loom leaves it out too.
    let seen = weak(|| {
        let (x, y) = pair();
        let (x2, y2) = (x.clone(), y.clone());
        let t = thread::spawn(move || {
            let r = x2.load(Relaxed);
            y2.store(1, Relaxed);
            r
        });
        let r2 = y.load(Relaxed);
        x.store(1, Relaxed);
        (t.join().unwrap(), r2)
    });
    assert!(!seen.contains(&(1, 1)), "{seen:?}");
    assert_eq!(seen, BTreeSet::from([(0, 0), (0, 1), (1, 0)]));
}

#[test]
fn read_read_coherence() {
    // CoRR: two reads of one location never see its stores out of modification order.
    let seen = weak(|| {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || {
            x2.store(1, Relaxed);
            x2.store(2, Relaxed);
        });
        let a = x.load(Relaxed);
        let b = x.load(Relaxed);
        t.join().unwrap();
        (a, b)
    });
    let ordered: BTreeSet<_> = (0..3).flat_map(|a| (a..3).map(move |b| (a, b))).collect();
    assert_eq!(seen, ordered, "every ordered pair and nothing else");
}

#[test]
fn write_read_coherence() {
    // CoWR: a task reads its own store or a later one, never the one before it.
    let seen = weak(|| {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || x2.store(2, Relaxed));
        x.store(1, Relaxed);
        let a = x.load(Relaxed);
        t.join().unwrap();
        a
    });
    assert_eq!(seen, BTreeSet::from([1, 2]));
    // A store that happens before the load (through a join) hides the older ones.
    let joined = weak(|| {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        thread::spawn(move || x2.store(1, Relaxed)).join().unwrap();
        x.load(Relaxed)
    });
    assert_eq!(joined, BTreeSet::from([1]));
}

#[test]
fn read_write_coherence() {
    // CoRW: a task that read 1 and then stores 2 puts its store after 1 in `mo`.
    let seen = weak(|| {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || x2.store(1, Relaxed));
        let a = x.load(Relaxed);
        x.store(2, Relaxed);
        t.join().unwrap();
        (a, x.load(Relaxed))
    });
    assert!(!seen.contains(&(1, 1)), "{seen:?}");
    assert!(seen.contains(&(0, 1)) && seen.contains(&(1, 2)) && seen.contains(&(0, 2)));
}

#[test]
fn write_write_coherence() {
    // CoWW: one task's two stores are seen in program order.
    let seen = weak(|| {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || (x2.load(Relaxed), x2.load(Relaxed)));
        x.store(1, Relaxed);
        x.store(2, Relaxed);
        let r = t.join().unwrap();
        (r, x.load(Relaxed))
    });
    assert!(seen.iter().all(|&((a, b), last)| a <= b && last == 2));
    assert!(seen.contains(&((0, 0), 2)) && seen.contains(&((1, 2), 2)));
}

#[test]
fn read_modify_writes_are_atomic() {
    for order in [Relaxed, AcqRel, SeqCst] {
        let seen = weak(move || {
            let x = Arc::new(AtomicUsize::new(0));
            let x2 = x.clone();
            let t = thread::spawn(move || x2.fetch_add(1, order));
            let a = x.fetch_add(1, order);
            let b = t.join().unwrap();
            (a.min(b), a.max(b), x.load(Relaxed))
        });
        assert_eq!(seen, BTreeSet::from([(0, 1, 2)]), "{order:?}");
    }
}

/// MP with relaxed accesses, and optionally a release fence before the flag and an acquire
/// fence after reading it.
fn mp_fenced(fences: bool) -> impl Fn() -> (usize, usize) {
    move || {
        let (data, flag) = pair();
        let (d, f) = (data.clone(), flag.clone());
        let t = thread::spawn(move || {
            d.store(1, Relaxed);
            if fences {
                fence(Release);
            }
            f.store(1, Relaxed);
        });
        let r1 = flag.load(Relaxed);
        if fences {
            fence(Acquire);
        }
        let r2 = data.load(Relaxed);
        t.join().unwrap();
        (r1, r2)
    }
}

#[test]
fn release_and_acquire_fences_order_message_passing() {
    assert!(weak(mp_fenced(false)).contains(&(1, 0)));
    let fenced = weak(mp_fenced(true));
    assert_eq!(fenced, BTreeSet::from([(0, 0), (0, 1), (1, 1)]));
}

/// SB with relaxed accesses and optionally a fence between each store and load.
fn sb_fenced(between: Option<Ordering>) -> impl Fn() -> (usize, usize) {
    move || {
        let (x, y) = pair();
        let (x2, y2) = (x.clone(), y.clone());
        let t = thread::spawn(move || {
            x2.store(1, Relaxed);
            if let Some(o) = between {
                fence(o);
            }
            y2.load(Relaxed)
        });
        y.store(1, Relaxed);
        if let Some(o) = between {
            fence(o);
        }
        let r2 = x.load(Relaxed);
        (t.join().unwrap(), r2)
    }
}

#[test]
fn seq_cst_fences_forbid_store_buffering() {
    assert!(weak(sb_fenced(None)).contains(&(0, 0)));
    // AcqRel fences do not order a store before a later load.
    assert!(weak(sb_fenced(Some(AcqRel))).contains(&(0, 0)));
    let sc = weak(sb_fenced(Some(SeqCst)));
    assert_eq!(sc, BTreeSet::from([(0, 1), (1, 0), (1, 1)]));
}

#[test]
fn a_release_sequence_continues_through_read_modify_writes() {
    // data; flag.store(1, Release) || flag.fetch_add(1, Relaxed) || flag == 2 (Acquire) →
    // data visible: the RMW continues the release sequence headed by the store.
    let seen = weak(|| {
        let (data, flag) = pair();
        let (d, f) = (data.clone(), flag.clone());
        let t = thread::spawn(move || {
            d.store(1, Relaxed);
            f.store(1, Release);
        });
        let f2 = flag.clone();
        let u = thread::spawn(move || {
            f2.fetch_add(1, Relaxed);
        });
        let r = if flag.load(Acquire) == 2 {
            Some(data.load(Relaxed))
        } else {
            None
        };
        t.join().unwrap();
        u.join().unwrap();
        r
    });
    assert!(!seen.contains(&Some(0)), "{seen:?}");
    assert!(seen.contains(&Some(1)));
}

#[test]
fn the_seq_cst_model_reads_only_the_newest_store() {
    let sc = outcomes(MemoryModel::SeqCst, sb(Relaxed, Relaxed));
    assert!(!sc.contains(&(0, 0)));
    let sc = outcomes(MemoryModel::SeqCst, iriw(Relaxed, Relaxed));
    assert!(!sc.contains(&[1, 0, 1, 0]));
}

#[test]
fn a_release_sequence_outlives_the_store_history() {
    // More read-modify-writes than the history keeps (8 stores) continue the release
    // sequence: an acquire load of the last one still sees the data.
    let seen = weak(|| {
        let (data, flag) = pair();
        let (d, f) = (data.clone(), flag.clone());
        d.store(1, Relaxed);
        f.store(1, Release);
        for _ in 0..12 {
            f.fetch_add(1, Relaxed);
        }
        let t = thread::spawn(move || {
            let v = flag.load(Acquire);
            (
                v,
                if v == 13 {
                    Some(data.load(Relaxed))
                } else {
                    None
                },
            )
        });
        let _ = (d, f);
        t.join().unwrap()
    });
    assert_eq!(seen, BTreeSet::from([(13, Some(1))]));
}

#[test]
fn coherence_holds_past_the_store_history() {
    // Twenty stores, two reads: never out of order, whatever the history dropped.
    let seen = weak(|| {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || {
            for i in 1..=20 {
                x2.store(i, Relaxed);
            }
        });
        let a = x.load(Relaxed);
        let b = x.load(Relaxed);
        t.join().unwrap();
        (a, b)
    });
    assert!(seen.iter().all(|&(a, b)| a <= b), "{seen:?}");
    assert!(seen.contains(&(0, 20)) && seen.contains(&(20, 20)));
    // A stale read of the writer's done stores reaches back into the history.
    assert!(seen.contains(&(13, 20)), "{seen:?}");
}

/// A seqlock reader: `fence(Acquire)` between the data loads and the second sequence load
/// keeps it from accepting a torn read.
fn seqlock(fenced: bool) -> impl Fn() -> (usize, usize) {
    move || {
        let seq = Arc::new(AtomicUsize::new(0));
        let (d1, d2) = pair();
        let (s, a, b) = (seq.clone(), d1.clone(), d2.clone());
        let t = thread::spawn(move || {
            s.fetch_add(1, Relaxed);
            fence(Release);
            a.store(1, Relaxed);
            b.store(1, Relaxed);
            s.fetch_add(1, Release);
        });
        let r = loop {
            let s1 = seq.load(Acquire);
            if s1 % 2 == 1 {
                thread::yield_now();
                continue;
            }
            let x = d1.load(Relaxed);
            let y = d2.load(Relaxed);
            if fenced {
                fence(Acquire);
            }
            if s1 == seq.load(Relaxed) {
                break (x, y);
            }
        };
        t.join().unwrap();
        r
    }
}

#[test]
fn a_seqlock_needs_its_acquire_fence() {
    let torn = weak(seqlock(false));
    assert!(torn.contains(&(1, 0)), "{torn:?}");
    assert_eq!(weak(seqlock(true)), BTreeSet::from([(0, 0), (1, 1)]));
}
