//! Regression fixtures: every failing seed a sweep finds is saved to a TOML file next to the
//! test's package, committed with the code, and replayed before any new seed on later runs.
//!
//! Layout: `<package root>/detest-regressions/<kind>/<target>/<module path>/<test fn>.toml`, one
//! file per test, where `<kind>` is `lib`, `bin` or `test` (an integration test) and `<target>`
//! the cargo target's name, so that a lib and a bin of one package with the same test path keep
//! separate files (see [`fixture_path`]). Files at the place detest used before 0.1
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
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
            schedule: failure.schedule.encode(),
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

    /// Where the entry goes in its file: by policy, then seed, then schedule, so that the file's
    /// order does not depend on the order concurrent workers saved in.
    fn order_key(&self) -> (String, u64, &str) {
        (canonical_policy(&self.policy), self.seed, &self.schedule)
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

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `path` with symbolic links in its last component followed (to where a link points even when
/// nothing is there yet), so that saving through a link writes its target rather than replacing
/// the link with a file.
fn resolve_links(path: &Path) -> PathBuf {
    let mut path = path.to_owned();
    // A loop of links stops here; the write then fails with the system's error.
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => match fs::read_link(&path) {
                Ok(target) => path = parent(&path).join(target),
                Err(_) => break,
            },
            _ => break,
        }
    }
    path
}

/// Replaces `path` by writing a temporary file next to it and renaming it over `path`. Called
/// under the folder's lock, so any temporary file of `path` already there is left by a writer
/// that died (killed, Ctrl-C) and is removed first.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent(path);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("fixture");
    remove_stale_temps(dir, name);
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes `.<name>.<pid>.<n>.tmp` files in `dir`: temporary files of `name` that no writer
/// holds (the caller holds the lock every writer takes).
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(listing) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for item in listing.flatten() {
        let file_name = item.file_name();
        let Some(stem) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let is_ours = stem
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if is_ours && stem.split('.').count() == 2 {
            let _ = fs::remove_file(item.path());
        }
    }
}

/// Where the fixtures of test `name` (its libtest name, `module::path::fn`) of the cargo target
/// `target` of kind `kind` (`lib`, `bin` or `test`) live, under a `detest-regressions` folder
/// `root`: `<root>/<kind>/<target>/<module path>/<fn>.toml`. The kind keeps apart a lib and a
/// bin (or an integration test) of one package that share a name and a test path.
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

// TOML integers are signed 64-bit; larger seeds are written as strings.
fn ser_seed<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
    match i64::try_from(*seed) {
        Ok(v) => s.serialize_i64(v),
        Err(_) => s.serialize_str(&seed.to_string()),
    }
}

fn de_seed<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Int(i64),
        Str(String),
    }
    match Repr::deserialize(d)? {
        Repr::Int(v) => {
            u64::try_from(v).map_err(|_| serde::de::Error::custom("a seed cannot be negative"))
        }
        Repr::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("invalid seed `{s}`"))),
    }
}

fn de_policy<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    crate::Policy::parse(&text).map_err(serde::de::Error::custom)?;
    Ok(text)
}

fn de_kind<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if crate::FailureKind::parse(&text).is_none() && text != "crash" && text != "hang" {
        return Err(serde::de::Error::custom(format!(
            "unknown failure kind `{text}` (expected panic, deadlock, step-limit, timeout, \
             nondeterminism, crash or hang)"
        )));
    }
    Ok(text)
}

fn de_schedule<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if !text.trim().is_empty() {
        crate::Schedule::decode(&text).map_err(serde::de::Error::custom)?;
    }
    Ok(text.trim().to_owned())
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

mod lock {
    //! An exclusive lock shared by every process saving into one folder.

    use std::io;
    use std::path::Path;

    #[cfg(unix)]
    pub(super) struct DirLock {
        // Closing the descriptor releases the lock.
        _dir: std::fs::File,
    }

    #[cfg(unix)]
    impl DirLock {
        pub(super) fn acquire(dir: &Path) -> io::Result<Self> {
            use std::os::unix::io::AsRawFd;
            // Locking the folder itself leaves no lock file behind in version control.
            let file = std::fs::File::open(dir)?;
            loop {
                // SAFETY: flock on a descriptor we own.
                let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
                if rc == 0 {
                    return Ok(DirLock { _dir: file });
                }
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }

    #[cfg(not(unix))]
    pub(super) struct DirLock {
        path: std::path::PathBuf,
    }

    #[cfg(not(unix))]
    impl DirLock {
        pub(super) fn acquire(dir: &Path) -> io::Result<Self> {
            let path = dir.join(".detest-lock");
            let started = std::time::Instant::now();
            loop {
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                {
                    Ok(_) => return Ok(DirLock { path }),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        // A saver that died leaves its lock file: take it over after a while.
                        if started.elapsed() > std::time::Duration::from_secs(30) {
                            let _ = std::fs::remove_file(&path);
                        }
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    #[cfg(not(unix))]
    impl Drop for DirLock {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "detest-fixture-{name}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    const KEEP: RecordOptions = RecordOptions {
        replace: false,
        drop_redundant: false,
    };
    const REPLACE: RecordOptions = RecordOptions {
        replace: true,
        drop_redundant: false,
    };
    const DROP: RecordOptions = RecordOptions {
        replace: false,
        drop_redundant: true,
    };

    fn entry(seed: u64, schedule: &str) -> FixtureEntry {
        FixtureEntry {
            schedule: schedule.to_owned(),
            ..FixtureEntry::for_seed(seed, "pct:3", "panic", "boom\nsecond line")
        }
    }

    fn schedule_for(task: u32) -> String {
        let mut s = crate::Schedule::new();
        s.push_choice(task);
        s.push_random(u64::MAX);
        s.encode()
    }

    #[test]
    fn roundtrips_and_dedupes() {
        let dir = scratch("roundtrip");
        let path = dir.join("a/b.toml");
        let e1 = entry(u64::MAX, &schedule_for(1));
        assert_eq!(
            save_entry(&path, "a::b", &e1).unwrap(),
            Saved::Added { index: 0 }
        );
        // A smaller seed goes first.
        let e2 = entry(3, &schedule_for(2));
        assert_eq!(
            save_entry(&path, "a::b", &e2).unwrap(),
            Saved::Added { index: 0 }
        );
        // The same seed, policy and schedule: the same run.
        let dup = entry(u64::MAX, &schedule_for(1));
        assert_eq!(
            save_entry(&path, "a::b", &dup).unwrap(),
            Saved::AlreadyPresent { index: 1 }
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# detest regression fixtures for `a::b`"));
        assert!(text.contains("Commit this file"));
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries, vec![e2, e1]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn seed_only_entries_dedupe_by_seed() {
        let dir = scratch("seedonly");
        let path = dir.join("t.toml");
        let hang = FixtureEntry::for_seed(5, "chaos", "hang", "watchdog");
        assert!(matches!(
            save_entry(&path, "t", &hang).unwrap(),
            Saved::Added { .. }
        ));
        assert!(matches!(
            save_entry(&path, "t", &hang).unwrap(),
            Saved::AlreadyPresent { .. }
        ));
        let other = FixtureEntry::for_seed(6, "chaos", "hang", "watchdog");
        assert_eq!(
            save_entry(&path, "t", &other).unwrap(),
            Saved::Added { index: 1 }
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_savers_keep_every_entry() {
        let dir = scratch("concurrent");
        let path = dir.join("t.toml");
        let threads: Vec<_> = (0..8u32)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..5u32 {
                        let task = t * 100 + i;
                        save_entry(&path, "t", &entry(u64::from(task), &schedule_for(task)))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries.len(), 40);
        let mut seeds: Vec<u64> = file.entries.iter().map(|e| e.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), 40);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn malformed_file_reports_line_and_is_not_overwritten() {
        let dir = scratch("malformed");
        let path = dir.join("t.toml");
        let text = "# header\n\n[[failure]]\nseed = 1\npolicy = \"chaos\"\nkind = \"panic\"\n\
                    schedule = \"detest1:!!\"\n";
        fs::write(&path, text).unwrap();
        let err = FixtureFile::load(&path).unwrap_err();
        match &err {
            FixtureError::Malformed { line, message, .. } => {
                assert_eq!(*line, 7, "{err}");
                assert!(message.contains("invalid schedule"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("t.toml:7:"), "{err}");
        assert!(save_entry(&path, "t", &entry(1, &schedule_for(1))).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), text);

        fs::write(
            &path,
            "[[failure]]\nseed = 1\npolicy = \"pct:0\"\nkind = \"panic\"\n",
        )
        .unwrap();
        let err = FixtureFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("t.toml:3:") && err.contains("PCT depth"),
            "{err}"
        );
        fs::write(
            &path,
            "[[failure]]\nseed = 1\npolicy = \"chaos\"\nkind = \"oops\"\n",
        )
        .unwrap();
        let err = FixtureFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("t.toml:4:") && err.contains("unknown failure kind"),
            "{err}"
        );
        fs::write(&path, "[[failure]\n").unwrap();
        let err = FixtureFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("t.toml:1:"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keeps_hand_edits_when_appending() {
        let dir = scratch("append");
        let path = dir.join("t.toml");
        fs::write(
            &path,
            "# my note\n[[failure]]\nseed = 4\npolicy = \"rr\"\nkind = \"panic\"",
        )
        .unwrap();
        save_entry(&path, "t", &entry(5, &schedule_for(5))).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my note\n"));
        assert_eq!(FixtureFile::load(&path).unwrap().entries.len(), 2);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn records_a_shrunk_schedule_in_place() {
        let dir = scratch("shrunk");
        let path = dir.join("t.toml");
        let e0 = entry(1, &schedule_for(1));
        let e1 = entry(2, &schedule_for(2));
        save_entry(&path, "t", &e0).unwrap();
        save_entry(&path, "t", &e1).unwrap();
        // A hand-written comment inside the first entry survives.
        let text = fs::read_to_string(&path).unwrap().replacen(
            "[[failure]]\n",
            "[[failure]]\n# keep me\n",
            1,
        );
        fs::write(&path, &text).unwrap();
        let small = ShrunkEntry {
            schedule: schedule_for(7),
            steps: 5,
            preemptions: 1,
        };
        assert_eq!(
            record_shrunk(&path, &e1, &small, KEEP).unwrap(),
            Recorded::Stored { index: 1 }
        );
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries[0], e0);
        assert_eq!(file.entries[1].shrunk_schedule, small.schedule);
        assert_eq!(file.entries[1].shrunk_steps, Some(5));
        assert_eq!(file.entries[1].shrunk_preemptions, Some(1));
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("# keep me\n"), "{text}");
        assert!(
            text.trim_end().ends_with("shrunk_preemptions = 1"),
            "{text}"
        );
        // A bigger one does not replace it unless asked; the same one is kept.
        let big = ShrunkEntry {
            schedule: schedule_for(8),
            steps: 9,
            preemptions: 2,
        };
        assert_eq!(
            record_shrunk(&path, &e1, &big, KEEP).unwrap(),
            Recorded::Kept { index: 1 }
        );
        assert_eq!(
            record_shrunk(&path, &e1, &small, REPLACE).unwrap(),
            Recorded::Kept { index: 1 }
        );
        assert_eq!(
            record_shrunk(&path, &e1, &big, REPLACE).unwrap(),
            Recorded::Stored { index: 1 }
        );
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries.len(), 2);
        assert_eq!(file.entries[1].shrunk_schedule, big.schedule);
        // Saving the shrunk schedule's run again finds the entry; an unknown run is not found.
        let again = entry(2, &big.schedule);
        assert_eq!(
            save_entry(&path, "t", &again).unwrap(),
            Saved::AlreadyPresent { index: 1 }
        );
        assert_eq!(
            record_shrunk(&path, &entry(3, &schedule_for(3)), &small, REPLACE).unwrap(),
            Recorded::NotFound
        );
        // The first entry too, and no temporary file is left.
        record_shrunk(&path, &e0, &small, KEEP).unwrap();
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries[0].shrunk_schedule, small.schedule);
        assert_eq!(file.entries[1].shrunk_schedule, big.schedule);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn distinct_seeds_with_equal_schedules_are_distinct_runs() {
        // `assert!(s != 37 && s != 70)` on `detest::seed()`: both seeds fail under one
        // (round-robin) schedule, and each replays only as itself.
        let dir = scratch("seeds");
        let path = dir.join("t.toml");
        let schedule = schedule_for(1);
        let s37 = entry(37, &schedule);
        let s70 = entry(70, &schedule);
        assert_eq!(
            save_entry(&path, "t", &s70).unwrap(),
            Saved::Added { index: 0 }
        );
        assert_eq!(
            save_entry(&path, "t", &s37).unwrap(),
            Saved::Added { index: 0 }
        );
        // Another policy is another run (a seed fallback runs the policy); another spelling of
        // the same policy is not.
        let other_policy = FixtureEntry {
            policy: "chaos".into(),
            ..s37.clone()
        };
        assert_eq!(
            save_entry(&path, "t", &other_policy).unwrap(),
            Saved::Added { index: 0 }
        );
        let respelled = FixtureEntry {
            policy: "PCT:3".into(),
            ..s37.clone()
        };
        assert_eq!(
            save_entry(&path, "t", &respelled).unwrap(),
            Saved::AlreadyPresent { index: 1 }
        );
        let seeds: Vec<u64> = FixtureFile::load(&path)
            .unwrap()
            .entries
            .iter()
            .map(|e| e.seed)
            .collect();
        assert_eq!(seeds, vec![37, 37, 70]);
        // Saved first at index 0, seed 70 is now at index 2.
        assert_eq!(locate(&path, &s70).unwrap(), Some(2));
        assert_eq!(locate(&path, &entry(71, &schedule)).unwrap(), None);
        // Recording a shrunk schedule finds the entry of that seed, not the other one's.
        let shrunk = ShrunkEntry {
            schedule: schedule_for(2),
            steps: 1,
            preemptions: 0,
        };
        assert_eq!(
            record_shrunk(&path, &s70, &shrunk, KEEP).unwrap(),
            Recorded::Stored { index: 2 }
        );
        assert!(FixtureFile::load(&path).unwrap().entries[1]
            .shrunk_schedule
            .is_empty());
        assert!(!s37.same_run(&FixtureEntry {
            shrunk_schedule: s37.schedule.clone(),
            schedule: schedule_for(5),
            ..s70.clone()
        }));
        fs::remove_dir_all(dir).unwrap();
    }

    /// The same entries, saved by concurrent threads in `orders`, give one file text.
    fn file_after_concurrent_saves(name: &str, orders: &[Vec<u64>]) -> String {
        let dir = scratch(name);
        let path = dir.join("t.toml");
        let threads: Vec<_> = orders
            .iter()
            .cloned()
            .map(|order| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for seed in order {
                        let mut e = entry(seed, &schedule_for(seed as u32));
                        e.found = "2026-01-01T00:00:00Z".into();
                        if seed % 2 == 1 {
                            e.policy = "chaos".into();
                        }
                        save_entry(&path, "t", &e).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = fs::read_to_string(&path).unwrap();
        fs::remove_dir_all(dir).unwrap();
        text
    }

    #[test]
    fn entries_are_in_a_stable_order_whatever_order_they_are_saved_in() {
        let a = file_after_concurrent_saves("order-a", &[vec![5, 1, 9, 3], vec![8, 2, 7]]);
        let b = file_after_concurrent_saves("order-b", &[vec![2, 7, 8], vec![9, 3, 1, 5]]);
        let c = file_after_concurrent_saves("order-c", &[vec![1, 2, 3, 5, 7, 8, 9]]);
        assert_eq!(a, b);
        assert_eq!(a, c);
        let entries = parse(Path::new("t.toml"), &a).unwrap();
        let keys: Vec<(&str, u64)> = entries.iter().map(|e| (&*e.policy, e.seed)).collect();
        assert_eq!(
            keys,
            vec![
                ("chaos", 1),
                ("chaos", 3),
                ("chaos", 5),
                ("chaos", 7),
                ("chaos", 9),
                ("pct:3", 2),
                ("pct:3", 8)
            ]
        );
    }

    #[test]
    fn keeps_a_few_entries_per_distinct_failure() {
        let dir = scratch("cap");
        let path = dir.join("t.toml");
        let shrunk = ShrunkEntry {
            schedule: schedule_for(99),
            steps: 4,
            preemptions: 1,
        };
        let entries: Vec<FixtureEntry> = (0..6u32)
            .map(|i| FixtureEntry {
                location: Some(format!("src/lib.rs:{}:5", if i == 3 { 9 } else { 3 })),
                ..entry(u64::from(i) * 10, &schedule_for(i))
            })
            .collect();
        for e in &entries {
            save_entry(&path, "t", e).unwrap();
        }
        // A committed entry (not added by this run) is never dropped.
        assert_eq!(
            record_shrunk(&path, &entries[5], &shrunk, KEEP).unwrap(),
            Recorded::Stored { index: 5 }
        );
        for (i, e) in entries[..2].iter().enumerate() {
            assert_eq!(
                record_shrunk(&path, e, &shrunk, DROP).unwrap(),
                Recorded::Stored { index: i }
            );
        }
        // Three others record it: the fourth is dropped, and says which ones keep it.
        assert_eq!(
            record_shrunk(&path, &entries[2], &shrunk, DROP).unwrap(),
            Recorded::Dropped {
                others: vec![0, 1, 4]
            }
        );
        // Another location is another failure.
        assert_eq!(
            record_shrunk(&path, &entries[3], &shrunk, DROP).unwrap(),
            Recorded::Stored { index: 2 }
        );
        assert_eq!(
            record_shrunk(&path, &entries[4], &shrunk, DROP).unwrap(),
            Recorded::Dropped {
                others: vec![0, 1, 3]
            }
        );
        let seeds: Vec<u64> = FixtureFile::load(&path)
            .unwrap()
            .entries
            .iter()
            .map(|e| e.seed)
            .collect();
        assert_eq!(seeds, vec![0, 10, 30, 50]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_message_line_starting_with_a_bracket_keeps_the_shrunk_schedule() {
        let dir = scratch("bracket");
        let path = dir.join("t.toml");
        let e0 = FixtureEntry {
            message: "boom\n[left] 1\n[[failure]]\nright: 2".into(),
            ..entry(1, &schedule_for(1))
        };
        let e1 = entry(2, &schedule_for(2));
        save_entry(&path, "t", &e0).unwrap();
        save_entry(&path, "t", &e1).unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("\n[left] 1\n"));
        let shrunk = ShrunkEntry {
            schedule: schedule_for(7),
            steps: 5,
            preemptions: 1,
        };
        assert_eq!(
            record_shrunk(&path, &e0, &shrunk, KEEP).unwrap(),
            Recorded::Stored { index: 0 }
        );
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries[0].message, e0.message);
        assert_eq!(file.entries[0].shrunk_schedule, shrunk.schedule);
        assert_eq!(file.entries[1], e1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn saving_through_a_symlink_writes_its_target() {
        let dir = scratch("symlink");
        let real_dir = dir.join("real");
        let link_dir = dir.join("links");
        fs::create_dir_all(&real_dir).unwrap();
        fs::create_dir_all(&link_dir).unwrap();
        let link = link_dir.join("t.toml");
        // A relative link, to a file not there yet.
        std::os::unix::fs::symlink("../real/t.toml", &link).unwrap();
        let e = entry(1, &schedule_for(1));
        save_entry(&link, "t", &e).unwrap();
        let shrunk = ShrunkEntry {
            schedule: schedule_for(2),
            steps: 1,
            preemptions: 0,
        };
        assert_eq!(
            record_shrunk(&link, &e, &shrunk, KEEP).unwrap(),
            Recorded::Stored { index: 0 }
        );
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let file = FixtureFile::load(&real_dir.join("t.toml")).unwrap();
        assert_eq!(file.entries[0].shrunk_schedule, shrunk.schedule);
        // Nothing but the link in its folder; nothing but the file in the target's.
        assert_eq!(fs::read_dir(&link_dir).unwrap().count(), 1);
        assert_eq!(fs::read_dir(&real_dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_temporary_file_left_by_a_killed_writer_is_removed() {
        let dir = scratch("stale");
        let path = dir.join("t.toml");
        // What a writer killed between creating and renaming its temporary file leaves.
        fs::write(dir.join(".t.toml.4242.0.tmp"), "half").unwrap();
        // Not a temporary file of this fixture: kept.
        fs::write(dir.join(".u.toml.4242.0.tmp"), "other").unwrap();
        fs::write(dir.join(".t.toml.notes.tmp"), "mine").unwrap();
        save_entry(&path, "t", &entry(1, &schedule_for(1))).unwrap();
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".t.toml.notes.tmp", ".u.toml.4242.0.tmp", "t.toml"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn paths_mirror_modules() {
        let p = fixture_path(Path::new("/r"), "test", "races", "net::tcp::lost_update");
        assert_eq!(p, Path::new("/r/test/races/net/tcp/lost_update.toml"));
        assert_eq!(
            fixture_path(Path::new("/r"), "lib", "x", "t"),
            Path::new("/r/lib/x/t.toml")
        );
        assert_ne!(
            fixture_path(Path::new("/r"), "lib", "x", "t"),
            fixture_path(Path::new("/r"), "bin", "x", "t")
        );
        assert_eq!(
            legacy_fixture_path(Path::new("/r"), "races", "net::lost_update"),
            Some(PathBuf::from("/r/races/net/lost_update.toml"))
        );
        assert_eq!(legacy_fixture_path(Path::new("/r"), "test", "t"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert!(now_rfc3339().ends_with('Z'));
    }
}
