//! `cargo detest check-determinism [FILTER] --runs N`: the sweep, with every seed run N times
//! by the worker (`DETEST_CHECK_DETERMINISM=N`), which hashes each run's trace and outcome. A
//! seed whose runs do not all hash the same is nondeterministic: something outside detest's
//! control (the wall clock, a std `HashMap`'s order, a real OS thread) leaks into the test, and
//! its seeds will not replay. Prints a histogram per seed (hash → runs), as bazel-buildfarm does,
//! and for a divergent seed the first divergent step, a diff of the traces and the likely cause.

use crate::cli::{CheckArgs, Format};
use crate::discover::{self, Scratch};
use crate::model::{Summary, TestId, TestReport, Verdict};
use crate::output::words::counted;
use crate::output::{determinism_block, human::Human, json::JsonLines, Context};
use crate::plan::{SeedOverrides, Shard};
use crate::sweep::{self, Observer, SweepOptions};
use crate::{build, exit, signals};
use anyhow::Result;
use console::Style;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// Histograms of passing tests are shown up to this many seeds (all of them with `-v`).
const SHOW_PASSING: usize = 16;

struct Reporter<'a> {
    human: &'a mut Human,
    json: Option<&'a mut JsonLines>,
    ctx: &'a Context,
    quiet: bool,
    verbose: bool,
}

impl Observer for Reporter<'_> {
    fn planned(&mut self, id: &TestId, seeds: u64) {
        self.human.planned(id, seeds);
    }
    fn seeds_done(&mut self, n: u64) {
        self.human.seeds_done(n);
    }
    fn finished(&mut self, r: &TestReport) {
        self.human.finished(r);
        let show = r.verdict == Verdict::Pass
            && !self.quiet
            && (self.verbose || r.determinism.len() <= SHOW_PASSING);
        if show && !r.determinism.is_empty() {
            let block = determinism_block(r, self.ctx, self.verbose);
            self.human.line(block.trim_end());
        }
        if let Some(j) = self.json.as_deref_mut() {
            j.finished(r);
        }
    }
}

pub fn check(args: CheckArgs) -> Result<i32> {
    crate::set_color(args.color);
    let ctx = Context {
        manifest_path: args.build.manifest_path.clone(),
    };
    let binaries: Vec<Arc<_>> = build::build(&args.build)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let tests = discover::collect(&binaries, &args.filter)?;
    let mut human = Human::new(args.quiet, args.verbose, ctx.clone());
    let mut json = (args.format == Format::Json).then(|| JsonLines::new(ctx.clone()));
    if tests.is_empty() {
        human.line(&format!(
            "{} no tests to check",
            Style::new()
                .yellow()
                .bold()
                .for_stderr()
                .apply_to("warning:"),
        ));
        return Ok(exit::NO_TESTS);
    }
    let opts = SweepOptions {
        jobs: crate::jobs(args.jobs),
        overrides: SeedOverrides {
            seed: args.seed,
            seed_start: args.seed_start,
            seeds: args.seeds,
        },
        policy: args.policy.clone(),
        shard: Shard::WHOLE,
        chunk_size: None,
        // Runs of a check neither replay nor save fixtures.
        fixtures: false,
        fixture_writes: false,
        fixtures_only: false,
        fail_fast: false,
        timeout: args.timeout,
        // Plain tests have no seeds to compare.
        skip_plain: true,
        probe_only: false,
        no_shrink: true,
        check_determinism: Some(args.runs),
        // A check runs every seed again on purpose.
        ..SweepOptions::default()
    };
    let cyan = Style::new().cyan().bold().for_stderr();
    human.status(
        "Checking",
        &cyan,
        &format!(
            "determinism of {} ({} per seed, {})",
            counted(tests.len() as u64, "test"),
            counted(args.runs as u64, "run"),
            counted(opts.jobs as u64, "job"),
        ),
    );
    if let Some(j) = &json {
        j.emit(&json!({
            "type": "check-determinism",
            "event": "started",
            "tests": tests.len(),
            "runs": args.runs,
            "jobs": opts.jobs,
            "seed": args.seed,
            "seed_start": args.seed_start,
            "seeds": args.seeds,
            "policy": opts.policy,
        }));
    }
    signals::install();
    let scratch = Scratch::new()?;
    let started = Instant::now();
    let (reports, interrupted) = {
        let mut rep = Reporter {
            human: &mut human,
            json: json.as_mut(),
            ctx: &ctx,
            quiet: args.quiet,
            verbose: args.verbose,
        };
        sweep::run(tests, &opts, &scratch, &signals::INTERRUPTED, &mut rep)
    };
    let summary = Summary::from_reports(&reports, started.elapsed(), interrupted);
    human.summary(&reports, &summary);
    if let Some(j) = &json {
        j.summary(&summary);
    }
    Ok(if interrupted {
        exit::INTERRUPTED
    } else if summary.success() {
        exit::OK
    } else {
        exit::TEST_FAILED
    })
}
