//! Folding finished units into their test and turning each test's results into its verdict:
//! separate from the scheduler, which only decides what runs when.

use super::units::{Running, Unit, UnitKind};
use super::{expectation, Observer, SweepOptions, TestState, NOT_HOME};
use crate::model::{TestKind, Verdict};
use crate::protocol::Announce;
use crate::verdict::{cancel_note, detest_verdict, Ran};
use crate::worker::{ChunkOutcome, Found};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Fixtures first, then by seed: the lowest failing seed leads, whatever order chunks ran in.
pub(super) fn sort_found(st: &mut TestState) {
    st.found
        .sort_by_key(|(chunk, f)| (chunk.is_some(), f.result.seed));
}

/// Folds a finished unit into its test. Returns the chunk index that decided the test, if any.
pub(super) fn absorb(
    st: &mut TestState,
    chunk: Option<u64>,
    outcome: ChunkOutcome,
    queue: &mut VecDeque<Unit>,
    test: usize,
) -> Option<u64> {
    let a = match &st.report.kind {
        TestKind::Detest(a) => a.clone(),
        _ => return None,
    };
    st.report.seeds_run += outcome.seeds_run;
    st.report.steps += outcome.steps;
    if chunk.is_none() {
        st.report.fixtures_replayed += outcome.seeds_run;
    }
    if outcome.cancelled {
        st.incomplete = true;
    }
    if let Some(e) = outcome.error {
        st.report.errors.push(e);
    }
    st.report.determinism.extend(outcome.determinism);
    let decided_here = outcome.stopped;
    st.found
        .extend(outcome.failures.into_iter().map(|f| (chunk, f)));
    if chunk.is_none() {
        // A saved fixture that still fails (or already shows the expected outcome) decides the
        // test: new seeds would only pile more fixtures onto the same bug.
        let gated = std::mem::take(&mut st.gated);
        if !decided_here && st.report.errors.is_empty() {
            st.pending += gated.len();
            if gated.is_empty() && st.report.seeds_planned == 0 {
                st.report.note = Some("only saved fixtures ran in this shard".into());
            }
            queue.extend(gated.into_iter().map(|(i, r)| Unit {
                test,
                kind: UnitKind::Chunk(i, r),
            }));
        } else if !a.expects_pass() || decided_here {
            st.report.note = Some(if a.expects_pass() {
                "a saved fixture still fails, so no new seeds ran".into()
            } else {
                "a saved fixture shows the expected outcome, so no new seeds ran".into()
            });
        }
        return None;
    }
    if decided_here {
        return chunk;
    }
    None
}

pub(super) fn cancel_chunks_above(
    st: &mut TestState,
    index: u64,
    running: &HashMap<u64, Running>,
    test: usize,
) {
    let above = st.cancel_above.map_or(index, |c| c.min(index));
    st.cancel_above = Some(above);
    for r in running.values() {
        if r.test == test && r.chunk.is_some_and(|c| c > above) {
            r.cancel.store(true, Ordering::SeqCst);
        }
    }
}

pub(super) fn test_failed(st: &TestState) -> bool {
    match &st.report.kind {
        TestKind::Detest(_) if st.report.determinism_runs.is_some() => {
            !st.report.errors.is_empty()
                || st.report.nondeterministic().next().is_some()
                || st.found.iter().any(|(_, f)| is_crash(f))
        }
        TestKind::Detest(a) => {
            !st.report.errors.is_empty()
                || (a.expects_pass() && !st.found.is_empty())
                || st.found.iter().any(|(_, f)| is_fatal(a, f))
        }
        TestKind::Plain(run) => !run.passed,
        TestKind::Ignored => false,
    }
}

fn is_crash(f: &Found) -> bool {
    matches!(f.failure().kind.as_str(), "crash" | "hang")
}

/// A determinism check fails on a seed whose runs disagree, or that crashed or hung a worker; a
/// seed that fails the same way every time is deterministic (the sweep is what reports it).
fn finish_check(st: &mut TestState, interrupted: bool) {
    let report = &mut st.report;
    report.determinism.sort_by_key(|d| d.seed);
    let (crashes, failing): (Vec<Found>, Vec<Found>) =
        st.found.drain(..).map(|(_, f)| f).partition(is_crash);
    report.failures = crashes;
    if !failing.is_empty() && report.note.is_none() {
        let seeds: Vec<String> = failing
            .iter()
            .take(8)
            .map(|f| format!("{} ({})", f.result.seed, f.failure().kind))
            .collect();
        report.note = Some(format!(
            "fails on {} {}{} (the same way on every run)",
            crate::output::words::noun_for(failing.len() as u64, "seed"),
            seeds.join(", "),
            if failing.len() > 8 { ", ..." } else { "" }
        ));
    }
    report.verdict = if !report.errors.is_empty()
        || !report.failures.is_empty()
        || report.nondeterministic().next().is_some()
    {
        Verdict::Fail
    } else if st.incomplete && interrupted {
        Verdict::Cancelled
    } else if report.seeds_run == 0 {
        Verdict::Skip
    } else {
        Verdict::Pass
    };
}

/// Crashes and hangs fail any test, except one that expects some failure.
fn is_fatal(a: &Announce, f: &Found) -> bool {
    let kind = f.failure().kind.as_str();
    (kind == "crash" || kind == "hang")
        && a.expect != "fail"
        && !a.is_expected(kind, &f.failure().message)
}

/// The runtime keeps fixture entries sorted, so an entry saved early in the sweep may have moved
/// down since: name where it is now (kept as reported when it cannot be found).
fn relocate_saved(f: &mut Found) {
    let (Some((path, _)), Some(w)) = (
        f.saved.as_deref().and_then(|s| s.rsplit_once(':')),
        f.result.failure.as_ref(),
    ) else {
        return;
    };
    let entry = detest::fixture::FixtureEntry {
        // (An abbreviated schedule was stored as none.)
        schedule: w.replay_schedule().unwrap_or_default().to_owned(),
        ..detest::fixture::FixtureEntry::for_seed(f.result.seed, &w.policy, &w.kind, &w.message)
    };
    if let Ok(Some(index)) = detest::fixture::locate(Path::new(path), &entry) {
        f.saved = Some(format!("{path}:{index}"));
    }
}

pub(super) fn finish(
    st: &mut TestState,
    interrupted: bool,
    opts: &SweepOptions,
    obs: &mut dyn Observer,
) {
    st.done = true;
    // No more chunks of it will run.
    st.pool.clear();
    if st.report.verdict == Verdict::Unchanged {
        // Decided before anything ran: nothing here can change it.
        obs.finished(&st.report);
        return;
    }
    if st.report.is_detest() {
        st.report.duration = match (st.first_started, st.last_ended) {
            (Some(a), Some(b)) => b.saturating_duration_since(a),
            _ => Duration::ZERO,
        };
    }
    sort_found(st);
    let failed_now = test_failed(st);
    if st.report.is_detest() && st.report.determinism_runs.is_some() {
        finish_check(st, interrupted);
        if !opts.probe_only {
            obs.finished(&st.report);
        }
        return;
    }
    let report = &mut st.report;
    if let TestKind::Detest(a) = &report.kind {
        let a = a.clone();
        if a.expects_pass() {
            report.failures = st.found.drain(..).map(|(_, f)| f).collect();
            report.failures.iter_mut().for_each(relocate_saved);
        } else {
            let pos = st
                .found
                .iter()
                .position(|(_, f)| a.is_expected(&f.failure().kind, &f.failure().message));
            report.expected = pos.map(|p| st.found[p].1.clone());
            report.failures = st
                .found
                .drain(..)
                .map(|(_, f)| f)
                .filter(|f| is_fatal(&a, f))
                .collect();
            if report.expected.is_none() && !st.incomplete && report.note.is_none() {
                let range = report.range.map(|r| r.to_string()).unwrap_or_default();
                report.note = Some(format!(
                    "expected {} in seeds {range}{}, but every seed passed",
                    expectation(&a),
                    if opts.shard.total > 1 {
                        format!(" (shard {})", opts.shard)
                    } else {
                        String::new()
                    }
                ));
            }
        }
        report.verdict = detest_verdict(&Ran {
            failed: failed_now || !report.failures.is_empty() || !report.errors.is_empty(),
            expects_pass: a.expects_pass(),
            expected_found: report.expected.is_some(),
            incomplete: st.incomplete,
            interrupted,
            no_seeds_here: report.verdict == Verdict::Skip,
            executions: report.seeds_run,
        });
        if report.verdict == Verdict::Cancelled && report.note.is_none() {
            report.note = Some(cancel_note(report, interrupted));
        }
    } else if !st.probed {
        report.verdict = Verdict::Cancelled;
        report.note = Some(cancel_note(report, interrupted));
    }
    super::incremental::remember(report, opts);
    let hidden = (opts.skip_plain && matches!(report.kind, TestKind::Plain(_)))
        || report.note.as_deref() == Some(NOT_HOME);
    if !opts.probe_only && !hidden {
        obs.finished(report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SeedResult;
    use detest::fixture::{save_entry, FixtureEntry};

    #[test]
    fn a_saved_entry_is_named_where_it_is_when_the_test_finishes() {
        let dir = std::env::temp_dir().join(format!("detest-relocate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.toml");
        let entry = |seed| FixtureEntry::for_seed(seed, "round-robin", "panic", "m");
        // A worker saves seed 70 as entry 0; another then saves seed 37, which sorts first.
        assert_eq!(save_entry(&path, "t", &entry(70)).unwrap().index(), 0);
        assert_eq!(save_entry(&path, "t", &entry(37)).unwrap().index(), 0);
        let result: SeedResult = serde_json::from_str(
            r#"{"seed":70,"status":"fail","steps":1,"failure":{"kind":"panic","message":"m",
                "schedule":"","policy":"round-robin"}}"#,
        )
        .unwrap();
        let mut found = Found::new(result, "", Some(format!("{}:0", path.display())));
        relocate_saved(&mut found);
        assert_eq!(found.saved, Some(format!("{}:1", path.display())));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
