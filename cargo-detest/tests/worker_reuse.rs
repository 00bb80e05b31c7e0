//! End-to-end: a test's seed workers are kept between its chunks (`DETEST_FEED`), so a sweep of
//! many chunks starts about one process per job, not one per chunk; no seed is lost or run twice
//! on the way; and a worker that found a failure is never handed another chunk. The program is
//! `records_its_process` in the `sweepy` fixture crate (`tests/trust_protocol.rs`), which writes
//! `PID SEED` for each execution to the file `SWEEPY_PIDS` names.

mod common;

use common::{command, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

const TEST: &str = "trust_protocol::records_its_process";
/// Ten chunks of twenty seeds, from a start that is not 0.
const START: u64 = 1000;
const SEEDS: u64 = 200;
const CHUNK: u64 = 20;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reuse-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sweeps `TEST` with `jobs` workers (failing at `fail`, if given); returns the output and the
/// `(pid, seed)` of every execution in the order written.
fn sweep(dir: &Path, jobs: &str, fail: Option<u64>) -> (Output, Vec<(u32, u64)>) {
    let pids = dir.join("pids.txt");
    let mut cmd = command(
        None,
        &[
            TEST,
            "--seed-start",
            &START.to_string(),
            "--seeds",
            &SEEDS.to_string(),
            "--chunk-size",
            &CHUNK.to_string(),
            "-j",
            jobs,
            "--no-shrink",
            "--format",
            "json",
        ],
        dir,
    );
    cmd.env("SWEEPY_PIDS", &pids);
    if let Some(seed) = fail {
        cmd.env("SWEEPY_PIDS_FAIL", seed.to_string());
    }
    let out = cmd.output().expect("cargo-detest runs");
    let records = std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let (pid, seed) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            (pid.parse().unwrap(), seed.parse().unwrap())
        })
        .collect();
    (out, records)
}

fn test_line(out: &Output) -> Value {
    text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "test" && v["test"] == "records_its_process")
        .unwrap_or_else(|| {
            panic!(
                "no result line:\n{}\n{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        })
}

/// How many times each seed ran.
fn runs_per_seed(records: &[(u32, u64)]) -> BTreeMap<u64, usize> {
    let mut runs = BTreeMap::new();
    for (_, seed) in records {
        *runs.entry(*seed).or_default() += 1;
    }
    runs
}

/// Every seed of the range once, all in the one process `-j1` starts: with a worker per chunk
/// there would be ten.
#[test]
fn one_worker_runs_every_chunk_of_a_passing_test_with_j1() {
    let dir = scratch("j1");
    let (out, records) = sweep(&dir, "1", None);
    let line = test_line(&out);
    assert_eq!(line["event"], "pass", "{line:#}");
    assert_eq!(line["seeds_run"], SEEDS, "{line:#}");
    let runs = runs_per_seed(&records);
    let expected: BTreeMap<u64, usize> = (START..START + SEEDS).map(|s| (s, 1)).collect();
    assert_eq!(runs, expected, "each seed of the range exactly once");
    let pids: BTreeSet<u32> = records.iter().map(|(p, _)| *p).collect();
    assert_eq!(pids.len(), 1, "one worker for all ten chunks: {pids:?}");
    // In seed order too: the one worker took the chunks one after another.
    let seeds: Vec<u64> = records.iter().map(|(_, s)| *s).collect();
    assert_eq!(seeds, (START..START + SEEDS).collect::<Vec<_>>());
}

/// `-j2`: at most two processes for ten chunks, and still every seed exactly once.
#[test]
fn two_workers_share_every_chunk_with_j2() {
    let dir = scratch("j2");
    let (out, records) = sweep(&dir, "2", None);
    let line = test_line(&out);
    assert_eq!(line["event"], "pass", "{line:#}");
    assert_eq!(line["seeds_run"], SEEDS, "{line:#}");
    let runs = runs_per_seed(&records);
    let expected: BTreeMap<u64, usize> = (START..START + SEEDS).map(|s| (s, 1)).collect();
    assert_eq!(runs, expected, "each seed of the range exactly once");
    let pids: BTreeSet<u32> = records.iter().map(|(p, _)| *p).collect();
    assert!(
        !pids.is_empty() && pids.len() <= 2,
        "at most one worker per job: {pids:?}"
    );
}

/// A failure ends its worker: the chunks after it run in a new process, the rest of the failing
/// chunk does not run (it stops at its first failure), and every other seed runs once.
#[test]
fn a_worker_that_found_a_failure_takes_no_other_chunk() {
    let dir = scratch("fail");
    // The fifth seed of the fourth chunk.
    let bad = START + 3 * CHUNK + 4;
    let (out, records) = sweep(&dir, "1", Some(bad));
    let line = test_line(&out);
    assert_eq!(line["event"], "fail", "{line:#}");
    let failing: Vec<u64> = line["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(failing, [bad], "{line:#}");
    let chunk_end = START + 4 * CHUNK;
    let ran: Vec<u64> = (START..=bad).chain(chunk_end..START + SEEDS).collect();
    assert_eq!(line["seeds_run"], ran.len() as u64, "{line:#}");
    let runs = runs_per_seed(&records);
    assert_eq!(
        runs.keys().copied().collect::<Vec<_>>(),
        ran,
        "the seeds that ran"
    );
    // The failing seed runs again as the worker saves, checks and traces it.
    for (seed, n) in runs.iter().filter(|(s, _)| **s != bad) {
        assert_eq!(*n, 1, "seed {seed} ran {n} times");
    }
    let pid_of = |seed: u64| records.iter().find(|(_, s)| *s == seed).unwrap().0;
    let failed_in = pid_of(bad);
    let before: BTreeSet<u32> = (START..=bad).map(pid_of).collect();
    let after: BTreeSet<u32> = (chunk_end..START + SEEDS).map(pid_of).collect();
    assert_eq!(
        before,
        BTreeSet::from([failed_in]),
        "the chunks up to the failure share one worker"
    );
    assert_eq!(
        after.len(),
        1,
        "the chunks after it share one worker: {after:?}"
    );
    let ran_bad: BTreeSet<u32> = records
        .iter()
        .filter(|(_, s)| *s == bad)
        .map(|(p, _)| *p)
        .collect();
    assert!(
        after.is_disjoint(&ran_bad),
        "a process that ran the failing seed {bad} ran a later chunk: {ran_bad:?} {after:?}"
    );
}

/// The runtime's side, without cargo-detest: a worker with no feed writes every seed's start
/// line before the seed runs (a crash must find it) and every seed's result, the last one too
/// (a passing result goes out with the next line, and the last has none after it).
#[test]
fn a_worker_writes_each_start_before_its_seed_and_every_result_before_it_ends() {
    let dir = scratch("protocol");
    let results = dir.join("results.jsonl");
    let pids = dir.join("pids.txt");
    let out = std::process::Command::new(common::fixture_test_binary("trust_protocol"))
        .args([
            "--exact",
            "records_its_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(common::fixture_manifest().parent().unwrap())
        .env("DETEST_RESULTS", &results)
        .env("DETEST_SEED_START", "7")
        .env("DETEST_SEEDS", "5")
        .env("DETEST_FIXTURES", "off")
        .env("DETEST_REGRESSIONS_DIR", &dir)
        .env("SWEEPY_PIDS", &pids)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = std::fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let events: Vec<(String, u64)> = lines
        .iter()
        .map(|v| {
            (
                v["event"].as_str().unwrap().to_owned(),
                v["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = (7..12)
        .flat_map(|s| [("start".to_owned(), s), ("result".to_owned(), s)])
        .collect();
    assert_eq!(events, expected, "{lines:#?}");
    assert!(lines
        .iter()
        .all(|v| v["event"] != "result" || v["status"] == "pass"));
}
