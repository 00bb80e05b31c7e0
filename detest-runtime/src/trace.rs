//! Per-step trace records. Recording is off during sweeps (no cost on the hot path) and on for
//! replays, so a failure's trace is produced by replaying its schedule.

use std::fmt;
use std::panic::Location;

pub mod layout;

/// The kind of operation at a scheduling point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Spawn,
    Join,
    Finish,
    Lock,
    TryLock,
    Unlock,
    Read,
    Write,
    Wait,
    Notify,
    Load,
    Store,
    Rmw,
    Fence,
    Send,
    Recv,
    Barrier,
    Once,
    Yield,
    Sleep,
    Park,
    Unpark,
    Rand,
    Poll,
    /// A channel's last sender or its receiver was dropped.
    Close,
    /// A condvar wait or a park returned without a wake-up (as std allows).
    Spurious,
    /// A task was preempted inside a critical section, just before releasing the lock (only
    /// traced when it was: the point costs nothing in a trace otherwise).
    Holding,
    /// A read of a `detest::cell::UnsafeCell` began (no scheduling point: traced so that a
    /// data race's earlier access shows too).
    CellRead,
    /// A write of a `detest::cell::UnsafeCell` began.
    CellWrite,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Spawn => "spawn",
            Op::Join => "join",
            Op::Finish => "finish",
            Op::Lock => "lock",
            Op::TryLock => "try_lock",
            Op::Unlock => "unlock",
            Op::Read => "read",
            Op::Write => "write",
            Op::Wait => "wait",
            Op::Notify => "notify",
            Op::Load => "load",
            Op::Store => "store",
            Op::Rmw => "rmw",
            Op::Fence => "fence",
            Op::Send => "send",
            Op::Recv => "recv",
            Op::Barrier => "barrier",
            Op::Once => "once",
            Op::Yield => "yield",
            Op::Sleep => "sleep",
            Op::Park => "park",
            Op::Unpark => "unpark",
            Op::Rand => "rand",
            Op::Poll => "poll",
            Op::Close => "close",
            Op::Spurious => "spurious",
            Op::Holding => "holding",
            Op::CellRead => "cell_read",
            Op::CellWrite => "cell_write",
        }
    }

    /// Whether the operation only reads shared state (used by partial-order reasoning).
    pub fn is_read(self) -> bool {
        matches!(self, Op::Load | Op::Read | Op::CellRead)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The object an operation touched: a per-execution id (stable across replays, assigned in the
/// order objects are first used) and its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub id: u32,
    pub kind: &'static str,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", short_type_name(self.kind), self.id)
    }
}

/// `detest::sync::mutex::Mutex<alloc::vec::Vec<u64>>` -> `Mutex<Vec<u64>>`.
pub fn short_type_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut segment = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(""));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(""));
    out
}

/// One scheduling step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    /// Position of the operation in the execution (1-based, in the order operations took
    /// effect). A [`Op::Rand`] draw is no scheduling step: it shares the step before it, as
    /// do [`Op::CellRead`] and [`Op::CellWrite`] (so a data race's message and its trace number
    /// the accesses alike).
    pub step: u64,
    /// The task that performed the operation.
    pub task: u32,
    pub op: Op,
    pub object: Option<ObjectRef>,
    /// Where the user's code called the primitive.
    pub location: Option<&'static Location<'static>>,
    /// The task was preempted at this step: it could have gone on, and the scheduler ran this
    /// other task instead. For an operation that takes effect when its task is scheduled again
    /// (a lock, a load), the preemption came just before it; for one that publishes something
    /// (an unlock, a notify), just after it. Exactly one step carries each preemption the
    /// execution counts ([`crate::Execution::preemptions`], the number the shrinker minimises),
    /// so the `*` marks of a timeline always add up to that count. A task preempted at an
    /// operation that never took effect before the execution ended shows that operation as its
    /// last step.
    pub preempted_by: Option<u32>,
    /// Virtual time, in nanoseconds since the execution started, when the step took effect.
    pub time: u64,
    /// The value drawn, for [`Op::Rand`]; for an [`Op::Load`] that read an older store than the
    /// newest (a weak read), the value it read (as `u64` bits: a `bool` is 0 or 1).
    pub value: Option<u64>,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>5}  task {:<3} {:<8}", self.step, self.task, self.op)?;
        if let Some(obj) = &self.object {
            write!(f, " {obj}")?;
        }
        if let Some(v) = self.value {
            write!(f, " → {v}")?;
        }
        if let Some(loc) = self.location {
            write!(f, "  at {}:{}", loc.file(), loc.line())?;
        }
        if self.time != 0 {
            write!(f, "  at time {}", layout::format_time(self.time))?;
        }
        if let Some(other) = self.preempted_by {
            write!(f, "  (preempted by task {other})")?;
        }
        Ok(())
    }
}

/// How many preemptions a trace shows (each is carried by exactly one step).
pub fn preemptions(events: &[TraceEvent]) -> usize {
    events.iter().filter(|e| e.preempted_by.is_some()).count()
}

/// Renders a trace as a timeline, one column per task, so the interleaving reads top to bottom.
/// `*` marks the step at which a task was preempted (see [`TraceEvent::preempted_by`]); `!!`
/// marks the failing task's last step. Nothing that names an object or a location is cut (see
/// [`layout::render`]). Traces with many tasks fall back to one line per step.
pub fn timeline(events: &[TraceEvent], failing_task: Option<u32>) -> String {
    let names: Vec<String> = events
        .iter()
        .map(|e| {
            e.object
                .map(|o| short_type_name(o.kind))
                .unwrap_or_default()
        })
        .collect();
    let rows: Vec<layout::Row<'_>> = events
        .iter()
        .zip(&names)
        .map(|(e, name)| layout::Row {
            step: e.step,
            task: e.task,
            op: e.op.as_str(),
            object: e.object.map(|o| (name.as_str(), u64::from(o.id))),
            file: e.location.map(|l| l.file()),
            line: e.location.map(|l| l.line()),
            preempted_by: e.preempted_by,
            time: e.time,
            value: e.value,
        })
        .collect();
    layout::render(&rows, failing_task, 0)
}

/// The trace as JSON lines, one object per step, for tools. `time` is in virtual nanoseconds;
/// `value` is the drawn value of a `rand` step.
pub fn to_json_lines(events: &[TraceEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let line = serde_json::json!({
            "step": e.step,
            "task": e.task,
            "op": e.op.as_str(),
            "object": e.object.map(|o| serde_json::json!({"id": o.id, "type": short_type_name(o.kind)})),
            "location": e.location.map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            "preempted_by": e.preempted_by,
            "time": e.time,
            "value": e.value,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_names() {
        assert_eq!(
            super::short_type_name("detest::sync::mutex::Mutex<alloc::vec::Vec<u64>>"),
            "Mutex<Vec<u64>>"
        );
        assert_eq!(super::short_type_name("u64"), "u64");
    }
}
