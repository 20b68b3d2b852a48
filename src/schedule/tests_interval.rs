//! Tests for `interval` and `date` triggers: grid, start/end, minimum, jitter bounds, errors, words.

use chrono::{DateTime, TimeDelta, Utc};

use super::{IntervalTrigger, ScheduleError, Trigger};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn interval(spec: &str, anchor: &str) -> IntervalTrigger {
    IntervalTrigger::parse(spec, utc(anchor)).unwrap()
}

#[test]
fn without_start_the_first_fire_is_one_interval_after_scheduling() {
    let t = Trigger::Interval(interval("5s", "2026-01-01T00:00:00Z"));
    assert_eq!(
        t.first_fire(utc("2026-01-01T00:00:00Z")),
        Some(utc("2026-01-01T00:00:05Z"))
    );
    let got = t.next_n(utc("2026-01-01T00:00:07Z"), 3);
    assert_eq!(
        got,
        [
            utc("2026-01-01T00:00:10Z"),
            utc("2026-01-01T00:00:15Z"),
            utc("2026-01-01T00:00:20Z")
        ]
    );
}

#[test]
fn explicit_start_and_inclusive_end_bound_the_grid() {
    let t = interval("30m", "2025-06-01T00:00:00Z")
        .with_start("2026-01-01T00:00:00Z")
        .unwrap()
        .with_end("2026-01-01T01:00:00+00:00")
        .unwrap();
    let t = Trigger::Interval(t);
    let all = t.next_n(utc("2025-12-31T00:00:00Z"), 10);
    assert_eq!(
        all,
        [
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-01T00:30:00Z"),
            utc("2026-01-01T01:00:00Z")
        ]
    );
    assert_eq!(
        t.next_fire_after(utc("2026-01-01T00:10:00Z")),
        Some(utc("2026-01-01T00:30:00Z"))
    );
    assert_eq!(t.next_fire_after(utc("2026-01-01T01:00:00Z")), None);
    assert_eq!(
        t.first_fire(utc("2026-01-01T00:30:00Z")),
        Some(utc("2026-01-01T00:30:00Z"))
    );
}

#[test]
fn start_in_another_offset_is_the_same_instant() {
    let t = interval("1h", "2025-01-01T00:00:00Z")
        .with_start("2026-03-29T03:00:00+02:00")
        .unwrap();
    assert_eq!(
        t.next_fire_after(utc("2026-03-29T00:00:00Z")),
        Some(utc("2026-03-29T01:00:00Z"))
    );
}

#[test]
fn sub_second_intervals_down_to_100ms() {
    let t = interval("500ms", "2026-01-01T00:00:00Z");
    let got = t.next_fire_after(utc("2026-01-01T00:00:01.2Z"));
    assert_eq!(got, Some(utc("2026-01-01T00:00:01.5Z")));
    assert!(IntervalTrigger::parse("100ms", utc("2026-01-01T00:00:00Z")).is_ok());
    let err = IntervalTrigger::parse("99ms", utc("2026-01-01T00:00:00Z")).unwrap_err();
    assert_eq!(err.to_string(), "interval `99ms` is shorter than the minimum of 100ms");
}

#[test]
fn jitter_stays_within_bounds_keeps_order_and_is_reproducible() {
    let start = utc("2026-01-01T00:00:00Z");
    let t = interval("10s", "2025-01-01T00:00:00Z")
        .with_start("2026-01-01T00:00:00Z")
        .unwrap();
    let jittered = t.clone().with_jitter("3s", 42).unwrap();
    let fires = Trigger::Interval(jittered.clone()).next_n(start - TimeDelta::seconds(1), 1_000);
    assert_eq!(fires.len(), 1_000);
    let mut offsets = Vec::new();
    for (k, fire) in fires.iter().enumerate() {
        let grid = start + TimeDelta::seconds(10 * k as i64);
        let off = *fire - grid;
        assert!(
            off >= TimeDelta::zero() && off < TimeDelta::seconds(3),
            "fire {k} offset {off}"
        );
        offsets.push(off);
    }
    assert!(fires.windows(2).all(|w| w[0] < w[1]));
    assert!(offsets.iter().any(|o| *o < TimeDelta::milliseconds(300)));
    assert!(offsets.iter().any(|o| *o > TimeDelta::milliseconds(2_700)));
    let again = Trigger::Interval(jittered).next_n(start - TimeDelta::seconds(1), 1_000);
    assert_eq!(fires, again, "same seed, same fires");
    let other = Trigger::Interval(t.with_jitter("3s", 7).unwrap()).next_n(start - TimeDelta::seconds(1), 1_000);
    assert_ne!(fires, other, "another seed, other offsets");
}

#[test]
fn jitter_respects_end_and_is_skipped_mid_fire() {
    let t = interval("10s", "2025-01-01T00:00:00Z")
        .with_start("2026-01-01T00:00:00Z")
        .unwrap()
        .with_jitter("5s", 1)
        .unwrap();
    let first = t.next_fire_after(utc("2025-12-31T23:59:59Z")).unwrap();
    // Asking from just before a jittered fire returns that fire, from it the next one.
    assert_eq!(t.next_fire_after(first - TimeDelta::milliseconds(1)), Some(first));
    let second = t.next_fire_after(first).unwrap();
    assert!(second >= utc("2026-01-01T00:00:10Z") && second < utc("2026-01-01T00:00:15Z"));
}

#[test]
fn option_errors_name_the_field_and_token() {
    let base = interval("10s", "2026-01-01T00:00:00Z");
    let e = base.clone().with_jitter("10s", 0).unwrap_err();
    assert_eq!(e.to_string(), "jitter `10s` must be shorter than the interval `10s`");
    let e = base.clone().with_start("yesterday").unwrap_err();
    assert!(e.to_string().starts_with("start: bad instant `yesterday`"), "{e}");
    let e = base.clone().with_end("2020-01-01T00:00:00Z").unwrap_err();
    assert!(matches!(e, ScheduleError::EndBeforeStart { .. }), "{e}");
    let e = IntervalTrigger::parse("5 minutes", utc("2026-01-01T00:00:00Z")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "interval: bad duration `5 minutes`: unknown unit ` minutes` (use ms, s, m, h or d)"
    );
    let e = Trigger::parse("weekly", "x", "UTC", utc("2026-01-01T00:00:00Z")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown trigger kind `weekly` (use interval, cron or date)"
    );
}

#[test]
fn describe_interval_in_words() {
    let t = Trigger::parse("interval", "5s", "UTC", utc("2026-01-01T00:00:00Z")).unwrap();
    assert_eq!(t.describe(), "every 5s");
    let t = interval("1h30m", "2026-01-01T00:00:00Z").with_jitter("30s", 0).unwrap();
    assert_eq!(t.describe(), "every 1h30m with up to 30s jitter");
}

#[test]
fn date_trigger_fires_once_then_is_finished() {
    let t = Trigger::parse("date", "2026-03-29T03:30:00+02:00", "UTC", utc("2026-01-01T00:00:00Z")).unwrap();
    assert_eq!(t.kind(), "date");
    assert_eq!(
        t.next_fire_after(utc("2026-03-29T00:00:00Z")),
        Some(utc("2026-03-29T01:30:00Z"))
    );
    assert_eq!(t.next_fire_after(utc("2026-03-29T01:30:00Z")), None);
    assert_eq!(t.next_n(utc("2026-01-01T00:00:00Z"), 5), [utc("2026-03-29T01:30:00Z")]);
    assert_eq!(t.describe(), "once at 2026-03-29T01:30:00+00:00");
    let e = Trigger::parse("date", "tomorrow", "UTC", utc("2026-01-01T00:00:00Z")).unwrap_err();
    assert!(e.to_string().starts_with("date: bad instant `tomorrow`"), "{e}");
}
