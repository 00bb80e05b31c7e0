//! Weak atomics: which store a load reads, as C11/C++20 allows, and happens-before through
//! atomics (release/acquire, release sequences, fences).
//!
//! Every atomic location keeps its last [`HISTORY`] stores in modification order (`mo`): the
//! value, the view a reader that acquires it gets, which tasks have seen it, and whether it is
//! part of the SeqCst order. The modification order is the order in which stores execute (the
//! std atomic inside the primitive always holds the newest value, `mo`-last); a load may read
//! the newest store or an older one. Which one is a decision of the execution
//! ([`PickKind::ReadFrom`](crate::scheduler::PickKind), option 0 the newest, option `i` the
//! `i`-th older candidate), asked only when there is more than one candidate, so programs whose
//! loads all have one (SeqCst only, locks) record nothing new.
//!
//! The candidates of a load by task `t` are the stores at or after the newest one that `t`
//! must not read past:
//! - coherence (CoRR, CoWR): a store `t` has seen: one it wrote or read, or one another task
//!   wrote or read at a point that happens before the load (each store records, per task, its
//!   clock entry when that task first saw it; it is seen by `t` when `t`'s clock reaches one);
//! - a SeqCst load reads no store older than the newest SeqCst store or store a SeqCst load
//!   read (the SeqCst order agrees with coherence), nor older than a store that happens before
//!   a SeqCst fence executed earlier;
//! - a load after a SeqCst fence (in its task or happening before it) reads nothing older
//!   than the SeqCst stores and SeqCst-read stores that preceded that fence.
//!
//! A read-modify-write (and a successful compare-exchange) reads the newest store: RMW
//! atomicity, since its own store is placed `mo`-last. A failed compare-exchange reads the
//! newest store too (a simplification: std allows an older one; the loop around it then just
//! retries less often).
//!
//! Reading a store with Acquire (AcqRel, SeqCst) joins its view into the task's clock; a
//! relaxed read keeps it for the task's next acquire fence. A release store's view is the
//! storing task's clock; a relaxed store's is the task's clock at its last release fence; an
//! RMW's adds its own to the view of the store it read (a release sequence keeps publishing).
//!
//! SeqCst fences are modelled as loom does: each one joins the clocks of all earlier ones and
//! publishes its own, so they are ordered by happens-before in execution order. That is
//! stronger than C++ (whose SeqCst fences order coherence, not non-atomic accesses), so a data
//! race that only the fences' order would "prevent" is not reported; no forbidden outcome of
//! atomics is produced. SeqCst stores are placed `mo`-last like every store.
//!
//! Not modelled (no outcome that needs them is produced): load buffering / out-of-thin-air
//! (a load reading a store that is executed after it; loom leaves it out too), and a store
//! placed before an earlier-executed store in `mo` (2+2W's weak outcome), since `mo` is the
//! execution order.
//!
//! Three bounds keep exploration finite and spin-waits live (C++ requires stores to become
//! visible in finite time): a load reads the newest store when its task re-reads the location
//! with nothing changed since (it spins; see `rt/execution/spin.rs`), and after
//! [`STALE_READS`] consecutive reads of the location that were not the newest; and a read
//! after a stale one reads a newer store than that one (reading it again would return the
//! task to a state it was in: a spin that polls a stale flag does so once, not once per
//! round). What this leaves out: a task reading the same stale value twice in a row while a
//! newer one exists.
//!
//! The caller counts every access as an event of its task first (its clock entry moves), so
//! each store and read has a stamp of its own, and a release's view includes the access.
//!
//! Every buffer lives across executions: after warm-up an access allocates nothing.

use super::VectorClock;
use std::sync::atomic::Ordering;

/// Stores kept per location (loom keeps 7): a load may read any of the last `HISTORY`, so an
/// older one is never read. Enough for the litmus tests and the bug patterns (a stale read is
/// almost always of the store just before the newest); larger histories multiply the tree
/// `explore` walks.
pub const HISTORY: usize = 8;

/// Consecutive reads of one location by one task that may return a store older than the
/// newest: the next reads the newest. Bounds how long a value can stay invisible, so a spin
/// that others keep changing things around ends, and `explore`'s tree stays finite.
pub const STALE_READS: u8 = 3;

/// What an atomic operation did, with the value bits it involved (every detest atomic fits in
/// a `u64`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum AtomicAccess {
    /// A load; `latest` is the newest value (the std atomic's).
    Load {
        order: Ordering,
        latest: u64,
    },
    /// A read that reads the newest store (a failed compare-exchange).
    ReadLatest {
        order: Ordering,
        latest: u64,
    },
    /// A store of `new`; `prev` was the value before (the location's initial value when this
    /// is its first access).
    Store {
        order: Ordering,
        prev: u64,
        new: u64,
    },
    /// A read-modify-write that wrote (a failed compare-exchange is a `ReadLatest`).
    Rmw {
        order: Ordering,
        prev: u64,
        new: u64,
    },
    Fence(Ordering),
}

impl AtomicAccess {
    /// The ordering the access was made with.
    pub(crate) fn ordering(self) -> Ordering {
        match self {
            AtomicAccess::Load { order, .. }
            | AtomicAccess::ReadLatest { order, .. }
            | AtomicAccess::Store { order, .. }
            | AtomicAccess::Rmw { order, .. }
            | AtomicAccess::Fence(order) => order,
        }
    }

    /// A load as a read of the newest store.
    pub(crate) fn reading_latest(self) -> AtomicAccess {
        match self {
            AtomicAccess::Load { order, latest } => AtomicAccess::ReadLatest { order, latest },
            other => other,
        }
    }
}

fn releases(o: Ordering) -> bool {
    matches!(o, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

fn acquires(o: Ordering) -> bool {
    matches!(o, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

const UNSEEN: u32 = u32::MAX;

#[derive(Default)]
struct Store {
    value: u64,
    /// What acquiring this store publishes.
    view: VectorClock,
    /// Per task: its clock entry when it first wrote or read this store (`UNSEEN`: never).
    seen: Vec<u32>,
    /// The location's value before the execution's first access: seen by everyone.
    initial: bool,
    /// SeqCst fences executed before this store was SeqCst-written or first read by a SeqCst
    /// load (`UNSEEN`: neither).
    sc_at: u32,
}

impl Store {
    fn seen_by(&self, clock: &VectorClock) -> bool {
        self.initial
            || self
                .seen
                .iter()
                .enumerate()
                .any(|(u, &s)| s != UNSEEN && s <= clock.get(u))
    }

    fn touch(&mut self, task: usize, stamp: u32) {
        if task >= self.seen.len() {
            self.seen.resize(task + 1, UNSEEN);
        }
        let s = &mut self.seen[task];
        *s = (*s).min(stamp);
    }
}

/// One atomic location: a ring of its last stores, oldest first.
#[derive(Default)]
struct Location {
    stores: Vec<Store>,
    head: usize,
    len: usize,
    /// Per task: consecutive reads that did not read the newest store.
    stale: Vec<u8>,
}

impl Location {
    /// The `i`-th store in `mo` among those kept (0: the oldest).
    fn at(&self, i: usize) -> &Store {
        &self.stores[(self.head + i) % HISTORY]
    }

    fn at_mut(&mut self, i: usize) -> &mut Store {
        &mut self.stores[(self.head + i) % HISTORY]
    }

    /// The ring slot the next store goes to: after the newest, or the oldest's when full.
    fn slot_after(&mut self) -> usize {
        let next = (self.head + self.len) % HISTORY;
        if next >= self.stores.len() {
            self.stores.push(Store::default());
        }
        next
    }

    /// A slot for a new newest store (the oldest is dropped when the ring is full).
    fn push(&mut self) -> &mut Store {
        let next = self.slot_after();
        if self.len < HISTORY {
            self.len += 1;
        } else {
            self.head = (self.head + 1) % HISTORY;
        }
        let s = &mut self.stores[next];
        s.seen.clear();
        s.initial = false;
        s.sc_at = UNSEEN;
        s
    }

    /// Makes sure the location has its initial store (the value before its first access).
    fn init(&mut self, value: u64) {
        if self.len == 0 {
            let s = self.push();
            s.value = value;
            s.view.clear();
            s.initial = true;
        }
    }

    fn stale_mut(&mut self, task: usize) -> &mut u8 {
        if task >= self.stale.len() {
            self.stale.resize(task + 1, 0);
        }
        &mut self.stale[task]
    }
}

#[derive(Default)]
pub(crate) struct Atomics {
    /// Loads may read older stores (the weak memory model); off, every load reads the newest
    /// store and only happens-before is tracked.
    pub(crate) weak: bool,
    /// Per object id.
    locations: Vec<Location>,
    /// Per task: its clock at its last release fence.
    fenced: Vec<VectorClock>,
    /// Per task: views its relaxed loads read, acquired at its next acquire fence.
    pending: Vec<VectorClock>,
    /// The join of every SeqCst fence's clock so far.
    sc_clock: VectorClock,
    /// Each SeqCst fence so far, in order: (task, its clock entry then).
    sc_fences: Vec<(u32, u32)>,
    /// The load being decided: (object, candidates) from `Load` until `read`.
    load: (u32, u64),
}

impl Atomics {
    pub(super) fn reset(&mut self) {
        for l in &mut self.locations {
            l.len = 0;
            l.head = 0;
            l.stale.iter_mut().for_each(|s| *s = 0);
        }
        for c in self.fenced.iter_mut().chain(&mut self.pending) {
            c.clear();
        }
        self.sc_clock.clear();
        self.sc_fences.clear();
    }

    pub(super) fn add_task(&mut self, task: usize) {
        super::happens::slot(&mut self.fenced, task).clear();
        super::happens::slot(&mut self.pending, task).clear();
    }

    fn location(&mut self, o: u32) -> &mut Location {
        let o = o as usize;
        if o >= self.locations.len() {
            self.locations.resize_with(o + 1, Location::default);
        }
        &mut self.locations[o]
    }

    pub(super) fn access(
        &mut self,
        clock: &mut VectorClock,
        task: usize,
        object: u32,
        access: AtomicAccess,
    ) {
        match access {
            AtomicAccess::Load { order, latest } => {
                self.location(object).init(latest);
                let n = if self.weak {
                    self.candidates(clock, object, order)
                } else {
                    1
                };
                self.load = (object, n);
            }
            AtomicAccess::ReadLatest { order, latest } => {
                let l = self.location(object);
                l.init(latest);
                let newest = l.len - 1;
                self.read(clock, task, object, newest, order);
            }
            AtomicAccess::Store { order, prev, new } => {
                self.location(object).init(prev);
                self.store(clock, task, object, order, new, false);
            }
            AtomicAccess::Rmw { order, prev, new } => {
                let l = self.location(object);
                l.init(prev);
                let newest = l.len - 1;
                self.read(clock, task, object, newest, order);
                self.store(clock, task, object, order, new, true);
            }
            AtomicAccess::Fence(order) => {
                if acquires(order) {
                    clock.join(&self.pending[task]);
                }
                if order == Ordering::SeqCst {
                    clock.join(&self.sc_clock);
                    self.sc_clock.join(clock);
                    self.sc_fences.push((task as u32, clock.get(task)));
                }
                if releases(order) {
                    self.fenced[task].copy_from(clock);
                }
            }
        }
    }

    /// How many stores the pending load may read (from [`AtomicAccess::Load`]); `spinning`: its
    /// task re-reads with nothing changed, so it reads the newest.
    pub(super) fn load_options(&mut self, task: usize, spinning: bool) -> u64 {
        let (object, n) = self.load;
        if n <= 1 {
            return n;
        }
        let stale = self.location(object).stale_mut(task);
        if spinning || *stale >= STALE_READS {
            *stale = 0;
            return 1;
        }
        // After a stale read the task's floor is the store it read (the oldest candidate):
        // reading it again would only repeat a state, so the next read moves on.
        if *stale > 0 {
            return n - 1;
        }
        n
    }

    /// The pending load reads option `option` of its candidates (0: the newest store); returns
    /// the value it reads.
    pub(super) fn load_read(
        &mut self,
        clock: &mut VectorClock,
        task: usize,
        order: Ordering,
        option: u64,
    ) -> u64 {
        let (object, _) = self.load;
        let l = self.location(object);
        let index = l.len - 1 - option as usize;
        let stale = l.stale_mut(task);
        *stale = if option == 0 { 0 } else { *stale + 1 };
        self.read(clock, task, object, index, order)
    }

    /// The number of stores a load may read: from the newest back to the newest one it must
    /// not read past (see the module docs).
    fn candidates(&self, clock: &VectorClock, object: u32, order: Ordering) -> u64 {
        let l = &self.locations[object as usize];
        let sc = order == Ordering::SeqCst;
        // SeqCst fences that happen before the load: they are ordered by happens-before, so
        // the last one that does tells.
        let fences =
            self.sc_fences
                .partition_point(|&(t, stamp)| clock.get(t as usize) >= stamp) as u32;
        let mut n = 0;
        for i in (0..l.len).rev() {
            let s = l.at(i);
            n += 1;
            // The cheap SeqCst test first: an all-SeqCst program stops here at the newest.
            let floor = (s.sc_at != UNSEEN && (sc || s.sc_at < fences))
                || s.seen_by(clock)
                || (sc && !self.sc_fences.is_empty() && s.seen_by(&self.sc_clock));
            if floor {
                break;
            }
        }
        n
    }

    /// `task` reads the store at ring position `index`: it has seen it, and acquires its view.
    fn read(
        &mut self,
        clock: &mut VectorClock,
        task: usize,
        object: u32,
        index: usize,
        order: Ordering,
    ) -> u64 {
        let fences = self.sc_fences.len() as u32;
        let l = &mut self.locations[object as usize];
        let s = l.at_mut(index);
        s.touch(task, clock.get(task));
        if order == Ordering::SeqCst {
            s.sc_at = s.sc_at.min(fences);
        }
        if acquires(order) {
            clock.join(&s.view);
        } else {
            self.pending[task].join(&s.view);
        }
        s.value
    }

    /// `task` stores `value` as the newest store; an RMW continues the release sequence of the
    /// store it read (the newest before it).
    fn store(
        &mut self,
        clock: &mut VectorClock,
        task: usize,
        object: u32,
        order: Ordering,
        value: u64,
        rmw: bool,
    ) {
        let fences = self.sc_fences.len() as u32;
        let fenced = &self.fenced[task];
        let l = &mut self.locations[object as usize];
        if rmw {
            // The release sequence: the new store starts from the view of the one it read
            // (the newest; the slot after it is another, even in a full ring).
            let prev = (l.head + l.len - 1) % HISTORY;
            let next = l.slot_after();
            let (read, new) = two_mut(&mut l.stores, prev, next);
            new.view.copy_from(&read.view);
        }
        let stamp = clock.get(task);
        let s = l.push();
        s.value = value;
        if !rmw {
            s.view.clear();
        }
        if releases(order) {
            s.view.join(clock);
        } else {
            s.view.join(fenced);
        }
        s.touch(task, stamp);
        if order == Ordering::SeqCst {
            s.sc_at = fences;
        }
    }
}

/// Two distinct elements of `v`, mutably.
fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}
