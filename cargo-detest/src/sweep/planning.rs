//! Planning a detest test once it is discovered: its seed range, worker command and units, and
//! the per-seed hooks (when a failure stops a chunk, saving crashes): separate from the scheduler.

use super::units::{Unit, UnitKind};
use super::{Observer, SweepOptions, TestState, DEFAULT_WATCHDOG, WATCHDOG_GRACE};
use crate::model::{TestId, Verdict};
use crate::plan::{self, SeedRange};
use crate::protocol::{self, Announce, SeedResult};
use crate::worker::WorkerCommand;
use std::path::Path;
use std::time::Duration;

/// Whether `--seed S` pins this test to seed S. A test expected to pass is pinned (the CI gate:
/// reproducible, and fast); an `expect = ...` test is not: one seed rarely shows its outcome, and
/// its declared range is as reproducible as a single seed, so it keeps it.
pub(super) fn pins_seed(opts: &SweepOptions, a: &Announce) -> bool {
    opts.overrides.seed.is_some() && a.expects_pass()
}

/// A failure ends its chunk when it decides the test: any failure of a test expected to pass,
/// or the expected outcome of an `expect = ...` test. A determinism check never stops early.
pub(super) fn stops_chunk(a: &Announce, r: &SeedResult, checking: bool) -> bool {
    let Some(f) = &r.failure else { return false };
    !checking && (a.expects_pass() || a.is_expected(&f.kind, &f.message))
}

/// Saves a crash or hang with the runtime's fixture writer (the worker died before it could).
pub(super) fn save_fixture(
    a: &Announce,
    id: &TestId,
    r: &SeedResult,
) -> Result<Option<String>, String> {
    if !a.expects_pass() {
        // Like the runtime: failures of an `expect` test are its point, not regressions.
        return Ok(None);
    }
    let path = a
        .fixture_file
        .as_deref()
        .ok_or_else(|| "the test did not announce a fixture file".to_string())?;
    let f = r.failure.as_ref().ok_or("no failure")?;
    let entry = detest::fixture::FixtureEntry::for_seed(r.seed, &f.policy, &f.kind, &f.message);
    detest::fixture::save_entry(Path::new(path), &id.name, &entry)
        .map(|saved| Some(format!("{path}:{}", saved.index())))
        .map_err(|e| e.to_string())
}

/// The units of a detest test, from its announcement: the fixture pass, then its seed chunks.
pub(super) fn after_probe(
    test: usize,
    st: &mut TestState,
    a: Announce,
    opts: &SweepOptions,
    obs: &mut dyn Observer,
) -> Vec<Unit> {
    let full = st.report.id.full_name();
    // Why nothing of this test is saved, in the words the user chose (the workers only know
    // the DETEST_FIXTURES they were given).
    st.report.not_saved = if opts.check_determinism.is_some() {
        None
    } else if !opts.fixtures {
        Some("--fixtures off (--no-fixtures)".into())
    } else if !opts.fixture_writes {
        Some("--fixtures read".into())
    } else {
        None
    };
    if let Some(e) = &a.fixture_error {
        st.report
            .errors
            .push(format!("cannot read the saved fixtures: {e}"));
        return Vec::new();
    }
    let policy = opts.policy.clone().unwrap_or_else(|| a.policy.clone());
    let range = if opts.overrides.seed.is_some() && !pins_seed(opts, &a) {
        st.report.note = Some("an expectation test keeps its own seeds under --seed".into());
        SeedRange::new(a.seed_start, a.seeds)
    } else {
        opts.overrides.range_for(a.seed_start, a.seeds)
    };
    let range = match range {
        Ok(range) => range,
        Err(e) => {
            // Before any worker starts: a range cut short would pass seeds that never ran.
            st.report
                .errors
                .push(format!("invalid seed range for this test: {e}"));
            return Vec::new();
        }
    };
    st.report.range = Some(range);
    st.report.policy = Some(policy.clone());
    st.report.determinism_runs = opts.check_determinism;
    let mut env = Vec::new();
    if opts.no_shrink {
        env.push((protocol::ENV_NO_SHRINK.to_string(), "1".to_string()));
    }
    if let Some(runs) = opts.check_determinism {
        env.push((
            protocol::ENV_CHECK_DETERMINISM.to_string(),
            runs.to_string(),
        ));
    }
    // A seed's result arrives after all its runs.
    let runs = opts.check_determinism.unwrap_or(1).max(1);
    st.cmd = Some(WorkerCommand {
        program: st.report.id.binary.path.clone(),
        cwd: st.report.id.binary.package_root.clone(),
        test: st.report.id.name.clone(),
        policy: opts.policy.clone(),
        label_policy: policy.clone(),
        watchdog: opts
            .timeout
            .unwrap_or_else(|| {
                a.timeout_ms
                    .map(|ms| Duration::from_millis(ms) + WATCHDOG_GRACE)
                    .unwrap_or(DEFAULT_WATCHDOG)
            })
            .checked_mul(runs)
            .unwrap_or(Duration::MAX),
        env,
    });
    if opts.probe_only {
        return Vec::new();
    }
    let (range, unchanged) =
        super::incremental::consult(st, &a, opts, range, pins_seed(opts, &a), &policy);
    st.report.range = Some(range);
    if unchanged {
        return Vec::new();
    }
    let chunks = if opts.fixtures_only {
        Vec::new()
    } else {
        plan::shard_chunks(&full, range, opts.chunk_size, opts.shard)
    };
    st.report.seeds_planned = chunks.iter().map(|(_, c)| c.count()).sum();
    let saved = if opts.fixtures && opts.check_determinism.is_none() && opts.shard.is_home_of(&full)
    {
        fixture_count(&a)
    } else {
        0
    };
    obs.planned(&st.report.id, st.report.seeds_planned + saved);
    if saved > 0 {
        st.gated = chunks;
        st.pending += 1;
        return vec![Unit {
            test,
            kind: UnitKind::Fixtures,
        }];
    }
    if chunks.is_empty() {
        st.report.verdict = Verdict::Skip;
        st.report.note = Some(if opts.fixtures_only {
            "no saved fixtures to replay (--fixtures only)".into()
        } else {
            format!("no seeds of {range} in shard {}", opts.shard)
        });
    }
    st.pending += chunks.len();
    chunks
        .into_iter()
        .map(|(i, r)| Unit {
            test,
            kind: UnitKind::Chunk(i, r),
        })
        .collect()
}

/// Entries in the test's fixture file (the announce's count may be stale by now).
fn fixture_count(a: &Announce) -> u64 {
    let Some(path) = a.fixture_file.as_deref() else {
        return a.fixture_count;
    };
    match detest::fixture::FixtureFile::load(Path::new(path)) {
        Ok(f) => f.entries.len() as u64,
        // A broken file is the worker's to report, so let it try.
        Err(_) => a.fixture_count.max(1),
    }
}
