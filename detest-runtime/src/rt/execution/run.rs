//! Running one execution: the runner loop that resumes the chosen coroutine, the teardown of
//! what is left, and the panic plumbing the hooks call into.

use super::*;

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Called by the panic hook: remembers where the current task panicked. Returns false when the
/// panic is not inside an execution (the previous hook then prints it as usual). `nounwind`:
/// the panic cannot unwind (Rust's own "panic in a destructor during cleanup" after a
/// destructor panicked during unwinding), so the process aborts as soon as the hook returns:
/// the failure is reported now, on stderr, or never.
pub(crate) fn note_panic_location(
    location: Option<&Location<'_>>,
    payload: &(dyn Any + Send),
    nounwind: bool,
) -> bool {
    let Some(cell) = try_state() else {
        return false;
    };
    let Ok(mut st) = cell.try_borrow_mut() else {
        return false;
    };
    if nounwind {
        report_abort(&mut st, location, payload);
        return true;
    }
    if st.tearing_down {
        return true;
    }
    let cur = st.current as usize;
    if let Some(task) = st.tasks.get_mut(cur) {
        let loc = location.map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        // The message too: a task whose unwinding gets stuck (a destructor blocks) never
        // reaches `record_panic`, and its panic is still the failure to report. The one
        // before stays for an abort report (a destructor panicking while this unwinds).
        task.earlier_panic = task
            .panic
            .replace((panic_message(payload), loc))
            .map(Box::new);
    }
    true
}

/// Prints the failure of an execution whose process is about to abort: the panic the task was
/// unwinding from (the failure), the destructor's panic that made it abort, the seed, the
/// policy and the schedule so far, and a last `detest:` line that names the seed and the
/// first panic (cargo-detest quotes a crashed worker's last one).
#[cold]
fn report_abort(st: &mut State, location: Option<&Location<'_>>, payload: &(dyn Any + Send)) {
    let cur = st.current;
    let at = |l: &Option<String>| l.as_ref().map(|l| format!(" at {l}")).unwrap_or_default();
    let task = &mut st.tasks[cur as usize];
    let (root, note) = match (task.earlier_panic.take().map(|b| *b), task.panic.take()) {
        (Some(first), Some(then)) => {
            let note = format!(
                "then, while unwinding from it, a destructor panicked: {}{}",
                then.0,
                at(&then.1)
            );
            (first, note)
        }
        (None, Some(only)) | (Some(only), None) => (
            only,
            "then a panic that cannot unwind followed: the process aborts".to_owned(),
        ),
        (None, None) => (
            (
                panic_message(payload),
                location.map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            ),
            "a panic that cannot unwind: the process aborts".to_owned(),
        ),
    };
    let headline = format!(
        "{} panicked: {}{}; {note}",
        st.task_info(cur),
        root.0.lines().next().unwrap_or(""),
        at(&root.1)
    );
    st.tasks[cur as usize].panic = Some((format!("{}\n({note})", root.0), root.1));
    st.tasks[cur as usize].panic_observed = false;
    if !st.panic_order.contains(&cur) {
        st.panic_order.push(cur);
    }
    let (seed, policy) = (st.seed, st.policy);
    let Some(failure) = failure_of(st, seed, policy) else {
        return;
    };
    let repro = ABORT_REPRO.with(|r| r.borrow().as_ref().map(|f| f(seed, policy)));
    eprintln!(
        "detest: a destructor panicked while unwinding, and Rust aborts the process; the \
         failure, before it does:\n{}\ndetest: aborting at seed {seed} (policy {policy}): {headline}",
        crate::render::failure_block(&failure, repro.as_deref()).trim_end()
    );
}

type ReproFn = Box<dyn Fn(u64, &str) -> Vec<String>>;

thread_local! {
    static ABORT_REPRO: std::cell::RefCell<Option<ReproFn>> = const { std::cell::RefCell::new(None) };
}

/// The commands that rerun a seed of the test running on this thread (the runner's `cargo
/// test` lines), for a report printed before an abort; set while the runner runs a test.
pub(crate) struct AbortRepro;

impl AbortRepro {
    pub(crate) fn set(commands: ReproFn) -> AbortRepro {
        ABORT_REPRO.with(|r| *r.borrow_mut() = Some(commands));
        AbortRepro
    }
}

impl Drop for AbortRepro {
    fn drop(&mut self) {
        ABORT_REPRO.with(|r| *r.borrow_mut() = None);
    }
}

/// For the stack-overflow handler: `task N` (and its name) of the task running on this thread.
/// Read through raw pointers, without borrowing the state (the fault may strike while it is
/// borrowed) and without allocating.
pub(crate) fn describe_current_task_for_signal(out: &mut dyn std::fmt::Write) {
    let ptr = CURRENT.with(|c| c.get());
    if ptr.is_null() {
        let _ = out.write_str("a detest task");
        return;
    }
    // SAFETY: `ptr` is this thread's live execution state (see `state`); only read here.
    unsafe {
        let st = (*ptr).as_ptr();
        let id = std::ptr::addr_of!((*st).current).read();
        let _ = write!(out, "task {id}");
        let tasks = &*std::ptr::addr_of!((*st).tasks);
        if let Some(name) = tasks.get(id as usize).and_then(|t| t.name.as_deref()) {
            let _ = write!(out, " ({name})");
        }
    }
}

/// Tasks that never finished are leaked, not unwound: their destructors do not run (a
/// destructor that blocks or panics then could hang or abort the process and hide the failure
/// being reported), as when a process exits with threads still running. Their thread-locals
/// are leaked too. A task that never started holds only its closure, and nothing can point
/// into a closure that was moved and never ran: its stack is reset (the closure forgotten)
/// and reused. A started one's stack stays mapped for good: values on it may be pinned or
/// borrowed (a scoped thread borrows its scope's frame; an intrusive waiter list in a static
/// may link a pinned future), and pinned memory must stay valid until a drop that never comes.
///
/// Every leaked stack is two memory mappings, and Linux allows about 65,000 per process: past
/// [`LEAK_BUDGET`] leaked stacks on one OS thread (a long sweep of failing seeds), the tasks are
/// unwound as they were before leaking, with a warning, rather than running out of mappings.
/// Returns the coroutines to unwind so (the caller does it without holding the state).
fn leak_unfinished(st: &mut State, coros: &mut [Option<TaskCoro>]) -> Vec<(usize, TaskCoro)> {
    let mut unwind_anyway = Vec::new();
    for (id, slot) in coros.iter_mut().enumerate() {
        let Some(mut coro) = slot.take() else {
            continue;
        };
        std::mem::forget(std::mem::take(&mut st.tasks[id].locals));
        if coro.coro.started() && over_leak_budget() && !st.tasks[id].suspended_unwinding {
            unwind_anyway.push((id, coro));
            continue;
        }
        if coro.coro.started() {
            LEAKED_STACKS.with(|n| n.set(n.get() + 1));
            std::mem::forget(coro);
        } else {
            // SAFETY: the coroutine never ran, so its stack holds no live frame, only the
            // closure, which is forgotten (a leak is safe); see above.
            unsafe { coro.coro.force_reset() };
            stack_pool::give(coro.coro.into_stack(), coro.stack_size);
        }
    }
    unwind_anyway
}

/// Leaked stacks per OS thread before unfinished tasks are unwound instead (see
/// `leak_unfinished`): 4 GiB of virtual memory at the default stack size, a quarter of the
/// default `vm.max_map_count` per thread.
const LEAK_BUDGET: u64 = 16_384;

fn over_leak_budget() -> bool {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let over = LEAKED_STACKS.with(|n| n.get()) >= LEAK_BUDGET;
    if over && !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "detest: executions on this thread have leaked {LEAK_BUDGET} coroutine stacks (tasks \
             still blocked or unfinished when their execution ended, passing or failing); from \
             now on such tasks are unwound, running their destructors, so a destructor that \
             panics there aborts the process and a seed reported after this point may behave \
             differently in a fresh process, where its tasks are leaked (run fewer seeds per \
             process, e.g. with cargo detest, or join the threads the test leaves blocked)"
        );
    }
    over
}

thread_local! {
    static LEAKED_STACKS: Cell<u64> = const { Cell::new(0) };
}

/// How many coroutine stacks executions on this OS thread have leaked (see `leak_unfinished`).
#[doc(hidden)]
pub fn leaked_stacks() -> u64 {
    LEAKED_STACKS.with(|n| n.get())
}

struct CurrentGuard;

impl CurrentGuard {
    fn install(cell: &RefCell<State>) -> CurrentGuard {
        CURRENT.with(|c| {
            assert!(
                c.get().is_null(),
                "detest executions cannot be nested: a test body is already running on this thread"
            );
            c.set(cell as *const _);
        });
        CurrentGuard
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null()));
    }
}

/// Runs one execution of `body` under `scheduler`.
pub(crate) fn run_execution<F: Fn()>(
    options: &ExecOptions,
    seed: u64,
    policy: &str,
    scheduler: Box<dyn Scheduler>,
    body: &F,
) -> Execution {
    crate::rt::panic_hook::install();
    crate::rt::stack_guard::install();
    // Global, not per OS thread: an object shared by executions on two threads (a static)
    // must not mistake one execution's id for another's.
    static GENERATION: AtomicU64 = AtomicU64::new(0);
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
    let mut buffers = BUFFERS.with(|b| b.take()).map(|b| *b).unwrap_or_default();
    let mut coros = std::mem::take(&mut buffers.coros);
    let cell = RefCell::new(State::new(
        options.clone(),
        seed,
        scheduler,
        generation,
        buffers,
    ));
    // SAFETY: the state, and with it this borrow, lives only within this call.
    cell.borrow_mut().policy = unsafe { &*(policy as *const str) };
    let guard = CurrentGuard::install(&cell);
    // SAFETY: `cell` outlives every coroutine of this execution (all are finished or torn down
    // before this function returns), and `body` outlives them likewise.
    let cell_ref: &'static RefCell<State> = unsafe { &*(&cell as *const RefCell<State>) };
    let main = TaskCoro {
        coro: unsafe { new_coroutine(cell_ref, 0, options.stack_size, body) },
        stack_size: options.stack_size,
    };
    {
        let mut st = cell.borrow_mut();
        add_task(&mut st, 0, None);
    }
    coros.push(Some(main));

    loop {
        let cur = {
            let mut st = cell.borrow_mut();
            if !st.new_coroutines.is_empty() {
                coros.extend(st.new_coroutines.drain(..).map(Some));
            }
            st.current
        };
        let coro = coros[cur as usize]
            .as_mut()
            .expect("scheduled a finished task");
        match coro.coro.resume(()) {
            CoroutineResult::Yield(()) => {
                if cell.borrow().abort.is_some() {
                    break;
                }
            }
            CoroutineResult::Return(()) => {
                let done = coros[cur as usize].take().expect("coroutine");
                stack_pool::give(done.coro.into_stack(), done.stack_size);
                // Wake async joiners first, without holding the state (wakers borrow it).
                let wakers = std::mem::take(&mut cell.borrow_mut().tasks[cur as usize].join_wakers);
                cell.borrow_mut().tasks[cur as usize].state = TaskState::Finished;
                for waker in wakers {
                    waker.wake();
                }
                let mut st = cell.borrow_mut();
                let st = &mut *st;
                st.finished += 1;
                st.remove_runnable(cur);
                for joiner in std::mem::take(&mut st.tasks[cur as usize].joiners) {
                    if let TaskState::Blocked { wait, .. } = st.tasks[joiner as usize].state {
                        if wait.kind == WaitKind::Join && wait.object == cur {
                            st.make_runnable(joiner);
                        }
                    }
                }
                if cur == 0 {
                    if st.tasks[0].panic.is_some() {
                        break;
                    }
                    st.end_async_tasks();
                }
                if st.finished == st.tasks.len() {
                    break;
                }
                match st.choose_after_block() {
                    Some(next) => st.current = next,
                    None => break,
                }
            }
        }
    }

    cell.borrow_mut().check_timeout_at_end();
    cell.borrow_mut().tearing_down = true;
    let unwind_anyway = {
        let mut st = cell.borrow_mut();
        coros.extend(st.new_coroutines.drain(..).map(Some));
        leak_unfinished(&mut st, &mut coros)
    };
    // Newest first, so that a scoped thread unwinds before the frame it borrows from.
    for (_, mut coro) in unwind_anyway.into_iter().rev() {
        coro.coro.force_unwind();
        stack_pool::give(coro.coro.into_stack(), coro.stack_size);
    }
    drop(guard);

    let mut st = cell.into_inner();
    st.trace_unrecorded();
    let failure = failure_of(&mut st, seed, policy);
    let schedule = if options.keep_schedule {
        std::mem::take(&mut st.schedule)
    } else {
        Schedule::new()
    };
    let execution = Execution {
        seed,
        steps: st.step,
        preemptions: st.preemptions,
        release_points: st.release_points,
        schedule,
        failure,
        trace: st.trace.take().unwrap_or_default(),
    };
    let buffers = st.into_buffers(coros);
    BUFFERS.with(|b| b.set(Some(Box::new(buffers))));
    execution
}
