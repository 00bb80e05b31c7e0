//! Reporters: human text on stderr, JSON lines or JUnit XML on stdout.

pub mod human;
pub mod json;
pub mod junit;

use crate::model::{TestId, TestKind, TestReport, Verdict};
use crate::worker::Found;
use std::fmt::Write as _;

/// What a reporter needs besides the reports.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `--manifest-path` as given, so printed commands work from the same folder.
    pub manifest_path: Option<String>,
}

/// How to replay one failing run: by saved fixture entry when it came from one, else by seed
/// (with the policy spelled out when it is not the test's own).
pub fn replay_how(report: &TestReport, found: &Found) -> String {
    if let Some(fixture) = &found.result.fixture {
        return format!("--fixture {}", crate::model::shell_word(fixture));
    }
    let mut how = format!("--seed {}", found.result.seed);
    let declared = match &report.kind {
        TestKind::Detest(a) => Some(a.policy.as_str()),
        _ => None,
    };
    let policy = &found.failure().policy;
    if !policy.is_empty() && Some(policy.as_str()) != declared {
        how.push_str(&format!(" --policy {policy}"));
    }
    how
}

pub fn replay_command(report: &TestReport, found: &Found, ctx: &Context) -> String {
    report
        .id
        .replay_command(&replay_how(report, found), ctx.manifest_path.as_deref())
}

/// Reruns a test the normal way (a plain test, or a detest test whose expectation was not met).
pub fn rerun_command(id: &TestId, ctx: &Context, detest: bool) -> String {
    let mut cmd = if detest {
        format!(
            "cargo detest {} -p {}",
            crate::model::shell_word(&id.name),
            id.binary.package
        )
    } else {
        format!("cargo test -p {}", id.binary.package)
    };
    for flag in id.binary.target_flags() {
        cmd.push(' ');
        cmd.push_str(&crate::model::shell_word(&flag));
    }
    if let Some(m) = &ctx.manifest_path {
        cmd.push_str(&format!(" --manifest-path {}", crate::model::shell_word(m)));
    }
    if !detest {
        cmd.push_str(&format!(
            " -- --exact {}",
            crate::model::shell_word(&id.name)
        ));
    }
    cmd
}

/// The one-line reason after a status word: `1000 seeds`, `seed 7: crash: ...`.
pub fn status_detail(r: &TestReport) -> String {
    match (&r.kind, r.verdict) {
        (TestKind::Ignored, _) => "ignored".into(),
        (TestKind::Plain(run), Verdict::Fail) => format!("plain test: {}", run.reason),
        (TestKind::Plain(_), Verdict::Cancelled) => "cancelled".into(),
        (TestKind::Plain(_), _) => "plain test".into(),
        (TestKind::Detest(_), _) => {
            if let Some(f) = r.failures.first() {
                let more = if r.failures.len() > 1 {
                    format!(" (+{} more)", r.failures.len() - 1)
                } else {
                    String::new()
                };
                let fixture = if f.result.fixture.is_some() {
                    " (saved fixture)"
                } else {
                    ""
                };
                return format!(
                    "seed {}{fixture}: {}: {}{more}",
                    f.result.seed,
                    f.failure().kind,
                    first_line(&f.failure().message)
                );
            }
            if let Some(e) = r.errors.first() {
                return format!("worker error: {}", first_line(e));
            }
            let mut parts = vec![seeds_text(r.seeds_run)];
            if r.fixtures_replayed > 0 {
                parts[0] = seeds_text(r.seeds_run - r.fixtures_replayed);
                parts.push(format!(
                    "{} saved fixture{}",
                    r.fixtures_replayed,
                    plural(r.fixtures_replayed)
                ));
            }
            if let Some(e) = &r.expected {
                parts.push(format!(
                    "found the expected {} at seed {}",
                    e.failure().kind,
                    e.result.seed
                ));
            }
            if let Some(n) = &r.note {
                parts.push(n.clone());
            }
            parts.join(", ")
        }
    }
}

pub fn seeds_text(n: u64) -> String {
    format!("{} seed{}", thousands(n), plural(n))
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The failure block of a failing test, ending with the command that reproduces it.
pub fn failure_block(r: &TestReport, ctx: &Context, verbose: bool) -> String {
    let mut out = String::new();
    let name = r.id.full_name();
    match &r.kind {
        TestKind::Plain(run) => {
            let _ = writeln!(out, "--- FAIL {name} (plain test: {}) ---", run.reason);
            push_output(&mut out, &run.output, if verbose { 200 } else { 40 });
            let _ = writeln!(out, "  rerun with:");
            let _ = writeln!(out, "    {}", rerun_command(&r.id, ctx, false));
            return out;
        }
        TestKind::Ignored => return out,
        TestKind::Detest(_) => {}
    }
    if let Some(first) = r.failures.first() {
        let f = first.failure();
        let origin = match &first.result.fixture {
            Some(fx) => format!("saved fixture {fx}"),
            None => format!("seed {}", first.result.seed),
        };
        let _ = writeln!(
            out,
            "--- FAIL {name}: {} at {origin} (policy {}) ---",
            f.kind, f.policy
        );
        if let Some(task) = &f.task {
            let _ = writeln!(out, "  task:     {task}");
        }
        let mut lines = f.message.lines();
        let _ = writeln!(out, "  message:  {}", lines.next().unwrap_or(""));
        for l in lines {
            let _ = writeln!(out, "            {l}");
        }
        if let Some(loc) = &f.location {
            let _ = writeln!(out, "  location: {loc}");
        }
        if first.result.steps > 0 {
            let _ = writeln!(out, "  steps:    {}", first.result.steps);
        }
        if f.schedule.is_empty() {
            let _ = writeln!(
                out,
                "  schedule: (none: the process died, so it replays by seed)"
            );
        } else {
            let _ = writeln!(out, "  schedule: {}", f.schedule);
        }
        if let Some(saved) = &first.saved {
            let _ = writeln!(out, "  saved:    {saved}");
        } else if first.result.fixture.is_none() {
            if let TestKind::Detest(a) = &r.kind {
                if let Some(file) = &a.fixture_file {
                    let _ = writeln!(out, "  saved:    {file}");
                }
            }
        }
        if let Some(trace) = &first.trace {
            for l in trace.lines() {
                let _ = writeln!(out, "  {}", l.strip_prefix("  ").unwrap_or(l));
            }
        }
        let crashed = matches!(f.kind.as_str(), "crash" | "hang");
        if crashed || verbose {
            push_output(&mut out, &first.output, if verbose { 200 } else { 30 });
        }
        if r.failures.len() > 1 {
            let shown = if verbose { usize::MAX } else { 8 };
            let mut others: Vec<String> = r.failures[1..]
                .iter()
                .take(shown)
                .map(|o| format!("{} ({})", o.result.seed, o.failure().kind))
                .collect();
            if r.failures.len() - 1 > shown {
                others.push(format!(
                    "and {} more (-v lists them)",
                    r.failures.len() - 1 - shown
                ));
            }
            let _ = writeln!(
                out,
                "  also failing (the first failing seed of each chunk): {}",
                others.join(", ")
            );
            if verbose {
                for o in &r.failures[1..] {
                    let _ = writeln!(
                        out,
                        "    seed {}: {}: {}\n      {}",
                        o.result.seed,
                        o.failure().kind,
                        first_line(&o.failure().message),
                        replay_command(r, o, ctx)
                    );
                }
            }
        }
        let _ = writeln!(out, "  reproduce with:");
        let _ = writeln!(out, "    {}", replay_command(r, first, ctx));
        return out;
    }
    if !r.errors.is_empty() {
        let _ = writeln!(out, "--- FAIL {name}: the worker misbehaved ---");
        for e in &r.errors {
            for l in e.lines().take(if verbose { 400 } else { 40 }) {
                let _ = writeln!(out, "  {l}");
            }
        }
    } else {
        let _ = writeln!(out, "--- FAIL {name} ---");
        if let Some(note) = &r.note {
            let _ = writeln!(out, "  {note}");
        }
    }
    let _ = writeln!(out, "  rerun with:");
    let _ = writeln!(out, "    {}", rerun_command(&r.id, ctx, true));
    out
}

fn push_output(out: &mut String, output: &str, max_lines: usize) {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return;
    }
    let skip = lines.len().saturating_sub(max_lines);
    let _ = writeln!(
        out,
        "  output{}:",
        if skip > 0 {
            format!(" (last {max_lines} lines)")
        } else {
            String::new()
        }
    );
    for l in &lines[skip..] {
        let _ = writeln!(out, "    | {l}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(seeds_text(1), "1 seed");
    }
}
