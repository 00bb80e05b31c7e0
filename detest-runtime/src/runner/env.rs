//! The `DETEST_*` environment: overrides for one run and the `cargo detest` protocol.

use crate::{Policy, Schedule};
use std::path::PathBuf;

/// Every variable detest reads; anything else starting with `DETEST_` is probably a typo.
pub(crate) const KNOWN: &[&str] = &[
    "DETEST_SEED",
    "DETEST_SEEDS",
    "DETEST_SEED_START",
    "DETEST_POLICY",
    "DETEST_REPLAY",
    "DETEST_TRACE",
    "DETEST_FIXTURES",
    "DETEST_REGRESSIONS_DIR",
    "DETEST_ANNOUNCE",
    "DETEST_RESULTS",
    "DETEST_NO_SHRINK",
    "DETEST_MINIMIZE",
    "DETEST_FIXTURE",
    "DETEST_FIXTURE_START",
    "DETEST_CHECK_DETERMINISM",
    "DETEST_FIXED_RUNS",
    "DETEST_FEED",
    "DETEST_FOREGROUND",
    "DETEST_MANIFEST_PATH",
    "DETEST_SPURIOUS_WAKEUPS",
    // Read by `cargo detest` itself, allowed here so it can pass it through.
    "DETEST_SHARD",
];

/// What `DETEST_TRACE` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TraceMode {
    Off,
    /// A timeline (one column per task).
    Timeline,
    /// JSON lines on stdout, between marker lines.
    Json,
}

impl TraceMode {
    pub(crate) fn on(self) -> bool {
        self != TraceMode::Off
    }
}

/// What to do with regression fixtures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FixtureMode {
    /// Replay saved entries first, save new failures (the default).
    On,
    /// Replay but never write (CI).
    Read,
    /// Neither replay nor write.
    Off,
    /// Replay the saved entries and run no new seed.
    Only,
}

impl FixtureMode {
    pub(crate) fn reads(self) -> bool {
        self != FixtureMode::Off
    }
    pub(crate) fn writes(self) -> bool {
        self == FixtureMode::On
    }
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FixtureMode::On => "on",
            FixtureMode::Read => "read",
            FixtureMode::Off => "off",
            FixtureMode::Only => "only",
        }
    }
}

/// Where worker result lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ResultsTarget {
    Path(PathBuf),
    Fd(i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeedStart {
    Fixed(u64),
    Random,
}

/// The parsed environment.
#[derive(Clone, Debug)]
pub(crate) struct Env {
    pub seed: Option<u64>,
    pub seeds: Option<u64>,
    pub seed_start: Option<SeedStart>,
    pub policy: Option<Policy>,
    pub replay: Option<Schedule>,
    pub trace: TraceMode,
    pub fixtures: FixtureMode,
    /// The first fixture entry to replay (`DETEST_FIXTURE_START`).
    pub fixture_start: usize,
    /// Exactly one fixture entry (`DETEST_FIXTURE=<path>:<index>`).
    pub fixture: Option<(PathBuf, usize)>,
    pub no_shrink: bool,
    /// A `cargo detest` worker's chunk begins the sweep: it checks the fixed executions too
    /// (`DETEST_FIXED_RUNS=1`; other chunks only measure the estimate with them).
    pub fixed_runs: bool,
    pub minimize: bool,
    /// Runs per seed of a determinism check.
    pub check_determinism: Option<u32>,
    pub regressions_dir: Option<PathBuf>,
    pub announce: Option<PathBuf>,
    pub results: Option<ResultsTarget>,
    /// `DETEST_FEED=fd:N`: after its seeds a worker asks this descriptor for more chunks.
    pub feed: Option<i32>,
    /// `DETEST_FOREGROUND=1`: with `DETEST_RESULTS`, run as plain `cargo test` does and also
    /// write a start line and a result line (`cargo detest replay`).
    pub foreground: bool,
    /// `DETEST_SPURIOUS_WAKEUPS=0|1`: instead of the attribute's `spurious_wakeups`.
    pub spurious_wakeups: Option<bool>,
    /// `DETEST_MEMORY_MODEL=sc|weak`: instead of the attribute's `memory_model`.
    pub memory_model: Option<crate::MemoryModel>,
    /// `DETEST_*` variables nobody reads.
    pub unknown: Vec<String>,
}

impl Env {
    pub(crate) fn from_process() -> Result<Env, String> {
        Env::parse(std::env::vars_os().filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            k.starts_with("DETEST_")
                .then(|| (k, v.to_string_lossy().into_owned()))
        }))
    }

    pub(crate) fn parse(vars: impl IntoIterator<Item = (String, String)>) -> Result<Env, String> {
        let mut env = Env {
            seed: None,
            seeds: None,
            seed_start: None,
            policy: None,
            replay: None,
            trace: TraceMode::Off,
            fixtures: FixtureMode::On,
            fixture_start: 0,
            fixture: None,
            no_shrink: false,
            fixed_runs: false,
            minimize: false,
            check_determinism: None,
            regressions_dir: None,
            announce: None,
            results: None,
            feed: None,
            foreground: false,
            spurious_wakeups: None,
            memory_model: None,
            unknown: Vec::new(),
        };
        let mut vars: Vec<(String, String)> = vars.into_iter().collect();
        vars.sort();
        for (key, value) in vars {
            if !key.starts_with("DETEST_") {
                continue;
            }
            // An empty value means unset, as `DETEST_SEED= cargo test` is the usual way to clear one.
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            let bad = |what: &str| format!("{key}={value}: {what}");
            match key.as_str() {
                "DETEST_SEED" => env.seed = Some(parse_u64(&value).map_err(|e| bad(&e))?),
                "DETEST_SEEDS" => env.seeds = Some(parse_u64(&value).map_err(|e| bad(&e))?),
                "DETEST_SEED_START" => {
                    env.seed_start = Some(if value.eq_ignore_ascii_case("random") {
                        SeedStart::Random
                    } else {
                        SeedStart::Fixed(
                            parse_u64(&value).map_err(|e| bad(&format!("{e}, or `random`")))?,
                        )
                    })
                }
                "DETEST_POLICY" => env.policy = Some(Policy::parse(&value).map_err(|e| bad(&e))?),
                "DETEST_REPLAY" => {
                    env.replay = Some(Schedule::decode(&value).map_err(|e| bad(&e.to_string()))?)
                }
                "DETEST_TRACE" => {
                    env.trace = match value.to_ascii_lowercase().as_str() {
                        "json" => TraceMode::Json,
                        v => {
                            if parse_bool(v).ok_or_else(|| bad("expected 1, 0 or json"))? {
                                TraceMode::Timeline
                            } else {
                                TraceMode::Off
                            }
                        }
                    }
                }
                "DETEST_FIXED_RUNS" => {
                    env.fixed_runs = parse_bool(&value).ok_or_else(|| bad("expected 1 or 0"))?
                }
                "DETEST_NO_SHRINK" => {
                    env.no_shrink = parse_bool(&value).ok_or_else(|| bad("expected 1 or 0"))?
                }
                "DETEST_FOREGROUND" => {
                    env.foreground = parse_bool(&value).ok_or_else(|| bad("expected 1 or 0"))?
                }
                "DETEST_SPURIOUS_WAKEUPS" => {
                    env.spurious_wakeups =
                        Some(parse_bool(&value).ok_or_else(|| bad("expected 1 or 0"))?)
                }
                "DETEST_MEMORY_MODEL" => {
                    env.memory_model = Some(
                        crate::MemoryModel::parse(&value.to_ascii_lowercase())
                            .ok_or_else(|| bad("expected sc or weak"))?,
                    )
                }
                "DETEST_MINIMIZE" => {
                    env.minimize = parse_bool(&value).ok_or_else(|| bad("expected 1 or 0"))?
                }
                "DETEST_CHECK_DETERMINISM" => {
                    let runs = parse_u64(&value).map_err(|e| bad(&e))?;
                    env.check_determinism = match runs {
                        0 => None,
                        n => Some(u32::try_from(n).map_err(|_| bad("too many runs"))?),
                    }
                }
                "DETEST_FIXTURE_START" => {
                    env.fixture_start = usize::try_from(parse_u64(&value).map_err(|e| bad(&e))?)
                        .map_err(|_| bad("too large"))?
                }
                "DETEST_FIXTURE" => {
                    let (path, index) = value
                        .rsplit_once(':')
                        .and_then(|(p, i)| Some((p, i.trim().parse::<usize>().ok()?)))
                        .filter(|(p, _)| !p.is_empty())
                        .ok_or_else(|| bad("expected <fixture file>:<entry index>"))?;
                    env.fixture = Some((PathBuf::from(path), index));
                }
                "DETEST_FIXTURES" => {
                    env.fixtures = match value.to_ascii_lowercase().as_str() {
                        "on" | "1" | "write" => FixtureMode::On,
                        "read" => FixtureMode::Read,
                        "off" | "0" => FixtureMode::Off,
                        "only" => FixtureMode::Only,
                        _ => return Err(bad("expected on, read, off or only")),
                    }
                }
                "DETEST_REGRESSIONS_DIR" => env.regressions_dir = Some(PathBuf::from(value)),
                "DETEST_ANNOUNCE" => env.announce = Some(PathBuf::from(value)),
                "DETEST_RESULTS" => {
                    env.results = Some(match value.strip_prefix("fd:") {
                        Some(fd) => ResultsTarget::Fd(
                            fd.parse().map_err(|_| bad("expected a path or fd:N"))?,
                        ),
                        None => ResultsTarget::Path(PathBuf::from(value)),
                    })
                }
                "DETEST_FEED" => {
                    env.feed = Some(
                        value
                            .strip_prefix("fd:")
                            .and_then(|fd| fd.parse().ok())
                            .ok_or_else(|| bad("expected fd:N"))?,
                    )
                }
                k if KNOWN.contains(&k) => {}
                _ => env.unknown.push(key),
            }
        }
        Ok(env)
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_u64(text: &str) -> Result<u64, String> {
    let digits = text.replace('_', "");
    digits
        .parse()
        .map_err(|_| "expected a whole number".to_owned())
}

/// Warns (once per process) about `DETEST_*` variables that nothing reads.
pub(crate) fn warn_unknown(env: &Env) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if env.unknown.is_empty() {
        return;
    }
    WARNED.call_once(|| {
        for key in &env.unknown {
            let hint = suggest(key)
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            // Straight to the process's stderr: a warning captured with a passing test's output
            // would never be seen.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("detest: warning: unknown environment variable {key} is ignored{hint}\n")
                    .as_bytes(),
            );
        }
    });
}

fn suggest(key: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .copied()
        .map(|k| (edit_distance(k, key), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Env, String> {
        Env::parse(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn overrides() {
        let env = parse(&[
            ("DETEST_SEED", "42"),
            ("DETEST_SEEDS", "1_000"),
            ("DETEST_POLICY", "pct:3"),
            ("DETEST_TRACE", "1"),
            ("DETEST_FIXTURES", "read"),
            ("DETEST_RESULTS", "fd:7"),
            ("DETEST_SHARD", "1/2"),
        ])
        .unwrap();
        assert_eq!(env.seed, Some(42));
        assert_eq!(env.seeds, Some(1000));
        assert_eq!(env.policy, Some(Policy::Pct { depth: 3 }));
        assert_eq!(env.trace, TraceMode::Timeline);
        assert_eq!(env.fixtures, FixtureMode::Read);
        assert_eq!(env.results, Some(ResultsTarget::Fd(7)));
        assert!(env.unknown.is_empty());
    }

    #[test]
    fn shrinking_tracing_and_checks() {
        let env = parse(&[
            ("DETEST_TRACE", "json"),
            ("DETEST_NO_SHRINK", "1"),
            ("DETEST_MINIMIZE", "yes"),
            ("DETEST_CHECK_DETERMINISM", "20"),
            ("DETEST_FIXTURE", "/a/b:c.toml:3"),
            ("DETEST_FIXTURE_START", "2"),
        ])
        .unwrap();
        assert_eq!(env.trace, TraceMode::Json);
        assert!(env.no_shrink && env.minimize);
        assert_eq!(env.check_determinism, Some(20));
        assert_eq!(env.fixture, Some((PathBuf::from("/a/b:c.toml"), 3)));
        assert_eq!(env.fixture_start, 2);
        assert!(env.unknown.is_empty());
        assert_eq!(
            parse(&[("DETEST_TRACE", "0")]).unwrap().trace,
            TraceMode::Off
        );
        assert!(parse(&[("DETEST_FIXTURE", "x.toml")]).is_err());
        assert!(parse(&[("DETEST_TRACE", "yaml")]).is_err());
        assert!(parse(&[("DETEST_CHECK_DETERMINISM", "often")]).is_err());
    }

    #[test]
    fn memory_model() {
        use crate::MemoryModel;
        assert_eq!(parse(&[]).unwrap().memory_model, None);
        let sc = parse(&[("DETEST_MEMORY_MODEL", "sc")]).unwrap();
        assert_eq!(sc.memory_model, Some(MemoryModel::SeqCst));
        let weak = parse(&[("DETEST_MEMORY_MODEL", "WEAK")]).unwrap();
        assert_eq!(weak.memory_model, Some(MemoryModel::Weak));
        assert!(parse(&[("DETEST_MEMORY_MODEL", "tso")]).is_err());
    }

    #[test]
    fn spurious_wakeups() {
        assert_eq!(parse(&[]).unwrap().spurious_wakeups, None);
        let env = parse(&[("DETEST_SPURIOUS_WAKEUPS", "0")]).unwrap();
        assert_eq!(env.spurious_wakeups, Some(false));
        assert!(env.unknown.is_empty());
        let on = parse(&[("DETEST_SPURIOUS_WAKEUPS", "1")]).unwrap();
        assert_eq!(on.spurious_wakeups, Some(true));
        let err = parse(&[("DETEST_SPURIOUS_WAKEUPS", "rarely")]).unwrap_err();
        assert!(err.starts_with("DETEST_SPURIOUS_WAKEUPS=rarely:"), "{err}");
        assert_eq!(
            suggest("DETEST_SPURIOUS_WAKEUP"),
            Some("DETEST_SPURIOUS_WAKEUPS")
        );
    }

    #[test]
    fn rejects_bad_values_naming_the_variable() {
        let err = parse(&[("DETEST_SEEDS", "many")]).unwrap_err();
        assert!(err.starts_with("DETEST_SEEDS=many:"), "{err}");
        assert!(parse(&[("DETEST_POLICY", "fast")]).is_err());
        assert!(parse(&[("DETEST_FIXTURES", "sometimes")]).is_err());
        assert!(parse(&[("DETEST_REPLAY", "nonsense")]).is_err());
        assert_eq!(
            parse(&[("DETEST_SEED_START", "random")])
                .unwrap()
                .seed_start,
            Some(SeedStart::Random)
        );
        // Empty means unset.
        assert_eq!(parse(&[("DETEST_SEED", "")]).unwrap().seed, None);
    }

    #[test]
    fn collects_unknown_variables_with_a_suggestion() {
        let env = parse(&[("DETEST_SEEED", "1"), ("DETEST_COLOUR", "x")]).unwrap();
        assert_eq!(env.unknown, vec!["DETEST_COLOUR", "DETEST_SEEED"]);
        assert_eq!(suggest("DETEST_SEEED"), Some("DETEST_SEED"));
        assert_eq!(suggest("DETEST_COLOUR"), None);
    }
}
