//! URW (selectively uniform random walk): its probe counts the right events, and its weighting
//! samples interleavings uniformly where a random walk does not. Every sweep uses fixed seeds,
//! so each figure below is the same on every run; the bounds are many standard deviations
//! wide anyway, so a change of generator would not make them flaky.

use detest::sync::atomic::{AtomicU32, Ordering::SeqCst};
use detest::sync::{Arc, Mutex};
use detest::{detest, thread, Config, Policy};
use std::cell::RefCell;

thread_local! {
    /// Outcome histogram of the executions run on this OS thread (executions run on the
    /// thread that calls `Config::run`, so tests running in parallel do not mix).
    static SEEN: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

fn record(outcome: usize) {
    SEEN.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() <= outcome {
            s.resize(outcome + 1, 0);
        }
        s[outcome] += 1;
    });
}

/// Histogram of `body`'s outcomes over `seeds` seeds of `policy` (the probe included).
fn histogram(policy: Policy, seeds: u64, body: fn()) -> Vec<u64> {
    SEEN.with(|s| s.borrow_mut().clear());
    let report = Config::new().policy(policy).seeds(seeds).run(body);
    assert!(report.passed(), "{:?}", report.failures.first());
    SEEN.with(|s| s.borrow().clone())
}

const LONG: u32 = 5;

/// One task does one load, another `LONG` adds: the load sees how many adds came before it.
/// Its `LONG + 1` interleavings are equally likely under URW; a random walk runs the load first
/// in about half the executions.
fn short_and_long() {
    let n = Arc::new(AtomicU32::new(0));
    let n1 = n.clone();
    let short = thread::spawn(move || n1.load(SeqCst));
    let n2 = n.clone();
    let long = thread::spawn(move || {
        for _ in 0..LONG {
            n2.fetch_add(1, SeqCst);
        }
    });
    let seen = short.join().unwrap();
    long.join().unwrap();
    record(seen as usize);
}

fn fractions(h: &[u64]) -> Vec<f64> {
    let total: u64 = h.iter().sum();
    h.iter().map(|&c| c as f64 / total as f64).collect()
}

#[test]
fn urw_samples_the_interleavings_of_uneven_tasks_uniformly_and_random_walk_does_not() {
    let seeds = 3000;
    let urw = fractions(&histogram(Policy::Urw, seeds, short_and_long));
    let random = fractions(&histogram(Policy::Random, seeds, short_and_long));
    assert_eq!(
        urw.len(),
        LONG as usize + 1,
        "every interleaving is reached: {urw:?}"
    );
    // Uniform is 1/6 = 0.167 per interleaving; one standard deviation over 3000 seeds is 0.007.
    for (k, f) in urw.iter().enumerate() {
        assert!(
            (0.12..0.215).contains(f),
            "URW: {k} adds before the load in {f:.3} of executions, not about 1/6: {urw:?}"
        );
    }
    // The random walk's bias, the thing URW removes: the load mostly runs first.
    assert!(
        random[0] > 0.4,
        "random walk: load first in {:.3}: {random:?}",
        random[0]
    );
}

/// Counted events of the spawner below: `WIDE` ticks, each followed by the spawn of a child
/// that does one add.
const WIDE: usize = 8;

/// A task loads a counter that `WIDE` ticks of a spawner and the adds of its `WIDE` children
/// increment: the load sees its own position among the `2 * WIDE + 1` counted events. Nothing
/// orders the load with the others, so over uniformly sampled interleavings its position is
/// uniform. URW gets there only because the spawner carries its unspawned children's events
/// (weight 16 against the load's 1 at first, not 8).
fn short_and_spawner() {
    let n = Arc::new(AtomicU32::new(0));
    let n1 = n.clone();
    let short = thread::spawn(move || n1.load(SeqCst));
    let n2 = n.clone();
    let spawner = thread::spawn(move || {
        let children: Vec<_> = (0..WIDE)
            .map(|_| {
                n2.fetch_add(1, SeqCst);
                let n = n2.clone();
                thread::spawn(move || {
                    n.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for c in children {
            c.join().unwrap();
        }
    });
    record(short.join().unwrap() as usize);
    spawner.join().unwrap();
}

#[test]
fn urw_weighs_a_parent_by_the_events_of_the_children_it_has_yet_to_spawn() {
    let seeds = 4000;
    let urw = fractions(&histogram(Policy::Urw, seeds, short_and_spawner));
    let random = fractions(&histogram(Policy::Random, seeds, short_and_spawner));
    assert_eq!(
        urw.len(),
        2 * WIDE + 1,
        "every position is reached: {urw:?}"
    );
    // Uniform is 1/17 = 0.059 per position; one standard deviation over 4000 seeds is 0.004.
    for (k, f) in urw.iter().enumerate() {
        assert!(
            (0.037..0.082).contains(f),
            "URW: the load came after {k} events in {f:.3} of executions: {urw:?}"
        );
    }
    assert!(
        random[0] > 0.3,
        "random walk: load first in {:.3}",
        random[0]
    );
}

#[test]
fn the_probe_counts_each_tasks_shared_events_and_its_descendants() {
    let body = || {
        let m = Arc::new(Mutex::new(0u32));
        let m1 = m.clone();
        let parent = thread::spawn(move || {
            let m2 = m1.clone();
            let child = thread::spawn(move || {
                *m2.lock().unwrap() += 1;
            });
            *m1.lock().unwrap() += 1;
            *m1.lock().unwrap() += 1;
            child.join().unwrap();
        });
        parent.join().unwrap();
        let _ = *m.lock().unwrap();
    };
    let estimate = Config::new().policy(Policy::Urw).estimate_events(&body);
    // A critical section is one event (its lock: an uncontended unlock is no scheduling
    // point); a spawn, a join and a finish are none. The child: 1; the parent: 2 of its own
    // and its child's 1; main: 1 and its descendants' 3.
    assert_eq!(estimate.tasks(), &[4, 3, 1]);
    // The other policies need no probe.
    assert!(Config::new()
        .policy(Policy::Pos)
        .estimate_events(&body)
        .tasks()
        .is_empty());
}

#[test]
fn a_urw_sweep_counts_its_probe_and_reports_a_failing_probe_as_random_seed_0() {
    let report = Config::new()
        .policy(Policy::Urw)
        .seeds(10)
        .run(short_and_long);
    assert_eq!(report.executions, 11);
    // A bug every execution hits: the probe finds it first, as the replayable seed 0 of random.
    let report = Config::new()
        .policy(Policy::Urw)
        .seeds(10)
        .fail_fast(true)
        .trace_failures(false)
        .run(|| panic!("always"));
    assert_eq!(report.executions, 1);
    let failure = &report.failures[0];
    assert_eq!((failure.policy.as_str(), failure.seed), ("random", 0));
    let replayed = Config::new()
        .policy(Policy::Random)
        .replay_seed(&failure.schedule, 0, || panic!("always"));
    assert!(replayed.failure.is_some());
}

#[test]
fn urw_finds_a_lost_update_and_its_seeds_are_deterministic() {
    let report = Config::new().policy(Policy::Urw).seeds(50).run(lost_update);
    assert!(!report.failures.is_empty());
    assert!(report
        .failures
        .iter()
        .all(|f| f.message.contains("lost update")));
    let check = Config::new()
        .policy(Policy::Urw)
        .check_determinism(7, 4, lost_update);
    assert!(check.divergence.is_none());
}

fn lost_update() {
    let n = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let n = n.clone();
            thread::spawn(move || {
                let v = n.load(SeqCst);
                n.store(v + 1, SeqCst);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(n.load(SeqCst), 2, "lost update");
}

#[detest(
    seeds = 50,
    policy = "urw",
    expect = "panic",
    expect_message = "lost update"
)]
fn the_attribute_takes_urw() {
    lost_update();
}

#[test]
fn urw_parses_and_prints_as_urw() {
    assert_eq!(Policy::parse("urw"), Ok(Policy::Urw));
    assert_eq!(Policy::parse(" SURW "), Ok(Policy::Urw));
    assert_eq!(Policy::Urw.to_string(), "urw");
    assert!(Policy::parse("urw:2").is_err());
}

/// Two tasks spin with `yield_now` until a third sets a flag. A spinner that gives way is left
/// out of the offered tasks even when it is the current one: URW must not pick it anyway (it
/// once did, as a free step), and must let the setter run.
#[test]
fn urw_lets_a_setter_run_past_two_yielding_spinners() {
    let body = || {
        let flag = Arc::new(detest::sync::atomic::AtomicBool::new(false));
        let spinners: Vec<_> = (0..2)
            .map(|_| {
                let flag = flag.clone();
                thread::spawn(move || {
                    while !flag.load(SeqCst) {
                        thread::yield_now();
                    }
                })
            })
            .collect();
        let f = flag.clone();
        let setter = thread::spawn(move || {
            for _ in 0..3 {
                f.fetch_or(false, SeqCst);
            }
            f.store(true, SeqCst);
        });
        for s in spinners {
            s.join().unwrap();
        }
        setter.join().unwrap();
    };
    let report = Config::new()
        .policy(Policy::Urw)
        .seeds(200)
        .max_steps(2_000)
        .run(body);
    assert!(
        report.passed(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
}
