//! Percent-decoding and query strings, as Go's `net/url` does them for dockerd.
//!
//! Reading a parameter never fails on the spot: the first error is kept and reported
//! after the path has matched and the API version was checked, because dockerd answers
//! an unknown path with 404 and a bad version with 400 before it looks at the query.

use crate::error::ApiError;
use crate::filters::Filters;

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in a query).
/// Invalid escapes are an error, with Go's message; non-UTF-8 results are decoded lossily.
pub(crate) fn unescape(s: &str, plus_is_space: bool) -> Result<String, ApiError> {
    if !s.contains(['%', '+']) {
        return Ok(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    (Some(hi), Some(lo)) => {
                        // Two hex digits are at most 0xff.
                        out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                        i += 3;
                    }
                    _ => {
                        let bad = String::from_utf8_lossy(&bytes[i..bytes.len().min(i + 3)]);
                        return Err(ApiError::invalid(format!("invalid URL escape {bad:?}")));
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// A parsed query string: every `key=value` pair in order (a key may repeat).
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
    error: Option<ApiError>,
}

impl Query {
    /// Parses like Go's `url.ParseQuery`: pairs split on `&`, empty pairs skipped, a
    /// pair with `;` rejected, keys and values unescaped; bad pairs are dropped and the
    /// first error is kept.
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let mut q = Query::default();
        for pair in raw.unwrap_or("").split('&') {
            if pair.contains(';') {
                q.fail(ApiError::invalid("invalid semicolon separator in query"));
                continue;
            }
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (unescape(k, true), unescape(v, true)) {
                (Ok(k), Ok(v)) => q.pairs.push((k, v)),
                (Err(e), _) | (_, Err(e)) => q.fail(e),
            }
        }
        q
    }

    /// Keeps the first error.
    pub(crate) fn fail(&mut self, err: ApiError) {
        self.error.get_or_insert(err);
    }

    /// The first error met while parsing or reading parameters.
    pub(crate) fn into_error(self) -> Option<ApiError> {
        self.error
    }

    /// The first value of `key` (Go's `Form.Get`), or "" when absent.
    pub(crate) fn get(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `key`; `None` when absent or empty, since dockerd reads
    /// parameters with `Form.Get` and cannot tell the two apart.
    pub(crate) fn string(&self, key: &str) -> Option<String> {
        Some(self.get(key))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Every non-empty value of a repeatable `key` (`changes`, `names`), in order.
    pub(crate) fn strings(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// dockerd's `httputils.BoolValue`: false for "", "0", "no", "false", "none"
    /// (trimmed, any case), true for anything else.
    pub(crate) fn flag(&self, key: &str) -> bool {
        let v = self.get(key).trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
    }

    /// An optional signed integer (`t`, `limit`); invalid → 400.
    pub(crate) fn int(&mut self, key: &str) -> Option<i64> {
        let v = self.get(key);
        if v.is_empty() {
            return None;
        }
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                let err = ApiError::invalid(format!("invalid {key} {v:?}: not an integer"));
                self.fail(err);
                None
            }
        }
    }

    /// An optional terminal dimension (`h`, `w`), dockerd's `Uint32Value`; invalid → 400
    /// `invalid resize height "x"` as dockerd.
    pub(crate) fn size(&mut self, key: &str, what: &str) -> Option<u32> {
        let v = self.get(key);
        if v.is_empty() {
            return None;
        }
        // Go's ParseUint takes no sign.
        match v.parse().ok().filter(|_| !v.starts_with('+')) {
            Some(n) => Some(n),
            None => {
                let err = ApiError::invalid(format!(
                    "invalid resize {what} {v:?}: not an unsigned 32-bit integer"
                ));
                self.fail(err);
                None
            }
        }
    }

    /// The `filters` parameter; malformed → 400.
    pub(crate) fn filters(&mut self) -> Filters {
        match Filters::parse(self.get("filters")) {
            Ok(f) => f,
            Err(err) => {
                self.fail(err);
                Filters::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_path_and_query() {
        assert_eq!(unescape("a%2Fb%3Ac", false).unwrap(), "a/b:c");
        assert_eq!(unescape("a+b", false).unwrap(), "a+b");
        assert_eq!(unescape("a+b%2B", true).unwrap(), "a b+");
        assert_eq!(unescape("%e2%9C%93", false).unwrap(), "✓");
        assert_eq!(unescape("%ff", false).unwrap(), "\u{fffd}");
        for bad in ["%", "%z1", "a%4", "%%"] {
            let err = unescape(bad, true).unwrap_err();
            assert_eq!(err.status(), 400);
            assert!(err.message().starts_with("invalid URL escape"), "{bad}");
        }
        assert_eq!(
            unescape("%zz", true).unwrap_err().message(),
            r#"invalid URL escape "%zz""#
        );
    }

    #[test]
    fn parse_pairs() {
        let q = Query::parse(Some("a=1&&b&c=x+y&a=2&d=%41"));
        assert_eq!(q.get("a"), "1");
        assert_eq!(q.get("b"), "");
        assert_eq!(q.get("c"), "x y");
        assert_eq!(q.get("d"), "A");
        assert_eq!(q.get("missing"), "");
        assert_eq!(q.strings("a"), ["1", "2"]);
        assert!(q.into_error().is_none());
    }

    #[test]
    fn semicolons_and_bad_escapes_are_400() {
        let q = Query::parse(Some("a=1;b=2&c=3"));
        assert_eq!(q.get("c"), "3");
        assert_eq!(
            q.into_error().unwrap().message(),
            "invalid semicolon separator in query"
        );
        let q = Query::parse(Some("a=%zz&b=1"));
        assert_eq!(q.get("b"), "1");
        assert_eq!(q.into_error().unwrap().status(), 400);
    }

    #[test]
    fn flags_like_dockerd() {
        for (v, want) in [
            ("1", true),
            ("true", true),
            ("True", true),
            ("yes", true),
            ("anything", true),
            ("", false),
            ("0", false),
            ("no", false),
            ("FALSE", false),
            ("None", false),
            (" false ", false),
        ] {
            let q = Query::parse(Some(&format!("x={}", v.replace(' ', "+"))));
            assert_eq!(q.flag("x"), want, "{v:?}");
        }
        assert!(!Query::parse(None).flag("x"));
    }

    #[test]
    fn integers() {
        let mut q = Query::parse(Some("t=10&n=-1&p=%2B3&e="));
        assert_eq!(q.int("t"), Some(10));
        assert_eq!(q.int("n"), Some(-1));
        assert_eq!(q.int("p"), Some(3));
        assert_eq!(q.int("e"), None);
        assert_eq!(q.int("missing"), None);
        assert!(q.into_error().is_none());

        let mut q = Query::parse(Some("t=ten"));
        assert_eq!(q.int("t"), None);
        assert_eq!(
            q.into_error().unwrap().message(),
            r#"invalid t "ten": not an integer"#
        );

        let mut q = Query::parse(Some("h=24&w=-1"));
        assert_eq!(q.size("h", "height"), Some(24));
        assert_eq!(q.size("w", "width"), None);
        assert_eq!(
            q.into_error().unwrap().message(),
            r#"invalid resize width "-1": not an unsigned 32-bit integer"#
        );
        let mut q = Query::parse(Some("h=%2B1"));
        assert_eq!(q.size("h", "height"), None);
        assert!(q.into_error().is_some());
    }
}
