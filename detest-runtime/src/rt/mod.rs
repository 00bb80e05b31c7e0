//! The executor internals: one execution, its stack pool and the panic hook.

pub(crate) mod execution;
pub(crate) mod panic_hook;
pub(crate) mod stack_guard;
pub(crate) mod stack_pool;
