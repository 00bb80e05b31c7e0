//! The DFS against fake point sequences: tasks that each run a list of operations, one per
//! scheduling point, with no runtime underneath.

use super::*;
use crate::scheduler::PendingOp;
use crate::trace::Op;
use std::collections::BTreeSet;

type Program = Vec<Vec<(Op, u32)>>;

/// Runs one execution of `program` under `dfs`; the outcome is every load's value (the task
/// that last stored to the object, or 9) and the final value of each object.
fn run_once(program: &Program, dfs: &mut Dfs) -> Vec<u32> {
    let n = program.len();
    let mut pos = vec![0usize; n];
    let mut progress = vec![0u32; n];
    let mut memory = [9u32; 8];
    let mut seen = Vec::new();
    let (mut last, mut current) = (0, None);
    loop {
        let runnable: Vec<TaskId> = (0..n as TaskId)
            .filter(|&t| pos[t as usize] < program[t as usize].len())
            .collect();
        if runnable.is_empty() {
            break;
        }
        let pending: Vec<PendingOp> = (0..n)
            .map(|t| {
                let (op, object) = program[t].get(pos[t]).copied().unwrap_or((Op::Finish, 0));
                PendingOp { op, object }
            })
            .collect();
        let t = if runnable.len() == 1 {
            runnable[0]
        } else {
            let point = ChoicePoint {
                runnable: &runnable,
                current,
                yielding: false,
                released: false,
                pending: &pending,
                last,
                progress: &progress,
            };
            match dfs.choose(&point) {
                Choice::Run(t) => t,
                Choice::Diverged { .. } => panic!("diverged"),
            }
        };
        let (op, object) = program[t as usize][pos[t as usize]];
        match op {
            Op::Store => memory[object as usize] = t,
            Op::Load => seen.push(memory[object as usize]),
            _ => {}
        }
        pos[t as usize] += 1;
        progress[t as usize] += 1;
        last = t;
        current = (pos[t as usize] < program[t as usize].len()).then_some(t);
    }
    seen.extend_from_slice(&memory);
    seen
}

fn explore(program: &Program, reduce: bool) -> (BTreeSet<Vec<u32>>, u32) {
    let tree = Rc::new(RefCell::new(DfsTree::default()));
    let (mut outcomes, mut executions) = (BTreeSet::new(), 0);
    loop {
        let mut dfs = if reduce {
            Dfs::reducing(tree.clone(), u32::MAX)
        } else {
            Dfs::new(tree.clone(), u32::MAX)
        };
        outcomes.insert(run_once(program, &mut dfs));
        executions += 1;
        if !tree.borrow_mut().advance() {
            return (outcomes, executions);
        }
    }
}

#[test]
fn sleep_sets_keep_every_outcome_and_prune_independent_orders() {
    use Op::{Load, Lock, Store};
    let programs: Vec<(Program, bool)> = vec![
        // Store buffering: three outcomes, all must stay.
        (
            vec![vec![(Store, 1), (Load, 2)], vec![(Store, 2), (Load, 1)]],
            false,
        ),
        // Disjoint objects: every order is the same, so the reduced tree is smaller.
        (
            vec![vec![(Store, 1), (Store, 1)], vec![(Store, 2), (Store, 2)]],
            true,
        ),
        // Readers of one object commute; the writer does not.
        (
            vec![
                vec![(Load, 1), (Load, 2)],
                vec![(Load, 1), (Load, 2)],
                vec![(Store, 2), (Lock, 3)],
            ],
            true,
        ),
        // Unknown footprints (object 0) commute with nothing.
        (
            vec![vec![(Store, 0), (Load, 1)], vec![(Store, 1), (Load, 0)]],
            false,
        ),
    ];
    for (program, prunes) in programs {
        let (full, full_runs) = explore(&program, false);
        let (reduced, reduced_runs) = explore(&program, true);
        assert_eq!(full, reduced, "{program:?}");
        assert!(reduced_runs <= full_runs, "{program:?}");
        if prunes {
            assert!(
                reduced_runs < full_runs,
                "{program:?}: {reduced_runs} vs {full_runs}"
            );
        }
    }
}

fn picks(kinds: &[Pick], bound: u32) -> BTreeSet<Vec<u64>> {
    let tree = Rc::new(RefCell::new(DfsTree::default()));
    let mut all = BTreeSet::new();
    loop {
        let mut dfs = Dfs::new(tree.clone(), bound);
        let mut rng = fastrand::Rng::with_seed(1);
        let values: Vec<u64> = kinds
            .iter()
            .map(|&k| dfs.pick(k, &mut rng).unwrap())
            .collect();
        assert!(all.insert(values), "a path was explored twice");
        if !tree.borrow_mut().advance() {
            return all;
        }
    }
}

#[test]
fn picks_are_enumerated_and_charged_as_preemptions() {
    let data = |n| Pick {
        kind: PickKind::Data,
        n,
    };
    let waiter = Pick {
        kind: PickKind::Waiter,
        n: 3,
    };
    let spurious = Pick {
        kind: PickKind::Spurious,
        n: 2,
    };
    // Small data draws are enumerated whatever the bound.
    assert_eq!(picks(&[data(3), data(2)], 0).len(), 6);
    // Bound 0: the plain run (longest waiter, no spurious wake-up).
    assert_eq!(picks(&[waiter, spurious], 0), BTreeSet::from([vec![0, 0]]));
    // Bound 1: one departure from it.
    let one = picks(&[waiter, spurious], 1);
    assert_eq!(
        one,
        BTreeSet::from([vec![0, 0], vec![0, 1], vec![1, 0], vec![2, 0]])
    );
    // Wide draws take one fixed value per position: no branching, the same each time.
    let wide = picks(&[data(0), data(1000), data(0)], 0);
    assert_eq!(wide.len(), 1);
    let values = wide.into_iter().next().unwrap();
    assert!(values[1] < 1000);
    assert_ne!(values[0], values[2]);
    assert_eq!(
        values,
        picks(&[data(0), data(1000), data(0)], 3)
            .into_iter()
            .next()
            .unwrap()
    );
}

#[test]
fn a_task_choice_where_a_pick_was_recorded_diverges() {
    let tree = Rc::new(RefCell::new(DfsTree::default()));
    let mut rng = fastrand::Rng::with_seed(1);
    let mut dfs = Dfs::new(tree.clone(), 0);
    dfs.pick(
        Pick {
            kind: PickKind::Data,
            n: 2,
        },
        &mut rng,
    );
    let mut again = Dfs::new(tree, 0);
    let point = ChoicePoint {
        runnable: &[0, 1],
        current: Some(0),
        yielding: false,
        released: false,
        pending: &[PendingOp {
            op: Op::Load,
            object: 1,
        }; 2],
        last: 0,
        progress: &[1, 0],
    };
    assert!(matches!(again.choose(&point), Choice::Diverged { .. }));
}
