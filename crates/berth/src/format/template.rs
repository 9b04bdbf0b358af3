//! `--format` Go templates with docker's extra functions, the `table` prefix and
//! JSON that keeps dockerd's field order.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use gotmpl::{Template, Value};

/// A template that could not be parsed or run.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Parse error (docker: `template parsing error: …`).
    #[error("template parsing error: {0}")]
    Parse(String),
    /// Execution error.
    #[error("template: {0}")]
    Exec(String),
}

thread_local! {
    /// Maps and lists built from JSON, by address, to their original (ordered) JSON.
    static ORIGINALS: RefCell<HashMap<usize, serde_json::Value>> = RefCell::new(HashMap::new());
}

/// Converts JSON into template data, remembering each object's field order for `json`.
pub fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(a) => {
            let list: Arc<[Value]> = a.iter().map(to_value).collect();
            ORIGINALS.with(|o| o.borrow_mut().insert(list.as_ptr() as usize, v.clone()));
            Value::List(list)
        }
        serde_json::Value::Object(m) => {
            let map: BTreeMap<Arc<str>, Value> = m
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), to_value(v)))
                .collect();
            let map = Arc::new(map);
            ORIGINALS.with(|o| o.borrow_mut().insert(Arc::as_ptr(&map) as usize, v.clone()));
            Value::Map(map)
        }
    }
}

/// Converts template data back into JSON (the original when it came from JSON).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Uint(u) => (*u).into(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => ORIGINALS
            .with(|o| o.borrow().get(&(l.as_ptr() as usize)).cloned())
            .unwrap_or_else(|| l.iter().map(to_json).collect()),
        Value::Map(m) => ORIGINALS
            .with(|o| o.borrow().get(&(Arc::as_ptr(m) as usize)).cloned())
            .unwrap_or_else(|| {
                serde_json::Value::Object(
                    m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect(),
                )
            }),
        Value::Function(_) => serde_json::Value::Null,
    }
}

fn as_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Nil => String::new(),
        other => other.to_string(),
    }
}

fn str_value(s: impl AsRef<str>) -> Value {
    Value::String(s.as_ref().into())
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if !prev_letter && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

fn with_docker_funcs(t: Template) -> Template {
    t.func("json", |a| {
        let v = to_json(&arg(a, 0));
        Ok(str_value(serde_json::to_string(&v).unwrap_or_default()))
    })
    .func("join", |a| {
        let sep = as_string(&arg(a, 1));
        let items: Vec<String> = match &arg(a, 0) {
            Value::List(l) => l.iter().map(as_string).collect(),
            Value::Nil => vec![],
            other => vec![as_string(other)],
        };
        Ok(str_value(items.join(&sep)))
    })
    .func("split", |a| {
        let s = as_string(&arg(a, 0));
        let sep = as_string(&arg(a, 1));
        let parts: Vec<Value> = if sep.is_empty() {
            s.chars().map(|c| str_value(c.to_string())).collect()
        } else {
            s.split(sep.as_str()).map(str_value).collect()
        };
        Ok(Value::List(parts.into()))
    })
    .func("lower", |a| {
        Ok(str_value(as_string(&arg(a, 0)).to_lowercase()))
    })
    .func("upper", |a| {
        Ok(str_value(as_string(&arg(a, 0)).to_uppercase()))
    })
    .func("title", |a| Ok(str_value(title(&as_string(&arg(a, 0))))))
    .func("pad", |a| {
        let s = as_string(&arg(a, 0));
        let pre = arg(a, 1).as_int().unwrap_or(0).max(0) as usize;
        let post = arg(a, 2).as_int().unwrap_or(0).max(0) as usize;
        Ok(str_value(format!(
            "{}{s}{}",
            " ".repeat(pre),
            " ".repeat(post)
        )))
    })
    .func("truncate", |a| {
        let s = as_string(&arg(a, 0));
        let n = arg(a, 1).as_int().unwrap_or(0).max(0) as usize;
        Ok(str_value(if s.chars().count() < n {
            s
        } else {
            s.chars().take(n).collect()
        }))
    })
    .func("berth_label", |a| {
        // `.Label "key"` on ps/images rows (rewritten by `prepare`).
        Ok(match arg(a, 0) {
            Value::Map(m) => m
                .get(as_string(&arg(a, 1)).as_str())
                .cloned()
                .unwrap_or(str_value("")),
            Value::String(header) => Value::String(header),
            _ => str_value(""),
        })
    })
}

/// Header functions: keep the header text intact (docker's `HeaderFunctions`).
fn with_header_funcs(t: Template) -> Template {
    let first_string = |a: &[Value]| {
        Ok(a.iter()
            .find(|v| matches!(v, Value::String(_)))
            .cloned()
            .unwrap_or(Value::Nil))
    };
    let mut t = t;
    for name in [
        "json", "join", "split", "lower", "upper", "title", "pad", "truncate",
    ] {
        t = t.func(name, first_string);
    }
    t.func("berth_label", |a| {
        Ok(match arg(a, 0) {
            Value::String(h) => Value::String(h),
            _ => str_value("LABEL"),
        })
    })
}

/// Docker's preprocessing: `\t` and `\n` escapes, `.Label "k"` calls.
fn prepare(src: &str) -> String {
    src.replace("\\t", "\t")
        .replace("\\n", "\n")
        .replace(".Label \"", "berth_label .LabelMap \"")
}

/// A parsed `--format` value.
pub struct Format {
    /// Started with `table`.
    pub table: bool,
    row: Template,
    header: Option<Template>,
}

impl Format {
    /// Parses a format; `table` alone (or empty) selects `default_table`.
    pub fn parse(format: &str, default_table: &str) -> Result<Format, TemplateError> {
        let trimmed = format.trim_start();
        let (table, body) = if let Some(rest) = trimmed.strip_prefix("table") {
            let rest = rest.trim_matches(' ');
            let body = if rest.is_empty() {
                default_table
                    .strip_prefix("table")
                    .unwrap_or(default_table)
                    .trim_matches(' ')
            } else {
                rest
            };
            (true, body.to_string())
        } else {
            (false, format.to_string())
        };
        let body = prepare(&body);
        let row = with_docker_funcs(Template::new(""))
            .parse(&body)
            .map_err(|e| TemplateError::Parse(e.to_string()))?;
        let header = if table {
            Some(
                with_header_funcs(Template::new(""))
                    .parse(&body)
                    .map_err(|e| TemplateError::Parse(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Format { table, row, header })
    }

    /// Renders one value.
    pub fn render(&self, v: &serde_json::Value) -> Result<String, TemplateError> {
        let data = to_value(v);
        let out = self
            .row
            .execute_to_string(&data)
            .map_err(|e| TemplateError::Exec(e.to_string()));
        ORIGINALS.with(|o| o.borrow_mut().clear());
        out
    }

    /// Renders rows (and the header of a table, from `headers`: field → title), aligned
    /// like docker's tables when `table`; each row ends with a newline.
    pub fn render_all(
        &self,
        rows: &[serde_json::Value],
        headers: &[(&str, &str)],
    ) -> Result<String, TemplateError> {
        let mut text = String::new();
        if let Some(h) = &self.header {
            let mut map: BTreeMap<Arc<str>, Value> = headers
                .iter()
                .map(|(k, v)| (Arc::from(*k), str_value(v)))
                .collect();
            map.insert("LabelMap".into(), str_value("LABEL"));
            let line = h
                .execute_to_string(&Value::Map(Arc::new(map)))
                .map_err(|e| TemplateError::Exec(e.to_string()))?;
            text.push_str(&line);
            text.push('\n');
        }
        for r in rows {
            text.push_str(&self.render(r)?);
            text.push('\n');
        }
        Ok(if self.table {
            super::tabwriter::align(&text)
        } else {
            text
        })
    }
}

/// Renders a template against one value.
#[cfg(test)]
pub fn render(format: &str, v: &serde_json::Value) -> Result<String, TemplateError> {
    Format::parse(format, "")?.render(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_nested() {
        let v = json!({"State": {"Status": "running", "Pid": 42}, "Name": "/web"});
        assert_eq!(
            render("{{.State.Status}} {{.Name}}", &v).unwrap(),
            "running /web"
        );
        assert_eq!(render("{{.State.Pid}}", &v).unwrap(), "42");
    }

    #[test]
    fn json_keeps_field_order_and_no_html_escape() {
        let v = json!({"Config": {"Zed": 1, "Alpha": "<a&b>", "Labels": {"b": "2", "a": "1"}}});
        assert_eq!(
            render("{{json .Config}}", &v).unwrap(),
            r#"{"Zed":1,"Alpha":"<a&b>","Labels":{"b":"2","a":"1"}}"#
        );
        assert_eq!(render("{{json .Config.Alpha}}", &v).unwrap(), r#""<a&b>""#);
        assert_eq!(render("{{json .Missing}}", &v).unwrap(), "null");
        assert_eq!(render("{{json .}}", &json!([1, 2])).unwrap(), "[1,2]");
    }

    #[test]
    fn range_index_and_docker_funcs() {
        let v = json!({"Config": {"Labels": {"k": "v", "a": "b"}, "Env": ["A=1", "B=2"], "Cmd": ["sh", "-c"]}});
        assert_eq!(render(r#"{{index .Config.Labels "k"}}"#, &v).unwrap(), "v");
        assert_eq!(
            render("{{range .Config.Env}}[{{.}}]{{end}}", &v).unwrap(),
            "[A=1][B=2]"
        );
        assert_eq!(render(r#"{{join .Config.Cmd " "}}"#, &v).unwrap(), "sh -c");
        assert_eq!(
            render(
                r#"{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}"#,
                &v
            )
            .unwrap(),
            "a=b;k=v;"
        );
        assert_eq!(render(r#"{{split "a,b,c" ","}}"#, &v).unwrap(), "[a b c]");
        assert_eq!(
            render(
                r#"{{upper "abc"}}{{lower "DEF"}}{{title "hello world"}}"#,
                &v
            )
            .unwrap(),
            "ABCdefHello World"
        );
        assert_eq!(
            render(
                r#"{{pad "x" 2 1}}|{{truncate "abcdef" 3}}|{{truncate "ab" 3}}"#,
                &v
            )
            .unwrap(),
            "  x |abc|ab"
        );
        assert_eq!(render(r#"{{println "a"}}"#, &v).unwrap(), "a\n");
        assert_eq!(render("{{.Config.Cmd}}", &v).unwrap(), "[sh -c]");
        assert_eq!(render("a\\tb", &v).unwrap(), "a\tb");
    }

    #[test]
    fn parse_errors() {
        let e = render("{{.Foo", &json!({})).unwrap_err();
        assert!(e.to_string().starts_with("template parsing error"), "{e}");
    }

    #[test]
    fn tables_with_headers() {
        let f = Format::parse("table {{.ID}}\t{{.Names | upper}}", "").unwrap();
        assert!(f.table);
        let rows = vec![
            json!({"ID": "abc", "Names": "web"}),
            json!({"ID": "def0123456789", "Names": "db"}),
        ];
        let out = f
            .render_all(&rows, &[("ID", "CONTAINER ID"), ("Names", "NAMES")])
            .unwrap();
        assert_eq!(
            out,
            "CONTAINER ID    NAMES\nabc             WEB\ndef0123456789   DB\n"
        );
        // Without `table`: no header, no alignment.
        let f = Format::parse("{{.ID}}\t{{.Names}}", "").unwrap();
        assert_eq!(
            f.render_all(&rows, &[("ID", "CONTAINER ID")]).unwrap(),
            "abc\tweb\ndef0123456789\tdb\n"
        );
        // `table` alone is the default table; an empty list still has the header.
        let f = Format::parse("table", "table {{.ID}}\t{{.Names}}").unwrap();
        assert_eq!(
            f.render_all(&[], &[("ID", "CONTAINER ID"), ("Names", "NAMES")])
                .unwrap(),
            "CONTAINER ID   NAMES\n"
        );
    }

    #[test]
    fn label_method() {
        let f = Format::parse(r#"table {{.ID}}\t{{.Label "app"}}"#, "").unwrap();
        let rows = vec![json!({"ID": "abc", "LabelMap": {"app": "x"}})];
        assert_eq!(
            f.render_all(&rows, &[("ID", "CONTAINER ID")]).unwrap(),
            "CONTAINER ID   LABEL\nabc            x\n"
        );
    }
}
