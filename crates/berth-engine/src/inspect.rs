//! dockerd's JSON shapes for `GET /containers/{id}/json` and `GET /containers/json`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::error::{EngineError, Result};
use crate::record::{ContainerRecord, Status};
use crate::{time, Container, Engine};

/// go-units' `HumanDuration`, which dockerd uses for `Status` and the CLI for `CREATED`.
pub fn human_duration(d: chrono::Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = d.num_minutes();
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (d.num_milliseconds() as f64 / 3_600_000.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", d.num_hours() / 24 / 365)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if s == time::ZERO {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The `Status` column text, as dockerd's `State.String()` makes it.
pub fn status_text(rec: &ContainerRecord, now: DateTime<Utc>) -> String {
    let st = &rec.state;
    match st.status {
        Status::Running | Status::Paused => {
            let up = parse_time(&st.started_at)
                .map_or("Less than a second".into(), |t| human_duration(now - t));
            if st.status == Status::Paused {
                format!("Up {up} (Paused)")
            } else {
                format!("Up {up}")
            }
        }
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        _ => {
            if parse_time(&st.started_at).is_none() {
                return "Created".into();
            }
            match parse_time(&st.finished_at) {
                None => String::new(),
                Some(t) => format!("Exited ({}) {} ago", st.exit_code, human_duration(now - t)),
            }
        }
    }
}

/// dockerd's list `Command`: the path, then the args with spaces quoted.
pub fn command_text(rec: &ContainerRecord) -> String {
    let argv = rec.command_line();
    let Some((path, args)) = argv.split_first() else {
        return String::new();
    };
    if args.is_empty() {
        return path.clone();
    }
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect();
    format!("{path} {}", args.join(" "))
}

fn network_name(rec: &ContainerRecord) -> &'static str {
    if rec.host_config.network_mode == "host" {
        "host"
    } else {
        "none"
    }
}

fn network_settings(rec: &ContainerRecord) -> Value {
    let endpoint = json!({
        "IPAMConfig": null, "Links": null, "Aliases": null, "MacAddress": "",
        "DriverOpts": null, "GwPriority": 0, "NetworkID": "", "EndpointID": "",
        "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null
    });
    let mut networks = serde_json::Map::new();
    networks.insert(network_name(rec).into(), endpoint);
    json!({
        "Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {},
        "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null, "EndpointID": "",
        "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
        "Networks": networks,
    })
}

fn mounts(rec: &ContainerRecord) -> Value {
    let mut out = Vec::new();
    for bind in rec.host_config.binds.iter().flatten() {
        if let Ok(b) = crate::container::parse_bind(bind) {
            out.push(json!({
                "Type": "bind", "Source": b.source, "Destination": b.destination,
                "Mode": if b.read_only { "ro" } else { "" }, "RW": !b.read_only,
                "Propagation": "rprivate"
            }));
        }
    }
    for (dest, _) in rec.host_config.tmpfs.iter().flatten() {
        out.push(json!({
            "Type": "tmpfs", "Source": "", "Destination": dest, "Mode": "", "RW": true,
            "Propagation": ""
        }));
    }
    for m in rec.host_config.mounts.iter().flatten() {
        match crate::hostconfig::mount_point(m) {
            Ok(crate::hostconfig::MountPoint::Bind {
                source,
                target,
                read_only,
            }) => out.push(json!({
                "Type": "bind", "Source": source, "Destination": target, "Mode": "",
                "RW": !read_only, "Propagation": "rprivate"
            })),
            Ok(crate::hostconfig::MountPoint::Tmpfs { target, .. }) => out.push(json!({
                "Type": "tmpfs", "Source": "", "Destination": target, "Mode": "", "RW": !m.read_only,
                "Propagation": ""
            })),
            Err(_) => {}
        }
    }
    Value::Array(out)
}

impl Engine {
    /// `GET /containers/{id}/json`.
    pub fn inspect(&self, key: &str, size: bool) -> Result<Value> {
        let c = self.find(key)?;
        let rec = c.record();
        let dir = self.container_dir(&rec.id);
        let argv = rec.command_line();
        let st = &rec.state;
        let mut config =
            serde_json::to_value(&rec.config).map_err(|e| EngineError::system("encode", e))?;
        if let Some(obj) = config.as_object_mut() {
            // dockerd omits an empty Healthcheck and keeps `Volumes`/`OnBuild` as null.
            obj.retain(|k, v| !(k == "Healthcheck" && v.is_null()));
        }
        let exec_ids = Some(self.live_exec_ids(&rec.id)).filter(|ids| !ids.is_empty());
        let mut v = json!({
            "Id": rec.id,
            "Created": rec.created,
            "Path": argv.first().cloned().unwrap_or_default(),
            "Args": argv.get(1..).unwrap_or_default(),
            "State": {
                "Status": st.status.as_str(),
                "Running": st.is_running(),
                "Paused": st.status == Status::Paused,
                "Restarting": st.status == Status::Restarting,
                "OOMKilled": st.oom_killed,
                "Dead": st.status == Status::Dead,
                "Pid": st.pid,
                "ExitCode": st.exit_code,
                "Error": st.error,
                "StartedAt": st.started_at,
                "FinishedAt": st.finished_at,
            },
            "Image": rec.image_id,
            "ResolvConfPath": dir.join("resolv.conf"),
            "HostnamePath": dir.join("hostname"),
            "HostsPath": dir.join("hosts"),
            "LogPath": self.log_path(&rec.id),
            "Name": format!("/{}", rec.name),
            "RestartCount": rec.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": exec_ids,
            "HostConfig": rec.host_config,
            "GraphDriver": {
                "Data": {
                    "LowerDir": rec.lower_dir,
                    "MergedDir": dir.join("rootfs"),
                    "UpperDir": dir.join("upper"),
                    "WorkDir": dir.join("work"),
                },
                "Name": "overlay2",
            },
            "Mounts": mounts(&rec),
            "Config": config,
            "NetworkSettings": network_settings(&rec),
        });
        if size {
            let rw = berth_image::rootfs::dir_size(&dir.join("upper")).unwrap_or(0);
            let image = self.images.image_size(&rec.image_id).unwrap_or(0);
            v["SizeRw"] = json!(rw);
            v["SizeRootFs"] = json!(rw + image);
        }
        Ok(v)
    }

    /// `GET /containers/json`.
    pub fn list(
        &self,
        all: bool,
        limit: Option<usize>,
        size: bool,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<Value>> {
        for key in filters.keys() {
            if !matches!(
                key.as_str(),
                "id" | "name"
                    | "label"
                    | "status"
                    | "ancestor"
                    | "exited"
                    | "before"
                    | "since"
                    | "network"
                    | "volume"
                    | "health"
                    | "isolation"
                    | "is-task"
                    | "publish"
                    | "expose"
            ) {
                return Err(EngineError::Invalid(format!("invalid filter '{key}'")));
            }
        }
        for s in filters.get("status").into_iter().flatten() {
            if !matches!(
                s.as_str(),
                "created" | "restarting" | "running" | "removing" | "paused" | "exited" | "dead"
            ) {
                return Err(EngineError::Invalid(format!("invalid filter 'status={s}'")));
            }
        }
        let mut containers: Vec<Arc<Container>> = self.all();
        let mut recs: Vec<ContainerRecord> = containers.drain(..).map(|c| c.record()).collect();
        recs.sort_by(|a, b| b.created.cmp(&a.created));
        let bound = |key: &str| -> Result<Option<String>> {
            match filters.get(key).and_then(|v| v.first()) {
                Some(k) => Ok(Some(self.find(k)?.record().created)),
                None => Ok(None),
            }
        };
        let before = bound("before")?;
        let since = bound("since")?;
        // Ancestors resolve to image IDs once.
        let ancestors: Vec<String> = filters
            .get("ancestor")
            .into_iter()
            .flatten()
            .filter_map(|a| self.images.resolve(a).ok())
            .collect();
        let any = |key: &str, f: &dyn Fn(&str) -> bool| -> bool {
            filters
                .get(key)
                .is_none_or(|vals| vals.is_empty() || vals.iter().any(|v| f(v)))
        };
        let now = Utc::now();
        let mut out = Vec::new();
        for rec in recs {
            let status = rec.state.status.as_str();
            let explicit_status = filters.contains_key("status") || filters.contains_key("exited");
            if !all && !explicit_status && !rec.state.is_running() {
                continue;
            }
            let labels = rec.config.labels.clone().unwrap_or_default();
            let ok = any("id", &|v| rec.id.starts_with(v))
                && any("name", &|v| rec.name.contains(v.trim_start_matches('/')))
                && filters.get("label").is_none_or(|vals| {
                    vals.iter().all(|v| match v.split_once('=') {
                        Some((k, val)) => labels.get(k).map(String::as_str) == Some(val),
                        None => labels.contains_key(v.as_str()),
                    })
                })
                && any("status", &|v| v == status)
                && any("exited", &|v| {
                    status == "exited" && v.parse::<i32>().ok() == Some(rec.state.exit_code)
                })
                && (filters.get("ancestor").is_none()
                    || ancestors.contains(&rec.image_id)
                    || filters["ancestor"].contains(&rec.config.image))
                && before.as_ref().is_none_or(|b| rec.created < *b)
                && since.as_ref().is_none_or(|s| rec.created > *s)
                && any("network", &|v| v == network_name(&rec));
            if !ok {
                continue;
            }
            let created = DateTime::parse_from_rfc3339(&rec.created)
                .map(|t| t.timestamp())
                .unwrap_or_default();
            let mut item = json!({
                "Id": rec.id,
                "Names": [format!("/{}", rec.name)],
                "Image": rec.config.image,
                "ImageID": rec.image_id,
                "Command": command_text(&rec),
                "Created": created,
                "Ports": [],
                "Labels": labels,
                "State": status,
                "Status": status_text(&rec, now),
                "HostConfig": { "NetworkMode": if rec.host_config.network_mode.is_empty() { "none".to_string() } else { rec.host_config.network_mode.clone() } },
                "NetworkSettings": { "Networks": network_settings(&rec)["Networks"].clone() },
                "Mounts": mounts(&rec),
            });
            if size {
                let rw = berth_image::rootfs::dir_size(&self.container_dir(&rec.id).join("upper"))
                    .unwrap_or(0);
                item["SizeRw"] = json!(rw);
                let image = self.images.image_size(&rec.image_id).unwrap_or(0);
                item["SizeRootFs"] = json!(rw + image);
            }
            out.push(item);
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go_units() {
        let s = chrono::Duration::seconds;
        assert_eq!(human_duration(s(0)), "Less than a second");
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(60)), "About a minute");
        assert_eq!(human_duration(s(300)), "5 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(3 * 3600)), "3 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
    }
}
