//! The event bus behind `GET /events`: a broadcast channel for live subscribers and a
//! bounded ring of recent events so that `since` can replay history, as dockerd does.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::broadcast;

/// How many past events `since` can replay (dockerd keeps 1024 too).
const HISTORY: usize = 1024;

/// The actor of an event: the object's ID and attributes (name, image, labels, …).
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    /// Container ID, image ID, …
    #[serde(rename = "ID")]
    pub id: String,
    /// `name`, `image`, `exitCode`, `signal` and the object's labels.
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// One event in dockerd's `/events` JSON shape (with the pre-1.22 `status/id/from` too,
/// which older clients such as docker-py 5 still read).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Deprecated mirror of `Action`.
    pub status: String,
    /// Deprecated mirror of `Actor.ID`.
    pub id: String,
    /// Deprecated: the image of a container event.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// `container`, `image`, …
    #[serde(rename = "Type")]
    pub kind: String,
    /// `create`, `start`, `die`, `tag`, …
    #[serde(rename = "Action")]
    pub action: String,
    /// What the event is about.
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Always `local`.
    pub scope: String,
    /// Unix seconds.
    pub time: i64,
    /// Unix nanoseconds.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    /// A new event stamped now.
    pub fn new(kind: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) -> Self {
        let now = Utc::now();
        let nanos = now.timestamp_nanos_opt().unwrap_or_default();
        let from = if kind == "container" {
            attributes.get("image").cloned().unwrap_or_default()
        } else {
            String::new()
        };
        Self {
            status: action.to_string(),
            id: id.to_string(),
            from,
            kind: kind.to_string(),
            action: action.to_string(),
            actor: Actor {
                id: id.to_string(),
                attributes,
            },
            scope: "local".into(),
            time: now.timestamp(),
            time_nano: nanos,
        }
    }

    /// Whether this event passes `GET /events` filters (values are OR-ed within a key,
    /// keys AND-ed, as in dockerd's events filter).
    pub fn matches(&self, filters: &BTreeMap<String, Vec<String>>) -> bool {
        filters.iter().all(|(key, values)| {
            values.is_empty()
                || values.iter().any(|v| match key.as_str() {
                    "type" => self.kind == *v,
                    "event" => self.action == *v || self.action.starts_with(&format!("{v}:")),
                    "container" => {
                        self.kind == "container"
                            && (self.actor.id.starts_with(v.as_str())
                                || self.actor.attributes.get("name") == Some(v))
                    }
                    "image" => {
                        self.actor.attributes.get("image") == Some(v)
                            || (self.kind == "image"
                                && (self.actor.id == *v
                                    || self.actor.attributes.get("name") == Some(v)))
                    }
                    "label" => match v.split_once('=') {
                        Some((k, val)) => {
                            self.actor.attributes.get(k).map(String::as_str) == Some(val)
                        }
                        None => self.actor.attributes.contains_key(v.as_str()),
                    },
                    "scope" => v == "local",
                    _ => false,
                })
        })
    }
}

/// Publishes events to live subscribers and keeps recent history.
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    history: Mutex<VecDeque<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(4096).0,
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
        }
    }

    /// Publishes one event.
    pub fn publish(&self, event: Event) {
        tracing::debug!(kind = %event.kind, action = %event.action, id = %event.id, "event");
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(event.clone());
        drop(history);
        let _ = self.sender.send(event);
    }

    /// Subscribes, returning the recent events first (to be filtered by `since`) and the
    /// live receiver; taken under one lock so nothing falls between the two.
    pub fn subscribe(&self) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.sender.subscribe();
        (history.iter().cloned().collect(), rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), "web".to_string());
        attrs.insert("image".to_string(), "busybox".to_string());
        attrs.insert("app".to_string(), "x".to_string());
        let e = Event::new("container", "start", "abcdef", attrs);
        let f = |k: &str, v: &str| BTreeMap::from([(k.to_string(), vec![v.to_string()])]);
        assert!(e.matches(&f("container", "web")));
        assert!(e.matches(&f("container", "abc")));
        assert!(e.matches(&f("event", "start")));
        assert!(!e.matches(&f("event", "die")));
        assert!(e.matches(&f("label", "app=x")));
        assert!(e.matches(&f("image", "busybox")));
        assert!(!e.matches(&f("type", "image")));
    }
}
