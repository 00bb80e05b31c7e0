//! Traces read as a timeline and export as JSON lines.

use detest::sync::{Arc, Mutex};
use detest::trace::{preemptions, timeline, to_json_lines, Op};
use detest::{thread, Config, Policy};

fn lost_update() {
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    let t = thread::spawn(move || {
        let v = *n2.lock().unwrap();
        *n2.lock().unwrap() = v + 1;
    });
    let v = *n.lock().unwrap();
    *n.lock().unwrap() = v + 1;
    t.join().unwrap();
    assert_eq!(*n.lock().unwrap(), 2, "lost update");
}

#[test]
fn failing_trace_renders_as_a_timeline_with_preemptions_and_the_failure() {
    let report = Config::new()
        .seeds(1000)
        .policy(Policy::Random)
        .run(lost_update);
    let failure = &report.failures[0];
    let trace = &failure.trace;
    assert!(!trace.is_empty());
    assert!(trace.iter().any(|e| e.op == Op::Lock && e.object.is_some()));
    assert!(trace.iter().all(|e| e
        .location
        .is_some_and(|l| l.file().ends_with("trace_render.rs"))));
    let preemptions = preemptions(trace);
    assert!(preemptions >= 1, "a lost update needs a preemption");

    let text = timeline(trace, failure.task.as_ref().map(|t| t.id));
    let header = text.lines().next().unwrap();
    assert!(
        header.contains("task 0") && header.contains("task 1"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("!!")).count(),
        1,
        "{text}"
    );
    // Every preempted step is marked `*` in its task's column.
    assert_eq!(text.matches("|*").count(), preemptions, "{text}");
    assert_eq!(text.lines().count(), trace.len() + 1);
}

#[test]
fn trace_exports_json_lines() {
    let exec = Config::new().trace(true).run_seed(0, lost_update);
    let json = to_json_lines(&exec.trace);
    assert_eq!(json.lines().count(), exec.trace.len());
    let first = json
        .lines()
        .find(|l| l.contains("\"op\":\"lock\""))
        .unwrap();
    assert!(first.contains("\"type\":\"Mutex<i32>\""), "{first}");
    assert!(first.contains("trace_render.rs:"), "{first}");
    assert!(first.starts_with('{') && first.ends_with('}'));
}

#[test]
fn api_failure_blocks_end_with_calls_that_reproduce_them() {
    let report = Config::new()
        .seeds(1000)
        .policy(Policy::Random)
        .run(lost_update);
    let failure = &report.failures[0];
    let block = detest::render::failure_block(failure, None);
    let last = block.trim_end().lines().last().unwrap().trim();
    assert_eq!(
        last,
        format!(
            "detest::Config::new().policy(\"random\".parse().unwrap()).run_seed({}, body)",
            failure.seed
        )
    );
    // The schedule in the replay call parses back to the failure's schedule, and replays it.
    let replay_line = block.lines().find(|l| l.contains(".replay(&\"")).unwrap();
    let text = replay_line.split('"').nth(1).unwrap();
    let schedule: detest::Schedule = text.parse().unwrap();
    assert_eq!(&schedule, &failure.schedule);
    let again = Config::new()
        .replay(&schedule, lost_update)
        .failure
        .unwrap();
    assert_eq!(again.message, failure.message);
    let by_seed = Config::new()
        .policy("random".parse().unwrap())
        .run_seed(failure.seed, lost_update);
    assert_eq!(by_seed.failure.unwrap().message, failure.message);
}

/// Spawns three workers that each take a lock twice; main joins them.
fn spawns() {
    let n = Arc::new(Mutex::new(0));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let n = n.clone();
            thread::spawn(move || {
                *n.lock().unwrap() += 1;
                *n.lock().unwrap() += 1;
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Main fails while a worker it preempted still waits to run (its operation never happens).
fn preempted_worker_never_resumes() {
    let flag = Arc::new(detest::sync::atomic::AtomicBool::new(false));
    let f = flag.clone();
    let _t = thread::spawn(move || {
        f.store(true, detest::sync::atomic::Ordering::SeqCst);
        f.store(false, detest::sync::atomic::Ordering::SeqCst);
    });
    assert!(
        !flag.load(detest::sync::atomic::Ordering::SeqCst),
        "saw the flag"
    );
}

/// The `*` marks of a trace, its preemption count and the count the shrinker minimises
/// (`Execution::preemptions`) are one number, on traces with spawns, joins, failures and
/// tasks that never run again.
#[test]
fn preemption_marks_add_up_to_the_preemption_count() {
    let bodies: [(&str, fn()); 3] = [
        ("lost_update", lost_update),
        ("spawns", spawns),
        (
            "preempted_worker_never_resumes",
            preempted_worker_never_resumes,
        ),
    ];
    for (name, body) in bodies {
        let mut preempted = 0;
        for seed in 0..200 {
            let exec = Config::new()
                .trace(true)
                .policy(Policy::Random)
                .run_seed(seed, body);
            let marks = preemptions(&exec.trace);
            assert_eq!(
                marks,
                exec.preemptions as usize,
                "{name} seed {seed}:\n{}",
                timeline(&exec.trace, None)
            );
            let text = timeline(&exec.trace, None);
            assert_eq!(
                text.matches("|*").count(),
                marks,
                "{name} seed {seed}:\n{text}"
            );
            // Every counted step is in the trace, the ones preempted tasks never took too.
            assert_eq!(
                exec.trace.last().map_or(0, |e| e.step),
                exec.steps,
                "{name} {seed}"
            );
            preempted += marks;
        }
        assert!(preempted > 0, "{name}: no seed preempted");
    }
}

/// A draw shows its value on its own row, and virtual time where it moved.
#[test]
fn traces_carry_random_draws_and_virtual_time() {
    let body = || {
        let n: u64 = detest::rand::next_u64();
        detest::time::sleep(std::time::Duration::from_millis(5));
        let m = Mutex::new(n);
        drop(m.lock().unwrap());
    };
    let exec = Config::new().trace(true).run_seed(3, body);
    let draw = exec
        .trace
        .iter()
        .find(|e| e.op == Op::Rand)
        .expect("a rand step");
    assert!(draw.value.is_some());
    assert!(draw.location.unwrap().file().ends_with("trace_render.rs"));
    let lock = exec.trace.iter().find(|e| e.op == Op::Lock).unwrap();
    assert_eq!(lock.time, 5_000_000);
    let text = timeline(&exec.trace, None);
    assert!(
        text.contains(&format!(
            "rand :{} → {}",
            draw.location.unwrap().line(),
            draw.value.unwrap()
        )),
        "{text}"
    );
    assert_eq!(text.matches("5ms").count(), 1, "{text}");
    // The heading counts steps, and the draw beside them.
    let (heading, _) = detest::render::timeline_section(&exec.trace, None, "trace", true);
    assert!(
        heading.starts_with(&format!("trace ({} steps and 1 draw; ", exec.steps)),
        "{heading}"
    );
    let json = to_json_lines(&exec.trace);
    assert!(
        json.contains(&format!("\"value\":{}", draw.value.unwrap())),
        "{json}"
    );
    assert!(json.contains("\"time\":5000000"), "{json}");
}

/// A real primitive's type name and line survive in the timeline, whole.
#[test]
fn long_type_names_and_lines_are_never_cut() {
    let line = line!() + 2;
    let body = || {
        let m = Mutex::new((detest::time::Instant::now(), false));
        m.lock().unwrap().1 = true;
    };
    let exec = Config::new().trace(true).run_seed(0, body);
    let text = timeline(&exec.trace, None);
    assert!(
        text.contains(&format!("lock Mutex<(Instant, bool)>#1 :{}", line + 1)),
        "{text}"
    );
    assert!(
        text.lines().next().unwrap().ends_with("trace_render.rs:N)"),
        "{text}"
    );
}
