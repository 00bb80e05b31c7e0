//! Human-readable failure reports.

use crate::report::Failure;
use crate::shrink::Shrunk;
use crate::trace::{self, TraceEvent};
use std::fmt::Write as _;
use std::io::IsTerminal;

/// How many timeline rows a failure block shows (the whole trace with `DETEST_TRACE=1`).
pub const TRACE_TAIL: usize = 40;

/// The marker lines around a trace printed as JSON lines (`DETEST_TRACE=json`).
pub const JSON_TRACE_START: &str = "--- detest trace (json) ---";
pub const JSON_TRACE_END: &str = "--- end trace ---";

/// `n` and `noun`, in the plural unless `n` is 1: `1 step`, `3 steps`, `2 entries`. The
/// plural of a phrase is that of its last word (`2 recorded decisions`). Every count the
/// runtime prints goes through this.
///
/// ```
/// use detest::render::count;
/// assert_eq!(count(1, "step"), "1 step");
/// assert_eq!(count(0, "seed"), "0 seeds");
/// assert_eq!(count(2, "entry"), "2 entries");
/// assert_eq!(count(3, "pass"), "3 passes");
/// ```
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {}", noun_for(n, noun))
}

/// `noun` as it reads after the number `n`: `test`, `tests`, `entries`, `passes`.
pub fn noun_for(n: u64, noun: &str) -> String {
    if n == 1 {
        return noun.to_owned();
    }
    let consonant_y = noun.len() >= 2
        && noun.ends_with('y')
        && !noun[..noun.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// What a failure block says beyond the failure itself.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions<'a> {
    /// The test's name.
    pub test: Option<&'a str>,
    /// Where the failing run came from, when not a fresh seed (a fixture replay, a schedule).
    pub origin: Option<&'a str>,
    /// Where it was saved (or why not).
    pub fixture: Option<&'a str>,
    /// Commands that reproduce it; printed last, so the block ends with a command.
    pub repro: &'a [String],
    /// Show the whole trace instead of its last [`TRACE_TAIL`] steps.
    pub full_trace: bool,
    /// Leave the trace out (it is printed elsewhere, as JSON lines).
    pub hide_trace: bool,
    /// The failure shrunk: its summary, timeline and schedule are shown instead of the trace of
    /// the original run.
    pub shrunk: Option<&'a Shrunk>,
    /// Why there is no shrunk schedule (`shrink = false`, ...), when `shrunk` is `None`.
    pub shrink_note: Option<&'a str>,
    /// Use ANSI colours.
    pub color: bool,
}

/// A failure block: what failed, where, the last steps, the schedule and how to reproduce it.
/// `repro` lines (commands) are appended last, so the block ends with a copy-pasteable command.
///
/// Without `repro` (the programmatic API, which knows no test name), the commands are the Rust
/// calls that replay the failure, by schedule and by seed.
pub fn failure_block(failure: &Failure, repro: Option<&[String]>) -> String {
    let api_repro;
    let repro = match repro {
        Some(commands) => commands,
        None => {
            api_repro = api_repro_calls(failure);
            &api_repro[..]
        }
    };
    failure_report(
        failure,
        &ReportOptions {
            repro,
            ..ReportOptions::default()
        },
    )
}

/// `Config` calls that reproduce a failure found through the programmatic API.
pub fn api_repro_calls(failure: &Failure) -> Vec<String> {
    let mut calls = Vec::new();
    let schedule = failure.schedule.encode();
    // Above the bound the seed call alone: it replays the same execution.
    if !failure.schedule.is_empty() && crate::schedule_fits(&schedule) {
        calls.push(format!(
            "detest::Config::new().replay(&\"{schedule}\".parse().unwrap(), body)"
        ));
    }
    calls.push(format!(
        "detest::Config::new().policy(\"{}\".parse().unwrap()).run_seed({}, body)",
        failure.policy, failure.seed
    ));
    calls
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn label(&self, text: &str) -> String {
        self.wrap("2", text)
    }
}

/// The full failure block, see [`ReportOptions`].
pub fn failure_report(failure: &Failure, opts: &ReportOptions<'_>) -> String {
    let paint = Paint(opts.color);
    let mut out = String::new();
    let title = match opts.test {
        Some(test) => format!(
            "detest: test `{test}` failed: {} (seed {}, policy {})",
            failure.kind, failure.seed, failure.policy
        ),
        None => format!(
            "detest: {} (seed {}, policy {})",
            failure.kind, failure.seed, failure.policy
        ),
    };
    let _ = writeln!(out, "{}", paint.wrap("1;31", &title));
    let field = |out: &mut String, name: &str, value: &str| {
        let mut lines = value.lines();
        let first = lines.next().unwrap_or("");
        let _ = writeln!(out, "  {} {first}", paint.label(&format!("{name:<9}")));
        for line in lines {
            let _ = writeln!(out, "            {line}");
        }
    };
    if let Some(origin) = opts.origin {
        field(&mut out, "from:", origin);
    }
    if let Some(task) = &failure.task {
        field(&mut out, "task:", &task.to_string());
    }
    if !failure.message.is_empty() {
        field(&mut out, "message:", &failure.message);
    }
    if let Some(loc) = &failure.location {
        field(&mut out, "location:", loc);
    }
    field(&mut out, "steps:", &failure.steps.to_string());
    match (opts.shrunk, opts.shrink_note) {
        (Some(shrunk), _) => {
            let _ = writeln!(out, "  {}", paint.wrap("1", &shrunk.summary()));
        }
        (None, Some(note)) => field(&mut out, "shrink:", note),
        (None, None) => {}
    }
    let (events, task, what) = match opts.shrunk {
        Some(s) => (
            &s.failure.trace,
            s.failure.task.as_ref().map(|t| t.id),
            "trace of the shrunk schedule",
        ),
        None => (&failure.trace, failure.task.as_ref().map(|t| t.id), "trace"),
    };
    if !events.is_empty() && !opts.hide_trace {
        let (heading, rows) = timeline_section(events, task, what, opts.full_trace);
        let _ = writeln!(out, "  {}", paint.label(&heading));
        for row in rows.lines() {
            let _ = writeln!(out, "    {row}");
        }
    }
    field(
        &mut out,
        "schedule:",
        &crate::shown_schedule(&failure.schedule.encode()),
    );
    if let Some(shrunk) = opts.shrunk {
        field(
            &mut out,
            "shrunk:",
            &crate::shown_schedule(&shrunk.schedule.encode()),
        );
    }
    if let Some(fixture) = opts.fixture {
        field(&mut out, "fixture:", fixture);
    }
    if !opts.repro.is_empty() {
        let _ = writeln!(out, "  {}", paint.label("reproduce with:"));
        for cmd in opts.repro {
            let _ = writeln!(out, "    {}", paint.wrap("1", cmd));
        }
    }
    out
}

/// A trace as a heading and a [`trace::timeline`]: the last [`TRACE_TAIL`] rows (or all of them
/// when `full`), always including the failing task's last step, which is marked `!!`.
pub fn timeline_section(
    events: &[TraceEvent],
    failing_task: Option<u32>,
    what: &str,
    full: bool,
) -> (String, String) {
    const LEGEND: &str = "* = preempted here, !! = failing step";
    let len = events.len();
    let (mut start, mut end) = (0, len);
    if !full && len > TRACE_TAIL {
        start = len - TRACE_TAIL;
        let failing = failing_task.and_then(|t| events.iter().rposition(|e| e.task == t));
        if let Some(f) = failing.filter(|&f| f < start) {
            end = (f + TRACE_TAIL / 2).min(len);
            start = end.saturating_sub(TRACE_TAIL);
        }
    }
    // Rows are steps, plus one per random draw (which shares the step before it).
    let draws = events.iter().filter(|e| e.op == trace::Op::Rand).count();
    let mut total = count((len - draws) as u64, "step");
    let rows = if draws > 0 {
        total = format!("{total} and {}", count(draws as u64, "draw"));
        " rows"
    } else {
        ""
    };
    let heading = if start == 0 && end == len {
        format!("{what} ({total}; {LEGEND}):")
    } else if end == len {
        format!(
            "{what}, last {}{rows} of {total} (DETEST_TRACE=1 shows all; {LEGEND}):",
            end - start
        )
    } else {
        format!("{what}, rows {start}..{end} of {total} (DETEST_TRACE=1 shows all; {LEGEND}):")
    };
    (heading, trace::timeline(&events[start..end], failing_task))
}

/// A trace as JSON lines between [`JSON_TRACE_START`] and [`JSON_TRACE_END`].
pub fn json_trace_block(events: &[TraceEvent]) -> String {
    format!(
        // Starts on a line of its own even when libtest has just printed `test NAME ... `.
        "\n{JSON_TRACE_START}\n{}{JSON_TRACE_END}\n",
        trace::to_json_lines(events)
    )
}

/// Whether output to stderr should be coloured: only on a terminal, and never with `NO_COLOR`;
/// `CLICOLOR_FORCE` / `CARGO_TERM_COLOR=always` force it.
pub fn stderr_color() -> bool {
    color_choice(
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0"),
        std::env::var("CARGO_TERM_COLOR").ok().as_deref(),
        std::io::stderr().is_terminal(),
    )
}

fn color_choice(no_color: bool, force: bool, cargo: Option<&str>, terminal: bool) -> bool {
    if no_color || cargo == Some("never") {
        return false;
    }
    force || cargo == Some("always") || terminal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailureKind, Schedule};

    fn failure() -> Failure {
        Failure {
            seed: 7,
            policy: "chaos".into(),
            kind: FailureKind::Panic,
            message: "boom".into(),
            location: Some("src/x.rs:1:2".into()),
            task: None,
            schedule: Schedule::new(),
            steps: 3,
            trace: Vec::new(),
        }
    }

    #[test]
    fn block_ends_with_the_last_command() {
        let repro = [
            "A=1 cargo test".to_owned(),
            "cargo detest replay t".to_owned(),
        ];
        let text = failure_report(
            &failure(),
            &ReportOptions {
                test: Some("t"),
                fixture: Some("saved to x.toml"),
                repro: &repro,
                ..ReportOptions::default()
            },
        );
        assert!(text.trim_end().ends_with("cargo detest replay t"), "{text}");
        assert!(text.contains("test `t` failed: panic (seed 7, policy chaos)"));
        assert!(text.contains("fixture:  saved to x.toml"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    fn events(n: u64, failing_at: u64) -> Vec<TraceEvent> {
        (0..n)
            .map(|step| TraceEvent {
                step,
                task: u32::from(step == failing_at),
                op: crate::trace::Op::Yield,
                object: None,
                location: None,
                preempted_by: None,
                time: 0,
                value: None,
            })
            .collect()
    }

    #[test]
    fn shows_the_timeline_tail_unless_asked_for_all() {
        let mut f = failure();
        f.trace = events(60, 59);
        f.task = Some(crate::TaskInfo { id: 1, name: None });
        let tail = failure_report(&f, &ReportOptions::default());
        assert!(
            tail.contains("trace, last 40 of 60 steps (DETEST_TRACE=1 shows all; * = preempted here, !! = failing step):"),
            "{tail}"
        );
        assert_eq!(tail.matches("yield").count(), 40);
        assert!(tail.contains("!!  59 |"), "{tail}");
        let all = failure_report(
            &f,
            &ReportOptions {
                full_trace: true,
                ..ReportOptions::default()
            },
        );
        assert!(all.contains("trace (60 steps; "));
        assert_eq!(all.matches("yield").count(), 60);
        let hidden = failure_report(
            &f,
            &ReportOptions {
                hide_trace: true,
                ..ReportOptions::default()
            },
        );
        assert!(!hidden.contains("yield"));
    }

    #[test]
    fn the_failing_row_is_always_shown() {
        let (heading, rows) = timeline_section(&events(100, 10), Some(1), "trace", false);
        assert!(
            heading.starts_with("trace, rows 0..30 of 100 steps"),
            "{heading}"
        );
        assert!(rows.contains("!!  10 |"), "{rows}");
        let (heading, rows) = timeline_section(&events(100, 50), Some(1), "trace", false);
        assert!(
            heading.starts_with("trace, rows 30..70 of 100"),
            "{heading}"
        );
        assert_eq!(rows.lines().count(), 41);
    }

    #[test]
    fn json_block_has_markers_and_one_object_per_step() {
        let block = json_trace_block(&events(3, 9));
        assert!(block.starts_with('\n'));
        let lines: Vec<&str> = block.trim_start().lines().collect();
        assert_eq!(lines.first(), Some(&JSON_TRACE_START));
        assert_eq!(lines.last(), Some(&JSON_TRACE_END));
        assert_eq!(lines.len(), 5);
        for l in &lines[1..4] {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["op"], "yield");
        }
    }

    #[test]
    fn colour_only_when_asked_or_on_a_terminal() {
        let text = failure_report(
            &failure(),
            &ReportOptions {
                color: true,
                ..ReportOptions::default()
            },
        );
        assert!(text.contains("\x1b[1;31m"));
        assert!(!color_choice(false, false, None, false));
        assert!(color_choice(false, false, None, true));
        assert!(!color_choice(true, true, Some("always"), true));
        assert!(!color_choice(false, false, Some("never"), true));
        assert!(color_choice(false, false, Some("always"), false));
    }
}
