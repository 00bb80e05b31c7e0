//! A test's verdict, derived from what ran: nothing is PASS by default.

use crate::model::{TestReport, Verdict};

/// What happened to a detest test, for its verdict.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ran {
    /// Some failure, crash or worker error that fails it.
    pub failed: bool,
    pub expects_pass: bool,
    /// An `expect = ...` test saw its expected outcome.
    pub expected_found: bool,
    /// Some unit of it was stopped or never started (Ctrl-C, `--fail-fast`).
    pub incomplete: bool,
    pub interrupted: bool,
    /// Its shard holds none of its seeds (and it has no fixtures to replay).
    pub no_seeds_here: bool,
    /// Executions that ran to a result: seeds and fixture entries.
    pub executions: u64,
}

/// A test's verdict, derived from what ran: PASS only when something ran and passed (or the
/// expected outcome was seen); a test stopped before it finished is cancelled, one with nothing
/// to run is skipped. Nothing defaults to PASS.
pub fn detest_verdict(r: &Ran) -> Verdict {
    if r.failed {
        Verdict::Fail
    } else if r.incomplete && r.interrupted {
        Verdict::Cancelled
    } else if !r.expects_pass && r.expected_found {
        // Its point is made; the chunks above the deciding one were cancelled on purpose.
        Verdict::Pass
    } else if r.incomplete {
        Verdict::Cancelled
    } else if r.no_seeds_here || r.executions == 0 {
        Verdict::Skip
    } else if r.expects_pass {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

/// Why a test was cancelled: `stopped by --fail-fast before it ran`, `... after 40 of 200 seeds`.
pub fn cancel_note(r: &TestReport, interrupted: bool) -> String {
    let by = if interrupted {
        "interrupted"
    } else {
        "stopped by --fail-fast"
    };
    let ran = r.seeds_run.saturating_sub(r.fixtures_replayed);
    if r.seeds_run == 0 && interrupted {
        // A seed may have been in flight: say only what is known.
        format!("{by} before any seed finished")
    } else if r.seeds_run == 0 {
        format!("{by} before it ran")
    } else {
        format!(
            "{by} after {} of {}",
            crate::output::thousands(ran),
            crate::output::seeds_text(r.seeds_planned)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PlainRun, TestId, TestKind};
    use std::sync::Arc;

    fn ran(executions: u64) -> Ran {
        Ran {
            expects_pass: true,
            executions,
            ..Ran::default()
        }
    }

    #[test]
    fn pass_only_when_something_ran_and_passed() {
        assert_eq!(detest_verdict(&ran(10)), Verdict::Pass);
        // Never ran: no seeds at all, or stopped by --fail-fast before it started.
        assert_eq!(detest_verdict(&ran(0)), Verdict::Skip);
        let stopped = Ran {
            incomplete: true,
            ..ran(0)
        };
        assert_eq!(detest_verdict(&stopped), Verdict::Cancelled);
        // Part of it ran before --fail-fast stopped it: still not a pass.
        let partly = Ran {
            incomplete: true,
            ..ran(40)
        };
        assert_eq!(detest_verdict(&partly), Verdict::Cancelled);
        let interrupted = Ran {
            interrupted: true,
            ..partly
        };
        assert_eq!(detest_verdict(&interrupted), Verdict::Cancelled);
        let failed = Ran {
            failed: true,
            ..partly
        };
        assert_eq!(detest_verdict(&failed), Verdict::Fail);
        let no_seeds = Ran {
            no_seeds_here: true,
            ..ran(0)
        };
        assert_eq!(detest_verdict(&no_seeds), Verdict::Skip);
    }

    #[test]
    fn an_expectation_test_passes_only_on_its_expected_outcome() {
        let expect = |found, incomplete, executions| Ran {
            expects_pass: false,
            expected_found: found,
            incomplete,
            executions,
            ..Ran::default()
        };
        // Found it; the chunks above were cancelled on purpose.
        assert_eq!(detest_verdict(&expect(true, true, 5)), Verdict::Pass);
        assert_eq!(detest_verdict(&expect(false, false, 5)), Verdict::Fail);
        assert_eq!(detest_verdict(&expect(false, true, 5)), Verdict::Cancelled);
        assert_eq!(detest_verdict(&expect(false, false, 0)), Verdict::Skip);
    }

    #[test]
    fn a_report_starts_out_as_no_pass() {
        let bin = Arc::new(crate::model::TestBinary::new(
            "p",
            "t",
            "test",
            "/b".into(),
            "/p".into(),
        ));
        let id = TestId {
            binary: bin,
            name: "t".into(),
        };
        let r = TestReport::new(id, TestKind::Plain(PlainRun::default()));
        assert_ne!(r.verdict, Verdict::Pass);
        assert_eq!(
            cancel_note(&r, false),
            "stopped by --fail-fast before it ran"
        );
        assert_eq!(
            cancel_note(&r, true),
            "interrupted before any seed finished"
        );
    }
}
