//! `tokio::sync::OnceCell`: as tokio's, a one-permit [`Semaphore`](super::Semaphore) elects the
//! initializer (callers queue FIFO behind it); a successful init closes the semaphore, which
//! wakes every waiter to find the value. An init that fails, panics or is cancelled gives the
//! permit back, so the next waiter tries its own.

use super::semaphore::{Semaphore, TryAcquireError};
use super::State;
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::{offset_of, size_of};

/// A value set at most once, asynchronously.
///
/// ```ignore
/// static CONFIG: tokio::sync::OnceCell<u32> = tokio::sync::OnceCell::const_new();
/// let v = CONFIG.get_or_init(|| async { 42 }).await;
/// assert_eq!(*v, 42);
/// assert_eq!(CONFIG.set(7), Err(tokio::sync::SetError::AlreadyInitializedError(7)));
/// ```
///
/// A `static` cell starts empty in every explored execution, as the program started (on
/// Linux: detest puts primitives in statics back at their first use in each execution, see
/// detest's README, "Statics"), so the init race is explored in each.
pub struct OnceCell<T> {
    /// Whether `value` is set: read and written under the executor's lock, so a reader that
    /// sees `true` happens-after the write of the value.
    set: State<bool>,
    value: UnsafeCell<Option<T>>,
    sem: Semaphore,
}

// SAFETY: as tokio's: `value` is written once, by the permit holder, before `set` turns true;
// afterwards only shared references are handed out.
unsafe impl<T: Send> Send for OnceCell<T> {}
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

/// Why [`OnceCell::set`] refused the value (which it gives back).
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    AlreadyInitializedError(T),
    InitializingError(T),
}

impl<T> SetError<T> {
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError"),
            SetError::InitializingError(_) => f.write_str("InitializingError"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    pub const fn new() -> Self {
        OnceCell {
            set: State::within(false, offset_of!(Self, set), size_of::<Self>()),
            value: UnsafeCell::new(None),
            sem: Semaphore::within(1, offset_of!(Self, sem), size_of::<Self>()),
        }
    }

    pub const fn const_new() -> Self {
        OnceCell::new()
    }

    /// A cell already holding `value` when it is `Some`.
    pub fn new_with(value: Option<T>) -> Self {
        match value {
            Some(v) => OnceCell::from(v),
            None => OnceCell::new(),
        }
    }

    pub const fn const_new_with(value: T) -> Self {
        // A const fn cannot close the semaphore; a full cell never consults it (`set` checks
        // `set` first, `get_or_init` returns before acquiring), so leaving it open is harmless.
        OnceCell {
            set: State::within(true, offset_of!(Self, set), size_of::<Self>()),
            value: UnsafeCell::new(Some(value)),
            sem: Semaphore::within(1, offset_of!(Self, sem), size_of::<Self>()),
        }
    }

    #[track_caller]
    pub fn initialized(&self) -> bool {
        self.set.with(|s| *s)
    }

    #[track_caller]
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: set, so never written again through `&self`.
            unsafe { (*self.value.get()).as_ref() }
        } else {
            None
        }
    }

    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut().as_mut()
    }

    /// Stores `value` while holding the permit, then closes the semaphore (waking every
    /// waiter: their acquire fails, and they find the value).
    fn store(&self, value: T) -> &T {
        // SAFETY: the caller holds the only permit and `set` is false: nobody reads `value`.
        unsafe { *self.value.get() = Some(value) };
        self.set.with(|s| *s = true);
        self.sem.close();
        // SAFETY: just set.
        unsafe { (*self.value.get()).as_ref().expect("just stored") }
    }

    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.sem.try_acquire() {
            Ok(permit) => {
                permit.forget();
                self.store(value);
                Ok(())
            }
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, running `f` to make it unless it is set; concurrent callers wait (FIFO).
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](Self::get_or_init); an `Err` leaves the cell empty for the next
    /// waiter to try.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        match self.sem.acquire().await {
            Ok(permit) => {
                // Every store happens under the permit and then closes the semaphore, so
                // holding the permit means the cell is still empty.
                let value = f().await?;
                permit.forget();
                Ok(self.store(value))
            }
            // Closed: somebody stored the value.
            Err(_) => Ok(self.get().expect("closed only once set")),
        }
    }

    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Empties the cell (it can be set again).
    pub fn take(&mut self) -> Option<T> {
        std::mem::take(self).into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        // No scheduling point (a `From` may run outside an execution): see `const_new_with`.
        OnceCell::const_new_with(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
