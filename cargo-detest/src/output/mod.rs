//! Reporters: human text on stderr, JSON lines or JUnit XML on stdout.

pub mod human;
pub mod json;
pub mod junit;
pub mod words;

use crate::model::{TestId, TestKind, TestReport, Verdict};
use crate::protocol::Shrunk;
use crate::worker::{Found, Trace};
use std::fmt::Write as _;

/// Trace rows a failure block shows (the last ones; `-v` shows all).
const TRACE_ROWS: usize = 40;

/// The runtime's summary line, or one made from the numbers.
pub fn shrunk_summary(s: &Shrunk) -> String {
    if !s.summary.is_empty() {
        return s.summary.clone();
    }
    format!(
        "shrunk {} → {} steps, {} → {} preemptions",
        s.steps_before, s.steps_after, s.preemptions_before, s.preemptions_after
    )
}

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
    // A fixed execution is seed 0 of its own policy: `--seed 0` alone replays another run.
    if !policy.is_empty() && (Some(policy.as_str()) != declared || found.result.fixed.is_some()) {
        how.push_str(&format!(" --policy {policy}"));
    }
    how
}

/// Which run failed, as every report names it: a seed, a fixed execution (`fixed execution
/// rotate`: never "seed 0", which names another run), either one replayed from a saved fixture
/// entry (`seed 7 (saved fixture)`, `fixed execution rotate (saved fixture)`).
pub fn origin(report: &TestReport, found: &Found) -> String {
    let run = match fixed_policy(report, found) {
        Some(policy) => format!("fixed execution {policy}"),
        None => format!("seed {}", found.result.seed),
    };
    match &found.result.fixture {
        Some(_) => format!("{run} (saved fixture)"),
        None => run,
    }
}

/// The policy of the fixed execution that found this failure, when one did. A saved entry does
/// not say it was one, but its seed and policy do: seed 0 of a fixed execution's policy in a test
/// whose sweep runs another one (and begins with the fixed executions).
pub fn fixed_policy<'a>(report: &TestReport, found: &'a Found) -> Option<&'a str> {
    if let Some(policy) = &found.result.fixed {
        return Some(policy);
    }
    found.result.fixture.as_ref()?;
    let policy = found.failure().policy.as_str();
    let declared = match &report.kind {
        TestKind::Detest(a) => a.policy.as_str(),
        _ => return None,
    };
    let fixed = found.result.seed == 0
        && policy != declared
        && crate::protocol::FIXED_POLICIES.contains(&policy)
        && !crate::protocol::FIXED_POLICIES.contains(&declared);
    fixed.then_some(policy)
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
        (TestKind::Plain(run), Verdict::Fail) => match plain_panic(&run.output) {
            Some(p) => format!("plain test: {} ({})", first_line(&p.message), run.reason),
            None => format!("plain test: {}", run.reason),
        },
        (TestKind::Plain(_), Verdict::Cancelled) => r.note.clone().unwrap_or("cancelled".into()),
        (TestKind::Plain(_), _) => "plain test".into(),
        (TestKind::Detest(_), Verdict::Unchanged) => match &r.unchanged {
            Some(p) => format!(
                "passed then: seeds {}{} (policy {}); --force reruns it",
                p.range,
                match p.executions {
                    0 => String::new(),
                    n => format!(", {}", words::counted(n, "execution")),
                },
                p.policy
            ),
            None => "unchanged".into(),
        },
        (TestKind::Detest(_), _) => {
            if let Some(runs) = r.determinism_runs {
                if r.failures.is_empty() && r.errors.is_empty() {
                    return check_detail(r, runs);
                }
            }
            if let Some(f) = r.failures.first() {
                let more = if r.failures.len() > 1 {
                    format!(" (+{} more)", r.failures.len() - 1)
                } else {
                    String::new()
                };
                let from = origin(r, f);
                return format!(
                    "{from}: {}: {}{more}",
                    f.failure().kind,
                    first_line(&f.failure().message)
                );
            }
            if let Some(e) = r.errors.first() {
                return format!("worker error: {}", first_line(e));
            }
            if let (Verdict::Cancelled, Some(n)) = (r.verdict, &r.note) {
                return n.clone();
            }
            let mut parts = vec![seeds_text(r.seeds_run)];
            if r.fixtures_replayed > 0 {
                parts[0] = seeds_text(r.seeds_run - r.fixtures_replayed);
                parts.push(words::counted(r.fixtures_replayed, "saved fixture"));
            }
            if let Some(e) = &r.expected {
                parts.push(format!(
                    "found the expected {} at {}",
                    e.failure().kind,
                    origin(r, e)
                ));
            }
            if let Some(n) = &r.note {
                parts.push(n.clone());
            }
            if let (Some(total), Some(range)) = (r.explored_total, r.range) {
                parts.push(format!(
                    "explored seeds {range}, {} in total",
                    thousands(total)
                ));
            }
            parts.join(", ")
        }
    }
}

/// `10 seeds × 10 runs, deterministic` / `NONDETERMINISTIC at seeds 3, 4 (of 10 × 10 runs)`.
fn check_detail(r: &TestReport, runs: u32) -> String {
    let bad: Vec<String> = r
        .nondeterministic()
        .take(8)
        .map(|d| d.seed.to_string())
        .collect();
    let checked = format!("{} × {runs} runs", seeds_text(r.determinism.len() as u64));
    let mut text = if bad.is_empty() {
        format!("{checked}, deterministic")
    } else {
        let n = r.nondeterministic().count();
        format!(
            "NONDETERMINISTIC at {} {}{} (of {checked})",
            words::noun_for(n as u64, "seed"),
            bad.join(", "),
            if n > bad.len() { ", ..." } else { "" }
        )
    };
    if let Some(n) = &r.note {
        text.push_str(&format!("; {n}"));
    }
    text
}

/// The determinism check of one seed as buildfarm prints it: each distinct fingerprint of the
/// runs with how many runs produced it.
pub fn histogram(d: &crate::protocol::DeterminismResult) -> String {
    let mut out = String::new();
    let verdict = if d.deterministic {
        "deterministic"
    } else {
        "NONDETERMINISTIC"
    };
    let _ = writeln!(out, "seed {}: {verdict} over {} runs", d.seed, d.runs);
    for (hash, count) in &d.histogram {
        let bar = (*count as usize * 40).div_ceil(d.runs.max(1) as usize);
        let _ = writeln!(out, "  {hash:>16}  {count:>5} {}", "#".repeat(bar));
    }
    if let Some(div) = &d.divergence {
        let _ = writeln!(
            out,
            "  first divergence at step {} (trace event {}):",
            div.step, div.index
        );
        let ended = "(execution ended)";
        let _ = writeln!(
            out,
            "    run 1: {}",
            div.expected.as_deref().unwrap_or(ended)
        );
        let _ = writeln!(out, "    run k: {}", div.actual.as_deref().unwrap_or(ended));
        let _ = writeln!(out, "  likely cause: {}", div.likely_cause);
        for l in div.diff.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
    out
}

/// The block of a test whose determinism check failed, or (verbose) passed.
pub fn determinism_block(r: &TestReport, ctx: &Context, verbose: bool) -> String {
    let mut out = String::new();
    let bad: Vec<_> = r.nondeterministic().collect();
    let shown: Vec<&crate::protocol::DeterminismResult> = if verbose {
        r.determinism.iter().collect()
    } else {
        // Every divergent seed (up to a few), and the histograms of a short check.
        let mut v: Vec<_> = bad.iter().copied().take(4).collect();
        if r.determinism.len() <= 16 {
            v = r.determinism.iter().collect();
        }
        v
    };
    for d in shown {
        let keep_diff = !d.deterministic && bad.first().is_some_and(|b| b.seed == d.seed);
        let text = histogram(d);
        for l in text.lines() {
            // The diff of the first divergent seed is enough; the others show their histogram.
            if !keep_diff && !d.deterministic && l.starts_with("    ") {
                continue;
            }
            let _ = writeln!(out, "  {l}");
        }
    }
    if let Some(first) = bad.first() {
        let runs = r.determinism_runs.unwrap_or(first.runs as u32);
        let _ = writeln!(out, "  check this seed again with:");
        let _ = writeln!(
            out,
            "    {}",
            check_command(&r.id, ctx, first.seed, runs, r.policy.as_deref(), r)
        );
    }
    out
}

/// `cargo detest check-determinism NAME -p PKG --test T --seed S --runs N`.
pub fn check_command(
    id: &TestId,
    ctx: &Context,
    seed: u64,
    runs: u32,
    policy: Option<&str>,
    r: &TestReport,
) -> String {
    let mut cmd = format!(
        "cargo detest check-determinism {} -p {}",
        crate::model::shell_word(&id.name),
        id.binary.package
    );
    for flag in id.binary.target_flags() {
        cmd.push(' ');
        cmd.push_str(&crate::model::shell_word(&flag));
    }
    if let Some(m) = &ctx.manifest_path {
        cmd.push_str(&format!(" --manifest-path {}", crate::model::shell_word(m)));
    }
    cmd.push_str(&format!(" --seed {seed} --runs {runs}"));
    let declared = match &r.kind {
        TestKind::Detest(a) => Some(a.policy.as_str()),
        _ => None,
    };
    if let Some(p) = policy.filter(|p| Some(*p) != declared) {
        cmd.push_str(&format!(" --policy {p}"));
    }
    cmd
}

pub fn seeds_text(n: u64) -> String {
    words::counted(n, "seed")
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
/// Why a failure that is not a replayed fixture has no saved entry.
/// Why `f` has no saved entry: the sweep's reason (`--fixtures read`), else the worker's.
pub fn not_saved<'a>(r: &'a TestReport, f: &'a Found) -> &'a str {
    r.not_saved
        .as_deref()
        .or(f.result.not_saved.as_deref())
        .unwrap_or("the worker did not say where it saved it")
}

pub fn failure_block(r: &TestReport, ctx: &Context, verbose: bool) -> String {
    let mut out = String::new();
    let name = r.id.full_name();
    match &r.kind {
        TestKind::Plain(run) => {
            let _ = writeln!(out, "--- FAIL {name} (plain test: {}) ---", run.reason);
            // The panic leads: the output's tail may be all backtrace (RUST_BACKTRACE=full).
            if let Some(p) = plain_panic(&run.output) {
                let mut lines = p.message.lines();
                let _ = writeln!(out, "  message:  {}", lines.next().unwrap_or(""));
                for l in lines {
                    let _ = writeln!(out, "            {l}");
                }
                let _ = writeln!(out, "  location: {}", p.location);
            }
            push_output(&mut out, &run.output, if verbose { 200 } else { 40 });
            let _ = writeln!(out, "  rerun with:");
            let _ = writeln!(out, "    {}", rerun_command(&r.id, ctx, false));
            return out;
        }
        TestKind::Ignored => return out,
        TestKind::Detest(_) => {}
    }
    if r.determinism_runs.is_some() && r.failures.is_empty() && r.errors.is_empty() {
        let _ = writeln!(
            out,
            "--- FAIL {name}: nondeterministic: runs of one seed differ ---"
        );
        out.push_str(&determinism_block(r, ctx, verbose));
        return out;
    }
    if let Some(first) = r.failures.first() {
        let f = first.failure();
        let run = origin(r, first);
        let _ = writeln!(
            out,
            "--- FAIL {name}: {} at {run} (policy {}) ---",
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
        // Only a write that happened is claimed; a replayed entry names where it is.
        if let Some(fixture) = &first.result.fixture {
            let _ = writeln!(out, "  fixture:  {fixture}");
        }
        if let Some(saved) = &first.saved {
            let _ = writeln!(out, "  saved:    {saved}");
        } else if first.result.fixture.is_none() {
            let _ = writeln!(out, "  not saved: {}", not_saved(r, first));
        }
        if let Some(shrunk) = &first.result.shrunk {
            let _ = writeln!(out, "  shrunk:   {}", shrunk_summary(shrunk));
        }
        match &first.trace {
            Some(Trace::Steps(steps)) => {
                let what = if first.result.shrunk.is_some() {
                    "of the shrunk schedule, "
                } else {
                    ""
                };
                let count = crate::trace::step_count(steps);
                match first.result.trace_len {
                    // The worker sent only the tail (a livelock has a million steps).
                    Some(total) => {
                        let _ = writeln!(
                            out,
                            "  trace ({what}the last {count} of {total} steps; * preempted here, \
                             !! fails; the whole trace: {} --trace):",
                            replay_command(r, first, ctx)
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "  trace ({what}{}, {}; * preempted here, !! fails):",
                            words::counted(count as u64, "step"),
                            words::counted(crate::trace::preemptions(steps) as u64, "preemption"),
                        );
                    }
                }
                let failing = f.task.as_deref().and_then(crate::trace::task_number);
                let rows = if verbose { None } else { Some(TRACE_ROWS) };
                for l in crate::trace::timeline(steps, failing, rows).lines() {
                    let _ = writeln!(out, "  {l}");
                }
            }
            Some(Trace::Text(trace)) => {
                for l in trace.lines() {
                    let _ = writeln!(out, "  {}", l.strip_prefix("  ").unwrap_or(l));
                }
            }
            None => {}
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
                .map(|o| {
                    // The list is of seeds: a plain seed is its number.
                    let run = match (&o.result.fixture, &o.result.fixed) {
                        (None, None) => o.result.seed.to_string(),
                        _ => origin(r, o),
                    };
                    format!("{run} ({})", o.failure().kind)
                })
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
                        "    {}: {}: {}\n      {}",
                        origin(r, o),
                        o.failure().kind,
                        first_line(&o.failure().message),
                        replay_command(r, o, ctx)
                    );
                }
            }
        }
        // A shrunk schedule above the bound arrives abbreviated: no command carries it.
        if let Some(shrunk) = first
            .result
            .shrunk
            .as_ref()
            .filter(|s| s.schedule_len.is_none())
        {
            let _ = writeln!(out, "  replay the shrunk schedule with:");
            let _ = writeln!(
                out,
                "    {}",
                r.id.replay_command(
                    &format!("--schedule {}", crate::model::shell_word(&shrunk.schedule)),
                    ctx.manifest_path.as_deref()
                )
            );
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

/// The first panic in a plain test's output: libtest prints
/// `thread 'NAME' (ID) panicked at FILE:LINE:COL:` and then the message, up to a `note:` or
/// `stack backtrace:` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainPanic {
    pub location: String,
    pub message: String,
}

pub fn plain_panic(output: &str) -> Option<PlainPanic> {
    let mut lines = output.lines();
    let head = lines
        .by_ref()
        .find(|l| l.contains("' panicked at ") || l.contains(") panicked at "))?;
    let location = head.split_once(" panicked at ")?.1.trim_end();
    let location = location.strip_suffix(':').unwrap_or(location).to_string();
    let message: Vec<&str> = lines
        .take_while(|l| {
            !(l.starts_with("note: ") || l.starts_with("stack backtrace:") || l.trim().is_empty())
        })
        .collect();
    Some(PlainPanic {
        location,
        message: message.join("\n"),
    })
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

    #[test]
    fn the_panic_of_a_plain_test() {
        let out = "\nrunning 1 test\ntest t ... \nthread 't' (123) panicked at tests/a.rs:28:9:\nfirst line\nsecond line\nstack backtrace:\n   0: x\nFAILED\n";
        let p = plain_panic(out).unwrap();
        assert_eq!(p.location, "tests/a.rs:28:9");
        assert_eq!(p.message, "first line\nsecond line");
        let old_style =
            "thread 'main' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(plain_panic(old_style).unwrap().message, "boom");
        assert_eq!(plain_panic("running 1 test\nerror: exit 3\n"), None);
    }
}
