//! Story time. A scenario's story runs on a virtual clock that starts at the scenario's
//! `start`; this maps tokio's clock onto it.
//!
//! In scenario runs tokio's clock is paused, so `now()` moves only when every task waits on a
//! timer: the two-day story takes milliseconds and cannot race. Under `serve` the same code
//! runs on the real clock, optionally scaled.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct Clock {
    start: OffsetDateTime,
    epoch: Instant,
    /// Virtual seconds per real (tokio) second.
    scale: f64,
}

impl Clock {
    /// A clock whose story time `start` is tokio's now.
    pub fn starting_now(start: OffsetDateTime, scale: f64) -> Self {
        assert!(
            scale > 0.0 && scale.is_finite(),
            "time scale must be positive"
        );
        Clock {
            start,
            epoch: Instant::now(),
            scale,
        }
    }

    pub fn start(&self) -> OffsetDateTime {
        self.start
    }

    /// Story time elapsed since `start`.
    pub fn elapsed(&self) -> Duration {
        self.to_virtual(self.epoch.elapsed())
    }

    pub fn now(&self) -> OffsetDateTime {
        self.at(self.elapsed())
    }

    /// The story instant `offset` after start; past the calendar's end (a clock scaled far
    /// enough, long enough) it stays at the last representable day rather than panic.
    pub fn at(&self, offset: Duration) -> OffsetDateTime {
        time::Duration::try_from(offset)
            .ok()
            .and_then(|offset| self.start.checked_add(offset))
            .unwrap_or_else(|| {
                time::macros::datetime!(9999-12-30 0:00 UTC).to_offset(self.start.offset())
            })
    }

    /// A story duration in tokio time (saturating: tokio treats the longest as "never").
    pub fn to_real(&self, story: Duration) -> Duration {
        if self.scale == 1.0 {
            story
        } else {
            Duration::try_from_secs_f64(story.as_secs_f64() / self.scale).unwrap_or(Duration::MAX)
        }
    }

    fn to_virtual(&self, real: Duration) -> Duration {
        if self.scale == 1.0 {
            real
        } else {
            Duration::try_from_secs_f64(real.as_secs_f64() * self.scale).unwrap_or(Duration::MAX)
        }
    }

    /// Waits for a story duration.
    pub async fn sleep(&self, story: Duration) {
        tokio::time::sleep(self.to_real(story)).await
    }

    /// Waits until `offset` after start (at once if that has passed).
    pub async fn sleep_until(&self, offset: Duration) {
        let left = self.to_real(offset).saturating_sub(self.epoch.elapsed());
        tokio::time::sleep(left).await
    }

    /// Runs `fut` for at most a story duration.
    pub async fn timeout<F: Future>(&self, story: Duration, fut: F) -> Option<F::Output> {
        tokio::time::timeout(self.to_real(story), fut).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test(start_paused = true)]
    async fn story_time_follows_paused_tokio_time_exactly() {
        let clock = Clock::starting_now(datetime!(2024-05-08 20:40 +1), 1.0);
        clock.sleep(Duration::from_secs(4 * 3600 + 180)).await;
        assert_eq!(clock.now(), datetime!(2024-05-09 00:43 +1));
        clock.sleep_until(Duration::from_secs(3600)).await; // in the past: returns at once
        assert_eq!(clock.elapsed(), Duration::from_secs(4 * 3600 + 180));
    }

    #[tokio::test(start_paused = true)]
    async fn scaled_clocks_run_faster() {
        let clock = Clock::starting_now(datetime!(2024-05-08 20:40 +1), 60.0);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(clock.elapsed(), Duration::from_secs(60));
        assert_eq!(
            clock.to_real(Duration::from_secs(15 * 60)),
            Duration::from_secs(15)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn extreme_scales_saturate_instead_of_panicking() {
        let fast = Clock::starting_now(datetime!(2024-05-08 20:40 +1), 1e300);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(fast.elapsed(), Duration::MAX);
        assert_eq!(fast.now().year(), 9999);
        let slow = Clock::starting_now(datetime!(2024-05-08 20:40 +1), 1e-300);
        assert_eq!(slow.to_real(Duration::from_secs(1)), Duration::MAX);
        // A timeout that will never fire, rather than a panic.
        assert!(
            slow.timeout(Duration::from_secs(1), async {})
                .await
                .is_some()
        );
    }
}
