//! Renders the trace steps that result lines and `DETEST_TRACE=json` carry as a timeline, one
//! column per task, like the runtime's own `detest::trace::timeline`.

use crate::protocol::TraceStep;
use std::fmt::Write as _;

/// Width of one task's column.
const WIDTH: usize = 26;
/// More tasks than this and the timeline falls back to one line per step.
const MAX_COLUMNS: usize = 6;

/// The task number in a runtime task label: `task 1`, `task 0 (main)` → 1, 0.
pub fn task_number(label: &str) -> Option<u32> {
    label
        .trim()
        .strip_prefix("task ")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// How many steps preempted a task that could have continued.
pub fn preemptions(steps: &[TraceStep]) -> usize {
    steps.iter().filter(|s| s.preempts.is_some()).count()
}

/// `load AtomicUsize#0 :12`: one cell of the timeline.
fn cell(s: &TraceStep) -> String {
    let mut cell = String::new();
    cell.push(if s.preempts.is_some() { '*' } else { ' ' });
    cell.push_str(&s.op);
    if let Some(o) = &s.object {
        let _ = write!(cell, " {}#{}", o.kind, o.id);
    }
    if let Some(line) = s.location.as_deref().and_then(location_line) {
        let _ = write!(cell, " :{line}");
    }
    cell
}

/// The line number of `file:line:col` (or `file:line`).
fn location_line(loc: &str) -> Option<&str> {
    let mut parts = loc.rsplitn(3, ':');
    let last = parts.next()?;
    let before = parts.next();
    match (before, parts.next()) {
        (Some(line), Some(_)) => Some(line),
        (Some(_), None) => Some(last),
        _ => None,
    }
}

/// The timeline of `steps`: a header with one column per task, one row per step, `*` marking a
/// preemption and `!!` the failing task's last step. With `max_rows`, only the last rows are
/// shown (the failure is at the end), after a line saying how many were left out.
pub fn timeline(steps: &[TraceStep], failing_task: Option<u32>, max_rows: Option<usize>) -> String {
    let mut tasks: Vec<u32> = steps.iter().map(|s| s.task).collect();
    tasks.sort_unstable();
    tasks.dedup();
    let failing = failing_task.and_then(|t| steps.iter().rposition(|s| s.task == t));
    let skip = max_rows.map_or(0, |m| steps.len().saturating_sub(m));
    let mut out = String::new();
    let columns = tasks.len() <= MAX_COLUMNS;
    if columns {
        let _ = write!(out, "  {:>5} ", "step");
        for t in &tasks {
            let _ = write!(out, "| {:<w$}", format!("task {t}"), w = WIDTH - 2);
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    if skip > 0 {
        let _ = writeln!(out, "  {:>5}  ... {skip} earlier steps", "");
    }
    for (i, s) in steps.iter().enumerate().skip(skip) {
        let mark = if Some(i) == failing { "!!" } else { "  " };
        let _ = write!(out, "{mark}{:>5} ", s.step);
        if columns {
            for t in &tasks {
                let text = if *t == s.task {
                    cell(s).chars().take(WIDTH - 1).collect()
                } else {
                    String::new()
                };
                let _ = write!(out, "|{text:<w$}", w = WIDTH - 1);
            }
        } else {
            let _ = write!(out, " task {:<3}{}", s.task, cell(s));
            if let Some(loc) = &s.location {
                let _ = write!(out, "  at {loc}");
            }
            if let Some(p) = s.preempts {
                let _ = write!(out, "  (preempts task {p})");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TraceObject;

    fn step(step: u64, task: u32, op: &str, preempts: Option<u32>) -> TraceStep {
        TraceStep {
            step,
            task,
            op: op.into(),
            object: Some(TraceObject {
                id: 0,
                kind: "AtomicUsize".into(),
            }),
            location: Some("tests/races.rs:12:17".into()),
            preempts,
        }
    }

    #[test]
    fn labels_and_locations() {
        assert_eq!(task_number("task 0 (main)"), Some(0));
        assert_eq!(task_number("task 12"), Some(12));
        assert_eq!(task_number("main"), None);
        assert_eq!(location_line("src/a.rs:12:5"), Some("12"));
        assert_eq!(location_line("src/a.rs:12"), Some("12"));
        assert_eq!(location_line("nowhere"), None);
    }

    #[test]
    fn renders_columns_preemptions_and_the_failing_step() {
        let steps = vec![
            step(0, 0, "load", None),
            step(1, 1, "load", Some(0)),
            step(2, 1, "store", None),
            step(3, 0, "store", Some(1)),
        ];
        assert_eq!(preemptions(&steps), 2);
        let text = timeline(&steps, Some(0), None);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("| task 0") && lines[0].contains("| task 1"),
            "{text}"
        );
        assert!(lines[2].contains("|*load AtomicUsize#0 :12"), "{text}");
        assert!(lines[4].starts_with("!!    3 |*store"), "{text}");
        let short = timeline(&steps, Some(0), Some(2));
        assert!(short.contains("... 2 earlier steps"), "{short}");
        assert_eq!(short.lines().count(), 4, "{short}");
    }
}
