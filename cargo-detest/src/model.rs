//! Plain data that flows from build → discovery → sweep → report.

use crate::plan::SeedRange;
use crate::protocol::{Announce, DeterminismResult};
use crate::worker::Found;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A test executable cargo built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestBinary {
    /// nextest-style: `pkg` for a lib, `pkg::name` for an integration test, `pkg::bin/name`, ...
    pub id: String,
    pub package: String,
    pub target: String,
    /// `lib`, `test`, `bin`, `example`, `bench` or `proc-macro`.
    pub kind: String,
    pub path: PathBuf,
    /// Tests run from here, like `cargo test` does.
    pub package_root: PathBuf,
}

impl TestBinary {
    pub fn new(
        package: &str,
        target: &str,
        kind: &str,
        path: PathBuf,
        package_root: PathBuf,
    ) -> Self {
        let id = match kind {
            "lib" | "proc-macro" => package.to_string(),
            "test" => format!("{package}::{target}"),
            other => format!("{package}::{other}/{target}"),
        };
        TestBinary {
            id,
            package: package.to_string(),
            target: target.to_string(),
            kind: kind.to_string(),
            path,
            package_root,
        }
    }

    /// The cargo flags that select exactly this target (`--lib`, `--test NAME`, ...).
    pub fn target_flags(&self) -> Vec<String> {
        match self.kind.as_str() {
            "lib" | "proc-macro" => vec!["--lib".into()],
            other => vec![format!("--{other}"), self.target.clone()],
        }
    }
}

/// One libtest test inside one binary.
#[derive(Clone, Debug)]
pub struct TestId {
    pub binary: Arc<TestBinary>,
    /// The libtest name (`tests::transfer`).
    pub name: String,
}

impl TestId {
    /// What humans and filters see: `pkg::tests::transfer`, `pkg::it::transfer`.
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.binary.id, self.name)
    }

    /// The command that reruns one execution of this test in the foreground.
    pub fn replay_command(&self, how: &str, manifest_path: Option<&str>) -> String {
        let mut cmd = format!(
            "cargo detest replay {} -p {}",
            shell_word(&self.name),
            self.binary.package
        );
        for flag in self.binary.target_flags() {
            cmd.push(' ');
            cmd.push_str(&shell_word(&flag));
        }
        if let Some(m) = manifest_path {
            cmd.push_str(" --manifest-path ");
            cmd.push_str(&shell_word(m));
        }
        cmd.push(' ');
        cmd.push_str(how);
        cmd
    }
}

/// Quotes a word for a POSIX shell only when it needs it.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/=@+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What discovery learned about a test.
#[derive(Clone, Debug)]
pub enum TestKind {
    Detest(Announce),
    /// A plain `#[test]`, with the one run discovery gave it.
    Plain(PlainRun),
    /// `#[ignore]`d: listed, never run.
    Ignored,
}

/// How a plain test's single run went.
#[derive(Clone, Debug, Default)]
pub struct PlainRun {
    pub passed: bool,
    /// Why it failed (exit code, signal, watchdog).
    pub reason: String,
    pub output: String,
    pub duration: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    /// Stopped by Ctrl-C or `--fail-fast` before it finished.
    Cancelled,
    /// Not run: it passed before with this very binary, seeds, policy and options (the
    /// incremental sweep). Never counted as a pass of this run.
    Unchanged,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Cancelled => "cancelled",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// Everything known about one test at the end of the sweep.
#[derive(Clone, Debug)]
pub struct TestReport {
    pub id: TestId,
    pub kind: TestKind,
    pub verdict: Verdict,
    pub duration: Duration,
    /// The seed range this test was given (before sharding) and the policy it ran with.
    pub range: Option<SeedRange>,
    pub policy: Option<String>,
    pub seeds_planned: u64,
    pub seeds_run: u64,
    pub steps: u64,
    /// Saved fixture entries that were replayed.
    pub fixtures_replayed: u64,
    /// Failing seeds, fixtures first, then by seed.
    pub failures: Vec<Found>,
    /// For `expect = ...` tests: the run that showed the expected outcome.
    pub expected: Option<Found>,
    /// A one-line reason for the verdict when the failures don't say it (skip, expectation).
    pub note: Option<String>,
    /// Worker problems no seed explains.
    pub errors: Vec<String>,
    /// Why new failures of this test are not saved (`--fixtures read`), when they are not.
    pub not_saved: Option<String>,
    /// `check-determinism`: the runs per seed, and each checked seed's outcome (by seed).
    pub determinism_runs: Option<u32>,
    pub determinism: Vec<DeterminismResult>,
    /// Where this run's pass would be remembered (`None`: not cached, e.g. a plain test).
    pub cache_key: Option<crate::cache::TestKey>,
    /// The earlier pass that makes this test [`Verdict::Unchanged`].
    pub unchanged: Option<crate::cache::Passed>,
    /// `--explore`: seeds this test had explored before this run, and in total after it.
    pub explored_before: Option<u64>,
    pub explored_total: Option<u64>,
}

impl TestReport {
    pub fn new(id: TestId, kind: TestKind) -> Self {
        TestReport {
            id,
            kind,
            // Until the sweep derives it from what ran: never PASS by default.
            verdict: Verdict::Cancelled,
            duration: Duration::ZERO,
            range: None,
            policy: None,
            seeds_planned: 0,
            seeds_run: 0,
            steps: 0,
            fixtures_replayed: 0,
            failures: Vec::new(),
            expected: None,
            note: None,
            errors: Vec::new(),
            not_saved: None,
            determinism_runs: None,
            determinism: Vec::new(),
            cache_key: None,
            unchanged: None,
            explored_before: None,
            explored_total: None,
        }
    }

    pub fn is_detest(&self) -> bool {
        matches!(self.kind, TestKind::Detest(_))
    }

    /// The seeds whose runs did not all agree.
    pub fn nondeterministic(&self) -> impl Iterator<Item = &DeterminismResult> {
        self.determinism.iter().filter(|d| !d.deterministic)
    }
}

/// Totals for the closing line.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub tests: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cancelled: usize,
    /// Skipped because they passed before with nothing changed (also not in `skipped`).
    pub unchanged: usize,
    pub seeds: u64,
    pub duration: Duration,
    pub interrupted: bool,
}

impl Summary {
    pub fn from_reports(reports: &[TestReport], duration: Duration, interrupted: bool) -> Self {
        let count = |v| reports.iter().filter(|r| r.verdict == v).count();
        Summary {
            tests: reports.len(),
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            skipped: count(Verdict::Skip),
            cancelled: count(Verdict::Cancelled),
            unchanged: count(Verdict::Unchanged),
            seeds: reports.iter().map(|r| r.seeds_run).sum(),
            duration,
            interrupted,
        }
    }

    pub fn success(&self) -> bool {
        self.failed == 0 && !self.interrupted && self.cancelled == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_commands() {
        let bin = Arc::new(TestBinary::new(
            "demo",
            "races",
            "test",
            "/t/races".into(),
            "/p".into(),
        ));
        let id = TestId {
            binary: bin,
            name: "net::lost_update".into(),
        };
        assert_eq!(id.full_name(), "demo::races::net::lost_update");
        assert_eq!(
            id.replay_command("--seed 7", None),
            "cargo detest replay net::lost_update -p demo --test races --seed 7"
        );
        let lib = Arc::new(TestBinary::new(
            "demo",
            "demo",
            "lib",
            "/t/demo".into(),
            "/p".into(),
        ));
        let id = TestId {
            binary: lib,
            name: "it works".into(),
        };
        assert_eq!(id.full_name(), "demo::it works");
        assert_eq!(
            id.replay_command("--seed 1", Some("a b/Cargo.toml")),
            "cargo detest replay 'it works' -p demo --lib --manifest-path 'a b/Cargo.toml' --seed 1"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
