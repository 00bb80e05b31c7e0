//! Coroutine stacks are reused across tasks and executions: mapping a fresh stack costs
//! microseconds (mmap + guard page + page faults), reusing one costs nothing.

use corosensei::stack::DefaultStack;
use std::cell::RefCell;

/// Stacks kept per size; more than this many idle stacks of one size are unmapped.
const MAX_IDLE: usize = 4096;

thread_local! {
    static POOL: RefCell<Vec<(usize, Vec<DefaultStack>)>> = const { RefCell::new(Vec::new()) };
}

/// A stack of the pool. Stacks are keyed by the size they were requested with, which the
/// caller passes back to [`give`].
pub(crate) fn take(size: usize) -> DefaultStack {
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        p.iter_mut()
            .find(|(s, _)| *s == size)
            .and_then(|(_, v)| v.pop())
    });
    match reused {
        Some(stack) => stack,
        None => DefaultStack::new(size).unwrap_or_else(|e| {
            panic!("detest: cannot allocate a {size}-byte coroutine stack: {e}")
        }),
    }
}

pub(crate) fn give(stack: DefaultStack, size: usize) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let idx = match p.iter().position(|(s, _)| *s == size) {
            Some(i) => i,
            None => {
                p.push((size, Vec::new()));
                p.len() - 1
            }
        };
        if p[idx].1.len() < MAX_IDLE {
            p[idx].1.push(stack);
        }
    });
}
