//! The command line. Bad flags are clap errors (exit code 2), before anything is built.

use crate::plan::Shard;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::time::Duration;

/// Sweep detest tests across many seeds in isolated worker processes.
///
/// Builds the test binaries like `cargo test`, finds the detest tests (from each binary's test
/// list, without running anything), runs plain #[test]s once, replays saved regression
/// fixtures, then sweeps each test's seeds on all cores. Every failing seed is saved
/// under `detest-regressions/` and printed with a command that replays it.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-detest",
    bin_name = "cargo detest",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one execution of a test in the foreground (a seed, a schedule or a saved fixture).
    Replay(ReplayArgs),
    /// List the tests, with each detest test's seeds, policy, expectation and saved fixtures.
    List(ListArgs),
    /// Shrink one failure (a seed, a schedule or a saved fixture) to the fewest preemptions and
    /// steps that still fail the same way; print its timeline and the shrunk schedule.
    Minimize(MinimizeArgs),
    /// Run every seed several times and compare the runs (trace and outcome), as bazel-buildfarm
    /// does for build actions: anything outside detest's control shows up as a second hash.
    CheckDeterminism(CheckArgs),
}

/// Which packages and targets to build; forwarded to `cargo test --no-run`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Package selection (as cargo test)")]
pub struct BuildArgs {
    /// Package(s) to test.
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Test all packages in the workspace.
    #[arg(long, visible_alias = "all")]
    pub workspace: bool,
    /// Exclude packages (with --workspace).
    #[arg(long, value_name = "SPEC")]
    pub exclude: Vec<String>,
    /// Test only this package's library.
    #[arg(long)]
    pub lib: bool,
    /// Test only the named binary.
    #[arg(long, value_name = "NAME")]
    pub bin: Vec<String>,
    /// Test all binaries.
    #[arg(long)]
    pub bins: bool,
    /// Test only the named integration test target.
    #[arg(long, value_name = "NAME")]
    pub test: Vec<String>,
    /// Test all integration test targets.
    #[arg(long)]
    pub tests: bool,
    /// Test only the named example.
    #[arg(long, value_name = "NAME")]
    pub example: Vec<String>,
    /// Test all examples.
    #[arg(long)]
    pub examples: bool,
    /// Test only the named bench target (its tests, as `cargo test --bench`).
    #[arg(long, value_name = "NAME")]
    pub bench: Vec<String>,
    /// Test all bench targets.
    #[arg(long)]
    pub benches: bool,
    /// Features to activate (space or comma separated).
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    #[arg(long)]
    pub all_features: bool,
    #[arg(long)]
    pub no_default_features: bool,
    /// Build in release mode.
    #[arg(short = 'r', long)]
    pub release: bool,
    /// Build with this profile.
    #[arg(long, value_name = "NAME")]
    pub cargo_profile: Option<String>,
    /// Build for this target triple.
    #[arg(long, value_name = "TRIPLE")]
    pub target: Vec<String>,
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<String>,
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<String>,
    #[arg(long)]
    pub locked: bool,
    #[arg(long)]
    pub offline: bool,
    #[arg(long)]
    pub frozen: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run only tests whose name (`pkg::module::test`) contains one of these.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,

    #[command(flatten)]
    pub build: BuildArgs,

    #[command(flatten)]
    pub sweep: SweepArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Seeds and workers")]
pub struct SweepArgs {
    /// Run this many seeds per detest test (default: what each test declares); `0` replays
    /// only the saved fixtures (a sweep that runs no seed otherwise fails).
    #[arg(long, value_name = "N", env = "DETEST_SEEDS")]
    pub seeds: Option<u64>,
    /// Run exactly this seed for every detest test: the reproducible CI gate.
    #[arg(long, value_name = "S", env = "DETEST_SEED", conflicts_with_all = ["seeds", "seed_start", "explore"])]
    pub seed: Option<u64>,
    /// First seed of each test's range (default: what each test declares, usually 0);
    /// `random` is --explore.
    #[arg(long, value_name = "S", env = "DETEST_SEED_START", conflicts_with = "explore", value_parser = parse_seed_start)]
    pub seed_start: Option<SeedStart>,
    /// Explore seeds not run before: each test continues where its last exploration (of this
    /// binary, policy and options, remembered under target/detest) stopped; a test never
    /// explored starts at a fresh random seed (printed, so the sweep can be rerun with
    /// --seed-start).
    #[arg(long)]
    pub explore: bool,
    /// Rerun tests that passed before with the same binary, seeds, policy and options (by
    /// default they are skipped as unchanged). What passes is still remembered.
    #[arg(long)]
    pub force: bool,
    /// Override every detest test's policy: round-robin, rotate, first-release, random, pct,
    /// pct:DEPTH, pos, chaos, urw.
    #[arg(long, value_name = "POLICY", env = "DETEST_POLICY", value_parser = parse_policy)]
    pub policy: Option<String>,
    /// Worker processes (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Watchdog: a seed (or plain test) silent this long is a hang, e.g. 30s, 500ms, 2m.
    /// Default: the test's declared timeout plus a grace period, else 60s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Run shard K of N of every test's seed range (1-based); the N shards together run exactly
    /// the whole sweep.
    #[arg(long, value_name = "K/N", env = "DETEST_SHARD")]
    pub shard: Option<Shard>,
    /// Stop at the first failing test (lower seed chunks of that test still finish, so the
    /// lowest failing seed is reported).
    #[arg(long)]
    pub fail_fast: bool,
    /// Regression fixtures: `on` replays them, then saves each new failing seed; `read` replays
    /// them and saves nothing (a CI gate); `off` neither replays nor saves; `only` replays them
    /// and runs no new seeds.
    #[arg(long, value_enum, value_name = "MODE", env = "DETEST_FIXTURES", default_value_t = FixturesFlag::On)]
    pub fixtures: FixturesFlag,
    /// Neither replay nor save regression fixtures (`--fixtures off`).
    #[arg(long, conflicts_with = "fixtures")]
    pub no_fixtures: bool,
    /// Save failing seeds as they are found, without shrinking their schedules
    /// (DETEST_NO_SHRINK=1).
    #[arg(long)]
    pub no_shrink: bool,
    /// Neither run nor report plain #[test]s.
    #[arg(long)]
    pub skip_plain: bool,
    /// Seeds per chunk (default: a sixteenth of the range, 16 to 1000; from 64, the last two
    /// to three chunks' worth cut in quarters). Failing seeds are found per chunk, so results
    /// depend on this, never on --jobs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: Option<u64>,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// What stdout carries: a human report (on stderr) only, JSON lines, or JUnit XML.
    #[arg(long, value_enum, default_value_t = Format::Human, visible_alias = "message-format")]
    pub format: Format,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<String>,
    /// Only failures and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also show each failure's worker output and every failing seed.
    #[arg(short, long)]
    pub verbose: bool,
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
}

/// `--fixtures`, spelled as `DETEST_FIXTURES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixturesFlag {
    On,
    Read,
    Off,
    Only,
}

impl SweepArgs {
    /// `--fixtures`, with `--no-fixtures` as `off`.
    pub fn fixtures(&self) -> FixturesFlag {
        if self.no_fixtures {
            FixturesFlag::Off
        } else {
            self.fixtures
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The test: its name (`tests::transfer`), full name (`pkg::tests::transfer`) or a unique part.
    #[arg(value_name = "TEST")]
    pub test_name: String,
    /// Replay this seed.
    #[arg(long, value_name = "S", group = "what")]
    pub seed: Option<u64>,
    /// Replay this recorded schedule (`detest1:...`).
    #[arg(long, value_name = "SCHEDULE", group = "what")]
    pub schedule: Option<String>,
    /// Replay a saved fixture: PATH (its first entry) or PATH:N (entry N, from 0).
    #[arg(long, value_name = "PATH[:N]", group = "what")]
    pub fixture: Option<String>,
    /// Print the whole trace (a timeline, one column per task).
    #[arg(long)]
    pub trace: bool,
    /// How --trace prints: a `text` timeline on stderr, or `json` lines (one per step) on
    /// stdout, for tools. Implies --trace.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub trace_format: Option<TraceFormat>,
    /// The policy to replay the seed with (default: the test's, or the fixture's).
    #[arg(long, value_name = "POLICY", value_parser = parse_policy)]
    pub policy: Option<String>,
    #[command(flatten)]
    pub build: BuildArgs,
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct MinimizeArgs {
    /// The test: its name (`tests::transfer`), full name (`pkg::tests::transfer`) or a unique part.
    #[arg(value_name = "TEST")]
    pub test_name: String,
    /// Shrink the failure of this seed.
    #[arg(long, value_name = "S", group = "what")]
    pub seed: Option<u64>,
    /// Shrink this failing schedule (`detest1:...`).
    #[arg(long, value_name = "SCHEDULE", group = "what")]
    pub schedule: Option<String>,
    /// Shrink a saved fixture entry: PATH (its first entry) or PATH:N (entry N, from 0); the
    /// shrunk schedule is saved into it.
    #[arg(long, value_name = "PATH[:N]", group = "what")]
    pub fixture: Option<String>,
    /// The policy the seed failed with (default: the test's, or the fixture's).
    #[arg(long, value_name = "POLICY", value_parser = parse_policy)]
    pub policy: Option<String>,
    #[command(flatten)]
    pub build: BuildArgs,
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Check only tests whose name (`pkg::module::test`) contains one of these.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Runs per seed.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..))]
    pub runs: u32,
    /// Check this many seeds per test (default: what each test declares).
    #[arg(long, value_name = "N")]
    pub seeds: Option<u64>,
    /// Check exactly this seed.
    #[arg(long, value_name = "S", conflicts_with_all = ["seeds", "seed_start"])]
    pub seed: Option<u64>,
    /// First seed of each test's range (default: what each test declares).
    #[arg(long, value_name = "S")]
    pub seed_start: Option<u64>,
    /// Override every test's policy.
    #[arg(long, value_name = "POLICY", value_parser = parse_policy)]
    pub policy: Option<String>,
    /// Worker processes (default: the number of CPUs).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Watchdog per run of a seed (multiplied by --runs), e.g. 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// `human` (histograms on stderr) or `json` (one line per test on stdout).
    #[arg(long, default_value = "human", value_name = "FORMAT", value_parser = human_or_json)]
    pub format: Format,
    /// Only failures and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show every seed's histogram.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub build: BuildArgs,
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

fn human_or_json(text: &str) -> Result<Format, String> {
    match text {
        "human" => Ok(Format::Human),
        "json" => Ok(Format::Json),
        _ => Err(format!("`{text}` is not a format here (human or json)")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only tests whose name contains one of these.
    pub filter: Vec<String>,
    /// `human` (a table) or `json` (one object per line).
    #[arg(long, default_value = "human", value_name = "FORMAT", value_parser = human_or_json)]
    pub format: Format,
    #[command(flatten)]
    pub build: BuildArgs,
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStart {
    Fixed(u64),
    Random,
}

fn parse_seed_start(text: &str) -> Result<SeedStart, String> {
    if text.trim() == "random" {
        return Ok(SeedStart::Random);
    }
    text.trim()
        .parse()
        .map(SeedStart::Fixed)
        .map_err(|_| format!("`{text}` is not a seed (a whole number, or `random`)"))
}

fn parse_policy(text: &str) -> Result<String, String> {
    detest::Policy::parse(text).map(|p| p.to_string())
}

/// The longest duration any flag takes: far beyond any real timeout, and far enough below
/// `Duration::MAX` that a watchdog may add to it or multiply it by `--runs` without overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// The one parser of every duration flag: `30s`, `500ms`, `2m`, `1h`, or bare seconds, longer
/// than zero and at most [`MAX_DURATION`]. Anything else is a usage error, never a panic.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 30s, 500ms or 2m)"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}` (use ms, s, m or h)"
            ))
        }
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("`{text}` must be positive"));
    }
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(format!(
            "`{text}` is too long (at most {}h)",
            MAX_DURATION.as_secs() / 3600
        )),
    }
}

/// Rejects `--seed-start S --seeds N` naming seeds past `u64::MAX`, as clap rejects a bad
/// flag: a range cut short would report seeds as passed that never ran.
pub fn check_seed_range(cli: &Cli) -> Result<(), clap::Error> {
    let (start, seeds) = match &cli.command {
        None => match cli.run.sweep.seed_start {
            Some(SeedStart::Fixed(start)) => (Some(start), cli.run.sweep.seeds),
            _ => (None, None),
        },
        Some(Command::CheckDeterminism(c)) => (c.seed_start, c.seeds),
        Some(_) => (None, None),
    };
    let (Some(start), Some(seeds)) = (start, seeds) else {
        return Ok(());
    };
    detest::SeedRange::new(start, seeds)
        .map(|_| ())
        .map_err(|e| {
            use clap::CommandFactory;
            Cli::command().error(
                clap::error::ErrorKind::ValueValidation,
                format!("--seed-start {start} --seeds {seeds}: {e}"),
            )
        })
}

/// Accepts both `cargo detest ARGS` (cargo passes `detest` first) and `cargo-detest ARGS`.
pub fn normalize_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).is_some_and(|a| a == "detest") {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let mut v = vec!["cargo-detest"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v)
    }

    #[test]
    fn a_seed_range_past_u64_max_is_a_usage_error() {
        let check = |args: &[&str]| parse(args).and_then(|c| check_seed_range(&c));
        let err = check(&["--seed-start", "18446744073709551610", "--seeds", "10"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(err.to_string().contains("at most 6 seeds"), "{err}");
        assert!(check(&["--seed-start", "18446744073709551610", "--seeds", "6"]).is_ok());
        assert!(check(&["--seed", "18446744073709551615"]).is_ok());
        let err = check(&[
            "check-determinism",
            "--seed-start",
            "18446744073709551615",
            "--seeds",
            "2",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--seed-start"), "{err}");
        // Through the entry point: clap's usage exit code, before anything is built.
        let code = crate::main_with_args(
            [
                "cargo-detest",
                "--seed-start",
                "18446744073709551615",
                "--seeds",
                "2",
            ]
            .iter()
            .map(Into::into)
            .collect(),
        );
        assert_eq!(code, 2);
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("8784h").unwrap(), MAX_DURATION);
        let googol = format!("1{}s", "0".repeat(100));
        for huge in [
            "8785h",
            "99999999999999999999999s",
            "18446744073709551616",
            &googol,
        ] {
            let e = parse_duration(huge).unwrap_err();
            assert!(e.contains("too long"), "{huge}: {e}");
        }
    }

    /// Beyond `Duration::MAX`: `Duration::from_secs_f64` panics on it.
    const HUGE: &str = "100000000000000000000000s";

    #[test]
    fn every_duration_flag_is_a_usage_error_when_huge() {
        use clap::CommandFactory;
        for (sub, flag) in [
            (None, "--timeout"),
            (Some("check-determinism"), "--timeout"),
        ] {
            let mut args: Vec<&str> = sub.into_iter().collect();
            args.extend([flag, HUGE]);
            let e = parse(&args).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation, "{e}");
        }
        // Every flag that takes a duration goes through parse_duration: found by value name.
        let cmd = Cli::command();
        let mut cmds = vec![&cmd];
        cmds.extend(cmd.get_subcommands());
        let mut seen = 0;
        for c in cmds {
            for arg in c.get_arguments() {
                let names = arg.get_value_names().unwrap_or_default();
                if names.iter().any(|n| n.as_str() == "DURATION") {
                    seen += 1;
                    let long = format!("--{}", arg.get_long().unwrap());
                    let mut v = vec!["cargo-detest"];
                    if c.get_name() != cmd.get_name() {
                        v.push(c.get_name());
                    }
                    v.extend([long.as_str(), HUGE]);
                    assert!(
                        Cli::try_parse_from(v).is_err(),
                        "{long} of {}",
                        c.get_name()
                    );
                }
            }
        }
        assert!(seen >= 2);
    }

    #[test]
    fn fixture_modes() {
        assert_eq!(parse(&[]).unwrap().run.sweep.fixtures(), FixturesFlag::On);
        let read = parse(&["--fixtures", "read"]).unwrap();
        assert_eq!(read.run.sweep.fixtures(), FixturesFlag::Read);
        let off = parse(&["--no-fixtures"]).unwrap();
        assert_eq!(off.run.sweep.fixtures(), FixturesFlag::Off);
        assert!(parse(&["--fixtures", "write"]).is_err());
        assert!(parse(&["--fixtures", "read", "--no-fixtures"]).is_err());
    }

    #[test]
    fn parses_runs_and_subcommands() {
        let cli = parse(&[
            "transfer", "-p", "bank", "--seeds", "100", "--shard", "2/3", "-j", "2",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.filter, vec!["transfer"]);
        assert_eq!(cli.run.build.package, vec!["bank"]);
        assert_eq!(cli.run.sweep.shard, Some(Shard { index: 2, total: 3 }));
        let cli = parse(&["replay", "tests::x", "--seed", "4", "-p", "bank"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Replay(ref r)) if r.seed == Some(4)));
        assert!(parse(&["--policy", "pct:0"]).is_err());
        assert!(parse(&["--seed", "1", "--seeds", "5"]).is_err());
        assert!(parse(&["replay", "t", "--seed", "1", "--schedule", "detest1:x"]).is_err());
        assert!(parse(&["--jobs", "0"]).is_err());
        assert!(parse(&["--no-such-flag"]).is_err());
        assert!(parse(&["--no-shrink"]).unwrap().run.sweep.no_shrink);
        let cli = parse(&["replay", "t", "--seed", "1", "--trace-format", "json"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Replay(ref r)) if r.trace_format == Some(TraceFormat::Json))
        );
    }

    #[test]
    fn parses_minimize_and_check_determinism() {
        let cli = parse(&["minimize", "lost_update", "--seed", "3", "-p", "x"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Minimize(ref m)) if m.seed == Some(3)));
        assert!(parse(&["minimize", "t", "--seed", "3", "--fixture", "f.toml"]).is_err());
        let cli = parse(&["check-determinism", "races", "--runs", "5", "--seeds", "20"]).unwrap();
        match cli.command {
            Some(Command::CheckDeterminism(c)) => {
                assert_eq!((c.runs, c.seeds, c.filter.len()), (5, Some(20), 1));
            }
            other => panic!("{other:?}"),
        }
        let cli = parse(&["check-determinism"]).unwrap();
        assert!(matches!(cli.command, Some(Command::CheckDeterminism(ref c)) if c.runs == 10));
        assert!(parse(&["check-determinism", "--runs", "1"]).is_err());
        assert!(parse(&["check-determinism", "--format", "junit"]).is_err());
        assert!(parse(&["check-determinism", "--seed", "1", "--seeds", "2"]).is_err());
    }

    #[test]
    fn strips_the_cargo_subcommand_name() {
        let args = normalize_args(vec!["cargo-detest".into(), "detest".into(), "list".into()]);
        assert_eq!(
            args,
            vec![std::ffi::OsString::from("cargo-detest"), "list".into()]
        );
    }
}
