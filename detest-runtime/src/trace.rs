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
    /// Step number (0-based) within the execution.
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
