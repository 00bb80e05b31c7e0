//! Channels outside any execution (see `crate::outside`): the same queue and counters as
//! inside, read and written under `outside`'s lock, with waits on its condition variable.

use super::{Chan, WHAT};
use crate::outside;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::mpsc::{RecvTimeoutError, SendError, TryRecvError, TrySendError};

impl<T> Chan<T> {
    /// [`Chan::send`] outside any execution (see `crate::outside`).
    pub(super) fn send_outside(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        let sent = outside::wait_until(WHAT, &self.id, None, || {
            let st = self.lock();
            if !self.receiver.load(SeqCst) {
                return Some(None);
            }
            if self.bound.is_some_and(|b| b > 0 && st.queue.len() >= b) {
                return None;
            }
            st.queue.push_back(value.take().expect("sent once"));
            st.sent += 1;
            Some(Some(st.sent))
        });
        let Some(ticket) = sent.flatten() else {
            return Err(SendError(value.take().expect("not sent")));
        };
        outside::notify();
        if self.bound == Some(0) {
            // Rendezvous: the send completes when the value has been received.
            outside::wait_until(WHAT, &self.id, None, || {
                (self.lock().received >= ticket || !self.receiver.load(SeqCst)).then_some(())
            });
        }
        Ok(())
    }

    /// [`Chan::recv`] outside any execution, until `deadline` at most.
    pub(super) fn recv_outside(&self, deadline: Option<std::time::Instant>) -> Result<T, RecvTimeoutError> {
        let got = outside::wait_until(WHAT, &self.id, deadline, || {
            let st = self.lock();
            match st.queue.pop_front() {
                Some(v) => {
                    st.received += 1;
                    st.receiving = false;
                    Some(Ok(v))
                }
                None if self.senders.load(SeqCst) == 0 => {
                    st.receiving = false;
                    Some(Err(RecvTimeoutError::Disconnected))
                }
                None => {
                    // A rendezvous `try_send` may hand a value over now.
                    st.receiving = true;
                    None
                }
            }
        });
        match got {
            Some(got) => {
                // Room for a bounded sender, or a rendezvous sender's receipt.
                outside::notify();
                got
            }
            None => outside::with(WHAT, &self.id, || {
                let st = self.lock();
                st.receiving = false;
                match st.queue.pop_front() {
                    Some(v) => {
                        st.received += 1;
                        Ok(v)
                    }
                    None => Err(RecvTimeoutError::Timeout),
                }
            }),
        }
    }

    /// A non-blocking receive outside any execution.
    pub(super) fn try_recv_outside(&self) -> Result<T, TryRecvError> {
        let got = outside::with(WHAT, &self.id, || {
            let st = self.lock();
            match st.queue.pop_front() {
                Some(v) => {
                    st.received += 1;
                    Ok(v)
                }
                None if self.senders.load(SeqCst) == 0 => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            }
        });
        if got.is_ok() {
            outside::notify();
        }
        got
    }

    /// A non-blocking send outside any execution: as inside, a rendezvous channel has room
    /// only while the receiver waits and nothing else is on its way to it.
    pub(super) fn try_send_outside(&self, value: T) -> Result<(), TrySendError<T>> {
        let sent = outside::with(WHAT, &self.id, || {
            let st = self.lock();
            if !self.receiver.load(SeqCst) {
                return Err(TrySendError::Disconnected(value));
            }
            let room = match self.bound {
                None => true,
                Some(0) => st.receiving && st.queue.is_empty(),
                Some(bound) => st.queue.len() < bound,
            };
            if !room {
                return Err(TrySendError::Full(value));
            }
            st.queue.push_back(value);
            st.sent += 1;
            Ok(())
        });
        if sent.is_ok() {
            outside::notify();
        }
        sent
    }
}
