//! Traces read as a timeline and export as JSON lines.

use detest::sync::{Arc, Mutex};
use detest::trace::{timeline, to_json_lines, Op};
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
    let preemptions = trace.iter().filter(|e| e.preempts.is_some()).count();
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
    // Every preempting step is marked `*` in its task's column.
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
