//! Duration strings (`500ms`, `30s`, `5m`, `1h30m`, `2d`): parsing and the compact form used by `describe()`.

use std::time::Duration;

use super::ScheduleError;

/// Parses a sum of `<number><unit>` parts (units `ms`, `s`, `m`, `h`, `d`), e.g. `1h30m`.
pub fn parse_duration(field: &'static str, text: &str) -> Result<Duration, ScheduleError> {
    let bad = |reason: String| ScheduleError::Duration {
        field,
        token: text.to_string(),
        reason,
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad("empty duration".into()));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad(format!("expected a number at `{rest}`")));
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad("number too large".into()))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = |mult: u64| n.checked_mul(mult).map(Duration::from_secs);
        let part = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => secs(1),
            "m" => secs(60),
            "h" => secs(3_600),
            "d" => secs(86_400),
            "" => return Err(bad(format!("missing unit after {n} (use ms, s, m, h or d)"))),
            other => return Err(bad(format!("unknown unit `{other}` (use ms, s, m, h or d)"))),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| bad("duration too large".into()))?;
    }
    Ok(total)
}

/// Formats a duration compactly in the same units the parser accepts (`1h30m`, `500ms`, `0s`).
pub fn format_duration(d: Duration) -> String {
    let mut out = String::new();
    let mut secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    let ms = d.subsec_millis();
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let p = |s| parse_duration("interval", s).unwrap();
        assert_eq!(p("500ms"), Duration::from_millis(500));
        assert_eq!(p("30s"), Duration::from_secs(30));
        assert_eq!(p("5m"), Duration::from_secs(300));
        assert_eq!(p("1h30m"), Duration::from_secs(5_400));
        assert_eq!(p("2d"), Duration::from_secs(172_800));
    }

    #[test]
    fn errors_name_the_field_and_token() {
        let e = parse_duration("jitter", "5x").unwrap_err().to_string();
        assert_eq!(e, "jitter: bad duration `5x`: unknown unit `x` (use ms, s, m, h or d)");
        let e = parse_duration("interval", "10").unwrap_err().to_string();
        assert!(e.contains("missing unit after 10"), "{e}");
        assert!(parse_duration("interval", "").is_err());
        assert!(parse_duration("interval", "m5").is_err());
        assert!(parse_duration("interval", "99999999999999999999s").is_err());
    }

    #[test]
    fn formats_back_compactly() {
        assert_eq!(format_duration(Duration::from_secs(5_400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(1_500)), "1s500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
