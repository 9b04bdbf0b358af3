//! Container commands.

use std::sync::Arc;

use berth_client::{encode, Client, Error as ClientError};
use serde_json::{json, Value};

use super::stream::{self, End};
use super::{
    AttachArgs, ContainerCmd, CreateArgs, ExecArgs, ExportArgs, Failure, InspectArgs, KillArgs,
    LogsArgs, NamesArgs, PsArgs, Res, RestartArgs, RmArgs, RunArgs, StartArgs, TopArgs,
};
use crate::format::{
    self,
    template::{Ctx, Format},
    units,
};

/// Runs one of the container commands.
pub async fn run_cmd(client: &Arc<Client>, cmd: ContainerCmd) -> Res {
    match cmd {
        ContainerCmd::Run(a) => run(client, a).await,
        ContainerCmd::Create(a) => create_cmd(client, a).await,
        ContainerCmd::Start(a) => start(client, a).await,
        ContainerCmd::Stop(a) => {
            let mut q = Vec::new();
            if let Some(t) = a.time {
                q.push(("t", t.to_string()));
            }
            if let Some(s) = &a.signal {
                q.push(("signal", s.clone()));
            }
            each(client, &a.containers, "stop", &berth_client::query(&q)).await
        }
        ContainerCmd::Restart(RestartArgs {
            signal,
            time,
            containers,
        }) => {
            let mut q = Vec::new();
            if let Some(t) = time {
                q.push(("t", t.to_string()));
            }
            if let Some(s) = signal {
                q.push(("signal", s));
            }
            each(client, &containers, "restart", &berth_client::query(&q)).await
        }
        ContainerCmd::Kill(KillArgs { signal, containers }) => {
            let q = signal
                .map(|s| berth_client::query(&[("signal", s)]))
                .unwrap_or_default();
            each(client, &containers, "kill", &q).await
        }
        ContainerCmd::Pause(NamesArgs { containers }) => {
            each(client, &containers, "pause", "").await
        }
        ContainerCmd::Unpause(NamesArgs { containers }) => {
            each(client, &containers, "unpause", "").await
        }
        ContainerCmd::Rm(a) => rm(client, a).await,
        ContainerCmd::Wait(NamesArgs { containers }) => wait(client, &containers).await,
        ContainerCmd::Rename {
            container,
            new_name,
        } => {
            client
                .post(
                    &format!(
                        "/containers/{}/rename?name={}",
                        encode(&container),
                        encode(&new_name)
                    ),
                    None,
                )
                .await
                .map_err(|e| {
                    Failure::msg(format!(
                        "{e}\nError: failed to rename container named {container}"
                    ))
                })?;
            Ok(0)
        }
        ContainerCmd::Logs(a) => logs(client, a).await,
        ContainerCmd::Exec(a) => exec(client, a).await,
        ContainerCmd::Attach(a) => attach(client, a).await,
        ContainerCmd::Top(a) => top(client, a).await,
        ContainerCmd::Export(a) => export(client, a).await,
    }
}

/// `POST /containers/{id}/{action}` for each name, printing the name on success.
async fn each(client: &Client, names: &[String], action: &str, query: &str) -> Res {
    let mut errors = Vec::new();
    for n in names {
        match client
            .post(&format!("/containers/{}/{action}{query}", encode(n)), None)
            .await
        {
            Ok(_) => println!("{n}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::msg(errors.join("\n")))
    }
}

async fn rm(client: &Client, a: RmArgs) -> Res {
    let mut errors = Vec::new();
    let mut q = Vec::new();
    if a.force {
        q.push(("force", "1".to_string()));
    }
    if a.volumes {
        q.push(("v", "1".to_string()));
    }
    if a.link {
        q.push(("link", "1".to_string()));
    }
    let q = berth_client::query(&q);
    for n in &a.containers {
        match client
            .delete(&format!("/containers/{}{q}", encode(n)))
            .await
        {
            Ok(_) => println!("{n}"),
            // docker: with --force, a missing container is reported but not an error.
            Err(e) if a.force && e.is_not_found() => eprintln!("{e}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::msg(errors.join("\n")))
    }
}

async fn wait(client: &Client, names: &[String]) -> Res {
    let mut errors = Vec::new();
    for n in names {
        match client
            .post(&format!("/containers/{}/wait", encode(n)), None)
            .await
        {
            Ok((_, v)) => println!("{}", v["StatusCode"].as_i64().unwrap_or(-1)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::msg(errors.join("\n")))
    }
}

/// `name` → `name:latest` unless it has a tag or digest.
pub fn with_latest(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// docker's `withHelp`: `berth: ERR\n\nRun 'berth CMD --help' for more information`.
fn with_help(code: i32, err: &str, cmd: &str) -> Failure {
    Failure {
        code,
        msg: format!("berth: {err}\n\nRun 'berth {cmd} --help' for more information"),
    }
}

/// docker's error for a bad `run`/`create` flag value.
fn opts_failure(e: super::opts::OptsError, cmd: &str) -> Failure {
    use super::opts::OptsError;
    match e {
        OptsError::Flag { .. } => {
            let f = super::usage::flag_error(cmd, &e.to_string());
            Failure {
                code: f.code,
                msg: f.text,
            }
        }
        OptsError::Plain(m) => Failure::msg(m),
        OptsError::Other(m) => with_help(125, &m, cmd),
    }
}

/// Pulls `image` (`POST /images/create?fromImage=`), printing progress on stderr.
async fn pull(client: &Client, image: &str) -> Result<(), ClientError> {
    let (repo, tag) = split_ref(image);
    let mut q = vec![("fromImage", repo)];
    if let Some(t) = tag {
        q.push(("tag", t));
    }
    let path = format!("/images/create{}", berth_client::query(&q));
    let mut s = client
        .stream(hyper::Method::POST, &path, berth_client::empty_body(), None)
        .await?;
    let mut buf = Vec::new();
    while let Some(chunk) = s.next().await {
        buf.extend_from_slice(&chunk?);
    }
    for v in serde_json::Deserializer::from_slice(&buf)
        .into_iter::<Value>()
        .flatten()
    {
        if let Some(e) = v
            .get("errorDetail")
            .and_then(|d| d.get("message"))
            .or_else(|| v.get("error"))
        {
            return Err(ClientError::Api {
                status: 500,
                message: e.as_str().unwrap_or("").to_string(),
            });
        }
        if let Some(st) = v.get("status").and_then(Value::as_str) {
            match v.get("id").and_then(Value::as_str) {
                Some(id) => eprintln!("{id}: {st}"),
                None => eprintln!("{st}"),
            }
        }
    }
    Ok(())
}

/// docker's normalized name (`busybox:latest` → `docker.io/library/busybox:latest`), as
/// the docker CLI sends it to pull.
pub fn normalize_ref(r: &str) -> String {
    let (first, rest) = match r.split_once('/') {
        Some((f, rest)) => (f, Some(rest)),
        None => (r, None),
    };
    let has_registry = rest.is_some()
        && (first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first);
    if has_registry {
        r.to_string()
    } else if rest.is_some() {
        format!("docker.io/{r}")
    } else {
        format!("docker.io/library/{r}")
    }
}

/// Splits `repo[:tag]` (a digest stays in the repo).
pub fn split_ref(r: &str) -> (String, Option<String>) {
    if r.contains('@') {
        return (r.to_string(), None);
    }
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) => (
            r[..slash + i].to_string(),
            Some(r[slash + i + 1..].to_string()),
        ),
        None => (r.to_string(), None),
    }
}

/// The failure of a create request: `run` wraps it with the help hint (125), `create`
/// prints it alone (1), like docker.
fn create_failure(cmd: &str, msg: &str) -> Failure {
    if cmd == "create" {
        Failure::msg(msg)
    } else {
        with_help(125, msg, cmd)
    }
}

/// Creates the container; pulls once when the image is missing.
async fn create_container(
    client: &Client,
    req: &super::opts::CreateRequest,
    cmd: &str,
) -> Result<String, Failure> {
    // The docker CLI checks the image reference before sending it.
    super::reference::check(&req.body.config.image).map_err(|e| create_failure(cmd, &e))?;
    let path = match &req.name {
        Some(n) => format!("/containers/create?name={}", encode(n)),
        None => "/containers/create".to_string(),
    };
    let body = serde_json::to_value(&req.body).map_err(|e| Failure::msg(e.to_string()))?;
    let resp = match client.post(&path, Some(&body)).await {
        Ok((_, v)) => v,
        Err(e) if e.is_not_found() && e.to_string().contains("No such image") => {
            let image = with_latest(&req.body.config.image);
            eprintln!("Unable to find image '{image}' locally");
            pull(client, &normalize_ref(&image))
                .await
                .map_err(|e| create_failure(cmd, &e.to_string()))?;
            client
                .post(&path, Some(&body))
                .await
                .map_err(|e| create_failure(cmd, &e.to_string()))?
                .1
        }
        Err(e) => return Err(create_failure(cmd, &e.to_string())),
    };
    if let Some(ws) = resp.get("Warnings").and_then(Value::as_array) {
        for w in ws.iter().filter_map(Value::as_str) {
            eprintln!("WARNING: {w}");
        }
    }
    resp.get("Id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            with_help(
                125,
                "Error response from daemon: no container ID in create response",
                cmd,
            )
        })
}

fn host_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

async fn create_cmd(client: &Client, a: CreateArgs) -> Res {
    let req = a
        .opts
        .build(&a.args, true, &host_env)
        .map_err(|e| opts_failure(e, "create"))?;
    let mut req = req;
    // `create` keeps the attach flags of a foreground run.
    let fg = a
        .opts
        .build(&a.args, false, &host_env)
        .map_err(|e| opts_failure(e, "create"))?;
    req.body.config = fg.body.config;
    let id = create_container(client, &req, "create").await?;
    println!("{id}");
    Ok(0)
}

/// docker's exit code for a start error.
pub fn start_error_code(msg: &str) -> i32 {
    if msg.contains("executable file not found") || msg.contains("no such file or directory") {
        127
    } else if msg.contains("permission denied") || msg.contains("is a directory") {
        126
    } else {
        125
    }
}

fn detach_keys_query(keys: Option<&str>) -> Result<(String, Vec<u8>), Failure> {
    let keys_str = keys.unwrap_or(stream::DEFAULT_DETACH_KEYS);
    let bytes = stream::detach_key_bytes(keys_str).map_err(|e| Failure {
        code: 1,
        msg: format!("Invalid detach keys ({keys_str}) provided: {e}"),
    })?;
    let q = if keys.is_some() {
        format!("&detachKeys={}", encode(keys_str))
    } else {
        String::new()
    };
    Ok((q, bytes))
}

async fn run(client: &Arc<Client>, a: RunArgs) -> Res {
    let mut req = a
        .opts
        .build(&a.args, a.detach, &host_env)
        .map_err(|e| opts_failure(e, "run"))?;
    let tty = a.opts.tty;
    let attach_stdin = req.body.config.attach_stdin;
    if !a.detach && tty && attach_stdin && !stream::stdin_is_tty() {
        return Err(Failure::msg("the input device is not a TTY"));
    }
    if tty && !a.detach {
        if let Some((h, w)) = stream::terminal_size() {
            req.body.host_config.console_size = Some(vec![u32::from(h), u32::from(w)]);
        }
    }
    let (keys_q, key_bytes) = detach_keys_query(a.detach_keys.as_deref())?;
    let created_at = chrono::Utc::now().timestamp() - 1;
    let id = create_container(client, &req, "run").await?;
    if a.detach {
        // docker prints the ID before it starts the container.
        println!("{id}");
        client
            .post(&format!("/containers/{id}/start"), None)
            .await
            .map_err(|e| {
                let m = e.to_string();
                with_help(start_error_code(&m), &m, "run")
            })?;
        return Ok(0);
    }
    let c = &req.body.config;
    let attaching = c.attach_stdin || c.attach_stdout || c.attach_stderr;
    let hijacked = if attaching {
        let path = format!(
            "/containers/{id}/attach?stream=1&stdin={}&stdout={}&stderr={}{keys_q}",
            u8::from(c.attach_stdin),
            u8::from(c.attach_stdout),
            u8::from(c.attach_stderr)
        );
        Some(
            client
                .hijack(&path, None)
                .await
                .map_err(|e| with_help(125, &e.to_string(), "run"))?,
        )
    } else {
        None
    };
    // Register the wait before starting, so a fast exit is not missed.
    let condition = if a.opts.rm { "removed" } else { "next-exit" };
    let wait_client = client.clone();
    let wait_id = id.clone();
    let waiter = tokio::spawn(async move {
        wait_client
            .post(
                &format!("/containers/{wait_id}/wait?condition={condition}"),
                None,
            )
            .await
    });
    // Give the wait request a moment to reach the daemon before the start.
    tokio::task::yield_now().await;
    let _raw = (tty && attach_stdin && stream::stdin_is_tty()).then(stream::RawGuard::enter);
    if let Err(e) = client.post(&format!("/containers/{id}/start"), None).await {
        drop(_raw);
        let m = e.to_string();
        if a.opts.rm {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await;
        }
        return Err(with_help(start_error_code(&m), &m, "run"));
    }
    if tty {
        tokio::spawn(stream::monitor_tty_size(
            client.clone(),
            format!("/containers/{id}/resize"),
        ));
    } else if a.sig_proxy {
        stream::proxy_signals(client.clone(), id.clone());
    }
    if let Some(h) = hijacked {
        let end = stream::pump(h, attach_stdin, tty, key_bytes).await;
        if let Ok(End::Detached) = end {
            return Ok(0);
        }
    }
    drop(_raw);
    // The wait request is normally answered at exit; should it have reached the daemon
    // only after the exit, fall back to the recorded exit code.
    let fallback = async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        loop {
            match client.get(&format!("/containers/{id}/json")).await {
                Ok(v) => {
                    if v["State"]["Status"].as_str() == Some("exited")
                        || v["State"]["Status"].as_str() == Some("dead")
                    {
                        return v["State"]["ExitCode"].as_i64().unwrap_or(0) as i32;
                    }
                }
                // Removed already (--rm): its `die` event has the code.
                Err(e) if e.is_not_found() => {
                    return exit_code_from_events(client, &id, created_at)
                        .await
                        .unwrap_or(125);
                }
                Err(_) => {}
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };
    let waited = tokio::select! {
        w = waiter => w,
        code = fallback => return Ok(code),
    };
    match waited {
        Ok(Ok((_, v))) => {
            if let Some(msg) = v
                .get("Error")
                .and_then(|e| e.get("Message"))
                .and_then(Value::as_str)
            {
                if !msg.is_empty() {
                    return Err(Failure {
                        code: 125,
                        msg: format!("berth: {msg}"),
                    });
                }
            }
            Ok(v["StatusCode"].as_i64().unwrap_or(125) as i32)
        }
        // The wait reached the daemon after an --rm container was gone.
        Ok(Err(e)) if e.is_not_found() && a.opts.rm => {
            match exit_code_from_events(client, &id, created_at).await {
                Some(code) => Ok(code),
                None => Err(Failure {
                    code: 125,
                    msg: e.to_string(),
                }),
            }
        }
        Ok(Err(e)) => Err(Failure {
            code: 125,
            msg: e.to_string(),
        }),
        Err(e) => Err(Failure {
            code: 125,
            msg: e.to_string(),
        }),
    }
}

/// The exit code of container `id` from its last `die` event since `since` (unix
/// seconds): for an `--rm` container that is already gone.
async fn exit_code_from_events(client: &Client, id: &str, since: i64) -> Option<i32> {
    let filters = json!({"container": {id: true}, "event": {"die": true}}).to_string();
    let until = chrono::Utc::now().timestamp() + 1;
    let path = format!(
        "/events?since={since}&until={until}&filters={}",
        encode(&filters)
    );
    let mut s = client
        .stream(hyper::Method::GET, &path, berth_client::empty_body(), None)
        .await
        .ok()?;
    let mut buf = Vec::new();
    while let Some(Ok(chunk)) = s.next().await {
        buf.extend_from_slice(&chunk);
    }
    serde_json::Deserializer::from_slice(&buf)
        .into_iter::<Value>()
        .flatten()
        .filter(|e| e["Action"] == "die")
        .filter_map(|e| e["Actor"]["Attributes"]["exitCode"].as_str()?.parse().ok())
        .last()
}

async fn start(client: &Arc<Client>, a: StartArgs) -> Res {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            return Err(Failure::msg(
                "you cannot start and attach multiple containers at once",
            ));
        }
        let name = &a.containers[0];
        let info = client
            .get(&format!("/containers/{}/json", encode(name)))
            .await?;
        let id = info["Id"].as_str().unwrap_or(name).to_string();
        let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
        let stdin = a.interactive && info["Config"]["OpenStdin"].as_bool().unwrap_or(false);
        let (keys_q, key_bytes) = detach_keys_query(a.detach_keys.as_deref())?;
        let path = format!(
            "/containers/{id}/attach?stream=1&stdin={}&stdout=1&stderr=1{keys_q}",
            u8::from(stdin)
        );
        let h = client.hijack(&path, None).await?;
        let wait_client = client.clone();
        let wait_id = id.clone();
        let waiter = tokio::spawn(async move {
            wait_client
                .post(
                    &format!("/containers/{wait_id}/wait?condition=next-exit"),
                    None,
                )
                .await
        });
        tokio::task::yield_now().await;
        let raw = (tty && stdin && stream::stdin_is_tty()).then(stream::RawGuard::enter);
        if let Err(e) = client.post(&format!("/containers/{id}/start"), None).await {
            drop(raw);
            return Err(Failure::msg(e.to_string()));
        }
        if tty {
            tokio::spawn(stream::monitor_tty_size(
                client.clone(),
                format!("/containers/{id}/resize"),
            ));
        } else {
            stream::proxy_signals(client.clone(), id.clone());
        }
        let end = stream::pump(h, stdin, tty, key_bytes).await;
        drop(raw);
        if let Ok(End::Detached) = end {
            return Ok(0);
        }
        return match waiter.await {
            Ok(Ok((_, v))) => Ok(v["StatusCode"].as_i64().unwrap_or(1) as i32),
            _ => Ok(0),
        };
    }
    let mut errors = Vec::new();
    let mut failed = Vec::new();
    for n in &a.containers {
        match client
            .post(&format!("/containers/{}/start", encode(n)), None)
            .await
        {
            Ok(_) => println!("{n}"),
            Err(e) => {
                errors.push(e.to_string());
                failed.push(n.as_str());
            }
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        errors.push(format!(
            "Error: failed to start containers: {}",
            failed.join(", ")
        ));
        Err(Failure::msg(errors.join("\n")))
    }
}

async fn attach(client: &Arc<Client>, a: AttachArgs) -> Res {
    let info = client
        .get(&format!("/containers/{}/json", encode(&a.container)))
        .await?;
    let id = info["Id"].as_str().unwrap_or(&a.container).to_string();
    if !info["State"]["Running"].as_bool().unwrap_or(false) {
        return Err(Failure::msg(
            "You cannot attach to a stopped container, start it first",
        ));
    }
    if info["State"]["Paused"].as_bool().unwrap_or(false) {
        return Err(Failure::msg(
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let stdin = !a.no_stdin && info["Config"]["OpenStdin"].as_bool().unwrap_or(false);
    if tty && stdin && !stream::stdin_is_tty() {
        return Err(Failure::msg("the input device is not a TTY"));
    }
    let (keys_q, key_bytes) = detach_keys_query(a.detach_keys.as_deref())?;
    let path = format!(
        "/containers/{id}/attach?stream=1&stdin={}&stdout=1&stderr=1{keys_q}",
        u8::from(stdin)
    );
    let h = client.hijack(&path, None).await?;
    let raw = (tty && stdin && stream::stdin_is_tty()).then(stream::RawGuard::enter);
    if tty && stream::stdout_is_tty() {
        // Like docker: resize to a different size first, so that a program that is
        // already running redraws its screen (a shell prompt) for this client.
        if let Some((h, w)) = stream::terminal_size() {
            let _ = client
                .post(
                    &format!("/containers/{id}/resize?h={}&w={}", h + 1, w + 1),
                    None,
                )
                .await;
        }
        tokio::spawn(stream::monitor_tty_size(
            client.clone(),
            format!("/containers/{id}/resize"),
        ));
    } else if !tty && a.sig_proxy {
        stream::proxy_signals(client.clone(), id.clone());
    }
    let end = stream::pump(h, stdin, tty, key_bytes).await;
    drop(raw);
    if let Ok(End::Detached) = end {
        return Err(Failure::msg("read escape sequence"));
    }
    // The exit code of the container once its output ended.
    match client.post(&format!("/containers/{id}/wait"), None).await {
        Ok((_, v)) => Ok(v["StatusCode"].as_i64().unwrap_or(0) as i32),
        Err(_) => Ok(0),
    }
}

async fn exec(client: &Arc<Client>, a: ExecArgs) -> Res {
    let (container, cmd) = a
        .args
        .split_first()
        .ok_or_else(|| Failure::msg("requires at least 2 arguments"))?;
    let mut env = Vec::new();
    for f in &a.env_file {
        let text = super::opts::read_file(f).map_err(|e| Failure::msg(e.to_string()))?;
        env.extend(super::opts::parse_kv_file(&text, Some(&host_env)).map_err(Failure::msg)?);
    }
    for e in &a.env {
        env.push(super::opts::validate_env(e, &host_env).map_err(Failure::msg)?);
    }
    let (_, key_bytes) = detach_keys_query(a.detach_keys.as_deref())?;
    if a.tty && a.interactive && !a.detach && !stream::stdin_is_tty() {
        return Err(Failure::msg("the input device is not a TTY"));
    }
    let mut body = json!({
        "User": a.user.clone().unwrap_or_default(),
        "Privileged": a.privileged,
        "Tty": a.tty,
        "AttachStdin": a.interactive && !a.detach,
        "AttachStdout": !a.detach,
        "AttachStderr": !a.detach,
        "Env": env,
        "WorkingDir": a.workdir.clone().unwrap_or_default(),
        "Cmd": cmd,
    });
    if let Some(k) = &a.detach_keys {
        body["DetachKeys"] = k.clone().into();
    }
    let console = if a.tty { stream::terminal_size() } else { None };
    if let Some((h, w)) = console {
        body["ConsoleSize"] = json!([h, w]);
    }
    let (_, created) = client
        .post(
            &format!("/containers/{}/exec", encode(container)),
            Some(&body),
        )
        .await?;
    let exec_id = created["Id"]
        .as_str()
        .ok_or_else(|| Failure::msg("exec create returned no ID"))?
        .to_string();
    let mut start = json!({"Detach": a.detach, "Tty": a.tty});
    if let Some((h, w)) = console {
        start["ConsoleSize"] = json!([h, w]);
    }
    if a.detach {
        client
            .post(&format!("/exec/{exec_id}/start"), Some(&start))
            .await?;
        return Ok(0);
    }
    let h = client
        .hijack(&format!("/exec/{exec_id}/start"), Some(&start))
        .await?;
    let raw = (a.tty && a.interactive && stream::stdin_is_tty()).then(stream::RawGuard::enter);
    if a.tty {
        tokio::spawn(stream::monitor_tty_size(
            client.clone(),
            format!("/exec/{exec_id}/resize"),
        ));
    }
    let end = stream::pump(h, a.interactive, a.tty, key_bytes).await;
    drop(raw);
    if let Ok(End::Detached) = end {
        // Like docker's exec (and attach): the escape sequence ends it with an error.
        return Err(Failure::msg("read escape sequence"));
    }
    // The exit code, once the daemon has recorded it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = client.get(&format!("/exec/{exec_id}/json")).await?;
        if !v["Running"].as_bool().unwrap_or(false) || std::time::Instant::now() > deadline {
            return Ok(v["ExitCode"].as_i64().unwrap_or(0) as i32);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// docker's `timetypes.GetTimestamp`: a duration (`10m`, `1h30m`) is `now - d` in unix
/// seconds; RFC 3339-like times (with a zone, or in the local zone without one) become
/// `secs.nanos`; a unix timestamp passes through; anything else is an error.
pub fn get_timestamp(value: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
    use chrono::{FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};
    if value != "0" {
        if let Some(d) = parse_go_duration(value) {
            return Ok((now - chrono::Duration::nanoseconds(d as i64))
                .timestamp()
                .to_string());
        }
    }
    let in_location = !(value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3);
    // Split off the zone: `Z`, `+hh:mm` or (the fourth dash) `-hh:mm`.
    let (main, offset) = if in_location {
        (value, None)
    } else if let Some(m) = value.strip_suffix(['Z', 'z']) {
        (m, Some(0))
    } else {
        let at = value.rfind('+').or_else(|| {
            (value.matches('-').count() == 3)
                .then(|| value.rfind('-'))
                .flatten()
        });
        let parsed = at.and_then(|i| {
            let (h, m) = value[i + 1..].split_once(':')?;
            let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
            Some((&value[..i], if &value[i..=i] == "-" { -secs } else { secs }))
        });
        match parsed {
            Some((m, o)) => (m, Some(o)),
            None => (value, Some(i32::MAX)),
        }
    };
    let naive = if main.contains('T') {
        let colons = main.matches(':').count();
        let full = match colons {
            0 => format!("{main}:00:00"),
            1 => format!("{main}:00"),
            _ => main.to_string(),
        };
        NaiveDateTime::parse_from_str(&full, "%Y-%m-%dT%H:%M:%S%.f").ok()
    } else {
        NaiveDate::parse_from_str(main, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    };
    let t = match (naive, offset) {
        (Some(n), None) => Local
            .from_local_datetime(&n)
            .earliest()
            .map(|t| t.fixed_offset()),
        (Some(n), Some(o)) => {
            FixedOffset::east_opt(o).and_then(|z| z.from_local_datetime(&n).earliest())
        }
        _ => None,
    };
    match t {
        Some(t) => Ok(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        )),
        None if value.contains('-') => Err(format!("parsing time {value:?}: cannot parse")),
        None => {
            let (secs, nanos) = value.split_once('.').unwrap_or((value, "0"));
            if !secs.is_empty()
                && secs.parse::<i64>().is_ok()
                && nanos.chars().all(|c| c.is_ascii_digit())
            {
                Ok(value.to_string())
            } else {
                Err(format!(
                    "failed to parse value as time or duration: {value:?}"
                ))
            }
        }
    }
}

/// Go's `time.ParseDuration` (positive values), in nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    if s.is_empty() || s == "0" {
        return None;
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if n_end == 0 {
            return None;
        }
        let n: f64 = rest[..n_end].parse().ok()?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mul = match &rest[..u_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += n * mul;
        rest = &rest[u_end..];
    }
    Some(total)
}

async fn logs(client: &Client, a: LogsArgs) -> Res {
    let now = chrono::Utc::now();
    let mut q = vec![("stdout", "1".to_string()), ("stderr", "1".to_string())];
    if a.follow {
        q.push(("follow", "1".into()));
    }
    if a.timestamps {
        q.push(("timestamps", "1".into()));
    }
    if a.details {
        q.push(("details", "1".into()));
    }
    q.push(("tail", a.tail.clone()));
    if let Some(s) = &a.since {
        let ts = get_timestamp(s, now)
            .map_err(|e| Failure::msg(format!("invalid value for \"since\": {e}")))?;
        q.push(("since", ts));
    }
    if let Some(u) = &a.until {
        let ts = get_timestamp(u, now)
            .map_err(|e| Failure::msg(format!("invalid value for \"until\": {e}")))?;
        q.push(("until", ts));
    }
    let path = format!(
        "/containers/{}/logs{}",
        encode(&a.container),
        berth_client::query(&q)
    );
    let mut s = client
        .stream(hyper::Method::GET, &path, berth_client::empty_body(), None)
        .await?;
    let multiplexed = if s.content_type.is_empty() {
        let info = client
            .get(&format!("/containers/{}/json", encode(&a.container)))
            .await?;
        !info["Config"]["Tty"].as_bool().unwrap_or(false)
    } else {
        s.is_multiplexed()
    };
    let mut dec = berth_client::stdcopy::Decoder::new();
    use std::io::Write;
    while let Some(chunk) = s.next().await {
        let chunk = chunk?;
        if !multiplexed {
            std::io::stdout().write_all(&chunk)?;
            std::io::stdout().flush()?;
            continue;
        }
        dec.push(&chunk);
        while let Some((kind, payload)) =
            dec.next_frame().map_err(|e| Failure::msg(e.to_string()))?
        {
            if kind == berth_client::stdcopy::StreamKind::Stdout {
                std::io::stdout().write_all(&payload)?;
                std::io::stdout().flush()?;
            } else {
                std::io::stderr().write_all(&payload)?;
            }
        }
    }
    Ok(0)
}

async fn top(client: &Client, a: TopArgs) -> Res {
    let q = if a.ps_args.is_empty() {
        String::new()
    } else {
        format!("?ps_args={}", encode(&a.ps_args.join(" ")))
    };
    let v = client
        .get(&format!("/containers/{}/top{q}", encode(&a.container)))
        .await?;
    let mut text = String::new();
    let titles: Vec<&str> = v["Titles"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    text.push_str(&titles.join("\t"));
    text.push('\n');
    for p in v["Processes"].as_array().into_iter().flatten() {
        let cells: Vec<&str> = p
            .as_array()
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        text.push_str(&cells.join("\t"));
        text.push('\n');
    }
    // docker top: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0).
    print!("{}", format::tabwriter::align_min(&text, 20));
    Ok(0)
}

async fn export(client: &Client, a: ExportArgs) -> Res {
    use std::io::Write;
    match &a.output {
        Some(path) => {
            // docker's ValidateOutputPath.
            let dir = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty());
            if let Some(Err(e)) = dir.map(std::fs::metadata) {
                if e.kind() == std::io::ErrorKind::NotFound {
                    return Err(Failure::msg(format!(
                        "failed to export container: invalid output path: stat {}: {}",
                        dir.map(|d| d.display().to_string()).unwrap_or_default(),
                        super::io_msg(&e)
                    )));
                }
            }
        }
        None if stream::stdout_is_tty() => {
            return Err(Failure::msg(
                "cowardly refusing to save to a terminal. Use the -o flag or redirect",
            ));
        }
        None => {}
    }
    let mut s = client
        .stream(
            hyper::Method::GET,
            &format!("/containers/{}/export", encode(&a.container)),
            berth_client::empty_body(),
            None,
        )
        .await?;
    // The file is created once the daemon answered, like docker.
    let mut out: Box<dyn Write> = match &a.output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| {
            Failure::msg(format!(
                "failed to export container: open {path}: {}",
                super::io_msg(&e)
            ))
        })?),
        None => Box::new(std::io::stdout().lock()),
    };
    while let Some(chunk) = s.next().await {
        out.write_all(&chunk?)?;
    }
    out.flush()?;
    Ok(0)
}

/// Inspects containers and/or images (`kind`: None tries both).
pub async fn inspect(client: &Client, a: InspectArgs, kind: Option<&str>) -> Res {
    let kind = a.kind.as_deref().or(kind);
    if let Some(k) = kind {
        if k != "container" && k != "image" {
            // docker's wording, with the types berth has.
            return Err(Failure::msg(format!(
                "unknown type: \"{k}\": must be one of \"container\", \"image\""
            )));
        }
    }
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for name in &a.names {
        let c_path = format!(
            "/containers/{}/json{}",
            encode(name),
            if a.size { "?size=1" } else { "" }
        );
        let i_path = format!("/images/{}/json", encode(name));
        let r = match kind {
            Some("container") => client.get(&c_path).await,
            Some(_) => client.get(&i_path).await,
            None => match client.get(&c_path).await {
                Err(e) if e.is_not_found() => match client.get(&i_path).await {
                    Err(e) if e.is_not_found() => Err(ClientError::Protocol(format!(
                        "Error: No such object: {name}"
                    ))),
                    r => r,
                },
                r => r,
            },
        };
        match r {
            Ok(v) => found.push(v),
            Err(e) => errors.push(e.to_string()),
        }
    }
    match &a.format {
        Some(f) if f.trim() == "json" => {
            println!("{}", Value::Array(found));
        }
        Some(f) => {
            let fmt = Format::parse(f, "").map_err(Failure::template(Ctx::Inspect))?;
            for v in &found {
                println!(
                    "{}",
                    fmt.render(v).map_err(Failure::template(Ctx::Inspect))?
                );
            }
        }
        None => println!("{}", format::indent_json(&Value::Array(found))),
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::msg(errors.join("\n")))
    }
}

/// `--filter k=v` list into the API's `{"k":{"v":true}}`; a bad one is a flag error of
/// the command `path`.
pub fn filters_json(filters: &[String], path: &str) -> Result<String, Failure> {
    let mut m = serde_json::Map::new();
    for f in filters {
        let (k, v) = f.split_once('=').ok_or_else(|| {
            let e = super::usage::flag_error(
                path,
                &format!(
                    "invalid argument \"{f}\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"
                ),
            );
            Failure {
                code: e.code,
                msg: e.text,
            }
        })?;
        let entry = m
            .entry(k.trim().to_lowercase())
            .or_insert_with(|| json!({}));
        entry[v] = json!(true);
    }
    Ok(Value::Object(m).to_string())
}

const PS_DEFAULT: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Headers of `ps` table fields.
pub const PS_HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("State", "STATE"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Platform", "PLATFORM"),
];

/// Go's `time.Time.String()` of a unix time in the local zone.
pub fn go_time_string(unix: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(unix, 0).single() {
        Some(t) => {
            let off = t.format("%z").to_string();
            let zone = if off == "+0000" {
                "UTC".to_string()
            } else {
                off.clone()
            };
            format!("{} {off} {zone}", t.format("%Y-%m-%d %H:%M:%S"))
        }
        None => String::new(),
    }
}

fn ports_column(ports: &Value) -> String {
    let mut out = Vec::new();
    for p in ports.as_array().into_iter().flatten() {
        let private = p["PrivatePort"].as_u64().unwrap_or(0);
        let kind = p["Type"].as_str().unwrap_or("tcp");
        match p["PublicPort"].as_u64().filter(|p| *p != 0) {
            Some(public) => {
                let ip = p["IP"].as_str().unwrap_or("");
                let ip = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.to_string()
                };
                out.push(format!("{ip}:{public}->{private}/{kind}"));
            }
            None => out.push(format!("{private}/{kind}")),
        }
    }
    out.join(", ")
}

/// One `ps` row as template data (docker's container context), from `/containers/json`.
pub fn ps_row(c: &Value, trunc: bool, now: i64) -> Value {
    let id = c["Id"].as_str().unwrap_or("");
    let mut names: Vec<String> = c["Names"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|n| n.trim_start_matches('/').to_string())
        .filter(|n| !trunc || !n.contains('/'))
        .collect();
    if trunc {
        names.truncate(1);
    }
    let image = c["Image"].as_str().unwrap_or("");
    let image = if trunc && image.starts_with("sha256:") {
        format::short_id(image)
    } else {
        image.to_string()
    };
    let command = c["Command"].as_str().unwrap_or("");
    let labels = c["Labels"].as_object().cloned().unwrap_or_default();
    let label_str: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    let created = c["Created"].as_i64().unwrap_or(0);
    let size = match (c["SizeRw"].as_i64(), c["SizeRootFs"].as_i64()) {
        (Some(rw), Some(root)) => format!(
            "{} (virtual {})",
            units::human_size(rw as f64),
            units::human_size(root as f64)
        ),
        (Some(rw), None) => units::human_size(rw as f64),
        _ => "0B".to_string(),
    };
    let mounts: Vec<String> = c["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let n = m["Name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .or(m["Source"].as_str())
                .unwrap_or("");
            if trunc {
                format::ellipsis(n, 15)
            } else {
                n.to_string()
            }
        })
        .collect();
    let networks: Vec<String> = c["NetworkSettings"]["Networks"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let status = c["Status"].as_str().unwrap_or("");
    json!({
        "Command": format::command_column(command, trunc),
        "CreatedAt": go_time_string(created),
        "ID": if trunc { format::short_id(id) } else { id.to_string() },
        "Image": image,
        "LabelMap": labels,
        "Labels": label_str.join(","),
        "LocalVolumes": mounts.len().to_string(),
        "Mounts": mounts.join(","),
        "Names": names.join(","),
        "Networks": networks.join(","),
        "Platform": null,
        "Ports": ports_column(&c["Ports"]),
        "RunningFor": units::ago(created, now),
        "Size": size,
        "State": c["State"].as_str().unwrap_or(""),
        "Status": status,
    })
}

/// The rendered `ps` output for `containers` (pure).
pub fn ps_output(containers: &[Value], a: &PsArgs, now: i64) -> Result<String, Failure> {
    let trunc = !a.no_trunc;
    let format = match &a.format {
        Some(f) if !f.is_empty() && f.trim() != "table" => f.clone(),
        _ if a.quiet => "{{.ID}}".to_string(),
        _ if a.size => format!("{PS_DEFAULT}\t{{{{.Size}}}}"),
        _ => PS_DEFAULT.to_string(),
    };
    let default = if a.size {
        format!("{PS_DEFAULT}\t{{{{.Size}}}}")
    } else {
        PS_DEFAULT.to_string()
    };
    let fmt = Format::parse_in(Ctx::Ps, &format, &default).map_err(Failure::template(Ctx::Ps))?;
    let rows: Vec<Value> = containers.iter().map(|c| ps_row(c, trunc, now)).collect();
    fmt.render_all(&rows, PS_HEADERS)
        .map_err(Failure::template(Ctx::Ps))
}

/// `ps` / `container ls`.
pub async fn ps(client: &Client, mut a: PsArgs) -> Res {
    if a.quiet && a.format.as_deref().is_some_and(|f| !f.is_empty()) {
        eprintln!("WARNING: Ignoring custom format, because both --format and --quiet are set.");
        a.format = None;
    }
    let mut q = Vec::new();
    let limit = if a.latest { 1 } else { a.last };
    if a.all || limit > 0 {
        q.push(("all", "1".to_string()));
    }
    if limit > 0 {
        q.push(("limit", limit.to_string()));
    }
    // docker asks for sizes when the template uses them (`{{json .}}` prints them all).
    let wants_size = a.size
        || a.format
            .as_deref()
            .is_some_and(|f| f.contains(".Size") || f.replace(' ', "").contains("json.}}"));
    if wants_size {
        q.push(("size", "1".to_string()));
    }
    if !a.filter.is_empty() {
        q.push(("filters", filters_json(&a.filter, "ps")?));
    }
    let v = client
        .get(&format!("/containers/json{}", berth_client::query(&q)))
        .await?;
    let list = v.as_array().cloned().unwrap_or_default();
    print!("{}", ps_output(&list, &a, chrono::Utc::now().timestamp())?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(now: i64) -> Vec<Value> {
        vec![
            json!({"Id": "0123456789abcdef0123456789abcdef", "Names": ["/web"], "Image": "busybox",
                   "Command": "sh -c 'while true; do sleep 1; done'", "Created": now - 5, "State": "running",
                   "Status": "Up 5 seconds", "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}, {"PrivatePort": 53, "Type": "udp"}],
                   "Labels": {"app": "x"}, "SizeRw": 0, "SizeRootFs": 4_261_000}),
            json!({"Id": "fedcba9876543210", "Names": ["/db"], "Image": "sha256:aaaaaaaaaaaaaaaaaaaaaa",
                   "Command": "true", "Created": now - 180, "State": "exited", "Status": "Exited (0) 3 minutes ago",
                   "Ports": [], "Labels": {}}),
        ]
    }

    #[test]
    fn ps_default_table() {
        let now = 1_700_000_000;
        let out = ps_output(&sample(now), &PsArgs::default(), now).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                     PORTS                          NAMES"
        );
        assert_eq!(
            lines[1],
            "0123456789ab   busybox        \"sh -c 'while true; …\"   5 seconds ago   Up 5 seconds               0.0.0.0:8080->80/tcp, 53/udp   web"
        );
        assert!(lines[2].starts_with(
            "fedcba987654   aaaaaaaaaaaa   \"true\"                   3 minutes ago   Exited (0) 3 minutes ago"
        ));
        assert!(lines[2].ends_with("db"));
    }

    #[test]
    fn ps_quiet_no_trunc_and_formats() {
        let now = 1_700_000_000;
        let a = PsArgs {
            quiet: true,
            ..Default::default()
        };
        assert_eq!(
            ps_output(&sample(now), &a, now).unwrap(),
            "0123456789ab\nfedcba987654\n"
        );
        let a = PsArgs {
            quiet: true,
            no_trunc: true,
            ..Default::default()
        };
        assert_eq!(
            ps_output(&sample(now), &a, now).unwrap(),
            "0123456789abcdef0123456789abcdef\nfedcba9876543210\n"
        );
        let a = PsArgs {
            format: Some("{{.Names}} {{.State}} {{.Label \"app\"}}".into()),
            ..Default::default()
        };
        assert_eq!(
            ps_output(&sample(now), &a, now).unwrap(),
            "web running x\ndb exited \n"
        );
        let a = PsArgs {
            format: Some("table {{.Names}}\\t{{.Size}}".into()),
            ..Default::default()
        };
        assert_eq!(
            ps_output(&sample(now)[..1], &a, now).unwrap(),
            "NAMES     SIZE\nweb       0B (virtual 4.26MB)\n"
        );
        let a = PsArgs {
            format: Some("{{json .Labels}}".into()),
            ..Default::default()
        };
        assert_eq!(
            ps_output(&sample(now)[..1], &a, now).unwrap(),
            "\"app=x\"\n"
        );
        // Empty list: just the header.
        assert!(ps_output(&[], &PsArgs::default(), now)
            .unwrap()
            .starts_with(
                "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
            ));
        let a = PsArgs {
            size: true,
            ..Default::default()
        };
        assert!(ps_output(&[], &a, now)
            .unwrap()
            .trim_end()
            .ends_with("NAMES     SIZE"));
    }

    #[test]
    fn filters_and_refs() {
        assert_eq!(
            filters_json(&["label=app=x".into(), "status=running".into()], "ps").unwrap(),
            r#"{"label":{"app=x":true},"status":{"running":true}}"#
        );
        assert_eq!(filters_json(&["bad".into()], "ps").unwrap_err().code, 125);
        assert_eq!(with_latest("busybox"), "busybox:latest");
        assert_eq!(
            with_latest("localhost:5000/busybox"),
            "localhost:5000/busybox:latest"
        );
        assert_eq!(with_latest("busybox:1.36"), "busybox:1.36");
        assert_eq!(
            normalize_ref("busybox:latest"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(normalize_ref("me/app:1"), "docker.io/me/app:1");
        assert_eq!(
            normalize_ref("localhost:5000/app:1"),
            "localhost:5000/app:1"
        );
        assert_eq!(normalize_ref("quay.io/a/b"), "quay.io/a/b");
        assert_eq!(
            split_ref("localhost:5000/a/b:v1"),
            ("localhost:5000/a/b".into(), Some("v1".into()))
        );
        assert_eq!(
            split_ref("localhost:5000/a"),
            ("localhost:5000/a".into(), None)
        );
    }

    #[test]
    fn start_errors_map_to_docker_codes() {
        assert_eq!(start_error_code("Error response from daemon: failed to create task: exec: \"nosuchcmd\": executable file not found in $PATH"), 127);
        assert_eq!(start_error_code("open /x: no such file or directory"), 127);
        assert_eq!(start_error_code("exec /etc: permission denied"), 126);
        assert_eq!(start_error_code("something else"), 125);
    }

    #[test]
    fn timestamps() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:10:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let ts = |v: &str| get_timestamp(v, now);
        assert_eq!(ts("10m").unwrap(), "1704067200");
        assert_eq!(ts("1h30m").unwrap(), (1704067800 - 5400).to_string());
        assert_eq!(ts("2024-01-01T00:00:00Z").unwrap(), "1704067200.000000000");
        assert_eq!(
            ts("2024-01-01T01:00:00+01:00").unwrap(),
            "1704067200.000000000"
        );
        assert_eq!(
            ts("2024-01-01T00:00:00.5Z").unwrap(),
            "1704067200.500000000"
        );
        assert_eq!(ts("2024-01-01T02Z").unwrap(), "1704074400.000000000");
        assert_eq!(ts("1704067200").unwrap(), "1704067200");
        assert_eq!(ts("1704067200.5").unwrap(), "1704067200.5");
        assert_eq!(ts("0").unwrap(), "0");
        assert_eq!(
            ts("bogus").unwrap_err(),
            "failed to parse value as time or duration: \"bogus\""
        );
        assert!(ts("2024-13-01").is_err());
        // Without a zone: the local zone.
        let local = ts("2024-01-01").unwrap();
        assert!(local.ends_with(".000000000"), "{local}");
        assert_eq!(parse_go_duration("1.5s"), Some(1.5e9));
        assert_eq!(parse_go_duration("abc"), None);
    }
}
