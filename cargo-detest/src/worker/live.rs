//! One worker process and the session that reads it: spawning it, reading its result stream
//! until it ends (or, with `DETEST_FEED`, until it is idle after its chunk), and the pool that
//! keeps idle workers of one test for its next chunk.
//!
//! A worker kept for the next chunk saves the process start, the runtime's setup and the
//! announcement per chunk, which is most of the fixed cost of a chunk. A worker is only kept
//! after every seed of its chunk passed: a failure ends the worker (the runtime exits after
//! reporting it), so no state of a failing seed reaches another seed.

use super::WorkerCommand;
use crate::proc;
use crate::protocol::{self, DeterminismResult, FeedChunk, SeedResult, WorkerEvent};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much of a worker's stdout/stderr to keep for a failure report.
const OUTPUT_TAIL: usize = 32 * 1024;
/// How often a quiet worker is checked for cancellation.
const TICK: Duration = Duration::from_millis(100);
/// The pause after reading a worker's result lines, so the next read gets many at once.
const READ_BATCH: Duration = Duration::from_millis(2);

/// How fast a chunk's seeds report, to cut the [`READ_BATCH`] pause short at the chunk's end:
/// its idle line would otherwise wait out the pause (a millisecond on average, per chunk), while
/// the worker, waiting for its next chunk, keeps a core idle.
struct Pace {
    /// The chunk's last seed (`None`: no chunk, or one that ends at no known seed).
    last: Option<u64>,
    /// Results read so far; when the first read with a result was, and how many it held.
    results: u32,
    first: Option<(Instant, u32)>,
    /// The highest seed reported.
    seed: Option<u64>,
}

impl Pace {
    fn new(last: Option<u64>) -> Self {
        Pace {
            last,
            results: 0,
            first: None,
            seed: None,
        }
    }

    fn reported(&mut self, seed: u64) {
        self.results = self.results.saturating_add(1);
        self.seed = Some(self.seed.map_or(seed, |s| s.max(seed)));
    }

    /// After each read of the result pipe.
    fn read(&mut self) {
        if self.first.is_none() && self.results > 0 {
            self.first = Some((Instant::now(), self.results));
        }
    }

    /// [`READ_BATCH`], or less when the rest of the chunk should take less at the pace so far.
    fn pause(&self) -> Duration {
        let (Some(last), Some(seed), Some((first, before))) = (self.last, self.seed, self.first)
        else {
            return READ_BATCH;
        };
        // The seeds read after the first read ran after it: their rate is the pace, once it
        // has been watched for a whole pause.
        let watched = first.elapsed();
        let since = self.results - before;
        if since == 0 || watched < READ_BATCH {
            return READ_BATCH;
        }
        let rest = u32::try_from(last.saturating_sub(seed)).unwrap_or(u32::MAX);
        (watched / since).saturating_mul(rest).min(READ_BATCH)
    }
}

#[derive(Debug)]
pub(super) enum End {
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    Hung(Duration),
    Cancelled,
    SpawnFailed(std::io::Error),
    /// Every seed of the chunk reported and the worker waits on its feed (`Session::idle`).
    Idle,
}

/// What a worker reported about one seed.
// Handed on at once, one at a time: boxing the result would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Reported {
    Result(SeedResult),
    Determinism(DeterminismResult),
}

/// The seed (or fixed execution) that started and has no result yet.
#[derive(Clone, Debug)]
pub(super) struct InFlight {
    pub(super) seed: u64,
    /// In fixture mode, the entry being replayed.
    pub(super) fixture: Option<String>,
    /// The policy of a fixed execution.
    pub(super) fixed: Option<String>,
}

pub(super) struct Session {
    pub(super) end: End,
    pub(super) in_flight: Option<InFlight>,
    /// Output since the last seed started.
    pub(super) output: String,
    /// The worker, still alive, when it ended [`End::Idle`].
    pub(super) idle: Option<Live>,
}

/// How a session begins.
pub(super) enum Begin<'a> {
    /// A new process with these variables (and, with `feed`, a `DETEST_FEED` to keep it).
    Spawn {
        env: &'a [(&'a str, String)],
        feed: bool,
    },
    /// An idle worker of the same test, handed its next chunk; if it went away meanwhile, a
    /// new process with `env` (the same chunk's variables, with a feed) takes it.
    Feed {
        live: Live,
        chunk: FeedChunk,
        env: &'a [(&'a str, String)],
    },
}

/// A running worker process and its pipes.
pub struct Live {
    child: KillOnDrop,
    results: Option<OwnedFd>,
    output: Option<OwnedFd>,
    /// The write end of its `DETEST_FEED`.
    feed: Option<OwnedFd>,
    line_buf: Vec<u8>,
    out_buf: Vec<u8>,
}

impl Live {
    /// Hands the idle worker its next chunk; `None` if it is gone or cannot be told.
    fn feed(mut self, chunk: FeedChunk) -> Option<Live> {
        if !matches!(self.child.0.try_wait(), Ok(None)) || self.results.is_none() {
            return None;
        }
        let line = chunk.to_line();
        let fd = self.feed.as_ref()?;
        // SAFETY: writing a buffer of the given length to a descriptor we own. One short line
        // fits the pipe at once; a worker that went away makes this fail (EPIPE: Rust ignores
        // SIGPIPE).
        let n = unsafe { libc::write(fd.as_raw_fd(), line.as_ptr().cast(), line.len()) };
        (n == line.len() as isize).then(|| {
            self.out_buf.clear();
            self
        })
    }
}

/// The idle workers of one test, each ready for another chunk.
#[derive(Default)]
pub struct WorkerPool(Mutex<Vec<Live>>);

impl WorkerPool {
    pub(super) fn take(&self) -> Option<Live> {
        self.lock().pop()
    }

    pub(super) fn put(&self, live: Live) {
        self.lock().push(live);
    }

    /// Ends the idle workers (the test needs no more chunks).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Live>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `last_seed`: the last seed of the chunk the worker runs, if it runs one.
pub(super) fn run_session(
    cmd: &WorkerCommand,
    begin: Begin<'_>,
    worker: bool,
    last_seed: Option<u64>,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(Reported, &str),
) -> Session {
    let mut session = Session {
        end: End::Cancelled,
        in_flight: None,
        output: String::new(),
        idle: None,
    };
    let started = match begin {
        Begin::Feed { live, chunk, env } => match live.feed(chunk) {
            Some(live) => Ok(live),
            None => spawn(cmd, env, worker, true),
        },
        Begin::Spawn { env, feed } => spawn(cmd, env, worker, feed),
    };
    let mut live = match started {
        Ok(live) => live,
        Err(e) => {
            session.end = End::SpawnFailed(e);
            return session;
        }
    };
    let pgid = live.child.0.id();
    let mut last_event = Instant::now();
    let mut pace = Pace::new(last_seed);

    // Returns whether the worker said it is idle (the lines after that are the next chunk's).
    let mut handle_lines =
        |live: &mut Live, session: &mut Session, last_event: &mut Instant, pace: &mut Pace| {
            while let Some(nl) = live.line_buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = live.line_buf.drain(..=nl).collect();
                let text = String::from_utf8_lossy(&line);
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                *last_event = Instant::now();
                let out_buf = &mut live.out_buf;
                match serde_json::from_str::<WorkerEvent>(text) {
                    Ok(WorkerEvent::Start {
                        seed,
                        fixture,
                        policy,
                    }) => {
                        session.in_flight = Some(InFlight {
                            seed,
                            fixture,
                            fixed: policy,
                        });
                        out_buf.clear();
                    }
                    Ok(WorkerEvent::Result(mut r)) => {
                        if let Some(flight) = &session.in_flight {
                            if r.fixture.is_none() {
                                r.fixture = flight.fixture.clone();
                            }
                            if r.fixed.is_none() {
                                r.fixed = flight.fixed.clone();
                            }
                        }
                        session.in_flight = None;
                        if r.fixed.is_none() && r.fixture.is_none() {
                            pace.reported(r.seed);
                        }
                        on_event(Reported::Result(r), &String::from_utf8_lossy(out_buf));
                    }
                    Ok(WorkerEvent::Determinism(d)) => {
                        session.in_flight = None;
                        pace.reported(d.seed);
                        on_event(Reported::Determinism(d), &String::from_utf8_lossy(out_buf));
                    }
                    // The worker is alive and working on a failure: `last_event` moved above, so
                    // the watchdog judges each execution, not the whole shrinking.
                    Ok(WorkerEvent::Progress { .. }) => {}
                    Ok(WorkerEvent::Idle) if session.in_flight.is_none() => return true,
                    Ok(WorkerEvent::Idle) => out_buf.extend_from_slice(
                        b"[cargo-detest: an idle line in the middle of a seed]\n",
                    ),
                    Err(e) => {
                        out_buf.extend_from_slice(
                            format!("[cargo-detest: unreadable result line `{text}`: {e}]\n")
                                .as_bytes(),
                        );
                    }
                }
            }
            false
        };

    let status = loop {
        if cancel.load(Ordering::SeqCst) {
            proc::kill_group(pgid);
            let _ = live.child.0.wait();
            live.child.1 = true;
            session.end = End::Cancelled;
            return session;
        }
        let waited = last_event.elapsed();
        if waited >= cmd.watchdog {
            proc::kill_group(pgid);
            let _ = live.child.0.wait();
            live.child.1 = true;
            session.end = End::Hung(cmd.watchdog);
            session.output = tail(&live.out_buf);
            return session;
        }
        let timeout = (cmd.watchdog - waited).min(TICK);
        let ready = match proc::poll2(live.results.as_ref(), live.output.as_ref(), timeout) {
            Ok(r) => r,
            Err(_) => proc::Ready { a: true, b: true },
        };
        if ready.a {
            if let Some(fd) = &live.results {
                if !proc::read_available(fd, &mut live.line_buf).unwrap_or(false) {
                    live.results = None;
                }
            }
            let idle = handle_lines(&mut live, &mut session, &mut last_event, &mut pace);
            pace.read();
            if idle {
                session.output = tail(&live.out_buf);
                session.end = End::Idle;
                session.idle = Some(live);
                return session;
            }
            if live.results.is_some() {
                // Read in batches: woken for every line, this thread and the worker take turns
                // on the CPU twice per seed, which slowed a 20 µs seed by 40%. The lines wait in
                // the pipe meanwhile (a worker that dies leaves them there to read). Near the
                // chunk's end the pause shrinks, so the idle line is read as it comes.
                let pause = pace.pause();
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
            }
        }
        if ready.b {
            read_output(&mut live);
        }
        if live.results.is_none() && live.output.is_none() {
            break live.child.0.wait();
        }
        // A grandchild may keep the pipes open after the worker itself has gone.
        if let Ok(Some(status)) = live.child.0.try_wait() {
            if let Some(fd) = &live.results {
                let _ = proc::read_available(fd, &mut live.line_buf);
            }
            read_output(&mut live);
            handle_lines(&mut live, &mut session, &mut last_event, &mut pace);
            break Ok(status);
        }
    };
    // Whatever the worker left running dies with it.
    proc::kill_group(pgid);
    live.child.1 = true;
    session.output = tail(&live.out_buf);
    session.end = match status {
        Ok(s) => End::Exited {
            code: s.code(),
            signal: s.signal(),
        },
        Err(e) => End::SpawnFailed(e),
    };
    session
}

fn read_output(live: &mut Live) {
    if let Some(fd) = &live.output {
        if !proc::read_available(fd, &mut live.out_buf).unwrap_or(false) {
            live.output = None;
        }
        trim_front(&mut live.out_buf);
    }
}

/// Kills and reaps the worker if the supervising thread unwinds, or when an idle worker is
/// dropped from its pool.
struct KillOnDrop(Child, bool);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if !self.1 {
            proc::kill_group(self.0.id());
            let _ = self.0.wait();
        }
    }
}

fn spawn(
    cmd: &WorkerCommand,
    env: &[(&str, String)],
    worker: bool,
    feed: bool,
) -> std::io::Result<Live> {
    let (results_r, results_w) = proc::pipe()?;
    let (output_r, output_w) = proc::pipe()?;
    proc::set_nonblocking(&results_r)?;
    proc::set_nonblocking(&output_r)?;
    let (feed_r, feed_w) = match feed && worker {
        true => {
            let (r, w) = proc::pipe()?;
            (Some(r), Some(w))
        }
        false => (None, None),
    };
    let results_fd = results_w.as_raw_fd();
    let feed_fd = feed_r.as_ref().map_or(-1, |f| f.as_raw_fd());
    let mut command = base_command(cmd);
    if worker {
        command.env(protocol::ENV_RESULTS, format!("fd:{results_fd}"));
    }
    if feed_fd >= 0 {
        command.env(protocol::ENV_FEED, format!("fd:{feed_fd}"));
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(output_w.try_clone()?))
        .stderr(Stdio::from(output_w))
        // Its own process group: the watchdog kills everything it started, and a Ctrl-C at the
        // terminal reaches cargo-detest (which stops cleanly) rather than every worker.
        .process_group(0);
    // SAFETY: child_setup only makes async-signal-safe calls.
    unsafe {
        command.pre_exec(move || proc::child_setup(&[results_fd, feed_fd]));
    }
    let child = spawn_from_lasting_thread(command)?;
    // The parent's copies of the child's ends must close, or EOF never arrives (the command,
    // holding the output ends, went to the spawning thread and is dropped there).
    drop(results_w);
    drop(feed_r);
    Ok(Live {
        child: KillOnDrop(child, false),
        results: Some(results_r),
        output: Some(output_r),
        feed: feed_w,
        line_buf: Vec::new(),
        out_buf: Vec::new(),
    })
}

/// Spawns `command` from one thread that lives as long as cargo-detest: the kernel's parent-death
/// signal (`PR_SET_PDEATHSIG`, see [`proc::child_setup`]) fires when the *thread* that forked a
/// worker ends, and a worker kept in a [`WorkerPool`] outlives the chunk thread that needed it.
fn spawn_from_lasting_thread(command: Command) -> std::io::Result<Child> {
    use std::sync::mpsc;
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<Mutex<mpsc::Sender<Request>>> = std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::spawn(move || {
            for (mut command, back) in rx {
                let _ = back.send(command.spawn());
            }
        });
        Mutex::new(tx)
    });
    let (back, answer) = mpsc::channel();
    let sent = spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, back));
    if sent.is_err() {
        return Err(std::io::Error::other("the spawning thread is gone"));
    }
    answer
        .recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the spawning thread is gone")))
}

/// `<bin> --exact NAME --nocapture --test-threads=1` from the package root, with any DETEST_*
/// overrides of the parent's own environment removed.
pub fn base_command(cmd: &WorkerCommand) -> Command {
    let mut command = Command::new(&cmd.program);
    command
        .args(["--exact", &cmd.test, "--nocapture", "--test-threads=1"])
        .current_dir(&cmd.cwd);
    for var in protocol::INHERITED_OVERRIDES {
        command.env_remove(var);
    }
    if let Some(p) = &cmd.policy {
        command.env(protocol::ENV_POLICY, p);
    }
    command.envs(cmd.env.iter().map(|(k, v)| (k, v)));
    command
}

fn trim_front(buf: &mut Vec<u8>) {
    if buf.len() > 2 * OUTPUT_TAIL {
        let cut = buf.len() - OUTPUT_TAIL;
        buf.drain(..cut);
    }
}

fn tail(buf: &[u8]) -> String {
    let start = buf.len().saturating_sub(OUTPUT_TAIL);
    String::from_utf8_lossy(&buf[start..]).into_owned()
}
