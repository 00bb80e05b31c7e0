//! Happens-before through atomics when every load reads the latest store (the interleaving
//! semantics detest explores): C++20's release/acquire rules, with fences.
//!
//! Each atomic location keeps the view of its latest store: a release store's is the storing
//! task's clock; a relaxed store's is the task's clock at its last release fence (C++20
//! [atomics.fences]: fence-release then a relaxed store synchronises like a release store);
//! a read-modify-write adds its view to the one before it, so a release sequence (a release
//! store and the RMWs after it) keeps publishing. An acquire load joins the view it reads; a
//! relaxed load keeps it until the task's next acquire fence. (The caller has counted the
//! access as an event of the task already, so what a release publishes includes it.)

use super::VectorClock;
use std::sync::atomic::Ordering;

/// What an atomic operation did, for happens-before.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AtomicAccess {
    Load(Ordering),
    Store(Ordering),
    /// A read-modify-write that wrote (a failed compare-exchange is a `Load`).
    Rmw(Ordering),
    Fence(Ordering),
}

impl AtomicAccess {
    /// The ordering the access was made with.
    pub(crate) fn ordering(self) -> Ordering {
        match self {
            AtomicAccess::Load(o)
            | AtomicAccess::Store(o)
            | AtomicAccess::Rmw(o)
            | AtomicAccess::Fence(o) => o,
        }
    }
}

fn releases(o: Ordering) -> bool {
    matches!(o, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

fn acquires(o: Ordering) -> bool {
    matches!(o, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

#[derive(Default)]
pub(crate) struct Atomics {
    /// Per object id: the view of the location's latest store.
    views: Vec<VectorClock>,
    /// Per task: its clock at its last release fence.
    fenced: Vec<VectorClock>,
    /// Per task: views its relaxed loads read, acquired at its next acquire fence.
    pending: Vec<VectorClock>,
}

impl Atomics {
    pub(super) fn reset(&mut self) {
        for c in self
            .views
            .iter_mut()
            .chain(&mut self.fenced)
            .chain(&mut self.pending)
        {
            c.clear();
        }
    }

    pub(super) fn add_task(&mut self, task: usize) {
        super::happens::slot(&mut self.fenced, task).clear();
        super::happens::slot(&mut self.pending, task).clear();
    }

    pub(super) fn access(
        &mut self,
        clock: &mut VectorClock,
        task: usize,
        object: u32,
        access: AtomicAccess,
    ) {
        let o = object as usize;
        match access {
            AtomicAccess::Load(order) => self.read(clock, task, o, order),
            AtomicAccess::Store(order) => {
                let view = super::happens::slot(&mut self.views, o);
                if releases(order) {
                    view.copy_from(clock);
                } else {
                    view.copy_from(&self.fenced[task]);
                }
            }
            AtomicAccess::Rmw(order) => {
                self.read(clock, task, o, order);
                let view = super::happens::slot(&mut self.views, o);
                if releases(order) {
                    view.join(clock);
                } else {
                    view.join(&self.fenced[task]);
                }
            }
            AtomicAccess::Fence(order) => {
                if acquires(order) {
                    clock.join(&self.pending[task]);
                }
                if releases(order) {
                    self.fenced[task].copy_from(clock);
                }
            }
        }
    }

    fn read(&mut self, clock: &mut VectorClock, task: usize, o: usize, order: Ordering) {
        let Some(view) = self.views.get(o) else {
            return;
        };
        if acquires(order) {
            clock.join(view);
        } else {
            self.pending[task].join(view);
        }
    }
}
