//! Human-readable failure reports.

use crate::report::Failure;
use std::fmt::Write as _;

/// How many trailing trace steps a failure block shows.
pub const TRACE_TAIL: usize = 12;

/// A failure block: what failed, where, the last steps, the schedule and how to reproduce it.
/// `repro` lines (commands) are appended last, so the block ends with a copy-pasteable command.
pub fn failure_block(failure: &Failure, repro: Option<&[String]>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "detest: {} (seed {}, policy {})",
        failure.kind, failure.seed, failure.policy
    );
    if let Some(task) = &failure.task {
        let _ = writeln!(out, "  task:     {task}");
    }
    let mut lines = failure.message.lines();
    if let Some(first) = lines.next() {
        let _ = writeln!(out, "  message:  {first}");
        for line in lines {
            let _ = writeln!(out, "            {line}");
        }
    }
    if let Some(loc) = &failure.location {
        let _ = writeln!(out, "  location: {loc}");
    }
    let _ = writeln!(out, "  steps:    {}", failure.steps);
    if !failure.trace.is_empty() {
        let skip = failure.trace.len().saturating_sub(TRACE_TAIL);
        let _ = writeln!(
            out,
            "  last {} of {} steps:",
            failure.trace.len() - skip,
            failure.trace.len()
        );
        for event in &failure.trace[skip..] {
            let _ = writeln!(out, "    {event}");
        }
    }
    let _ = writeln!(out, "  schedule: {}", failure.schedule);
    if let Some(repro) = repro {
        let _ = writeln!(out, "  reproduce with:");
        for cmd in repro {
            let _ = writeln!(out, "    {cmd}");
        }
    }
    out
}
