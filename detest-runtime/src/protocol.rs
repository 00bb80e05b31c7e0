//! The wire protocol between `cargo detest` and test binaries built with detest, defined once:
//! the runner writes these types (`DETEST_ANNOUNCE`, `DETEST_RESULTS`) and `cargo detest`
//! reads them. JSON lines, one `write` per line, each ending in `\n`; the lines, the order they
//! come in and what each field means are described in the runner documentation (the
//! `# Protocol with cargo detest` section of `detest-runtime/src/runner/mod.rs`) and on each
//! type here. Unknown fields are ignored and missing optional ones default, so either side can
//! grow without breaking the other.
//!
//! ```
//! use detest::protocol::{SeedResult, Status, WorkerEvent};
//!
//! let line = r#"{"event":"result","seed":7,"status":"pass","steps":12}"#;
//! let WorkerEvent::Result(r) = serde_json::from_str(line).unwrap() else { panic!() };
//! assert_eq!((r.seed, r.status, r.steps), (7, Status::Pass, 12));
//! let again: WorkerEvent = serde_json::from_str(&WorkerEvent::Result(r.clone()).to_line()).unwrap();
//! assert_eq!(again, WorkerEvent::Result(r));
//! ```

use serde::{Deserialize, Serialize};

/// File the test appends its announce line to; its absence means "run normally".
pub const ENV_ANNOUNCE: &str = "DETEST_ANNOUNCE";
/// Where a worker streams its per-seed events: `fd:N` or a path.
pub const ENV_RESULTS: &str = "DETEST_RESULTS";
pub const ENV_SEED_START: &str = "DETEST_SEED_START";
pub const ENV_SEEDS: &str = "DETEST_SEEDS";
pub const ENV_SEED: &str = "DETEST_SEED";
pub const ENV_POLICY: &str = "DETEST_POLICY";
/// `off` (neither replay nor save), `read` (the default), `only` (replay saved fixtures only).
pub const ENV_FIXTURES: &str = "DETEST_FIXTURES";
pub const ENV_REPLAY: &str = "DETEST_REPLAY";
pub const ENV_TRACE: &str = "DETEST_TRACE";
/// `1`: a failing seed is saved but not shrunk.
pub const ENV_NO_SHRINK: &str = "DETEST_NO_SHRINK";
/// `1`: run one failure (`DETEST_SEED`, `DETEST_REPLAY` or `DETEST_FIXTURE`), shrink it, print
/// the result and save the shrunk schedule into the fixture.
pub const ENV_MINIMIZE: &str = "DETEST_MINIMIZE";
/// `<path>:<index>`: the saved fixture entry `DETEST_MINIMIZE` works on.
pub const ENV_FIXTURE: &str = "DETEST_FIXTURE";
/// `N`: run every seed N times and compare (worker mode: one `determinism` line per seed).
pub const ENV_CHECK_DETERMINISM: &str = "DETEST_CHECK_DETERMINISM";
/// `1`: this chunk begins the sweep and checks the fixed executions (seed 0 of round-robin, rotate
/// and first-release).
pub const ENV_FIXED_RUNS: &str = "DETEST_FIXED_RUNS";
/// `fd:N`: a worker that finished its seeds writes an `idle` line and reads its next chunk from
/// this descriptor, one [`FeedChunk`] line each, until end of file (see [`WorkerEvent::Idle`]).
/// A worker is started once per test and slot instead of once per chunk.
pub const ENV_FEED: &str = "DETEST_FEED";
/// The policies of the fixed executions, in `DETEST_POLICY` syntax: each runs seed 0 of its
/// policy, so a saved entry of seed 0 under one of them, in a test whose own policy is another,
/// was found by a fixed execution.
pub const FIXED_POLICIES: [&str; 3] = ["round-robin", "rotate", "first-release"];
/// `1`: with `DETEST_RESULTS`, run as plain `cargo test` and also write a start and a result
/// line (`cargo detest replay`), so that a process that ends mid-execution is seen as a crash.
pub const ENV_FOREGROUND: &str = "DETEST_FOREGROUND";
/// The `--manifest-path` the user gave `cargo detest replay` / `minimize`: the repro commands
/// the test prints carry it, so that pasted where the user stands, they work.
pub const ENV_MANIFEST_PATH: &str = "DETEST_MANIFEST_PATH";
/// `K`: a `DETEST_FIXTURES=only` pass starts at entry K (to continue after a crash).
pub const ENV_FIXTURE_START: &str = "DETEST_FIXTURE_START";
/// What `DETEST_TRACE=json` prints on stdout around its JSON lines.
pub const TRACE_JSON_BEGIN: &str = "--- detest trace (json) ---";
pub const TRACE_JSON_END: &str = "--- end trace ---";

/// Variables the parent may have set for itself (`DETEST_SEED=3 cargo detest`) that must not
/// leak into a worker and override the seed range we hand it.
pub const INHERITED_OVERRIDES: &[&str] = &[
    ENV_ANNOUNCE,
    ENV_RESULTS,
    ENV_SEED_START,
    ENV_SEEDS,
    ENV_SEED,
    ENV_POLICY,
    ENV_FIXTURES,
    ENV_REPLAY,
    ENV_TRACE,
    ENV_MINIMIZE,
    ENV_FIXTURE,
    ENV_CHECK_DETERMINISM,
    ENV_FIXTURE_START,
    ENV_FEED,
    ENV_FIXED_RUNS,
    ENV_FOREGROUND,
    ENV_MANIFEST_PATH,
    "DETEST_SHARD",
];

/// A detest test's declared configuration, written once when `DETEST_ANNOUNCE` is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    pub name: String,
    pub seeds: u64,
    #[serde(default)]
    pub seed_start: u64,
    pub policy: String,
    #[serde(default = "default_expect")]
    pub expect: String,
    #[serde(default)]
    pub expect_message: Option<String>,
    #[serde(default)]
    pub max_steps: Option<u64>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub fixture_file: Option<String>,
    #[serde(default)]
    pub fixture_count: u64,
    /// Why the fixture file could not be read (`path:line:col: message`).
    #[serde(default)]
    pub fixture_error: Option<String>,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub target_kind: Option<String>,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

fn default_expect() -> String {
    "pass".to_string()
}

impl Announce {
    pub fn expects_pass(&self) -> bool {
        self.expect == "pass"
    }

    /// Whether a failure of `kind` with `message` is the outcome this test says it must find.
    pub fn is_expected(&self, kind: &str, message: &str) -> bool {
        let kind_ok = match self.expect.as_str() {
            "pass" => false,
            // Any failure at all, including a crash or hang the runtime could not observe.
            "fail" => true,
            other => other == kind,
        };
        kind_ok
            && self
                .expect_message
                .as_deref()
                .is_none_or(|m| message.contains(m))
    }
}

/// One line a worker writes on `DETEST_RESULTS`.
// One event at a time is read and moved on at once: boxing the result would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum WorkerEvent {
    /// Written and flushed before a seed (or fixture entry, or fixed execution) runs, so that a
    /// crash or hang is blamed on it.
    Start {
        seed: u64,
        /// `path:index` of the fixture entry about to replay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fixture: Option<String>,
        /// One of the fixed executions a PCT or chaos sweep begins with (seed 0 of this policy).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
    },
    Result(SeedResult),
    /// `DETEST_CHECK_DETERMINISM=N`: one seed run N times.
    Determinism(DeterminismResult),
    /// Work on a failure of `seed` (shrinking, tracing) goes on: another execution of the body
    /// started. Written at most every [`PROGRESS_INTERVAL`], so a supervisor's watchdog can
    /// judge each execution rather than the whole search.
    Progress {
        seed: u64,
        /// Executions of the body so far in this worker.
        executions: u64,
    },
    /// `DETEST_FEED`: every seed of the chunk passed, and the worker waits for its next chunk.
    /// A runtime that does not know the feed ends instead, as before.
    Idle,
}

/// One chunk on `DETEST_FEED`: `<seed start> <seeds> <fixed runs 0|1>` and a newline, the
/// `DETEST_SEED_START`, `DETEST_SEEDS` and `DETEST_FIXED_RUNS` of a fresh worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedChunk {
    pub seed_start: u64,
    pub seeds: u64,
    pub fixed_runs: bool,
}

impl FeedChunk {
    pub fn to_line(self) -> String {
        format!(
            "{} {} {}\n",
            self.seed_start, self.seeds, self.fixed_runs as u8
        )
    }

    pub fn parse(line: &str) -> Option<FeedChunk> {
        let mut words = line.split_ascii_whitespace();
        let chunk = FeedChunk {
            seed_start: words.next()?.parse().ok()?,
            seeds: words.next()?.parse().ok()?,
            fixed_runs: match words.next()? {
                "1" => true,
                "0" => false,
                _ => return None,
            },
        };
        words.next().is_none().then_some(chunk)
    }
}

/// How often, at most, a worker writes a `progress` line.
pub const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

/// How many steps of a failing execution a result line carries: the last ones, as the human
/// report shows them. The whole trace is one replay away (`DETEST_TRACE=json`).
pub const TRACE_TAIL: usize = 40;

impl WorkerEvent {
    /// The event as one line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("protocol types always serialize")
    }
}

/// The outcome of one seed (or one replayed fixture entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub status: Status,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub steps: u64,
    /// `path:index` of the fixture entry the worker saved for this failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<String>,
    /// Why a failure was not saved (`DETEST_FIXTURES=off`, an expectation test, the error of
    /// the write), when `saved` is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_saved: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<WireFailure>,
    /// `path:index` when this was a replay of a saved fixture entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture: Option<String>,
    /// How that entry replayed: `shrunk_schedule`, `schedule` or `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed: Option<String>,
    /// The policy of the fixed execution this was, when it was one (taken from its start
    /// line): not a seed of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// How the worker shrank this failure (after saving it), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk: Option<Shrunk>,
    /// The failing execution step by step (of the shrunk schedule when there is one): at most
    /// its last [`TRACE_TAIL`] steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceStep>>,
    /// How many steps the whole trace had, when `trace` holds only its tail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_len: Option<u64>,
    /// The index in the whole trace of `trace[0]`, when `trace` holds only its tail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_from: Option<u64>,
}

impl SeedResult {
    /// A result with only the seed and status set.
    pub fn new(seed: u64, status: Status) -> SeedResult {
        SeedResult {
            seed,
            status,
            steps: 0,
            saved: None,
            not_saved: None,
            failure: None,
            fixture: None,
            replayed: None,
            fixed: None,
            shrunk: None,
            trace: None,
            trace_len: None,
            trace_from: None,
        }
    }

    /// Keeps the last [`TRACE_TAIL`] steps of `steps` as the trace, noting what was cut.
    pub fn set_trace(&mut self, mut steps: Vec<TraceStep>) {
        if steps.len() > TRACE_TAIL {
            let from = steps.len() - TRACE_TAIL;
            self.trace_len = Some(steps.len() as u64);
            self.trace_from = Some(from as u64);
            steps.drain(..from);
        }
        self.trace = Some(steps);
    }
}

/// A failure's schedule after shrinking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shrunk {
    /// As [`WireFailure::schedule`]: abbreviated above the bound, with `schedule_len` set.
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_len: Option<u64>,
    #[serde(default)]
    pub steps_before: u64,
    #[serde(default)]
    pub steps_after: u64,
    #[serde(default)]
    pub preemptions_before: u64,
    #[serde(default)]
    pub preemptions_after: u64,
    /// Candidate executions run.
    #[serde(default)]
    pub executions: u64,
    /// False when the budget ran out (the schedule still fails, but may not be minimal).
    #[serde(default)]
    pub complete: bool,
    /// `shrunk 412 → 23 steps, 9 → 1 preemptions in 0.4 s`
    #[serde(default)]
    pub summary: String,
}

/// One step of a trace, as `DETEST_TRACE=json` and result lines carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    pub step: u64,
    pub task: u32,
    pub op: String,
    #[serde(default)]
    pub object: Option<TraceObject>,
    /// `file:line:col` of the user's call.
    #[serde(default)]
    pub location: Option<String>,
    /// The task was preempted at this step, in favour of this one (see
    /// `detest::trace::TraceEvent::preempted_by`).
    #[serde(default)]
    pub preempted_by: Option<u32>,
    /// Virtual nanoseconds since the execution started.
    #[serde(default)]
    pub time: u64,
    /// The value drawn by a `rand` step.
    #[serde(default)]
    pub value: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceObject {
    pub id: u64,
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// One seed run several times under `DETEST_CHECK_DETERMINISM`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeterminismResult {
    pub seed: u64,
    pub runs: u64,
    /// `(fingerprint in hex, runs that produced it)`, most frequent first.
    pub histogram: Vec<(String, u64)>,
    pub deterministic: bool,
    #[serde(default)]
    pub divergence: Option<Divergence>,
}

/// Where two runs of one seed first differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    pub step: u64,
    #[serde(default)]
    pub index: u64,
    /// The event in the first run and in the diverging one (`null`: that run had ended).
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub actual: Option<String>,
    /// A unified diff of the two traces around the divergence.
    #[serde(default)]
    pub diff: String,
    #[serde(default)]
    pub likely_cause: String,
}

/// The JSON trace lines `DETEST_TRACE=json` printed between its markers, and whether the
/// markers were there at all.
pub fn parse_json_trace(stdout: &str) -> Option<Vec<TraceStep>> {
    let mut lines = stdout.lines().map(str::trim);
    // libtest's `test NAME ... ` may precede the marker on its line.
    lines.find(|l| l.ends_with(TRACE_JSON_BEGIN))?;
    let mut steps = Vec::new();
    for l in lines {
        if l == TRACE_JSON_END {
            return Some(steps);
        }
        if let Ok(s) = serde_json::from_str::<TraceStep>(l) {
            steps.push(s);
        }
    }
    Some(steps)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
}

/// A failure as the runtime reports it, plus the kinds only the supervisor can see
/// (`crash`, `hang`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireFailure {
    pub kind: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub task: Option<String>,
    /// The encoded schedule, or, when it is longer than [`crate::SCHEDULE_SHOWN_MAX`], its
    /// abbreviation ([`crate::shown_schedule`]; `schedule_len` is then set): the line stays
    /// small, and the seed replays the same execution.
    #[serde(default)]
    pub schedule: String,
    /// The whole schedule's length, when `schedule` holds only its abbreviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_len: Option<u64>,
    #[serde(default)]
    pub policy: String,
}

impl WireFailure {
    /// The schedule to replay or store, when the line carries one whole.
    pub fn replay_schedule(&self) -> Option<&str> {
        (!self.schedule.is_empty() && self.schedule_len.is_none()).then_some(&self.schedule)
    }
}

/// An encoded schedule as a result line carries it, with the whole length when it is
/// abbreviated (see [`WireFailure::schedule`]).
pub fn wire_schedule(encoded: String) -> (String, Option<u64>) {
    if crate::schedule_fits(&encoded) {
        (encoded, None)
    } else {
        (
            crate::shown_schedule(&encoded).into_owned(),
            Some(encoded.len() as u64),
        )
    }
}

/// Parses one announce line (tolerating a trailing newline and blank lines around it).
/// Each test announces into its own file, so any valid line is this test's; a line naming the
/// test is preferred in case the body ran another detest function first.
pub fn parse_announce(text: &str, test: &str) -> Option<Announce> {
    let all: Vec<Announce> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Announce>(l.trim()).ok())
        .collect();
    let named = all.iter().position(|a| {
        a.name == test
            || test.ends_with(&format!("::{}", a.name))
            || a.name.ends_with(&format!("::{test}"))
    });
    named
        .or(if all.is_empty() { None } else { Some(0) })
        .map(|i| all[i].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_chunks_round_trip_and_bad_lines_are_none() {
        let chunk = FeedChunk {
            seed_start: u64::MAX - 3,
            seeds: 4,
            fixed_runs: true,
        };
        assert_eq!(FeedChunk::parse(&chunk.to_line()), Some(chunk));
        let plain = FeedChunk {
            fixed_runs: false,
            ..chunk
        };
        assert_eq!(FeedChunk::parse(&plain.to_line()), Some(plain));
        for bad in ["", "1 2", "1 2 3", "1 2 1 4", "x 2 1", "-1 2 0"] {
            assert_eq!(FeedChunk::parse(bad), None, "{bad:?}");
        }
        let idle = WorkerEvent::Idle.to_line();
        assert_eq!(idle, r#"{"event":"idle"}"#);
        assert_eq!(serde_json::from_str::<WorkerEvent>(&idle).unwrap(), WorkerEvent::Idle);
    }

    #[test]
    fn json_traces_between_markers() {
        let out = "running 1 test\ntest x ... --- detest trace (json) ---\n{\"step\":1,\"task\":0,\"op\":\"spawn\",\"object\":null,\"location\":\"a.rs:1:2\",\"preempted_by\":null}\n{\"step\":2,\"task\":1,\"op\":\"load\",\"object\":{\"id\":1,\"type\":\"AtomicUsize\"},\"location\":null,\"preempted_by\":0}\n--- end trace ---\nFAILED\n";
        let steps = parse_json_trace(out).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1].object.as_ref().unwrap().kind, "AtomicUsize");
        assert_eq!(steps[1].preempted_by, Some(0));
        assert_eq!(parse_json_trace("no trace here"), None);
        let d: WorkerEvent = serde_json::from_str(
            r#"{"event":"determinism","seed":4,"runs":3,"histogram":[["00ff",2],["0a0b",1]],"deterministic":false,"divergence":{"step":9,"index":7,"expected":"a","actual":null,"diff":"-a","likely_cause":"the wall clock"}}"#,
        )
        .unwrap();
        match d {
            WorkerEvent::Determinism(d) => {
                assert_eq!(d.histogram, vec![("00ff".into(), 2), ("0a0b".into(), 1)]);
                assert_eq!(d.divergence.unwrap().actual, None);
            }
            _ => panic!("expected a determinism line"),
        }
    }

    #[test]
    fn parses_the_documented_lines() {
        let a: Announce = serde_json::from_str(
            r#"{"name":"t","seeds":100,"seed_start":5,"policy":"pct:3","expect":"deadlock","expect_message":null,"max_steps":1000,"timeout_ms":null,"fixture_file":"/x/detest-regressions/t.toml","fixture_count":2,"package":"p","target":"p","target_kind":"lib","future_field":1}"#,
        )
        .unwrap();
        assert_eq!(a.seeds, 100);
        assert!(a.is_expected("deadlock", "anything"));
        assert!(!a.is_expected("panic", "anything"));

        let start: WorkerEvent = serde_json::from_str(r#"{"event":"start","seed":7}"#).unwrap();
        assert!(matches!(start, WorkerEvent::Start { seed: 7, .. }));
        let result: WorkerEvent = serde_json::from_str(
            r#"{"event":"result","seed":7,"status":"fail","steps":12,"failure":{"kind":"panic","message":"boom","location":"src/lib.rs:1:1","task":"task 1","schedule":"detest1:abc","policy":"chaos"}}"#,
        )
        .unwrap();
        match result {
            WorkerEvent::Result(r) => {
                assert_eq!(r.status, Status::Fail);
                assert_eq!(r.failure.unwrap().schedule, "detest1:abc");
            }
            _ => panic!("expected a result"),
        }
    }

    #[test]
    fn expect_message_must_match() {
        let mut a: Announce = serde_json::from_str(
            r#"{"name":"t","seeds":1,"policy":"chaos","expect":"panic","expect_message":"overflow"}"#,
        )
        .unwrap();
        assert!(a.is_expected("panic", "attempt to add with overflow"));
        assert!(!a.is_expected("panic", "index out of bounds"));
        a.expect = "fail".into();
        assert!(a.is_expected("hang", "overflow here"));
    }

    /// Every event survives a write and a read unchanged, and the lines stay those documented.
    #[test]
    fn events_round_trip() {
        let step = |n| TraceStep {
            step: n,
            task: 1,
            op: "yield".into(),
            object: Some(TraceObject {
                id: 3,
                kind: "Mutex<u32>".into(),
            }),
            location: Some("tests/x.rs:9:5".into()),
            preempted_by: Some(0),
            time: 0,
            value: None,
        };
        let mut full = SeedResult {
            steps: 230,
            saved: Some("/abs/t.toml:0".into()),
            failure: Some(WireFailure {
                kind: "panic".into(),
                message: "boom".into(),
                location: Some("tests/x.rs:9:5".into()),
                task: Some("task 1".into()),
                schedule: "detest1:abc".into(),
                schedule_len: None,
                policy: "chaos".into(),
            }),
            fixture: Some("/abs/t.toml:2".into()),
            replayed: Some("schedule".into()),
            shrunk: Some(Shrunk {
                schedule: "detest1:ab".into(),
                schedule_len: None,
                steps_before: 230,
                steps_after: 23,
                preemptions_before: 9,
                preemptions_after: 1,
                executions: 412,
                complete: true,
                summary: "shrunk 230 → 23 steps".into(),
            }),
            ..SeedResult::new(17, Status::Fail)
        };
        full.set_trace((0..100).map(step).collect());
        let not_saved = SeedResult {
            not_saved: Some("DETEST_FIXTURES=off".into()),
            ..SeedResult::new(3, Status::Fail)
        };
        let events = [
            WorkerEvent::Start {
                seed: 17,
                fixture: None,
                policy: None,
            },
            WorkerEvent::Start {
                seed: 0,
                fixture: Some("/abs/t.toml:1".into()),
                policy: Some("rotate".into()),
            },
            WorkerEvent::Result(full),
            WorkerEvent::Result(not_saved),
            WorkerEvent::Result(SeedResult::new(4, Status::Pass)),
            WorkerEvent::Progress {
                seed: 17,
                executions: 9,
            },
            WorkerEvent::Determinism(DeterminismResult {
                seed: 4,
                runs: 3,
                histogram: vec![("00ff".into(), 2), ("0a0b".into(), 1)],
                deterministic: false,
                divergence: Some(Divergence {
                    step: 9,
                    index: 7,
                    expected: Some("a".into()),
                    actual: None,
                    diff: "-a".into(),
                    likely_cause: "the wall clock".into(),
                }),
            }),
        ];
        for event in events {
            let line = event.to_line();
            assert!(!line.contains('\n'), "one line: {line}");
            let back: WorkerEvent = serde_json::from_str(&line).unwrap();
            assert_eq!(back, event, "{line}");
        }
        assert_eq!(
            WorkerEvent::Start {
                seed: 17,
                fixture: None,
                policy: None
            }
            .to_line(),
            r#"{"event":"start","seed":17}"#
        );
        assert_eq!(
            WorkerEvent::Result(SeedResult::new(4, Status::Pass)).to_line(),
            r#"{"event":"result","seed":4,"status":"pass","steps":0}"#
        );
    }

    /// A result line carries the tail of a long trace, and says what it cut.
    #[test]
    fn long_traces_are_cut_to_their_tail() {
        let step = |n| TraceStep {
            step: n,
            task: 0,
            op: "yield".into(),
            object: None,
            location: None,
            preempted_by: None,
            time: 0,
            value: None,
        };
        let mut r = SeedResult::new(1, Status::Fail);
        r.set_trace((0..1_000_000).map(step).collect());
        let trace = r.trace.as_ref().unwrap();
        assert_eq!(trace.len(), TRACE_TAIL);
        assert_eq!(trace[0].step, 1_000_000 - TRACE_TAIL as u64);
        assert_eq!(r.trace_len, Some(1_000_000));
        assert_eq!(r.trace_from, Some(1_000_000 - TRACE_TAIL as u64));
        assert!(WorkerEvent::Result(r).to_line().len() < 8 * 1024);

        let mut short = SeedResult::new(1, Status::Fail);
        short.set_trace((0..3).map(step).collect());
        assert_eq!(short.trace.as_ref().unwrap().len(), 3);
        assert_eq!((short.trace_len, short.trace_from), (None, None));
    }

    /// A schedule above the bound travels abbreviated, with its length, and is not replayable.
    #[test]
    fn long_schedules_are_abbreviated() {
        let long = format!("detest1:{}", "A".repeat(2 * crate::SCHEDULE_SHOWN_MAX));
        let (schedule, schedule_len) = wire_schedule(long.clone());
        assert_eq!(schedule_len, Some(long.len() as u64));
        assert!(schedule.len() < 100, "{schedule}");
        let f = WireFailure {
            kind: "step-limit".into(),
            message: String::new(),
            location: None,
            task: None,
            schedule,
            schedule_len,
            policy: "chaos".into(),
        };
        assert_eq!(f.replay_schedule(), None);
        let mut r = SeedResult::new(1, Status::Fail);
        r.failure = Some(f);
        assert!(WorkerEvent::Result(r).to_line().len() < 8 * 1024);
        assert_eq!(
            wire_schedule("detest1:AAIE".into()),
            ("detest1:AAIE".into(), None)
        );
    }

    /// The line the in-process watchdog writes before it aborts (steps null).
    #[test]
    fn a_hang_line_without_steps_parses() {
        let line = r#"{"event":"result","seed":5,"status":"fail","steps":null,"saved":null,"failure":{"kind":"hang","message":"m","location":null,"task":null,"schedule":"","policy":"chaos"},"shrunk":null,"trace":[]}"#;
        let WorkerEvent::Result(r) = serde_json::from_str(line).unwrap() else {
            panic!("expected a result")
        };
        assert_eq!((r.seed, r.steps), (5, 0));
        assert_eq!(r.failure.unwrap().kind, "hang");
    }
}
