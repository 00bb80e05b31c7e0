use super::{next_after, Choice, ChoicePoint, Scheduler, TaskId};
use std::cell::RefCell;
use std::rc::Rc;

/// The search tree of a bounded depth-first exploration, shared by the executions that walk it.
#[derive(Debug, Default)]
pub struct DfsTree {
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Node {
    options: Vec<TaskId>,
    index: usize,
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

/// Systematic exploration of every schedule with at most `bound` preemptions (CHESS-style
/// iterative context bounding; what loom does with `preemption_bound`). Each execution follows
/// the tree's current path and extends it with first options; [`DfsTree::advance`] backtracks.
/// Switches at blocking points, yields and task ends are free; only preemptions are bounded.
pub struct Dfs {
    tree: Rc<RefCell<DfsTree>>,
    bound: u32,
    /// Also branch at forced switches (blocking, yields, task ends). Without it only the
    /// placement of preemptions is explored, around the default order: a far smaller space.
    branch_forced: bool,
    position: usize,
    preemptions: u32,
}

impl Dfs {
    pub fn new(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        Dfs {
            tree,
            bound,
            branch_forced: true,
            position: 0,
            preemptions: 0,
        }
    }

    /// Explores preemption placements only; forced switches take the default (round-robin).
    pub fn preemptions_only(tree: Rc<RefCell<DfsTree>>, bound: u32) -> Self {
        Dfs {
            tree,
            bound,
            branch_forced: false,
            position: 0,
            preemptions: 0,
        }
    }
}

impl Scheduler for Dfs {
    fn choose(&mut self, p: &ChoicePoint<'_>) -> Choice {
        let mut tree = self.tree.borrow_mut();
        if self.position == tree.nodes.len() {
            let options = match p.current {
                Some(cur) if !p.yielding => {
                    let mut options = vec![cur];
                    if self.preemptions < self.bound {
                        options.extend(p.runnable.iter().copied().filter(|&t| t != cur));
                    }
                    options
                }
                _ => {
                    // Start with the round-robin successor so the first path is the default one.
                    let first = next_after(p.runnable, Some(p.last));
                    let mut options = vec![first];
                    if self.branch_forced {
                        options.extend(p.runnable.iter().copied().filter(|&t| t != first));
                    }
                    options
                }
            };
            tree.nodes.push(Node { options, index: 0 });
        }
        let node = &tree.nodes[self.position];
        let task = node.options[node.index];
        self.position += 1;
        if p.runnable.binary_search(&task).is_err() {
            return Choice::Diverged { expected: task };
        }
        if !p.yielding && p.current.is_some_and(|c| c != task) {
            self.preemptions += 1;
        }
        Choice::Run(task)
    }
}
