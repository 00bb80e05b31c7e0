//! JSON lines on stdout, one object per line, flushed as each test finishes. The format is
//! documented in the README ("JSON lines").

use super::{replay_command, Context};
use crate::model::{Summary, TestKind, TestReport};
use crate::sweep::Observer;
use crate::worker::{Found, Trace};
use serde_json::{json, Value};
use std::io::Write;

pub struct JsonLines {
    ctx: Context,
}

impl JsonLines {
    pub fn new(ctx: Context) -> Self {
        JsonLines { ctx }
    }

    pub fn emit(&self, value: &Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }

    pub fn summary(&self, s: &Summary) {
        self.emit(&summary_json(s));
    }
}

impl Observer for JsonLines {
    fn finished(&mut self, r: &TestReport) {
        self.emit(&test_json(r, &self.ctx));
    }
}

pub fn summary_json(s: &Summary) -> Value {
    json!({
        "type": "summary",
        "tests": s.tests,
        "passed": s.passed,
        "failed": s.failed,
        "skipped": s.skipped,
        "cancelled": s.cancelled,
        "unchanged": s.unchanged,
        "seeds": s.seeds,
        "duration_ms": s.duration.as_millis() as u64,
        "interrupted": s.interrupted,
        "success": s.success(),
    })
}

pub fn failure_json(r: &TestReport, f: &Found, ctx: &Context) -> Value {
    let w = f.failure();
    json!({
        "seed": f.result.seed,
        "kind": w.kind,
        "message": w.message,
        "location": w.location,
        "task": w.task,
        "policy": w.policy,
        "schedule": if w.schedule.is_empty() { Value::Null } else { Value::from(w.schedule.clone()) },
        // Above the bound `schedule` is abbreviated (its length here): replay by seed.
        "schedule_abbreviated": w.schedule_len.is_some(),
        "schedule_len": w.schedule_len,
        "steps": f.result.steps,
        "fixture": f.result.fixture,
        // The policy of the fixed execution this was, or a replayed entry came from (then
        // `seed` is 0 of that policy).
        "fixed": super::fixed_policy(r, f),
        "saved": f.saved,
        "not_saved": (f.saved.is_none() && f.result.fixture.is_none())
            .then(|| super::not_saved(r, f)),
        "replay": replay_command(r, f, ctx),
        "shrunk": f.result.shrunk,
        "replay_shrunk": f.result.shrunk.as_ref().filter(|s| s.schedule_len.is_none()).map(|s| r.id.replay_command(
            &format!("--schedule {}", crate::model::shell_word(&s.schedule)),
            ctx.manifest_path.as_deref()
        )),
        "trace": match &f.trace {
            Some(Trace::Steps(steps)) => json!(steps),
            _ => Value::Null,
        },
        "trace_text": match &f.trace {
            Some(Trace::Text(t)) => Value::from(t.clone()),
            _ => Value::Null,
        },
    })
}

pub fn test_json(r: &TestReport, ctx: &Context) -> Value {
    let (kind, expect) = match &r.kind {
        TestKind::Detest(a) => ("detest", Some(a.expect.clone())),
        TestKind::Plain(_) => ("plain", None),
        TestKind::Ignored => ("ignored", None),
    };
    let plain = match &r.kind {
        TestKind::Plain(run) if !run.passed => {
            let panic = super::plain_panic(&run.output);
            json!({
                "reason": run.reason,
                "message": panic.as_ref().map(|p| p.message.clone()),
                "location": panic.map(|p| p.location),
                "output": run.output,
            })
        }
        _ => Value::Null,
    };
    json!({
        "type": "test",
        "event": r.verdict.as_str(),
        "name": r.id.full_name(),
        "test": r.id.name,
        "binary": r.id.binary.id,
        "package": r.id.binary.package,
        "target": r.id.binary.target,
        "target_kind": r.id.binary.kind,
        "kind": kind,
        "expect": expect,
        "policy": r.policy,
        "seed_range": r.range.map(|x| json!([x.start(), seed_end(x)])),
        "seeds_planned": r.seeds_planned,
        "seeds_run": r.seeds_run,
        "fixtures_replayed": r.fixtures_replayed,
        "steps": r.steps,
        "duration_ms": r.duration.as_millis() as u64,
        "failures": r.failures.iter().map(|f| failure_json(r, f, ctx)).collect::<Vec<_>>(),
        "expected": r.expected.as_ref().map(|f| failure_json(r, f, ctx)),
        "errors": r.errors,
        "note": r.note,
        // `unchanged`: the earlier pass this test was skipped for.
        "unchanged_since": r.unchanged.as_ref().map(|p| p.at),
        "unchanged_since_utc": r.unchanged.as_ref().map(|p| crate::cache::utc_minute(p.at)),
        "unchanged_executions": r.unchanged.as_ref().map(|p| p.executions),
        "explored_before": r.explored_before,
        "explored_total": r.explored_total,
        "plain": plain,
        "determinism": r.determinism_runs.map(|runs| json!({
            "runs": runs,
            "deterministic": r.nondeterministic().next().is_none(),
            "nondeterministic_seeds": r.nondeterministic().map(|d| d.seed).collect::<Vec<_>>(),
            "seeds": r.determinism,
        })),
    })
}

/// A range's end (one past its last seed) as a JSON integer; 2^64 (a range ending at
/// `u64::MAX`) does not fit a 64-bit JSON integer and is written as a string.
fn seed_end(range: crate::plan::SeedRange) -> Value {
    u64::try_from(range.end()).map_or_else(|_| json!(range.end().to_string()), |e| json!(e))
}
