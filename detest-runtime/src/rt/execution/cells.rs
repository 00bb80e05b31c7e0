//! Accesses to `detest::cell::UnsafeCell`s: checked against the memory model's record of the
//! cell (see `memory::race`), traced, and, when two race, the execution's failure.
//!
//! An access is no scheduling point (loom's are none either): the task clocks order accesses
//! whatever the interleaving, so a race shows in every schedule in which both accesses happen,
//! and a point per access would only multiply the schedules to explore.

use super::*;
use crate::memory::{Access, AccessKind, Outcome, Race};

/// A tracked access in progress (held by a guard until the access ends).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CellAccess {
    id: u32,
    kind: AccessKind,
    generation: u64,
}

/// The current task begins a `kind` access to the cell `object` (of type `type_name`) at
/// `location`. `None` when untracked: outside an execution (the cell is then a plain
/// `UnsafeCell`) or while one tears down. A race fails the execution: the task is suspended
/// for good, as at any other failure the runtime detects. While the task unwinds from a panic
/// (a destructor's access), nothing is tracked: that panic is the failure, and a task cannot
/// be suspended mid-unwind.
#[inline]
pub(crate) fn cell_begin(
    object: &ObjectId,
    kind: AccessKind,
    type_name: &'static str,
    location: &'static Location<'static>,
) -> Option<CellAccess> {
    let cell = try_state()?;
    let mut st = cell.borrow_mut();
    if st.tearing_down || std::thread::panicking() {
        return None;
    }
    let id = object.get(&mut st);
    let task = st.current;
    let begun = Access {
        kind,
        task,
        epoch: st.memory.clock(task).get(task as usize),
        step: st.step,
        location,
    };
    if st.trace.is_some() {
        let op = match kind {
            AccessKind::Read => Op::CellRead,
            AccessKind::Write => Op::CellWrite,
        };
        st.record(op, id, type_name, location);
    }
    match st.memory.cell_begin(id, begun) {
        Outcome::Ok => Some(CellAccess {
            id,
            kind,
            generation: st.generation,
        }),
        Outcome::Race(race) => {
            let msg = race_message(&st, id, type_name, &race);
            st.abort = Some(Abort::Fail(FailureKind::DataRace, msg));
            let y = st.yielder(task);
            drop(st);
            suspend(y);
            None
        }
        Outcome::Overlap(live) => {
            drop(st);
            let cell = ObjectRef {
                id,
                kind: type_name,
            };
            panic!(
                "{cell} {} while this task's {} of it at {} (step {}) is still in progress: \
                 an `UnsafeCell` access must not overlap a conflicting one (drop the \
                 `ConstPtr`/`MutPtr`, or leave the `with` closure, first)",
                match kind {
                    AccessKind::Read => "is read",
                    AccessKind::Write => "is written",
                },
                noun(live.kind),
                at(live.location),
                live.step
            );
        }
    }
}

/// The access ends (its guard is dropped). Outside the execution that began it, nothing to do.
#[inline]
pub(crate) fn cell_end(access: CellAccess) {
    let Some(cell) = try_state() else {
        return;
    };
    let Ok(mut st) = cell.try_borrow_mut() else {
        return;
    };
    if st.tearing_down || st.generation != access.generation {
        return;
    }
    let record = !std::thread::panicking();
    let task = st.current;
    st.memory.cell_end(access.id, access.kind, task, record);
}

fn noun(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "read",
        AccessKind::Write => "write",
    }
}

fn at(l: &Location<'_>) -> String {
    format!("{}:{}:{}", l.file(), l.line(), l.column())
}

/// `data race on UnsafeCell<u32>#3: task 2 (writer) writes at src/x.rs:10:5 (step 7), while
/// task 1 read it at src/x.rs:20:9 (step 4) with no happens-before between them`.
#[cold]
fn race_message(st: &State, id: u32, type_name: &'static str, race: &Race) -> String {
    let Race {
        earlier,
        live,
        later,
    } = race;
    let cell = ObjectRef {
        id,
        kind: type_name,
    };
    let verb = match later.kind {
        AccessKind::Read => "reads",
        AccessKind::Write => "writes",
    };
    let head = format!(
        "data race on {cell}: {} {verb} at {} (step {}), while {}",
        st.task_info(later.task),
        at(later.location),
        later.step,
        st.task_info(earlier.task),
    );
    if *live {
        let doing = match earlier.kind {
            AccessKind::Read => "reading",
            AccessKind::Write => "writing",
        };
        format!(
            "{head} is still {doing} it, since {} (step {}): its access lasts until its \
             `ConstPtr`/`MutPtr` is dropped or its `with` closure returns",
            at(earlier.location),
            earlier.step
        )
    } else {
        let did = match earlier.kind {
            AccessKind::Read => "read",
            AccessKind::Write => "wrote",
        };
        format!(
            "{head} {did} it at {} (step {}) with no happens-before between them",
            at(earlier.location),
            earlier.step
        )
    }
}
