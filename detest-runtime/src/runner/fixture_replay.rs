//! Plain `cargo test`'s replay of the saved fixture entries, before any new seed: each entry is
//! named on stderr before it runs, replayed by its shrunk schedule, schedule or seed, and a
//! failing one is handled (shrunk, stored, reported) like a new failure.

use super::replay::{replay_entry, Estimate, How};
use super::sweep::{print_trace, selected_entries, Ctx, ShrinkMode, Stored};
use super::watchdog::Watchdog;
use crate::fixture::FixtureEntry;
use std::path::Path;

/// Replays the entries [`selected_entries`] picks, in order; the first that fails fails the
/// test.
pub(super) fn replay<F: Fn()>(
    ctx: &Ctx<'_>,
    watchdog: &Watchdog,
    estimate: &mut Estimate,
    body: &F,
) {
    warn_legacy_fixtures(ctx);
    let (path, entries) = selected_entries(ctx);
    for (index, entry) in entries {
        announce_replay(&path, index, &entry);
        let (exec, how) = {
            let _running = watchdog.begin(entry.seed);
            replay_entry(&ctx.config, &entry, estimate, body)
        };
        let origin = format!(
            "fixture {}:{index} (found {}), replayed {}",
            path.display(),
            if entry.found.is_empty() {
                "earlier"
            } else {
                &entry.found
            },
            how.describe()
        );
        match exec.failure {
            None => {
                println!("detest: {origin}: pass");
                print_trace(
                    ctx.env.trace,
                    &format!("trace of fixture entry {index}"),
                    &exec.trace,
                );
            }
            Some(failure) => {
                // A seed rerun produced a new schedule: keep it, so the next replay is exact.
                let (stored, mode) = match &how {
                    How::ShrunkSchedule => (
                        Stored::Entry {
                            path: path.clone(),
                            entry: Box::new(entry),
                            index,
                            stale_shrunk: false,
                        },
                        ShrinkMode::Skip(None),
                    ),
                    How::Schedule { shrunk } => (
                        Stored::Entry {
                            path: path.clone(),
                            entry: Box::new(entry),
                            index,
                            stale_shrunk: shrunk.is_some(),
                        },
                        ShrinkMode::Auto,
                    ),
                    How::SeedFallback(_) | How::SeedOnly => (Stored::New, ShrinkMode::Auto),
                };
                let h = ctx.handle(failure, stored, mode, watchdog, body);
                ctx.report(h, Some(origin), false);
            }
        }
    }
}

/// A fixture file at the place detest kept it before paths were keyed by target kind is not
/// replayed: say so (uncaptured, as a pass would hide it), with the move that brings it back.
fn warn_legacy_fixtures(ctx: &Ctx<'_>) {
    let Some(old) = ctx.info.legacy_fixture_path.as_deref() else {
        return;
    };
    if ctx.env.fixture.is_some() || !old.is_file() {
        return;
    }
    let line = format!(
        "detest: warning: {} is where detest kept fixtures before they were keyed by target \
         kind; it is not replayed. Move it to {} (if it holds this {} target's failures).\n",
        old.display(),
        ctx.info.fixture_path.display(),
        ctx.info.kind.as_str()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// Says on stderr, before an entry replays, which one it is and how it will replay: a `hang` or
/// `crash` entry may stall or kill the process, and must be attributable when it does. Written
/// past libtest's capture, which a killed process never prints.
fn announce_replay(path: &Path, index: usize, entry: &FixtureEntry) {
    let line = format!(
        "detest: replaying fixture {}:{index} ({} at seed {}, policy {}) {}\n",
        path.display(),
        entry.kind,
        entry.seed,
        entry.policy,
        replay_plan(entry)
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// How `replay_entry` will try `entry`.
fn replay_plan(entry: &FixtureEntry) -> &'static str {
    match (entry.shrunk_schedule.is_empty(), entry.schedule.is_empty()) {
        (false, false) => "by shrunk schedule, else by schedule, else by seed",
        (false, true) => "by shrunk schedule, else by seed",
        (true, false) => "by schedule, else by seed",
        (true, true) => "by seed (no schedule was saved)",
    }
}
