//! The incremental sweep inside the scheduler: a test's cache key from what decides its run,
//! skipping a test that passed before under the same key, and placing an exploration where the
//! test's last one stopped. The store itself is [`crate::cache`].

use super::{SweepOptions, TestState};
use crate::cache::{Cache, TestKey};
use crate::model::{TestReport, Verdict};
use crate::plan::SeedRange;
use crate::protocol::Announce;
use std::path::Path;

/// Everything besides the binary, the test and its seed range that changes what a sweep of it
/// runs or how a seed is judged. Anything left out here could skip a test that would now fail,
/// so when in doubt a part goes in (an extra part only costs a rerun).
fn parts(
    opts: &SweepOptions,
    a: &Announce,
    policy: &str,
    st: &TestState,
) -> Vec<(&'static str, String)> {
    let mut parts = vec![
        ("policy", policy.to_string()),
        // `--fixtures`: whether saved entries replay first (their content is below).
        (
            "fixtures",
            format!(
                "{}/{}/{}",
                opts.fixtures, opts.fixture_writes, opts.fixtures_only
            ),
        ),
        ("no-shrink", opts.no_shrink.to_string()),
    ];
    if let Some(cmd) = &st.cmd {
        // A watchdog decides whether a slow seed is a hang.
        parts.push(("watchdog", format!("{:?}", cmd.watchdog)));
    }
    if opts.shard.total > 1 {
        // Which seeds a shard runs depends on the chunk size too.
        parts.push(("shard", opts.shard.to_string()));
        parts.push(("chunk-size", format!("{:?}", opts.chunk_size)));
    }
    let fixtures = match a.fixture_file.as_deref() {
        Some(path) if Path::new(path).exists() => {
            crate::cache::hash_file(Path::new(path)).unwrap_or_else(|e| format!("unreadable: {e}"))
        }
        Some(_) => "none".into(),
        None => "unannounced".into(),
    };
    parts.push(("fixture-file", fixtures));
    // The workers inherit every other DETEST_* variable, and the runtime reads them.
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.to_string_lossy().into_owned())))
        .filter(|(k, _)| k.starts_with("DETEST_") && k != crate::cache::ENV_CACHE_DIR)
        .collect();
    env.sort();
    parts.push(("env", format!("{env:?}")));
    parts
}

fn key(
    cache: &Cache,
    st: &TestState,
    a: &Announce,
    opts: &SweepOptions,
    range: SeedRange,
    pinned: bool,
    policy: &str,
) -> Option<TestKey> {
    let id = &st.report.id;
    let range_parts = [
        ("range", range.to_string()),
        // The first chunk of an unpinned sweep runs the fixed executions too.
        ("pinned", pinned.to_string()),
    ];
    cache.key(
        &id.binary,
        &id.name,
        &range_parts,
        &parts(opts, a, policy, st),
    )
}

/// What the cache says about a planned test: its range (moved on for `--explore`), and
/// whether it is [`Verdict::Unchanged`] (then nothing of it runs).
pub(super) fn consult(
    st: &mut TestState,
    a: &Announce,
    opts: &SweepOptions,
    mut range: SeedRange,
    pinned: bool,
    policy: &str,
) -> (SeedRange, bool) {
    let Some(cache) = opts.cache.as_deref() else {
        return (range, false);
    };
    let Some(mut k) = key(cache, st, a, opts, range, pinned, policy) else {
        return (range, false);
    };
    if opts.explore {
        match cache.reserve_exploration(&k, range.start(), range.count()) {
            Ok((start, before)) => {
                if let Ok(r) = SeedRange::new(start, range.count()) {
                    range = r;
                }
                st.report.explored_before = Some(before);
                if let Some(moved) = key(cache, st, a, opts, range, pinned, policy) {
                    k = moved;
                }
            }
            // Fresh seeds then, as without a cache: said, but no reason to fail the test.
            Err(e) => st.report.note = Some(format!("cannot continue the exploration: {e}")),
        }
    } else if !opts.force {
        if let Some(p) = cache.passed(&k) {
            st.report.verdict = Verdict::Unchanged;
            st.report.unchanged = Some(p);
            st.report.cache_key = Some(k);
            return (range, true);
        }
    }
    st.report.cache_key = Some(k);
    (range, false)
}

/// Remembers a finished test: its pass (a failing test is never recorded, so it reruns every
/// time), and the seeds its exploration ran, added to its total. Done as each test finishes, so
/// an interrupted sweep keeps what it completed. A cache that cannot be written costs the next
/// run its skips, never this run its result: said in the note, not failed.
pub(super) fn remember(r: &mut TestReport, opts: &SweepOptions) {
    let (Some(cache), Some(key)) = (opts.cache.as_deref(), r.cache_key.clone()) else {
        return;
    };
    let mut problem = None;
    if r.verdict == Verdict::Pass {
        let pass = crate::cache::Passed {
            test: key.test.clone(),
            key: key.key.clone(),
            at: crate::cache::now_secs(),
            executions: r.seeds_run,
            policy: r.policy.clone().unwrap_or_default(),
            range: r.range.map(|x| x.to_string()).unwrap_or_default(),
        };
        problem = cache.record_passes(vec![(key.clone(), pass)]).err();
    }
    if r.explored_before.is_some() {
        // The seeds of the reserved range that ran (not fixtures, nor fixed executions).
        let ran = r.seeds_run.saturating_sub(r.fixtures_replayed);
        let seeds = ran.min(r.range.map_or(0, |x| x.count()));
        match cache.add_explored(&key, seeds) {
            Ok(total) => r.explored_total = Some(total),
            Err(e) => problem = Some(e),
        }
    }
    if let Some(e) = problem {
        let note = format!("not remembered under target/detest: {e}");
        r.note = Some(match r.note.take() {
            Some(n) => format!("{n}; {note}"),
            None => note,
        });
    }
}
