//! `DETEST_MINIMIZE=1`: shrink one failure on demand (what `cargo detest minimize` runs).

use super::fail_test;
use super::replay::{replay_entry, Estimate};
use super::sweep::{run_seed, selected_entries, Ctx, ShrinkMode, Stored};
use super::watchdog::Watchdog;
use super::worker::Results;

pub(super) fn run<F: Fn()>(
    ctx: &Ctx<'_>,
    results: Option<&Results>,
    watchdog: &Watchdog,
    body: &F,
) {
    let env = ctx.env;
    let config = &ctx.config;
    let mut estimate = Estimate::default();
    let (exec, stored, origin, fixture_id) = if env.fixture.is_some() {
        let (path, entries) = selected_entries(ctx);
        let Some((index, entry)) = entries.into_iter().next() else {
            unreachable!("selected_entries returns the one entry DETEST_FIXTURE names")
        };
        let id = format!("{}:{index}", path.display());
        if let Some(r) = results {
            r.start(entry.seed, Some(&id));
        }
        let (exec, how) = {
            let _running = watchdog.begin(entry.seed);
            replay_entry(config, &entry, &mut estimate, body)
        };
        let origin = format!("fixture {id}, replayed {}", how.describe());
        let stored = if how.by_schedule() {
            Stored::Entry {
                path,
                entry: Box::new(entry),
                index,
                stale_shrunk: true,
            }
        } else {
            Stored::New
        };
        (exec, stored, Some(origin), Some((id, how)))
    } else if let Some(schedule) = &env.replay {
        let seed = config.seed_start;
        if let Some(r) = results {
            r.start(seed, None);
        }
        let exec = {
            let _running = watchdog.begin(seed);
            config.replay_seed(schedule, seed, body)
        };
        let origin = "the schedule in DETEST_REPLAY".to_owned();
        (exec, Stored::New, Some(origin), None)
    } else if let Some(seed) = env.seed {
        if let Some(r) = results {
            r.start(seed, None);
        }
        let exec = run_seed(config, &mut estimate, watchdog, seed, body);
        (exec, Stored::New, None, None)
    } else {
        fail_test(
            "detest: DETEST_MINIMIZE=1 needs the failure to shrink: DETEST_SEED=S, \
             DETEST_REPLAY=<schedule> or DETEST_FIXTURE=<fixture file>:<entry index>"
                .to_owned(),
        )
    };
    let fixture = fixture_id.as_ref().map(|(id, how)| (id.as_str(), how));
    let Some(failure) = exec.failure.clone() else {
        if let Some(r) = results {
            r.result(&exec, None, fixture);
        }
        println!(
            "detest: minimize: {} passes (seed {}, policy {}): nothing to shrink",
            origin.as_deref().unwrap_or("the run"),
            exec.seed,
            config.policy
        );
        return;
    };
    let h = ctx.handle(failure, stored, ShrinkMode::Force, watchdog, body);
    if let Some(r) = results {
        r.result(&exec, Some(&h), fixture);
    }
    match &h.shrunk {
        Some(s) => println!(
            "detest: minimized `{}` seed {}: {}\ndetest: shrunk schedule: {}",
            ctx.info.name,
            h.failure.seed,
            s.summary(),
            s.schedule
        ),
        None => println!(
            "detest: minimize: {}",
            h.shrink_note.as_deref().unwrap_or("not shrunk")
        ),
    }
    ctx.report(h, origin, true)
}
