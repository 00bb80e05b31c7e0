//! A failure that needs a weak read (a load reading an older store than the newest) is a
//! schedule like any other: it replays exactly, from its schedule and from its fixture entry,
//! shrinks to one that still reads the stale value, and is found through `#[detest]`.

use detest::fixture::{save_entry, FixtureEntry, FixtureFile};
use detest::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use detest::sync::Arc;
use detest::trace::Op;
use detest::{detest, thread, Config, MemoryModel, Policy, Schedule};

/// Message passing with Relaxed: the reader can see the flag and not the data.
fn relaxed_message_passing() {
    let data = Arc::new(AtomicU32::new(0));
    let flag = Arc::new(AtomicBool::new(false));
    let (d, f) = (data.clone(), flag.clone());
    let t = thread::spawn(move || {
        d.store(42, Relaxed);
        f.store(true, Relaxed);
    });
    if flag.load(Relaxed) {
        assert_eq!(data.load(Relaxed), 42, "stale data behind the flag");
    }
    t.join().unwrap();
}

fn chaos() -> Config {
    Config::new().seeds(2000).policy(Policy::Chaos)
}

/// The loads of a trace that read an older store (they show the value they read).
fn stale_reads(trace: &[detest::trace::TraceEvent]) -> usize {
    trace
        .iter()
        .filter(|e| e.op == Op::Load && e.value.is_some())
        .count()
}

#[test]
fn a_stale_read_replays_exactly_from_its_schedule() {
    let report = chaos().run(relaxed_message_passing);
    let failure = report.failures.first().expect("chaos finds the stale read");
    assert!(
        failure.message.contains("stale data"),
        "{}",
        failure.message
    );
    assert_eq!(stale_reads(&failure.trace), 1, "the data load read 0");
    let replay = Config::new().replay(&failure.schedule, relaxed_message_passing);
    let replayed = replay.failure.expect("the schedule replays the failure");
    assert_eq!(replayed.message, failure.message);
    assert_eq!(replayed.schedule, failure.schedule);
    assert_eq!(replayed.steps, failure.steps);
    assert_eq!(stale_reads(&replayed.trace), 1);
    // Under the SeqCst model the same schedule does not apply: the read-from decision it
    // recorded is never asked.
    let sc = Config::new()
        .memory_model(MemoryModel::SeqCst)
        .replay(&failure.schedule, relaxed_message_passing);
    assert!(sc.failure.is_none_or(|f| !f.message.contains("stale data")));
}

#[test]
fn a_shrunk_weak_failure_keeps_its_stale_read() {
    let config = chaos();
    let failure = config.run(relaxed_message_passing).failures.remove(0);
    let shrunk = config.shrink(&failure, relaxed_message_passing).unwrap();
    assert_eq!(stale_reads(&shrunk.failure.trace), 1);
    let replayed = Config::new()
        .replay(&shrunk.schedule, relaxed_message_passing)
        .failure
        .expect("the shrunk schedule replays the failure");
    assert_eq!(replayed.message, failure.message);
}

#[test]
fn a_stale_read_replays_from_its_fixture_entry() {
    let failure = chaos().run(relaxed_message_passing).failures.remove(0);
    let dir = std::env::temp_dir().join(format!("detest-weak-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("relaxed_message_passing.toml");
    let _ = std::fs::remove_file(&path);
    save_entry(
        &path,
        "relaxed_message_passing",
        &FixtureEntry::from_failure(&failure),
    )
    .unwrap();
    let file = FixtureFile::load(&path).unwrap();
    let entry = &file.entries[0];
    let schedule = Schedule::decode(&entry.schedule).unwrap();
    let replayed = Config::new()
        .replay_seed(&schedule, entry.seed, relaxed_message_passing)
        .failure
        .expect("the fixture's schedule replays the failure");
    assert_eq!(replayed.message, failure.message);
    assert_eq!(replayed.schedule, failure.schedule);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_policy_but_the_deterministic_ones_reads_stale_values() {
    for policy in [
        Policy::Random,
        Policy::Pct { depth: 3 },
        Policy::Pos,
        Policy::Chaos,
    ] {
        let report = Config::new()
            .seeds(2000)
            .policy(policy)
            .run(relaxed_message_passing);
        assert!(!report.passed(), "{policy} finds the stale read");
    }
    for policy in [Policy::RoundRobin, Policy::Rotate, Policy::FirstRelease] {
        let report = Config::new()
            .seeds(20)
            .policy(policy)
            .run(relaxed_message_passing);
        assert!(report.passed(), "{policy} reads the newest store");
    }
}

#[detest(seeds = 2000, chaos, expect = "panic", expect_message = "stale data")]
fn the_attribute_finds_a_stale_read() {
    relaxed_message_passing();
}

#[detest(seeds = 300, chaos, memory_model = "sc")]
fn the_attribute_turns_weak_reads_off() {
    relaxed_message_passing();
}
