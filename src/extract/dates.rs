//! Normalizes publication dates to ISO 8601 UTC (`2024-01-02T03:04:05Z`), and repairs a
//! structured-data date whose zone was lost (see [`prefer_zoned`]).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound, Utc};

/// The widest UTC offset in use (UTC+14, Line Islands), in seconds.
const MAX_OFFSET_SECS: i64 = 14 * 3600;
/// Every UTC offset in use is a whole number of quarter hours (India +05:30, Nepal +05:45).
const OFFSET_STEP_SECS: i64 = 15 * 60;

/// How a timestamp names its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// `Z`, `+00:00`, `GMT`: UTC, or a local time that naive code stamped as UTC.
    Utc,
    /// An explicit non-zero offset: only code that knew the zone writes one.
    Offset,
    /// No zone at all; read as UTC.
    Unzoned,
}

/// A date and time with a zone as written, in the formats [`normalize`] accepts.
fn parse_zoned(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%z"))
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .ok()
}

/// The instant (to the second) and zone of a timestamp that has a time of day; a date alone
/// cannot show a zone mistake.
fn instant(raw: &str) -> Option<(DateTime<Utc>, Zone)> {
    let s = raw.trim();
    let (at, zone) = match parse_zoned(s) {
        Some(dt) if dt.offset().local_minus_utc() == 0 => (dt.with_timezone(&Utc), Zone::Utc),
        Some(dt) => (dt.with_timezone(&Utc), Zone::Offset),
        None => {
            let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
            (naive.and_utc(), Zone::Unzoned)
        }
    };
    Some((at.trunc_subsecs(0), zone))
}

/// The date as ISO 8601 UTC with second precision when chrono can read it, else as written.
///
/// Accepted: RFC 3339 (`2024-01-02T03:04:05+02:00`, fractions dropped), the same with a
/// colon-less offset (`+0200`) or without seconds (`2024-01-02T05:04+0200`), RFC 2822, and a date alone (`2024-01-02` → midnight UTC).
pub(super) fn normalize(raw: &str) -> String {
    let s = raw.trim();
    let parsed = parse_zoned(s).map(|dt| dt.with_timezone(&Utc)).or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)
            .map(|dt| dt.and_utc())
    });
    match parsed {
        Some(dt) => dt.trunc_subsecs(0).to_rfc3339_opts(SecondsFormat::Secs, true),
        None => s.to_owned(),
    }
}

/// `structured`, unless it is written in UTC or without a zone and a page date from `later`
/// names the same moment with an explicit non-zero offset: then that page date.
///
/// "The same moment" means the two differ by a whole number of quarter hours, at most 14 h,
/// to the second — exactly what a local time stamped as UTC (a naive datetime serialized with
/// a literal `Z`, a common JSON-LD bug) looks like next to the page's correctly zoned value,
/// and what an unrelated date (another article's, a sidebar's) almost never matches. A date in
/// `later` that names `structured`'s instant exactly confirms it, and nothing is replaced.
pub(super) fn prefer_zoned<'a>(structured: &'a str, later: &[&'a str]) -> &'a str {
    let Some((at, _)) = instant(structured).filter(|(_, z)| *z != Zone::Offset) else {
        return structured;
    };
    let later: Vec<_> = later.iter().filter_map(|raw| Some((*raw, instant(raw)?))).collect();
    if later.iter().any(|(_, (other, _))| *other == at) {
        return structured;
    }
    let rezoned = |other: &DateTime<Utc>| {
        let gap = (*other - at).num_seconds().abs();
        gap <= MAX_OFFSET_SECS && gap % OFFSET_STEP_SECS == 0
    };
    later
        .iter()
        .find(|(_, (other, z))| *z == Zone::Offset && rezoned(other))
        .map_or(structured, |(raw, _)| raw)
}

#[cfg(test)]
mod tests {
    use super::{normalize, prefer_zoned};

    #[test]
    fn normalizes_parseable_dates_to_utc() {
        assert_eq!(normalize("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05Z");
        assert_eq!(normalize("2024-01-02T05:04:05.123+02:00"), "2024-01-02T03:04:05Z");
        assert_eq!(normalize("2024-01-02T05:04:05+0200"), "2024-01-02T03:04:05Z");
        assert_eq!(normalize("Tue, 02 Jan 2024 03:04:05 GMT"), "2024-01-02T03:04:05Z");
        assert_eq!(normalize("2024-01-02T05:04+0200"), "2024-01-02T03:04:00Z");
        assert_eq!(normalize("2024-01-02T05:04-05:00"), "2024-01-02T10:04:00Z");
        assert_eq!(normalize(" 2024-01-02 "), "2024-01-02T00:00:00Z");
    }

    #[test]
    fn keeps_unparseable_dates_as_written() {
        assert_eq!(normalize("January 2nd, 2024"), "January 2nd, 2024");
        assert_eq!(normalize("2024-13-45"), "2024-13-45");
    }

    #[test]
    fn a_utc_stamp_off_by_a_zone_yields_to_the_zoned_page_date() {
        let byline = "2020-06-11T13:06:23-07:00";
        assert_eq!(prefer_zoned("2020-06-11T16:06:23Z", &[byline]), byline);
        assert_eq!(prefer_zoned("2020-06-11T16:06:23.512+00:00", &[byline]), byline);
        assert_eq!(
            prefer_zoned("2020-06-11 16:06:23", &["x", "2020-06-11", byline]),
            byline
        );
        let india = "2020-06-02T14:05:00+05:30";
        assert_eq!(
            prefer_zoned("2020-06-02T14:05:00Z", &[india]),
            india,
            "half-hour zones count"
        );
    }

    #[test]
    fn other_disagreements_keep_the_structured_date() {
        let ld = "2020-06-11T16:06:23Z";
        let keep = |later: &[&str]| prefer_zoned(ld, later) == ld;
        assert!(keep(&[]));
        assert!(keep(&["2020-06-11T13:06:24-07:00"]), "a second apart: another event");
        assert!(
            keep(&["2020-06-12T09:06:23+02:00"]),
            "15 h apart: farther than any zone"
        );
        assert!(keep(&["2020-06-10T13:06:23-07:00"]), "a day apart");
        assert!(keep(&["2020-06-11T20:06:23Z"]), "no zone knowledge in a UTC stamp");
        assert!(keep(&["2020-06-11T20:06:23"]), "nor in a bare time");
        assert!(
            keep(&["2020-06-11T12:06:23-04:00", "2020-06-11T13:06:23-07:00"]),
            "confirmed by a source"
        );
        let zoned = "2020-06-11T16:06:23+02:00";
        assert_eq!(
            prefer_zoned(zoned, &["2020-06-11T13:06:23-07:00"]),
            zoned,
            "zoned already"
        );
        assert_eq!(prefer_zoned("June 11", &["2020-06-11T13:06:23-07:00"]), "June 11");
    }
}
