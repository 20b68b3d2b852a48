//! Cron across the 2026 DST transitions in Europe/Berlin (Mar 29, Oct 25) and America/New_York (Mar 8, Nov 1).

use chrono::{DateTime, Utc};

use super::{CronTrigger, Trigger};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn next(spec: &str, tz: &str, after: &str, n: usize) -> Vec<DateTime<Utc>> {
    Trigger::Cron(CronTrigger::parse(spec, tz).unwrap()).next_n(utc(after), n)
}

const BERLIN: &str = "Europe/Berlin";
const NEW_YORK: &str = "America/New_York";

#[test]
fn berlin_spring_forward_fixed_hour_fires_once_when_the_gap_ends() {
    // 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 does not exist that night.
    let got = next("30 2 * * *", BERLIN, "2026-03-28T00:00:00Z", 3);
    let want = ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"];
    assert_eq!(got, want.map(utc));
    // Two readings inside the gap still give a single fire.
    let got = next("0,30 2 * * *", BERLIN, "2026-03-28T23:00:00Z", 2);
    assert_eq!(got, ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"].map(utc));
    assert_eq!(
        next("0 30 2 * * *", BERLIN, "2026-03-28T23:00:00Z", 1),
        [utc("2026-03-29T01:00:00Z")]
    );
}

#[test]
fn berlin_spring_forward_wildcard_jobs_invent_nothing() {
    let got = next("*/15 * * * *", BERLIN, "2026-03-29T00:30:00Z", 3);
    // 01:45 CET, then 03:00 CEST: the missing hour has no fires.
    assert_eq!(
        got,
        ["2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"].map(utc)
    );
    let got = next("0 * * * *", BERLIN, "2026-03-28T23:30:00Z", 3);
    assert_eq!(
        got,
        ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"].map(utc)
    );
}

#[test]
fn berlin_fall_back_fixed_hour_fires_once_on_the_first_pass() {
    // 03:00 CEST falls back to 02:00 CET at 01:00Z; 02:30 happens at 00:30Z and again at 01:30Z.
    let got = next("30 2 * * *", BERLIN, "2026-10-24T12:00:00Z", 2);
    assert_eq!(got, ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"].map(utc));
    // Asked during the second pass, it does not fire again that day.
    assert_eq!(
        next("30 2 * * *", BERLIN, "2026-10-25T01:10:00Z", 1),
        [utc("2026-10-26T01:30:00Z")]
    );
}

#[test]
fn berlin_fall_back_wildcard_jobs_follow_elapsed_time() {
    let got = next("0 * * * *", BERLIN, "2026-10-24T23:30:00Z", 3);
    // 02:00 CEST, 02:00 CET, 03:00 CET.
    assert_eq!(
        got,
        ["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"].map(utc)
    );
    let got = next("*/15 * * * *", BERLIN, "2026-10-25T00:30:00Z", 6);
    let want = [
        "2026-10-25T00:45:00Z",
        "2026-10-25T01:00:00Z",
        "2026-10-25T01:15:00Z",
        "2026-10-25T01:30:00Z",
        "2026-10-25T01:45:00Z",
        "2026-10-25T02:00:00Z",
    ];
    assert_eq!(got, want.map(utc));
}

#[test]
fn new_york_spring_forward() {
    // 02:00 EST jumps to 03:00 EDT at 07:00Z.
    let got = next("30 2 * * *", NEW_YORK, "2026-03-07T12:00:00Z", 2);
    assert_eq!(got, ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"].map(utc));
    let got = next("*/15 * * * *", NEW_YORK, "2026-03-08T06:40:00Z", 3);
    assert_eq!(
        got,
        ["2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"].map(utc)
    );
    let got = next("0 * * * *", NEW_YORK, "2026-03-08T05:30:00Z", 3);
    assert_eq!(
        got,
        ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"].map(utc)
    );
}

#[test]
fn new_york_fall_back_fixed_one_am_fires_once() {
    // 02:00 EDT falls back to 01:00 EST at 06:00Z; 01:00 happens at 05:00Z and 06:00Z.
    let got = next("0 1 * * *", NEW_YORK, "2026-10-31T12:00:00Z", 2);
    assert_eq!(got, ["2026-11-01T05:00:00Z", "2026-11-02T06:00:00Z"].map(utc));
    assert_eq!(
        next("30 1 * * *", NEW_YORK, "2026-11-01T06:10:00Z", 1),
        [utc("2026-11-02T06:30:00Z")]
    );
}

#[test]
fn new_york_fall_back_wildcard_jobs_fire_in_both_passes() {
    let got = next("0 * * * *", NEW_YORK, "2026-11-01T04:30:00Z", 3);
    assert_eq!(
        got,
        ["2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"].map(utc)
    );
    let got = next("*/15 * * * *", NEW_YORK, "2026-11-01T05:50:00Z", 2);
    assert_eq!(got, ["2026-11-01T06:00:00Z", "2026-11-01T06:15:00Z"].map(utc));
    let got = next("59 * * * *", NEW_YORK, "2026-11-01T05:00:00Z", 2);
    assert_eq!(got, ["2026-11-01T05:59:00Z", "2026-11-01T06:59:00Z"].map(utc));
    // A minute-wildcard job at a fixed hour is wildcard too (cronie's MIN_STAR): it runs on in the second pass.
    let got = next("* 1 * * *", NEW_YORK, "2026-11-01T05:58:30Z", 3);
    assert_eq!(
        got,
        ["2026-11-01T05:59:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:01:00Z"].map(utc)
    );
}

#[test]
fn wildcard_flag_follows_cronie() {
    let w = |spec: &str| CronTrigger::parse(spec, BERLIN).unwrap().is_wildcard();
    assert!(w("*/15 * * * *") && w("0 * * * *") && w("0 */2 * * *") && w("* 2 * * *") && w("@hourly"));
    assert!(!w("30 2 * * *") && !w("0 9-17 * * *") && !w("@daily") && !w("0 0-23/2 * * *"));
}

#[test]
fn wildcard_search_crosses_many_transitions_to_a_leap_day() {
    let got = next("*/30 * 29 2 *", BERLIN, "2026-01-01T00:00:00Z", 2);
    assert_eq!(got, ["2028-02-28T23:00:00Z", "2028-02-28T23:30:00Z"].map(utc));
}

#[test]
fn six_field_wildcard_seconds_cross_the_gap_by_elapsed_time() {
    let got = next("*/30 * * * * *", BERLIN, "2026-03-29T00:59:00Z", 3);
    assert_eq!(
        got,
        ["2026-03-29T00:59:30Z", "2026-03-29T01:00:00Z", "2026-03-29T01:00:30Z"].map(utc)
    );
}
