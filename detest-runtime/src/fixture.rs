//! Regression fixtures: every failing seed a sweep finds is saved to a TOML file next to the
//! test's package, committed with the code, and replayed before any new seed on later runs.
//!
//! Layout: `<package root>/detest-regressions/<target>/<module path>/<test fn>.toml`, one file per
//! test, where `<target>` is the lib's or the integration test's crate name. Each failing seed is
//! one `[[failure]]` table:
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
//! schedule, then the seed. Writers append under a lock on the directory and replace the file by rename,
//! so concurrent workers never lose or corrupt an entry, and a reader never sees half a file.

use crate::report::Failure;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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

    /// Whether `other` records the same failing run: the same schedule, or for seed-only
    /// entries the same seed, policy and kind.
    pub fn same_run(&self, other: &FixtureEntry) -> bool {
        if self.schedule.is_empty() || other.schedule.is_empty() {
            self.schedule.is_empty()
                && other.schedule.is_empty()
                && self.seed == other.seed
                && self.policy == other.policy
                && self.kind == other.kind
        } else {
            let shrunk = |a: &FixtureEntry, b: &FixtureEntry| {
                !a.shrunk_schedule.is_empty() && a.shrunk_schedule == b.schedule
            };
            self.schedule == other.schedule || shrunk(self, other) || shrunk(other, self)
        }
    }
}

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
    /// Appended as entry `index` (0-based).
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

/// Appends `entry` to the fixture file at `path` (creating it and its folders, with a header
/// naming `test`), unless an entry for the same run is already there. Safe against concurrent
/// savers in any number of processes; a malformed existing file is left untouched and reported.
pub fn save_entry(path: &Path, test: &str, entry: &FixtureEntry) -> Result<Saved, FixtureError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
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
    // Appending text (rather than re-serialising the file) keeps comments and hand edits.
    let mut text = existing.unwrap_or_else(|| header(test));
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&entry_toml(entry)?);
    // Never write a file we could not read back.
    parse(path, &text)?;
    write_atomic(path, text.as_bytes()).map_err(|e| FixtureError::io(path, e))?;
    Ok(Saved::Added {
        index: entries.len(),
    })
}

/// What [`record_shrunk`] stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShrunkEntry {
    /// `detest1:...`
    pub schedule: String,
    pub steps: u64,
    pub preemptions: u32,
}

/// What [`record_shrunk`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored in entry `index`.
    Stored { index: usize },
    /// Entry `index` already had a shrunk schedule at least as small (and `replace` was false),
    /// or exactly this one.
    Kept { index: usize },
    /// No entry records the run of `entry` (the file was edited meanwhile).
    NotFound,
}

/// Stores a shrunk schedule in the saved entry for the same run as `entry` (see
/// [`FixtureEntry::same_run`]), under the same lock as [`save_entry`] and by atomic rename. Only
/// that entry's `shrunk_*` lines change; comments and hand edits elsewhere are kept. An existing
/// shrunk schedule is replaced when `replace` is set or the new one has fewer preemptions (then
/// fewer steps).
pub fn record_shrunk(
    path: &Path,
    entry: &FixtureEntry,
    shrunk: &ShrunkEntry,
    replace: bool,
) -> Result<Recorded, FixtureError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
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
    if old.shrunk_schedule == shrunk.schedule {
        return Ok(Recorded::Kept { index });
    }
    if !replace && !old.shrunk_schedule.is_empty() {
        let key = |p: Option<u32>, s: Option<u64>| (p.unwrap_or(u32::MAX), s.unwrap_or(u64::MAX));
        if key(old.shrunk_preemptions, old.shrunk_steps)
            <= key(Some(shrunk.preemptions), Some(shrunk.steps))
        {
            return Ok(Recorded::Kept { index });
        }
    }
    let mut expected = entries.clone();
    expected[index].shrunk_schedule = shrunk.schedule.clone();
    expected[index].shrunk_steps = Some(shrunk.steps);
    expected[index].shrunk_preemptions = Some(shrunk.preemptions);
    let new_text = with_shrunk_lines(&text, index, shrunk)?;
    // Never write a file that does not read back as exactly the intended entries.
    if parse(path, &new_text)? != expected {
        return Err(FixtureError::Serialize(format!(
            "could not add the shrunk schedule to entry {index} of {} without changing other \
             entries (is it hand-edited in an unusual way?)",
            path.display()
        )));
    }
    write_atomic(path, new_text.as_bytes()).map_err(|e| FixtureError::io(path, e))?;
    Ok(Recorded::Stored { index })
}

/// `text` with the `shrunk_*` keys of the `index`th `[[failure]]` table replaced.
fn with_shrunk_lines(
    text: &str,
    index: usize,
    shrunk: &ShrunkEntry,
) -> Result<String, FixtureError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_header = |l: &str| {
        let t = l.trim();
        t.starts_with('[')
    };
    let is_failure_header = |l: &str| {
        let t = l.trim();
        let t = t.split('#').next().unwrap_or("").trim();
        t.strip_prefix("[[")
            .and_then(|t| t.strip_suffix("]]"))
            .is_some_and(|name| name.trim() == "failure")
    };
    let start = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_failure_header(l))
        .nth(index)
        .map(|(i, _)| i)
        .ok_or_else(|| FixtureError::Serialize(format!("no entry {index} in the fixture text")))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| is_header(l))
        .map_or(lines.len(), |p| start + 1 + p);
    let is_shrunk_key = |l: &str| {
        let t = l.trim_start();
        ["shrunk_schedule", "shrunk_steps", "shrunk_preemptions"]
            .iter()
            .any(|k| {
                t.strip_prefix(k)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            })
    };
    let body: Vec<&str> = lines[start + 1..end]
        .iter()
        .copied()
        .filter(|l| !is_shrunk_key(l))
        .collect();
    // After the table's last key, before trailing blank lines and comments.
    let insert_at = body
        .iter()
        .rposition(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map_or(0, |p| p + 1);
    let mut out = String::with_capacity(text.len() + 128);
    for l in &lines[..=start] {
        out.push_str(l);
    }
    for (i, l) in body.iter().enumerate() {
        if i == insert_at {
            push_shrunk(&mut out, shrunk);
        }
        out.push_str(l);
        if !l.ends_with('\n') {
            out.push('\n');
        }
    }
    if insert_at >= body.len() {
        push_shrunk(&mut out, shrunk);
    }
    for l in &lines[end..] {
        out.push_str(l);
    }
    Ok(out)
}

fn push_shrunk(out: &mut String, shrunk: &ShrunkEntry) {
    use std::fmt::Write as _;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "shrunk_schedule = {}",
        toml::Value::String(shrunk.schedule.clone())
    );
    let _ = writeln!(out, "shrunk_steps = {}", shrunk.steps);
    let _ = writeln!(out, "shrunk_preemptions = {}", shrunk.preemptions);
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

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("fixture");
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

/// Where the fixtures of test `name` (its libtest name, `module::path::fn`) of target `target`
/// live, under a `detest-regressions` folder `root`.
pub fn fixture_path(root: &Path, target: &str, name: &str) -> PathBuf {
    let mut path = root.join(sanitize(target));
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
        let e2 = entry(3, &schedule_for(2));
        assert_eq!(
            save_entry(&path, "a::b", &e2).unwrap(),
            Saved::Added { index: 1 }
        );
        // Same schedule, other seed: the same run.
        let dup = entry(9, &schedule_for(1));
        assert_eq!(
            save_entry(&path, "a::b", &dup).unwrap(),
            Saved::AlreadyPresent { index: 0 }
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# detest regression fixtures for `a::b`"));
        assert!(text.contains("Commit this file"));
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries, vec![e1, e2]);
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
            record_shrunk(&path, &e1, &small, false).unwrap(),
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
            record_shrunk(&path, &e1, &big, false).unwrap(),
            Recorded::Kept { index: 1 }
        );
        assert_eq!(
            record_shrunk(&path, &e1, &small, true).unwrap(),
            Recorded::Kept { index: 1 }
        );
        assert_eq!(
            record_shrunk(&path, &e1, &big, true).unwrap(),
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
            record_shrunk(&path, &entry(3, &schedule_for(3)), &small, true).unwrap(),
            Recorded::NotFound
        );
        // The first entry too, and no temporary file is left.
        record_shrunk(&path, &e0, &small, false).unwrap();
        let file = FixtureFile::load(&path).unwrap();
        assert_eq!(file.entries[0].shrunk_schedule, small.schedule);
        assert_eq!(file.entries[1].shrunk_schedule, big.schedule);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn paths_mirror_modules() {
        let p = fixture_path(Path::new("/r"), "races", "net::tcp::lost_update");
        assert_eq!(p, Path::new("/r/races/net/tcp/lost_update.toml"));
        assert_eq!(
            fixture_path(Path::new("/r"), "lib", "t"),
            Path::new("/r/lib/t.toml")
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert!(now_rfc3339().ends_with('Z'));
    }
}
