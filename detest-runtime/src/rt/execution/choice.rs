//! Who runs next: the policy is asked only where two or more tasks can run (tasks that give
//! way are left out while another can), and the virtual clock jumps to the next deadline when
//! every task waits. Decisions are recorded in the schedule here, so replay and shrinking see
//! exactly what the policy answered.

use super::*;

impl State {
    /// Asks the policy (only when there is a real choice). Records the decision. Tasks that
    /// give way (see `spin.rs`) are not offered while another can run.
    pub(super) fn choose(
        &mut self,
        current: Option<TaskId>,
        yielding: bool,
        released: bool,
    ) -> Option<TaskId> {
        // The filter's cheap half inline: nobody gives way unless one did since the last change.
        let filtered = self.giving_way == self.changes
            && self.runnable.len() > 1
            && self.fill_offered(current);
        let offered = if filtered {
            &self.offered
        } else {
            &self.runnable
        };
        match offered.len() {
            0 => None,
            1 => {
                if self.observing {
                    let point = ChoicePoint {
                        runnable: offered,
                        current,
                        yielding,
                        released,
                        release: self.release,
                        clock_moves: self.clock_moves,
                        pending: &self.pending,
                        last: self.current,
                        progress: &self.progress,
                    };
                    self.scheduler.observe(&point);
                }
                Some(offered[0])
            }
            _ => {
                self.release_points += u32::from(released);
                let point = ChoicePoint {
                    runnable: offered,
                    current,
                    yielding,
                    released,
                    release: self.release,
                    clock_moves: self.clock_moves,
                    pending: &self.pending,
                    last: self.current,
                    progress: &self.progress,
                };
                match self.scheduler.choose(&point) {
                    Choice::Run(task) => {
                        debug_assert!(offered.binary_search(&task).is_ok());
                        self.schedule.push_choice(task);
                        if !yielding && current.is_some_and(|c| c != task) {
                            // The one definition of a preemption: counted here, marked in
                            // the trace from `preemption` (see `TraceEvent::preempted_by`).
                            self.preemption = Some(task);
                            self.preemptions += 1;
                        }
                        Some(task)
                    }
                    Choice::Diverged { expected } => {
                        let msg = if expected == TaskId::MAX {
                            format!(
                                "the schedule recorded a random draw or another decision (a \
                                 spurious wake-up, a waiter) at step {}, but the program reached \
                                 a scheduling point (a schedule recorded with spurious wake-ups on \
                                 replays only with them on)",
                                self.step
                            )
                        } else {
                            format!(
                                "expected task {expected} to be runnable at step {} \
                                 (runnable: {:?})",
                                self.step, offered
                            )
                        };
                        self.abort = Some(Abort::Fail(FailureKind::Nondeterminism, msg));
                        None
                    }
                }
            }
        }
    }

    /// A point where `cur` is the only task that can run (`None`: no task can, the execution
    /// ends), for a policy that observes every point: not a decision, so nothing is recorded.
    #[cold]
    #[inline(never)]
    pub(super) fn observe_alone(&mut self, cur: Option<TaskId>, yielding: bool, released: bool) {
        let point = ChoicePoint {
            runnable: cur.as_slice(),
            current: cur,
            yielding,
            released,
            release: self.release,
            clock_moves: self.clock_moves,
            pending: &self.pending,
            last: self.current,
            progress: &self.progress,
        };
        self.scheduler.observe(&point);
    }

    /// Picks the next task when the current one cannot continue, advancing virtual time when
    /// everyone is waiting for a deadline. Sets `abort` when nobody can ever run again.
    pub(super) fn choose_after_block(&mut self) -> Option<TaskId> {
        // A task ending is observable (`is_finished`, joins); a block is counted alike.
        self.changed();
        loop {
            if !self.runnable.is_empty() {
                return self.choose(None, false, false);
            }
            if !self.advance_clock() {
                if self.observing {
                    // The end: the last step's footprint is known too.
                    self.observe_alone(None, false, false);
                }
                self.abort = Some(if matches!(self.tasks[0].state, TaskState::Finished) {
                    Abort::MainDone
                } else {
                    Abort::Fail(FailureKind::Deadlock, self.deadlock_message())
                });
                return None;
            }
        }
    }

    /// Moves the clock to the earliest deadline and wakes every task due by then.
    pub(super) fn advance_clock(&mut self) -> bool {
        if self.timers == 0 {
            return false;
        }
        let earliest = self
            .tasks
            .iter()
            .filter_map(|t| match t.state {
                TaskState::Blocked { wait, .. } if wait.deadline != NO_DEADLINE => {
                    Some(wait.deadline)
                }
                _ => None,
            })
            .min();
        let Some(deadline) = earliest else {
            return false;
        };
        self.now = self.now.max(deadline);
        self.clock_moves += 1;
        self.changed();
        for id in 0..self.tasks.len() {
            if let TaskState::Blocked { wait, .. } = self.tasks[id].state {
                if wait.deadline <= self.now {
                    self.tasks[id].timed_out = true;
                    self.make_runnable(id as TaskId);
                }
            }
        }
        true
    }
}
