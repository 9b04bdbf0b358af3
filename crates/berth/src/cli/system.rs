//! `version`, `info`, `events`, `daemon` and daemon auto-start.

use std::time::{Duration, Instant};

use berth_client::Client;
use serde_json::{json, Value};

use super::container::{filters_json, get_timestamp};
use super::{DaemonArgs, EventsArgs, Failure, FormatArgs, Res};
use crate::format::{
    template::{Ctx, Format},
    units,
};

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
    // Without -H: the default socket, in $BERTH_EXEC_ROOT when that is set.
    let hosts = if a.host.is_empty() {
        vec![berth_client::default_host()]
    } else {
        a.host.clone()
    };
    let config = berth_daemon::Config {
        hosts,
        data_root: a.data_root.clone().into(),
        exec_root: a.exec_root.clone().into(),
        log_level: level,
    };
    // Idle memory is a goal (<= 15 MiB): few malloc arenas, blocking threads that do not
    // linger, and freed heap handed back to the kernel now and then.
    berth_runtime::sys::limit_malloc_arenas(2);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .thread_keep_alive(std::time::Duration::from_secs(2))
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth daemon: {e}");
            return 1;
        }
    };
    rt.spawn(async {
        // After activity, once a whole period passed without a request: give freed heap
        // back and drop clean program pages (they stay in the page cache and fault back
        // in when used). Never while busy, where the refaults would cost time.
        let (mut seen, mut trimmed) = (0, 0);
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let now = berth_daemon::server::requests_served();
            if now == seen && now != trimmed {
                let _ = tokio::task::spawn_blocking(berth_runtime::sys::trim_memory).await;
                trimmed = now;
            }
            seen = now;
        }
    });
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
    // The daemon's log: /var/log/berth.log, or in $BERTH_DATA_ROOT when that is set.
    let logs: Vec<std::path::PathBuf> = match std::env::var(berth_client::DATA_ROOT_ENV) {
        Ok(root) if !root.is_empty() => {
            let _ = std::fs::create_dir_all(&root);
            vec![std::path::Path::new(&root).join("berth.log")]
        }
        _ => [
            "/var/log/berth.log",
            "/var/lib/berth/berth.log",
            "/tmp/berth.log",
        ]
        .iter()
        .map(std::path::PathBuf::from)
        .collect(),
    };
    let (log_path, log) = logs
        .iter()
        .find_map(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
                .map(|f| (p.clone(), f))
        })
        .ok_or_else(|| Failure::msg("cannot start the daemon: no writable log file"))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("daemon")
        .arg("-H")
        .arg(client.host())
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
                "Cannot connect to the berth daemon at {}: the daemon exited ({status}); see {}",
                client.host(),
                log_path.display()
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
        Some(f) => {
            let t = Failure::template(Ctx::Version);
            println!(
                "{}",
                Format::parse_in(Ctx::Version, f, "")
                    .map_err(&t)?
                    .render(&data)
                    .map_err(&t)?
            )
        }
        None => print!("{}", version_text(&data)),
    }
    server?;
    Ok(0)
}

/// The default text of `info`, laid out like docker's (`prettyPrintInfo`); `debug` is
/// the client's `-D`.
pub fn info_text(i: &Value, debug: bool) -> String {
    use std::fmt::Write;
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
            .collect()
    };
    let mut o = String::new();
    // Go's fmt.Fprintln(" Key:", value) ...
    let line = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "{k} {v}");
    };
    let non_empty = |o: &mut String, k: &str, v: String| {
        if !v.is_empty() {
            let _ = writeln!(o, "{k} {v}");
        }
    };
    // A titled list of "  item" lines, left out when empty.
    let list = |o: &mut String, title: &str, items: Vec<String>| {
        if !items.is_empty() {
            let _ = writeln!(o, "{title}");
            for item in items {
                let _ = writeln!(o, "  {item}");
            }
        }
    };
    o.push_str("Client:\n");
    line(&mut o, " Version:   ", env!("CARGO_PKG_VERSION").into());
    line(&mut o, " Context:   ", "default".into());
    line(&mut o, " Debug Mode:", debug.to_string());
    o.push_str("\nServer:\n");
    line(&mut o, " Containers:", s(&i["Containers"]));
    line(&mut o, "  Running:", s(&i["ContainersRunning"]));
    line(&mut o, "  Paused:", s(&i["ContainersPaused"]));
    line(&mut o, "  Stopped:", s(&i["ContainersStopped"]));
    line(&mut o, " Images:", s(&i["Images"]));
    non_empty(&mut o, " Server Version:", s(&i["ServerVersion"]));
    non_empty(&mut o, " Storage Driver:", s(&i["Driver"]));
    for pair in i["DriverStatus"].as_array().into_iter().flatten() {
        let _ = writeln!(o, "  {}: {}", s(&pair[0]), s(&pair[1]));
    }
    non_empty(&mut o, " Logging Driver:", s(&i["LoggingDriver"]));
    non_empty(&mut o, " Cgroup Driver:", s(&i["CgroupDriver"]));
    non_empty(&mut o, " Cgroup Version:", s(&i["CgroupVersion"]));
    o.push_str(" Plugins:\n");
    let p = &i["Plugins"];
    line(&mut o, "  Volume:", strs(&p["Volume"]).join(" "));
    line(&mut o, "  Network:", strs(&p["Network"]).join(" "));
    let authz = strs(&p["Authorization"]);
    if !authz.is_empty() {
        line(&mut o, "  Authorization:", authz.join(" "));
    }
    line(&mut o, "  Log:", strs(&p["Log"]).join(" "));
    list(&mut o, " CDI spec directories:", strs(&i["CDISpecDirs"]));
    line(&mut o, " Swarm:", s(&i["Swarm"]["LocalNodeState"]));
    if let Some(rt) = i["Runtimes"].as_object().filter(|m| !m.is_empty()) {
        let mut names: Vec<&String> = rt.keys().collect();
        names.sort();
        let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        line(&mut o, " Runtimes:", names.join(" "));
        line(&mut o, " Default Runtime:", s(&i["DefaultRuntime"]));
    }
    if i["OSType"].as_str() == Some("linux") {
        line(&mut o, " Init Binary:", s(&i["InitBinary"]));
        for (name, key) in [
            ("containerd", "ContainerdCommit"),
            ("runc", "RuncCommit"),
            ("init", "InitCommit"),
        ] {
            let _ = writeln!(o, " {name} version: {}", s(&i[key]["ID"]));
        }
        let opts = strs(&i["SecurityOptions"]);
        if !opts.is_empty() {
            o.push_str(" Security Options:\n");
            for so in opts {
                let mut name = String::new();
                let mut profile = None;
                for kv in so.split(',') {
                    match kv.split_once('=') {
                        Some(("name", v)) => name = v.to_string(),
                        Some(("profile", v)) => profile = Some(v.to_string()),
                        _ => {}
                    }
                }
                let _ = writeln!(o, "  {name}");
                if let Some(p) = profile {
                    let _ = writeln!(o, "   Profile: {p}");
                }
            }
        }
    }
    non_empty(&mut o, " Kernel Version:", s(&i["KernelVersion"]));
    non_empty(&mut o, " Operating System:", s(&i["OperatingSystem"]));
    non_empty(&mut o, " OSType:", s(&i["OSType"]));
    non_empty(&mut o, " Architecture:", s(&i["Architecture"]));
    line(&mut o, " CPUs:", s(&i["NCPU"]));
    line(
        &mut o,
        " Total Memory:",
        units::bytes_size(i["MemTotal"].as_f64().unwrap_or(0.0)),
    );
    non_empty(&mut o, " Name:", s(&i["Name"]));
    non_empty(&mut o, " ID:", s(&i["ID"]));
    line(&mut o, " Docker Root Dir:", s(&i["DockerRootDir"]));
    let server_debug = i["Debug"].as_bool().unwrap_or(false);
    line(&mut o, " Debug Mode:", server_debug.to_string());
    if server_debug {
        line(&mut o, "  File Descriptors:", s(&i["NFd"]));
        line(&mut o, "  Goroutines:", s(&i["NGoroutines"]));
        line(&mut o, "  System Time:", s(&i["SystemTime"]));
        line(&mut o, "  EventsListeners:", s(&i["NEventsListener"]));
    }
    non_empty(&mut o, " HTTP Proxy:", s(&i["HttpProxy"]));
    non_empty(&mut o, " HTTPS Proxy:", s(&i["HttpsProxy"]));
    non_empty(&mut o, " No Proxy:", s(&i["NoProxy"]));
    list(&mut o, " Labels:", strs(&i["Labels"]));
    line(
        &mut o,
        " Experimental:",
        i["ExperimentalBuild"]
            .as_bool()
            .unwrap_or(false)
            .to_string(),
    );
    let reg = &i["RegistryConfig"];
    let insecure_cidrs = strs(&reg["InsecureRegistryCIDRs"]);
    let index_configs = reg["IndexConfigs"].as_object().cloned().unwrap_or_default();
    if !insecure_cidrs.is_empty() || !index_configs.is_empty() {
        o.push_str(" Insecure Registries:\n");
        for c in index_configs.values() {
            if !c["Secure"].as_bool().unwrap_or(true) {
                let _ = writeln!(o, "  {}", s(&c["Name"]));
            }
        }
        for c in insecure_cidrs {
            let _ = writeln!(o, "  {c}");
        }
    }
    list(&mut o, " Registry Mirrors:", strs(&reg["Mirrors"]));
    line(
        &mut o,
        " Live Restore Enabled:",
        i["LiveRestoreEnabled"]
            .as_bool()
            .unwrap_or(false)
            .to_string(),
    );
    non_empty(&mut o, " Product License:", s(&i["ProductLicense"]));
    o.push('\n');
    o
}

/// `info [--format]`.
pub async fn info(client: &Client, a: FormatArgs, debug: bool) -> Res {
    let mut i = client.get("/info").await?;
    if let Some(m) = i.as_object_mut() {
        if m.get("KernelMemoryTCP") == Some(&Value::Bool(false)) {
            m.remove("KernelMemoryTCP");
        }
        // docker's Info struct ends with Warnings.
        if let Some(w) = m.shift_remove("Warnings") {
            m.insert("Warnings".into(), w);
        }
        m.insert(
            "ClientInfo".into(),
            json!({
                "Debug": debug,
                "Version": env!("CARGO_PKG_VERSION"),
                "DefaultAPIVersion": berth_client::MAX_API_VERSION,
                "GitCommit": "",
                "GoVersion": "",
                "Os": std::env::consts::OS,
                "Arch": go_arch(),
                "BuildTime": "",
                "Context": "default",
                "Plugins": [],
                "Warnings": null,
            }),
        );
    }
    match &a.format {
        Some(f) => {
            let t = Failure::template(Ctx::Info);
            println!(
                "{}",
                Format::parse_in(Ctx::Info, f, "")
                    .map_err(&t)?
                    .render(&i)
                    .map_err(&t)?
            )
        }
        None => {
            print!("{}", info_text(&i, debug));
            for w in i["Warnings"].as_array().into_iter().flatten() {
                eprintln!("{}", w.as_str().unwrap_or(""));
            }
        }
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
        // Go's RFC3339NanoFixed: `Z` for UTC.
        let t = t.with_timezone(&chrono::Local);
        let zone = if t.offset().local_minus_utc() == 0 {
            "Z".to_string()
        } else {
            t.format("%:z").to_string()
        };
        format!("{}{zone}", t.format("%Y-%m-%dT%H:%M:%S%.9f"))
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
        q.push(("since", get_timestamp(s, now).map_err(Failure::msg)?));
    }
    if let Some(u) = &a.until {
        q.push(("until", get_timestamp(u, now).map_err(Failure::msg)?));
    }
    if !a.filter.is_empty() {
        q.push(("filters", filters_json(&a.filter, "events")?));
    }
    let fmt = match &a.format {
        Some(f) => {
            Some(Format::parse_in(Ctx::Events, f, "").map_err(Failure::template(Ctx::Events))?)
        }
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
                    Some(f) => f.render(&ev).map_err(Failure::template(Ctx::Events))?,
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
