//! Wake-ups as std specifies them: which waiter a `notify_one` wakes, which thread a barrier
//! makes its leader and which blocked sender proceeds are not specified, so every choice must be
//! reachable; condvar waits and `park` may return spuriously, unless that is turned off. Each
//! item is tested both ways: the permitted outcome is reached by a sweep, the forbidden one
//! never appears (a sweep, or an exploration that is complete).

use detest::sync::atomic::{AtomicBool, Ordering};
use detest::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use detest::trace::Op;
use detest::{detest, thread, Config, FailureKind, Policy};
use std::collections::BTreeSet;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

/// A sweep under the random walk.
fn random(seeds: u64) -> Config {
    Config::new()
        .seeds(seeds)
        .policy(Policy::Random)
        .fail_fast(false)
}

fn outcomes<T: Ord + Clone>(set: &StdMutex<BTreeSet<T>>) -> BTreeSet<T> {
    set.lock().unwrap().clone()
}

/// Two threads wait on one condvar; main hands out one ticket with `notify_one`. Returns the
/// arrival order (0: waited first) of the thread that got it. Spurious wake-ups are turned off
/// by the callers, so the winner is the waiter `notify_one` woke.
fn ticket_winner() -> usize {
    struct S {
        waiting: usize,
        tickets: usize,
        winner: Option<usize>,
    }
    let s = Arc::new((
        Mutex::new(S {
            waiting: 0,
            tickets: 0,
            winner: None,
        }),
        Condvar::new(),
        Condvar::new(),
    ));
    for _ in 0..2 {
        let s = s.clone();
        thread::spawn(move || {
            let (m, cv, arrived) = &*s;
            let mut g = m.lock().unwrap();
            let me = g.waiting;
            g.waiting += 1;
            arrived.notify_all();
            while g.tickets == 0 {
                g = cv.wait(g).unwrap();
            }
            g.tickets -= 1;
            g.winner = Some(me);
        });
    }
    let (m, cv, arrived) = &*s;
    let mut g = arrived
        .wait_while(m.lock().unwrap(), |g| g.waiting < 2)
        .unwrap();
    g.tickets = 1;
    cv.notify_one();
    drop(g);
    // Let the woken waiter run (virtual time passes once everyone else is blocked).
    thread::sleep(Duration::from_secs(1));
    let winner = m.lock().unwrap().winner;
    winner.expect("notify_one woke nobody")
}

#[test]
fn notify_one_may_wake_either_waiter() {
    let seen = StdMutex::new(BTreeSet::new());
    let report = random(200).spurious_wakeups(false).run(|| {
        seen.lock().unwrap().insert(ticket_winner());
    });
    assert!(report.passed(), "{:?}", report.failures.first());
    assert_eq!(outcomes(&seen), BTreeSet::from([0, 1]));
}

#[test]
fn the_deterministic_policies_wake_the_longest_waiter() {
    for policy in [Policy::RoundRobin, Policy::Rotate, Policy::FirstRelease] {
        let seen = StdMutex::new(BTreeSet::new());
        let report = Config::new().seeds(20).policy(policy).run(|| {
            seen.lock().unwrap().insert(ticket_winner());
        });
        assert!(report.passed(), "{policy}: {:?}", report.failures.first());
        assert_eq!(outcomes(&seen), BTreeSet::from([0]), "{policy}");
    }
}

/// Two threads each wait once (no loop); main notifies once. Returns how many returned.
fn woken_by_one_notify() -> usize {
    let s = Arc::new((Mutex::new((0usize, 0usize)), Condvar::new(), Condvar::new()));
    for _ in 0..2 {
        let s = s.clone();
        thread::spawn(move || {
            let (m, cv, arrived) = &*s;
            let mut g = m.lock().unwrap();
            g.0 += 1;
            arrived.notify_all();
            let mut g = cv.wait(g).unwrap();
            g.1 += 1;
        });
    }
    let (m, cv, arrived) = &*s;
    let g = arrived.wait_while(m.lock().unwrap(), |g| g.0 < 2).unwrap();
    cv.notify_one();
    drop(g);
    thread::sleep(Duration::from_secs(1));
    let woken = m.lock().unwrap().1;
    woken
}

#[test]
fn notify_one_never_wakes_two() {
    let seen = StdMutex::new(BTreeSet::new());
    let config = Config::new().spurious_wakeups(false);
    let report = random(300).spurious_wakeups(false).run(|| {
        seen.lock().unwrap().insert(woken_by_one_notify());
    });
    assert!(report.passed());
    let explored = config.explore(2, 20_000, || {
        seen.lock().unwrap().insert(woken_by_one_notify());
    });
    assert!(explored.complete && explored.report.passed());
    assert_eq!(outcomes(&seen), BTreeSet::from([1]));
}

#[test]
fn a_notify_with_nobody_waiting_is_not_remembered() {
    let body = || {
        let pair = Arc::new((Mutex::new(()), Condvar::new()));
        let p = pair.clone();
        let t = thread::spawn(move || p.1.notify_one());
        t.join().unwrap();
        let (m, cv) = &*pair;
        let (_g, r) = cv
            .wait_timeout(m.lock().unwrap(), Duration::from_secs(1))
            .unwrap();
        assert!(r.timed_out(), "woken by a notify that came before the wait");
    };
    let report = random(200).spurious_wakeups(false).run(body);
    assert!(report.passed(), "{:?}", report.failures.first());
    let explored = Config::new()
        .spurious_wakeups(false)
        .explore(3, 10_000, body);
    assert!(explored.complete && explored.report.passed());
}

#[test]
fn a_barrier_leader_is_any_single_thread() {
    // (leader task, it arrived last) per execution; the last arrival's Barrier step is the
    // last one in the trace.
    let seen = StdMutex::new(BTreeSet::new());
    for seed in 0..200 {
        let leaders = StdMutex::new(Vec::new());
        let exec = Config::new()
            .policy(Policy::Random)
            .trace(true)
            .run_seed(seed, || {
                let b = Arc::new(Barrier::new(3));
                let handles: Vec<_> = (1..3)
                    .map(|task| {
                        let b = b.clone();
                        thread::spawn(move || (task, b.wait().is_leader()))
                    })
                    .collect();
                let mut all = vec![(0, b.wait().is_leader())];
                all.extend(handles.into_iter().map(|h| h.join().unwrap()));
                *leaders.lock().unwrap() = all;
            });
        assert!(exec.failure.is_none(), "{:?}", exec.failure);
        let leaders: Vec<u32> = leaders
            .into_inner()
            .unwrap()
            .into_iter()
            .filter(|l| l.1)
            .map(|l| l.0)
            .collect();
        assert_eq!(leaders.len(), 1, "seed {seed}: leaders {leaders:?}");
        let last = exec
            .trace
            .iter()
            .rev()
            .find(|e| e.op == Op::Barrier)
            .unwrap();
        seen.lock()
            .unwrap()
            .insert((leaders[0], leaders[0] == last.task));
    }
    let seen = outcomes(&seen);
    assert!(seen.iter().any(|s| s.1), "{seen:?}");
    assert!(
        seen.iter().any(|s| !s.1),
        "never a leader but the last: {seen:?}"
    );
    assert_eq!(seen.iter().map(|s| s.0).collect::<BTreeSet<_>>().len(), 3);
}

#[test]
fn either_blocked_sender_may_proceed() {
    // The channel holds one value; two senders block on it until main receives.
    let seen = StdMutex::new(BTreeSet::new());
    let report = random(200).run(|| {
        let (tx, rx) = mpsc::sync_channel(1);
        tx.send(0).unwrap();
        for v in 1..3 {
            let tx = tx.clone();
            thread::spawn(move || tx.send(v).unwrap());
        }
        drop(tx);
        let got: Vec<i32> = rx.iter().collect();
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2], "a value lost or duplicated: {got:?}");
        seen.lock().unwrap().insert(got);
    });
    assert!(report.passed(), "{:?}", report.failures.first());
    assert_eq!(
        outcomes(&seen),
        BTreeSet::from([vec![0, 1, 2], vec![0, 2, 1]])
    );
}

/// `if !ready { wait }`: correct only if waits never return spuriously.
fn wait_without_a_loop() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let t = thread::spawn(move || {
        *p.0.lock().unwrap() = true;
        p.1.notify_one();
    });
    let (m, cv) = &*pair;
    let mut ready = m.lock().unwrap();
    if !*ready {
        ready = cv.wait(ready).unwrap();
    }
    assert!(*ready, "woken, but not ready");
    drop(ready);
    t.join().unwrap();
}

#[test]
fn a_wait_without_a_loop_is_found_by_chaos() {
    let report = Config::new()
        .seeds(300)
        .policy(Policy::Chaos)
        .run(wait_without_a_loop);
    let failure = report
        .failures
        .first()
        .expect("the spurious wake-up was never drawn");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(failure.trace.iter().any(|e| e.op == Op::Spurious));
}

#[test]
fn no_spurious_wake_up_when_turned_off_or_deterministic() {
    for policy in [
        Policy::Chaos,
        Policy::Random,
        Policy::Pct { depth: 3 },
        Policy::Pos,
    ] {
        let report = Config::new()
            .seeds(300)
            .policy(policy)
            .spurious_wakeups(false)
            .run(wait_without_a_loop);
        assert!(report.passed(), "{policy}: {:?}", report.failures.first());
    }
    for policy in [Policy::RoundRobin, Policy::Rotate, Policy::FirstRelease] {
        assert!(Config::new()
            .seeds(50)
            .policy(policy)
            .run(wait_without_a_loop)
            .passed());
    }
    let explored =
        Config::new()
            .spurious_wakeups(false)
            .explore(u32::MAX, 10_000, wait_without_a_loop);
    assert!(explored.complete && explored.report.passed());
}

#[detest(seeds = 300, chaos, spurious_wakeups = false)]
fn the_attribute_turns_spurious_wake_ups_off() {
    wait_without_a_loop();
}

#[detest(
    seeds = 300,
    chaos,
    expect = "panic",
    expect_message = "woken, but not ready"
)]
fn the_attribute_leaves_spurious_wake_ups_on() {
    wait_without_a_loop();
}

#[test]
fn a_wait_loop_never_fails_with_spurious_wake_ups() {
    let extra_rounds = std::sync::atomic::AtomicUsize::new(0);
    let report = Config::new().seeds(500).policy(Policy::Chaos).run(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p = pair.clone();
        let t = thread::spawn(move || {
            *p.0.lock().unwrap() = true;
            p.1.notify_one();
        });
        let (m, cv) = &*pair;
        let mut ready = m.lock().unwrap();
        let mut rounds = 0;
        while !*ready {
            rounds += 1;
            ready = cv.wait(ready).unwrap();
        }
        if rounds > 1 {
            extra_rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        drop(ready);
        t.join().unwrap();
    });
    assert!(report.passed(), "{:?}", report.failures.first());
    // A wake-up without the flag set can only be spurious: the sweep did draw some.
    assert!(extra_rounds.into_inner() > 0);
}

#[test]
fn a_spurious_timed_wait_reports_no_timeout() {
    let seen = StdMutex::new(BTreeSet::new());
    let report = random(300).run(|| {
        let pair = (Mutex::new(()), Condvar::new());
        let start = detest::time::Instant::now();
        let (_g, r) = pair
            .1
            .wait_timeout(pair.0.lock().unwrap(), Duration::from_secs(1))
            .unwrap();
        let elapsed = start.elapsed();
        // Nobody notifies: a wait that did not time out returned spuriously, early.
        assert_eq!(
            r.timed_out(),
            elapsed == Duration::from_secs(1),
            "{elapsed:?}"
        );
        seen.lock().unwrap().insert(r.timed_out());
    });
    assert!(report.passed(), "{:?}", report.failures.first());
    assert_eq!(outcomes(&seen), BTreeSet::from([false, true]));
}

/// `park()` once, then rely on the flag: correct only without spurious wake-ups.
fn park_without_a_loop() {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let t = thread::spawn(move || {
        thread::park();
        assert!(
            f.load(Ordering::SeqCst),
            "unparked, but the flag is not set"
        );
    });
    flag.store(true, Ordering::SeqCst);
    t.thread().unpark();
    t.join().unwrap();
}

#[test]
fn park_may_return_spuriously() {
    let report = Config::new()
        .seeds(300)
        .policy(Policy::Chaos)
        .run(park_without_a_loop);
    let failure = report
        .failures
        .first()
        .expect("park never returned spuriously");
    assert!(failure.trace.iter().any(|e| e.op == Op::Spurious));
    let off = Config::new()
        .seeds(300)
        .policy(Policy::Chaos)
        .spurious_wakeups(false);
    assert!(off.run(park_without_a_loop).passed());
    assert!(Config::new().seeds(50).run(park_without_a_loop).passed());
}

#[test]
fn park_timeout_times_out_or_is_unparked() {
    let seen = StdMutex::new(BTreeSet::new());
    let report = random(300).spurious_wakeups(false).run(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let t = thread::spawn(move || {
            let start = detest::time::Instant::now();
            thread::park_timeout(Duration::from_secs(1));
            (
                f.load(Ordering::SeqCst),
                start.elapsed() == Duration::from_secs(1),
            )
        });
        flag.store(true, Ordering::SeqCst);
        t.thread().unpark();
        let (set, timed_out) = t.join().unwrap();
        // Without spurious wake-ups, a park that returned early was unparked.
        assert!(set || timed_out);
        seen.lock().unwrap().insert(timed_out);
    });
    assert!(report.passed(), "{:?}", report.failures.first());
    // The unpark is never lost, and nothing here makes it late: the park never times out.
    assert_eq!(outcomes(&seen), BTreeSet::from([false]));
    // Nobody unparks: it times out (or returns spuriously, early).
    let report = random(100).run(|| {
        let start = detest::time::Instant::now();
        thread::park_timeout(Duration::from_secs(1));
        assert!(start.elapsed() <= Duration::from_secs(1));
    });
    assert!(report.passed());
}

#[test]
fn a_bug_that_needs_a_spurious_wake_up_keeps_it_when_shrunk() {
    let config = Config::new().seeds(300).policy(Policy::Chaos);
    let failure = config.run(wait_without_a_loop).failures.remove(0);
    let shrunk = config.shrink(&failure, wait_without_a_loop).unwrap();
    assert!(shrunk.failure.trace.iter().any(|e| e.op == Op::Spurious));
    let replayed = Config::new().replay(&shrunk.schedule, wait_without_a_loop);
    let replayed = replayed
        .failure
        .expect("the shrunk schedule replays the failure");
    assert_eq!(replayed.message, failure.message);
    assert!(replayed.trace.iter().any(|e| e.op == Op::Spurious));
}

/// A lost update, beside a correct wait loop that may see spurious wake-ups.
fn lost_update_beside_a_wait() {
    use detest::sync::atomic::AtomicU32;
    let n = Arc::new(AtomicU32::new(0));
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let (n2, p) = (n.clone(), pair.clone());
    let t = thread::spawn(move || {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
        *p.0.lock().unwrap() = true;
        p.1.notify_one();
    });
    let v = n.load(Ordering::SeqCst);
    let (m, cv) = &*pair;
    let mut ready = m.lock().unwrap();
    while !*ready {
        ready = cv.wait(ready).unwrap();
    }
    drop(ready);
    n.store(v + 1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "lost update");
}

#[test]
fn a_spurious_wake_up_the_bug_does_not_need_is_shrunk_away() {
    let config = Config::new()
        .seeds(2000)
        .policy(Policy::Random)
        .fail_fast(false);
    let failure = config
        .run(lost_update_beside_a_wait)
        .failures
        .into_iter()
        .find(|f| f.trace.iter().any(|e| e.op == Op::Spurious))
        .expect("some failing seed has a spurious wake-up");
    let shrunk = config.shrink(&failure, lost_update_beside_a_wait).unwrap();
    assert!(
        !shrunk.failure.trace.iter().any(|e| e.op == Op::Spurious),
        "{}",
        detest::trace::timeline(&shrunk.failure.trace, None)
    );
    assert!(Config::new()
        .replay(&shrunk.schedule, lost_update_beside_a_wait)
        .failure
        .is_some());
}

#[test]
fn a_bug_that_needs_the_second_waiter_woken_keeps_that_pick_when_shrunk() {
    use detest::Decision;
    // Spurious wake-ups off: the only picks are notify_one's, so the bug needs a non-FIFO one.
    let body = || assert_eq!(ticket_winner(), 0, "the second waiter was woken first");
    let config = random(200).spurious_wakeups(false);
    let failure = config.run(body).failures.remove(0);
    let shrunk = config.shrink(&failure, body).unwrap();
    let decisions = shrunk.schedule.decisions();
    assert!(decisions.contains(&Decision::Random(1)), "{decisions:?}");
    let replay = Config::new()
        .spurious_wakeups(false)
        .replay(&shrunk.schedule, body);
    assert_eq!(replay.failure.map(|f| f.message), Some(failure.message));
}
