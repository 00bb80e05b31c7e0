//! What earlier sweeps did, remembered under `target/`: which tests passed with exactly this
//! binary, seeds, policy and options (so a rerun skips them, as a build cache skips what cannot
//! have changed), and where each test's exploration stopped (so `--explore` draws new seeds).
//!
//! ```text
//! target/detest/sweeps/races-1a2b3c4d5e6f7a8b.json   one file per test binary (cargo's file name)
//! target/detest/sweeps/races-1a2b3c4d5e6f7a8b.lock   flock'ed around every read-modify-write
//! target/detest/sweeps/races-1a2b3c4d5e6f7a8b.stamp  the binary's content hash, per build
//! ```
//!
//! Several `cargo detest` processes may share a target dir: every change is a read-modify-write
//! under an exclusive `flock` of the binary's lock file, written to a temporary file and renamed
//! over the old one, so a reader never sees half a file and no process loses another's records.
//! An unreadable or foreign file is an empty cache (everything reruns), never an error.

use crate::model::TestBinary;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Puts the cache somewhere else than `target/detest/sweeps` (tests give each run its own).
pub const ENV_CACHE_DIR: &str = "DETEST_CACHE_DIR";

/// Bumped when a record's meaning changes: records of another format are ignored.
const FORMAT: u32 = 1;

/// Records kept per binary file: enough for every test under a few option sets, small enough
/// that the file stays a few hundred kilobytes at most.
const MAX_RECORDS: usize = 2048;

/// One test's pass, found again by `key` (a hash of everything that decides what runs).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Passed {
    pub test: String,
    pub key: String,
    /// When it passed, in seconds since the Unix epoch.
    pub at: u64,
    /// Executions that passed then (seeds, fixed executions, replayed fixtures).
    pub executions: u64,
    pub policy: String,
    pub range: String,
}

/// How far one test's exploration has gone under one scope (binary content, policy, options).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Explored {
    pub test: String,
    pub scope: String,
    /// The first seed the next exploration draws.
    pub next: u64,
    /// Seeds explored in total, over every exploration so far.
    pub explored: u64,
    pub at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    format: u32,
    #[serde(default)]
    passed: Vec<Passed>,
    #[serde(default)]
    explored: Vec<Explored>,
}

/// Where a test's records live and what they are keyed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestKey {
    pub file: PathBuf,
    pub test: String,
    /// Everything that decides what a sweep of this test runs.
    pub key: String,
    /// The same without the seed range: an exploration continues across ranges.
    pub scope: String,
}

/// The cache of one `cargo detest` run: the binaries' content hashes, computed once each.
#[derive(Debug, Default)]
pub struct Cache {
    dir: Option<PathBuf>,
    hashes: Mutex<HashMap<PathBuf, Option<String>>>,
}

impl Cache {
    /// `dir` overrides `target/detest/sweeps` (from [`ENV_CACHE_DIR`]).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Cache {
            dir,
            hashes: Mutex::default(),
        }
    }

    /// From the environment: [`ENV_CACHE_DIR`] when set.
    pub fn from_env() -> Self {
        Cache::new(std::env::var_os(ENV_CACHE_DIR).map(PathBuf::from))
    }

    /// The store file of `bin`: next to cargo's own output (`<target>/<profile>/deps/x-HASH` →
    /// `<target>/detest/sweeps/x-HASH.json`), one per binary so unrelated binaries never wait
    /// for each other's lock.
    fn file_of(&self, bin: &TestBinary) -> Option<PathBuf> {
        self.file_of_path(&bin.path)
    }

    /// The test's key: `None` when the binary cannot be read (then nothing is cached).
    /// `parts` name everything besides the binary and the test that decides what runs; the
    /// first `range_parts` of them are the seed range, left out of the exploration scope.
    pub fn key(
        &self,
        bin: &TestBinary,
        test: &str,
        range_parts: &[(&str, String)],
        parts: &[(&str, String)],
    ) -> Option<TestKey> {
        let file = self.file_of(bin)?;
        let binary = self.binary_hash(&bin.path)?;
        let mut scope = vec![
            ("format", FORMAT.to_string()),
            ("cargo-detest", env!("CARGO_PKG_VERSION").to_string()),
            ("binary", binary),
            ("test", test.to_string()),
        ];
        scope.extend(parts.iter().map(|(k, v)| (*k, v.clone())));
        let mut full = scope.clone();
        full.extend(range_parts.iter().map(|(k, v)| (*k, v.clone())));
        Some(TestKey {
            file,
            test: test.to_string(),
            key: hash_parts(&full),
            scope: hash_parts(&scope),
        })
    }

    /// The content hash of a binary (a rebuild that changes nothing keeps it; any code change
    /// changes it), read once per run.
    fn binary_hash(&self, path: &Path) -> Option<String> {
        let mut memo = self.hashes.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = self.file_of_path(path).map(|f| f.with_extension("stamp"));
        memo.entry(path.to_owned())
            .or_insert_with(|| stamped_hash(path, stamp.as_deref()))
            .clone()
    }

    fn file_of_path(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let dir = match &self.dir {
            Some(d) => d.clone(),
            None => path.parent()?.parent()?.parent()?.join("detest/sweeps"),
        };
        Some(dir.join(format!("{name}.json")))
    }

    /// The pass recorded under `key`, if any.
    pub fn passed(&self, key: &TestKey) -> Option<Passed> {
        load(&key.file)
            .passed
            .into_iter()
            .filter(|p| p.key == key.key && p.test == key.test)
            .max_by_key(|p| p.at)
    }

    /// Records passes (each test's key and what passed); never fails the sweep, but says why
    /// nothing was recorded.
    pub fn record_passes(&self, passes: Vec<(TestKey, Passed)>) -> Result<(), String> {
        let mut by_file: HashMap<PathBuf, Vec<Passed>> = HashMap::new();
        for (key, p) in passes {
            by_file.entry(key.file).or_default().push(p);
        }
        for (file, new) in by_file {
            update(&file, |store| {
                store
                    .passed
                    .retain(|old| !new.iter().any(|n| n.key == old.key && n.test == old.test));
                store.passed.extend(new);
            })?;
        }
        Ok(())
    }

    /// Reserves `count` seeds for one exploration of the test: from where its last exploration
    /// stopped, else from `fresh`. Reserved before any seed runs, so two explorations running
    /// at once draw disjoint seeds. Returns the first seed and the seeds explored before.
    pub fn reserve_exploration(
        &self,
        key: &TestKey,
        fresh: u64,
        count: u64,
    ) -> Result<(u64, u64), String> {
        let mut out = (fresh, 0);
        update(&key.file, |store| {
            let now = now_secs();
            match store
                .explored
                .iter_mut()
                .find(|e| e.scope == key.scope && e.test == key.test)
            {
                Some(e) => {
                    // At the top of the seed space, wrap to 0 (seeds near u64::MAX are legal).
                    let start = if detest::SeedRange::new(e.next, count).is_ok() {
                        e.next
                    } else {
                        0
                    };
                    out = (start, e.explored);
                    e.next = start.wrapping_add(count);
                    e.at = now;
                }
                None => {
                    let start = if detest::SeedRange::new(fresh, count).is_ok() {
                        fresh
                    } else {
                        0
                    };
                    out = (start, 0);
                    store.explored.push(Explored {
                        test: key.test.clone(),
                        scope: key.scope.clone(),
                        next: start.wrapping_add(count),
                        explored: 0,
                        at: now,
                    });
                }
            }
        })?;
        Ok(out)
    }

    /// Adds the seeds an exploration ran to the test's total, and returns the total.
    pub fn add_explored(&self, key: &TestKey, seeds: u64) -> Result<u64, String> {
        let mut total = seeds;
        update(&key.file, |store| {
            if let Some(e) = store
                .explored
                .iter_mut()
                .find(|e| e.scope == key.scope && e.test == key.test)
            {
                e.explored = e.explored.saturating_add(seeds);
                total = e.explored;
            }
        })?;
        Ok(total)
    }
}

fn load(file: &Path) -> Store {
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Store>(&b).ok())
        .filter(|s| s.format == FORMAT)
        .unwrap_or_default()
}

/// A read-modify-write of one store file under its lock, written atomically.
fn update(file: &Path, change: impl FnOnce(&mut Store)) -> Result<(), String> {
    let dir = file.parent().ok_or("the cache file has no folder")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let _lock = Lock::exclusive(&file.with_extension("lock"))?;
    let mut store = load(file);
    store.format = FORMAT;
    change(&mut store);
    if store.passed.len() > MAX_RECORDS {
        // The oldest go first.
        store.passed.sort_by_key(|p| std::cmp::Reverse(p.at));
        store.passed.truncate(MAX_RECORDS);
    }
    if store.explored.len() > MAX_RECORDS {
        store.explored.sort_by_key(|e| std::cmp::Reverse(e.at));
        store.explored.truncate(MAX_RECORDS);
    }
    let tmp = file.with_extension(format!("json.tmp.{}", std::process::id()));
    let text = serde_json::to_vec_pretty(&store).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, file).map_err(|e| format!("renaming to {}: {e}", file.display()))
}

/// An exclusive `flock`, released when dropped (or when the process dies: the kernel drops it).
struct Lock(File);

impl Lock {
    fn exclusive(path: &Path) -> Result<Lock, String> {
        use std::os::fd::AsRawFd;
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
        loop {
            // SAFETY: flock on a descriptor this File owns for as long as the call runs.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Lock(f));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(format!("locking {}: {e}", path.display()));
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as above; closing the file would release it too.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// The hash of everything that decides a run. `DefaultHasher::new()` is SipHash-1-3 with fixed
/// keys: the same in every process (a toolchain update may change it, and the binaries too).
fn hash_parts(parts: &[(&str, String)]) -> String {
    let mut h = std::hash::DefaultHasher::new();
    for (k, v) in parts {
        k.hash(&mut h);
        v.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// What identifies one build of a file without reading it: its inode, length and modification
/// time in nanoseconds (the linker writes a new file for every build).
fn file_stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(format!(
        "{} {} {} {}.{}",
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime(),
        m.mtime_nsec()
    ))
}

/// The content hash of `path`, remembered in `stamp` next to its store file: hashing a 40 MB
/// test binary takes about 20 ms, on every run, so it is done once per build, as cargo
/// fingerprints by modification time. (The stamp is written whole, by rename; a lost race only
/// costs a second hashing.)
fn stamped_hash(path: &Path, stamp: Option<&Path>) -> Option<String> {
    let now = file_stamp(path)?;
    if let Some(text) = stamp.and_then(|s| std::fs::read_to_string(s).ok()) {
        if let Some((then, hash)) = text.trim_end().rsplit_once(' ') {
            if then == now {
                return Some(hash.to_owned());
            }
        }
    }
    let hash = hash_file(path).ok()?;
    // Only a file unchanged while it was read gets a stamp.
    if let (Some(stamp), Some(after)) = (stamp, file_stamp(path)) {
        if after == now {
            if let Some(dir) = stamp.parent() {
                let _ = std::fs::create_dir_all(dir);
                let tmp = stamp.with_extension(format!("stamp.tmp.{}", std::process::id()));
                if std::fs::write(&tmp, format!("{now} {hash}\n")).is_ok() {
                    let _ = std::fs::rename(&tmp, stamp);
                }
            }
        }
    }
    Some(hash)
}

/// A file's length and content hash, as hex.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = std::hash::DefaultHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.write(&buf[..n]);
    }
    Ok(format!("{len}-{:016x}", h.finish()))
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-12-03 12:10 UTC`, from seconds since the epoch (days to a civil date after
/// Howard Hinnant's `civil_from_days`).
pub fn utc_minute(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hh, mm) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("detest-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn binary(dir: &Path, bytes: &[u8]) -> TestBinary {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("races-0123");
        std::fs::write(&path, bytes).unwrap();
        TestBinary::new("p", "races", "test", path, dir.to_owned())
    }

    fn pass(key: &TestKey, at: u64) -> (TestKey, Passed) {
        let p = Passed {
            test: key.test.clone(),
            key: key.key.clone(),
            at,
            executions: 10,
            policy: "chaos".into(),
            range: "0..10".into(),
        };
        (key.clone(), p)
    }

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(951_825_600), "2000-02-29 12:00 UTC");
        assert_eq!(utc_minute(1_796_300_000), "2026-12-03 12:13 UTC");
    }

    #[test]
    fn a_pass_is_found_only_under_the_same_binary_test_and_parts() {
        let dir = scratch("keys");
        let cache = Cache::new(Some(dir.join("c")));
        let bin = binary(&dir, b"one");
        let range = [("range", "0..10".to_string())];
        let parts = [("policy", "chaos".to_string())];
        let key = cache.key(&bin, "t", &range, &parts).unwrap();
        assert_eq!(cache.passed(&key), None);
        cache.record_passes(vec![pass(&key, 5)]).unwrap();
        assert_eq!(cache.passed(&key).map(|p| p.at), Some(5));
        // Another test, range or policy is another key.
        let other = cache.key(&bin, "u", &range, &parts).unwrap();
        assert_eq!(cache.passed(&other), None);
        let wider = [("range", "0..11".to_string())];
        let k2 = cache.key(&bin, "t", &wider, &parts).unwrap();
        assert_ne!(k2.key, key.key);
        assert_eq!(k2.scope, key.scope, "the range is not part of the scope");
        assert_eq!(cache.passed(&k2), None);
        let pct = [("policy", "pct".to_string())];
        assert_eq!(
            cache.passed(&cache.key(&bin, "t", &range, &pct).unwrap()),
            None
        );
        // A rebuilt binary with other content: a fresh cache (with a fresh hash memo).
        let rebuilt = binary(&dir, b"two");
        let cache2 = Cache::new(Some(dir.join("c")));
        let k3 = cache2.key(&rebuilt, "t", &range, &parts).unwrap();
        assert_ne!(k3.key, key.key);
        assert_eq!(cache2.passed(&k3), None);
        // A later pass replaces the earlier record of the same key.
        cache2.record_passes(vec![pass(&k3, 9)]).unwrap();
        cache2.record_passes(vec![pass(&k3, 12)]).unwrap();
        let store = load(&k3.file);
        assert_eq!(store.passed.iter().filter(|p| p.key == k3.key).count(), 1);
        assert_eq!(store.passed.len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_binary_is_hashed_once_per_build() {
        let dir = scratch("stamp");
        let bin = binary(&dir, b"first build");
        let stamp = dir.join("c/races-0123.stamp");
        let first = Cache::new(Some(dir.join("c")))
            .binary_hash(&bin.path)
            .unwrap();
        assert!(std::fs::read_to_string(&stamp)
            .unwrap()
            .ends_with(&format!(" {first}\n")));
        // The stamp answers for an unchanged file (a wrong hash in it shows it was used)...
        let text = std::fs::read_to_string(&stamp).unwrap();
        std::fs::write(&stamp, text.replace(&first, "remembered")).unwrap();
        let cached = Cache::new(Some(dir.join("c"))).binary_hash(&bin.path);
        assert_eq!(cached.as_deref(), Some("remembered"));
        // ...never for a rebuilt one (a new file, as a linker writes it).
        std::fs::remove_file(&bin.path).unwrap();
        let rebuilt = binary(&dir, b"second build");
        let second = Cache::new(Some(dir.join("c")))
            .binary_hash(&rebuilt.path)
            .unwrap();
        assert_eq!(second, hash_file(&rebuilt.path).unwrap());
        assert_ne!(second, first);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_broken_store_is_an_empty_cache_and_is_rewritten() {
        let dir = scratch("broken");
        let cache = Cache::new(Some(dir.join("c")));
        let bin = binary(&dir, b"x");
        let key = cache.key(&bin, "t", &[], &[]).unwrap();
        std::fs::create_dir_all(key.file.parent().unwrap()).unwrap();
        std::fs::write(&key.file, "{not json").unwrap();
        assert_eq!(cache.passed(&key), None);
        cache.record_passes(vec![pass(&key, 1)]).unwrap();
        assert!(cache.passed(&key).is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn explorations_continue_and_concurrent_ones_draw_disjoint_seeds() {
        let dir = scratch("explore");
        let bin = binary(&dir, b"x");
        let key = Cache::new(Some(dir.join("c")))
            .key(&bin, "t", &[], &[])
            .unwrap();
        let first = Cache::new(Some(dir.join("c")))
            .reserve_exploration(&key, 500, 100)
            .unwrap();
        assert_eq!(first, (500, 0));
        let cache = Cache::new(Some(dir.join("c")));
        assert_eq!(cache.add_explored(&key, 100).unwrap(), 100);
        // The next one continues, whatever fresh seed it drew.
        assert_eq!(cache.reserve_exploration(&key, 7, 50).unwrap(), (600, 100));
        // Eight threads reserving at once (each with its own file handle and lock) never
        // overlap, and together take exactly the seeds after 650.
        let starts: Vec<u64> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        Cache::new(Some(dir.join("c")))
                            .reserve_exploration(&key, 0, 10)
                            .unwrap()
                            .0
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = starts.clone();
        sorted.sort();
        assert_eq!(sorted, (0..8).map(|i| 650 + 10 * i).collect::<Vec<_>>());
        // At the top of the seed space it wraps to 0 instead of passing u64::MAX.
        let top = cache.key(&bin, "top", &[], &[]).unwrap();
        assert_eq!(
            cache.reserve_exploration(&top, u64::MAX - 5, 10).unwrap(),
            (0, 0)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
