//! Timestamps in Go's RFC3339Nano, as dockerd prints them.

use chrono::{DateTime, SecondsFormat, Utc};

/// Go's zero time, which dockerd prints for a container never started or never stopped.
pub const ZERO: &str = "0001-01-01T00:00:00Z";

/// `2026-11-22T01:02:03.1234567Z`: nanoseconds with trailing zeros trimmed, like Go.
pub fn rfc3339_nano(t: &DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // chrono pads to 9 digits; Go trims trailing zeros (and the dot).
    let (head, frac) = match s.find('.') {
        Some(dot) => (&s[..dot], s[dot + 1..].trim_end_matches('Z')),
        None => return s,
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{head}Z")
    } else {
        format!("{head}.{frac}Z")
    }
}

/// Now, in RFC3339Nano.
pub fn now() -> String {
    rfc3339_nano(&Utc::now())
}

/// Parses a docker time argument: RFC3339 (with or without fraction), a unix timestamp
/// with optional fraction (`1700000000.5`), or a duration relative to now (`10m`, `1h30m`, `5s`).
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if value.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    // `secs.nanos`, exactly (an f64 loses the last digits of nanoseconds).
    if let Some((secs, frac)) = value.split_once('.') {
        if let (Ok(secs), true) = (
            secs.parse::<i64>(),
            !frac.is_empty() && frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit()),
        ) {
            let nanos: u32 = format!("{frac:0<9}").parse().unwrap_or(0);
            return DateTime::from_timestamp(secs, nanos);
        }
    }
    if let Ok(secs) = value.parse::<f64>() {
        let whole = secs.trunc() as i64;
        let nanos = ((secs - secs.trunc()) * 1e9).round() as u32;
        return DateTime::from_timestamp(whole, nanos);
    }
    parse_duration(value).map(|d| now - d)
}

/// Go-style durations: `300ms`, `1.5h`, `2h45m`, `10s`.
pub fn parse_duration(value: &str) -> Option<chrono::Duration> {
    let mut total = 0f64;
    let mut rest = value;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += num * scale;
    }
    Some(chrono::Duration::nanoseconds((total * 1e9) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_go() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T01:02:03.120000000Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339_nano(&t), "2026-11-22T01:02:03.12Z");
        let t = DateTime::parse_from_rfc3339("2026-11-22T01:02:03Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339_nano(&t), "2026-11-22T01:02:03Z");
    }

    #[test]
    fn since_forms() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        assert_eq!(parse_since("10s", now).unwrap().timestamp(), 999_990);
        assert_eq!(
            parse_since("1h30m", now).unwrap().timestamp(),
            1_000_000 - 5400
        );
        assert_eq!(parse_since("500", now).unwrap().timestamp(), 500);
        assert_eq!(
            parse_since("1970-01-01T00:01:40Z", now)
                .unwrap()
                .timestamp(),
            100
        );
        assert!(parse_since("yesterday", now).is_none());
        // Nanoseconds are kept exactly.
        let t = parse_since("1795434628.062421317", now).unwrap();
        assert_eq!(
            (t.timestamp(), t.timestamp_subsec_nanos()),
            (1795434628, 62421317)
        );
        assert_eq!(
            parse_since("5.5", now).unwrap().timestamp_subsec_nanos(),
            500_000_000
        );
    }
}
