//! Requests parsed into typed routes: method + path + query → [`Route`], with no I/O,
//! so every rule below is unit-tested and fuzzed.
//!
//! The rules are dockerd's router (moby `api/server`, gorilla/mux):
//! - Each route exists with and without a `/v{version}` prefix (`[0-9.]+`).
//! - The path is percent-decoded before matching, and object names are `{name:.*}`:
//!   they may hold slashes (`/images/localhost:5000/ns/app:1/json`) and are found by
//!   stripping a fixed prefix and suffix.
//! - An unknown path is 404 `page not found`, and so is a known path with the wrong
//!   method: dockerd sets gorilla's `MethodNotAllowedHandler` to the not-found handler,
//!   so it never answers 405.
//! - A matched route with a version outside 1.24..=1.50 is 400 (the version middleware
//!   runs before the handler); after that come bad query parameters (400).
//! - Endpoints berth does not implement still parse (to their own variants), so that the
//!   daemon answers 501 rather than a misleading 404.

use crate::error::ApiError;
use crate::filters::Filters;
use crate::query::{unescape, Query};
use crate::version;

/// One parsed API request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The version from the `/v1.NN` prefix (already checked to be supported), `None`
    /// when the path had no prefix, which dockerd serves as its newest version.
    pub version: Option<String>,
    /// What is asked.
    pub route: Route,
}

impl Request {
    /// The API version the request is served at.
    pub fn api_version(&self) -> &str {
        self.version.as_deref().unwrap_or(version::API_VERSION)
    }
}

/// Every endpoint of the Engine API, with its path parameters and the query parameters
/// berth reads. String parameters are `None` when absent *or empty* (dockerd cannot tell
/// them apart either); flags follow dockerd's `BoolValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    // ---- system ----
    /// `GET|HEAD /_ping`.
    Ping {
        /// HEAD: headers only.
        head: bool,
    },
    /// `GET /version`.
    Version,
    /// `GET /info`.
    Info,
    /// `GET /events`: `since`/`until` are raw (Unix seconds with optional fraction,
    /// RFC 3339 or a Go duration); the handler parses them.
    Events {
        since: Option<String>,
        until: Option<String>,
        filters: Filters,
    },
    /// `GET /system/df` (not implemented yet).
    SystemDf,
    /// `POST /auth` (not implemented yet).
    Auth,
    /// `OPTIONS` on any path: dockerd answers 200 with no body (CORS preflight).
    Options,

    // ---- containers ----
    /// `GET /containers/json`.
    ContainerList {
        all: bool,
        /// Negative or 0 means no limit, as in dockerd.
        limit: Option<i64>,
        size: bool,
        filters: Filters,
    },
    /// `POST /containers/create`.
    ContainerCreate {
        name: Option<String>,
        platform: Option<String>,
    },
    /// `GET /containers/{id}/json`.
    ContainerInspect { id: String, size: bool },
    /// `GET /containers/{id}/top`.
    ContainerTop { id: String, ps_args: Option<String> },
    /// `GET /containers/{id}/logs`: `since`/`until`/`tail` raw, for the handler.
    ContainerLogs {
        id: String,
        follow: bool,
        stdout: bool,
        stderr: bool,
        since: Option<String>,
        until: Option<String>,
        timestamps: bool,
        /// A count or "all".
        tail: Option<String>,
    },
    /// `GET /containers/{id}/changes` (not implemented yet).
    ContainerChanges { id: String },
    /// `GET /containers/{id}/export`.
    ContainerExport { id: String },
    /// `GET /containers/{id}/stats` (not implemented yet).
    ContainerStats { id: String },
    /// `POST /containers/{id}/resize`.
    ContainerResize {
        id: String,
        h: Option<u32>,
        w: Option<u32>,
    },
    /// `POST /containers/{id}/start`.
    ContainerStart {
        id: String,
        detach_keys: Option<String>,
    },
    /// `POST /containers/{id}/stop`: `t` in seconds (-1: wait forever).
    ContainerStop {
        id: String,
        t: Option<i64>,
        signal: Option<String>,
    },
    /// `POST /containers/{id}/restart`.
    ContainerRestart {
        id: String,
        t: Option<i64>,
        signal: Option<String>,
    },
    /// `POST /containers/{id}/kill`: no signal means SIGKILL.
    ContainerKill { id: String, signal: Option<String> },
    /// `POST /containers/{id}/update` (not implemented yet).
    ContainerUpdate { id: String },
    /// `POST /containers/{id}/rename`: an absent name is "" (the engine rejects it).
    ContainerRename { id: String, name: String },
    /// `POST /containers/{id}/pause`.
    ContainerPause { id: String },
    /// `POST /containers/{id}/unpause`.
    ContainerUnpause { id: String },
    /// `POST /containers/{id}/attach` (hijacked connection).
    ContainerAttach {
        id: String,
        stream: bool,
        stdin: bool,
        stdout: bool,
        stderr: bool,
        logs: bool,
        detach_keys: Option<String>,
    },
    /// `GET /containers/{id}/attach/ws` (not implemented yet).
    ContainerAttachWs { id: String },
    /// `POST /containers/{id}/wait`: `condition` is checked here (dockerd checks it
    /// before looking the container up): not-running (default), next-exit, removed.
    ContainerWait {
        id: String,
        condition: Option<String>,
    },
    /// `DELETE /containers/{id}`.
    ContainerDelete {
        id: String,
        force: bool,
        v: bool,
        link: bool,
    },
    /// `HEAD /containers/{id}/archive` (not implemented yet).
    ContainerArchiveInfo { id: String },
    /// `GET /containers/{id}/archive` (not implemented yet).
    ContainerArchiveGet { id: String },
    /// `PUT /containers/{id}/archive` (not implemented yet).
    ContainerArchivePut { id: String },
    /// `POST /containers/prune` (not implemented yet).
    ContainerPrune,
    /// `POST /commit` (not implemented yet).
    Commit,

    // ---- exec ----
    /// `POST /containers/{id}/exec`: `id` is the container.
    ExecCreate { id: String },
    /// `POST /exec/{id}/start`.
    ExecStart { id: String },
    /// `POST /exec/{id}/resize`.
    ExecResize {
        id: String,
        h: Option<u32>,
        w: Option<u32>,
    },
    /// `GET /exec/{id}/json`.
    ExecInspect { id: String },

    // ---- images ----
    /// `GET /images/json`.
    ImageList {
        all: bool,
        filters: Filters,
        digests: bool,
        shared_size: bool,
        manifests: bool,
    },
    /// `POST /images/create`: pull (`fromImage`) or import (`fromSrc`, "-" = the body).
    ImageCreate {
        from_src: Option<String>,
        from_image: Option<String>,
        repo: Option<String>,
        tag: Option<String>,
        message: Option<String>,
        /// Dockerfile instructions applied on import (repeatable parameter).
        changes: Vec<String>,
        platform: Option<String>,
    },
    /// `GET /images/{name}/json`.
    ImageInspect { name: String },
    /// `GET /images/{name}/history`.
    ImageHistory { name: String },
    /// `POST /images/{name}/push` (not implemented yet).
    ImagePush { name: String },
    /// `POST /images/{name}/tag`.
    ImageTag {
        name: String,
        repo: Option<String>,
        tag: Option<String>,
    },
    /// `DELETE /images/{name}`.
    ImageDelete {
        name: String,
        force: bool,
        noprune: bool,
    },
    /// `GET /images/search` (not implemented yet).
    ImageSearch,
    /// `POST /images/prune` (not implemented yet).
    ImagePrune,
    /// `GET /images/{name}/get` or `GET /images/get?names=…` (not implemented yet).
    ImageSave { names: Vec<String> },
    /// `POST /images/load` (not implemented yet).
    ImageLoad,
    /// `GET /distribution/{name}/json` (not implemented yet).
    DistributionInspect { name: String },
    /// `POST /build` (not implemented yet).
    Build,
    /// `POST /build/prune` (not implemented yet).
    BuildPrune,
    /// `POST /build/cancel` (not implemented yet).
    BuildCancel,
    /// `POST /session` and `POST /grpc`: BuildKit's streams (not implemented yet).
    Session,

    // ---- networks (not implemented yet) ----
    /// `GET /networks`.
    NetworkList,
    /// `GET /networks/{id}`.
    NetworkInspect { id: String },
    /// `POST /networks/create`.
    NetworkCreate,
    /// `POST /networks/{id}/connect`.
    NetworkConnect { id: String },
    /// `POST /networks/{id}/disconnect`.
    NetworkDisconnect { id: String },
    /// `DELETE /networks/{id}`.
    NetworkDelete { id: String },
    /// `POST /networks/prune`.
    NetworkPrune,

    // ---- volumes (not implemented yet) ----
    /// `GET /volumes`.
    VolumeList,
    /// `GET /volumes/{name}`.
    VolumeInspect { name: String },
    /// `POST /volumes/create`.
    VolumeCreate,
    /// `PUT /volumes/{name}` (cluster volumes).
    VolumeUpdate { name: String },
    /// `DELETE /volumes/{name}`.
    VolumeDelete { name: String },
    /// `POST /volumes/prune`.
    VolumePrune,

    // ---- swarm and plugins (not implemented) ----
    /// Swarm endpoints (`/swarm`, `/nodes`, `/services`, `/tasks`, `/secrets`,
    /// `/configs`); `what` is "METHOD /path".
    Swarm { what: String },
    /// Plugin endpoints (`/plugins…`); `what` is "METHOD /path".
    Plugin { what: String },
}

/// Parses one request. `path` is the raw (still percent-encoded) path and `query` the
/// raw query string, both as on the request line.
pub fn parse(method: &str, path: &str, query: Option<&str>) -> Result<Request, ApiError> {
    let path = unescape(path, false)?;
    let (version, path) = split_version(&path);
    let mut q = Query::parse(query);
    let route = match method {
        "GET" => get(path, &mut q),
        "HEAD" => head(path),
        "POST" => post(path, &mut q),
        "PUT" => put(path),
        "DELETE" => delete(path, &mut q),
        "OPTIONS" => Some(Route::Options),
        _ => None,
    }
    .ok_or_else(|| ApiError::not_found("page not found"))?;
    if let Some(v) = version {
        version::check(v)?;
    }
    if let Some(err) = q.into_error() {
        return Err(err);
    }
    Ok(Request {
        version: version.map(str::to_string),
        route,
    })
}

/// Splits dockerd's `/v{version:[0-9.]+}` prefix off. A first segment that is not
/// exactly that stays part of the path (and will not match: 404).
fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some(slash) = rest.find('/') {
            let v = &rest[..slash];
            if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return (Some(v), &rest[slash..]);
            }
        }
    }
    (None, path)
}

/// The `{name:.*}` of a route `prefix{name}suffix`, when non-empty.
fn between(path: &str, prefix: &str, suffix: &str) -> Option<String> {
    let name = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Swarm resources: dockerd registers them whether or not swarm mode is on.
const SWARM_COLLECTIONS: [&str; 5] = ["/nodes", "/services", "/tasks", "/secrets", "/configs"];

fn swarm(method: &str, path: &str) -> Option<Route> {
    let what = || Route::Swarm {
        what: format!("{method} {path}"),
    };
    let known = match method {
        "GET" => {
            matches!(path, "/swarm" | "/swarm/unlockkey")
                || SWARM_COLLECTIONS.iter().any(|c| {
                    path == *c
                        || between(path, &format!("{c}/"), "").is_some_and(|n| {
                            // `{id}` in these routes holds no slash; `/services/{id}/logs`
                            // and `/tasks/{id}/logs` are the only nested GETs.
                            let logs_of = n.strip_suffix("/logs").filter(|id| !id.is_empty());
                            !n.contains('/')
                                || (matches!(*c, "/services" | "/tasks")
                                    && logs_of.is_some_and(|id| !id.contains('/')))
                        })
                })
        }
        "POST" => {
            matches!(
                path,
                "/swarm/init"
                    | "/swarm/join"
                    | "/swarm/leave"
                    | "/swarm/update"
                    | "/swarm/unlock"
                    | "/services/create"
                    | "/secrets/create"
                    | "/configs/create"
            ) || ["/nodes/", "/services/", "/secrets/", "/configs/"]
                .iter()
                .any(|p| between(path, p, "/update").is_some())
        }
        "DELETE" => ["/nodes/", "/services/", "/secrets/", "/configs/"]
            .iter()
            .any(|p| between(path, p, "").is_some()),
        _ => false,
    };
    known.then(what)
}

fn plugin(method: &str, path: &str) -> Option<Route> {
    let known = match method {
        "GET" => {
            matches!(path, "/plugins" | "/plugins/privileges")
                || between(path, "/plugins/", "/json").is_some()
        }
        "POST" => {
            matches!(path, "/plugins/pull" | "/plugins/create")
                || ["/enable", "/disable", "/push", "/upgrade", "/set"]
                    .iter()
                    .any(|s| between(path, "/plugins/", s).is_some())
        }
        "DELETE" => between(path, "/plugins/", "").is_some(),
        _ => false,
    };
    known.then(|| Route::Plugin {
        what: format!("{method} {path}"),
    })
}

fn get(p: &str, q: &mut Query) -> Option<Route> {
    let route = match p {
        "/_ping" => Route::Ping { head: false },
        "/version" => Route::Version,
        "/info" => Route::Info,
        "/events" => Route::Events {
            since: q.string("since"),
            until: q.string("until"),
            filters: q.filters(),
        },
        "/system/df" => Route::SystemDf,
        "/containers/json" => {
            let mut filters = q.filters();
            // The legacy `since` and `before` parameters (docker-py still sends them) are
            // the filters of the same names, as in dockerd's handler.
            for key in ["since", "before"] {
                if let Some(v) = q.string(key) {
                    filters.add(key, v);
                }
            }
            Route::ContainerList {
                all: q.flag("all"),
                limit: q.int("limit"),
                size: q.flag("size"),
                filters,
            }
        }
        "/images/json" => Route::ImageList {
            all: q.flag("all"),
            filters: q.filters(),
            digests: q.flag("digests"),
            shared_size: q.flag("shared-size"),
            manifests: q.flag("manifests"),
        },
        "/images/search" => Route::ImageSearch,
        "/images/get" => Route::ImageSave {
            names: q.strings("names"),
        },
        "/networks" | "/networks/" => Route::NetworkList,
        "/volumes" => Route::VolumeList,
        _ => return get_named(p, q),
    };
    Some(route)
}

fn get_named(p: &str, q: &mut Query) -> Option<Route> {
    let c = |suffix| between(p, "/containers/", suffix);
    if let Some(id) = c("/json") {
        return Some(Route::ContainerInspect {
            id,
            size: q.flag("size"),
        });
    }
    if let Some(id) = c("/top") {
        return Some(Route::ContainerTop {
            id,
            ps_args: q.string("ps_args"),
        });
    }
    if let Some(id) = c("/logs") {
        return Some(Route::ContainerLogs {
            id,
            follow: q.flag("follow"),
            stdout: q.flag("stdout"),
            stderr: q.flag("stderr"),
            since: q.string("since"),
            until: q.string("until"),
            timestamps: q.flag("timestamps"),
            tail: q.string("tail"),
        });
    }
    if let Some(id) = c("/changes") {
        return Some(Route::ContainerChanges { id });
    }
    if let Some(id) = c("/export") {
        return Some(Route::ContainerExport { id });
    }
    if let Some(id) = c("/stats") {
        return Some(Route::ContainerStats { id });
    }
    if let Some(id) = c("/attach/ws") {
        return Some(Route::ContainerAttachWs { id });
    }
    if let Some(id) = c("/archive") {
        return Some(Route::ContainerArchiveGet { id });
    }
    if let Some(id) = between(p, "/exec/", "/json") {
        return Some(Route::ExecInspect { id });
    }
    let i = |suffix| between(p, "/images/", suffix);
    if let Some(name) = i("/json") {
        return Some(Route::ImageInspect { name });
    }
    if let Some(name) = i("/history") {
        return Some(Route::ImageHistory { name });
    }
    if let Some(name) = i("/get") {
        return Some(Route::ImageSave { names: vec![name] });
    }
    if let Some(name) = between(p, "/distribution/", "/json") {
        return Some(Route::DistributionInspect { name });
    }
    if let Some(id) = between(p, "/networks/", "") {
        return Some(Route::NetworkInspect { id });
    }
    if let Some(name) = between(p, "/volumes/", "") {
        return Some(Route::VolumeInspect { name });
    }
    swarm("GET", p).or_else(|| plugin("GET", p))
}

fn head(p: &str) -> Option<Route> {
    if p == "/_ping" {
        return Some(Route::Ping { head: true });
    }
    between(p, "/containers/", "/archive").map(|id| Route::ContainerArchiveInfo { id })
}

fn put(p: &str) -> Option<Route> {
    if let Some(id) = between(p, "/containers/", "/archive") {
        return Some(Route::ContainerArchivePut { id });
    }
    between(p, "/volumes/", "").map(|name| Route::VolumeUpdate { name })
}

fn post(p: &str, q: &mut Query) -> Option<Route> {
    let route = match p {
        "/containers/create" => Route::ContainerCreate {
            name: q.string("name"),
            platform: q.string("platform"),
        },
        "/containers/prune" => Route::ContainerPrune,
        "/commit" => Route::Commit,
        "/images/create" => Route::ImageCreate {
            from_src: q.string("fromSrc"),
            from_image: q.string("fromImage"),
            repo: q.string("repo"),
            tag: q.string("tag"),
            message: q.string("message"),
            changes: q.strings("changes"),
            platform: q.string("platform"),
        },
        "/images/load" => Route::ImageLoad,
        "/images/prune" => Route::ImagePrune,
        "/build" => Route::Build,
        "/build/prune" => Route::BuildPrune,
        "/build/cancel" => Route::BuildCancel,
        "/session" | "/grpc" => Route::Session,
        "/auth" => Route::Auth,
        "/networks/create" => Route::NetworkCreate,
        "/networks/prune" => Route::NetworkPrune,
        "/volumes/create" => Route::VolumeCreate,
        "/volumes/prune" => Route::VolumePrune,
        _ => return post_named(p, q),
    };
    Some(route)
}

fn post_named(p: &str, q: &mut Query) -> Option<Route> {
    let c = |suffix| between(p, "/containers/", suffix);
    if let Some(id) = c("/start") {
        return Some(Route::ContainerStart {
            id,
            detach_keys: q.string("detachKeys"),
        });
    }
    if let Some(id) = c("/stop") {
        return Some(Route::ContainerStop {
            id,
            t: q.int("t"),
            signal: q.string("signal"),
        });
    }
    if let Some(id) = c("/restart") {
        return Some(Route::ContainerRestart {
            id,
            t: q.int("t"),
            signal: q.string("signal"),
        });
    }
    if let Some(id) = c("/kill") {
        return Some(Route::ContainerKill {
            id,
            signal: q.string("signal"),
        });
    }
    if let Some(id) = c("/pause") {
        return Some(Route::ContainerPause { id });
    }
    if let Some(id) = c("/unpause") {
        return Some(Route::ContainerUnpause { id });
    }
    if let Some(id) = c("/wait") {
        let condition = q.string("condition");
        if let Some(v) = condition.as_deref() {
            if !matches!(v, "not-running" | "next-exit" | "removed") {
                q.fail(ApiError::invalid(format!("invalid condition: {v:?}")));
            }
        }
        return Some(Route::ContainerWait { id, condition });
    }
    if let Some(id) = c("/resize") {
        return Some(Route::ContainerResize {
            id,
            h: q.size("h", "height"),
            w: q.size("w", "width"),
        });
    }
    if let Some(id) = c("/attach") {
        return Some(Route::ContainerAttach {
            id,
            stream: q.flag("stream"),
            stdin: q.flag("stdin"),
            stdout: q.flag("stdout"),
            stderr: q.flag("stderr"),
            logs: q.flag("logs"),
            detach_keys: q.string("detachKeys"),
        });
    }
    if let Some(id) = c("/exec") {
        return Some(Route::ExecCreate { id });
    }
    if let Some(id) = c("/rename") {
        return Some(Route::ContainerRename {
            id,
            name: q.get("name").to_string(),
        });
    }
    if let Some(id) = c("/update") {
        return Some(Route::ContainerUpdate { id });
    }
    if let Some(id) = between(p, "/exec/", "/start") {
        return Some(Route::ExecStart { id });
    }
    if let Some(id) = between(p, "/exec/", "/resize") {
        return Some(Route::ExecResize {
            id,
            h: q.size("h", "height"),
            w: q.size("w", "width"),
        });
    }
    if let Some(name) = between(p, "/images/", "/push") {
        return Some(Route::ImagePush { name });
    }
    if let Some(name) = between(p, "/images/", "/tag") {
        return Some(Route::ImageTag {
            name,
            repo: q.string("repo"),
            tag: q.string("tag"),
        });
    }
    if let Some(id) = between(p, "/networks/", "/connect") {
        return Some(Route::NetworkConnect { id });
    }
    if let Some(id) = between(p, "/networks/", "/disconnect") {
        return Some(Route::NetworkDisconnect { id });
    }
    swarm("POST", p).or_else(|| plugin("POST", p))
}

fn delete(p: &str, q: &mut Query) -> Option<Route> {
    if let Some(id) = between(p, "/containers/", "") {
        return Some(Route::ContainerDelete {
            id,
            force: q.flag("force"),
            v: q.flag("v"),
            link: q.flag("link"),
        });
    }
    if let Some(name) = between(p, "/images/", "") {
        return Some(Route::ImageDelete {
            name,
            force: q.flag("force"),
            noprune: q.flag("noprune"),
        });
    }
    if let Some(id) = between(p, "/networks/", "") {
        return Some(Route::NetworkDelete { id });
    }
    if let Some(name) = between(p, "/volumes/", "") {
        return Some(Route::VolumeDelete { name });
    }
    swarm("DELETE", p).or_else(|| plugin("DELETE", p))
}

#[cfg(test)]
mod tests;
