//! What each step leaves behind: the trace (with preemptions and unrecorded steps), the step
//! count and the limits it is checked against (step limit, wall-clock timeout), and the
//! deadlock report when no task can run.

use super::*;

impl State {
    pub(super) fn deadlock_message(&self) -> String {
        let mut msg = String::from("every task is blocked");
        for (id, task) in self.tasks.iter().enumerate() {
            if let TaskState::Blocked { wait, .. } = task.state {
                let info = self.task_info(id as TaskId);
                let _ = write!(msg, "\n  {info} {}", wait.kind.describe());
                match wait.kind {
                    WaitKind::Join => {
                        let _ = write!(msg, " task {}", wait.object);
                    }
                    WaitKind::Park | WaitKind::Sleep | WaitKind::Future => {}
                    _ => {
                        let _ = write!(
                            msg,
                            " {}",
                            ObjectRef {
                                id: wait.object,
                                kind: wait.object_kind
                            }
                        );
                    }
                }
                if wait.holder != NO_TASK {
                    let _ = write!(msg, " (held by task {})", wait.holder);
                }
                let _ = write!(msg, " at {}:{}", wait.location.file(), wait.location.line());
            }
        }
        msg
    }

    pub(super) fn record(
        &mut self,
        op: Op,
        object: u32,
        kind: &'static str,
        location: &'static Location<'static>,
    ) {
        let Some(trace) = &mut self.trace else { return };
        let task = self.current;
        let preempted_by = self
            .unrecorded
            .iter()
            .position(|u| u.at.task == task)
            .map(|i| self.unrecorded.swap_remove(i).by);
        let last = trace.last().map_or(0, |e| e.step);
        let event = TraceEvent {
            // Operations in the order they took effect. (The scheduling-step counter is not
            // used: a task's operation takes effect when it is next scheduled, possibly several
            // steps after it reached its point.) A random draw is no step of its own, nor is
            // a cell access (see `cells.rs`).
            step: if matches!(op, Op::Rand | Op::CellRead | Op::CellWrite) {
                last
            } else {
                last + 1
            },
            task,
            op,
            object: (object != 0).then_some(ObjectRef { id: object, kind }),
            location: Some(location),
            preempted_by,
            time: self.now,
            value: None,
        };
        trace.push(event);
    }

    /// Traces the preemption the last choice made at `at`, if it made one, on the step of
    /// that operation: the one just recorded (`recorded`, an operation that publishes), or the
    /// one it performs when it runs again.
    pub(super) fn trace_preemption(&mut self, at: PointOp, recorded: bool) {
        let Some(by) = self.preemption.take() else {
            return;
        };
        let Some(trace) = &mut self.trace else { return };
        match trace.last_mut() {
            Some(last) if recorded => last.preempted_by = Some(by),
            _ => self.unrecorded.push(Unrecorded { at, by }),
        }
    }

    /// Traces the operations that preempted tasks never got to perform (the execution ended
    /// first) as their last steps, so every preemption counted has its mark.
    pub(super) fn trace_unrecorded(&mut self) {
        let Some(trace) = &mut self.trace else { return };
        for Unrecorded { at, by } in self.unrecorded.drain(..) {
            trace.push(TraceEvent {
                step: trace.last().map_or(0, |e| e.step) + 1,
                task: at.task,
                op: at.op,
                object: (at.object != 0).then_some(ObjectRef {
                    id: at.object,
                    kind: at.kind,
                }),
                location: Some(at.location),
                preempted_by: Some(by),
                time: self.now,
                value: None,
            });
        }
    }

    /// Counts a step; false (with `abort` set) when a limit is exceeded.
    #[inline(always)]
    pub(super) fn count_step(&mut self) -> bool {
        self.step += 1;
        self.progress[self.current as usize] += 1;
        if self.step > self.options.max_steps || self.step & 1023 == 0 {
            return self.check_limits();
        }
        true
    }

    /// The rare part of [`State::count_step`]: kept out of line so every step's path stays short.
    #[cold]
    #[inline(never)]
    pub(super) fn check_limits(&mut self) -> bool {
        if self.step > self.options.max_steps {
            let msg = match self.spinners_message() {
                Some(spinners) => format!(
                    "step limit of {} exceeded: every task that can run keeps re-reading \
                     values no task changes any more, a spin-wait whose condition nobody will \
                     make true (raise max_steps if a spin is meant to end by counting){spinners}",
                    self.options.max_steps
                ),
                None => format!(
                    "step limit of {} exceeded: a livelock (tasks that keep changing state \
                     without getting anywhere), or a loop that never reaches a scheduling \
                     point (raise it with max_steps if the test is just long)",
                    self.options.max_steps
                ),
            };
            self.abort = Some(Abort::Fail(FailureKind::StepLimit, msg));
            return false;
        }
        !self.timed_out()
    }

    /// Whether the wall-clock timeout has passed; if so, the execution fails with it.
    pub(super) fn timed_out(&mut self) -> bool {
        let Some(limit) = self.options.timeout else {
            return false;
        };
        if crate::env::real_now().saturating_duration_since(self.started) <= limit {
            return false;
        }
        self.abort = Some(Abort::Fail(
            FailureKind::Timeout,
            format!("execution exceeded the wall-clock timeout of {limit:?}"),
        ));
        true
    }

    /// The timeout check as an execution ends. Steps look at the clock only every 1024 steps,
    /// so an execution with fewer (one long blocking call, say) would otherwise never be
    /// judged. Another failure already found stays the one reported.
    pub(super) fn check_timeout_at_end(&mut self) {
        if matches!(self.abort, None | Some(Abort::MainDone)) {
            self.timed_out();
        }
    }
}
