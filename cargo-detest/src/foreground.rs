//! One test process in the foreground (`replay`, `minimize`), supervised as the sweep's workers
//! are: its own process group, killed with everything it started when cargo-detest is told to
//! stop (SIGINT, SIGTERM) and by the kernel should cargo-detest die; and judged as a sweep judges
//! a seed, by the result line on its results channel, not by its exit status alone (a body that
//! calls `std::process::exit(0)` exits 0 without finishing its execution).

use crate::proc;
use crate::protocol::{self, SeedResult, WorkerEvent};
use crate::signals;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the child is checked for exit and cargo-detest for a stop signal.
const TICK: Duration = Duration::from_millis(50);

/// How a foreground run ended.
#[derive(Debug)]
pub struct Ended {
    pub status: ExitStatus,
    /// Every event it wrote on its results channel, in order.
    pub events: Vec<WorkerEvent>,
    /// Stopped by SIGINT/SIGTERM to cargo-detest (the process group was killed).
    pub interrupted: bool,
}

impl Ended {
    /// The last result line, if the test wrote one.
    pub fn result(&self) -> Option<&SeedResult> {
        self.events.iter().rev().find_map(|e| match e {
            WorkerEvent::Result(r) => Some(r),
            _ => None,
        })
    }

    /// Why the run is a crash, when it is one: killed by a signal, or ended without reporting
    /// the end of its execution. `None` when the result line is there and the exit status agrees.
    pub fn crash(&self) -> Option<String> {
        if let Some(sig) = self.status.signal() {
            return Some(format!(
                "the process was killed by {}",
                proc::describe_signal(sig)
            ));
        }
        let code = self.status.code().unwrap_or(-1);
        match self.result() {
            None => Some(format!(
                "the process exited with code {code} before the execution reported its end \
                 (the sweep reports this as a crash: does the test call std::process::exit?)"
            )),
            Some(r) if (r.status == protocol::Status::Pass) != self.status.success() => {
                Some(format!(
                    "the process exited with code {code} after its execution reported {}",
                    if r.status == protocol::Status::Pass {
                        "a pass"
                    } else {
                        "a failure"
                    }
                ))
            }
            Some(_) => None,
        }
    }
}

impl Ended {
    /// What a failed run's verdict says after the run: `crash: <why>`, else the failure its
    /// result line names (`panic: overdrawn: balance -60`), else its exit status.
    pub fn failure_summary(&self) -> String {
        if let Some(why) = self.crash() {
            return format!("crash: {why}");
        }
        match self.result().and_then(|r| r.failure.as_ref()) {
            Some(f) if f.message.is_empty() => f.kind.clone(),
            Some(f) => format!("{}: {}", f.kind, crate::output::first_line(&f.message)),
            None => format!("exit code {}", self.status.code().unwrap_or(-1)),
        }
    }
}

/// Runs `command` to its end with a results channel (`DETEST_RESULTS=fd:N`); `on_stdout`
/// gets the child's stdout, when `command` pipes it, on a thread of its own.
pub fn run(mut command: Command, on_stdout: impl FnOnce(ChildStdout) + Send) -> io::Result<Ended> {
    signals::install();
    let (results_r, results_w) = proc::pipe()?;
    proc::set_nonblocking(&results_r)?;
    let results_fd = results_w.as_raw_fd();
    command
        .env(protocol::ENV_RESULTS, format!("fd:{results_fd}"))
        .stdin(Stdio::null())
        // Its own group: a stop kills everything it started, as for the sweep's workers.
        .process_group(0);
    // SAFETY: child_setup only makes async-signal-safe calls.
    unsafe {
        command.pre_exec(move || proc::child_setup(&[results_fd]));
    }
    let mut child = command.spawn()?;
    // Our copy of the write end must close, or the channel never ends.
    drop(command);
    drop(results_w);
    let pgid = child.id();
    let mut buf = Vec::new();
    let mut interrupted = false;
    let stdout = child.stdout.take();
    let status = std::thread::scope(|scope| {
        if let Some(stdout) = stdout {
            scope.spawn(move || on_stdout(stdout));
        }
        loop {
            if signals::INTERRUPTED.load(Ordering::SeqCst) && !interrupted {
                interrupted = true;
                proc::kill_group(pgid);
            }
            let _ = proc::poll2(Some(&results_r), None, TICK);
            let _ = proc::read_available(&results_r, &mut buf);
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => {
                    proc::kill_group(pgid);
                    let _ = child.wait();
                    break Err(e);
                }
            }
        }
    })?;
    let _ = proc::read_available(&results_r, &mut buf);
    // Whatever it left running dies with it.
    proc::kill_group(pgid);
    let events = String::from_utf8_lossy(&buf)
        .lines()
        .filter_map(|l| serde_json::from_str::<WorkerEvent>(l.trim()).ok())
        .collect();
    Ok(Ended {
        status,
        events,
        interrupted,
    })
}
