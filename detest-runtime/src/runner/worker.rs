//! The `cargo detest` side of the runner: announcing a test, and running a seed range as a worker
//! that streams one JSON line per event (see the protocol in the module above).

use super::env::{Env, FixtureMode, ResultsTarget};
use super::replay::{replay_entry, Estimate, How};
use super::sweep::{run_seed, selected_entries, Ctx, Handled, ShrinkMode, Stored};
use super::target::TestInfo;
use super::watchdog::Watchdog;
use super::{fail_test, TestSpec};
use crate::fixture::{FixtureEntry, FixtureFile};
use crate::trace::TraceEvent;
use crate::{DeterminismReport, Execution, Failure, Shrunk};
use serde_json::{json, Value};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::path::Path;
use std::sync::Arc;

/// Appends the test's description to the announce file.
pub(super) fn announce(path: &Path, spec: &TestSpec, info: &TestInfo, env: &Env) -> io::Result<()> {
    let config = super::config(spec, env);
    let (count, error) = match FixtureFile::load(&info.fixture_path) {
        Ok(file) => (file.entries.len(), None),
        Err(e) => (0, Some(e.to_string())),
    };
    let line = json!({
        "name": info.name,
        "seeds": config.seeds,
        "seed_start": config.seed_start,
        "policy": config.policy.to_string(),
        "expect": spec.expect.as_str(),
        "expect_message": spec.expect_message,
        "max_steps": config.max_steps,
        "timeout_ms": spec.timeout_ms,
        "fixture_file": info.fixture_path.display().to_string(),
        "fixture_count": count,
        "fixture_error": error,
        "package": info.package,
        "target": info.target,
        "target_kind": info.kind.as_str(),
    });
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    write_line(&file, &line)
}

/// One `write` per line: with `O_APPEND`, lines from concurrent writers never interleave.
fn write_line(mut file: &File, value: &Value) -> io::Result<()> {
    let mut text = value.to_string();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// The result stream.
pub(super) struct Results {
    // Left open on drop when it is an inherited descriptor the worker does not own.
    file: ManuallyDrop<File>,
    owned: bool,
}

impl Drop for Results {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.file) }
        }
    }
}

impl Results {
    pub(super) fn open(target: &ResultsTarget) -> io::Result<Results> {
        match target {
            ResultsTarget::Path(path) => Ok(Results {
                file: ManuallyDrop::new(OpenOptions::new().create(true).append(true).open(path)?),
                owned: true,
            }),
            #[cfg(unix)]
            ResultsTarget::Fd(fd) => {
                use std::os::unix::io::FromRawFd;
                // SAFETY: `cargo detest` hands this descriptor to the worker for this purpose;
                // it is never closed here.
                let file = unsafe { File::from_raw_fd(*fd) };
                Ok(Results {
                    file: ManuallyDrop::new(file),
                    owned: false,
                })
            }
            #[cfg(not(unix))]
            ResultsTarget::Fd(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "DETEST_RESULTS=fd:N needs a unix platform; pass a path",
            )),
        }
    }

    fn line(&self, value: Value) {
        if let Err(e) = write_line(&self.file, &value) {
            // Without its result stream, a worker's work is lost: stop rather than go on blind.
            fail_test(format!("detest: cannot write to DETEST_RESULTS: {e}"));
        }
    }

    pub(super) fn start(&self, seed: u64, fixture: Option<&str>) {
        let mut v = json!({"event": "start", "seed": seed});
        if let Some(f) = fixture {
            v["fixture"] = json!(f);
        }
        self.line(v);
    }

    /// The start line of a fixed execution: seed 0 of its own policy.
    pub(super) fn start_fixed(&self, policy: crate::Policy) {
        self.line(json!({"event": "start", "seed": 0, "policy": policy.to_string()}));
    }

    /// The result line of one execution; `handled` is its failure after saving, shrinking and
    /// tracing; `fixture` the entry it replayed and how.
    pub(super) fn result(
        &self,
        exec: &Execution,
        handled: Option<&Handled>,
        fixture: Option<(&str, &How)>,
    ) {
        let failure = handled.map(|h| &h.failure).or(exec.failure.as_ref());
        let trace: &[TraceEvent] = handled.map_or(&exec.trace, Handled::trace);
        let mut v = json!({
            "event": "result",
            "seed": exec.seed,
            "status": if failure.is_some() { "fail" } else { "pass" },
            "steps": exec.steps,
            "saved": handled
                .and_then(|h| h.saved.as_ref())
                .map(|(path, index)| format!("{}:{index}", path.display())),
            "fixture_note": handled.map(|h| h.fixture_note.as_str()),
            "failure": failure.map(failure_json),
            "shrunk": handled.and_then(|h| h.shrunk.as_ref()).map(shrunk_json),
            "trace": trace_json(trace),
        });
        if let Some((id, how)) = fixture {
            v["fixture"] = json!(id);
            v["replayed"] = json!(how.as_str());
        }
        self.line(v);
    }

    /// One seed of a determinism check.
    pub(super) fn determinism(&self, report: &DeterminismReport) {
        self.line(json!({
            "event": "determinism",
            "seed": report.seed,
            "runs": report.runs,
            "histogram": report
                .histogram
                .iter()
                .map(|(hash, count)| json!([format!("{hash:016x}"), count]))
                .collect::<Vec<_>>(),
            "deterministic": report.is_deterministic(),
            "divergence": report.divergence.as_ref().map(|d| json!({
                "step": d.step,
                "index": d.index,
                "expected": d.expected,
                "actual": d.actual,
                "diff": d.diff,
                "likely_cause": d.likely_cause,
            })),
        }));
    }

    /// The result line the watchdog writes before it aborts the process.
    pub(super) fn hang(&self, seed: u64, entry: &FixtureEntry) {
        let v = json!({
            "event": "result",
            "seed": seed,
            "status": "fail",
            "steps": null,
            "saved": null,
            "failure": {
                "kind": entry.kind,
                "message": entry.message,
                "location": null,
                "task": null,
                "schedule": "",
                "policy": entry.policy,
            },
            "shrunk": null,
            "trace": [],
        });
        let _ = write_line(&self.file, &v);
    }
}

fn shrunk_json(s: &Shrunk) -> Value {
    json!({
        "schedule": s.schedule.encode(),
        "steps_before": s.steps_before,
        "steps_after": s.steps_after,
        "preemptions_before": s.preemptions_before,
        "preemptions_after": s.preemptions_after,
        "executions": s.executions,
        "complete": s.complete,
        "summary": s.summary(),
    })
}

/// The objects of [`crate::trace::to_json_lines`], as an array.
fn trace_json(events: &[TraceEvent]) -> Value {
    Value::Array(
        crate::trace::to_json_lines(events)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
    )
}

fn failure_json(f: &Failure) -> Value {
    json!({
        "kind": f.kind.as_str(),
        "message": f.message,
        "location": f.location,
        "task": f.task.as_ref().map(|t| t.to_string()),
        "schedule": f.schedule.encode(),
        "policy": f.policy,
    })
}

/// Worker mode: exactly the given seeds (or the saved fixtures), one result line each.
pub(super) fn run<F: Fn()>(
    target: &ResultsTarget,
    spec: &TestSpec,
    info: &TestInfo,
    env: &Env,
    body: &F,
) {
    let results = match Results::open(target) {
        Ok(r) => Arc::new(r),
        Err(e) => fail_test(format!("detest: cannot open DETEST_RESULTS: {e}")),
    };
    let ctx = Ctx::new(spec, info, env);
    let watchdog = ctx.watchdog(Some(results.clone()));
    let body = &watchdog.timed(body);
    let mut estimate = Estimate::default();

    if env.fixtures == FixtureMode::Only || env.fixture.is_some() {
        let (path, entries) = selected_entries(&ctx);
        let mut failed = Vec::new();
        for (index, entry) in entries {
            let id = format!("{}:{index}", path.display());
            results.start(entry.seed, Some(&id));
            let (exec, how) = {
                let _running = watchdog.begin(entry.seed);
                replay_entry(&ctx.config, &entry, &mut estimate, body)
            };
            let handled = exec.failure.clone().map(|f| {
                ctx.handle(
                    f,
                    Stored::Not(String::new()),
                    ShrinkMode::Skip(None),
                    &watchdog,
                    body,
                )
            });
            results.result(&exec, handled.as_ref(), Some((&id, &how)));
            if exec.failure.is_some() {
                failed.push(id);
            }
        }
        if !failed.is_empty() {
            fail_test(format!(
                "detest: test `{}`: saved fixture entries fail: {}",
                info.name,
                failed.join(", ")
            ));
        }
        return;
    }

    let config = &ctx.config;
    let seeds = config.checked_range();
    // The chunk that begins a sweep checks the fixed executions (seed 0 of `round-robin`,
    // `rotate` and `first-release`); the others only take the estimate from them.
    if env.fixed_runs && ctx.sweeps_fixed_executions() {
        // Each has a start line of its own, so that a crash or hang in it is blamed on it.
        let fixed = {
            let _running = watchdog.begin(0);
            config.fixed_executions_with(body, &mut |policy| {
                results.start_fixed(policy);
                watchdog.relabel(0, policy);
            })
        };
        estimate.set(crate::Config::estimate_from(&fixed));
        if let Some(exec) = fixed.into_iter().find(|e| e.failure.is_some()) {
            report_and_exit(&ctx, &results, &watchdog, exec, body);
        }
    }
    for seed in seeds {
        // Written before the estimate probe too, so that a crash in it has a seed to blame.
        results.start(seed, None);
        let exec = run_seed(config, &mut estimate, &watchdog, seed, body);
        if exec.failure.is_none() {
            results.result(&exec, None, None);
            continue;
        }
        report_and_exit(&ctx, &results, &watchdog, exec, body);
    }
}

/// A failing execution in a worker: saved first, then shrunk into the same entry, then
/// reported; the worker then ends.
fn report_and_exit<F: Fn()>(
    ctx: &Ctx<'_>,
    results: &Results,
    watchdog: &Watchdog,
    exec: Execution,
    body: &F,
) -> ! {
    let seed = exec.seed;
    let failure = exec.failure.clone().expect("a failing execution");
    let handled = ctx.handle(failure, Stored::New, ShrinkMode::Auto, watchdog, body);
    results.result(&exec, Some(&handled), None);
    fail_test(format!(
        "detest: test `{}` failed at seed {seed} (policy {}): {}{}",
        ctx.info.name,
        handled.failure.policy,
        handled.failure,
        handled
            .shrunk
            .as_ref()
            .map(|s| format!("\n{}", s.summary()))
            .unwrap_or_default()
    ));
}
