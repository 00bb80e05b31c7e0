//! `cargo detest replay TEST`: one execution in the foreground, with the full trace.

use crate::cli::{ReplayArgs, TraceFormat};
use crate::discover;
use crate::foreground;
use crate::model::TestId;
use crate::protocol;
use crate::worker::{self, WorkerCommand};
use crate::{build, exit, Refused};
use anyhow::{Context, Result};
use console::Style;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What to replay, resolved to environment variables for the runtime.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplayEnv {
    pub vars: Vec<(&'static str, String)>,
    /// For the header line: `seed 7`, `saved fixture x.toml:0 (seed 7)`.
    pub what: String,
}

/// `PATH` or `PATH:N`.
pub fn parse_fixture_arg(arg: &str) -> (PathBuf, usize) {
    if let Some((path, n)) = arg.rsplit_once(':') {
        if let Ok(n) = n.parse::<usize>() {
            return (PathBuf::from(path), n);
        }
    }
    (PathBuf::from(arg), 0)
}

pub fn replay_env(args: &ReplayArgs, package_root: &Path) -> Result<ReplayEnv> {
    let mut vars: Vec<(&'static str, String)> = Vec::new();
    let mut policy = args.policy.clone();
    // One execution in the foreground: no fixture replay first, no new fixture entries, and no
    // shrinking (the failure asked for is the one to show; `minimize` shrinks).
    vars.push((protocol::ENV_NO_SHRINK, "1".into()));
    let what = if let Some(seed) = args.seed {
        vars.push((protocol::ENV_FIXTURES, "off".into()));
        vars.push((protocol::ENV_SEED, seed.to_string()));
        format!("seed {seed}")
    } else if let Some(schedule) = &args.schedule {
        detest::Schedule::decode(schedule).map_err(|e| usage(format!("--schedule: {e}")))?;
        vars.push((protocol::ENV_FIXTURES, "off".into()));
        vars.push((protocol::ENV_REPLAY, schedule.clone()));
        "the given schedule".to_string()
    } else if let Some(arg) = &args.fixture {
        let (path, index, entry) = resolve_fixture(arg, package_root)?;
        // The runtime replays the entry itself: its shrunk schedule first, then its schedule,
        // then its seed, and says which applied.
        vars.push((protocol::ENV_FIXTURES, "read".into()));
        vars.push((protocol::ENV_FIXTURE, format!("{}:{index}", path.display())));
        policy = policy.or_else(|| Some(entry.policy.clone()));
        format!(
            "saved fixture {}:{index} (seed {}, {}, {})",
            path.display(),
            entry.seed,
            entry.kind,
            if !entry.shrunk_schedule.is_empty() {
                "by its shrunk schedule"
            } else if !entry.schedule.is_empty() {
                "by schedule"
            } else {
                "by seed"
            }
        )
    } else {
        return Err(usage(
            "say what to replay: --seed S, --schedule detest1:..., or --fixture PATH[:N]".into(),
        ));
    };
    if let Some(p) = policy {
        vars.push((protocol::ENV_POLICY, p));
    }
    match trace_format(args) {
        Some(TraceFormat::Text) => vars.push((protocol::ENV_TRACE, "1".into())),
        Some(TraceFormat::Json) => vars.push((protocol::ENV_TRACE, "json".into())),
        None => {}
    }
    Ok(ReplayEnv { vars, what })
}

/// A `--fixture PATH[:N]` argument: the file (relative to here, or else to the package, where
/// `detest-regressions/` lives) as an absolute path, since the worker runs from the package
/// root, the entry index, and the entry.
pub fn resolve_fixture(
    arg: &str,
    package_root: &Path,
) -> Result<(PathBuf, usize, detest::fixture::FixtureEntry)> {
    let (path, index) = parse_fixture_arg(arg);
    let path = if path.exists() || path.is_absolute() {
        path
    } else {
        package_root.join(path)
    };
    let path = std::path::absolute(&path).unwrap_or(path);
    let file = detest::fixture::FixtureFile::load(&path).map_err(|e| usage(e.to_string()))?;
    if file.entries.is_empty() {
        return Err(usage(format!("{} holds no saved failures", path.display())));
    }
    let Some(entry) = file.entries.get(index) else {
        return Err(usage(format!(
            "{} has {} entr{} (0..{}), not entry {index}",
            path.display(),
            file.entries.len(),
            if file.entries.len() == 1 { "y" } else { "ies" },
            file.entries.len() - 1
        )));
    };
    Ok((path, index, entry.clone()))
}

fn usage(message: String) -> anyhow::Error {
    Refused::Usage(message).into()
}

/// `--trace-format` implies `--trace`.
fn trace_format(args: &ReplayArgs) -> Option<TraceFormat> {
    args.trace_format
        .or(args.trace.then_some(TraceFormat::Text))
}

/// Builds the test binaries and finds the one test `query` names (for the one-test commands).
pub fn build_and_find(build: &crate::cli::BuildArgs, query: &str) -> Result<TestId> {
    let binaries: Vec<Arc<_>> = build::build(build)?.into_iter().map(Arc::new).collect();
    let tests = discover::collect(&binaries, &[])?;
    find_test(&tests, query)
}

/// The test `query` names: an exact libtest or full name wins, else a unique substring.
pub fn find_test(tests: &[(TestId, bool)], query: &str) -> Result<TestId> {
    let exact: Vec<&TestId> = tests
        .iter()
        .map(|(t, _)| t)
        .filter(|t| t.name == query || t.full_name() == query)
        .collect();
    let candidates = if exact.is_empty() {
        tests
            .iter()
            .map(|(t, _)| t)
            .filter(|t| t.full_name().contains(query))
            .collect()
    } else {
        exact
    };
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Refused::NoTests(format!(
            "no test matches `{query}` (see `cargo detest list`)"
        ))
        .into()),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(20)
                .map(|t| format!("  {}", t.full_name()))
                .collect();
            Err(usage(format!(
                "`{query}` matches {} tests; name one exactly, or narrow with -p/--lib/--test:\n{}",
                many.len(),
                names.join("\n")
            )))
        }
    }
}

pub fn replay(args: ReplayArgs) -> Result<i32> {
    crate::set_color(args.color);
    let test = build_and_find(&args.build, &args.test_name)?;
    let env = replay_env(&args, &test.binary.package_root)?;
    let cyan = Style::new().cyan().bold().for_stderr();
    eprintln!(
        "{} {} with {}",
        cyan.apply_to(format!("{:>12}", "Replaying")),
        test.full_name(),
        env.what
    );
    let cmd = WorkerCommand::for_test(&test, Duration::MAX);
    let mut command = worker::base_command(&cmd);
    // (`replay_env` sets DETEST_FIXTURES: a replay never writes a fixture of what it shows.)
    command.envs(env.vars.iter().map(|(k, v)| (*k, v.as_str())));
    foreground_env(&mut command, &args.build);
    let json = trace_format(&args) == Some(TraceFormat::Json);
    if json {
        command.stdout(Stdio::piped());
    }
    let steps = AtomicUsize::new(0);
    let ended = foreground::run(command, |stdout| {
        steps.store(split_json_trace(stdout), Ordering::Relaxed);
    })
    .with_context(|| format!("could not run {}", test.binary.path.display()))?;
    if ended.interrupted {
        eprintln!("{:>12} the replay was stopped", "Interrupted");
        return Ok(exit::INTERRUPTED);
    }
    if json && steps.load(Ordering::Relaxed) == 0 {
        let yellow = Style::new().yellow().bold().for_stderr();
        eprintln!(
            "{} the test printed no JSON trace (is its detest runtime older than DETEST_TRACE=json?)",
            yellow.apply_to("warning:")
        );
    }
    let crash = ended.crash();
    if crash.is_none() && ended.status.success() {
        let green = Style::new().green().bold().for_stderr();
        eprintln!(
            "{} {} passed with {}",
            green.apply_to(format!("{:>12}", "PASS")),
            test.full_name(),
            env.what
        );
        return Ok(exit::OK);
    }
    let red = Style::new().red().bold().for_stderr();
    eprintln!(
        "{} {} failed with {}: {}",
        red.apply_to(format!("{:>12}", "FAIL")),
        test.full_name(),
        env.what,
        ended.failure_summary()
    );
    Ok(exit::TEST_FAILED)
}

/// What every foreground run of a test needs besides its own variables: the result line
/// (`DETEST_FOREGROUND`) and the user's `--manifest-path` for the commands the test prints.
pub fn foreground_env(command: &mut std::process::Command, build: &crate::cli::BuildArgs) {
    command.env(protocol::ENV_FOREGROUND, "1");
    if let Some(m) = &build.manifest_path {
        command.env(protocol::ENV_MANIFEST_PATH, m);
    }
}

/// Streams a replay's stdout: the JSON trace lines between the runtime's markers go to our
/// stdout (so it is nothing but JSON lines), everything else the test printed to stderr.
/// Returns how many trace lines there were.
fn split_json_trace(stdout: impl std::io::Read) -> usize {
    use std::io::{BufRead, BufReader, Write};
    let mut inside = false;
    let mut steps = 0;
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let t = line.trim();
        // libtest's `test NAME ... ` has no newline of its own, so the marker may follow it.
        if let Some(at) = line.find(protocol::TRACE_JSON_BEGIN) {
            if !line[..at].trim().is_empty() {
                eprintln!("{}", &line[..at]);
            }
            inside = true;
        } else if t == protocol::TRACE_JSON_END {
            inside = false;
        } else if inside && t.starts_with('{') {
            steps += 1;
            let _ = writeln!(out, "{t}");
            let _ = out.flush();
        } else {
            eprintln!("{line}");
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_args() {
        assert_eq!(
            parse_fixture_arg("a/b.toml:3"),
            (PathBuf::from("a/b.toml"), 3)
        );
        assert_eq!(
            parse_fixture_arg("a/b.toml"),
            (PathBuf::from("a/b.toml"), 0)
        );
        assert_eq!(
            parse_fixture_arg("C:x/b.toml"),
            (PathBuf::from("C:x/b.toml"), 0)
        );
    }
}
