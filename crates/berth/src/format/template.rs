//! `--format` Go templates with docker's extra functions, the `table` prefix and
//! JSON that keeps dockerd's field order; error messages and exit codes per command,
//! like docker's.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use gotmpl::{MissingKey, Template, Value};

/// A template that could not be parsed or run. The text is Go's
/// (`template: :1: unclosed action`); [`Ctx::failure`] adds docker's prefix.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Parse error.
    #[error("{0}")]
    Parse(String),
    /// Execution error.
    #[error("{0}")]
    Exec(String),
}

/// The docker command whose template conventions apply: the data's Go type (for
/// "can't evaluate field" errors), alias keys hidden from `json`, error wording and
/// exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ctx {
    /// `inspect`: dockerd's JSON (a missing key: "map has no entry for key").
    #[default]
    Inspect,
    /// `ps` rows.
    Ps,
    /// `images` rows.
    Images,
    /// `history` rows.
    History,
    /// `version`.
    Version,
    /// `info`.
    Info,
    /// `events`.
    Events,
}

impl Ctx {
    fn name(self) -> &'static str {
        if self == Ctx::Version {
            "version"
        } else {
            ""
        }
    }

    fn type_name(self) -> Option<&'static str> {
        Some(match self {
            Ctx::Inspect => return None,
            Ctx::Ps => "*formatter.ContainerContext",
            Ctx::Images => "*formatter.imageContext",
            Ctx::History => "*image.historyContext",
            Ctx::Version => "system.versionInfo",
            Ctx::Info => "system.dockerInfo",
            Ctx::Events => "*events.Message",
        })
    }

    /// Keys that templates can use but that are not part of the data's JSON.
    fn hidden(self) -> &'static [&'static str] {
        match self {
            Ctx::Ps | Ctx::Images => &["LabelMap"],
            Ctx::Version => &["APIVersion"],
            _ => &[],
        }
    }

    /// Rows of a formatter context: `{{json .}}` sorts keys and escapes HTML.
    fn is_row(self) -> bool {
        matches!(self, Ctx::Ps | Ctx::Images | Ctx::History)
    }

    /// docker's exit code and message for a template error of this command.
    pub fn failure(self, e: &TemplateError) -> (i32, String) {
        let parse = matches!(e, TemplateError::Parse(_));
        match (self, parse) {
            (Ctx::Ps, true) => (1, format!("failed to parse template: {e}")),
            (Ctx::Ps, false) => (1, format!("failed to execute template: {e}")),
            (Ctx::Images | Ctx::History, _) => (1, format!("template parsing error: {e}")),
            (Ctx::Version | Ctx::Info | Ctx::Inspect, true) => {
                (64, format!("template parsing error: {e}"))
            }
            (Ctx::Version | Ctx::Info, false) => (1, e.to_string()),
            (Ctx::Inspect, false) => (1, format!("template parsing error: {e}")),
            (Ctx::Events, _) => (64, format!("Error parsing format: {e}")),
        }
    }
}

thread_local! {
    /// Maps and lists built from JSON, by address, to their original (ordered) JSON.
    static ORIGINALS: RefCell<HashMap<usize, serde_json::Value>> = RefCell::new(HashMap::new());
    /// The address of the row being rendered (formatter contexts), for `{{json .}}`.
    static ROW_ROOT: Cell<usize> = const { Cell::new(0) };
}

/// Converts JSON into template data, remembering each object's field order for `json`
/// (without the `hidden` keys).
fn to_value_hiding(v: &serde_json::Value, hidden: &[&str]) -> Value {
    convert(v, hidden).0
}

/// The template value of `v` and its JSON without the `hidden` keys (at any depth).
fn convert(v: &serde_json::Value, hidden: &[&str]) -> (Value, serde_json::Value) {
    match v {
        serde_json::Value::Null => (Value::Nil, v.clone()),
        serde_json::Value::Bool(b) => (Value::Bool(*b), v.clone()),
        serde_json::Value::Number(n) => {
            let value = if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            };
            (value, v.clone())
        }
        serde_json::Value::String(s) => (Value::String(s.as_str().into()), v.clone()),
        serde_json::Value::Array(a) => {
            let (items, json): (Vec<Value>, Vec<serde_json::Value>) =
                a.iter().map(|e| convert(e, hidden)).unzip();
            let list: Arc<[Value]> = items.into();
            let json = serde_json::Value::Array(json);
            ORIGINALS.with(|o| o.borrow_mut().insert(list.as_ptr() as usize, json.clone()));
            (Value::List(list), json)
        }
        serde_json::Value::Object(m) => {
            let mut map = BTreeMap::new();
            let mut json = serde_json::Map::with_capacity(m.len());
            for (k, v) in m {
                let (value, j) = convert(v, hidden);
                map.insert(Arc::from(k.as_str()), value);
                if !hidden.contains(&k.as_str()) {
                    json.insert(k.clone(), j);
                }
            }
            let map = Arc::new(map);
            let json = serde_json::Value::Object(json);
            ORIGINALS.with(|o| {
                o.borrow_mut()
                    .insert(Arc::as_ptr(&map) as usize, json.clone())
            });
            (Value::Map(map), json)
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

/// Go's `json.Marshal` of a formatter context: keys sorted, `<`, `>`, `&` escaped.
fn row_json(v: &serde_json::Value) -> String {
    let sorted: BTreeMap<&String, &serde_json::Value> = v
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    serde_json::to_string(&sorted)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
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
        let v = arg(a, 0);
        let is_row = match &v {
            Value::Map(m) => ROW_ROOT.with(Cell::get) == Arc::as_ptr(m) as usize,
            _ => false,
        };
        let j = to_json(&v);
        Ok(str_value(if is_row {
            row_json(&j)
        } else {
            serde_json::to_string(&j).unwrap_or_default()
        }))
    })
    // Go's `index` on docker's `map[string]string` fields: a missing key is "".
    .func("index", |a| {
        if a.len() < 2 {
            return Err(gotmpl::TemplateError::ArgCount {
                name: "index".into(),
                expected: 2,
                got: a.len(),
            });
        }
        let mut v = a[0].clone();
        for idx in &a[1..] {
            v = match (&v, idx) {
                (Value::Map(m), Value::String(k)) => {
                    m.get(k.as_ref()).cloned().unwrap_or_else(|| str_value(""))
                }
                (Value::Nil, _) => {
                    return Err(gotmpl::TemplateError::Exec(
                        "error calling index: index of untyped nil".into(),
                    ))
                }
                _ => v.index(idx)?,
            };
        }
        Ok(v)
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

/// Go's wording of a parse error: `template: NAME:LINE: MSG`.
fn parse_error(name: &str, e: gotmpl::TemplateError) -> TemplateError {
    TemplateError::Parse(match e {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => {
            format!("template: {name}:{line}: {message}")
        }
        other => format!("template: {name}: {other}"),
    })
}

/// The 0-based column of `.Key` in `src` (Go reports the node's position).
fn column_of(src: &str, key: &str) -> usize {
    let needle = format!(".{key}");
    src.match_indices(&needle)
        .find(|(i, _)| {
            !src[i + needle.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map_or(0, |(i, _)| i - src[..i].rfind('\n').map_or(0, |n| n + 1))
}

/// A parsed `--format` value.
pub struct Format {
    /// Started with `table`.
    pub table: bool,
    ctx: Ctx,
    src: String,
    /// Missing keys are errors (docker's typed data, and `missingkey=error`).
    row: Template,
    /// Missing keys print nothing (for free-form maps: labels, attributes).
    lenient: Template,
    header: Option<Template>,
}

impl Format {
    /// Parses a format for `inspect`; `table` alone (or empty) selects `default_table`.
    pub fn parse(format: &str, default_table: &str) -> Result<Format, TemplateError> {
        Format::parse_in(Ctx::Inspect, format, default_table)
    }

    /// Parses a format of a command (`json` is `{{json .}}`).
    pub fn parse_in(ctx: Ctx, format: &str, default_table: &str) -> Result<Format, TemplateError> {
        let format = if format.trim() == "json" {
            "{{json .}}"
        } else {
            format
        };
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
        let name = ctx.name();
        let row = with_docker_funcs(Template::new(name))
            .missing_key(MissingKey::Error)
            .parse(&body)
            .map_err(|e| parse_error(name, e))?;
        let lenient = with_docker_funcs(Template::new(name))
            .parse(&body)
            .map_err(|e| parse_error(name, e))?;
        // Go reports an undefined function when parsing; gotmpl when running: probe.
        if let Err(gotmpl::TemplateError::UndefinedFunction(f)) =
            lenient.execute_to_string(&Value::Map(Arc::new(BTreeMap::new())))
        {
            return Err(TemplateError::Parse(format!(
                "template: {name}:1: function \"{f}\" not defined"
            )));
        }
        let header = if table {
            Some(
                with_header_funcs(Template::new(name))
                    .parse(&body)
                    .map_err(|e| parse_error(name, e))?,
            )
        } else {
            None
        };
        Ok(Format {
            table,
            ctx,
            src: body,
            row,
            lenient,
            header,
        })
    }

    fn exec_error(&self, e: gotmpl::TemplateError) -> TemplateError {
        let name = self.ctx.name();
        TemplateError::Exec(match e {
            gotmpl::TemplateError::MissingKey { key } => {
                let why = match self.ctx.type_name() {
                    Some(t) => format!("can't evaluate field {key} in type {t}"),
                    None => format!("map has no entry for key \"{key}\""),
                };
                format!(
                    "template: {name}:1:{}: executing \"{name}\" at <.{key}>: {why}",
                    column_of(&self.src, &key)
                )
            }
            other => format!("template: {name}:1: executing \"{name}\": {other}"),
        })
    }

    /// Renders one value.
    pub fn render(&self, v: &serde_json::Value) -> Result<String, TemplateError> {
        let data = to_value_hiding(v, self.ctx.hidden());
        if let (true, Value::Map(m)) = (self.ctx.is_row(), &data) {
            ROW_ROOT.with(|r| r.set(Arc::as_ptr(m) as usize));
        }
        let out = match self.row.execute_to_string(&data) {
            // A nil value prints as Go prints a nil pointer.
            Ok(s) => Ok(s.replace("<no value>", "<nil>")),
            // A key of a free-form map (docker's `map[string]string`: labels,
            // attributes) prints "<no value>" when missing; a missing field is an error.
            Err(gotmpl::TemplateError::MissingKey { key })
                if !key.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                self.lenient
                    .execute_to_string(&data)
                    .map_err(|e| self.exec_error(e))
            }
            Err(e) => Err(self.exec_error(e)),
        };
        ORIGINALS.with(|o| o.borrow_mut().clear());
        ROW_ROOT.with(|r| r.set(0));
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
                .map_err(|e| self.exec_error(e))?;
            text.push_str(&line.replace("<no value>", ""));
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
        assert_eq!(
            render("{{json .Missing}}", &v).unwrap_err().to_string(),
            "template: :1:7: executing \"\" at <.Missing>: map has no entry for key \"Missing\""
        );
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
        assert_eq!(e.to_string(), "template: :1: unclosed action");
        assert_eq!(
            Ctx::Inspect.failure(&e),
            (
                64,
                "template parsing error: template: :1: unclosed action".into()
            )
        );
        assert_eq!(
            Ctx::Ps.failure(&e),
            (
                1,
                "failed to parse template: template: :1: unclosed action".into()
            )
        );
        let e = Format::parse_in(Ctx::Version, "{{nofunc .}}", "")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "template: version:1: function \"nofunc\" not defined"
        );
        let e = Format::parse_in(Ctx::Ps, "{{.ID}} {{.Bogus}}", "")
            .unwrap()
            .render(&json!({"ID": "x"}))
            .unwrap_err();
        assert_eq!(
            Ctx::Ps.failure(&e).1,
            "failed to execute template: template: :1:10: executing \"\" at <.Bogus>: can't evaluate field Bogus in type *formatter.ContainerContext"
        );
    }

    #[test]
    fn go_nil_and_missing_map_keys() {
        let v = json!({"HostConfig": {"PidsLimit": null}, "Config": {"Labels": {"k": "v"}}});
        assert_eq!(render("{{.HostConfig.PidsLimit}}", &v).unwrap(), "<nil>");
        // A missing label: "<no value>" by field, "" by index (docker's map[string]string).
        assert_eq!(
            render("{{.Config.Labels.nokey}}", &v).unwrap(),
            "<no value>"
        );
        assert_eq!(
            render(r#"[{{index .Config.Labels "nokey"}}]"#, &v).unwrap(),
            "[]"
        );
    }

    #[test]
    fn row_json_is_sorted_escaped_without_hidden_keys() {
        let f = Format::parse_in(Ctx::Ps, "json", "").unwrap();
        let row = json!({"Names": "a<b", "ID": "x", "LabelMap": {"k": "v"}, "Labels": "k=v"});
        assert_eq!(
            f.render(&row).unwrap(),
            r#"{"ID":"x","Labels":"k=v","Names":"a\u003cb"}"#
        );
        // Fields are not escaped; LabelMap is still usable.
        let f = Format::parse_in(Ctx::Ps, r#"{{json .Names}} {{.Label "k"}}"#, "").unwrap();
        assert_eq!(f.render(&row).unwrap(), r#""a<b" v"#);
        // version: APIVersion (Go's field name) works but is not in the JSON.
        let f = Format::parse_in(Ctx::Version, "{{.Server.APIVersion}} {{json .}}", "").unwrap();
        assert_eq!(
            f.render(&json!({"Server": {"ApiVersion": "1.50", "APIVersion": "1.50"}}))
                .unwrap(),
            r#"1.50 {"Server":{"ApiVersion":"1.50"}}"#
        );
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
