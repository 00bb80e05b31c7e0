//! Shrinking on every bug program: the shrunk schedule still fails the same way on replay, and
//! its preemption count is minimal. Minimality is shown, not assumed: a bounded exhaustive
//! exploration with one preemption fewer (`Config::explore`) runs every such schedule and finds
//! no failure.

#[allow(dead_code)]
mod programs {
    use detest::{future, sync, thread};
    include!("../detest-bench/src/programs.rs");
    include!("../detest-bench/src/programs_async.rs");
}

use detest::{Config, Policy};

/// Above this many schedules the bound-(k-1) check covers only the first ones, so it is no
/// proof (reorder_10 has 10! orders of its threads even without preemptions); those programs
/// share their shape with smaller ones whose check is exhaustive.
const PROOF_LIMIT: u64 = 200_000;

#[test]
fn shrunk_schedules_replay_and_have_minimal_preemptions() {
    let mut all = programs::bug_programs();
    all.extend(programs::async_bug_programs());
    let mut summary = Vec::new();
    for program in all {
        let config = Config::new().seeds(10_000).policy(Policy::Chaos);
        let report = config.run(program.body);
        let failure = report
            .failures
            .first()
            .unwrap_or_else(|| panic!("{} not found", program.name));
        let shrunk = config
            .shrink(failure, program.body)
            .unwrap_or_else(|| panic!("{}: the failing schedule does not replay", program.name));
        assert!(
            shrunk.preemptions_after <= shrunk.preemptions_before,
            "{}",
            program.name
        );
        assert!(
            shrunk.steps_after <= shrunk.steps_before + 5,
            "{}: {}",
            program.name,
            shrunk.summary()
        );

        // The shrunk schedule replays the same failure.
        let replay = Config::new().replay(&shrunk.schedule, program.body);
        let again = replay
            .failure
            .unwrap_or_else(|| panic!("{}: shrunk schedule passes", program.name));
        assert_eq!(again.kind, failure.kind, "{}", program.name);
        assert_eq!(again.location, failure.location, "{}", program.name);

        // Minimal: no schedule with fewer preemptions fails.
        let proof = if shrunk.preemptions_after == 0 {
            "0 is the least possible".to_owned()
        } else {
            let below = shrunk.preemptions_after - 1;
            let exploration = Config::new().explore(below, PROOF_LIMIT, program.body);
            assert!(
                exploration.report.passed(),
                "{}: shrunk to {} preemptions, but {} suffice: {}",
                program.name,
                shrunk.preemptions_after,
                below,
                exploration.report
            );
            if exploration.complete {
                format!(
                    "all {} schedules with <= {below} preemptions pass",
                    exploration.report.executions
                )
            } else {
                format!(
                    "first {} schedules with <= {below} preemptions pass (not exhaustive)",
                    PROOF_LIMIT
                )
            }
        };
        summary.push(format!(
            "{:<22} {}  [{proof}]",
            program.name,
            shrunk.summary()
        ));
    }
    println!("{}", summary.join("\n"));
}
