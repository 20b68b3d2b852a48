//! Normalizes publication dates to ISO 8601 UTC (`2024-01-02T03:04:05Z`).

use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};

/// The date as ISO 8601 UTC with second precision when chrono can read it, else as written.
///
/// Accepted: RFC 3339 (`2024-01-02T03:04:05+02:00`, fractions dropped), the same with a
/// colon-less offset (`+0200`) or without seconds (`2024-01-02T05:04+0200`), RFC 2822, and a date alone (`2024-01-02` → midnight UTC).
pub(super) fn normalize(raw: &str) -> String {
    let s = raw.trim();
    let parsed = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%z"))
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .map(|dt| dt.with_timezone(&Utc))
        .ok()
        .or_else(|| {
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

#[cfg(test)]
mod tests {
    use super::normalize;

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
}
