//! The `filters` query parameter (moby `api/types/filters`).
//!
//! Clients send a JSON object of filter name → values. Since API 1.22 the values are a
//! set, `{"name":{"web":true}}`; older clients (docker-py, compose 1.x) still send the
//! legacy list form `{"name":["web"]}`. dockerd's `FromJSON` tries the set form, then
//! the list form, and so do we. As in dockerd, the booleans of the set form are not
//! read: a value is present whether it maps to `true` or `false`.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::error::ApiError;

/// Parsed filters: name → set of values. Empty when the parameter is absent or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, BTreeMap<String, bool>>,
}

/// The set form; `null` for a name or for the whole object is accepted, as Go's
/// `encoding/json` accepts it into a map.
type SetForm = Option<BTreeMap<String, Option<BTreeMap<String, bool>>>>;
/// The legacy list form.
type ListForm = Option<BTreeMap<String, Option<Vec<String>>>>;

impl Filters {
    /// Parses the raw (already percent-decoded) `filters` value. The empty string is no
    /// filter; anything neither form accepts is a 400, as in dockerd.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw.is_empty() {
            return Ok(Filters::default());
        }
        let set_err = match serde_json::from_str::<SetForm>(raw) {
            Ok(set) => {
                let fields = set
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
                    .collect();
                return Ok(Filters { fields });
            }
            Err(err) => err,
        };
        match serde_json::from_str::<ListForm>(raw) {
            Ok(list) => {
                let mut f = Filters::default();
                for (k, vs) in list.unwrap_or_default() {
                    let entry = f.fields.entry(k).or_default();
                    for v in vs.unwrap_or_default() {
                        entry.insert(v, true);
                    }
                }
                Ok(f)
            }
            // The set form's error is the one worth showing: it is the current syntax.
            Err(_) => Err(ApiError::invalid(format!("invalid filter: {set_err}"))),
        }
    }

    /// No filter at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The filter `name` was given (possibly with no values).
    pub fn contains(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// The values of `name`, sorted; empty when absent.
    pub fn get(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .map(|vs| vs.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Adds one value (for building filters, e.g. in tests or the CLI).
    pub fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields
            .entry(name.into())
            .or_default()
            .insert(value.into(), true);
    }

    /// Every filter name with its values, sorted: the shape the engine matches on.
    pub fn to_map(&self) -> BTreeMap<String, Vec<String>> {
        self.fields
            .iter()
            .map(|(k, vs)| (k.clone(), vs.keys().cloned().collect()))
            .collect()
    }

    /// Rejects names outside `accepted` with dockerd's `invalid filter 'name'` (400).
    pub fn validate(&self, accepted: &[&str]) -> Result<(), ApiError> {
        match self.fields.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(ApiError::invalid(format!("invalid filter '{k}'"))),
            None => Ok(()),
        }
    }

    /// The set form, as the docker CLI sends it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.fields).unwrap_or_else(|_| "{}".into())
    }
}

impl FromStr for Filters {
    type Err = ApiError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filters::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    #[test]
    fn empty_is_no_filter() {
        assert!(Filters::parse("").unwrap().is_empty());
        assert!(Filters::parse("null").unwrap().is_empty());
        assert!(Filters::parse("{}").unwrap().is_empty());
    }

    #[test]
    fn set_form() {
        let f =
            Filters::parse(r#"{"name":{"web":true,"db":true},"status":{"running":true}}"#).unwrap();
        assert_eq!(
            f.to_map(),
            map(&[("name", &["db", "web"]), ("status", &["running"])])
        );
        assert!(f.contains("name"));
        assert!(!f.contains("label"));
        assert_eq!(f.get("status"), vec!["running"]);
        assert!(f.get("label").is_empty());
    }

    #[test]
    fn set_form_ignores_the_booleans() {
        // dockerd's Args.Get returns every key of the inner map.
        let f = Filters::parse(r#"{"label":{"a=1":false}}"#).unwrap();
        assert_eq!(f.get("label"), vec!["a=1"]);
    }

    #[test]
    fn legacy_list_form() {
        let f = Filters::parse(r#"{"label":["a=1","b"],"dangling":["true"]}"#).unwrap();
        assert_eq!(
            f.to_map(),
            map(&[("dangling", &["true"]), ("label", &["a=1", "b"])])
        );
    }

    #[test]
    fn null_values() {
        assert_eq!(
            Filters::parse(r#"{"name":null}"#).unwrap().to_map(),
            map(&[("name", &[])])
        );
    }

    #[test]
    fn malformed_is_400() {
        for raw in [
            "x",
            "[]",
            r#"{"a":1}"#,
            r#"{"a":{"b":"c"}}"#,
            r#"{"a":{"b":true},"c":["d"]}"#,
            " ",
            "{",
        ] {
            let err = Filters::parse(raw).unwrap_err();
            assert_eq!(err.status(), 400, "{raw}");
            assert!(
                err.message().starts_with("invalid filter"),
                "{raw}: {}",
                err.message()
            );
        }
    }

    #[test]
    fn validate() {
        let f = Filters::parse(r#"{"name":{"a":true},"bogus":{"b":true}}"#).unwrap();
        assert!(f.validate(&["name", "bogus"]).is_ok());
        let err = f.validate(&["name"]).unwrap_err();
        assert_eq!(
            (err.status(), err.message()),
            (400, "invalid filter 'bogus'")
        );
    }

    #[test]
    fn round_trip() {
        let mut f = Filters::default();
        f.add("label", "a=1");
        f.add("label", "b");
        assert_eq!(f.to_json(), r#"{"label":{"a=1":true,"b":true}}"#);
        assert_eq!(f.to_json().parse::<Filters>().unwrap(), f);
    }
}
