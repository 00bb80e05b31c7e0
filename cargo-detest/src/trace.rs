//! Renders the trace steps that result lines and `DETEST_TRACE=json` carry as a timeline, one
//! column per task, with the runtime's own layout (`detest::trace::layout`), so both read the same.

use crate::protocol::TraceStep;
use detest::trace::layout::{render, Row};

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

/// How many preemptions the steps show (each is carried by exactly one step).
pub fn preemptions(steps: &[TraceStep]) -> usize {
    steps.iter().filter(|s| s.preempted_by.is_some()).count()
}

/// How many scheduling steps the rows are (a `rand` row shares the step before it).
pub fn step_count(steps: &[TraceStep]) -> usize {
    steps.iter().filter(|s| s.op != "rand").count()
}

/// `file` and `line` of `file:line:col` (or `file:line`).
fn file_line(loc: &str) -> Option<(&str, u32)> {
    let mut parts = loc.rsplitn(3, ':');
    let last = parts.next()?;
    let middle = parts.next()?;
    match parts.next() {
        Some(file) => Some((file, middle.parse().ok()?)),
        None => Some((middle, last.parse().ok()?)),
    }
}

/// The timeline of `steps`, laid out by the runtime's own renderer
/// ([`detest::trace::layout::render`]): a header with one column per task, one row per step,
/// `*` marking where a task was preempted and `!!` the failing task's last step. With
/// `max_rows`, only the last rows are shown (the failure is at the end), after a line saying how
/// many were left out.
pub fn timeline(steps: &[TraceStep], failing_task: Option<u32>, max_rows: Option<usize>) -> String {
    let skip = max_rows.map_or(0, |m| steps.len().saturating_sub(m));
    let rows: Vec<Row<'_>> = steps[skip..]
        .iter()
        .map(|s| {
            let place = s.location.as_deref().and_then(file_line);
            Row {
                step: s.step,
                task: s.task,
                op: &s.op,
                object: s.object.as_ref().map(|o| (o.kind.as_str(), o.id)),
                file: place.map(|(f, _)| f),
                line: place.map(|(_, l)| l),
                preempted_by: s.preempted_by,
                time: s.time,
                value: s.value,
            }
        })
        .collect();
    render(&rows, failing_task, skip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TraceObject;

    fn step(step: u64, task: u32, op: &str, preempted_by: Option<u32>) -> TraceStep {
        TraceStep {
            step,
            task,
            op: op.into(),
            object: Some(TraceObject {
                id: 0,
                kind: "AtomicUsize".into(),
            }),
            location: Some("tests/races.rs:12:17".into()),
            preempted_by,
            time: 0,
            value: None,
        }
    }

    #[test]
    fn labels_and_locations() {
        assert_eq!(task_number("task 0 (main)"), Some(0));
        assert_eq!(task_number("task 12"), Some(12));
        assert_eq!(task_number("main"), None);
        assert_eq!(file_line("src/a.rs:12:5"), Some(("src/a.rs", 12)));
        assert_eq!(file_line("src/a.rs:12"), Some(("src/a.rs", 12)));
        assert_eq!(file_line("nowhere"), None);
    }

    #[test]
    fn renders_columns_preemptions_and_the_failing_step() {
        let steps = vec![
            step(1, 0, "load", Some(1)),
            step(2, 1, "load", None),
            step(3, 1, "store", Some(0)),
            step(4, 0, "store", None),
        ];
        assert_eq!(preemptions(&steps), 2);
        let text = timeline(&steps, Some(0), None);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("| task 0") && lines[0].contains("| task 1"),
            "{text}"
        );
        assert!(lines[0].ends_with("(:N = tests/races.rs:N)"), "{text}");
        assert!(lines[1].contains("|*load AtomicUsize#0 :12"), "{text}");
        assert!(lines[3].contains("|*store AtomicUsize#0 :12"), "{text}");
        assert!(lines[4].starts_with("!!   4 | store"), "{text}");
        assert_eq!(text.matches("|*").count(), preemptions(&steps), "{text}");
        let short = timeline(&steps, Some(0), Some(2));
        assert!(short.contains("... 2 earlier steps"), "{short}");
        assert_eq!(short.lines().count(), 4, "{short}");
    }

    /// The worker's JSON carries virtual time and drawn values; the timeline shows both, and
    /// long names whole.
    #[test]
    fn renders_time_draws_and_long_names_from_json() {
        let json = [
            r#"{"step":1,"task":0,"op":"lock","object":{"id":3,"type":"Mutex<(Instant, bool)>"},"location":"tests/t.rs:40:9","preempted_by":null,"time":0,"value":null}"#,
            r#"{"step":1,"task":0,"op":"rand","object":null,"location":"tests/t.rs:41:9","preempted_by":null,"time":0,"value":17}"#,
            r#"{"step":2,"task":0,"op":"unlock","object":{"id":3,"type":"Mutex<(Instant, bool)>"},"location":"tests/t.rs:42:9","preempted_by":null,"time":2000,"value":null}"#,
        ];
        let steps: Vec<TraceStep> = json
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(step_count(&steps), 2);
        let text = timeline(&steps, None, None);
        assert!(text.contains("lock Mutex<(Instant, bool)>#3 :40"), "{text}");
        assert!(text.contains("rand :41 → 17"), "{text}");
        assert!(text.contains("2µs |"), "{text}");
    }
}
