//! `DETEST_CHECK_DETERMINISM=N`: every seed of the test's range, N times each, compared.

use super::fail_test;
use super::replay::Estimate;
use super::sweep::{describe_range, Ctx};
use super::watchdog::Watchdog;
use super::worker::Results;
use crate::render::count;
use std::fmt::Write as _;

/// How many nondeterministic seeds the failure message shows in full.
const SHOWN: usize = 3;

pub(super) fn run<F: Fn()>(
    ctx: &Ctx<'_>,
    runs: u32,
    results: Option<&Results>,
    watchdog: &Watchdog,
    body: &F,
) {
    let config = &ctx.config;
    let mut estimate = Estimate::default();
    let mut bad = Vec::new();
    let mut text = String::new();
    for seed in config.checked_range() {
        if let Some(r) = results {
            r.start(seed, None);
        }
        let report = {
            let _running = watchdog.begin(seed);
            let est = estimate.get(config, body);
            config.check_determinism_with_estimate(seed, runs, est, body)
        };
        if let Some(r) = results {
            r.determinism(&report);
        }
        if !report.is_deterministic() {
            if bad.len() < SHOWN {
                text.push_str(&report.render());
            } else {
                let _ = writeln!(
                    text,
                    "seed {}: NONDETERMINISTIC over {} ({})",
                    report.seed,
                    count(u64::from(report.runs), "run"),
                    count(report.histogram.len() as u64, "different outcome")
                );
            }
            bad.push(seed);
        }
    }
    let seeds = describe_range(config);
    if bad.is_empty() {
        println!(
            "detest: test `{}` is deterministic: {seeds}, {} each, one outcome per seed \
             (policy {})",
            ctx.info.name,
            count(u64::from(runs), "run"),
            config.policy
        );
        return;
    }
    let list: Vec<String> = bad.iter().take(20).map(u64::to_string).collect();
    fail_test(format!(
        "{text}detest: test `{}` is NOT deterministic: {} of {seeds} gave different runs over {} \
         each (seeds {}{}; policy {}). Seeds of a nondeterministic test do not replay.",
        ctx.info.name,
        bad.len(),
        count(u64::from(runs), "run"),
        list.join(", "),
        if bad.len() > list.len() { ", ..." } else { "" },
        config.policy
    ))
}
