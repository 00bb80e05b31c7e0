//! The timeline layout, shared by the runtime (which renders its own [`TraceEvent`]s) and
//! `cargo detest` (which renders the steps it received as JSON): one renderer, so both read the
//! same.
//!
//! Nothing that identifies an object or a location is ever cut: columns widen to fit their
//! widest cell, and only the generic arguments of a very long type name are elided, in the
//! middle (`Mutex<HashMap<Str…, Instant)>>>#3`), never its `#id`. Step numbers are as wide as
//! the largest one shown. Virtual time is shown only on the rows where it changed, a drawn random
//! value on the row that drew it.
//!
//! [`TraceEvent`]: super::TraceEvent

use std::fmt::Write as _;
use std::time::Duration;

/// More tasks than this and the timeline falls back to one line per step.
pub const MAX_COLUMNS: usize = 6;

/// Type names longer than this (in characters) have their generic arguments elided in the
/// middle.
const MAX_TYPE_NAME: usize = 32;

/// One step as the timeline needs it, borrowed from whichever representation holds the trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Row<'a> {
    pub step: u64,
    pub task: u32,
    pub op: &'a str,
    /// The object's short type name and id.
    pub object: Option<(&'a str, u64)>,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    /// The task was preempted at this step (see [`super::TraceEvent::preempted_by`]).
    pub preempted_by: Option<u32>,
    /// Virtual nanoseconds since the execution started.
    pub time: u64,
    /// The value drawn by a `rand` step.
    pub value: Option<u64>,
}

/// `Mutex<(Instant, bool)>` stays whole; a longer name keeps its outer type and both ends of its
/// generic arguments: `Mutex<HashMap<String, Vec<(u64, Instant)>>>` → `Mutex<HashMap<Str…,
/// Instant)>>>`.
pub fn abbreviate_type(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= MAX_TYPE_NAME {
        return name.to_owned();
    }
    let (Some(open), Some(close)) = (
        chars.iter().position(|&c| c == '<'),
        chars.iter().rposition(|&c| c == '>'),
    ) else {
        return name.to_owned();
    };
    // Keep as much of the arguments as fits, split between their start and their end.
    let keep = MAX_TYPE_NAME
        .saturating_sub(open + 3 + (chars.len() - close))
        .max(8);
    let args = &chars[open + 1..close];
    if args.len() <= keep {
        return name.to_owned();
    }
    let head: String = args[..keep / 2].iter().collect();
    let tail: String = args[args.len() - (keep - keep / 2)..].iter().collect();
    let outer: String = chars[..=open].iter().collect();
    let rest: String = chars[close..].iter().collect();
    format!("{outer}{head}…{tail}{rest}")
}

/// `1.5ms`, `2s`, `150ns`.
pub fn format_time(nanos: u64) -> String {
    format!("{:?}", Duration::from_nanos(nanos))
}

/// The text of one row's cell: `*lock Mutex<i64>#1 :22`, ` rand :9 → 17`.
fn cell(row: &Row<'_>, one_file: bool) -> String {
    let mut cell = String::new();
    cell.push(if row.preempted_by.is_some() { '*' } else { ' ' });
    cell.push_str(row.op);
    if let Some((kind, id)) = row.object {
        let _ = write!(cell, " {}#{id}", abbreviate_type(kind));
    }
    match (row.file, row.line) {
        (Some(_), Some(line)) if one_file => {
            let _ = write!(cell, " :{line}");
        }
        (Some(file), Some(line)) => {
            let _ = write!(cell, " {file}:{line}");
        }
        _ => {}
    }
    if let Some(v) = row.value {
        let _ = write!(cell, " → {v}");
    }
    cell
}

/// Renders rows as a timeline: a header with one column per task, one row per step, `*` marking
/// the step at which a task was preempted and `!!` the failing task's last step. `earlier` steps
/// left out before the first row are announced under the header.
///
/// When every located step is in one file, cells show `:line` and the header names the file;
/// otherwise they show `file:line`. Traces with more than [`MAX_COLUMNS`] tasks fall back to one
/// line per step.
pub fn render(rows: &[Row<'_>], failing_task: Option<u32>, earlier: usize) -> String {
    let mut tasks: Vec<u32> = rows.iter().map(|r| r.task).collect();
    tasks.sort_unstable();
    tasks.dedup();
    let columns = tasks.len() <= MAX_COLUMNS;
    let mut files = rows.iter().filter_map(|r| r.file);
    let first_file = files.next();
    let one_file = columns && files.all(|f| Some(f) == first_file);
    let failing = failing_task.and_then(|t| rows.iter().rposition(|r| r.task == t));

    // Step and time columns, blank where unchanged from the row above (a `rand` row shares the
    // step it followed; time is shown where it moved).
    let mut steps = Vec::with_capacity(rows.len());
    let mut times = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &rows[p]);
        steps.push(match prev {
            Some(p) if p.step == r.step => String::new(),
            _ => r.step.to_string(),
        });
        times.push(match prev {
            Some(p) if p.time == r.time => String::new(),
            None if r.time == 0 => String::new(),
            _ => format_time(r.time),
        });
    }
    let with_time = times.iter().any(|t| !t.is_empty());
    let step_w = steps.iter().map(String::len).max().unwrap_or(0).max(4);
    let time_w = times
        .iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let cells: Vec<String> = rows.iter().map(|r| cell(r, one_file)).collect();

    let mut out = String::new();
    let _ = write!(out, "  {:>step_w$} ", "step");
    if with_time {
        let _ = write!(out, "{:>time_w$} ", "time");
    }
    let mut widths = Vec::new();
    if columns {
        for t in &tasks {
            let label = format!(" task {t}");
            let w = rows
                .iter()
                .zip(&cells)
                .filter(|(r, _)| r.task == *t)
                .map(|(_, c)| c.chars().count())
                .max()
                .unwrap_or(0)
                .max(label.len())
                + 1;
            widths.push(w);
            let _ = write!(out, "|{label:<w$}");
        }
        if let (true, Some(file)) = (one_file, first_file) {
            let _ = write!(out, "   (:N = {file}:N)");
        }
    }
    finish_line(&mut out);
    if earlier > 0 {
        let earlier = crate::render::count(earlier as u64, "earlier step");
        let _ = writeln!(out, "  {:>step_w$}  ... {earlier}", "");
    }
    for (i, r) in rows.iter().enumerate() {
        let mark = if Some(i) == failing { "!!" } else { "  " };
        let _ = write!(out, "{mark}{:>step_w$} ", steps[i]);
        if with_time {
            let _ = write!(out, "{:>time_w$} ", times[i]);
        }
        if columns {
            for (t, w) in tasks.iter().zip(&widths) {
                let text = if *t == r.task { cells[i].as_str() } else { "" };
                let _ = write!(out, "|{text:<w$}");
            }
        } else {
            let _ = write!(out, " task {:<3}{}", r.task, cells[i]);
            if let Some(by) = r.preempted_by {
                let _ = write!(out, "  (preempted by task {by})");
            }
        }
        finish_line(&mut out);
    }
    out
}

fn finish_line(out: &mut String) {
    out.truncate(out.trim_end().len());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64, task: u32, op: &'static str) -> Row<'static> {
        Row {
            step,
            task,
            op,
            object: Some(("Mutex<(Instant, bool)>", 3)),
            file: Some("tests/races.rs"),
            line: Some(1234),
            ..Row::default()
        }
    }

    #[test]
    fn long_type_names_keep_both_ends_and_short_ones_stay_whole() {
        assert_eq!(
            abbreviate_type("Mutex<(Instant, bool)>"),
            "Mutex<(Instant, bool)>"
        );
        let long = abbreviate_type("Mutex<HashMap<String, Vec<(u64, Instant)>>>");
        assert!(long.starts_with("Mutex<HashMap<"), "{long}");
        assert!(long.ends_with("Instant)>>>"), "{long}");
        assert!(
            long.contains('…') && long.chars().count() <= MAX_TYPE_NAME,
            "{long}"
        );
        assert_eq!(abbreviate_type(&"x".repeat(40)), "x".repeat(40));
    }

    #[test]
    fn cells_are_never_cut() {
        let rows = [row(1, 0, "lock"), row(2, 1, "lock")];
        let text = render(&rows, None, 0);
        assert_eq!(
            text.matches("lock Mutex<(Instant, bool)>#3 :1234").count(),
            2,
            "{text}"
        );
        assert!(text
            .lines()
            .next()
            .unwrap()
            .ends_with("(:N = tests/races.rs:N)"));
        // Several files: the cells name theirs.
        let mut other = row(3, 1, "unlock");
        other.file = Some("src/lib.rs");
        let text = render(&[rows[0], rows[1], other], None, 0);
        assert!(
            text.contains("unlock Mutex<(Instant, bool)>#3 src/lib.rs:1234"),
            "{text}"
        );
        assert!(
            text.contains("lock Mutex<(Instant, bool)>#3 tests/races.rs:1234"),
            "{text}"
        );
    }

    #[test]
    fn many_tasks_fall_back_to_one_line_per_step_with_full_locations() {
        let mut rows: Vec<Row<'static>> = (0..=MAX_COLUMNS as u32)
            .map(|t| row(u64::from(t) + 1, t, "lock"))
            .collect();
        rows[0].preempted_by = Some(3);
        let text = render(&rows, Some(2), 0);
        assert!(!text.contains('|'), "{text}");
        assert_eq!(text.lines().count(), rows.len() + 1, "{text}");
        assert!(
            text.contains(
                "task 0  *lock Mutex<(Instant, bool)>#3 tests/races.rs:1234  (preempted by task 3)"
            ),
            "{text}"
        );
        assert!(text.lines().nth(3).unwrap().starts_with("!!"), "{text}");
    }

    #[test]
    fn the_step_column_is_as_wide_as_the_largest_step() {
        let rows = [row(999_999, 0, "lock"), row(1_000_000, 1, "unlock")];
        let text = render(&rows, Some(1), 0);
        let bars: Vec<usize> = text.lines().map(|l| l.find('|').unwrap()).collect();
        assert!(bars.iter().all(|&b| b == bars[0]), "{text}");
        assert!(text.contains("!!1000000 |"), "{text}");
    }

    #[test]
    fn time_shows_where_it_changes_and_draws_show_their_value() {
        let mut rows = vec![row(1, 0, "lock"), row(2, 0, "sleep"), row(3, 0, "unlock")];
        rows[2].time = 1_500_000;
        let mut draw = row(3, 0, "rand");
        draw.object = None;
        draw.value = Some(17);
        draw.time = 1_500_000;
        rows.push(draw);
        let text = render(&rows, None, 0);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains(" time | task 0"), "{text}");
        assert_eq!(text.matches("1.5ms").count(), 1, "{text}");
        assert!(
            lines[3].contains("1.5ms") && lines[3].contains("unlock"),
            "{text}"
        );
        assert!(lines[4].contains(" rand :1234 → 17"), "{text}");
        // The draw shares step 3: its step cell is blank.
        assert!(lines[4].trim_start().starts_with('|'), "{text}");
        // No time column when time never moved.
        assert!(!render(&rows[..2], None, 0).contains("time"));
    }
}
