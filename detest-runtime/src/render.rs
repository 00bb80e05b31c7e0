//! Human-readable failure reports.

use crate::report::Failure;
use std::fmt::Write as _;
use std::io::IsTerminal;

/// How many trailing trace steps a failure block shows.
pub const TRACE_TAIL: usize = 12;

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
    /// Use ANSI colours.
    pub color: bool,
}

/// A failure block: what failed, where, the last steps, the schedule and how to reproduce it.
/// `repro` lines (commands) are appended last, so the block ends with a copy-pasteable command.
pub fn failure_block(failure: &Failure, repro: Option<&[String]>) -> String {
    failure_report(
        failure,
        &ReportOptions {
            repro: repro.unwrap_or(&[]),
            ..ReportOptions::default()
        },
    )
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
    if !failure.trace.is_empty() {
        let skip = if opts.full_trace {
            0
        } else {
            failure.trace.len().saturating_sub(TRACE_TAIL)
        };
        let heading = if skip == 0 {
            format!("trace ({} steps):", failure.trace.len())
        } else {
            format!(
                "last {} of {} steps (DETEST_TRACE=1 shows all):",
                failure.trace.len() - skip,
                failure.trace.len()
            )
        };
        let _ = writeln!(out, "  {}", paint.label(&heading));
        for event in &failure.trace[skip..] {
            let _ = writeln!(out, "    {event}");
        }
    }
    field(&mut out, "schedule:", &failure.schedule.encode());
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

    #[test]
    fn shows_the_trace_tail_unless_asked_for_all() {
        let mut f = failure();
        f.trace = (0..20)
            .map(|step| crate::trace::TraceEvent {
                step,
                task: 0,
                op: crate::trace::Op::Yield,
                object: None,
                location: None,
                preempts: None,
            })
            .collect();
        let tail = failure_report(&f, &ReportOptions::default());
        assert!(tail.contains("last 12 of 20 steps (DETEST_TRACE=1 shows all):"));
        assert_eq!(tail.matches(" yield").count(), 12);
        let all = failure_report(
            &f,
            &ReportOptions {
                full_trace: true,
                ..ReportOptions::default()
            },
        );
        assert!(all.contains("trace (20 steps):"));
        assert_eq!(all.matches(" yield").count(), 20);
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
