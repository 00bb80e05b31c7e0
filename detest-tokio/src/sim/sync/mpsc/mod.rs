//! `tokio::sync::mpsc`: bounded channels (capacity is a FIFO [`Semaphore`] of queue slots,
//! as tokio's: blocked senders are served in order) and unbounded ones. The channel closes
//! when every strong sender is gone (the receiver then drains what is queued and gets `None`;
//! weak senders keep nothing open) or when the receiver closes or drops (sends fail, giving
//! the value back).
//!
//! ```ignore
//! let (tx, mut rx) = tokio::sync::mpsc::channel(1);
//! tokio::spawn(async move { tx.send(1).await.unwrap() });
//! assert_eq!(rx.recv().await, Some(1));
//! assert_eq!(rx.recv().await, None); // the sender was dropped
//! ```
//!
//! [`Semaphore`]: super::Semaphore

mod bounded;
mod chan;
pub mod error;
mod permit;
mod unbounded;

pub use bounded::{Receiver, Sender, WeakSender};
pub use permit::{OwnedPermit, Permit, PermitIterator};
pub use unbounded::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

use chan::Chan;

/// Creates a bounded channel of `buffer` slots.
///
/// # Panics
/// If `buffer` is 0 (as tokio's).
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let chan = Chan::new(Some(buffer));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// Creates an unbounded channel.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(None);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { chan },
    )
}
