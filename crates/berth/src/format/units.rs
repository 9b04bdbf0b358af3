//! go-units: humanized durations and sizes as docker prints them.

use std::time::Duration;

/// `units.HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let seconds = secs as i64;
    let minutes = (secs / 60.0) as i64;
    let hours = (secs / 3600.0 + 0.5) as i64;
    if seconds < 1 {
        "Less than a second".into()
    } else if seconds == 1 {
        "1 second".into()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", (secs / 3600.0) as i64 / 24 / 365)
    }
}

/// `HumanDuration(now - t) + " ago"` for a unix timestamp.
pub fn ago(unix: i64, now: i64) -> String {
    format!(
        "{} ago",
        human_duration(Duration::from_secs(now.saturating_sub(unix).max(0) as u64))
    )
}

/// Go's `%.{prec}g`.
pub fn format_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    let sci = format!("{:.*e}", prec - 1, x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `units.HumanSizeWithPrecision(size, 3)` (decimal units).
pub fn human_size(size: f64) -> String {
    human_size_prec(size, 3)
}

/// `units.HumanSizeWithPrecision(size, prec)`; `units.HumanSize` is precision 4.
pub fn human_size_prec(size: f64, prec: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut s = size;
    let mut i = 0;
    while s >= 1000.0 && i < UNITS.len() - 1 {
        s /= 1000.0;
        i += 1;
    }
    format!("{}{}", format_g(s, prec), UNITS[i])
}

/// `units.BytesSize` (binary units, `%.4g`), used by `info`.
pub fn bytes_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut s = size;
    let mut i = 0;
    while s >= 1024.0 && i < UNITS.len() - 1 {
        s /= 1024.0;
        i += 1;
    }
    format!("{}{}", format_g(s, 4), UNITS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |s| human_duration(Duration::from_secs(s));
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(d(1), "1 second");
        assert_eq!(d(5), "5 seconds");
        assert_eq!(d(59), "59 seconds");
        assert_eq!(d(60), "About a minute");
        assert_eq!(d(119), "About a minute");
        assert_eq!(d(180), "3 minutes");
        assert_eq!(d(3599), "59 minutes");
        assert_eq!(d(3600), "About an hour");
        assert_eq!(d(2 * 3600), "2 hours");
        assert_eq!(d(47 * 3600), "47 hours");
        assert_eq!(d(3 * 86400), "3 days");
        assert_eq!(d(20 * 86400), "2 weeks");
        assert_eq!(d(90 * 86400), "3 months");
        assert_eq!(d(800 * 86400), "2 years");
        assert_eq!(ago(100, 103), "3 seconds ago");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(4_261_000.0), "4.26MB");
        assert_eq!(human_size(4_265_000.0), "4.26MB");
        assert_eq!(human_size(5_000_000.0), "5MB");
        assert_eq!(human_size(123_456_789.0), "123MB");
        assert_eq!(human_size(1_234_567_890.0), "1.23GB");
        assert_eq!(human_size(999_900.0), "1e+03kB");
        assert_eq!(bytes_size(2.0 * 1024.0 * 1024.0 * 1024.0), "2GiB");
        assert_eq!(bytes_size(16_777_216_000.0), "15.62GiB");
    }

    #[test]
    fn go_g_format() {
        assert_eq!(format_g(4.0, 3), "4");
        assert_eq!(format_g(4.256, 3), "4.26");
        assert_eq!(format_g(0.0001234, 3), "0.000123");
        assert_eq!(format_g(0.00001234, 3), "1.23e-05");
    }
}
