//! Coroutine stacks are reused across tasks and executions: mapping a fresh stack costs
//! microseconds (mmap + guard page + page faults), reusing one costs nothing.

use super::stack_guard;
use corosensei::stack::{DefaultStack, Stack};
use std::cell::RefCell;

/// Stacks kept per size; more than this many idle stacks of one size are unmapped.
const MAX_IDLE: usize = 4096;

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool(Vec::new())) };
}

/// The idle stacks of one thread, by requested size.
struct Pool(Vec<(usize, Vec<DefaultStack>)>);

impl Drop for Pool {
    fn drop(&mut self) {
        for stack in self.0.iter().flat_map(|(_, v)| v) {
            stack_guard::unregister(stack.limit().get());
        }
    }
}

/// A stack of the pool. Stacks are keyed by the size they were requested with, which the
/// caller passes back to [`give`].
pub(crate) fn take(size: usize) -> DefaultStack {
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        p.0.iter_mut()
            .find(|(s, _)| *s == size)
            .and_then(|(_, v)| v.pop())
    });
    match reused {
        Some(stack) => stack,
        None => {
            let stack = DefaultStack::new(size).unwrap_or_else(|e| {
                panic!("detest: cannot allocate a {size}-byte coroutine stack: {e}")
            });
            // Its lowest page is the guard page (corosensei maps it PROT_NONE).
            stack_guard::register(stack.limit().get(), size);
            stack
        }
    }
}

pub(crate) fn give(stack: DefaultStack, size: usize) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let p = &mut p.0;
        let idx = match p.iter().position(|(s, _)| *s == size) {
            Some(i) => i,
            None => {
                p.push((size, Vec::new()));
                p.len() - 1
            }
        };
        if p[idx].1.len() < MAX_IDLE {
            p[idx].1.push(stack);
        } else {
            stack_guard::unregister(stack.limit().get());
        }
    });
}
