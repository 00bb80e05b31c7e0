//! Per-step trace records. Recording is off during sweeps (no cost on the hot path) and on for
//! replays, so a failure's trace is produced by replaying its schedule.

use std::fmt;
use std::panic::Location;

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
        }
    }

    /// Whether the operation only reads shared state (used by partial-order reasoning).
    pub fn is_read(self) -> bool {
        matches!(self, Op::Load | Op::Read)
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
    /// effect).
    pub step: u64,
    /// The task that performed the operation.
    pub task: u32,
    pub op: Op,
    pub object: Option<ObjectRef>,
    /// Where the user's code called the primitive.
    pub location: Option<&'static Location<'static>>,
    /// The scheduler switched to this task although this other task could have continued.
    pub preempts: Option<u32>,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>5}  task {:<3} {:<8}", self.step, self.task, self.op)?;
        if let Some(obj) = &self.object {
            write!(f, " {obj}")?;
        }
        if let Some(loc) = self.location {
            write!(f, "  at {}:{}", loc.file(), loc.line())?;
        }
        if let Some(other) = self.preempts {
            write!(f, "  (preempts task {other})")?;
        }
        Ok(())
    }
}

/// Renders a trace as a timeline, one column per task, so the interleaving reads top to bottom.
/// `*` marks a preemption (the scheduler switched to this task although the previous one could
/// have continued); `!!` marks the failing task's last step. Traces with many tasks fall back to
/// one line per step.
pub fn timeline(events: &[TraceEvent], failing_task: Option<u32>) -> String {
    use std::fmt::Write as _;
    const WIDTH: usize = 26;
    let mut tasks: Vec<u32> = events.iter().map(|e| e.task).collect();
    tasks.sort_unstable();
    tasks.dedup();
    let last_failing = failing_task.and_then(|t| events.iter().rposition(|e| e.task == t));
    let mut out = String::new();
    if tasks.len() > 6 {
        for (i, e) in events.iter().enumerate() {
            let mark = if Some(i) == last_failing { "!!" } else { "  " };
            let _ = writeln!(out, "{mark}{e}");
        }
        return out;
    }
    let _ = write!(out, "  {:>5} ", "step");
    for t in &tasks {
        let _ = write!(out, "| {:<w$}", format!("task {t}"), w = WIDTH - 2);
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for (i, e) in events.iter().enumerate() {
        let mark = if Some(i) == last_failing { "!!" } else { "  " };
        let _ = write!(out, "{mark}{:>5} ", e.step);
        for t in &tasks {
            if *t == e.task {
                let mut cell = String::new();
                cell.push(if e.preempts.is_some() { '*' } else { ' ' });
                cell.push_str(e.op.as_str());
                if let Some(obj) = &e.object {
                    let _ = write!(cell, " {obj}");
                }
                if let Some(loc) = e.location {
                    let _ = write!(cell, " :{}", loc.line());
                }
                let cell: String = cell.chars().take(WIDTH - 1).collect();
                let _ = write!(out, "|{cell:<w$}", w = WIDTH - 1);
            } else {
                let _ = write!(out, "|{:<w$}", "", w = WIDTH - 1);
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// The trace as JSON lines, one object per step, for tools.
pub fn to_json_lines(events: &[TraceEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let line = serde_json::json!({
            "step": e.step,
            "task": e.task,
            "op": e.op.as_str(),
            "object": e.object.map(|o| serde_json::json!({"id": o.id, "type": short_type_name(o.kind)})),
            "location": e.location.map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            "preempts": e.preempts,
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
