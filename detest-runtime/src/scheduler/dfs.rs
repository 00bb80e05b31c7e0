use super::{next_after, Choice, ChoicePoint, Pick, PickKind, Scheduler, TaskId};
use std::cell::RefCell;
use std::rc::Rc;

mod dpor;
mod sleep;

use dpor::{Events, Race, NO_NODE};
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
    /// DPOR: the events of the running execution (see `dpor.rs`).
    events: Events,
    /// DPOR: the node and task of the event still running, and whether events are recorded
    /// (not below a node whose every task was asleep).
    running: Option<(usize, TaskId)>,
    recording: bool,
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
    /// DPOR: the tasks that could run here (races add options among them).
    enabled: Vec<u32>,
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
            enabled: Vec::new(),
        }
    }

    /// DPOR: makes sure one of `initials` is explored here (or was, or is asleep: equivalent
    /// to explored); when none of them can run here, every task that can.
    fn add_backtrack(&mut self, initials: &[TaskId]) {
        if self.redundant || self.kind != NodeKind::Task {
            return;
        }
        let asleep = |node: &Node, t: TaskId| node.sleep.iter().any(|s| s.task == t);
        if initials
            .iter()
            .any(|&t| self.options.contains(&t) || asleep(self, t))
        {
            return;
        }
        if let Some(&t) = initials.iter().find(|t| self.enabled.contains(t)) {
            self.options.push(t);
            return;
        }
        for i in 0..self.enabled.len() {
            let t = self.enabled[i];
            if !self.options.contains(&t) && !asleep(self, t) {
                self.options.push(t);
            }
        }
    }
}

impl DfsTree {
    /// Moves to the next unexplored path; false when the whole tree has been explored.
    pub fn advance(&mut self) -> bool {
        if self.recording {
            // The execution's end is an event too (see `dpor.rs`).
            let races = self.events.finish(self.running.take());
            self.backtrack(races);
            self.recording = false;
        }
        while let Some(last) = self.nodes.last_mut() {
            if last.index + 1 < last.options.len() {
                last.index += 1;
                return true;
            }
            self.nodes.pop();
        }
        false
    }

    fn backtrack(&mut self, races: Vec<Race>) {
        for race in races {
            self.nodes[race.node].add_backtrack(&race.initials);
        }
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
/// (see `sleep.rs`); with [`Dfs::dpor`], dynamic partial-order reduction also explores, at each
/// node, only the tasks that races detected in the executions make necessary (see `dpor.rs`).
pub struct Dfs {
    tree: Rc<RefCell<DfsTree>>,
    bound: u32,
    /// Also branch at forced switches (blocking, yields, task ends). Without it only the
    /// placement of preemptions is explored, around the default order: a far smaller space.
    branch_forced: bool,
    reduce: bool,
    /// Source-set DPOR on top of the sleep sets (implies `reduce`).
    dpor: bool,
    position: usize,
    preemptions: u32,
    /// Spurious wake-ups taken in this execution (see [`SPURIOUS_PER_EXECUTION`]).
    spurious: u32,
    /// The running segment (from the last task choice), for its footprint.
    segment: Option<Segment>,
    /// The sleep set the next node starts with: the last node's, less the tasks whose step
    /// did not commute with the segments run since.
    sleep: Vec<Sleeping>,
    /// Wide draws since the last node, to give each its own fixed value.
    draws: u64,
    /// Below a redundant node: follow one path.
    redundant: bool,
}

impl Dfs {
    pub fn new(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        {
            let mut t = tree.borrow_mut();
            t.events.clear();
            t.running = None;
            t.recording = false;
        }
        Dfs {
            tree,
            bound,
            branch_forced: true,
            reduce: false,
            dpor: false,
            position: 0,
            preemptions: 0,
            spurious: 0,
            segment: None,
            sleep: Vec::new(),
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

    /// [`Dfs::reducing`] with dynamic partial-order reduction (source sets, see `dpor.rs`).
    /// Only without a preemption bound, for the reason given there; a bounded search is not
    /// reduced at all.
    pub fn dpor(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        let on = bound == u32::MAX;
        let dfs = Dfs::new(tree.clone(), bound);
        tree.borrow_mut().recording = on;
        Dfs {
            reduce: on,
            dpor: on,
            ..dfs
        }
    }

    /// Ends the running segment at point `p`: records its footprint in the node that started
    /// it, carries the sleep set past it and, under DPOR, records it as an event and adds the
    /// options its races call for.
    fn end_segment(&mut self, tree: &mut DfsTree, p: &ChoicePoint<'_>) {
        let Some(seg) = self.segment.take() else {
            return;
        };
        let footprint = seg.footprint(p);
        if seg.node == NO_NODE {
            self.sleep.retain(|s| {
                s.footprint.independent(footprint) && p.runnable.binary_search(&s.task).is_ok()
            });
        } else {
            let node = &mut tree.nodes[seg.node];
            let index = node.index;
            if node.footprints.len() <= index {
                node.footprints.resize(index + 1, Footprint::UNKNOWN);
            }
            node.footprints[index] = footprint;
            self.sleep = if self.redundant {
                Vec::new()
            } else {
                node.sleep_after(footprint, p.runnable)
            };
        }
        if self.dpor && tree.recording {
            let tasks = (seg.tasks, p.pending.len());
            let races = tree
                .events
                .push(seg.node, seg.task, footprint, tasks, seg.finished(p));
            tree.running = None;
            tree.backtrack(races);
        }
    }

    /// Starts the segment of `task`, chosen at node `node` (or alone: [`NO_NODE`]).
    fn start_segment(&mut self, tree: &mut DfsTree, node: usize, task: TaskId, p: &ChoicePoint) {
        if self.reduce {
            self.segment = Some(Segment::start(node, task, p));
        }
        if self.dpor {
            if self.redundant {
                tree.recording = false;
            }
            tree.running = Some((node, task));
        }
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

    fn new_task_node(&self, p: &ChoicePoint<'_>) -> Node {
        let mut options = self.task_options(p);
        let mut node_sleep = Vec::new();
        if self.reduce && !self.redundant {
            node_sleep = self.sleep.clone();
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
        if self.dpor && !self.redundant {
            // Races add the others when they matter.
            options.truncate(1);
        }
        let mut node = Node::new(NodeKind::Task, options);
        node.sleep = node_sleep;
        if self.dpor {
            node.enabled = p.runnable.to_vec();
        }
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
                    .unwrap_or(Footprint::UNKNOWN),
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
        self.end_segment(&mut tree, p);
        if self.position == tree.nodes.len() {
            let node = self.new_task_node(p);
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
        self.start_segment(&mut tree, at, task, p);
        Choice::Run(task)
    }

    fn observes_every_point(&self) -> bool {
        self.dpor
    }

    fn observe(&mut self, p: &ChoicePoint<'_>) {
        let tree_rc = self.tree.clone();
        let mut tree = tree_rc.borrow_mut();
        self.end_segment(&mut tree, p);
        if let Some(&task) = p.runnable.first() {
            self.start_segment(&mut tree, NO_NODE, task, p);
        }
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
