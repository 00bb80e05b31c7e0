use super::{next_after, Choice, ChoicePoint, Pick, PickKind, Scheduler, TaskId};
use std::cell::RefCell;
use std::rc::Rc;

mod sleep;

use sleep::{Footprint, Segment, Sleeping};

/// Data draws with at most this many values are enumerated; wider ones (and whole-`u64` draws)
/// get one fixed value per position in the tree. 16 covers the dice, coin flips, small indexes
/// and shuffles of up to 16 items that shape tests, while a `range(0..1000)` does not multiply
/// the tree by a thousand.
pub const DATA_ENUMERATION_CAP: u64 = 16;

/// The search tree of a bounded depth-first exploration, shared by the executions that walk it.
#[derive(Debug, Default)]
pub struct DfsTree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    /// Which task runs: options are task ids.
    Task,
    /// A [`Pick`]: options are values.
    Pick(PickKind, u64),
}

#[derive(Debug)]
struct Node {
    kind: NodeKind,
    options: Vec<u32>,
    index: usize,
    /// Task nodes only: what the segment started by each option touched (filled in when it
    /// ends), for the sleep sets of later siblings.
    footprints: Vec<Footprint>,
    /// Tasks asleep here: their next step was explored from an equivalent earlier state.
    sleep: Vec<Sleeping>,
    /// Every runnable task was asleep: the subtree is equivalent to explored ones, so it is run
    /// along one path only.
    redundant: bool,
}

impl Node {
    fn new(kind: NodeKind, options: Vec<u32>) -> Self {
        Node {
            kind,
            options,
            index: 0,
            footprints: Vec::new(),
            sleep: Vec::new(),
            redundant: false,
        }
    }
}

impl DfsTree {
    /// Moves to the next unexplored path; false when the whole tree has been explored.
    pub fn advance(&mut self) -> bool {
        while let Some(last) = self.nodes.last_mut() {
            if last.index + 1 < last.options.len() {
                last.index += 1;
                return true;
            }
            self.nodes.pop();
        }
        false
    }
}

/// Spurious wake-ups one execution of `explore` may take. Each costs a preemption too, but an
/// unbounded search has no bound to stop a wait loop that wakes spuriously again and again.
pub const SPURIOUS_PER_EXECUTION: u32 = 1;

/// Systematic exploration of every schedule with at most `bound` preemptions (CHESS-style
/// iterative context bounding; what loom does with `preemption_bound`). Each execution follows
/// the tree's current path and extends it with first options; [`DfsTree::advance`] backtracks.
/// Switches at blocking points, yields and task ends are free; only preemptions are bounded.
///
/// Picks are nodes too. Data draws of at most [`DATA_ENUMERATION_CAP`] values are enumerated
/// (free: they are the program's input, not scheduling). Waking another waiter than the longest
/// one and a spurious wake-up each cost one preemption: with bound 0 the tree is the plain run's
/// (FIFO wake-ups, no spurious returns), and a wait loop cannot wake spuriously forever, so the
/// tree stays finite under a bound. Without one (`u32::MAX`) a wait loop could still wake
/// spuriously forever, so an execution explores at most [`SPURIOUS_PER_EXECUTION`] spurious
/// wake-up: enough for the classic bug (a wait without a loop), and the tree stays finite. A
/// barrier's leader is free (at most one choice per barrier generation).
///
/// With [`Dfs::reducing`], sleep sets prune schedules that only reorder independent steps
/// (see `sleep.rs`).
pub struct Dfs {
    tree: Rc<RefCell<DfsTree>>,
    bound: u32,
    /// Also branch at forced switches (blocking, yields, task ends). Without it only the
    /// placement of preemptions is explored, around the default order: a far smaller space.
    branch_forced: bool,
    reduce: bool,
    position: usize,
    preemptions: u32,
    /// Spurious wake-ups taken in this execution (see [`SPURIOUS_PER_EXECUTION`]).
    spurious: u32,
    /// The running segment (from the last task choice), for its footprint.
    segment: Option<Segment>,
    /// Wide draws since the last node, to give each its own fixed value.
    draws: u64,
    /// Below a redundant node: follow one path.
    redundant: bool,
}

impl Dfs {
    pub fn new(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        Dfs {
            tree,
            bound,
            branch_forced: true,
            reduce: false,
            position: 0,
            preemptions: 0,
            spurious: 0,
            segment: None,
            draws: 0,
            redundant: false,
        }
    }

    /// Explores preemption placements only; forced switches take the default (round-robin).
    pub fn preemptions_only(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        Dfs {
            branch_forced: false,
            ..Dfs::new(tree, bound)
        }
    }

    /// [`Dfs::new`] with sleep-set reduction. Only without a preemption bound (`u32::MAX`):
    /// with one, a pruned schedule's explored equivalent may need more preemptions than the
    /// bound allows (Coons, Musuvathi, McKinley, "Bounded partial-order reduction", 2013), so
    /// a bounded search is left unreduced rather than made to miss schedules within its bound.
    pub fn reducing(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        Dfs {
            reduce: bound == u32::MAX,
            ..Dfs::new(tree, bound)
        }
    }

    /// Ends the running segment at point `p`: records its footprint in the node that started it
    /// and returns it with that node's index.
    fn end_segment(
        &mut self,
        tree: &mut DfsTree,
        p: &ChoicePoint<'_>,
    ) -> Option<(usize, Footprint)> {
        let seg = self.segment.take()?;
        let footprint = seg.footprint(p);
        let node = &mut tree.nodes[seg.node];
        let index = node.index;
        if node.footprints.len() <= index {
            node.footprints.resize(index + 1, Footprint::Unknown);
        }
        node.footprints[index] = footprint;
        Some((seg.node, footprint))
    }

    fn task_options(&self, p: &ChoicePoint<'_>) -> Vec<u32> {
        match p.current {
            Some(cur) if !p.yielding => {
                let mut options = vec![cur];
                if self.preemptions < self.bound && !self.redundant {
                    options.extend(p.runnable.iter().copied().filter(|&t| t != cur));
                }
                options
            }
            _ => {
                // Start with the round-robin successor so the first path is the default one.
                let first = next_after(p.runnable, Some(p.last));
                let mut options = vec![first];
                if self.branch_forced && !self.redundant {
                    options.extend(p.runnable.iter().copied().filter(|&t| t != first));
                }
                options
            }
        }
    }

    fn new_task_node(
        &self,
        tree: &DfsTree,
        p: &ChoicePoint<'_>,
        ended: Option<(usize, Footprint)>,
    ) -> Node {
        let mut options = self.task_options(p);
        let mut node_sleep = Vec::new();
        if self.reduce && !self.redundant {
            if let Some((parent, footprint)) = ended {
                node_sleep = tree.nodes[parent].sleep_after(footprint, p.runnable);
            }
            if !node_sleep.is_empty() {
                let all = options.clone();
                options.retain(|t| !node_sleep.iter().any(|s| s.task == *t));
                if options.is_empty() {
                    let mut node = Node::new(NodeKind::Task, vec![all[0]]);
                    node.redundant = true;
                    return node;
                }
            }
        }
        let mut node = Node::new(NodeKind::Task, options);
        node.sleep = node_sleep;
        node
    }
}

impl Node {
    /// The sleep set of the child reached by this node's current option, whose segment touched
    /// `footprint`: the tasks asleep here or explored before it whose next step commutes with
    /// that segment (and that can still run).
    fn sleep_after(&self, footprint: Footprint, runnable: &[TaskId]) -> Vec<Sleeping> {
        let explored = self.options[..self.index]
            .iter()
            .enumerate()
            .map(|(i, &task)| Sleeping {
                task,
                footprint: self
                    .footprints
                    .get(i)
                    .copied()
                    .unwrap_or(Footprint::Unknown),
            });
        self.sleep
            .iter()
            .copied()
            .chain(explored)
            .filter(|s| {
                s.footprint.independent(footprint) && runnable.binary_search(&s.task).is_ok()
            })
            .collect()
    }
}

/// A fixed value for the `draw`-th wide draw after tree position `position` (splitmix64): the
/// same on every execution that reaches it, so the tree stays consistent.
fn fixed_value(position: usize, draw: u64) -> u64 {
    let mut z = (position as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(draw.wrapping_mul(0xd1b5_4a32_d192_ed03))
        .wrapping_add(0x2545_f491_4f6c_dd1d);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Scheduler for Dfs {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        let tree_rc = self.tree.clone();
        let mut tree = tree_rc.borrow_mut();
        let ended = self.end_segment(&mut tree, p);
        if self.position == tree.nodes.len() {
            let node = self.new_task_node(&tree, p, ended);
            tree.nodes.push(node);
        }
        let node = &tree.nodes[self.position];
        if node.kind != NodeKind::Task {
            // A pick was made here before; a task choice now means the program is not
            // deterministic.
            return Choice::Diverged {
                expected: TaskId::MAX,
            };
        }
        let task = node.options[node.index];
        self.redundant |= node.redundant;
        let at = self.position;
        self.position += 1;
        self.draws = 0;
        if p.runnable.binary_search(&task).is_err() {
            return Choice::Diverged { expected: task };
        }
        if !p.yielding && p.current.is_some_and(|c| c != task) {
            self.preemptions += 1;
        }
        if self.reduce {
            self.segment = Some(Segment::start(at, task, p));
        }
        Choice::Run(task)
    }

    fn pick(&mut self, pick: Pick, _data_rng: &mut fastrand::Rng) -> Option<u64> {
        if let Some(seg) = &mut self.segment {
            // The segment's effect depends on the value: never treat it as commuting.
            seg.picked = true;
        }
        let width = match pick.kind {
            PickKind::Data if pick.n == 0 || pick.n > DATA_ENUMERATION_CAP => {
                self.draws += 1;
                let v = fixed_value(self.position, self.draws);
                return Some(if pick.n == 0 { v } else { v % pick.n });
            }
            PickKind::Waiter | PickKind::Spurious if self.preemptions >= self.bound => 1,
            PickKind::Spurious if self.spurious >= SPURIOUS_PER_EXECUTION => 1,
            _ if self.redundant => 1,
            _ => pick.n,
        };
        if width <= 1 {
            // Nothing to branch on: no node, so the tree does not grow with forced picks.
            return Some(0);
        }
        let mut tree = self.tree.borrow_mut();
        if self.position == tree.nodes.len() {
            let options = (0..width as u32).collect();
            tree.nodes
                .push(Node::new(NodeKind::Pick(pick.kind, pick.n), options));
        }
        let node = &tree.nodes[self.position];
        if node.kind != NodeKind::Pick(pick.kind, pick.n) {
            return None;
        }
        let v = u64::from(node.options[node.index]);
        self.position += 1;
        self.draws = 0;
        if v != 0 && matches!(pick.kind, PickKind::Waiter | PickKind::Spurious) {
            self.preemptions += 1;
            self.spurious += u32::from(pick.kind == PickKind::Spurious);
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests;
