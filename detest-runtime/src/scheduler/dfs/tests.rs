//! The DFS against fake point sequences: tasks that each run a list of operations, one per
//! scheduling point, with no runtime underneath.

use super::*;
use crate::scheduler::PendingOp;
use crate::trace::Op;
use std::collections::BTreeSet;

type Program = Vec<Vec<(Op, u32)>>;

/// Runs one execution of `program` under `dfs`; the outcome is every load's value (the task
/// that last stored to the object, or 9), task by task, and the final value of each object.
/// As in the runtime, a task passes (counts) its next point when it reaches it.
fn run_once(program: &Program, dfs: &mut Dfs) -> Vec<u32> {
    let n = program.len();
    let mut pos = vec![0usize; n];
    let mut progress = vec![1u32; n];
    let mut memory = [9u32; 8];
    let mut seen = vec![Vec::new(); n];
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
        let point = ChoicePoint {
            runnable: &runnable,
            current,
            yielding: false,
            released: false,
            release: PendingOp {
                op: Op::Yield,
                object: 0,
            },
            clock_moves: 0,
            pending: &pending,
            last,
            progress: &progress,
        };
        let t = if runnable.len() == 1 {
            if dfs.observes_every_point() {
                dfs.observe(&point);
            }
            runnable[0]
        } else {
            match dfs.choose(&point) {
                Choice::Run(t) => t,
                Choice::Diverged { .. } => panic!("diverged"),
            }
        };
        let (op, object) = program[t as usize][pos[t as usize]];
        match op {
            Op::Store => memory[object as usize] = t,
            Op::Load => seen[t as usize].push(memory[object as usize]),
            Op::Rmw => {
                seen[t as usize].push(memory[object as usize]);
                memory[object as usize] = t;
            }
            _ => {}
        }
        pos[t as usize] += 1;
        last = t;
        current = (pos[t as usize] < program[t as usize].len()).then_some(t);
        if current.is_some() {
            progress[t as usize] += 1;
        }
    }
    if dfs.observes_every_point() {
        // The end, as the runtime reports it: nobody can run.
        let pending: Vec<PendingOp> = (0..n)
            .map(|_| PendingOp {
                op: Op::Finish,
                object: 0,
            })
            .collect();
        dfs.observe(&ChoicePoint {
            runnable: &[],
            current: None,
            yielding: false,
            released: false,
            release: pending[0],
            clock_moves: 0,
            pending: &pending,
            last,
            progress: &progress,
        });
    }
    let mut outcome: Vec<u32> = seen.concat();
    outcome.extend_from_slice(&memory);
    outcome
}

/// 0: unreduced, 1: sleep sets, 2: DPOR.
fn explore(program: &Program, reduce: u8) -> (BTreeSet<Vec<u32>>, u32) {
    let tree = Rc::new(RefCell::new(DfsTree::default()));
    let (mut outcomes, mut executions) = (BTreeSet::new(), 0);
    loop {
        let mut dfs = match reduce {
            0 => Dfs::new(tree.clone(), u32::MAX),
            1 => Dfs::reducing(tree.clone(), u32::MAX),
            _ => Dfs::dpor(tree.clone(), u32::MAX),
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
        let (full, full_runs) = explore(&program, 0);
        let (reduced, reduced_runs) = explore(&program, 1);
        let (dpor, dpor_runs) = explore(&program, 2);
        assert_eq!(full, reduced, "{program:?}");
        assert_eq!(full, dpor, "{program:?}");
        assert!(reduced_runs <= full_runs, "{program:?}");
        assert!(dpor_runs <= reduced_runs, "{program:?}");
        if prunes {
            assert!(
                reduced_runs < full_runs,
                "{program:?}: {reduced_runs} vs {full_runs}"
            );
        }
    }
}

#[test]
fn dpor_runs_independent_tasks_once_and_keeps_every_order_of_dependent_ones() {
    use Op::{Load, Store};
    // Four tasks on four objects: one execution (sleep sets alone need more).
    let disjoint: Program = (1..5).map(|o| vec![(Store, o), (Load, o)]).collect();
    let (outcomes, runs) = explore(&disjoint, 2);
    assert_eq!((outcomes.len(), runs), (1, 1));
    assert!(explore(&disjoint, 1).1 > 1);
    // Three writers of one object: each can be last, and each load sees every writer.
    let shared: Program = (0..3).map(|_| vec![(Store, 1), (Load, 1)]).collect();
    let (full, _) = explore(&shared, 0);
    let (dpor, runs) = explore(&shared, 2);
    assert_eq!(full, dpor);
    assert!(runs > 1);
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
        release: PendingOp {
            op: Op::Yield,
            object: 0,
        },
        clock_moves: 0,
        pending: &[PendingOp {
            op: Op::Load,
            object: 1,
        }; 2],
        last: 0,
        progress: &[1, 0],
    };
    assert!(matches!(again.choose(&point), Choice::Diverged { .. }));
}

#[test]
fn dpor_keeps_the_outcomes_of_random_programs() {
    // Random programs of 2-4 tasks with loads, stores and read-modify-writes of 3 objects
    // (object 0: unknown footprint): DPOR and sleep sets see exactly the unreduced outcomes.
    let mut rng = fastrand::Rng::with_seed(7);
    let ops = [Op::Load, Op::Store, Op::Rmw];
    let (mut dpor_total, mut full_total) = (0, 0);
    for _ in 0..300 {
        let tasks = rng.usize(2..5);
        let longest = if tasks == 4 { 3 } else { 4 };
        let program: Program = (0..tasks)
            .map(|_| {
                (0..rng.usize(1..longest))
                    .map(|_| (ops[rng.usize(..3)], rng.u32(0..4).min(3)))
                    .collect()
            })
            .collect();
        let (full, full_runs) = explore(&program, 0);
        let (sleep, _) = explore(&program, 1);
        let (dpor, dpor_runs) = explore(&program, 2);
        assert_eq!(full, sleep, "sleep sets: {program:?}");
        assert_eq!(full, dpor, "DPOR: {program:?}");
        dpor_total += dpor_runs;
        full_total += full_runs;
    }
    assert!(dpor_total * 2 < full_total, "{dpor_total} vs {full_total}");
}
