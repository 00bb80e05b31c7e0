//! Which tests a binary holds, and which of them are detest tests.
//!
//! libtest lists names only, so a test is asked directly: run with `DETEST_ANNOUNCE=<file>`, a
//! detest test appends its declared configuration to the file and returns without running. A
//! test that writes nothing is a plain `#[test]`, and that run was its one normal run.

use crate::model::{PlainRun, TestBinary, TestId, TestKind};
use crate::protocol;
use crate::worker::{self, WorkerCommand};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The tests of one binary: `(name, ignored)`, in libtest's order.
pub fn list_tests(bin: &TestBinary) -> Result<Vec<(String, bool)>> {
    let all = run_list(bin, false)?;
    let ignored = run_list(bin, true)?;
    Ok(all
        .into_iter()
        .map(|name| {
            let is_ignored = ignored.contains(&name);
            (name, is_ignored)
        })
        .collect())
}

fn run_list(bin: &TestBinary, ignored: bool) -> Result<Vec<String>> {
    let mut cmd = Command::new(&bin.path);
    cmd.args(["--list", "--format", "terse"])
        .current_dir(&bin.package_root);
    if ignored {
        cmd.arg("--ignored");
    }
    let out = cmd
        .output()
        .with_context(|| format!("could not run {}", bin.path.display()))?;
    if !out.status.success() {
        bail!(
            "{} --list failed ({}):\n{}",
            bin.path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(parse_terse_list(&String::from_utf8_lossy(&out.stdout)))
}

/// `name: test` lines; benchmarks and anything else are not tests.
pub fn parse_terse_list(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// Whether a full name passes the command-line filters (no filter: everything).
pub fn matches_filter(full_name: &str, filters: &[String]) -> bool {
    filters.is_empty() || filters.iter().any(|f| full_name.contains(f.as_str()))
}

/// Lists every binary and returns the tests that pass the filters.
pub fn collect(binaries: &[Arc<TestBinary>], filters: &[String]) -> Result<Vec<(TestId, bool)>> {
    let mut out = Vec::new();
    for bin in binaries {
        for (name, ignored) in list_tests(bin)? {
            let id = TestId {
                binary: bin.clone(),
                name,
            };
            if matches_filter(&id.full_name(), filters) {
                out.push((id, ignored));
            }
        }
    }
    Ok(out)
}

/// A scratch folder for announce files, removed when dropped.
pub struct Scratch {
    dir: PathBuf,
    next: AtomicU64,
}

impl Scratch {
    pub fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("cargo-detest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch {
            dir,
            next: AtomicU64::new(0),
        })
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(format!(
            "announce-{}.jsonl",
            self.next.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asks one test what it is; plain tests run for real here. `None` if cancelled.
pub fn probe(
    id: &TestId,
    announce: &Path,
    watchdog: Duration,
    cancel: &AtomicBool,
) -> Option<TestKind> {
    let cmd = WorkerCommand::for_test(id, watchdog);
    let env = [(
        protocol::ENV_ANNOUNCE,
        announce.to_string_lossy().into_owned(),
    )];
    let outcome = worker::run_plain(&cmd, &env, cancel);
    if outcome.cancelled {
        return None;
    }
    let text = std::fs::read_to_string(announce).unwrap_or_default();
    let _ = std::fs::remove_file(announce);
    if let Some(a) = protocol::parse_announce(&text, &id.name) {
        return Some(TestKind::Detest(a));
    }
    Some(TestKind::Plain(PlainRun {
        passed: outcome.failure.is_none(),
        reason: outcome.failure.unwrap_or_default(),
        output: outcome.output,
        duration: outcome.duration,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terse_lists() {
        let text = "tests::a: test\ntests::b: test\nbench_x: benchmark\n\n";
        assert_eq!(parse_terse_list(text), vec!["tests::a", "tests::b"]);
    }

    #[test]
    fn filters() {
        assert!(matches_filter("p::tests::a", &[]));
        assert!(matches_filter(
            "p::tests::a",
            &["x".into(), "tests::".into()]
        ));
        assert!(!matches_filter("p::tests::a", &["b".into()]));
    }
}
