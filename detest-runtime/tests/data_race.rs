//! Data races on `detest::cell::UnsafeCell`: unsynchronised conflicting accesses fail as kind
//! `data-race` in every schedule in which both happen, found by `explore` and by chaos sweeps;
//! the same accesses ordered by each of detest's synchronisations pass in every schedule.

use detest::cell::UnsafeCell;
use detest::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use detest::sync::{mpsc, Arc, Barrier, Mutex, Once, OnceLock};
use detest::trace::Op;
use detest::{thread, Config, Failure, FailureKind, Policy};
use std::sync::atomic::AtomicU32;

/// Lines of the accesses `write` and `read` made last (for the messages' locations).
static WRITE_LINE: AtomicU32 = AtomicU32::new(0);
static READ_LINE: AtomicU32 = AtomicU32::new(0);

fn write(cell: &UnsafeCell<u32>) {
    WRITE_LINE.store(line!() + 1, Ordering::Relaxed);
    cell.with_mut(|p| unsafe { *p += 1 });
}

fn read(cell: &UnsafeCell<u32>) -> u32 {
    READ_LINE.store(line!() + 1, Ordering::Relaxed);
    cell.with(|p| unsafe { *p })
}

/// Shares `T` between tasks although it is not `Sync` (an `UnsafeCell` is not): what a data
/// structure built on cells does with `unsafe impl Sync`, its synchronisation being the claim
/// these tests check.
struct Racy<T> {
    inner: T,
}

// SAFETY: the point of these tests: detest reports the accesses that are not synchronised.
unsafe impl<T> Sync for Racy<T> {}
unsafe impl<T> Send for Racy<T> {}

impl<T> std::ops::Deref for Racy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

fn shared<T>(value: T) -> Arc<Racy<T>> {
    Arc::new(Racy { inner: value })
}

fn at(line: &AtomicU32) -> String {
    format!("{}:{}:", file!(), line.load(Ordering::Relaxed))
}

fn named(name: &str, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .unwrap()
}

/// A scheduling point (an access is none: without one before it, the body's access would
/// always come before the spawned task's first step).
fn point() {
    thread::yield_now();
}

/// A writer task and the body both write the cell, unsynchronised.
fn write_write() {
    let cell = shared(UnsafeCell::new(0));
    let c = cell.clone();
    let t = named("writer", move || write(&c));
    point();
    write(&cell);
    t.join().unwrap();
}

/// A reader task reads the cell while the body writes it, unsynchronised.
fn read_write() {
    let cell = shared(UnsafeCell::new(0));
    let c = cell.clone();
    let t = named("reader", move || {
        read(&c);
    });
    point();
    write(&cell);
    t.join().unwrap();
}

/// Every schedule, every failure (no stop at the first, no trace replays): the failures.
/// Every schedule, unreduced, so that both orders of two accesses run (a cell access is no
/// scheduling point, and partial-order reduction treats the code between points as the
/// task's own: it may run one order only). The reduced search must agree on whether the
/// program races and on what fails: a race is one in every schedule where both accesses
/// happen, so one of each equivalence class of schedules is enough to find it.
fn every_schedule(body: impl Fn()) -> (u64, Vec<Failure>) {
    let config = Config::new().fail_fast(false).trace_failures(false);
    let run = config.explore_unreduced(u32::MAX, 10_000, &body);
    assert!(run.complete);
    let reduced = config.explore(u32::MAX, 10_000, &body);
    assert!(reduced.complete);
    let kinds = |failures: &[Failure]| {
        let mut kinds: Vec<_> = failures.iter().map(|f| f.kind).collect();
        kinds.sort_by_key(|k| format!("{k:?}"));
        kinds.dedup();
        kinds
    };
    assert_eq!(kinds(&reduced.report.failures), kinds(&run.report.failures));
    assert_eq!(
        reduced.report.failures.is_empty(),
        run.report.failures.is_empty()
    );
    (run.report.executions, run.report.failures)
}

#[track_caller]
fn assert_race(f: &Failure, later: &str, earlier: &str) {
    assert_eq!(f.kind, FailureKind::DataRace, "{f}");
    assert!(
        f.message.starts_with("data race on UnsafeCell<u32>#"),
        "{f}"
    );
    assert!(f.message.contains(later), "{f}\nwanted: {later}");
    assert!(f.message.contains(earlier), "{f}\nwanted: {earlier}");
    assert!(
        f.message.ends_with("with no happens-before between them"),
        "{f}"
    );
}

#[test]
fn write_write_race_in_every_schedule() {
    let (executions, failures) = every_schedule(write_write);
    assert!(executions >= 2, "both orders of the writes run");
    assert_eq!(failures.len() as u64, executions, "every order races");
    let (w, m) = (at(&WRITE_LINE), "task 0 (main)");
    // Whichever writes second finds the race, naming itself first.
    let writer_second = format!("task 1 (writer) writes at {w}");
    let main_second = format!("{m} writes at {w}");
    assert!(failures.iter().any(|f| f.message.contains(&writer_second)));
    assert!(failures.iter().any(|f| f.message.contains(&main_second)));
    for f in &failures {
        if f.message.contains(&writer_second) {
            assert_race(f, &writer_second, &format!("{m} wrote it at {w}"));
        } else {
            assert_race(f, &main_second, &format!("task 1 (writer) wrote it at {w}"));
        }
        // The task that found it is the failure's.
        assert!(f.task.is_some());
    }
}

#[test]
fn read_write_race_in_every_schedule() {
    let (executions, failures) = every_schedule(read_write);
    assert_eq!(failures.len() as u64, executions);
    let (r, w) = (at(&READ_LINE), at(&WRITE_LINE));
    let read_first = format!("task 0 (main) writes at {w}");
    let write_first = format!("task 1 (reader) reads at {r}");
    for f in &failures {
        if f.message.contains(&read_first) {
            assert_race(f, &read_first, &format!("task 1 (reader) read it at {r}"));
        } else {
            assert_race(f, &write_first, &format!("task 0 (main) wrote it at {w}"));
        }
    }
    assert!(failures.iter().any(|f| f.message.contains(&read_first)));
    assert!(failures.iter().any(|f| f.message.contains(&write_first)));
}

#[test]
fn a_chaos_sweep_finds_both_races() {
    for body in [write_write as fn(), read_write] {
        let report = Config::new().policy(Policy::Chaos).seeds(20).run(body);
        assert!(!report.failures.is_empty());
        for f in &report.failures {
            assert_eq!(f.kind, FailureKind::DataRace, "{f}");
            assert!(f.message.contains(&at(&WRITE_LINE)), "{f}");
        }
    }
}

#[test]
fn concurrent_reads_are_no_race() {
    let (_, failures) = every_schedule(|| {
        let cell = shared(UnsafeCell::new(7));
        let c = cell.clone();
        let t = thread::spawn(move || assert_eq!(read(&c), 7));
        assert_eq!(read(&cell), 7);
        t.join().unwrap();
    });
    assert!(
        failures.is_empty(),
        "{:?}",
        failures.first().map(|f| &f.message)
    );
}

/// Passes in every schedule (and some schedule ran each part).
#[track_caller]
fn synchronised(body: impl Fn()) {
    let (_, failures) = every_schedule(body);
    if let Some(f) = failures.first() {
        panic!("{f}");
    }
}

#[test]
fn under_a_mutex() {
    synchronised(|| {
        let shared = shared((Mutex::new(()), UnsafeCell::new(0)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            let _held = s.0.lock().unwrap();
            write(&s.1);
        });
        {
            let _held = shared.0.lock().unwrap();
            write(&shared.1);
        }
        t.join().unwrap();
        let _held = shared.0.lock().unwrap();
        assert_eq!(read(&shared.1), 2);
    });
}

/// The writer writes the cell then sets a flag with `store`; the body reads the cell when it
/// sees the flag with `load`.
fn published(store: Ordering, load: Ordering) -> impl Fn() {
    move || {
        let shared = shared((AtomicUsize::new(0), UnsafeCell::new(0)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            write(&s.1);
            s.0.store(1, store);
        });
        if shared.0.load(load) == 1 {
            assert_eq!(read(&shared.1), 1);
        }
        t.join().unwrap();
    }
}

#[test]
fn published_with_release_acquire() {
    synchronised(published(Ordering::Release, Ordering::Acquire));
    synchronised(published(Ordering::SeqCst, Ordering::SeqCst));
}

#[test]
fn a_relaxed_publication_is_a_race() {
    for (store, load) in [
        (Ordering::Relaxed, Ordering::Acquire),
        (Ordering::Release, Ordering::Relaxed),
    ] {
        let (executions, failures) = every_schedule(published(store, load));
        // Only the schedules in which the flag is seen set read the cell.
        assert!(!failures.is_empty() && (failures.len() as u64) < executions);
        for f in &failures {
            assert_race(
                f,
                &format!("task 0 (main) reads at {}", at(&READ_LINE)),
                &format!("task 1 wrote it at {}", at(&WRITE_LINE)),
            );
        }
    }
}

#[test]
fn across_spawn_and_join() {
    synchronised(|| {
        let cell = shared(UnsafeCell::new(0));
        write(&cell);
        let c = cell.clone();
        let t = thread::spawn(move || write(&c));
        t.join().unwrap();
        assert_eq!(read(&cell), 2);
    });
}

#[test]
fn through_a_channel() {
    synchronised(|| {
        let cell = shared(UnsafeCell::new(0));
        let (tx, rx) = mpsc::channel();
        let c = cell.clone();
        let t = thread::spawn(move || {
            write(&c);
            tx.send(()).unwrap();
        });
        rx.recv().unwrap();
        assert_eq!(read(&cell), 1);
        t.join().unwrap();
    });
}

#[test]
fn via_once_and_once_lock() {
    synchronised(|| {
        let shared = shared((Once::new(), UnsafeCell::new(0)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            s.0.call_once(|| write(&s.1));
            assert_eq!(read(&s.1), 1);
        });
        shared.0.call_once(|| write(&shared.1));
        assert_eq!(read(&shared.1), 1);
        t.join().unwrap();
    });
    synchronised(|| {
        let shared = shared((OnceLock::new(), UnsafeCell::new(0)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            write(&s.1);
            s.0.set(()).unwrap();
        });
        if shared.0.get().is_some() {
            assert_eq!(read(&shared.1), 1);
        }
        t.join().unwrap();
    });
}

#[test]
fn after_a_barrier() {
    synchronised(|| {
        let shared = shared((Barrier::new(2), UnsafeCell::new(0), UnsafeCell::new(0)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            write(&s.1);
            s.0.wait();
            assert_eq!(read(&s.2), 1);
        });
        write(&shared.2);
        shared.0.wait();
        assert_eq!(read(&shared.1), 1);
        t.join().unwrap();
    });
}

#[test]
fn a_failing_schedule_replays_to_the_same_failure_with_both_accesses_traced() {
    let run = Config::new().explore(u32::MAX, 1000, read_write);
    let failure = &run.report.failures[0];
    let replay = Config::new().replay(&failure.schedule, read_write);
    let again = replay.failure.expect("the replay fails");
    assert_eq!(again.kind, FailureKind::DataRace);
    assert_eq!(again.message, failure.message);
    // The trace shows both accesses, with their locations.
    let line = |op: Op| {
        replay
            .trace
            .iter()
            .find(|e| e.op == op)
            .and_then(|e| e.location)
            .map(|l| l.line())
    };
    assert_eq!(line(Op::CellRead), Some(READ_LINE.load(Ordering::Relaxed)));
    assert_eq!(
        line(Op::CellWrite),
        Some(WRITE_LINE.load(Ordering::Relaxed))
    );
    // The message numbers the accesses' steps as the trace does.
    for op in [Op::CellRead, Op::CellWrite] {
        let step = replay.trace.iter().find(|e| e.op == op).unwrap().step;
        assert!(again.message.contains(&format!("(step {step})")), "{again}");
    }
    let rendered = detest::trace::timeline(&replay.trace, None);
    assert!(rendered.contains("cell_read") && rendered.contains("cell_write"));
}

#[test]
fn an_access_lasts_as_long_as_its_guard() {
    // The body holds a `MutPtr` across its unlock: the reader, ordered after the unlock, still
    // overlaps the write (in the schedule where it runs before the guard is dropped) or comes
    // after a write that ended after the unlock (otherwise). Either way, a race.
    let body = || {
        let shared = shared((Mutex::new(()), UnsafeCell::new(0u32)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            let _held = s.0.lock().unwrap();
            read(&s.1);
        });
        let held = shared.0.lock().unwrap();
        let ptr = shared.1.get_mut();
        unsafe { *ptr.deref() = 1 };
        drop(held);
        drop(ptr);
        t.join().unwrap();
    };
    let (executions, failures) = every_schedule(body);
    // The schedules where the reader locks first are fine.
    assert!(!failures.is_empty() && (failures.len() as u64) < executions);
    assert!(failures.iter().all(|f| f.kind == FailureKind::DataRace));
    assert!(failures
        .iter()
        .any(|f| f.message.contains("is still writing it")));

    // Dropped before the unlock, the same is no race.
    synchronised(|| {
        let shared = shared((Mutex::new(()), UnsafeCell::new(0u32)));
        let s = shared.clone();
        let t = thread::spawn(move || {
            let _held = s.0.lock().unwrap();
            read(&s.1);
        });
        let held = shared.0.lock().unwrap();
        let ptr = shared.1.get_mut();
        unsafe { *ptr.deref() = 1 };
        drop(ptr);
        drop(held);
        t.join().unwrap();
    });
}

#[test]
fn a_tasks_own_overlapping_accesses_panic() {
    let report = Config::new().run(|| {
        let cell = UnsafeCell::new(0u32);
        let reading = cell.get();
        cell.with_mut(|p| unsafe { *p = 1 });
        drop(reading);
    });
    let f = &report.failures[0];
    assert_eq!(f.kind, FailureKind::Panic, "{f}");
    assert!(f.message.contains("still in progress"), "{f}");
    // Reads may nest.
    let report = Config::new().run(|| {
        let cell = UnsafeCell::new(3u32);
        let a = cell.get();
        let b = cell.get();
        assert_eq!(unsafe { *a.deref() + *b.deref() }, 6);
    });
    assert!(report.passed());
}

#[test]
fn outside_an_execution_it_is_a_plain_unsafe_cell() {
    let five = const { UnsafeCell::new(5u32) }; // `new` is a `const fn`
    assert_eq!(five.into_inner(), 5);
    let cell = UnsafeCell::new(1u32);
    cell.with_mut(|p| unsafe { *p += 1 });
    let ptr = cell.get_mut();
    unsafe { *ptr.deref() += 1 };
    drop(ptr);
    assert_eq!(unsafe { *cell.get().deref() }, 3);
    assert_eq!(cell.with(|p| unsafe { *p }), 3);
    assert_eq!(format!("{cell:?}"), "UnsafeCell { .. }");
    assert_eq!(cell.into_inner(), 3);
    assert_eq!(UnsafeCell::<u8>::default().into_inner(), 0);
}

#[test]
fn cells_are_tracked_afresh_in_every_execution() {
    // The same cell (a leaked one, outliving executions) is written by one task per
    // execution: no race carries over from one execution to the next.
    let cell: &'static UnsafeCell<u32> = Box::leak(Box::new(UnsafeCell::new(0)));
    let addr = cell as *const _ as usize;
    let report = Config::new().seeds(5).run(move || {
        let cell = unsafe { &*(addr as *const UnsafeCell<u32>) };
        write(cell);
    });
    assert!(report.passed(), "{report}");
    assert_eq!(cell.with(|p| unsafe { *p }), 5);
}

// The README's example ("Data races"), kept compiling and failing as it says.

/// A value handed from one thread to another through a flag.
struct Slot {
    ready: AtomicBool,
    value: UnsafeCell<u64>,
}

// SAFETY: the claim detest checks: `value` is written before `ready` is set, read after.
unsafe impl Sync for Slot {}

fn hand_over(publish: Ordering) {
    let slot = Arc::new(Slot {
        ready: AtomicBool::new(false),
        value: UnsafeCell::new(0),
    });
    let s = slot.clone();
    let t = thread::spawn(move || {
        s.value.with_mut(|p| unsafe { *p = 42 });
        s.ready.store(true, publish); // Relaxed publishes nothing
    });
    if slot.ready.load(Ordering::Acquire) {
        assert_eq!(slot.value.with(|p| unsafe { *p }), 42);
    }
    t.join().unwrap();
}

#[detest::detest(seeds = 100, chaos, expect = "data-race")]
fn a_relaxed_flag_is_a_data_race() {
    hand_over(Ordering::Relaxed);
}

#[detest::detest(seeds = 100, chaos)]
fn a_release_flag_publishes_the_value() {
    hand_over(Ordering::Release);
}

#[test]
fn the_readme_message() {
    let report = Config::new()
        .policy(Policy::Chaos)
        .seeds(100)
        .run(|| hand_over(Ordering::Relaxed));
    let f = &report.failures[0];
    println!("{f}");
    assert!(f
        .message
        .starts_with("data race on UnsafeCell<u64>#2: task 0 (main) reads at "));
    assert!(f.message.contains(", while task 1 wrote it at "), "{f}");
}

#[detest::detest(expect = "data-race", expect_message = "data race on UnsafeCell<u32>")]
fn detest_attribute_expects_a_data_race() {
    write_write();
}

#[test]
fn a_data_race_round_trips_through_a_fixture() {
    let report = Config::new()
        .policy(Policy::Chaos)
        .seeds(5)
        .run(write_write);
    let failure = &report.failures[0];
    let entry = detest::fixture::FixtureEntry::from_failure(failure);
    assert_eq!(entry.kind, "data-race");
    let dir = std::env::temp_dir().join(format!("detest-data-race-{}", std::process::id()));
    let path = dir.join("write_write.toml");
    detest::fixture::save_entry(&path, "write_write", &entry).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("kind = \"data-race\""), "{text}");
    let loaded = detest::fixture::parse(&path, &text).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded[0].kind, "data-race");
    let schedule: detest::Schedule = loaded[0].schedule.parse().unwrap();
    let replay = Config::new()
        .replay(&schedule, write_write)
        .failure
        .unwrap();
    assert_eq!(replay.kind, FailureKind::parse(&loaded[0].kind).unwrap());
    assert_eq!(replay.message, loaded[0].message);
}

#[test]
fn an_access_while_unwinding_leaves_the_panic_the_failure() {
    struct WritesOnDrop(Arc<Racy<UnsafeCell<u32>>>);
    impl Drop for WritesOnDrop {
        fn drop(&mut self) {
            write(&self.0); // races with task 1's write, but the panic is the failure
        }
    }
    let (executions, failures) = every_schedule(|| {
        let c = shared(UnsafeCell::new(0));
        let c2 = c.clone();
        let t = thread::spawn(move || write(&c2));
        point();
        let _guard = WritesOnDrop(c);
        if detest::current::clock().get(1) < 100 {
            panic!("boom");
        }
        t.join().unwrap();
    });
    assert_eq!(failures.len() as u64, executions);
    for f in &failures {
        assert_eq!(f.kind, FailureKind::Panic, "{f}");
        assert!(f.message.starts_with("boom"), "{f}");
    }
}
