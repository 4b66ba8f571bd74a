//! Memory shared by every host of a served world, bounded in total: message bodies being
//! received and the transcripts kept. Per-item limits alone let many items add up (32
//! parallel 35 MiB bodies are over a gigabyte), so each byte held is reserved here first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One bounded pool of octets.
#[derive(Debug)]
pub struct Pool {
    used: AtomicUsize,
    max: usize,
}

impl Pool {
    pub fn new(max: usize) -> Self {
        Pool {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// Takes `bytes` from the pool; false (and nothing taken) when that would pass its bound.
    pub fn reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.max)
            })
            .is_ok()
    }

    pub fn release(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// The pools a served world's SMTP hosts share.
#[derive(Debug)]
pub struct Budget {
    /// Message bodies being received (DATA), across every session of every host.
    pub data: Pool,
    /// Transcripts kept, across every host.
    pub transcripts: Pool,
}

impl Budget {
    pub fn new(data: usize, transcripts: usize) -> Arc<Budget> {
        Arc::new(Budget {
            data: Pool::new(data),
            transcripts: Pool::new(transcripts),
        })
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            data: Pool::new(DEFAULT_DATA_BYTES),
            transcripts: Pool::new(DEFAULT_TRANSCRIPT_BYTES),
        }
    }
}

/// Message bodies in flight at once, in all: a few large messages, many small ones.
pub const DEFAULT_DATA_BYTES: usize = 96 * 1024 * 1024;
/// Transcripts kept, in all.
pub const DEFAULT_TRANSCRIPT_BYTES: usize = 32 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_never_passes_its_bound_and_gives_back_what_was_released() {
        let pool = Pool::new(100);
        assert!(pool.reserve(60));
        assert!(!pool.reserve(41));
        assert!(pool.reserve(40));
        assert_eq!(pool.used(), 100);
        pool.release(60);
        assert!(pool.reserve(60));
        pool.release(1000);
        assert_eq!(pool.used(), 0);
        assert!(!pool.reserve(usize::MAX));
    }
}
