use super::*;

fn route(method: &str, target: &str) -> Route {
    try_route(method, target)
        .unwrap_or_else(|e| panic!("{method} {target}: {} {}", e.status(), e.message()))
        .route
}

fn try_route(method: &str, target: &str) -> Result<Request, ApiError> {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    parse(method, path, query)
}

fn error(method: &str, target: &str) -> (u16, String) {
    match try_route(method, target) {
        Ok(r) => panic!("{method} {target}: expected an error, got {r:?}"),
        Err(e) => (e.status(), e.message().to_string()),
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn system() {
    assert_eq!(route("GET", "/_ping"), Route::Ping { head: false });
    assert_eq!(route("HEAD", "/_ping"), Route::Ping { head: true });
    assert_eq!(route("GET", "/version"), Route::Version);
    assert_eq!(route("GET", "/info"), Route::Info);
    assert_eq!(route("GET", "/system/df"), Route::SystemDf);
    assert_eq!(route("POST", "/auth"), Route::Auth);
    assert_eq!(route("OPTIONS", "/containers/json"), Route::Options);
    assert_eq!(
        route(
            "GET",
            "/events?since=1700000000&until=10m&filters=%7B%22type%22%3A%5B%22container%22%5D%7D"
        ),
        Route::Events {
            since: s("1700000000"),
            until: s("10m"),
            filters: Filters::parse(r#"{"type":{"container":true}}"#).unwrap(),
        }
    );
}

#[test]
fn version_prefix() {
    let r = try_route("GET", "/v1.41/containers/json").unwrap();
    assert_eq!(r.version.as_deref(), Some("1.41"));
    assert_eq!(r.api_version(), "1.41");
    let r = try_route("GET", "/containers/json").unwrap();
    assert_eq!(r.version, None);
    assert_eq!(r.api_version(), "1.50");
    assert_eq!(route("HEAD", "/v1.50/_ping"), Route::Ping { head: true });
    assert_eq!(route("GET", "/v1.24/version"), Route::Version);
    // A percent-encoded prefix is decoded first, as Go does.
    assert_eq!(route("GET", "/v1%2E45/info"), Route::Info);
}

#[test]
fn unsupported_versions() {
    assert_eq!(
        error("GET", "/v1.51/_ping"),
        (
            400,
            "client version 1.51 is too new. Maximum supported API version is 1.50".into()
        )
    );
    assert_eq!(
        error("GET", "/v1.23/version"),
        (
            400,
            "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
                .into()
        )
    );
    assert_eq!(error("GET", "/v2/info").0, 400);
    assert_eq!(error("GET", "/v1/info").0, 400);
    // An unknown path is 404 whatever the version (the version middleware never runs).
    assert_eq!(error("GET", "/v9.99/nope"), (404, "page not found".into()));
    // The version error comes before bad parameters.
    assert_eq!(error("POST", "/v1.99/containers/x/stop?t=x").0, 400);
    assert!(error("POST", "/v1.99/containers/x/stop?t=x")
        .1
        .contains("too new"));
}

#[test]
fn not_found() {
    for (method, target) in [
        ("GET", "/"),
        ("GET", ""),
        ("GET", "/nope"),
        ("GET", "/v1.50"),
        ("GET", "/v1.50/"),
        ("GET", "/vx/_ping"),
        ("GET", "/v1.50x/_ping"),
        ("GET", "/containers"),
        ("GET", "/containers/"),
        ("GET", "/containers//json"),
        ("GET", "/containers/x"),
        ("GET", "/containers/x/nope"),
        ("GET", "/images/json/extra"),
        ("POST", "/containers/x"),
        ("PATCH", "/containers/json"),
        ("GET", "/nodes/a/b"),
        ("GET", "/services/a/b/logs"),
        ("POST", "/containers/x/copy"),
    ] {
        assert_eq!(
            error(method, target),
            (404, "page not found".to_string()),
            "{method} {target}"
        );
    }
}

#[test]
fn wrong_method_is_404_like_dockerd() {
    // dockerd's gorilla router uses the not-found handler for method mismatches.
    for (method, target) in [
        ("POST", "/_ping"),
        ("DELETE", "/version"),
        ("PUT", "/containers/json"),
        ("POST", "/containers/json"),
        ("GET", "/containers/create"),
        ("GET", "/containers/x/start"),
        ("HEAD", "/version"),
        ("PUT", "/images/x/tag"),
    ] {
        assert_eq!(
            error(method, target),
            (404, "page not found".to_string()),
            "{method} {target}"
        );
    }
    // ... but a route of that method may match the same path: DELETE /containers/{name:.*}.
    assert_eq!(
        route("DELETE", "/containers/x/json"),
        Route::ContainerDelete {
            id: "x/json".into(),
            force: false,
            v: false,
            link: false
        }
    );
}

#[test]
fn containers() {
    assert_eq!(
        route("GET", "/containers/json"),
        Route::ContainerList {
            all: false,
            limit: None,
            size: false,
            filters: Filters::default()
        }
    );
    assert_eq!(
        route("GET", "/containers/json?all=1&limit=3&size=true&filters=%7B%22status%22%3A%7B%22running%22%3Atrue%7D%7D"),
        Route::ContainerList {
            all: true,
            limit: Some(3),
            size: true,
            filters: Filters::parse(r#"{"status":{"running":true}}"#).unwrap(),
        }
    );
    // docker-py's `since`/`before` parameters become filters.
    let mut legacy = Filters::parse(r#"{"label":{"a":true}}"#).unwrap();
    legacy.add("since", "abc");
    legacy.add("before", "def");
    assert_eq!(
        route(
            "GET",
            "/containers/json?since=abc&before=def&filters=%7B%22label%22%3A%5B%22a%22%5D%7D"
        ),
        Route::ContainerList {
            all: false,
            limit: None,
            size: false,
            filters: legacy,
        }
    );
    assert_eq!(
        route("POST", "/containers/create?name=web&platform=linux%2Famd64"),
        Route::ContainerCreate {
            name: s("web"),
            platform: s("linux/amd64")
        }
    );
    assert_eq!(
        route("POST", "/containers/create?name="),
        Route::ContainerCreate {
            name: None,
            platform: None
        }
    );
    assert_eq!(
        route("GET", "/containers/abc/json?size=1"),
        Route::ContainerInspect {
            id: "abc".into(),
            size: true
        }
    );
    assert_eq!(
        route("GET", "/containers/abc/top?ps_args=-ef"),
        Route::ContainerTop {
            id: "abc".into(),
            ps_args: s("-ef")
        }
    );
    assert_eq!(
        route("GET", "/containers/abc/logs?stdout=1&stderr=1&follow=1&since=10&until=20&timestamps=1&tail=all"),
        Route::ContainerLogs {
            id: "abc".into(),
            follow: true,
            stdout: true,
            stderr: true,
            since: s("10"),
            until: s("20"),
            timestamps: true,
            tail: s("all"),
        }
    );
    assert_eq!(
        route("GET", "/containers/abc/export"),
        Route::ContainerExport { id: "abc".into() }
    );
    assert_eq!(
        route("GET", "/containers/abc/changes"),
        Route::ContainerChanges { id: "abc".into() }
    );
    assert_eq!(
        route("GET", "/containers/abc/stats?stream=0"),
        Route::ContainerStats { id: "abc".into() }
    );
    assert_eq!(
        route("GET", "/containers/abc/attach/ws"),
        Route::ContainerAttachWs { id: "abc".into() }
    );
    assert_eq!(
        route("POST", "/containers/abc/resize?h=24&w=80"),
        Route::ContainerResize {
            id: "abc".into(),
            h: Some(24),
            w: Some(80)
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/start?detachKeys=ctrl-x,x"),
        Route::ContainerStart {
            id: "abc".into(),
            detach_keys: s("ctrl-x,x")
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/stop?t=5&signal=SIGINT"),
        Route::ContainerStop {
            id: "abc".into(),
            t: Some(5),
            signal: s("SIGINT")
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/stop?t=-1"),
        Route::ContainerStop {
            id: "abc".into(),
            t: Some(-1),
            signal: None
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/restart?t=0"),
        Route::ContainerRestart {
            id: "abc".into(),
            t: Some(0),
            signal: None
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/kill"),
        Route::ContainerKill {
            id: "abc".into(),
            signal: None
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/kill?signal=HUP"),
        Route::ContainerKill {
            id: "abc".into(),
            signal: s("HUP")
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/pause"),
        Route::ContainerPause { id: "abc".into() }
    );
    assert_eq!(
        route("POST", "/containers/abc/unpause"),
        Route::ContainerUnpause { id: "abc".into() }
    );
    assert_eq!(
        route("POST", "/containers/abc/rename?name=new%20name"),
        Route::ContainerRename {
            id: "abc".into(),
            name: "new name".into()
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/rename"),
        Route::ContainerRename {
            id: "abc".into(),
            name: String::new()
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/update"),
        Route::ContainerUpdate { id: "abc".into() }
    );
    assert_eq!(
        route("POST", "/containers/abc/attach?stream=1&stdin=1&stdout=1&stderr=0&logs=false&detachKeys=ctrl-p%2Cctrl-q"),
        Route::ContainerAttach {
            id: "abc".into(),
            stream: true,
            stdin: true,
            stdout: true,
            stderr: false,
            logs: false,
            detach_keys: s("ctrl-p,ctrl-q"),
        }
    );
    assert_eq!(
        route("POST", "/containers/abc/wait"),
        Route::ContainerWait {
            id: "abc".into(),
            condition: None
        }
    );
    for c in ["not-running", "next-exit", "removed"] {
        assert_eq!(
            route("POST", &format!("/containers/abc/wait?condition={c}")),
            Route::ContainerWait {
                id: "abc".into(),
                condition: s(c)
            }
        );
    }
    assert_eq!(
        route("DELETE", "/containers/abc?force=1&v=1&link=0"),
        Route::ContainerDelete {
            id: "abc".into(),
            force: true,
            v: true,
            link: false
        }
    );
    assert_eq!(
        route("HEAD", "/containers/abc/archive?path=/etc"),
        Route::ContainerArchiveInfo { id: "abc".into() }
    );
    assert_eq!(
        route("GET", "/containers/abc/archive?path=/etc"),
        Route::ContainerArchiveGet { id: "abc".into() }
    );
    assert_eq!(
        route("PUT", "/containers/abc/archive?path=/etc"),
        Route::ContainerArchivePut { id: "abc".into() }
    );
    assert_eq!(route("POST", "/containers/prune"), Route::ContainerPrune);
    assert_eq!(route("POST", "/commit?container=abc&repo=x"), Route::Commit);
}

#[test]
fn container_names_are_decoded_and_may_hold_slashes() {
    // dockerd's routes are `/containers/{name:.*}/json` on the decoded path.
    assert_eq!(
        route("GET", "/containers/a%2Fb/json"),
        Route::ContainerInspect {
            id: "a/b".into(),
            size: false
        }
    );
    assert_eq!(
        route("GET", "/containers/%2Fweb/json"),
        Route::ContainerInspect {
            id: "/web".into(),
            size: false
        }
    );
    assert_eq!(
        route("POST", "/containers/my%20app/start"),
        Route::ContainerStart {
            id: "my app".into(),
            detach_keys: None
        }
    );
    // `+` is a plus in a path (it is a space only in a query).
    assert_eq!(
        route("GET", "/containers/a+b/json"),
        Route::ContainerInspect {
            id: "a+b".into(),
            size: false
        }
    );
    // `/containers/json/json` is the container named "json".
    assert_eq!(
        route("GET", "/containers/json/json"),
        Route::ContainerInspect {
            id: "json".into(),
            size: false
        }
    );
}

#[test]
fn exec() {
    assert_eq!(
        route("POST", "/containers/abc/exec"),
        Route::ExecCreate { id: "abc".into() }
    );
    assert_eq!(
        route("POST", "/exec/e1/start"),
        Route::ExecStart { id: "e1".into() }
    );
    assert_eq!(
        route("POST", "/exec/e1/resize?h=10&w=20"),
        Route::ExecResize {
            id: "e1".into(),
            h: Some(10),
            w: Some(20)
        }
    );
    assert_eq!(
        route("POST", "/exec/e1/resize"),
        Route::ExecResize {
            id: "e1".into(),
            h: None,
            w: None
        }
    );
    assert_eq!(
        route("GET", "/exec/e1/json"),
        Route::ExecInspect { id: "e1".into() }
    );
}

#[test]
fn images() {
    assert_eq!(
        route("GET", "/images/json"),
        Route::ImageList {
            all: false,
            filters: Filters::default(),
            digests: false,
            shared_size: false,
            manifests: false
        }
    );
    assert_eq!(
        route("GET", "/images/json?all=1&digests=1&shared-size=1&manifests=1&filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D"),
        Route::ImageList {
            all: true,
            filters: Filters::parse(r#"{"dangling":{"true":true}}"#).unwrap(),
            digests: true,
            shared_size: true,
            manifests: true,
        }
    );
    assert_eq!(
        route(
            "POST",
            "/images/create?fromImage=alpine&tag=3.20&platform=linux%2Farm64"
        ),
        Route::ImageCreate {
            from_src: None,
            from_image: s("alpine"),
            repo: None,
            tag: s("3.20"),
            message: None,
            changes: vec![],
            platform: s("linux/arm64"),
        }
    );
    assert_eq!(
        route("POST", "/images/create?fromSrc=-&repo=me%2Fimg&tag=v1&message=hello+world&changes=CMD+%5B%22sh%22%5D&changes=ENV+A%3D1&changes="),
        Route::ImageCreate {
            from_src: s("-"),
            from_image: None,
            repo: s("me/img"),
            tag: s("v1"),
            message: s("hello world"),
            changes: vec![r#"CMD ["sh"]"#.into(), "ENV A=1".into()],
            platform: None,
        }
    );
    assert_eq!(
        route("POST", "/images/abc/tag?repo=x%2Fy&tag=2"),
        Route::ImageTag {
            name: "abc".into(),
            repo: s("x/y"),
            tag: s("2")
        }
    );
    assert_eq!(
        route("DELETE", "/images/abc?force=1&noprune=1"),
        Route::ImageDelete {
            name: "abc".into(),
            force: true,
            noprune: true
        }
    );
    assert_eq!(route("GET", "/images/search?term=x"), Route::ImageSearch);
    assert_eq!(route("POST", "/images/prune"), Route::ImagePrune);
    assert_eq!(route("POST", "/images/load?quiet=1"), Route::ImageLoad);
    assert_eq!(
        route("GET", "/images/get?names=a&names=b%3A1"),
        Route::ImageSave {
            names: vec!["a".into(), "b:1".into()]
        }
    );
    assert_eq!(
        route("GET", "/images/a/get"),
        Route::ImageSave {
            names: vec!["a".into()]
        }
    );
    assert_eq!(route("POST", "/build?t=x"), Route::Build);
    assert_eq!(route("POST", "/build/prune"), Route::BuildPrune);
    assert_eq!(route("POST", "/build/cancel"), Route::BuildCancel);
    assert_eq!(route("POST", "/session"), Route::Session);
    assert_eq!(route("POST", "/grpc"), Route::Session);
}

#[test]
fn image_names_with_slashes() {
    let name = "localhost:5000/ns/name:tag";
    // Raw slashes and the CLI's fully encoded form both work.
    for encoded in [
        name.to_string(),
        name.replace('/', "%2F").replace(':', "%3A"),
    ] {
        assert_eq!(
            route("GET", &format!("/images/{encoded}/json")),
            Route::ImageInspect { name: name.into() }
        );
        assert_eq!(
            route("GET", &format!("/v1.41/images/{encoded}/history")),
            Route::ImageHistory { name: name.into() }
        );
        assert_eq!(
            route("POST", &format!("/images/{encoded}/tag?repo=other")),
            Route::ImageTag {
                name: name.into(),
                repo: s("other"),
                tag: None
            }
        );
        assert_eq!(
            route("POST", &format!("/images/{encoded}/push?tag=x")),
            Route::ImagePush { name: name.into() }
        );
        assert_eq!(
            route("DELETE", &format!("/images/{encoded}")),
            Route::ImageDelete {
                name: name.into(),
                force: false,
                noprune: false
            }
        );
        assert_eq!(
            route("GET", &format!("/images/{encoded}/get")),
            Route::ImageSave {
                names: vec![name.into()]
            }
        );
        assert_eq!(
            route("GET", &format!("/distribution/{encoded}/json")),
            Route::DistributionInspect { name: name.into() }
        );
    }
    assert_eq!(
        route("GET", "/images/sha256:0123abcd/json"),
        Route::ImageInspect {
            name: "sha256:0123abcd".into()
        }
    );
    assert_eq!(
        route("GET", "/images/alpine@sha256:0123/json"),
        Route::ImageInspect {
            name: "alpine@sha256:0123".into()
        }
    );
    // An image named "json" and one whose name ends in /json.
    assert_eq!(
        route("GET", "/images/json/json"),
        Route::ImageInspect {
            name: "json".into()
        }
    );
    assert_eq!(
        route("GET", "/images/a/json/json"),
        Route::ImageInspect {
            name: "a/json".into()
        }
    );
}

#[test]
fn networks_and_volumes() {
    assert_eq!(route("GET", "/networks"), Route::NetworkList);
    assert_eq!(route("GET", "/networks/"), Route::NetworkList);
    assert_eq!(route("GET", "/networks?filters=%7B%7D"), Route::NetworkList);
    assert_eq!(
        route("GET", "/networks/bridge"),
        Route::NetworkInspect {
            id: "bridge".into()
        }
    );
    assert_eq!(route("POST", "/networks/create"), Route::NetworkCreate);
    assert_eq!(
        route("POST", "/networks/n1/connect"),
        Route::NetworkConnect { id: "n1".into() }
    );
    assert_eq!(
        route("POST", "/networks/n1/disconnect"),
        Route::NetworkDisconnect { id: "n1".into() }
    );
    assert_eq!(
        route("DELETE", "/networks/n1"),
        Route::NetworkDelete { id: "n1".into() }
    );
    assert_eq!(route("POST", "/networks/prune"), Route::NetworkPrune);
    assert_eq!(route("GET", "/volumes"), Route::VolumeList);
    assert_eq!(
        route("GET", "/volumes/data"),
        Route::VolumeInspect {
            name: "data".into()
        }
    );
    assert_eq!(route("POST", "/volumes/create"), Route::VolumeCreate);
    assert_eq!(
        route("PUT", "/volumes/data?version=1"),
        Route::VolumeUpdate {
            name: "data".into()
        }
    );
    assert_eq!(
        route("DELETE", "/volumes/data?force=1"),
        Route::VolumeDelete {
            name: "data".into()
        }
    );
    assert_eq!(route("POST", "/volumes/prune"), Route::VolumePrune);
}

#[test]
fn swarm_and_plugins() {
    for (method, target) in [
        ("GET", "/swarm"),
        ("POST", "/swarm/init"),
        ("GET", "/swarm/unlockkey"),
        ("GET", "/nodes"),
        ("GET", "/nodes/n1"),
        ("POST", "/nodes/n1/update"),
        ("DELETE", "/nodes/n1"),
        ("GET", "/services"),
        ("POST", "/services/create"),
        ("GET", "/services/s1/logs"),
        ("GET", "/tasks/t1/logs"),
        ("GET", "/secrets"),
        ("POST", "/configs/create"),
        ("DELETE", "/configs/c1"),
    ] {
        assert_eq!(
            route(method, target),
            Route::Swarm {
                what: format!("{method} {target}")
            },
            "{method} {target}"
        );
    }
    for (method, target) in [
        ("GET", "/plugins"),
        ("GET", "/plugins/privileges"),
        ("GET", "/plugins/vieux/sshfs:latest/json"),
        ("POST", "/plugins/pull"),
        ("POST", "/plugins/p/enable"),
        ("DELETE", "/plugins/p"),
    ] {
        assert_eq!(
            route(method, target),
            Route::Plugin {
                what: format!("{method} {target}")
            },
            "{method} {target}"
        );
    }
}

#[test]
fn flags_follow_bool_value() {
    let list = |q: &str| match route("GET", &format!("/containers/json?{q}")) {
        Route::ContainerList { all, .. } => all,
        other => panic!("{other:?}"),
    };
    for q in [
        "all=1", "all=true", "all=True", "all=yes", "all=on", "all=2", "all=x",
    ] {
        assert!(list(q), "{q}");
    }
    for q in [
        "",
        "all=",
        "all=0",
        "all=false",
        "all=FALSE",
        "all=no",
        "all=none",
        "all=+0+",
        "other=1",
    ] {
        assert!(!list(q), "{q}");
    }
    // The first value wins, as Go's Form.Get.
    assert!(list("all=1&all=0"));
}

#[test]
fn bad_parameters_are_400() {
    for (method, target, message) in [
        (
            "POST",
            "/containers/x/stop?t=ten",
            r#"invalid t "ten": not an integer"#,
        ),
        (
            "POST",
            "/containers/x/restart?t=1.5",
            r#"invalid t "1.5": not an integer"#,
        ),
        (
            "GET",
            "/containers/json?limit=many",
            r#"invalid limit "many": not an integer"#,
        ),
        (
            "POST",
            "/containers/x/resize?h=x&w=80",
            r#"invalid resize height "x": not an unsigned 32-bit integer"#,
        ),
        (
            "POST",
            "/exec/e/resize?h=1&w=-80",
            r#"invalid resize width "-80": not an unsigned 32-bit integer"#,
        ),
        (
            "POST",
            "/containers/x/resize?h=4294967296",
            r#"invalid resize height "4294967296": not an unsigned 32-bit integer"#,
        ),
        (
            "POST",
            "/containers/x/wait?condition=bogus",
            r#"invalid condition: "bogus""#,
        ),
        (
            "GET",
            "/containers/json?a=1;b=2",
            "invalid semicolon separator in query",
        ),
        (
            "GET",
            "/containers/json?all=%zz",
            r#"invalid URL escape "%zz""#,
        ),
        ("GET", "/containers/%zz/json", r#"invalid URL escape "%zz""#),
    ] {
        assert_eq!(
            error(method, target),
            (400, message.to_string()),
            "{method} {target}"
        );
    }
    for target in [
        "/containers/json?filters=%7Bbad",
        "/images/json?filters=x",
        "/events?filters=%5B%5D",
    ] {
        let (status, message) = error("GET", target);
        assert_eq!(status, 400, "{target}");
        assert!(message.starts_with("invalid filter"), "{target}: {message}");
    }
}

#[test]
fn client_paths() {
    // Every request shape crates/berth (the CLI) sends, through berth_client::encode.
    for (method, target) in [
        ("GET", "/v1.50/_ping"),
        ("GET", "/v1.50/version"),
        ("GET", "/v1.50/info"),
        ("GET", "/v1.50/events?filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D&since=1&until=2"),
        ("POST", "/v1.50/containers/create?name=web"),
        ("POST", "/v1.50/containers/create"),
        ("POST", "/v1.50/containers/web/start"),
        ("POST", "/v1.50/containers/web/stop?t=3"),
        ("POST", "/v1.50/containers/web/restart?t=3"),
        ("POST", "/v1.50/containers/web/kill?signal=TERM"),
        ("POST", "/v1.50/containers/web/pause"),
        ("POST", "/v1.50/containers/web/unpause"),
        ("POST", "/v1.50/containers/web/rename?name=new"),
        ("DELETE", "/v1.50/containers/web?force=1&v=1&link=1"),
        ("POST", "/v1.50/containers/web/wait"),
        ("POST", "/v1.50/containers/web/wait?condition=next-exit"),
        ("POST", "/v1.50/containers/web/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-p%2Cctrl-q"),
        ("POST", "/v1.50/containers/web/resize?h=24&w=80"),
        ("GET", "/v1.50/containers/web/json"),
        ("GET", "/v1.50/containers/web/json?size=1"),
        ("POST", "/v1.50/containers/web/exec"),
        ("POST", "/v1.50/exec/e1/start"),
        ("POST", "/v1.50/exec/e1/resize?h=24&w=80"),
        ("GET", "/v1.50/exec/e1/json"),
        ("GET", "/v1.50/containers/web/logs?stdout=1&stderr=1&follow=1&tail=10&timestamps=1"),
        ("GET", "/v1.50/containers/web/top?ps_args=-o%20pid"),
        ("GET", "/v1.50/containers/web/export"),
        ("GET", "/v1.50/containers/json?all=1&limit=2&size=1&filters=%7B%22status%22%3A%7B%22exited%22%3Atrue%7D%7D"),
        ("GET", "/v1.50/images/json?all=1&digests=1"),
        ("GET", "/v1.50/images/alpine%3A3/json"),
        ("GET", "/v1.50/images/alpine%3A3/history"),
        ("POST", "/v1.50/images/alpine%3A3/tag?repo=me%2Falpine&tag=x"),
        ("DELETE", "/v1.50/images/alpine%3A3?force=1&noprune=1"),
        ("POST", "/v1.50/images/create?fromImage=alpine&tag=3"),
        ("POST", "/v1.50/images/create?fromSrc=-&repo=me&tag=1&changes=CMD%20x&message=m"),
    ] {
        let r = try_route(method, target);
        assert!(r.is_ok(), "{method} {target}: {r:?}");
        assert!(!matches!(r.unwrap().route, Route::Swarm { .. } | Route::Plugin { .. }));
    }
}

#[test]
fn split_version_edges() {
    assert_eq!(split_version("/v1.41/x"), (Some("1.41"), "/x"));
    assert_eq!(split_version("/v1/x"), (Some("1"), "/x"));
    assert_eq!(split_version("/v./x"), (Some("."), "/x"));
    assert_eq!(split_version("/v/x"), (None, "/v/x"));
    assert_eq!(split_version("/v1.41"), (None, "/v1.41"));
    assert_eq!(split_version("/volumes"), (None, "/volumes"));
    assert_eq!(split_version("/v1a/x"), (None, "/v1a/x"));
}

#[test]
fn never_panics_on_noise() {
    // A cheap, deterministic stand-in for the cargo-fuzz target (fuzz/), run on stable.
    const TOKENS: [&str; 28] = [
        "/",
        "/",
        "/",
        "v1.41",
        "v9",
        "v",
        ".",
        "%",
        "%2F",
        "%zz",
        "%e2%9c",
        "containers",
        "images",
        "exec",
        "json",
        "wait",
        "resize",
        "?",
        "&",
        "=",
        "+",
        ";",
        "x",
        "é",
        "filters=%7B",
        "t=",
        "h=",
        "condition=",
    ];
    const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % 1_000_003).unwrap()
    };
    for _ in 0..20_000 {
        let len = next() % 12;
        let target: String = (0..len).map(|_| TOKENS[next() % TOKENS.len()]).collect();
        let method = METHODS[next() % METHODS.len()];
        match try_route(method, &target) {
            Ok(r) => {
                let _ = format!("{r:?}");
            }
            Err(e) => assert!(matches!(e.status(), 400 | 404), "{method} {target}: {e:?}"),
        }
        if let Ok(f) = Filters::parse(&target) {
            assert_eq!(Filters::parse(&f.to_json()).ok(), Some(f));
        }
    }
}
