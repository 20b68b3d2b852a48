//! The `cron` trigger: matching wall-clock times in an IANA zone, with cronie's DST rules (see the module docs).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use super::cron_fields::CronFields;
use super::local_time::{first_reaching, local, next_transition, offset};
use super::ScheduleError;

/// How many years ahead a search for the next matching date may look (Feb 29 can be 8 years away).
const SEARCH_YEARS: i32 = 9;
/// Bound on the DST loops; each round passes one offset transition or one skipped local time.
const MAX_ROUNDS: usize = 10_000;

/// A parsed cron expression bound to a timezone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronTrigger {
    pub(crate) fields: CronFields,
    pub(crate) tz: Tz,
    spec: String,
}

/// Parses an IANA timezone name (`UTC`, `Europe/Berlin`).
pub fn parse_timezone(name: &str) -> Result<Tz, ScheduleError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| ScheduleError::Timezone(name.to_string()))
}

impl CronTrigger {
    /// Parses a 5-field (`min hour dom month dow`) or 6-field (seconds first) expression, or an `@alias`.
    pub fn parse(spec: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let fields = CronFields::parse(spec)?;
        let tz = parse_timezone(timezone)?;
        let probe = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        if probe.and_then(|p| next_match(&fields, p)).is_none() {
            return Err(ScheduleError::NeverFires(spec.to_string()));
        }
        Ok(Self {
            fields,
            tz,
            spec: spec.trim().to_string(),
        })
    }

    /// The expression as given.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The zone the fields are read in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// Whether the job follows elapsed time across DST (minute or hour field starts with `*`).
    pub fn is_wildcard(&self) -> bool {
        self.fields.wildcard
    }

    /// The first fire strictly after `after`.
    pub fn next_fire_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.fields.wildcard {
            self.next_wildcard(after)
        } else {
            self.next_fixed(after)
        }
    }

    /// Fixed-time jobs fire when the wall clock first reaches a matching reading (cronie's virtual time):
    /// once in a repeated hour, and at the end of a skipped hour for readings inside it.
    fn next_fixed(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut nt = local(self.tz, after).trunc_subsecs(0) + TimeDelta::seconds(1);
        for _ in 0..MAX_ROUNDS {
            nt = next_match(&self.fields, nt)?;
            let t = first_reaching(self.tz, nt)?;
            if t > after {
                return Some(t);
            }
            // A reading of the repeated hour's second pass: it already fired during the first pass.
            nt += TimeDelta::seconds(1);
        }
        None
    }

    /// Wildcard jobs fire at every instant whose wall-clock reading matches, walking one offset span at a time.
    fn next_wildcard(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut from = after.trunc_subsecs(0) + TimeDelta::seconds(1);
        for _ in 0..MAX_ROUNDS {
            let off = offset(self.tz, from);
            let nt = next_match(&self.fields, from.naive_utc() + off)?;
            let candidate = (nt - off).and_utc();
            match next_transition(self.tz, from, candidate) {
                None => return Some(candidate),
                // No reading in [from, transition) matched; continue with the new offset.
                Some(transition) => from = transition,
            }
        }
        None
    }
}

/// The first wall-clock reading `>= from` (whole seconds) matching every field, within `SEARCH_YEARS`.
pub(crate) fn next_match(f: &CronFields, from: NaiveDateTime) -> Option<NaiveDateTime> {
    let last_year = from.year().checked_add(SEARCH_YEARS)?;
    let mut date = from.date();
    let mut floor = Some(from.time());
    while date.year() <= last_year {
        if !f.month.contains(date.month()) {
            let (y, m) = if date.month() == 12 {
                (date.year() + 1, 1)
            } else {
                (date.year(), date.month() + 1)
            };
            date = NaiveDate::from_ymd_opt(y, m, 1)?;
            floor = None;
            continue;
        }
        if f.day_matches(date) {
            if let Some(t) = first_time(f, floor.unwrap_or(NaiveTime::MIN)) {
                return Some(date.and_time(t));
            }
        }
        date = date.succ_opt()?;
        floor = None;
    }
    None
}

/// The first time of day `>= floor` whose hour, minute and second all match.
fn first_time(f: &CronFields, floor: NaiveTime) -> Option<NaiveTime> {
    let (h0, m0, s0) = (floor.hour(), floor.minute(), floor.second());
    let mut h = f.hour.next_at_or_after(h0)?;
    loop {
        let m_floor = if h == h0 { m0 } else { 0 };
        let mut m = f.minute.next_at_or_after(m_floor);
        while let Some(min) = m {
            let s_floor = if h == h0 && min == m0 { s0 } else { 0 };
            if let Some(s) = f.second.next_at_or_after(s_floor) {
                return NaiveTime::from_hms_opt(h, min, s);
            }
            m = f.minute.next_at_or_after(min + 1);
        }
        h = f.hour.next_at_or_after(h + 1)?;
    }
}
