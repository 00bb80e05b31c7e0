//! Vector clocks: what each task has seen happen (Lamport 1978; Mattern 1989). Entry `t` of a
//! task's clock counts the synchronising operations of task `t` that happen before the task's
//! present point; one event happens before another exactly when its clock is `<=` the other's.

use std::cmp::Ordering;
use std::fmt;

/// A vector clock indexed by task id. Missing entries are zero, so clocks of different lengths
/// compare and join without resizing first (and an empty clock costs no allocation).
///
/// ```
/// use detest::current::VectorClock;
///
/// detest::check(|| {
///     let before: VectorClock = detest::current::clock();
///     let t = detest::thread::spawn(|| detest::current::clock());
///     let child = t.join().unwrap();
///     // The spawn happens before everything the child does; the child's end before the join.
///     assert!(before < child);
///     assert!(child < detest::current::clock());
/// });
/// ```
#[derive(Clone, Default)]
pub struct VectorClock {
    entries: Vec<u32>,
}

impl VectorClock {
    /// The all-zero clock.
    pub const fn new() -> Self {
        VectorClock {
            entries: Vec::new(),
        }
    }

    /// Entry `task` (zero when never set).
    #[inline]
    pub fn get(&self, task: usize) -> u32 {
        self.entries.get(task).copied().unwrap_or(0)
    }

    /// The entries, by task id (as many as [`VectorClock::len`]).
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().copied()
    }

    /// How many entries are stored (tasks beyond are zero).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether every entry is zero.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|&e| e == 0)
    }

    #[inline]
    pub(crate) fn set(&mut self, task: usize, value: u32) {
        if task >= self.entries.len() {
            self.entries.resize(task + 1, 0);
        }
        self.entries[task] = value;
    }

    /// Counts one more event of `task`.
    #[inline]
    pub(crate) fn tick(&mut self, task: usize) {
        let v = self.get(task);
        self.set(task, v + 1);
    }

    /// The entry-wise maximum: afterwards everything `other` saw happens before this clock.
    #[inline]
    pub(crate) fn join(&mut self, other: &VectorClock) {
        if other.entries.len() > self.entries.len() {
            self.entries.resize(other.entries.len(), 0);
        }
        for (mine, theirs) in self.entries.iter_mut().zip(&other.entries) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// Becomes a copy of `other`, reusing this clock's allocation.
    #[inline]
    pub(crate) fn copy_from(&mut self, other: &VectorClock) {
        self.entries.clear();
        self.entries.extend_from_slice(&other.entries);
    }

    /// Back to all zeros, keeping the allocation.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Whether every entry is `<=` the other's: this clock's point happens before (or is) the
    /// other's.
    pub fn le_all(&self, other: &VectorClock) -> bool {
        let n = self.entries.len().max(other.entries.len());
        (0..n).all(|i| self.get(i) <= other.get(i))
    }
}

/// Equal when every entry is (trailing zeros do not count).
impl PartialEq for VectorClock {
    fn eq(&self, other: &Self) -> bool {
        self.le_all(other) && other.le_all(self)
    }
}

impl Eq for VectorClock {}

/// The happens-before order: `a < b` when `a`'s point happens before `b`'s, `None` when the two
/// are concurrent.
impl PartialOrd for VectorClock {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.le_all(other), other.le_all(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => None,
        }
    }
}

impl fmt::Debug for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.entries)
    }
}

impl fmt::Display for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(entries: &[u32]) -> VectorClock {
        VectorClock {
            entries: entries.to_vec(),
        }
    }

    #[test]
    fn order_ignores_trailing_zeros() {
        assert_eq!(
            clock(&[1, 0]).partial_cmp(&clock(&[1])),
            Some(Ordering::Equal)
        );
        assert!(clock(&[1]) < clock(&[1, 1]));
        assert!(clock(&[2, 0]) > clock(&[1]));
        assert_eq!(clock(&[1, 0]).partial_cmp(&clock(&[0, 1])), None);
    }

    #[test]
    fn join_is_the_entrywise_max() {
        let mut a = clock(&[3, 0, 1]);
        a.join(&clock(&[1, 4]));
        assert_eq!(a, clock(&[3, 4, 1]));
        a.tick(5);
        assert_eq!(a.get(5), 1);
        assert_eq!(a.get(9), 0);
    }
}
