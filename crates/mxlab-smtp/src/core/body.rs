//! The message being received in DATA: smtp-proto's receiver undoes dot-stuffing; what it
//! yields is kept only up to the size limit and only while the shared budget has room.

use std::sync::Arc;

use smtp_proto::request::receiver::DataReceiver;

use crate::budget::Budget;

/// Why a message was not kept whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Larger than the host accepts: `552 5.3.4`.
    TooBig,
    /// The budget for bodies in flight is spent: `452 4.3.1`, try again later.
    NoRoom,
}

pub struct Body {
    receiver: DataReceiver,
    bytes: Vec<u8>,
    /// Octets taken from the budget for `bytes`; given back on drop.
    reserved: usize,
    /// Octets of the message seen, kept or not.
    seen: u64,
    /// Octets seen and not kept, past an overflow.
    dropped: u64,
    max: usize,
    overflow: Option<Overflow>,
    budget: Arc<Budget>,
}

/// Reserve in steps of this much, so the budget is not touched for every line.
const STEP: usize = 64 * 1024;

impl Body {
    pub fn new(max: usize, budget: Arc<Budget>) -> Self {
        // RFC 5321 §4.5.2: the CRLF that ends the DATA line begins the mail text, so a dot
        // first on the first line is stuffing, or with CRLF alone the end of an empty
        // message. The receiver is told of that CRLF before the text comes.
        let mut receiver = DataReceiver::new();
        receiver.ingest(&mut b"\r\n".iter(), &mut Vec::new());
        Body {
            receiver,
            bytes: Vec::new(),
            reserved: 0,
            seen: 0,
            dropped: 0,
            max,
            overflow: None,
            budget,
        }
    }

    /// Takes what it can of `input`; returns the octets consumed and whether the final dot
    /// was among them.
    pub fn ingest(&mut self, input: &[u8]) -> (usize, bool) {
        // The receiver writes at most as many octets as it consumes: reserve that much first
        // (up to one past the limit, which is enough to know the message is too big), and
        // let the buffer's capacity follow the reservation, not the vector's doubling.
        if self.overflow.is_none() {
            let need = (self.bytes.len() + input.len()).min(self.max.saturating_add(1));
            if need > self.reserved {
                // A whole step, or just what is needed when a step does not fit: a budget
                // smaller than a step, or nearly spent, still takes a message that fits.
                let exact = need - self.reserved;
                let more = [exact.max(STEP), exact]
                    .into_iter()
                    .find(|&more| self.budget.data.reserve(more));
                if let Some(more) = more {
                    self.reserved += more;
                    self.bytes.reserve_exact(self.reserved - self.bytes.len());
                } else {
                    self.overflow = Some(Overflow::NoRoom);
                    self.forget();
                }
            }
        }
        let mut iter = input.iter();
        // The receiver may take back octets it wrote (a line end that turns out to precede
        // the final dot), so what was seen is counted from the buffer, not added up.
        let done = self.receiver.ingest(&mut iter, &mut self.bytes);
        self.seen = self.dropped + self.bytes.len() as u64;
        if self.overflow.is_none() && self.bytes.len() > self.max {
            self.overflow = Some(Overflow::TooBig);
            self.forget();
        }
        if self.overflow.is_some() {
            // Read on to the final dot, but keep none of it.
            self.dropped = self.seen;
            self.bytes.clear();
        }
        (input.len() - iter.len(), done)
    }

    /// Octets of the message received so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    pub fn overflow(&self) -> Option<Overflow> {
        self.overflow
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The message. Its octets stay reserved until the body is dropped, which the core does
    /// once the message is stored or refused (a memory capture has its own bound).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    fn forget(&mut self) {
        self.dropped += self.bytes.len() as u64;
        self.bytes = Vec::new();
        self.budget.data.release(self.reserved);
        self.reserved = 0;
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        self.budget.data.release(self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(data: usize) -> Arc<Budget> {
        Budget::new(data, 0)
    }

    #[test]
    fn a_message_is_unstuffed_and_its_reservation_given_back() {
        let budget = budget(1 << 20);
        let mut body = Body::new(1 << 20, budget.clone());
        let (taken, done) = body.ingest(b"Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
        assert!(done);
        assert_eq!(taken, 24);
        assert_eq!(body.bytes(), b"Subject: x\r\n\r\n.dot\r\n");
        assert!(budget.data.used() > 0);
        let message = body.take();
        assert_eq!(message, b"Subject: x\r\n\r\n.dot\r\n");
        assert!(budget.data.used() > 0);
        drop(body);
        assert_eq!(budget.data.used(), 0);
    }

    #[test]
    fn past_the_size_limit_nothing_is_kept_and_the_dot_still_ends_it() {
        let budget = budget(1 << 20);
        let mut body = Body::new(10, budget.clone());
        let (_, done) = body.ingest(b"0123456789abcdef\r\n");
        assert!(!done);
        assert_eq!(body.overflow(), Some(Overflow::TooBig));
        assert!(body.bytes().is_empty());
        assert_eq!(budget.data.used(), 0);
        let (_, done) = body.ingest(b"more\r\n.\r\n");
        assert!(done);
        assert_eq!(body.seen(), 24);
    }

    #[test]
    fn when_the_shared_budget_is_spent_the_body_is_refused_for_now() {
        let budget = budget(STEP);
        let mut first = Body::new(1 << 20, budget.clone());
        first.ingest(b"x\r\n");
        let mut second = Body::new(1 << 20, budget.clone());
        second.ingest(b"y\r\n");
        assert_eq!(second.overflow(), Some(Overflow::NoRoom));
        drop(first);
        assert_eq!(budget.data.used(), 0);
    }

    #[test]
    fn a_budget_smaller_than_a_reservation_step_still_takes_a_message_that_fits() {
        let budget = budget(1000);
        let mut body = Body::new(100, budget.clone());
        let (_, done) = body.ingest(b"Subject: x\r\n\r\nhi\r\n.\r\n");
        assert!(done);
        assert_eq!(body.overflow(), None);
        assert_eq!(body.bytes(), b"Subject: x\r\n\r\nhi\r\n");
        // Two bodies in a budget that holds one step and a bit: the second is not refused.
        let budget = self::budget(STEP + 1000);
        let mut first = Body::new(1 << 20, budget.clone());
        first.ingest(b"x\r\n");
        let mut second = Body::new(1 << 20, budget.clone());
        second.ingest(b"y\r\n");
        assert_eq!(second.overflow(), None);
    }
}
