//! Tests for cron parsing and matching in UTC: errors, seconds, ranges/steps/lists, names, aliases, dom/dow, words.

use chrono::{DateTime, Utc};

use super::{CronTrigger, ScheduleError, Trigger};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn cron(spec: &str) -> Trigger {
    Trigger::Cron(CronTrigger::parse(spec, "UTC").unwrap())
}

fn next(spec: &str, after: &str, n: usize) -> Vec<DateTime<Utc>> {
    cron(spec).next_n(utc(after), n)
}

fn err(spec: &str) -> String {
    CronTrigger::parse(spec, "UTC").unwrap_err().to_string()
}

#[test]
fn parse_errors_name_the_field_and_the_token() {
    assert_eq!(
        err("61 * * * *"),
        "cron minute field: bad token `61`: 61 is out of range 0-59"
    );
    assert_eq!(
        err("0 24 * * *"),
        "cron hour field: bad token `24`: 24 is out of range 0-23"
    );
    assert_eq!(
        err("0 0 0 * *"),
        "cron day-of-month field: bad token `0`: 0 is out of range 1-31"
    );
    assert_eq!(
        err("0 0 * foo *"),
        "cron month field: bad token `foo`: `foo` is not a number or a name like `jan`"
    );
    assert_eq!(
        err("0 0 * * mon-funday"),
        "cron day-of-week field: bad token `mon-funday`: `funday` is not a number or a name like `sun`"
    );
    assert_eq!(
        err("*/0 * * * *"),
        "cron minute field: bad token `*/0`: step must be at least 1"
    );
    assert_eq!(
        err("0 5-2 * * *"),
        "cron hour field: bad token `5-2`: range start 5 is after its end 2"
    );
    assert_eq!(
        err("1,,2 * * * *"),
        "cron minute field: bad token `1,,2`: empty list element"
    );
    assert_eq!(
        err("*/x * * * *"),
        "cron minute field: bad token `*/x`: step `x` is not a number"
    );
    assert_eq!(
        err("60 * * * * *"),
        "cron second field: bad token `60`: 60 is out of range 0-59"
    );
    assert_eq!(
        err("* * * *"),
        "cron `* * * *`: 4 fields; expected 5 (min hour dom month dow) or 6 (sec min hour dom month dow)"
    );
    assert!(matches!(CronTrigger::parse("@reboot", "UTC"), Err(ScheduleError::UnknownAlias(a)) if a == "@reboot"));
    assert_eq!(
        err("0 0 30 2 *"),
        "cron `0 0 30 2 *` never fires (no calendar date matches its day and month fields)"
    );
    let tz = CronTrigger::parse("0 0 * * *", "Mars/Olympus").unwrap_err().to_string();
    assert_eq!(
        tz,
        "timezone: unknown IANA name `Mars/Olympus` (e.g. UTC, Europe/Berlin, America/New_York)"
    );
}

#[test]
fn steps_ranges_and_lists() {
    let got = next("*/20 9-10 * * *", "2026-01-01T09:30:00Z", 4);
    let want = [
        "2026-01-01T09:40:00Z",
        "2026-01-01T10:00:00Z",
        "2026-01-01T10:20:00Z",
        "2026-01-01T10:40:00Z",
    ];
    assert_eq!(got, want.map(utc));
    let got = next("5,50 1-23/11 * * *", "2026-01-01T00:00:00Z", 4);
    let want = [
        "2026-01-01T01:05:00Z",
        "2026-01-01T01:50:00Z",
        "2026-01-01T12:05:00Z",
        "2026-01-01T12:50:00Z",
    ];
    assert_eq!(got, want.map(utc));
    // `a/step` runs from a to the field's end.
    let got = next("50/5 0 * * *", "2026-01-01T00:00:00Z", 3);
    assert_eq!(
        got,
        ["2026-01-01T00:50:00Z", "2026-01-01T00:55:00Z", "2026-01-02T00:50:00Z"].map(utc)
    );
}

#[test]
fn six_fields_put_seconds_first() {
    let got = next("*/20 * * * * *", "2026-01-01T00:00:05Z", 3);
    assert_eq!(
        got,
        ["2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"].map(utc)
    );
    let got = next("30 0 3 * * *", "2026-01-01T03:00:30Z", 1);
    assert_eq!(got, [utc("2026-01-02T03:00:30Z")]);
    // Sub-second `after` still returns the next whole second.
    let got = next("* * * * * *", "2026-01-01T00:00:00.5Z", 2);
    assert_eq!(got, ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"].map(utc));
}

#[test]
fn names_are_case_insensitive_and_work_in_ranges() {
    // 2026-01-01 is a Thursday.
    let got = next("0 9 * JAN-mar Mon-Fri", "2026-01-01T09:00:00Z", 3);
    assert_eq!(
        got,
        ["2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"].map(utc)
    );
    let got = next("0 12 * * sat,SUN", "2026-01-01T00:00:00Z", 3);
    assert_eq!(
        got,
        ["2026-01-03T12:00:00Z", "2026-01-04T12:00:00Z", "2026-01-10T12:00:00Z"].map(utc)
    );
    assert_eq!(
        next("0 0 * * 7", "2026-01-01T00:00:00Z", 1),
        next("0 0 * * 0", "2026-01-01T00:00:00Z", 1)
    );
    assert_eq!(
        next("0 0 1 dec *", "2026-01-01T00:00:00Z", 1),
        [utc("2026-12-01T00:00:00Z")]
    );
}

#[test]
fn aliases_expand_to_their_five_fields() {
    let from = "2026-01-01T12:34:56Z";
    assert_eq!(next("@yearly", from, 1), [utc("2027-01-01T00:00:00Z")]);
    assert_eq!(next("@annually", from, 1), [utc("2027-01-01T00:00:00Z")]);
    assert_eq!(next("@monthly", from, 1), [utc("2026-02-01T00:00:00Z")]);
    assert_eq!(next("@weekly", from, 1), [utc("2026-01-04T00:00:00Z")]);
    assert_eq!(next("@daily", from, 1), [utc("2026-01-02T00:00:00Z")]);
    assert_eq!(next("@midnight", from, 1), [utc("2026-01-02T00:00:00Z")]);
    assert_eq!(
        next("@HOURLY", from, 2),
        ["2026-01-01T13:00:00Z", "2026-01-01T14:00:00Z"].map(utc)
    );
}

#[test]
fn restricted_dom_and_dow_fire_on_either() {
    // June 2026: the 1st and 15th are Mondays; Fridays are the 5th, 12th, 19th.
    let got = next("0 0 1,15 * fri", "2026-06-01T00:00:00Z", 4);
    let want = [
        "2026-06-05T00:00:00Z",
        "2026-06-12T00:00:00Z",
        "2026-06-15T00:00:00Z",
        "2026-06-19T00:00:00Z",
    ];
    assert_eq!(got, want.map(utc));
}

#[test]
fn a_dom_field_starting_with_star_makes_both_required() {
    // cronie: `*/2` counts as `*`, so this is "odd days that are Fridays".
    let got = next("0 0 */2 * fri", "2026-06-01T00:00:00Z", 3);
    assert_eq!(
        got,
        ["2026-06-05T00:00:00Z", "2026-06-19T00:00:00Z", "2026-07-03T00:00:00Z"].map(utc)
    );
    let got = next("0 0 * * fri", "2026-06-01T00:00:00Z", 2);
    assert_eq!(got, ["2026-06-05T00:00:00Z", "2026-06-12T00:00:00Z"].map(utc));
}

#[test]
fn leap_day_is_found_years_ahead() {
    assert_eq!(
        next("0 0 29 2 *", "2026-01-01T00:00:00Z", 1),
        [utc("2028-02-29T00:00:00Z")]
    );
}

#[test]
fn describe_cron_in_words() {
    let d = |spec: &str, tz: &str| CronTrigger::parse(spec, tz).unwrap().describe();
    assert_eq!(
        d("0 3 * * mon-fri", "Europe/Berlin"),
        "at 03:00 on Monday through Friday (Europe/Berlin)"
    );
    assert_eq!(d("*/15 * * * *", "UTC"), "every 15 minutes (UTC)");
    assert_eq!(d("0 * * * *", "UTC"), "at minute 0 of every hour (UTC)");
    assert_eq!(
        d("30 2 * * *", "America/New_York"),
        "at 02:30 every day (America/New_York)"
    );
    assert_eq!(d("*/10 * * * * *", "UTC"), "every 10 seconds (UTC)");
    assert_eq!(
        d("0 0 1,15 * fri", "UTC"),
        "at 00:00 on day-of-month 1,15 or on Friday (UTC)"
    );
    assert_eq!(
        d("0 9-17 * jan-mar *", "UTC"),
        "at minute 0 during hour 9-17 in January through March (UTC)"
    );
    assert_eq!(d("@weekly", "UTC"), "at 00:00 on Sunday (UTC)");
}
