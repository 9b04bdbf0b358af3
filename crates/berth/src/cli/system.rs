//! `version`, `info`, `events`, `daemon` and daemon auto-start.

use std::time::{Duration, Instant};

use berth_client::Client;
use serde_json::{json, Value};

use super::container::{filters_json, get_timestamp};
use super::{DaemonArgs, EventsArgs, Failure, FormatArgs, Res};
use crate::format::{template::Format, units};

/// `berth daemon`: runs the engine daemon in this process.
pub fn daemon(a: DaemonArgs, global_level: &str) -> i32 {
    let level = if a.debug {
        "debug".to_string()
    } else {
        a.log_level
            .clone()
            .unwrap_or_else(|| global_level.to_string())
    };
    let filter = match level.as_str() {
        "debug" => tracing::Level::DEBUG,
        "warn" => tracing::Level::WARN,
        "error" | "fatal" | "panic" => tracing::Level::ERROR,
        "trace" => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let config = berth_daemon::Config {
        hosts: a.host.clone(),
        data_root: a.data_root.clone().into(),
        exec_root: a.exec_root.clone().into(),
        log_level: level,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth daemon: {e}");
            return 1;
        }
    };
    match rt.block_on(berth_daemon::run(config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("berth daemon: {e}");
            1
        }
    }
}

/// Starts `berth daemon` in the background (own session, output to a log file) and
/// waits up to 10 s for it to answer `/_ping`.
pub async fn autostart(client: &Client) -> Result<(), Failure> {
    let exe = std::fs::read_link("/proc/self/exe")
        .map_err(|e| Failure::msg(format!("cannot start the daemon: {e}")))?;
    let log = [
        "/var/log/berth.log",
        "/var/lib/berth/berth.log",
        "/tmp/berth.log",
    ]
    .iter()
    .find_map(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    })
    .ok_or_else(|| Failure::msg("cannot start the daemon: no writable log file"))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("daemon")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(Failure::from)?)
        .stderr(log);
    crate::sys::setsid_on_spawn(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::msg(format!("cannot start the daemon: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if client.ping().await.is_ok() {
            // Reap it later without blocking: the daemon keeps running on its own.
            std::thread::spawn(move || child.wait());
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Failure::msg(format!(
                "Cannot connect to the berth daemon at {}: the daemon exited ({status}); see /var/log/berth.log",
                client.host()
            )));
        }
        if Instant::now() > deadline {
            return Err(Failure::msg(format!(
                "Cannot connect to the berth daemon at {}. Is the berth daemon running?",
                client.host()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Adds Go field names (`APIVersion`) beside dockerd's JSON names (`ApiVersion`).
fn go_names(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        if let Some(a) = m.get("ApiVersion").cloned() {
            m.insert("APIVersion".into(), a);
        }
        if let Some(a) = m.get("MinAPIVersion").cloned() {
            m.insert("MinAPIVersion".into(), a);
        }
    }
}

/// The data of `version`: `{Client, Server}`.
pub fn version_data(server: Option<Value>, api_version: &str) -> Value {
    let mut client = json!({
        "Platform": {"Name": ""},
        "Version": env!("CARGO_PKG_VERSION"),
        "ApiVersion": api_version,
        "DefaultAPIVersion": berth_client::MAX_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": std::env::consts::OS,
        "Arch": go_arch(),
        "BuildTime": "",
        "Context": "default",
    });
    go_names(&mut client);
    let server = server.map(|mut s| {
        go_names(&mut s);
        s
    });
    json!({"Client": client, "Server": server})
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The default text of `version`.
pub fn version_text(v: &Value) -> String {
    let c = &v["Client"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut out = format!(
        "Client:\n Version:           {}\n API version:       {}\n Go version:        {}\n Git commit:        {}\n Built:             {}\n OS/Arch:           {}/{}\n Context:           {}\n",
        s(&c["Version"]), s(&c["ApiVersion"]), s(&c["GoVersion"]), s(&c["GitCommit"]), s(&c["BuildTime"]), s(&c["Os"]), s(&c["Arch"]), s(&c["Context"])
    );
    let srv = &v["Server"];
    if srv.is_object() {
        out.push_str(&format!(
            "\nServer: {}\n Engine:\n  Version:          {}\n  API version:      {} (minimum version {})\n  Go version:       {}\n  Git commit:       {}\n  Built:            {}\n  OS/Arch:          {}/{}\n  Experimental:     {}\n",
            s(&srv["Platform"]["Name"]), s(&srv["Version"]), s(&srv["ApiVersion"]), s(&srv["MinAPIVersion"]), s(&srv["GoVersion"]),
            s(&srv["GitCommit"]), s(&srv["BuildTime"]), s(&srv["Os"]), s(&srv["Arch"]), srv["Experimental"].as_bool().unwrap_or(false)
        ));
    }
    out
}

/// `version [--format]`.
pub async fn version(client: &Client, a: FormatArgs) -> Res {
    let server = client.get("/version").await;
    let api = client
        .api_version()
        .await
        .unwrap_or(berth_client::MAX_API_VERSION)
        .to_string();
    let data = version_data(server.as_ref().ok().cloned(), &api);
    match &a.format {
        Some(f) => println!("{}", Format::parse(f, "")?.render(&data)?),
        None => print!("{}", version_text(&data)),
    }
    server?;
    Ok(0)
}

/// The default text of `info` (the parts berth has).
pub fn info_text(i: &Value) -> String {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut out = String::new();
    out.push_str("Client:\n Version:    ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str("\n Context:    default\n Debug Mode: false\n\nServer:\n");
    out.push_str(&format!(
        " Containers: {}\n  Running: {}\n  Paused: {}\n  Stopped: {}\n Images: {}\n Server Version: {}\n Storage Driver: {}\n Logging Driver: {}\n Cgroup Driver: {}\n Cgroup Version: {}\n",
        s(&i["Containers"]), s(&i["ContainersRunning"]), s(&i["ContainersPaused"]), s(&i["ContainersStopped"]), s(&i["Images"]),
        s(&i["ServerVersion"]), s(&i["Driver"]), s(&i["LoggingDriver"]), s(&i["CgroupDriver"]), s(&i["CgroupVersion"])
    ));
    let runtimes: Vec<String> = i["Runtimes"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    out.push_str(&format!(
        " Runtimes: {}\n Default Runtime: {}\n",
        runtimes.join(" "),
        s(&i["DefaultRuntime"])
    ));
    out.push_str(&format!(
        " Kernel Version: {}\n Operating System: {}\n OSType: {}\n Architecture: {}\n CPUs: {}\n Total Memory: {}\n Name: {}\n ID: {}\n Docker Root Dir: {}\n Debug Mode: {}\n",
        s(&i["KernelVersion"]), s(&i["OperatingSystem"]), s(&i["OSType"]), s(&i["Architecture"]), s(&i["NCPU"]),
        units::bytes_size(i["MemTotal"].as_f64().unwrap_or(0.0)), s(&i["Name"]), s(&i["ID"]), s(&i["DockerRootDir"]),
        i["Debug"].as_bool().unwrap_or(false)
    ));
    out.push_str(&format!(
        " Experimental: {}\n Live Restore Enabled: {}\n",
        i["ExperimentalBuild"].as_bool().unwrap_or(false),
        i["LiveRestoreEnabled"].as_bool().unwrap_or(false)
    ));
    out
}

/// `info [--format]`.
pub async fn info(client: &Client, a: FormatArgs) -> Res {
    let i = client.get("/info").await?;
    match &a.format {
        Some(f) => println!("{}", Format::parse(f, "")?.render(&i)?),
        None => print!("{}", info_text(&i)),
    }
    Ok(0)
}

/// docker's default event line: `TIME TYPE ACTION ID (k=v, …)`.
pub fn event_line(e: &Value) -> String {
    let nanos = e["timeNano"]
        .as_i64()
        .unwrap_or_else(|| e["time"].as_i64().unwrap_or(0) * 1_000_000_000);
    let t = chrono::DateTime::from_timestamp(
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000) as u32,
    )
    .map(|t| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%dT%H:%M:%S%.9f%:z")
            .to_string()
    })
    .unwrap_or_default();
    let kind = e["Type"].as_str().unwrap_or("");
    let action = e["Action"].as_str().unwrap_or("");
    let id = e["Actor"]["ID"].as_str().unwrap_or("");
    let mut attrs: Vec<(String, String)> = e["Actor"]["Attributes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    attrs.sort();
    let mut line = format!("{t} {kind} {action} {id}");
    if !attrs.is_empty() {
        let a: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        line.push_str(&format!(" ({})", a.join(", ")));
    }
    line
}

/// `events`.
pub async fn events(client: &Client, a: EventsArgs) -> Res {
    let now = chrono::Utc::now();
    let mut q = Vec::new();
    if let Some(s) = &a.since {
        q.push(("since", get_timestamp(s, now)));
    }
    if let Some(u) = &a.until {
        q.push(("until", get_timestamp(u, now)));
    }
    if !a.filter.is_empty() {
        q.push(("filters", filters_json(&a.filter)?));
    }
    let fmt = match &a.format {
        Some(f) => Some(Format::parse(f, "")?),
        None => None,
    };
    let mut s = client
        .stream(
            hyper::Method::GET,
            &format!("/events{}", berth_client::query(&q)),
            berth_client::empty_body(),
            None,
        )
        .await?;
    let mut buf: Vec<u8> = Vec::new();
    use std::io::Write;
    while let Some(chunk) = s.next().await {
        buf.extend_from_slice(&chunk?);
        let mut consumed = 0;
        {
            let mut it = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
            while let Some(Ok(ev)) = it.next() {
                consumed = it.byte_offset();
                let line = match &fmt {
                    Some(f) => f.render(&ev)?,
                    None => event_line(&ev),
                };
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()?;
            }
        }
        buf.drain(..consumed);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_template_uses_go_names() {
        let d = version_data(
            Some(json!({"Version": "0.1.0", "ApiVersion": "1.50", "MinAPIVersion": "1.24"})),
            "1.50",
        );
        assert_eq!(
            Format::parse("{{.Server.APIVersion}}", "")
                .unwrap()
                .render(&d)
                .unwrap(),
            "1.50"
        );
        assert_eq!(
            Format::parse("{{.Client.APIVersion}}", "")
                .unwrap()
                .render(&d)
                .unwrap(),
            "1.50"
        );
        assert!(version_text(&d).contains("API version:      1.50 (minimum version 1.24)"));
        let none = version_data(None, "1.50");
        assert!(!version_text(&none).contains("Server:"));
    }

    #[test]
    fn event_lines() {
        let e = json!({"Type": "container", "Action": "start", "Actor": {"ID": "abc", "Attributes": {"name": "web", "image": "busybox"}}, "time": 0, "timeNano": 5});
        let line = event_line(&e);
        assert!(
            line.ends_with(" container start abc (image=busybox, name=web)"),
            "{line}"
        );
        assert_eq!(
            Format::parse("{{.Action}} {{.Actor.Attributes.name}}", "")
                .unwrap()
                .render(&e)
                .unwrap(),
            "start web"
        );
    }
}
