//! The `interval` trigger: fire times on a fixed grid `start + k·every`, with optional end and seeded jitter.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::duration::{format_duration, parse_duration};
use super::ScheduleError;

const NANOS_PER_SEC: i128 = 1_000_000_000;
/// Shortest accepted interval.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Fires every `every`, on a grid anchored at `start`; see the module docs for the exact rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalTrigger {
    every: Duration,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    jitter: Option<Duration>,
    jitter_seed: u64,
}

/// Parses an RFC 3339 instant, naming `field` in the error.
pub(crate) fn parse_instant(field: &'static str, text: &str) -> Result<DateTime<Utc>, ScheduleError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ScheduleError::Instant {
            field,
            token: text.to_string(),
            reason: e.to_string(),
        })
}

/// Adds a signed number of nanoseconds to an instant, `None` on overflow.
pub(crate) fn add_nanos(t: DateTime<Utc>, nanos: i128) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(NANOS_PER_SEC)).ok()?;
    t.checked_add_signed(TimeDelta::new(secs, sub)?)
}

/// Signed nanoseconds from `a` to `b`.
pub(crate) fn nanos_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i128 {
    let d = b - a;
    i128::from(d.num_seconds()) * NANOS_PER_SEC + i128::from(d.subsec_nanos())
}

/// SplitMix64: a well-mixed 64-bit value per (seed, index), so jitter is reproducible across restarts.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl IntervalTrigger {
    /// Parses the interval spec; without `with_start` the grid is `first_scheduled_at + k·every` for k ≥ 1.
    pub fn parse(spec: &str, first_scheduled_at: DateTime<Utc>) -> Result<Self, ScheduleError> {
        let every = parse_duration("interval", spec)?;
        if every < MIN_INTERVAL {
            return Err(ScheduleError::IntervalTooShort(spec.to_string()));
        }
        let start = first_scheduled_at
            .checked_add_signed(TimeDelta::from_std(every).map_err(|_| ScheduleError::IntervalTooShort(spec.into()))?)
            .unwrap_or(first_scheduled_at);
        Ok(Self {
            every,
            start,
            end: None,
            jitter: None,
            jitter_seed: 0,
        })
    }

    /// Sets an explicit first fire time (RFC 3339); the grid becomes `start + k·every` for k ≥ 0.
    pub fn with_start(mut self, text: &str) -> Result<Self, ScheduleError> {
        self.start = parse_instant("start", text)?;
        self.check_end()?;
        Ok(self)
    }

    /// Sets the last instant (RFC 3339, inclusive) at which the trigger may fire.
    pub fn with_end(mut self, text: &str) -> Result<Self, ScheduleError> {
        self.end = Some(parse_instant("end", text)?);
        self.check_end()?;
        Ok(self)
    }

    /// Delays each fire by a pseudo-random amount in `[0, jitter)` derived from `seed` and the fire's index.
    pub fn with_jitter(mut self, text: &str, seed: u64) -> Result<Self, ScheduleError> {
        let jitter = parse_duration("jitter", text)?;
        if jitter >= self.every {
            return Err(ScheduleError::JitterTooLarge {
                jitter: text.to_string(),
                interval: format_duration(self.every),
            });
        }
        self.jitter = (!jitter.is_zero()).then_some(jitter);
        self.jitter_seed = seed;
        Ok(self)
    }

    fn check_end(&self) -> Result<(), ScheduleError> {
        match self.end {
            Some(end) if end < self.start => Err(ScheduleError::EndBeforeStart {
                start: self.start.to_rfc3339(),
                end: end.to_rfc3339(),
            }),
            _ => Ok(()),
        }
    }

    /// The period between grid points.
    pub fn every(&self) -> Duration {
        self.every
    }

    /// The first grid point (fire index 0, before jitter).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    fn every_nanos(&self) -> i128 {
        i128::try_from(self.every.as_nanos()).unwrap_or(i128::MAX)
    }

    /// The jitter added to fire number `k`, in nanoseconds, always below the jitter bound.
    fn offset_nanos(&self, k: u64) -> i128 {
        match self.jitter {
            None => 0,
            Some(j) => {
                let scaled = (j.as_nanos() * u128::from(mix(self.jitter_seed, k))) >> 64;
                i128::try_from(scaled).unwrap_or(0)
            }
        }
    }

    /// Fire number `k` (jitter included), ignoring `end`.
    pub(crate) fn fire(&self, k: u64) -> Option<DateTime<Utc>> {
        add_nanos(self.start, i128::from(k) * self.every_nanos() + self.offset_nanos(k))
    }

    /// The index of the last fire at or before `t`, if any (jitter is below `every`, so fires keep grid order).
    /// Instants past `end` count as `end`, since no fire exists beyond it.
    pub(crate) fn index_at_or_before(&self, t: DateTime<Utc>) -> Option<u64> {
        let t = self.end.map_or(t, |end| t.min(end));
        let d = nanos_between(self.start, t);
        if d < 0 {
            return None;
        }
        let k = u64::try_from(d / self.every_nanos()).ok()?;
        match self.fire(k) {
            Some(f) if f <= t => Some(k),
            _ => k.checked_sub(1),
        }
    }

    /// The first fire strictly after `after`, or `None` once past `end`.
    pub fn next_fire_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let k = match self.index_at_or_before(after) {
            None => 0,
            Some(k) => k.checked_add(1)?,
        };
        let fire = self.fire(k)?;
        match self.end {
            Some(end) if fire > end => None,
            _ => Some(fire),
        }
    }

    /// Words for humans, e.g. `every 5s` or `every 1h from 2026-01-01T00:00:00+00:00 with up to 30s jitter`.
    pub fn describe(&self) -> String {
        let mut out = format!("every {}", format_duration(self.every));
        if let Some(end) = self.end {
            out.push_str(&format!(" until {}", end.to_rfc3339()));
        }
        if let Some(j) = self.jitter {
            out.push_str(&format!(" with up to {} jitter", format_duration(j)));
        }
        out
    }
}
