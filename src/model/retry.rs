//! The retry policy: after a failed attempt, either a delay before the next one (transient
//! errors, attempts left) or `None` (final). Exponential backoff from `base_delay` doubling per
//! attempt, capped at `max_delay`, with ±25 % jitter so a burst of failures does not come back
//! as a burst; a server's `Retry-After` is honored (never retried sooner), up to `max_delay`.

use std::time::Duration;

/// When and whether to try a domain again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before a transient failure becomes final.
    pub max_attempts: u32,
    /// Delay after the first failed attempt.
    pub base_delay: Duration,
    /// Upper bound of any delay, `Retry-After` included.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay before the next attempt, or `None` when this failure is final.
    ///
    /// `attempts` counts the attempt that just failed; `jitter` is uniform in `[0, 1)`.
    pub fn next_delay(
        &self,
        attempts: i32,
        transient: bool,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        if !transient || attempts < 0 || attempts as u32 >= self.max_attempts {
            return None;
        }
        let exponent = (attempts.max(1) - 1).min(30) as u32;
        let backoff = self.base_delay.saturating_mul(1u32 << exponent).min(self.max_delay);
        let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
        let jittered = backoff.mul_f64(factor).min(self.max_delay);
        Some(match retry_after {
            Some(after) => jittered.max(after.min(self.max_delay)),
            None => jittered,
        })
    }
}

/// A value in `[0, 1)` that differs between calls (std's randomly keyed hasher; no RNG crate).
pub fn jitter(seed: i64) -> f64 {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let h = std::collections::hash_map::RandomState::new().hash_one((seed, nanos));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(3600),
    };

    #[test]
    fn permanent_failures_and_exhausted_attempts_are_final() {
        assert_eq!(POLICY.next_delay(1, false, None, 0.5), None);
        assert_eq!(POLICY.next_delay(5, true, None, 0.5), None);
        assert_eq!(POLICY.next_delay(6, true, None, 0.5), None);
    }

    #[test]
    fn backoff_doubles_per_attempt_with_jitter_around_it() {
        assert_eq!(POLICY.next_delay(1, true, None, 0.5), Some(Duration::from_secs(30)));
        assert_eq!(POLICY.next_delay(2, true, None, 0.5), Some(Duration::from_secs(60)));
        assert_eq!(POLICY.next_delay(4, true, None, 0.5), Some(Duration::from_secs(240)));
        assert_eq!(
            POLICY.next_delay(1, true, None, 0.0),
            Some(Duration::from_millis(22_500))
        );
        assert_eq!(
            POLICY.next_delay(1, true, None, 0.999_999),
            Some(Duration::from_micros(37_499_985))
        );
    }

    #[test]
    fn delays_are_capped() {
        let p = RetryPolicy {
            max_attempts: 40,
            ..POLICY
        };
        assert_eq!(p.next_delay(30, true, None, 0.5), Some(Duration::from_secs(3600)));
        assert_eq!(p.next_delay(30, true, None, 0.99), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn retry_after_is_never_undercut_and_is_capped() {
        assert_eq!(
            POLICY.next_delay(1, true, Some(Duration::from_secs(120)), 0.5),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            POLICY.next_delay(1, true, Some(Duration::from_secs(5)), 0.5),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            POLICY.next_delay(1, true, Some(Duration::from_secs(86_400)), 0.5),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let values: Vec<f64> = (0..50).map(jitter).collect();
        assert!(values.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(values.windows(2).any(|w| w[0] != w[1]));
    }
}
