//! The human report on stderr: status lines, a progress bar on a terminal, failure blocks and a
//! summary, in cargo's and nextest's style.

use super::{failure_block, status_detail, thousands, words::counted, Context};
use crate::model::{Summary, TestId, TestReport, Verdict};
use crate::sweep::Observer;
use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

pub struct Human {
    bar: ProgressBar,
    quiet: bool,
    verbose: bool,
    ctx: Context,
}

impl Human {
    pub fn new(quiet: bool, verbose: bool, ctx: Context) -> Self {
        // Hidden until the first test is planned (an empty bar would draw as complete).
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(bar_template(console::colors_enabled_stderr()))
                .expect("valid template")
                .with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{} seeds/s", thousands(s.per_sec().round() as u64));
                    },
                )
                .progress_chars("=> "),
        );
        bar.set_prefix("Sweeping");
        Human {
            bar,
            quiet,
            verbose,
            ctx,
        }
    }

    pub fn line(&self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }

    /// `    Starting 5 tests across 2 binaries (2 jobs)` and friends, right-aligned like cargo.
    pub fn status(&self, word: &str, style: &Style, rest: &str) {
        if !self.quiet {
            self.line(&format!("{} {rest}", style.apply_to(format!("{word:>12}"))));
        }
    }

    pub fn summary(&self, reports: &[TestReport], s: &Summary) {
        self.bar.finish_and_clear();
        eprintln!(
            "{}",
            Style::new().dim().for_stderr().apply_to("─".repeat(12))
        );
        eprintln!("{}", summary_line(s));
        for r in reports.iter().filter(|r| r.verdict == Verdict::Fail) {
            eprintln!(
                "{:>12} {}  {}",
                red().apply_to("FAIL"),
                r.id.full_name(),
                status_detail(r)
            );
        }
        if s.interrupted {
            eprintln!("{:>12} {}", "", interrupted_note(reports));
        }
        // `--explore`: how far each test's exploration has gone, over every run so far.
        for r in reports {
            if let Some(total) = r.explored_total {
                eprintln!(
                    "{:>12} {}: {} explored in total ({} before this run)",
                    Style::new().cyan().bold().for_stderr().apply_to("Explored"),
                    r.id.full_name(),
                    counted(total, "seed"),
                    thousands(r.explored_before.unwrap_or(0)),
                );
            }
        }
    }
}

/// What became of the failing seeds an interrupted sweep found: "saved" only when every one of
/// them was (a replayed fixture is saved already).
fn interrupted_note(reports: &[TestReport]) -> String {
    let unsaved = reports
        .iter()
        .flat_map(|r| &r.failures)
        .filter(|f| f.saved.is_none() && f.result.fixture.is_none())
        .count() as u64;
    if unsaved == 0 {
        "every failing seed found before the interrupt is listed above and saved".to_owned()
    } else {
        format!(
            "every failing seed found before the interrupt is listed above; {} not saved \
             (each says why)",
            counted(unsaved, "failure")
        )
    }
}

/// `     Summary [   1.234s] 3 tests: 2 passed, 1 cancelled; 1,000 seeds at 810 seeds/s`.
fn summary_line(s: &Summary) -> String {
    let bold = Style::new().bold().for_stderr();
    let rate = s.seeds as f64 / s.duration.as_secs_f64().max(1e-9);
    let mut counts = vec![format!("{} passed", thousands(s.passed as u64))];
    if s.failed > 0 {
        counts.push(format!(
            "{} failed",
            red().apply_to(thousands(s.failed as u64))
        ));
    }
    if s.skipped > 0 {
        counts.push(format!("{} skipped", thousands(s.skipped as u64)));
    }
    if s.cancelled > 0 {
        counts.push(format!("{} cancelled", thousands(s.cancelled as u64)));
    }
    if s.unchanged > 0 {
        // Never folded into "passed": they did not run now.
        counts.push(format!(
            "{} skipped as unchanged (--force reruns them)",
            thousands(s.unchanged as u64)
        ));
    }
    let head = if s.interrupted {
        format!("{} (interrupted)", red().apply_to("Summary"))
    } else {
        "Summary".to_string()
    };
    format!(
        "{:>12} [{}] {}: {}; {} at {} seeds/s",
        bold.apply_to(head),
        fmt_secs(s.duration),
        counted(s.tests as u64, "test"),
        counts.join(", "),
        counted(s.seeds, "seed"),
        thousands(rate.round() as u64),
    )
}

/// The progress bar's template. indicatif colours its `{x:.cyan}` keys by the *stdout* colour
/// setting, not by `--color` (which governs stderr, where the bar is drawn), so without colour
/// the template carries no colour at all.
fn bar_template(color: bool) -> &'static str {
    if color {
        "{prefix:>12.cyan.bold} [{elapsed_precise}] {wide_bar:.cyan/blue} {pos}/{len} seeds  {rate}  ETA {eta}"
    } else {
        "{prefix:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} seeds  {rate}  ETA {eta}"
    }
}

fn red() -> Style {
    Style::new().red().bold().for_stderr()
}

pub fn fmt_secs(d: Duration) -> String {
    format!("{:>8.3}s", d.as_secs_f64())
}

impl Observer for Human {
    fn planned(&mut self, _id: &TestId, seeds: u64) {
        if self.bar.is_hidden() && seeds > 0 && !self.quiet {
            // Drawn only when stderr is a terminal; elsewhere it stays hidden.
            self.bar
                .set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        }
        self.bar.inc_length(seeds);
    }

    fn seeds_done(&mut self, n: u64) {
        self.bar.inc(n);
    }

    fn finished(&mut self, r: &TestReport) {
        let (word, style) = match r.verdict {
            Verdict::Pass => ("PASS", Style::new().green().bold().for_stderr()),
            Verdict::Fail => ("FAIL", red()),
            Verdict::Skip => ("SKIP", Style::new().yellow().bold().for_stderr()),
            Verdict::Cancelled => ("CANCEL", Style::new().yellow().bold().for_stderr()),
            Verdict::Unchanged => ("SKIP", Style::new().yellow().bold().for_stderr()),
        };
        // An unchanged test shows when it passed where others show how long they took.
        let when = match &r.unchanged {
            Some(p) if r.verdict == Verdict::Unchanged => {
                format!("unchanged since {}", crate::cache::utc_minute(p.at))
            }
            _ => fmt_secs(r.duration),
        };
        if !(self.quiet && r.verdict != Verdict::Fail) {
            self.line(&format!(
                "{} [{}] {}  {}",
                style.apply_to(format!("{word:>12}")),
                when,
                Style::new().bold().for_stderr().apply_to(r.id.full_name()),
                status_detail(r)
            ));
        }
        if r.verdict == Verdict::Fail {
            let block = failure_block(r, &self.ctx, self.verbose);
            self.line(block.trim_end());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PlainRun, TestBinary, TestKind};
    use crate::protocol::{SeedResult, Status};
    use crate::worker::Found;
    use std::sync::Arc;

    #[test]
    fn an_interrupted_sweep_claims_saved_only_for_what_was_saved() {
        let bin = Arc::new(TestBinary::new("p", "t", "test", "/b".into(), "/p".into()));
        let mut r = TestReport::new(
            TestId {
                binary: bin,
                name: "t".into(),
            },
            TestKind::Plain(PlainRun::default()),
        );
        let found = |saved: Option<&str>| Found {
            result: SeedResult::new(3, Status::Fail),
            output: String::new(),
            saved: saved.map(str::to_owned),
            trace: None,
        };
        r.failures.push(found(Some("/p/f.toml:0")));
        let note = interrupted_note(std::slice::from_ref(&r));
        assert!(note.ends_with("listed above and saved"), "{note}");
        r.failures.push(found(None));
        let note = interrupted_note(&[r]);
        assert!(!note.contains("and saved"), "{note}");
        assert!(note.contains("1 failure not saved"), "{note}");
    }

    #[test]
    fn the_bar_is_colourless_without_colour() {
        let plain = bar_template(false);
        let coloured = bar_template(true);
        // A style spec is `{key:.style}` or `{key:>12.style}`: a `.` after the `:`.
        let styled = |t: &str| {
            t.split('{')
                .filter_map(|k| k.split_once('}').map(|(k, _)| k))
                .any(|k| {
                    k.split_once(':')
                        .is_some_and(|(_, spec)| spec.contains('.'))
                })
        };
        assert!(styled(coloured), "{coloured}");
        assert!(!styled(plain), "{plain}");
        // The same bar otherwise.
        for key in ["{elapsed_precise}", "{pos}/{len} seeds", "{rate}", "{eta}"] {
            assert!(plain.contains(key) && coloured.contains(key), "{key}");
        }
        ProgressStyle::with_template(plain).unwrap();
        ProgressStyle::with_template(coloured).unwrap();
    }

    #[test]
    fn the_summary_counts_in_words() {
        console::set_colors_enabled_stderr(false);
        let one = Summary {
            tests: 1,
            passed: 0,
            cancelled: 1,
            seeds: 1,
            duration: Duration::from_secs(1),
            ..Summary::default()
        };
        let line = summary_line(&one);
        assert!(
            line.contains("] 1 test: 0 passed, 1 cancelled; 1 seed at"),
            "{line}"
        );
        let many = Summary {
            tests: 2,
            passed: 2,
            seeds: 1500,
            duration: Duration::from_secs(1),
            ..Summary::default()
        };
        let line = summary_line(&many);
        assert!(
            line.contains("] 2 tests: 2 passed; 1,500 seeds at"),
            "{line}"
        );
        let cached = Summary {
            tests: 3,
            passed: 1,
            unchanged: 2,
            ..many
        };
        let line = summary_line(&cached);
        assert!(
            line.contains("] 3 tests: 1 passed, 2 skipped as unchanged (--force reruns them);"),
            "{line}"
        );
    }
}
