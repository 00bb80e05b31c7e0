//! What an ended execution failed with, if anything: the root-cause panic, or the abort.

use super::*;

/// Whether a panic with `message` merely passes on an earlier one with `earlier`: it unwraps the
/// `Err` a join returned (its payload prints as `Any { .. }`), re-raises the payload
/// (`resume_unwind`), or is a scope reporting that one of its threads panicked.
fn is_consequence(message: &str, earlier: &str) -> bool {
    message.ends_with("Any { .. }") || message == earlier || message == "a scoped thread panicked"
}

pub(super) fn failure_of(st: &mut State, seed: u64, policy: &str) -> Option<Failure> {
    // A task stuck while unwinding panicked, even though its panic never finished.
    for t in 0..st.tasks.len() as TaskId {
        let task = &st.tasks[t as usize];
        if task.suspended_unwinding && task.panic.is_some() && !st.panic_order.contains(&t) {
            st.panic_order.push(t);
        }
    }
    // An unobserved panic is the root cause even when a deadlock or limit followed it.
    let panicked = st
        .panic_order
        .iter()
        .copied()
        .find(|&t| !st.tasks[t as usize].panic_observed || t == 0);
    let (kind, message, location, task) = if let Some(t) = panicked {
        let (mut message, mut location) = st.tasks[t as usize].panic.clone().unwrap_or_default();
        let mut task = t;
        // A failing panic that follows another (main unwrapping a joined thread's panic, say)
        // is usually a consequence: when it is one, the earlier panic is the failure (its
        // message, location and task lead the report, and fixtures dedup on its location),
        // with the consequence named after it; otherwise the earlier one is named.
        if let Some(&first) = st.panic_order.first().filter(|&&f| f != t) {
            let (first_message, first_location) =
                st.tasks[first as usize].panic.clone().unwrap_or_default();
            let at =
                |l: &Option<String>| l.as_ref().map(|l| format!(" at {l}")).unwrap_or_default();
            if is_consequence(&message, &first_message) {
                let note = format!(
                    "\n(then {} panicked: {message}{})",
                    st.task_info(t),
                    at(&location)
                );
                message = first_message + &note;
                location = first_location;
                task = first;
            } else {
                let _ = write!(
                    message,
                    "\n(earlier, {} panicked: {first_message}{})",
                    st.task_info(first),
                    at(&first_location)
                );
            }
        }
        (
            FailureKind::Panic,
            message,
            location,
            Some(st.task_info(task)),
        )
    } else {
        match st.abort.take() {
            Some(Abort::Fail(kind, message)) => {
                let task = matches!(
                    kind,
                    FailureKind::StepLimit | FailureKind::Timeout | FailureKind::DataRace
                )
                .then(|| st.task_info(st.current));
                (kind, message, None, task)
            }
            Some(Abort::MainDone) | None => {
                let left = st.scheduler.remaining();
                if left == 0 {
                    return None;
                }
                let message = format!(
                    "the execution ended after {} with {} left unused",
                    count(st.step, "step"),
                    count(left as u64, "recorded decision")
                );
                (FailureKind::Nondeterminism, message, None, None)
            }
        }
    };
    Some(Failure {
        seed,
        policy: policy.to_owned(),
        kind,
        message,
        location,
        task,
        schedule: st.schedule.clone(),
        steps: st.step,
        trace: st.trace.clone().unwrap_or_default(),
    })
}
