//! Wall-clock arithmetic in an IANA zone: offsets, offset transitions, and the first instant a local time is reached.

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// How far apart the offset probes are when looking for a transition; real zones never change twice within it.
const PROBE_STEP: TimeDelta = TimeDelta::hours(1);
/// Larger than any UTC offset (±14 h) plus any DST shift, so a window this wide brackets every local time.
const OFFSET_BOUND: TimeDelta = TimeDelta::hours(16);

/// The zone's UTC offset at instant `t`.
pub(crate) fn offset(tz: Tz, t: DateTime<Utc>) -> TimeDelta {
    let secs = tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
    TimeDelta::seconds(i64::from(secs))
}

/// The wall-clock reading at `t`.
pub(crate) fn local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc() + offset(tz, t)
}

/// The first instant in `(from, to]` whose offset differs from the offset at `from`.
pub(crate) fn next_transition(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let base = offset(tz, from);
    let mut prev = from;
    while prev < to {
        let probe = (prev + PROBE_STEP).min(to);
        if offset(tz, probe) != base {
            return Some(bisect(prev, probe, |t| offset(tz, t) != base));
        }
        prev = probe;
    }
    None
}

/// The earliest instant at which the wall clock has reached `nt`: the earlier of two readings in a repeated
/// (fall-back) hour, or the end of the gap when `nt` falls into a skipped (spring-forward) hour.
pub(crate) fn first_reaching(tz: Tz, nt: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&nt) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        chrono::LocalResult::None => {
            let reached = |t: DateTime<Utc>| local(tz, t) >= nt;
            let mut prev = Utc.from_utc_datetime(&nt).checked_sub_signed(OFFSET_BOUND)?;
            let end = Utc.from_utc_datetime(&nt).checked_add_signed(OFFSET_BOUND)?;
            while prev < end {
                let probe = prev + PROBE_STEP;
                if reached(probe) {
                    return Some(bisect(prev, probe, reached));
                }
                prev = probe;
            }
            None
        }
    }
}

/// The first whole second in `(lo, hi]` where `hit` holds, given `hit(lo)` is false and `hit(hi)` is true.
fn bisect(mut lo: DateTime<Utc>, mut hi: DateTime<Utc>, hit: impl Fn(DateTime<Utc>) -> bool) -> DateTime<Utc> {
    while hi - lo > TimeDelta::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if hit(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn finds_the_2026_transitions_to_the_second() {
        let berlin = chrono_tz::Europe::Berlin;
        let from = utc("2026-03-28T12:00:00Z");
        assert_eq!(
            next_transition(berlin, from, utc("2026-04-01T00:00:00Z")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
        let ny = chrono_tz::America::New_York;
        let from = utc("2026-10-31T00:00:00Z");
        assert_eq!(
            next_transition(ny, from, utc("2026-11-02T00:00:00Z")),
            Some(utc("2026-11-01T06:00:00Z"))
        );
        assert_eq!(next_transition(ny, from, utc("2026-11-01T05:59:59Z")), None);
    }

    #[test]
    fn a_skipped_local_time_is_reached_when_the_gap_ends() {
        let nt = NaiveDateTime::parse_from_str("2026-03-08 02:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            first_reaching(chrono_tz::America::New_York, nt),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        let nt = NaiveDateTime::parse_from_str("2026-11-01 01:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            first_reaching(chrono_tz::America::New_York, nt),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }
}
