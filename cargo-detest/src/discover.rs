//! Which tests a binary holds, and which of them are detest tests.
//!
//! libtest lists names only. Every `#[detest]` test also announces itself as its binary loads
//! when `DETEST_ANNOUNCE=<file>` is set (a static constructor the macro emits), so one
//! `<bin> --list` with that variable set names every test and describes each detest test,
//! without running any test: a plain `#[test]` (which may write files, or take minutes) never
//! runs just to be found. Plain tests run later, once, as units of the sweep.

use crate::model::{PlainRun, TestBinary, TestId, TestKind};
use crate::protocol::{self, Announce};
use crate::worker::{self, WorkerCommand};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
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
    let mut cmd = list_command(bin);
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
    let text = String::from_utf8_lossy(&out.stdout);
    let names = parse_terse_list(&text);
    check_list_ended(&text, names.len())
        .with_context(|| format!("{} --list", bin.path.display()))?;
    Ok(names)
}

/// A listing is complete only when libtest printed its closing count (`N tests, M benchmarks`)
/// and it matches the names listed: exit status 0 alone is also what a binary that exits while
/// listing (a static constructor calling `exit(0)`) returns.
pub fn check_list_ended(text: &str, listed: usize) -> Result<()> {
    let count = text.lines().rev().find_map(|l| {
        let (tests, rest) = l.trim().split_once(' ')?;
        rest.starts_with("test")
            .then(|| tests.parse::<usize>().ok())?
    });
    match count {
        Some(n) if n == listed => Ok(()),
        Some(n) => bail!("the listing names {listed} tests but counts {n}"),
        None => bail!("the listing ended before libtest printed its count of tests"),
    }
}

/// `<bin> --list` (pretty: it ends with the count of tests) from the package root, with none of our own DETEST_*
/// overrides inherited (they would change what is announced).
fn list_command(bin: &TestBinary) -> Command {
    let mut cmd = Command::new(&bin.path);
    cmd.args(["--list"]).current_dir(&bin.package_root);
    for var in protocol::INHERITED_OVERRIDES {
        cmd.env_remove(var);
    }
    cmd
}

/// The detest tests of one binary, by libtest name, as they announce themselves when the
/// binary lists its tests with `DETEST_ANNOUNCE=<announce>`. Runs no test.
pub fn announced(bin: &TestBinary, announce: &Path) -> Result<HashMap<String, Announce>> {
    let _ = std::fs::remove_file(announce);
    let out = list_command(bin)
        .env(protocol::ENV_ANNOUNCE, announce)
        .output()
        .with_context(|| format!("could not run {}", bin.path.display()))?;
    let text = std::fs::read_to_string(announce).unwrap_or_default();
    let _ = std::fs::remove_file(announce);
    if !out.status.success() {
        bail!(
            "{} --list with {} set failed ({}):\n{}",
            bin.path.display(),
            protocol::ENV_ANNOUNCE,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Announcements are written as the binary loads: a listing that did not end may have cut
    // them short too.
    let listing = String::from_utf8_lossy(&out.stdout);
    check_list_ended(&listing, parse_terse_list(&listing).len()).with_context(|| {
        format!(
            "{} --list with {} set",
            bin.path.display(),
            protocol::ENV_ANNOUNCE
        )
    })?;
    parse_announced(&text)
}

/// One announce line per detest test; a line that does not parse is an error, not a plain test.
pub fn parse_announced(text: &str) -> Result<HashMap<String, Announce>> {
    let mut out = HashMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let a: Announce = serde_json::from_str(line.trim())
            .with_context(|| format!("announce line {}: `{line}`", i + 1))?;
        out.insert(a.name.clone(), a);
    }
    Ok(out)
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

/// Runs a plain `#[test]` once, as `cargo test` would. `None` if cancelled.
pub fn run_plain(id: &TestId, watchdog: Duration, cancel: &AtomicBool) -> Option<PlainRun> {
    let cmd = WorkerCommand::for_test(id, watchdog);
    let outcome = worker::run_plain(&cmd, &[], cancel);
    if outcome.cancelled {
        return None;
    }
    Some(PlainRun {
        passed: outcome.failure.is_none(),
        reason: outcome.failure.unwrap_or_default(),
        output: outcome.output,
        duration: outcome.duration,
    })
}

/// What the listing says a test is: ignored, a detest test as announced, or plain.
pub fn kind_of(ignored: bool, announce: Option<&Announce>) -> TestKind {
    match announce {
        _ if ignored => TestKind::Ignored,
        Some(a) => TestKind::Detest(a.clone()),
        None => TestKind::Plain(PlainRun::default()),
    }
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
    fn listings_end_with_their_count() {
        let text = "tests::a: test\ntests::b: test\nbench_x: benchmark\n\n2 tests, 1 benchmark\n";
        assert!(check_list_ended(text, 2).is_ok());
        assert!(check_list_ended("1 test, 0 benchmarks\n", 1).is_ok());
        assert!(check_list_ended(text, 1).is_err());
        assert!(check_list_ended("tests::a: test\n", 1).is_err());
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

    #[test]
    fn announce_lines() {
        let line = r#"{"name":"tests::a","seeds":10,"seed_start":0,"policy":"chaos","expect":"pass","expect_message":null,"max_steps":100,"timeout_ms":null,"fixture_file":"/f.toml","fixture_count":0,"fixture_error":null,"package":"p","target":"p","target_kind":"lib"}"#;
        let map = parse_announced(&format!("{line}\n\n")).unwrap();
        assert_eq!(map["tests::a"].seeds, 10);
        assert!(parse_announced("").unwrap().is_empty());
        assert!(parse_announced("{not json").is_err());
        assert!(matches!(
            kind_of(false, map.get("tests::a")),
            TestKind::Detest(_)
        ));
        assert!(matches!(
            kind_of(true, map.get("tests::a")),
            TestKind::Ignored
        ));
        assert!(matches!(kind_of(false, None), TestKind::Plain(_)));
    }
}
