//! Routes → engine calls. Every request is first parsed into a typed `Route` by
//! `berth_api::route::parse` (pure, unit-tested); here each route calls the engine and
//! turns the result into dockerd's response. Engine errors become HTTP errors in one
//! place: `api_error`.

use std::collections::BTreeMap;
use std::sync::Arc;

use berth_api::error::ApiError;
use berth_api::route::Route;
use berth_api::types::{ContainerCreateBody, ExecCreateBody, ExecStartBody};
use berth_engine::attach::AttachOptions;
use berth_engine::logs::LogOptions;
use berth_engine::{Engine, EngineError};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json;
use tokio::sync::mpsc;

use crate::http::{self, Body};

/// The one mapping from engine errors to dockerd's status codes.
pub fn api_error(err: EngineError) -> ApiError {
    match err {
        EngineError::NotFound(m) => ApiError::not_found(m),
        EngineError::Conflict(m) => ApiError::conflict(m),
        EngineError::Invalid(m) => ApiError::invalid(m),
        EngineError::NotModified(m) => ApiError::not_modified(m),
        EngineError::NotImplemented(m) => ApiError::not_implemented(m),
        EngineError::System(m) => ApiError::system(m),
    }
}

type Result<T> = std::result::Result<T, ApiError>;

fn e<T>(r: berth_engine::Result<T>) -> Result<T> {
    r.map_err(api_error)
}

/// Reads the whole request body (with a cap: API bodies are small; imports stream).
async fn body_bytes(req: Request<Incoming>) -> Result<Bytes> {
    req.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|err| ApiError::invalid(format!("cannot read the request body: {err}")))
}

/// Parses a JSON object body; an empty body (or `null`) is the type's default, as dockerd
/// allows for optional bodies. Anything but an object is a 400: serde would take an array
/// for a struct (by field position), Go's decoder does not.
fn parse_json<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T> {
    let text = bytes.trim_ascii();
    if text.is_empty() || text == b"null" {
        return Ok(T::default());
    }
    if text[0] != b'{' {
        let kind = match text[0] {
            b'[' => "array",
            b'"' => "string",
            b't' | b'f' => "bool",
            b'-' | b'0'..=b'9' => "number",
            _ => "value",
        };
        return Err(ApiError::invalid(format!(
            "invalid JSON: cannot unmarshal {kind} into an object"
        )));
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| ApiError::invalid(format!("invalid JSON: {err}")))?;
    strip_nulls(&mut value);
    serde_json::from_value(value).map_err(|err| ApiError::invalid(format!("invalid JSON: {err}")))
}

/// Go's decoder takes `null` for any field and leaves it at its zero value; serde only
/// takes it for `Option`s. Clients send nulls freely (docker-py: `"Source": null` in a
/// tmpfs mount), so object members that are null are dropped: every field has a default.
fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// A `since`/`until` query value (Unix seconds with an optional fraction, RFC 3339 or a
/// duration before now); unparsable is a 400, not "no bound".
fn parse_time_param(
    name: &str,
    value: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    match value.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => berth_engine::time::parse_since(s, now)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("invalid value for {name}: {s:?}"))),
    }
}

fn filters_map(filters: &berth_api::filters::Filters) -> BTreeMap<String, Vec<String>> {
    filters.to_map()
}

/// A streaming response from a channel of chunks.
fn stream_rx(mut rx: mpsc::Receiver<Bytes>, content_type: &'static str) -> Response<Body> {
    let (tx, body_rx) = mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            if tx.send(Ok(chunk)).await.is_err() {
                break;
            }
        }
    });
    http::stream(body_rx, content_type)
}

/// Handles one parsed request.
pub async fn dispatch(
    engine: &Arc<Engine>,
    version: &str,
    route: Route,
    req: Request<Incoming>,
) -> Response<Body> {
    match handle(engine, version, route, req).await {
        Ok(resp) => resp,
        Err(err) => http::error(err),
    }
}

async fn handle(
    engine: &Arc<Engine>,
    version: &str,
    route: Route,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    Ok(match route {
        Route::Ping { .. } => http::ping(req.method() == hyper::Method::HEAD),
        Route::Version => http::json(
            StatusCode::OK,
            &berth_api::version::version_json(&berth_api::version::EngineFacts {
                version: berth_engine::system::VERSION.to_string(),
                kernel_version: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            }),
        ),
        Route::Info => http::json(StatusCode::OK, &engine.info()),
        Route::Events {
            since,
            until,
            filters,
        } => events(engine, since, until, filters)?,

        Route::ContainerCreate { name, .. } => {
            let bytes = body_bytes(req).await?;
            let body: ContainerCreateBody = parse_json(&bytes)?;
            let (id, warnings) = e(engine.create(name.as_deref(), body).await)?;
            http::json(
                StatusCode::CREATED,
                &json!({"Id": id, "Warnings": warnings}),
            )
        }
        Route::ContainerStart { id, .. } => {
            e(engine.start(&id).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerStop { id, t, signal } => {
            e(engine.stop(&id, t, signal.as_deref()).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerRestart { id, t, signal } => {
            e(engine.restart(&id, t, signal.as_deref()).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerKill { id, signal } => {
            e(engine.kill(&id, signal.as_deref()).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerPause { id } => {
            e(engine.pause(&id, true).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerUnpause { id } => {
            e(engine.pause(&id, false).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerRename { id, name } => {
            e(engine.rename(&id, &name).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerDelete { id, force, v, .. } => {
            e(engine.remove(&id, force, v).await)?;
            http::empty(StatusCode::NO_CONTENT)
        }
        Route::ContainerInspect { id, size } => {
            http::json(StatusCode::OK, &e(engine.inspect(&id, size))?)
        }
        Route::ContainerList {
            all,
            limit,
            size,
            filters,
        } => {
            let limit = limit.filter(|l| *l > 0).map(|l| l as usize);
            let all = all || limit.is_some();
            http::json(
                StatusCode::OK,
                &e(engine.list(all, limit, size, &filters_map(&filters)))?,
            )
        }
        Route::ContainerWait { id, condition } => {
            let fut = e(engine.wait(&id, condition.as_deref().unwrap_or("")))?;
            // dockerd sends the headers at once and the body when the container exits.
            let (tx, rx) = mpsc::channel::<Bytes>(1);
            tokio::spawn(async move {
                let code = fut.await;
                // `Error` is omitted when there is none, as dockerd's `omitempty` does.
                let body = json!({ "StatusCode": code }).to_string() + "\n";
                let _ = tx.send(Bytes::from(body)).await;
            });
            stream_rx(rx, "application/json")
        }
        Route::ContainerLogs {
            id,
            follow,
            stdout,
            stderr,
            since,
            until,
            timestamps,
            tail,
        } => {
            if !stdout && !stderr {
                return Err(ApiError::invalid(
                    "Bad parameters: you must choose at least one stream",
                ));
            }
            let now = chrono::Utc::now();
            // 0 is "no bound" (what clients send when the option is unset).
            let since = parse_time_param("since", since.as_deref(), now)?
                .filter(|t| t.timestamp() != 0 || t.timestamp_subsec_nanos() != 0);
            let until =
                parse_time_param("until", until.as_deref(), now)?.filter(|t| t.timestamp() != 0);
            let opts = LogOptions {
                stdout,
                stderr,
                since,
                until,
                timestamps,
                tail: tail
                    .as_deref()
                    .and_then(|t| if t == "all" { None } else { t.parse().ok() }),
                follow,
            };
            let (tty, rx) = e(engine.logs(&id, opts))?;
            stream_rx(
                rx,
                if tty {
                    "application/vnd.docker.raw-stream"
                } else {
                    "application/vnd.docker.multiplexed-stream"
                },
            )
        }
        Route::ContainerAttach {
            id,
            stream,
            stdin,
            stdout,
            stderr,
            logs,
            detach_keys,
        } => {
            let opts = AttachOptions {
                stdin,
                stdout,
                stderr,
                stream,
                logs,
                detach_keys,
            };
            let plan = e(engine.attach_prepare(&id, opts))?;
            let tty = plan.tty();
            let (resp, upgraded) = http::hijack(req, tty);
            tokio::spawn(async move {
                if let Ok(io) = upgraded.await {
                    plan.run(io).await;
                }
            });
            resp
        }
        Route::ContainerResize { id, h, w } => {
            e(engine.resize(&id, h.unwrap_or(0), w.unwrap_or(0)).await)?;
            http::empty(StatusCode::OK)
        }
        Route::ContainerTop { id, ps_args } => http::json(
            StatusCode::OK,
            &e(engine.top(&id, ps_args.as_deref().unwrap_or("")).await)?,
        ),
        Route::ContainerExport { id } => {
            let rx = e(engine.export(&id).await)?;
            stream_rx(rx, "application/x-tar")
        }
        Route::ExecCreate { id } => {
            let bytes = body_bytes(req).await?;
            let body: ExecCreateBody = parse_json(&bytes)?;
            let exec_id = e(engine.exec_create(&id, body))?;
            http::json(StatusCode::CREATED, &json!({"Id": exec_id}))
        }
        Route::ExecStart { id } => {
            let (parts, incoming) = req.into_parts();
            let bytes = incoming
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let body: ExecStartBody = parse_json(&bytes)?;
            let plan = e(engine.exec_start_prepare(&id, &body))?;
            if body.detach {
                e(plan.run_detached().await)?;
                http::empty(StatusCode::OK)
            } else {
                let tty = plan.tty();
                let req = Request::from_parts(parts, http_body_util::Empty::<Bytes>::new());
                let (resp, upgraded) = http::hijack(req, tty);
                tokio::spawn(async move {
                    if let Ok(io) = upgraded.await {
                        plan.run(io).await;
                    }
                });
                resp
            }
        }
        Route::ExecResize { id, h, w } => {
            e(engine
                .exec_resize(&id, h.unwrap_or(0), w.unwrap_or(0))
                .await)?;
            http::empty(StatusCode::OK)
        }
        Route::ExecInspect { id } => http::json(StatusCode::OK, &e(engine.exec_inspect(&id))?),

        Route::ImageCreate {
            from_src,
            from_image,
            repo,
            tag,
            message,
            changes,
            platform,
        } => {
            if from_src.as_deref() == Some("-") || from_src.is_some() {
                if from_src.as_deref() != Some("-") {
                    return Err(ApiError::not_implemented(
                        "importing from a URL is not supported",
                    ));
                }
                image_import(engine, req, repo, tag, message, changes, platform).await?
            } else if let Some(image) = from_image {
                let reference = match tag.filter(|t| !t.is_empty()) {
                    Some(t) if !image.contains('@') => format!("{image}:{t}"),
                    _ => image,
                };
                return Err(ApiError::not_found(format!(
                    "pull access denied for {reference}, repository does not exist or may require 'docker login': registries are not supported yet"
                )));
            } else {
                return Err(ApiError::invalid(
                    "either fromSrc or fromImage must be given",
                ));
            }
        }
        Route::ImageList { filters, .. } => {
            let mut list = e(engine
                .images
                .list(&filters_map(&filters))
                .map_err(Into::into))?;
            for item in &mut list {
                berth_api::compat::image_summary(version, item);
            }
            http::json(StatusCode::OK, &list)
        }
        Route::ImageInspect { name } => {
            let mut image = e(engine.images.inspect(&name).map_err(Into::into))?;
            berth_api::compat::image_inspect(version, &mut image);
            http::json(StatusCode::OK, &image)
        }
        Route::ImageHistory { name } => http::json(
            StatusCode::OK,
            &e(engine.images.history(&name).map_err(Into::into))?,
        ),
        Route::ImageTag { name, repo, tag } => {
            let repo = repo.unwrap_or_default();
            let id = e(engine.images.resolve(&name).map_err(Into::into))?;
            e(engine
                .images
                .tag(&name, &repo, tag.as_deref().filter(|t| !t.is_empty()))
                .map_err(Into::into))?;
            // dockerd names the new reference in its familiar form (`app:1`, not
            // `docker.io/library/app:1`, which is what the docker CLI sends).
            let shown = format!(
                "{}:{}",
                berth_image::reference::familiar_name(&repo),
                tag.as_deref().filter(|t| !t.is_empty()).unwrap_or("latest")
            );
            engine.image_event(&id, "tag", &shown);
            http::empty(StatusCode::CREATED)
        }
        Route::ImageDelete {
            name,
            force,
            noprune,
        } => {
            let containers: Vec<_> = engine.all().iter().map(|c| c.record()).collect();
            let using = |image_id: &str| -> Vec<berth_image::ContainerUse> {
                containers
                    .iter()
                    .filter(|r| r.image_id == image_id)
                    .map(|r| berth_image::ContainerUse {
                        id: r.id.clone(),
                        running: r.state.is_running(),
                    })
                    .collect()
            };
            let image_id = e(engine.images.resolve(&name).map_err(Into::into))?;
            let items = e(engine
                .images
                .remove(&name, force, noprune, &using)
                .map_err(Into::into))?;
            // As dockerd: both events name the image by its ID (Actor.ID and `name`).
            for item in &items {
                match item {
                    berth_image::DeleteItem::Untagged(_) => {
                        engine.image_event(&image_id, "untag", &image_id)
                    }
                    berth_image::DeleteItem::Deleted(d) => engine.image_event(d, "delete", d),
                }
            }
            http::json(StatusCode::OK, &items)
        }
        // Until networking, volumes and plugins land, berth answers for what it has: the
        // `host` and `none` networks, no volumes, no plugins. Clients such as `docker
        // inspect` try each object type in turn and need a 404, not a 501, to go on.
        Route::NetworkList => http::json(StatusCode::OK, &[network("host"), network("none")]),
        Route::NetworkInspect { id } => {
            let found = ["host", "none"].into_iter().map(network).find(|n| {
                n["Name"] == id.as_str()
                    || n["Id"].as_str().is_some_and(|nid| nid.starts_with(id.as_str()))
            });
            match found {
                Some(n) => http::json(StatusCode::OK, &n),
                None => return Err(ApiError::not_found(format!("network {id} not found"))),
            }
        }
        Route::VolumeList => http::json(StatusCode::OK, &json!({"Volumes": [], "Warnings": null})),
        Route::VolumeInspect { name } => {
            return Err(ApiError::not_found(format!("get {name}: no such volume")))
        }
        Route::Plugin { what } if what == "GET /plugins" => http::json(StatusCode::OK, &json!([])),
        Route::Plugin { what } if what.starts_with("GET /plugins/") && what.ends_with("/json") => {
            let name = &what["GET /plugins/".len()..what.len() - "/json".len()];
            return Err(ApiError::not_found(format!("plugin \"{name}\" not found")));
        }
        // dockerd's answer to swarm requests on a node outside a swarm.
        Route::Swarm { .. } => {
            return Err(ApiError::new(
                503,
                "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.",
            ))
        }
        other => {
            return Err(ApiError::not_implemented(format!(
                "{other:?} is not implemented yet"
            )))
        }
    })
}

/// One of the two networks berth has, in dockerd's `Network` shape (stable IDs).
fn network(name: &str) -> serde_json::Value {
    let id = if name == "host" {
        "29d8fbd501c48f24c0b0ab0a908c013d555ef2e9ed03d2a518b50c8d633061ee"
    } else {
        "8fad26f444f3ef9306232761713d4595de2bdedb4dd5dd8a2ff916d90be62e7e"
    };
    json!({
        "Name": name, "Id": id, "Created": "0001-01-01T00:00:00Z", "Scope": "local",
        "Driver": if name == "host" { "host" } else { "null" },
        "EnableIPv4": name == "host", "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": null},
        "Internal": false, "Attachable": false, "Ingress": false,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": false,
        "Containers": {}, "Options": {}, "Labels": {}
    })
}

async fn image_import(
    engine: &Arc<Engine>,
    req: Request<Incoming>,
    repo: Option<String>,
    tag: Option<String>,
    message: Option<String>,
    changes: Vec<String>,
    platform: Option<String>,
) -> Result<Response<Body>> {
    // Stream the body into the store on a blocking thread through a pipe-like channel.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(16);
    let reader = ChannelReader {
        rx,
        buf: Bytes::new(),
    };
    let images = engine.clone();
    let repo = repo.filter(|r| !r.is_empty());
    let tag = tag.filter(|t| !t.is_empty());
    let reference = repo.as_ref().map(|r| {
        format!(
            "{}:{}",
            berth_image::reference::familiar_name(r),
            tag.as_deref().unwrap_or("latest")
        )
    });
    let opts = berth_image::ImportOptions {
        repo,
        tag,
        changes,
        // dockerd's default history comment for an import from the request body.
        message: message.unwrap_or_else(|| "Imported from -".to_string()),
        platform,
    };
    let job = tokio::task::spawn_blocking(move || images.images.import(reader, &opts));
    let mut body = req.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|err| ApiError::invalid(format!("cannot read the request body: {err}")))?;
        if let Ok(data) = frame.into_data() {
            if tx.send(data).is_err() {
                break;
            }
        }
    }
    drop(tx);
    let id = job
        .await
        .map_err(|err| ApiError::system(err.to_string()))?
        .map_err(|err| api_error(err.into()))?;
    engine.image_event(&id, "import", &id);
    if let Some(r) = &reference {
        engine.image_event(&id, "tag", r);
    }
    let status = json!({"status": id}).to_string() + "\r\n";
    Ok(http::json_stream_once(status))
}

/// A blocking `Read` over chunks sent from the async side.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Bytes>,
    buf: Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.recv() {
                Ok(b) => self.buf = b,
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        Ok(n)
    }
}

fn events(
    engine: &Arc<Engine>,
    since: Option<String>,
    until: Option<String>,
    filters: berth_api::filters::Filters,
) -> Result<Response<Body>> {
    let filters = filters_map(&filters);
    let now = chrono::Utc::now();
    let since = parse_time_param("since", since.as_deref(), now)?;
    let until = parse_time_param("until", until.as_deref(), now)?;
    let (history, mut live) = engine.events.subscribe();
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let in_range = |t: i64| {
            since.is_none_or(|s| t >= s.timestamp_nanos_opt().unwrap_or(0))
                && until.is_none_or(|u| t <= u.timestamp_nanos_opt().unwrap_or(i64::MAX))
        };
        if since.is_some() {
            for ev in history
                .iter()
                .filter(|ev| in_range(ev.time_nano) && ev.matches(&filters))
            {
                let line = serde_json::to_string(ev).unwrap_or_default() + "\n";
                if tx.send(Bytes::from(line)).await.is_err() {
                    return;
                }
            }
        }
        let deadline = until.map(|u| {
            let wait = (u - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::time::Instant::now() + wait
        });
        if deadline.is_some_and(|d| d <= tokio::time::Instant::now()) {
            return;
        }
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, live.recv()).await.ok(),
                    None => Some(live.recv().await),
                }
            };
            tokio::select! {
                ev = next => match ev {
                    None => return,
                    Some(Ok(ev)) => {
                        if in_range(ev.time_nano) && ev.matches(&filters) {
                            let line = serde_json::to_string(&ev).unwrap_or_default() + "\n";
                            if tx.send(Bytes::from(line)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Some(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
                    Some(Err(_)) => return,
                },
                _ = tx.closed() => return,
            }
        }
    });
    Ok(stream_rx(rx, "application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_like_go() {
        let b: ContainerCreateBody = parse_json(
            br#"{"Image":"busybox","User":null,"HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t","Source":null}],"Memory":null}}"#,
        )
        .unwrap();
        assert_eq!(b.config.image, "busybox");
        assert_eq!(b.host_config.mounts.unwrap()[0].source, "");
        let empty: ExecStartBody = parse_json(b" null ").unwrap();
        assert!(!empty.detach);
        for bad in [&b"[]"[..], b"1", b"\"x\"", b"true", b"{", b"{} {}"] {
            let err = parse_json::<ExecStartBody>(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
    }
}
