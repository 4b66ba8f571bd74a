//! The retry model (docs/FACTS.md, "The retry model the simulator uses"). Pure arithmetic on
//! story offsets; the queue asks it when to try next and when notices are due.

use std::time::Duration;

use mxlab_scenario::model::Transport;
use mxlab_vocab::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Refused, timed out or unreachable: OutboundConnectionFailureRetryInterval applies.
    Connection,
    /// Anything else temporary: a 4xx reply, a DNS failure, a dropped session.
    Transient,
}

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub transient_interval: Duration,
    pub transient_count: u32,
    pub message_retry_interval: Duration,
    pub connection_failure_interval: Duration,
    pub delay_notification: Duration,
    pub expiration: Duration,
}

impl From<&Transport> for Policy {
    fn from(t: &Transport) -> Self {
        Policy {
            transient_interval: t.transient_failure_retry_interval.get(),
            transient_count: t.transient_failure_retry_count,
            message_retry_interval: t.message_retry_interval.get(),
            connection_failure_interval: t.outbound_connection_failure_retry_interval.get(),
            delay_notification: t.delay_notification_timeout.get(),
            expiration: t.message_expiration_timeout.get(),
        }
    }
}

impl Policy {
    /// When the next attempt starts, counted from the start of the failed one (so the
    /// schedule stays on its grid however long an attempt takes). `transient_retries` is how
    /// many transient-interval retries were already scheduled for this message.
    pub fn next_attempt(
        &self,
        failed_start: Duration,
        kind: FailureKind,
        transient_retries: u32,
    ) -> Duration {
        let interval = match kind {
            FailureKind::Connection => self.connection_failure_interval,
            FailureKind::Transient if transient_retries < self.transient_count => {
                self.transient_interval
            }
            FailureKind::Transient => self.message_retry_interval,
        };
        failed_start + interval
    }

    /// Whether an attempt starting at `start` is the one that generates the delay DSN.
    pub fn delay_dsn_due(&self, arrival: Duration, start: Duration) -> bool {
        start >= arrival + self.delay_notification
    }

    pub fn expiry(&self, arrival: Duration) -> Duration {
        arrival + self.expiration
    }
}

/// Exchange's own phrase for the time left, "1 days, 19 hours and 57 minutes" (sic: always
/// plural, as the English original writes it), or its Japanese "1日と19時間57分".
pub fn exchange_time_left(left: Duration, lang: Lang) -> String {
    crate::notice_text::time_left(left.as_secs() / 60, lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exchange() -> Policy {
        Policy::from(&Transport::default())
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn the_seed_arithmetic() {
        let p = exchange();
        // First attempt at +3 min, connection failures every 10 min: the first attempt at or
        // after +4 h is at +4 h 03 min, leaving 43 h 57 min of the 48.
        let mut t = 3 * MIN;
        while !p.delay_dsn_due(Duration::ZERO, t) {
            t = p.next_attempt(t, FailureKind::Connection, 0);
        }
        assert_eq!(t, 243 * MIN);
        assert_eq!(
            exchange_time_left(p.expiry(Duration::ZERO) - t, Lang::En),
            "1 days, 19 hours and 57 minutes"
        );
        assert_eq!(
            exchange_time_left(p.expiry(Duration::ZERO) - t, Lang::Ja),
            "1日と19時間57分"
        );
    }

    #[test]
    fn transient_retries_then_message_retry_interval() {
        let p = Policy {
            message_retry_interval: 15 * MIN,
            ..exchange()
        };
        assert_eq!(p.next_attempt(MIN, FailureKind::Transient, 5), 6 * MIN);
        assert_eq!(p.next_attempt(MIN, FailureKind::Transient, 6), 16 * MIN);
        assert_eq!(p.next_attempt(MIN, FailureKind::Connection, 0), 11 * MIN);
    }

    proptest! {
        #[test]
        fn the_delay_dsn_falls_on_the_attempt_grid(latency in 0u32..30, interval in prop::sample::select(vec![5u32, 10, 15])) {
            let p = Policy { connection_failure_interval: interval * MIN, ..exchange() };
            let mut t = latency * MIN;
            while !p.delay_dsn_due(Duration::ZERO, t) {
                t = p.next_attempt(t, FailureKind::Connection, 0);
            }
            prop_assert!(t >= 4 * 60 * MIN && t < 4 * 60 * MIN + interval * MIN);
            prop_assert_eq!((t.as_secs() / 60 - u64::from(latency)) % u64::from(interval), 0);
        }
    }
}
