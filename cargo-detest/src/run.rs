//! `cargo detest [FILTER]`: the sweep command.

use crate::cache::Cache;
use crate::cli::{FixturesFlag, Format, RunArgs};
use crate::discover::{self, Scratch};
use crate::model::{Summary, TestId, TestReport, Verdict};
use crate::output::{human::Human, json::JsonLines, junit, words::counted, Context};
use crate::plan::{SeedOverrides, Shard};
use crate::sweep::{self, Observer, SweepOptions};
use crate::{build, exit, signals};
use anyhow::{Context as _, Result};
use console::Style;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// Forwards sweep events to the human report and, with `--format json`, the JSON lines.
struct Fanout<'a> {
    human: &'a mut Human,
    json: Option<&'a mut JsonLines>,
}

impl Observer for Fanout<'_> {
    fn planned(&mut self, id: &TestId, seeds: u64) {
        self.human.planned(id, seeds);
    }
    fn seeds_done(&mut self, n: u64) {
        self.human.seeds_done(n);
    }
    fn finished(&mut self, r: &TestReport) {
        self.human.finished(r);
        if let Some(j) = self.json.as_deref_mut() {
            j.finished(r);
        }
    }
}

pub fn run(args: RunArgs) -> Result<i32> {
    crate::set_color(args.output.color);
    let ctx = Context {
        manifest_path: args.build.manifest_path.clone(),
    };
    let binaries: Vec<Arc<_>> = build::build(&args.build)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let tests = discover::collect(&binaries, &args.filter)?;
    let mut human = Human::new(args.output.quiet, args.output.verbose, ctx.clone());
    let mut json = (args.output.format == Format::Json).then(|| JsonLines::new(ctx.clone()));
    if tests.is_empty() {
        human.line(&format!(
            "{} no tests to run{}",
            Style::new()
                .yellow()
                .bold()
                .for_stderr()
                .apply_to("warning:"),
            if args.filter.is_empty() {
                String::new()
            } else {
                format!(" (filters: {})", args.filter.join(", "))
            }
        ));
        return Ok(exit::NO_TESTS);
    }

    let s = &args.sweep;
    let explore = s.explore || s.seed_start == Some(crate::cli::SeedStart::Random);
    let seed_start = match s.seed_start {
        _ if explore => Some(explore_start()),
        Some(crate::cli::SeedStart::Fixed(n)) => Some(n),
        _ => None,
    };
    let opts = SweepOptions {
        jobs: crate::jobs(s.jobs),
        overrides: SeedOverrides {
            seed: s.seed,
            seed_start,
            seeds: s.seeds,
        },
        policy: s.policy.clone(),
        shard: s.shard.unwrap_or(Shard::WHOLE),
        chunk_size: s.chunk_size,
        fixtures: s.fixtures() != FixturesFlag::Off,
        fixture_writes: s.fixtures() == FixturesFlag::On,
        fixtures_only: s.fixtures() == FixturesFlag::Only,
        fail_fast: s.fail_fast,
        timeout: s.timeout,
        skip_plain: s.skip_plain,
        probe_only: false,
        no_shrink: s.no_shrink,
        check_determinism: None,
        cache: Some(Arc::new(Cache::from_env())),
        force: s.force,
        explore,
    };

    let cyan = Style::new().cyan().bold().for_stderr();
    if explore {
        // Printed even with -q: without it an exploring sweep could not be rerun.
        human.line(&format!(
            "{} from seed {} (rerun this sweep with --seed-start {}), or where each test's \
             last exploration stopped (its line names its seeds)",
            cyan.apply_to(format!("{:>12}", "Exploring")),
            seed_start.unwrap_or(0),
            seed_start.unwrap_or(0)
        ));
    }
    let mut extra = vec![counted(opts.jobs as u64, "job")];
    if opts.shard.total > 1 {
        extra.push(format!("shard {}", opts.shard));
    }
    if let Some(seed) = s.seed {
        extra.push(format!("pinned to seed {seed}"));
    }
    if let Some(p) = &opts.policy {
        extra.push(format!("policy {p}"));
    }
    human.status(
        "Starting",
        &cyan,
        &format!(
            "{} across {} ({})",
            counted(tests.len() as u64, "test"),
            counted(binaries.len() as u64, "binary"),
            extra.join(", ")
        ),
    );
    if let Some(j) = &json {
        j.emit(&json!({
            "type": "sweep",
            "event": "started",
            "tests": tests.len(),
            "binaries": binaries.len(),
            "jobs": opts.jobs,
            "shard": opts.shard.to_string(),
            "seed": s.seed,
            "seed_start": seed_start,
            "seeds": s.seeds,
            "explore": explore,
            "force": s.force,
            "policy": opts.policy,
        }));
    }

    signals::install();
    let scratch = Scratch::new()?;
    // The summary's time and seeds/s are the sweep's, not cargo's build.
    let started = Instant::now();
    let (reports, interrupted) = {
        let mut fan = Fanout {
            human: &mut human,
            json: json.as_mut(),
        };
        sweep::run(tests, &opts, &scratch, &signals::INTERRUPTED, &mut fan)
    };
    let summary = Summary::from_reports(&reports, started.elapsed(), interrupted);
    human.summary(&reports, &summary);
    if let Some(j) = &json {
        j.summary(&summary);
    }
    if args.output.format == Format::Junit || args.output.junit.is_some() {
        let xml = junit::render(&reports, &summary, &ctx);
        if args.output.format == Format::Junit {
            print!("{xml}");
        }
        if let Some(path) = &args.output.junit {
            std::fs::write(path, &xml).with_context(|| format!("writing {path}"))?;
        }
    }
    // Unchanged tests ran no seed on purpose: they are no empty sweep.
    let detest_tests = reports
        .iter()
        .filter(|r| r.is_detest() && r.verdict != Verdict::Unchanged)
        .count();
    let no_seeds = NoSeeds::judge(summary.seeds, detest_tests, s.seeds == Some(0), opts.shard);
    // An unasked empty sweep is said once, as the reason for the exit code (a failure that
    // already fails the sweep speaks for itself).
    if let Some(n) = no_seeds.filter(|n| *n != NoSeeds::Unasked || summary.success()) {
        human.line(&n.note());
    }
    Ok(if interrupted {
        exit::INTERRUPTED
    } else if !summary.success() || no_seeds == Some(NoSeeds::Unasked) {
        exit::TEST_FAILED
    } else {
        exit::OK
    })
}

/// A sweep of detest tests that ran no seed at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoSeeds {
    /// `--seeds 0` (or `DETEST_SEEDS=0`): only the saved fixtures, as asked.
    Asked,
    /// This shard's share of a matrix was empty; the other shards run the seeds.
    EmptyShard,
    /// Nothing asked for it: a pass here would be a pass of nothing. Fails the sweep.
    Unasked,
}

impl NoSeeds {
    fn judge(seeds_run: u64, detest_tests: usize, asked: bool, shard: Shard) -> Option<NoSeeds> {
        if seeds_run > 0 || detest_tests == 0 {
            return None;
        }
        Some(if asked {
            NoSeeds::Asked
        } else if shard.total > 1 {
            NoSeeds::EmptyShard
        } else {
            NoSeeds::Unasked
        })
    }

    fn note(self) -> String {
        match self {
            NoSeeds::Asked => {
                "note: ran 0 seeds: --seeds 0 replays only the saved fixtures".to_owned()
            }
            NoSeeds::EmptyShard => {
                "note: ran 0 seeds: this shard's share of the seeds was empty".to_owned()
            }
            NoSeeds::Unasked => {
                "error: ran 0 seeds: no detest test was tested (--seeds 0 asks for only the saved fixtures)"
                    .to_owned()
            }
        }
    }
}

/// A fresh start seed: different on every run, small enough to read and type.
fn explore_start() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ (u64::from(std::process::id()) << 32);
    // splitmix64 finaliser, so runs a nanosecond apart start far apart.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    x % 1_000_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_of_no_seeds_fails_unless_asked_for() {
        let whole = Shard::WHOLE;
        assert_eq!(NoSeeds::judge(0, 3, false, whole), Some(NoSeeds::Unasked));
        assert_eq!(NoSeeds::judge(0, 3, true, whole), Some(NoSeeds::Asked));
        let matrix = Shard { index: 2, total: 4 };
        assert_eq!(
            NoSeeds::judge(0, 3, false, matrix),
            Some(NoSeeds::EmptyShard)
        );
        assert_eq!(NoSeeds::judge(5, 3, false, whole), None);
        // Plain #[test]s only: there were no seeds to run.
        assert_eq!(NoSeeds::judge(0, 0, false, whole), None);
        assert!(NoSeeds::Unasked.note().contains("ran 0 seeds"));
    }
}
