//! The wire protocol between cargo-detest and test binaries built with detest.
//!
//! The runtime owns the other side (`detest::__private::run_test`); these types mirror what it
//! writes. Unknown fields are ignored so either side can grow without breaking the other.

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// One line a worker writes.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum WorkerEvent {
    Start {
        seed: u64,
        #[serde(default)]
        fixture: Option<String>,
    },
    Result(SeedResult),
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
    #[serde(default)]
    pub failure: Option<WireFailure>,
    /// `path:index` when this was a replay of a saved fixture entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture: Option<String>,
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
    #[serde(default)]
    pub schedule: String,
    #[serde(default)]
    pub policy: String,
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
}
