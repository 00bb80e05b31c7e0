//! `cargo detest minimize TEST --seed S`: shrink one failure in the foreground.
//!
//! The runtime does the work (`DETEST_MINIMIZE=1`): it runs the failure, shrinks its schedule
//! (preemptions first, then steps, keeping the failure's kind and location), prints the summary
//! line, the timeline and the shrunk schedule, saves the shrunk schedule into the fixture, and
//! writes its result line (with `shrunk`) to `DETEST_RESULTS`. This command builds, finds the
//! test, lets its output through, and ends with the command that replays the shrunk schedule.

use crate::cli::MinimizeArgs;
use crate::exit;
use crate::foreground;
use crate::model::{shell_word, TestId};
use crate::protocol::{self, Shrunk, WorkerEvent};
use crate::replay::{build_and_find, resolve_fixture};
use crate::worker::{self, WorkerCommand};
use anyhow::{Context, Result};
use console::Style;
use std::time::Duration;

/// The shrink result in the runtime's result lines (the last one that has it).
pub fn read_shrunk(results: &str) -> Option<Shrunk> {
    results
        .lines()
        .filter_map(|l| match serde_json::from_str::<WorkerEvent>(l.trim()) {
            Ok(WorkerEvent::Result(r)) => r.shrunk,
            _ => None,
        })
        .next_back()
}

/// `(before, after)` preemptions of a summary line (`shrunk 14 → 9 steps, 3 → 1 preemptions`).
pub fn preemptions(summary: &str) -> Option<(u64, u64)> {
    let i = summary.find(" preemption")?;
    let words: Vec<&str> = summary[..i].split_whitespace().collect();
    match words.as_slice() {
        [.., before, "→", after] => {
            Some((before.trim_matches(',').parse().ok()?, after.parse().ok()?))
        }
        _ => None,
    }
}

pub fn minimize(args: MinimizeArgs) -> Result<i32> {
    crate::set_color(args.color);
    let test = build_and_find(&args.build, &args.test_name)?;
    let mut vars: Vec<(&str, String)> = vec![(protocol::ENV_MINIMIZE, "1".into())];
    let mut policy = args.policy.clone();
    // How to replay the original failure, should nothing shrink.
    let (what, original) = if let Some(seed) = args.seed {
        vars.push((protocol::ENV_SEED, seed.to_string()));
        (format!("seed {seed}"), format!("--seed {seed}"))
    } else if let Some(schedule) = &args.schedule {
        detest::Schedule::decode(schedule)
            .map_err(|e| crate::Refused::Usage(format!("--schedule: {e}")))?;
        vars.push((protocol::ENV_REPLAY, schedule.clone()));
        (
            "the given schedule".to_string(),
            format!("--schedule {}", shell_word(schedule)),
        )
    } else if let Some(arg) = &args.fixture {
        let (path, index, entry) = resolve_fixture(arg, &test.binary.package_root)?;
        let id = format!("{}:{index}", path.display());
        vars.push((protocol::ENV_FIXTURE, id.clone()));
        policy = policy.or(Some(entry.policy.clone()));
        (
            format!("saved fixture {id} (seed {}, {})", entry.seed, entry.kind),
            format!("--fixture {}", shell_word(&id)),
        )
    } else {
        return Err(crate::Refused::Usage(
            "say what to minimize: --seed S, --schedule detest1:..., or --fixture PATH[:N]".into(),
        )
        .into());
    };
    if let Some(p) = &policy {
        vars.push((protocol::ENV_POLICY, p.clone()));
    }
    let cyan = Style::new().cyan().bold().for_stderr();
    eprintln!(
        "{} {} with {what}",
        cyan.apply_to(format!("{:>12}", "Minimizing")),
        test.full_name(),
    );
    let cmd = WorkerCommand::for_test(&test, Duration::MAX);
    let mut command = worker::base_command(&cmd);
    command.envs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    if let Some(m) = &args.build.manifest_path {
        command.env(protocol::ENV_MANIFEST_PATH, m);
    }
    // DETEST_MINIMIZE writes its own start and result lines: no DETEST_FOREGROUND.
    let ended = foreground::run(command, |_| {})
        .with_context(|| format!("could not run {}", test.binary.path.display()))?;
    if ended.interrupted {
        eprintln!("{:>12} the minimization was stopped", "Interrupted");
        return Ok(exit::INTERRUPTED);
    }
    let shrunk = ended.result().and_then(|r| r.shrunk.clone());
    let manifest = args.build.manifest_path.as_deref();
    Ok(finish(
        &test,
        &what,
        &original,
        &ended,
        shrunk.as_ref(),
        manifest,
    ))
}

fn finish(
    test: &TestId,
    what: &str,
    original: &str,
    ended: &foreground::Ended,
    shrunk: Option<&Shrunk>,
    manifest: Option<&str>,
) -> i32 {
    let bold = Style::new().bold().for_stderr();
    let crash = ended.crash();
    if crash.is_none() && ended.status.success() {
        let green = Style::new().green().bold().for_stderr();
        eprintln!(
            "{} {} passed with {what}: there is no failure to minimize",
            green.apply_to(format!("{:>12}", "PASS")),
            test.full_name()
        );
        return exit::OK;
    }
    let red = Style::new().red().bold().for_stderr();
    eprintln!(
        "{} {} fails with {what}: {}",
        red.apply_to(format!("{:>12}", "FAIL")),
        test.full_name(),
        ended.failure_summary()
    );
    if let Some(s) = shrunk {
        eprintln!(
            "{} {}",
            bold.apply_to(format!("{:>12}", "Minimized")),
            crate::output::shrunk_summary(s)
        );
    }
    match shrunk.map(|s| &s.schedule) {
        // Above the bound the shrunk schedule arrives abbreviated: the original command.
        Some(_) if shrunk.is_some_and(|s| s.schedule_len.is_some()) => {
            eprintln!("  (the shrunk schedule is too long to pass as an argument) reproduce with:");
            eprintln!("    {}", test.replay_command(original, manifest));
        }
        Some(schedule) => {
            eprintln!("  replay the shrunk schedule with:");
            eprintln!(
                "    {}",
                test.replay_command(&format!("--schedule {}", shell_word(schedule)), manifest)
            );
        }
        None => {
            eprintln!("  (it could not be shrunk) reproduce with:");
            eprintln!("    {}", test.replay_command(original, manifest));
        }
    }
    exit::TEST_FAILED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shrink_result() {
        let lines = r#"{"event":"start","seed":3}
{"event":"result","seed":3,"status":"fail","steps":14,"saved":null,"failure":{"kind":"panic","message":"m","location":null,"task":"task 0 (main)","schedule":"detest1:A","policy":"chaos"},"shrunk":{"schedule":"detest1:B","steps_before":14,"steps_after":9,"preemptions_before":3,"preemptions_after":1,"summary":"shrunk 14 → 9 steps, 3 → 1 preemptions in 0.0 s (12 executions)"},"trace":[]}
"#;
        let s = read_shrunk(lines).unwrap();
        assert_eq!(s.schedule, "detest1:B");
        assert_eq!(preemptions(&s.summary), Some((3, 1)));
        assert_eq!(read_shrunk(r#"{"event":"start","seed":3}"#), None);
    }
}
