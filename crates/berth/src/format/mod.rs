//! Docker's output conventions: tables, humanized values, IDs, templates.

pub mod tabwriter;
pub mod template;
pub mod units;

/// An ID without `sha256:`, truncated to 12 characters.
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(12).collect()
}

/// `stringutils.Ellipsis`: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The `COMMAND` column: quoted, truncated to 20 characters unless `--no-trunc`.
pub fn command_column(command: &str, trunc: bool) -> String {
    let c = if trunc {
        ellipsis(command, 20)
    } else {
        command.to_string()
    };
    // Go's strconv.Quote.
    serde_json::to_string(&c).unwrap_or_default()
}

/// `inspect` output: a JSON array indented with 4 spaces, like docker.
pub fn indent_json(v: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("serializing JSON to memory cannot fail");
    String::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_commands() {
        assert_eq!(short_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(command_column("sleep 1000", true), "\"sleep 1000\"");
        assert_eq!(
            command_column("sh -c 'while true; do sleep 1; done'", true),
            "\"sh -c 'while true; …\""
        );
        assert_eq!(ellipsis("12345678901234567890", 20), "12345678901234567890");
        assert_eq!(command_column("a\"b", false), "\"a\\\"b\"");
    }

    #[test]
    fn inspect_indent() {
        let v = serde_json::json!([{"Id": "x", "Config": {"Env": [], "Labels": {}}, "N": 1}]);
        assert_eq!(
            indent_json(&v),
            "[\n    {\n        \"Id\": \"x\",\n        \"Config\": {\n            \"Env\": [],\n            \"Labels\": {}\n        },\n        \"N\": 1\n    }\n]"
        );
    }
}
