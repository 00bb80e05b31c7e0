//! Regression fixtures: every failing seed a sweep finds is saved to a TOML file next to the
//! test's package, committed with the code, and replayed before any new seed on later runs.
//!
//! Layout: `<package root>/detest-regressions/<kind>/<target>/<module path>/<test fn>.toml`, one
//! file per test, where `<kind>` is `lib`, `bin`, `test` (an integration test), `example` or
//! `bench` and `<target>` the cargo target's name, so that a lib, a bin and an example of one
//! package with the same test path keep separate files (see [`fixture_path`]). Files at the place detest used before 0.1
//! (`detest-regressions/<target>/...`, without the kind) are not read; plain `cargo test` warns
//! about one it finds, naming where to move it. Each failing seed is one `[[failure]]` table:
//!
//! ```toml
//! [[failure]]
//! seed = 17
//! policy = "chaos"
//! kind = "panic"
//! message = "assertion `left == right` failed"
//! location = "tests/counter.rs:21:5"
//! task = "task 0 (main)"
//! schedule = "detest1:AAIGBAE"
//! shrunk_schedule = "detest1:AAIE"
//! shrunk_steps = 9
//! shrunk_preemptions = 1
//! found = "2026-05-01T10:11:12Z"
//! detest_version = "0.1.0"
//! rustc = "1.95.0 (59807616e 2026-04-14)"
//! target = "x86_64-unknown-linux-gnu"
//! ```
//!
//! `kind` is a [`FailureKind`](crate::FailureKind) name, or `crash` / `hang` for seeds that
//! killed or stalled a worker process (saved by `cargo detest`, with an empty schedule: they
//! replay by seed). `shrunk_*` are added after the entry is saved, when detest has shrunk the
//! failure (see [`record_shrunk`]); replays try the shrunk schedule first, then the original
//! schedule, then the seed.
//!
//! Writers edit the file's text under a lock on its folder and replace the file by rename, so
//! concurrent workers never lose or corrupt an entry, a reader never sees half a file, and
//! comments and hand edits stay. Entries are kept sorted by policy, then seed, whatever order
//! they were found in; [`FixtureEntry::same_run`] decides what is already saved. A failing seed
//! is saved before it is shrunk (so it is never lost); once shrunk, an entry that this run added
//! is removed again when [`ENTRIES_PER_FAILURE`] others already record the same failure (kind,
//! location and shrunk schedule), so one bug leaves a few entries rather than one per seed, and
//! a rerun that finds the same bug again leaves the file as it was.

use crate::report::Failure;
use disk::{lock, parent, resolve_links, write_atomic};
use fields::{de_kind, de_policy, de_schedule, de_seed, now_rfc3339, ser_seed};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod disk;
mod fields;
mod text;

/// The folder, under the package root, that holds the fixtures.
pub const DIR_NAME: &str = "detest-regressions";

/// One saved failing seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixtureEntry {
    #[serde(serialize_with = "ser_seed", deserialize_with = "de_seed")]
    pub seed: u64,
    /// In the form `DETEST_POLICY` accepts.
    #[serde(deserialize_with = "de_policy")]
    pub policy: String,
    /// A failure kind (`panic`, `deadlock`, ...) or `crash` / `hang`.
    #[serde(deserialize_with = "de_kind")]
    pub kind: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// `detest1:...`, or empty when only the seed is known.
    #[serde(default, deserialize_with = "de_schedule")]
    pub schedule: String,
    /// A shorter schedule with the same failure (same kind and location), found by shrinking
    /// after the entry was saved; empty when it was not shrunk.
    #[serde(
        default,
        deserialize_with = "de_schedule",
        skip_serializing_if = "String::is_empty"
    )]
    pub shrunk_schedule: String,
    /// Steps of the shrunk schedule's execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk_steps: Option<u64>,
    /// Preemptions of the shrunk schedule's execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrunk_preemptions: Option<u32>,
    /// When it was found (UTC, RFC 3339).
    #[serde(default)]
    pub found: String,
    #[serde(default)]
    pub detest_version: String,
    /// The compiler of the build that found it.
    #[serde(default)]
    pub rustc: String,
    /// The target triple of the build that found it.
    #[serde(default)]
    pub target: String,
}

impl FixtureEntry {
    /// An entry for a seed known only by number (a crash or hang of a worker): it replays by seed.
    pub fn for_seed(seed: u64, policy: &str, kind: &str, message: &str) -> Self {
        FixtureEntry {
            seed,
            policy: policy.to_owned(),
            kind: kind.to_owned(),
            message: message.to_owned(),
            location: None,
            task: None,
            schedule: String::new(),
            shrunk_schedule: String::new(),
            shrunk_steps: None,
            shrunk_preemptions: None,
            found: now_rfc3339(),
            detest_version: env!("CARGO_PKG_VERSION").to_owned(),
            rustc: env!("DETEST_BUILD_RUSTC").to_owned(),
            target: env!("DETEST_BUILD_TARGET").to_owned(),
        }
    }

    /// The entry for a failing execution.
    pub fn from_failure(failure: &Failure) -> Self {
        FixtureEntry {
            location: failure.location.clone(),
            task: failure.task.as_ref().map(|t| t.to_string()),
            // A schedule too long to pass as an argument is not stored: the entry replays by
            // seed, which is the same execution (and keeps a megabyte string out of git).
            schedule: Some(failure.schedule.encode())
                .filter(|s| crate::schedule_fits(s))
                .unwrap_or_default(),
            ..Self::for_seed(
                failure.seed,
                &failure.policy,
                failure.kind.as_str(),
                &failure.message,
            )
        }
    }

    /// Whether `other` records the same failing run, that is, whether replaying one of them (see
    /// the runner's `replay_entry`) is replaying the other: the same seed (which
    /// `detest::seed()` and every random value derive from) and policy (which a seed fallback
    /// runs), and the same schedule, or one's shrunk schedule is the other's schedule. Entries
    /// without a schedule replay by seed and policy alone. The kind and message are what the
    /// run showed, not what it is, so they do not count.
    pub fn same_run(&self, other: &FixtureEntry) -> bool {
        let shrunk = |a: &FixtureEntry, b: &FixtureEntry| {
            !a.shrunk_schedule.is_empty() && a.shrunk_schedule == b.schedule
        };
        self.seed == other.seed
            && same_policy(&self.policy, &other.policy)
            && (self.schedule == other.schedule || shrunk(self, other) || shrunk(other, self))
    }

    /// Whether `other` records the same distinct failure as this entry: the same kind and
    /// location, shrunk to the same schedule. Unshrunk entries are distinct from every other.
    pub fn same_failure(&self, other: &FixtureEntry) -> bool {
        !self.shrunk_schedule.is_empty()
            && self.shrunk_schedule == other.shrunk_schedule
            && self.kind == other.kind
            && self.location == other.location
    }

    /// Where the entry goes in its file: by policy, then seed, so that the file's order does not
    /// depend on the order concurrent workers saved in. Entries of one seed and policy (a seed
    /// rerun after the code changed gives a new schedule) stay in the order they were found.
    fn order_key(&self) -> (String, u64) {
        (canonical_policy(&self.policy), self.seed)
    }
}

/// The policy as `Policy` prints it (`pct3` and `pct:3` are one policy), or as written when it
/// does not parse.
fn canonical_policy(policy: &str) -> String {
    crate::Policy::parse(policy).map_or_else(|_| policy.to_owned(), |p| p.to_string())
}

fn same_policy(a: &str, b: &str) -> bool {
    a == b || canonical_policy(a) == canonical_policy(b)
}

/// How many entries [`record_shrunk`] keeps per distinct failure (see
/// [`FixtureEntry::same_failure`]): enough to show that a bug has several seeds, few enough that
/// one bug does not fill the file.
pub const ENTRIES_PER_FAILURE: usize = 3;

/// The parsed fixture file of one test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixtureFile {
    pub path: PathBuf,
    pub entries: Vec<FixtureEntry>,
}

#[derive(Serialize, Deserialize)]
struct FileRepr {
    #[serde(default)]
    failure: Vec<FixtureEntry>,
}

impl FixtureFile {
    /// Reads a fixture file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<FixtureFile, FixtureError> {
        let entries = match fs::read_to_string(path) {
            Ok(text) => parse(path, &text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(FixtureError::io(path, e)),
        };
        Ok(FixtureFile {
            path: path.to_owned(),
            entries,
        })
    }
}

/// Parses fixture text; errors carry the line and column.
pub fn parse(path: &Path, text: &str) -> Result<Vec<FixtureEntry>, FixtureError> {
    match toml::from_str::<FileRepr>(text) {
        Ok(repr) => Ok(repr.failure),
        Err(e) => {
            let (line, column) = e
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or((1, 1));
            Err(FixtureError::Malformed {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            })
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// What [`save_entry`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Inserted as entry `index` (0-based) at the time of saving; a later save of an entry that
    /// sorts before it moves it down.
    Added { index: usize },
    /// An entry for the same run was already there, at `index`.
    AlreadyPresent { index: usize },
}

impl Saved {
    pub fn index(self) -> usize {
        match self {
            Saved::Added { index } | Saved::AlreadyPresent { index } => index,
        }
    }
}

/// Adds `entry` to the fixture file at `path` (creating it and its folders, with a header
/// naming `test`), unless an entry for the same run is already there. Entries are kept in order
/// of policy, then seed (the new one goes before the first entry that sorts after it), so that
/// the file does not depend on the order in which concurrent workers saved. Safe against
/// concurrent savers in any number of processes; a malformed existing file is left untouched and
/// reported. A symbolic link at `path` is written through: its target is replaced.
pub fn save_entry(path: &Path, test: &str, entry: &FixtureEntry) -> Result<Saved, FixtureError> {
    let path = &resolve_links(path);
    let dir = parent(path);
    fs::create_dir_all(dir).map_err(|e| FixtureError::io(dir, e))?;
    let _lock = lock::DirLock::acquire(dir).map_err(|e| FixtureError::io(dir, e))?;

    let existing = match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(FixtureError::io(path, e)),
    };
    let entries = match &existing {
        Some(text) => parse(path, text)?,
        None => Vec::new(),
    };
    if let Some(index) = entries.iter().position(|e| e.same_run(entry)) {
        return Ok(Saved::AlreadyPresent { index });
    }
    // Editing the text (rather than re-serialising the file) keeps comments and hand edits.
    let text = existing.unwrap_or_else(|| header(test));
    let segments = text::segments(&text).map_err(FixtureError::Serialize)?;
    let index = entries
        .iter()
        .position(|e| e.order_key() > entry.order_key())
        .unwrap_or(entries.len());
    let new_text = text::insert(&text, &segments, index, &entry_toml(entry)?);
    let mut expected = entries;
    expected.insert(index, entry.clone());
    check_readback(path, &new_text, &expected, "add an entry")?;
    write_atomic(path, new_text.as_bytes()).map_err(|e| FixtureError::io(path, e))?;
    Ok(Saved::Added { index })
}

/// Where the entry for the same run as `entry` is now in the file at `path` (see
/// [`FixtureEntry::same_run`]), or `None` when there is none. Entries are kept sorted, so a
/// save by another process may have moved an entry since [`save_entry`] gave its index: a
/// report written after others may have saved looks it up again here.
pub fn locate(path: &Path, entry: &FixtureEntry) -> Result<Option<usize>, FixtureError> {
    Ok(FixtureFile::load(path)?
        .entries
        .iter()
        .position(|e| e.same_run(entry)))
}

/// Never write a file that does not read back as exactly the intended entries.
fn check_readback(
    path: &Path,
    text: &str,
    expected: &[FixtureEntry],
    what: &str,
) -> Result<(), FixtureError> {
    if parse(path, text)? != expected {
        return Err(FixtureError::Serialize(format!(
            "could not {what} in {} without changing other entries (is it hand-edited in an \
             unusual way?)",
            path.display()
        )));
    }
    Ok(())
}

/// What [`record_shrunk`] stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShrunkEntry {
    /// `detest1:...`
    pub schedule: String,
    pub steps: u64,
    pub preemptions: u32,
}

/// How [`record_shrunk`] treats what is already there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordOptions {
    /// Replace an existing shrunk schedule even when it is at least as small.
    pub replace: bool,
    /// Remove the entry when [`ENTRIES_PER_FAILURE`] other entries already record the same
    /// failure (for an entry this run has just added; committed entries are never removed).
    pub drop_redundant: bool,
}

/// What [`record_shrunk`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored in entry `index`.
    Stored { index: usize },
    /// Entry `index` already had a shrunk schedule at least as small (and `replace` was false),
    /// or exactly this one.
    Kept { index: usize },
    /// The entry was removed: the entries at `others` (indices after the removal) record the
    /// same failure, shrunk to the same schedule.
    Dropped { others: Vec<usize> },
    /// No entry records the run of `entry` (the file was edited meanwhile).
    NotFound,
}

/// Stores a shrunk schedule in the saved entry for the same run as `entry` (see
/// [`FixtureEntry::same_run`]), under the same lock as [`save_entry`] and by atomic rename. Only
/// that entry's `shrunk_*` lines change; comments and hand edits elsewhere are kept. An existing
/// shrunk schedule is replaced when `opts.replace` is set or the new one has fewer preemptions
/// (then fewer steps). With `opts.drop_redundant`, the entry is removed instead when
/// [`ENTRIES_PER_FAILURE`] other entries already record its failure.
pub fn record_shrunk(
    path: &Path,
    entry: &FixtureEntry,
    shrunk: &ShrunkEntry,
    opts: RecordOptions,
) -> Result<Recorded, FixtureError> {
    let path = &resolve_links(path);
    let dir = parent(path);
    let _lock = lock::DirLock::acquire(dir).map_err(|e| FixtureError::io(dir, e))?;
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recorded::NotFound),
        Err(e) => return Err(FixtureError::io(path, e)),
    };
    let entries = parse(path, &text)?;
    let Some(index) = entries.iter().position(|e| e.same_run(entry)) else {
        return Ok(Recorded::NotFound);
    };
    let old = &entries[index];
    let keep_old = old.shrunk_schedule == shrunk.schedule
        || (!opts.replace && !old.shrunk_schedule.is_empty() && {
            let key =
                |p: Option<u32>, s: Option<u64>| (p.unwrap_or(u32::MAX), s.unwrap_or(u64::MAX));
            key(old.shrunk_preemptions, old.shrunk_steps)
                <= key(Some(shrunk.preemptions), Some(shrunk.steps))
        });
    let mut expected = entries.clone();
    if !keep_old {
        expected[index].shrunk_schedule = shrunk.schedule.clone();
        expected[index].shrunk_steps = Some(shrunk.steps);
        expected[index].shrunk_preemptions = Some(shrunk.preemptions);
    }
    let segments = text::segments(&text).map_err(FixtureError::Serialize)?;
    let seg = segments.get(index).ok_or_else(|| {
        FixtureError::Serialize(format!(
            "no entry {index} in the text of {}",
            path.display()
        ))
    })?;
    let me = &expected[index];
    let others: Vec<usize> = (0..expected.len())
        .filter(|&i| i != index && expected[i].same_failure(me))
        .collect();
    if opts.drop_redundant && others.len() >= ENTRIES_PER_FAILURE {
        let new_text = text::remove(&text, seg);
        expected.remove(index);
        check_readback(path, &new_text, &expected, "remove an entry")?;
        write_atomic(path, new_text.as_bytes()).map_err(|e| FixtureError::io(path, e))?;
        let others = others
            .into_iter()
            .map(|i| if i > index { i - 1 } else { i })
            .collect();
        return Ok(Recorded::Dropped { others });
    }
    if keep_old {
        return Ok(Recorded::Kept { index });
    }
    let new_text = text::replace_shrunk(&text, seg, &shrunk_lines(shrunk));
    check_readback(
        path,
        &new_text,
        &expected,
        &format!("add the shrunk schedule to entry {index}"),
    )?;
    write_atomic(path, new_text.as_bytes()).map_err(|e| FixtureError::io(path, e))?;
    Ok(Recorded::Stored { index })
}

fn shrunk_lines(shrunk: &ShrunkEntry) -> String {
    format!(
        "shrunk_schedule = {}\nshrunk_steps = {}\nshrunk_preemptions = {}\n",
        toml::Value::String(shrunk.schedule.clone()),
        shrunk.steps,
        shrunk.preemptions
    )
}

fn header(test: &str) -> String {
    format!(
        "# detest regression fixtures for `{test}`.\n\
         # Each [[failure]] is a failing seed that detest found; it is replayed (by schedule, or by\n\
         # seed if the code changed) before any new seed on every run. Commit this file. An entry\n\
         # whose bug is fixed passes and stays as a regression test; delete it to forget it.\n"
    )
}

fn entry_toml(entry: &FixtureEntry) -> Result<String, FixtureError> {
    toml::to_string(&FileRepr {
        failure: vec![entry.clone()],
    })
    .map_err(|e| FixtureError::Serialize(e.to_string()))
}

/// Where the fixtures of test `name` (its libtest name, `module::path::fn`) of the cargo target
/// `target` of kind `kind` (`lib`, `bin`, `test`, `example` or `bench`) live, under a `detest-regressions` folder
/// `root`: `<root>/<kind>/<target>/<module path>/<fn>.toml`. The kind keeps apart a lib, a bin
/// and an example (or an integration test and a bench) of one package that share a name and a
/// test path.
///
/// ```
/// use detest::fixture::fixture_path;
/// use std::path::Path;
///
/// let path = fixture_path(Path::new("regs"), "bin", "coll", "tests::counter");
/// assert_eq!(path, Path::new("regs/bin/coll/tests/counter.toml"));
/// ```
pub fn fixture_path(root: &Path, kind: &str, target: &str, name: &str) -> PathBuf {
    test_path(root.join(sanitize(kind)).join(sanitize(target)), name)
}

/// Where detest before 0.1 kept the fixtures of that test: `<root>/<target>/<module path>/<fn>.toml`,
/// without the kind (so a lib and a bin of one name shared a file). Nothing reads or writes
/// there; the runner warns about a file it finds there (see [`fixture_path`]). `None` when the
/// target is named like a kind folder, whose files belong to the current layout.
pub fn legacy_fixture_path(root: &Path, target: &str, name: &str) -> Option<PathBuf> {
    let target = sanitize(target);
    (!["lib", "bin", "test"].contains(&target.as_str())).then(|| test_path(root.join(target), name))
}

fn test_path(mut path: PathBuf, name: &str) -> PathBuf {
    let segments: Vec<&str> = name.split("::").collect();
    for (i, segment) in segments.iter().enumerate() {
        if i + 1 == segments.len() {
            path.push(format!("{}.toml", sanitize(segment)));
        } else {
            path.push(sanitize(segment));
        }
    }
    path
}

fn sanitize(segment: &str) -> String {
    let s: String = segment
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "_".into()
    } else {
        s
    }
}

/// Why a fixture file could not be read or written.
#[derive(Debug)]
pub enum FixtureError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    /// The file is not a valid fixture file: `path:line:column: message`.
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    Serialize(String),
}

impl FixtureError {
    fn io(path: &Path, source: io::Error) -> Self {
        FixtureError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixtureError::Io { path, source } => {
                write!(f, "{}: {source}", path.display())
            }
            FixtureError::Malformed {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "{}:{line}:{column}: malformed detest fixture file: {message}\n\
                 (fix or delete the file; detest does not overwrite it)",
                path.display()
            ),
            FixtureError::Serialize(msg) => write!(f, "cannot serialise a fixture entry: {msg}"),
        }
    }
}

impl std::error::Error for FixtureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FixtureError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
