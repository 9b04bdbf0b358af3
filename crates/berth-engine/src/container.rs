//! Container lifecycle: create, start, stop, kill, restart, pause, rename, remove, wait,
//! and the monitor that records each exit. Messages and status classes follow dockerd
//! (daemon/create.go, start.go, stop.go, kill.go, delete.go).

use std::path::Path;
use std::sync::Arc;

use berth_api::types::{ContainerConfig, ContainerCreateBody, HostConfig};
use serde_json::{json, Value};

use crate::error::{EngineError, Result};
use crate::record::{ContainerRecord, Status};
use crate::{names, random_id, shim, time, Container, Engine};

/// An exit as the shim reports it.
#[derive(Debug, Clone, Default)]
pub struct ExitStatus {
    /// 0–255; 128+N for a signal.
    pub exit_code: i32,
    /// RFC3339Nano.
    pub finished_at: String,
    /// Killed by the OOM killer.
    pub oom_killed: bool,
}

/// Reads `exit.json` left by a shim; exit code 255 if there is none (dockerd does the same
/// for a container whose runtime state vanished).
pub fn read_exit_file(state: &Path) -> ExitStatus {
    let parsed: Option<Value> = std::fs::read(state.join("exit.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    match parsed {
        Some(v) => exit_from_json(&v),
        None => ExitStatus {
            exit_code: 255,
            finished_at: time::now(),
            oom_killed: false,
        },
    }
}

fn exit_from_json(v: &Value) -> ExitStatus {
    ExitStatus {
        exit_code: v.get("exit_code").and_then(Value::as_i64).unwrap_or(255) as i32,
        finished_at: v
            .get("finished_at")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(time::now),
        oom_killed: v
            .get("oom_killed")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// Parses a signal given as a number, `KILL` or `SIGKILL` (case-insensitive).
pub fn parse_signal(sig: &str) -> Result<i32> {
    let s = sig.trim();
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let n = match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" | "IOT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "STKFLT" => 16,
        "CHLD" => 17,
        "CONT" => 18,
        "STOP" => 19,
        "TSTP" => 20,
        "TTIN" => 21,
        "TTOU" => 22,
        "URG" => 23,
        "XCPU" => 24,
        "XFSZ" => 25,
        "VTALRM" => 26,
        "PROF" => 27,
        "WINCH" => 28,
        "IO" | "POLL" => 29,
        "PWR" => 30,
        "SYS" => 31,
        _ => {
            if let Some(off) = name
                .strip_prefix("RTMIN+")
                .and_then(|n| n.parse::<i32>().ok())
            {
                34 + off
            } else if let Some(off) = name
                .strip_prefix("RTMAX-")
                .and_then(|n| n.parse::<i32>().ok())
            {
                64 - off
            } else {
                0
            }
        }
    };
    if (1..=64).contains(&n) {
        Ok(n)
    } else {
        Err(EngineError::Invalid(format!("Invalid signal: {sig}")))
    }
}

/// Merges the image's config into the request, as dockerd's `merge` does.
pub fn merge_image_config(user: &mut ContainerConfig, image: &ContainerConfig) {
    // `--entrypoint ""` arrives as [""]: an explicit empty entrypoint.
    if user.entrypoint.as_deref() == Some(&[String::new()][..]) {
        user.entrypoint = Some(Vec::new());
    }
    if user.entrypoint.as_ref().is_none_or(|e| e.is_empty()) {
        if user.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            user.cmd = image.cmd.clone();
        }
        if user.entrypoint.is_none() {
            user.entrypoint = image.entrypoint.clone();
        }
    }
    let mut env = image.env.clone().unwrap_or_default();
    for var in user.env.clone().unwrap_or_default() {
        let key = var.split('=').next().unwrap_or_default().to_string();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(var);
    }
    user.env = Some(env);
    if user.working_dir.is_empty() {
        user.working_dir = image.working_dir.clone();
    }
    if user.user.is_empty() {
        user.user = image.user.clone();
    }
    let mut labels = image.labels.clone().unwrap_or_default();
    labels.extend(user.labels.clone().unwrap_or_default());
    user.labels = Some(labels);
    if user.stop_signal.as_deref().unwrap_or_default().is_empty() {
        user.stop_signal = image.stop_signal.clone();
    }
    if user.healthcheck.is_none() {
        user.healthcheck = image.healthcheck.clone();
    }
    let mut ports = image.exposed_ports.clone().unwrap_or_default();
    ports.extend(user.exposed_ports.clone().unwrap_or_default());
    user.exposed_ports = (!ports.is_empty()).then_some(ports);
    let mut volumes = image.volumes.clone().unwrap_or_default();
    volumes.extend(user.volumes.clone().unwrap_or_default());
    user.volumes = (!volumes.is_empty()).then_some(volumes);
    if user.on_build.is_none() {
        user.on_build = image.on_build.clone();
    }
    if user.shell.is_none() {
        user.shell = image.shell.clone();
    }
}

/// Checks a host config the way dockerd's `verifyPlatformContainerSettings` does.
pub fn validate_host_config(hc: &HostConfig, ncpu: usize) -> Result<()> {
    let invalid = |m: &str| Err(EngineError::Invalid(m.to_string()));
    if hc.memory > 0 && hc.memory < 6 * 1024 * 1024 {
        return invalid("Minimum memory limit allowed is 6MB");
    }
    if hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory {
        return invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
    }
    if hc.memory_swap > 0 && hc.memory == 0 {
        return invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        );
    }
    if hc.nano_cpus > 0 && (hc.cpu_period > 0 || hc.cpu_quota > 0) {
        return invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
    }
    if hc.nano_cpus < 0 || hc.nano_cpus > (ncpu as i64) * 1_000_000_000 {
        return Err(EngineError::Invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    if hc.cpu_shares < 0 {
        return invalid("invalid CPU shares");
    }
    if hc.memory_swap < -1 {
        return invalid("Invalid value for MemorySwap: must be -1 (unlimited) or a limit");
    }
    if !hc.cpuset_cpus.is_empty() {
        match parse_cpuset(&hc.cpuset_cpus) {
            None => {
                return Err(EngineError::Invalid(format!(
                    "Invalid value {} for cpuset cpus",
                    hc.cpuset_cpus
                )))
            }
            Some(cpus) if cpus.iter().any(|c| *c >= ncpu) => {
                return Err(EngineError::Invalid(format!(
                    "Requested CPUs are not available - requested {}, available: 0-{}",
                    hc.cpuset_cpus,
                    ncpu.saturating_sub(1)
                )))
            }
            Some(_) => {}
        }
    }
    if !hc.cpuset_mems.is_empty() {
        let nodes = online_mems();
        match parse_cpuset(&hc.cpuset_mems) {
            None => {
                return Err(EngineError::Invalid(format!(
                    "Invalid value {} for cpuset mems",
                    hc.cpuset_mems
                )))
            }
            Some(mems) if mems.iter().any(|m| !nodes.contains(m)) => {
                return Err(EngineError::Invalid(format!(
                    "Requested memory nodes are not available - requested {}, available: {}",
                    hc.cpuset_mems,
                    nodes
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )))
            }
            Some(_) => {}
        }
    }
    for (dest, opts) in hc.tmpfs.iter().flatten() {
        if !dest.starts_with('/') {
            return Err(EngineError::Invalid(format!(
                "invalid mount config for type \"tmpfs\": invalid mount path: '{dest}' mount path must be absolute"
            )));
        }
        for opt in opts.split(',').filter(|o| !o.is_empty()) {
            if !valid_tmpfs_option(opt) {
                return Err(EngineError::Invalid(format!(
                    "invalid tmpfs option {opt:?} for {dest}"
                )));
            }
        }
    }
    for key in hc.sysctls.iter().flatten().map(|(k, _)| k) {
        validate_sysctl(key, hc)?;
    }
    if !(-1000..=1000).contains(&hc.oom_score_adj) {
        return Err(EngineError::Invalid(format!(
            "Invalid value {}, range for oom score adj is [-1000, 1000]",
            hc.oom_score_adj
        )));
    }
    if let Some(ulimits) = &hc.ulimits {
        for u in ulimits {
            if u.soft > u.hard {
                return Err(EngineError::Invalid(format!(
                    "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                    u.soft, u.hard
                )));
            }
            // The machine's hard limit on open files is 20000: never ask for more.
            if u.name == "nofile" && u.hard > 20000 {
                return Err(EngineError::Invalid(format!(
                    "ulimit nofile hard limit {} exceeds the host's limit of 20000",
                    u.hard
                )));
            }
        }
    }
    match hc.restart_policy.name.as_str() {
        "" | "no" => {}
        "always" | "unless-stopped" | "on-failure" => {
            if hc.auto_remove {
                return invalid("can't create 'AutoRemove' container with restart policy");
            }
        }
        other => {
            return Err(EngineError::Invalid(format!(
                "invalid restart policy '{other}'"
            )));
        }
    }
    if hc.restart_policy.maximum_retry_count != 0 && hc.restart_policy.name != "on-failure" {
        return invalid(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'",
        );
    }
    match network_mode(hc)? {
        NetworkMode::None | NetworkMode::Host => {}
    }
    crate::hostconfig::check_namespace_modes(hc)?;
    crate::hostconfig::check_unsupported(hc)?;
    crate::hostconfig::mount_points(hc)?;
    Ok(())
}

/// Parses a cpuset list (`0-2,4`) as the kernel reads it; `None` when malformed.
pub fn parse_cpuset(list: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (lo.parse::<usize>().ok()?, hi.parse::<usize>().ok()?),
            None => {
                let n = part.parse::<usize>().ok()?;
                (n, n)
            }
        };
        if lo > hi || hi > 4096 {
            return None;
        }
        out.extend(lo..=hi);
    }
    Some(out)
}

/// The host's online memory nodes (node 0 when the kernel does not say).
fn online_mems() -> Vec<usize> {
    std::fs::read_to_string("/sys/devices/system/node/online")
        .ok()
        .and_then(|s| parse_cpuset(s.trim()))
        .unwrap_or_else(|| vec![0])
}

/// The options a tmpfs mount takes (`docker run --tmpfs /x:OPTS`).
fn valid_tmpfs_option(opt: &str) -> bool {
    let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
    match key {
        "size" | "nr_blocks" | "nr_inodes" => {
            let digits = value.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', '%']);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        "mode" => !value.is_empty() && value.bytes().all(|b| (b'0'..=b'7').contains(&b)),
        "uid" | "gid" => value.parse::<u32>().is_ok(),
        _ => {
            value.is_empty()
                && matches!(
                    key,
                    "ro" | "rw"
                        | "exec"
                        | "noexec"
                        | "suid"
                        | "nosuid"
                        | "dev"
                        | "nodev"
                        | "sync"
                        | "async"
                        | "atime"
                        | "noatime"
                        | "diratime"
                        | "nodiratime"
                        | "relatime"
                        | "norelatime"
                        | "strictatime"
                        | "nostrictatime"
                        | "tmpcopyup"
                        | "private"
                        | "rprivate"
                        | "shared"
                        | "rshared"
                        | "slave"
                        | "rslave"
                )
        }
    }
}

/// A sysctl can only be set when it lives in a namespace the container has of its own
/// (what runc checks when it creates the container): IPC ones unless `--ipc host`, net
/// ones unless `--network host`, the UTS names unless `--uts host`.
fn validate_sysctl(key: &str, hc: &HostConfig) -> Result<()> {
    let ipc = matches!(
        key,
        "kernel.msgmax" | "kernel.msgmnb" | "kernel.msgmni" | "kernel.sem"
    ) || key.starts_with("kernel.shm")
        || key.starts_with("fs.mqueue.");
    let allowed = if ipc {
        hc.ipc_mode != "host"
    } else if key.starts_with("net.") {
        hc.network_mode != "host"
    } else if matches!(key, "kernel.domainname" | "kernel.hostname") {
        hc.uts_mode != "host"
    } else {
        false
    };
    if allowed {
        Ok(())
    } else {
        Err(EngineError::Invalid(format!(
            "sysctl {key:?} is not in a separate kernel namespace"
        )))
    }
}

/// The network modes berth supports until bridge networking lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// Own network namespace with loopback only (also the default for now).
    None,
    /// The host's network namespace.
    Host,
}

/// Interprets `HostConfig.NetworkMode`. `default`/`bridge` mean `none` until the
/// networking issue lands (`berth info` says so).
pub fn network_mode(hc: &HostConfig) -> Result<NetworkMode> {
    match hc.network_mode.as_str() {
        "" | "default" | "bridge" | "none" => Ok(NetworkMode::None),
        "host" => Ok(NetworkMode::Host),
        other if other.starts_with("container:") => Err(EngineError::NotImplemented(
            "network mode container:<name> is not supported yet".into(),
        )),
        other => Err(EngineError::NotFound(format!("network {other} not found"))),
    }
}

impl Engine {
    /// `POST /containers/create`: returns the new ID and warnings.
    pub async fn create(
        self: &Arc<Self>,
        name: Option<&str>,
        body: ContainerCreateBody,
    ) -> Result<(String, Vec<String>)> {
        let ContainerCreateBody {
            mut config,
            host_config,
            ..
        } = body;
        if config.image.is_empty() {
            return Err(EngineError::Invalid(
                "config cannot be empty in order to create a container".into(),
            ));
        }
        let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
        validate_host_config(&host_config, ncpu)?;
        crate::hostconfig::check_config(&config)?;
        let mut warnings = crate::hostconfig::discarded(&host_config);
        if host_config
            .port_bindings
            .as_ref()
            .is_some_and(|p| !p.is_empty())
        {
            warnings.push(
                "Published ports are discarded when using host network mode or none network mode"
                    .to_string(),
            );
        }
        let image_id = self.images.resolve(&config.image)?;
        let image_config = self.images.config(&image_id)?;
        merge_image_config(&mut config, &image_config);
        if !config.working_dir.is_empty() && !config.working_dir.starts_with('/') {
            return Err(EngineError::Invalid(format!(
                "the working directory '{}' is invalid, it needs to be an absolute path",
                config.working_dir
            )));
        }
        let has_cmd = config.entrypoint.as_ref().is_some_and(|e| !e.is_empty())
            || config.cmd.as_ref().is_some_and(|c| !c.is_empty());
        if !has_cmd {
            return Err(EngineError::Invalid("No command specified".into()));
        }
        for bind in host_config.binds.iter().flatten() {
            crate::container::parse_bind(bind)?;
        }
        // The name is checked before anything is made on disk.
        let name = name
            .filter(|n| !n.is_empty())
            .map(names::validate)
            .transpose()?;
        let id = random_id();
        if config.hostname.is_empty() {
            config.hostname = if network_mode(&host_config)? == NetworkMode::Host {
                hostname()
            } else {
                id[..12].to_string()
            };
        }
        let dir = self.container_dir(&id);
        let lower_dir = {
            let images = &self.images;
            let dir = dir.clone();
            let image_id = image_id.clone();
            // Layer directories are created on a blocking thread: it touches the disk.
            tokio::task::block_in_place(|| images.prepare_rootfs(&image_id, &dir))?.lowerdir
        };
        let runtime = match host_config.runtime.as_str() {
            "" => self.config().default_runtime.clone(),
            "runc" | "libcontainer" => host_config.runtime.clone(),
            other => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(EngineError::Invalid(format!(
                    "unknown or invalid runtime name: {other}"
                )));
            }
        };
        let record = {
            let _guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
            let name = match name {
                Some(n) => {
                    if let Err(e) = self.check_name_free(&n) {
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(e);
                    }
                    n
                }
                None => self.unused_random_name(),
            };
            let record = ContainerRecord {
                id: id.clone(),
                name,
                created: time::now(),
                image_id,
                config,
                host_config,
                state: ContainerRecord::new_state(),
                restart_count: 0,
                lower_dir,
                exec_ids: Vec::new(),
                runtime,
            };
            record
                .save(&dir)
                .map_err(|e| EngineError::system("cannot save the container", e))?;
            self.insert(Container::new(record.clone()));
            record
        };
        self.container_event(&record, "create", &[]);
        Ok((id, warnings))
    }

    fn check_name_free(&self, name: &str) -> Result<()> {
        if let Some(other) = self.all().into_iter().find(|c| c.record().name == name) {
            return Err(EngineError::Conflict(format!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                other.id
            )));
        }
        Ok(())
    }

    fn unused_random_name(&self) -> String {
        let taken: std::collections::HashSet<String> =
            self.all().iter().map(|c| c.record().name).collect();
        loop {
            let seed = u64::from_str_radix(&random_id()[..16], 16).unwrap_or_default();
            let name = names::random_name(seed);
            if !taken.contains(&name) {
                return name;
            }
        }
    }

    /// `POST /containers/{id}/start`.
    pub async fn start(self: &Arc<Self>, key: &str) -> Result<()> {
        let c = self.find(key)?;
        let _op = c.op.lock().await;
        self.start_locked(&c).await
    }

    async fn start_locked(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let rec = c.record();
        match rec.state.status {
            Status::Running => {
                return Err(EngineError::NotModified("container already started".into()))
            }
            Status::Paused => {
                return Err(EngineError::Conflict(
                    "cannot start a paused container, try unpause instead".into(),
                ))
            }
            Status::Removing | Status::Dead => {
                return Err(EngineError::Conflict(format!(
                    "container {} is marked for removal and cannot be started",
                    rec.id
                )))
            }
            _ => {}
        }
        let dir = self.container_dir(&rec.id);
        let state = self.shim_dir(&rec.id);
        let prepared = crate::spec::prepare(self, &rec, &dir).await;
        let result = match prepared {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&state);
                shim::spawn(&shim::SpawnArgs {
                    exe: self.config().exe.clone(),
                    id: rec.id.clone(),
                    bundle: dir.join("bundle"),
                    state: state.clone(),
                    log: self.log_path(&rec.id),
                    runtime: rec.runtime.clone(),
                    tty: rec.config.tty,
                    stdin: rec.config.open_stdin,
                    stdin_once: rec.config.stdin_once,
                })
                .await
            }
            Err(e) => Err(e),
        };
        let pid = match result {
            Ok(pid) => pid,
            Err(e) => {
                let msg = e.to_string();
                let code = if msg.contains("executable file not found")
                    || msg.contains("no such file or directory")
                {
                    127
                } else if msg.contains("permission denied") {
                    126
                } else {
                    128
                };
                c.update(|r| {
                    r.state.error = msg.clone();
                    r.state.exit_code = code;
                    let _ = r.save(&dir);
                });
                let _ = std::fs::remove_dir_all(&state);
                let _ = berth_image::rootfs::unmount(&dir);
                self.container_event(&rec, "die", &[("exitCode", code.to_string())]);
                // dockerd removes an AutoRemove container whose start failed, and reports
                // a missing or non-executable command as the caller's fault (400).
                // The removal waits for this start's op lock, so it runs after it.
                if rec.host_config.auto_remove {
                    let engine = self.clone();
                    let id = rec.id.clone();
                    tokio::spawn(async move { engine.remove(&id, true, true).await });
                }
                return Err(if code == 126 || code == 127 {
                    EngineError::Invalid(msg)
                } else {
                    e
                });
            }
        };
        crate::attach::connect_pending(self, c).await;
        if let Err(e) = shim::call(&state, json!({"op": "start"})).await {
            let _ = shim::call(&state, json!({"op": "kill", "signal": 9, "all": true})).await;
            let _ = shim::call(&state, json!({"op": "shutdown"})).await;
            let _ = berth_image::rootfs::unmount(&dir);
            c.update(|r| {
                r.state.error = e.to_string();
                let _ = r.save(&dir);
            });
            return Err(e);
        }
        let rec = c.update(|r| {
            r.state.status = Status::Running;
            r.state.pid = pid;
            r.state.error.clear();
            r.state.oom_killed = false;
            r.state.started_at = time::now();
            if let Err(e) = r.save(&dir) {
                tracing::warn!(id = %r.id, error = %e, "cannot save the container record");
            }
            r.clone()
        });
        c.watch.send_modify(|w| w.running = true);
        self.container_event(&rec, "start", &[]);
        let engine = self.clone();
        let c = c.clone();
        tokio::spawn(async move { engine.monitor(c).await });
        Ok(())
    }

    /// Waits for the shim to report the exit, then records it.
    pub(crate) async fn monitor(self: Arc<Self>, c: Arc<Container>) {
        let state = self.shim_dir(&c.id);
        let status = match shim::call(&state, json!({"op": "wait"})).await {
            Ok(reply) => exit_from_json(&reply),
            Err(_) => read_exit_file(&state),
        };
        self.on_exit(&c, status).await;
    }

    /// Records an exit: state, unmount, shim shutdown, events, auto-remove.
    pub(crate) async fn on_exit(self: &Arc<Self>, c: &Arc<Container>, status: ExitStatus) {
        let dir = self.container_dir(&c.id);
        let state = self.shim_dir(&c.id);
        // The shim answers `shutdown` once it has deleted the runtime's container (cgroup
        // rmdirs); unmount meanwhile (the request is sent at the first poll).
        let shutdown = shim::call(&state, json!({"op": "shutdown"}));
        let unmount = async {
            if let Err(e) = berth_image::rootfs::unmount(&dir) {
                tracing::warn!(id = %c.id, error = %e, "cannot unmount the rootfs");
            }
        };
        let _ = tokio::join!(shutdown, unmount);
        let rec = c.update(|r| {
            r.state.status = Status::Exited;
            r.state.pid = 0;
            r.state.exit_code = status.exit_code;
            r.state.finished_at = status.finished_at.clone();
            r.state.oom_killed = status.oom_killed;
            if let Err(e) = r.save(&dir) {
                tracing::warn!(id = %r.id, error = %e, "cannot save the container record");
            }
            r.clone()
        });
        if status.oom_killed {
            self.container_event(&rec, "oom", &[]);
        }
        self.container_event(&rec, "die", &[("exitCode", status.exit_code.to_string())]);
        c.watch.send_modify(|w| {
            w.running = false;
            w.exit_code = status.exit_code;
            w.exits += 1;
        });
        if rec.host_config.auto_remove {
            let engine = self.clone();
            let id = c.id.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.remove(&id, true, false).await {
                    tracing::warn!(id = %id, error = %e, "auto-remove failed");
                }
            });
        }
    }

    /// `POST /containers/{id}/stop`: the stop signal, then SIGKILL after the timeout.
    pub async fn stop(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.find(key)?;
        let _op = c.op.lock().await;
        if !c.record().state.is_running() {
            return Err(EngineError::NotModified("container already stopped".into()));
        }
        self.stop_locked(&c, timeout, signal).await?;
        self.container_event(&c.record(), "stop", &[]);
        Ok(())
    }

    async fn stop_locked(
        self: &Arc<Self>,
        c: &Arc<Container>,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let rec = c.record();
        let sig = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s)?,
            None => match rec.config.stop_signal.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => parse_signal(s).unwrap_or(15),
                None => 15,
            },
        };
        let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10);
        let mut rx = c.subscribe();
        let exits = rx.borrow().exits;
        // A paused container cannot handle the signal: docker unpauses... it sends the
        // signal and then kills; SIGKILL works on frozen tasks once thawed, so thaw first.
        if rec.state.status == Status::Paused {
            let _ = shim::call(&self.shim_dir(&c.id), json!({"op": "resume"})).await;
        }
        self.signal(c, sig, false).await?;
        let exited = async {
            while rx.borrow().exits == exits && rx.borrow().running {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        };
        let graceful = if timeout < 0 {
            exited.await;
            true
        } else {
            tokio::time::timeout(std::time::Duration::from_secs(timeout as u64), exited)
                .await
                .is_ok()
        };
        if !graceful {
            self.signal(c, 9, true).await?;
            let mut rx = c.subscribe();
            while rx.borrow().running {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        }
        Ok(())
    }

    async fn signal(&self, c: &Arc<Container>, sig: i32, all: bool) -> Result<()> {
        let rec = c.record();
        self.container_event(&rec, "kill", &[("signal", sig.to_string())]);
        shim::call(
            &self.shim_dir(&c.id),
            json!({"op": "kill", "signal": sig, "all": all}),
        )
        .await
        .map(|_| ())
    }

    /// `POST /containers/{id}/kill`.
    pub async fn kill(self: &Arc<Self>, key: &str, signal: Option<&str>) -> Result<()> {
        let c = self.find(key)?;
        let sig = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s)?,
            None => 9,
        };
        if !c.record().state.is_running() {
            return Err(EngineError::Conflict(format!(
                "Cannot kill container: {key}: Container {} is not running",
                c.id
            )));
        }
        self.signal(&c, sig, false).await?;
        if sig == 9 {
            // dockerd waits for a SIGKILLed container to be gone before answering.
            let mut rx = c.subscribe();
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
                while rx.borrow().running {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await;
        }
        Ok(())
    }

    /// `POST /containers/{id}/restart`.
    pub async fn restart(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.find(key)?;
        let _op = c.op.lock().await;
        if c.record().state.is_running() {
            self.stop_locked(&c, timeout, signal).await?;
            self.container_event(&c.record(), "stop", &[]);
        }
        self.start_locked(&c).await?;
        self.container_event(&c.record(), "restart", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/pause` and `/unpause`.
    pub async fn pause(self: &Arc<Self>, key: &str, pause: bool) -> Result<()> {
        let c = self.find(key)?;
        let _op = c.op.lock().await;
        let rec = c.record();
        match (rec.state.status, pause) {
            (Status::Running, true) | (Status::Paused, false) => {}
            (Status::Paused, true) => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is already paused",
                    c.id
                )))
            }
            (Status::Running, false) => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is not paused",
                    c.id
                )))
            }
            _ => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is not running",
                    c.id
                )))
            }
        }
        let op = if pause { "pause" } else { "resume" };
        shim::call(&self.shim_dir(&c.id), json!({ "op": op })).await?;
        let dir = self.container_dir(&c.id);
        let rec = c.update(|r| {
            r.state.status = if pause {
                Status::Paused
            } else {
                Status::Running
            };
            let _ = r.save(&dir);
            r.clone()
        });
        self.container_event(&rec, if pause { "pause" } else { "unpause" }, &[]);
        Ok(())
    }

    /// `POST /containers/{id}/rename`.
    pub async fn rename(self: &Arc<Self>, key: &str, new_name: &str) -> Result<()> {
        let c = self.find(key)?;
        if new_name.is_empty() {
            return Err(EngineError::Invalid(
                "Neither old nor new names may be empty".into(),
            ));
        }
        let new_name = names::validate(new_name)?;
        let old = c.record().name;
        if old == new_name {
            return Err(EngineError::Invalid(
                "Renaming a container with the same name as its current name".into(),
            ));
        }
        let rec = {
            let _guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
            self.check_name_free(&new_name)?;
            let dir = self.container_dir(&c.id);
            c.update(|r| {
                r.name = new_name.clone();
                let _ = r.save(&dir);
                r.clone()
            })
        };
        self.container_event(&rec, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// `DELETE /containers/{id}`.
    pub async fn remove(self: &Arc<Self>, key: &str, force: bool, _volumes: bool) -> Result<()> {
        let c = self.find(key)?;
        let _op = c.op.lock().await;
        let rec = c.record();
        if rec.state.is_running() {
            if !force {
                let what = if rec.state.status == Status::Paused {
                    "container is paused and must be unpaused first"
                } else {
                    "container is running: stop the container before removing or force remove"
                };
                return Err(EngineError::Conflict(format!(
                    "cannot remove container \"/{}\": {what}",
                    rec.name
                )));
            }
            if rec.state.status == Status::Paused {
                let _ = shim::call(&self.shim_dir(&c.id), json!({"op": "resume"})).await;
            }
            let mut rx = c.subscribe();
            self.signal(&c, 9, true).await?;
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), async {
                while rx.borrow().running {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await;
        }
        let dir = self.container_dir(&c.id);
        c.update(|r| r.state.status = Status::Removing);
        let _ = berth_image::rootfs::unmount(&dir);
        let shim_dir = self.shim_dir(&c.id);
        let dir_clone = dir.clone();
        let removed = tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(&shim_dir);
            std::fs::remove_dir_all(&dir_clone)
        })
        .await
        .map_err(|e| EngineError::system("cannot remove the container", e))?;
        if let Err(e) = removed {
            if e.kind() != std::io::ErrorKind::NotFound {
                c.update(|r| r.state.status = Status::Dead);
                return Err(EngineError::system(
                    &format!("unable to remove filesystem for {}", c.id),
                    e,
                ));
            }
        }
        self.forget(&c.id);
        self.forget_execs_of(&c.id);
        c.watch.send_modify(|w| w.removed = true);
        self.container_event(&rec, "destroy", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/wait`: resolves the container first (so a 404 comes before
    /// the streaming response), then returns a future of its exit code.
    pub fn wait(
        self: &Arc<Self>,
        key: &str,
        condition: &str,
    ) -> Result<impl std::future::Future<Output = i32> + Send + 'static> {
        let c = self.find(key)?;
        let mut rx = c.subscribe();
        let condition = match condition {
            "" | "not-running" => 0,
            "next-exit" => 1,
            "removed" => 2,
            other => {
                return Err(EngineError::Invalid(format!(
                    "invalid condition: \"{other}\""
                )))
            }
        };
        let start_exits = rx.borrow().exits;
        Ok(async move {
            loop {
                let w = rx.borrow_and_update().clone();
                let done = match condition {
                    0 => !w.running,
                    1 => w.exits > start_exits,
                    _ => w.removed,
                };
                if done {
                    return w.exit_code;
                }
                if rx.changed().await.is_err() {
                    return w.exit_code;
                }
            }
        })
    }

    /// `POST /containers/{id}/resize`.
    pub async fn resize(&self, key: &str, height: u32, width: u32) -> Result<()> {
        let c = self.find(key)?;
        let rec = c.record();
        if !rec.state.is_running() {
            return Err(EngineError::Conflict(format!(
                "Container {} is not running",
                c.id
            )));
        }
        // Without a tty there is nothing to resize: dockerd (containerd's shim) answers
        // 200 and does nothing.
        if !rec.config.tty {
            return Ok(());
        }
        shim::call(
            &self.shim_dir(&c.id),
            json!({"op": "resize", "height": height, "width": width}),
        )
        .await?;
        self.container_event(
            &rec,
            "resize",
            &[("height", height.to_string()), ("width", width.to_string())],
        );
        Ok(())
    }

    /// `GET /containers/{id}/top`: `ps` on the host, keeping the container's processes
    /// (dockerd does the same).
    pub async fn top(&self, key: &str, ps_args: &str) -> Result<Value> {
        let c = self.find(key)?;
        if !c.record().state.is_running() {
            return Err(EngineError::Conflict(format!(
                "Container {} is not running",
                c.id
            )));
        }
        let pids = cgroup_pids(&c.id);
        let args: Vec<&str> = if ps_args.is_empty() {
            vec!["-ef"]
        } else {
            ps_args.split_whitespace().collect()
        };
        let out = tokio::process::Command::new("ps")
            .args(&args)
            .output()
            .await
            .map_err(|e| EngineError::system("cannot run ps", e))?;
        if !out.status.success() {
            // The arguments came from the client: its error (400), with ps' complaint.
            return Err(EngineError::Invalid(format!(
                "Error running ps: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        parse_ps(&String::from_utf8_lossy(&out.stdout), &pids)
    }
}

/// The host's hostname.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Pids in a container's cgroup (`/berth/<id>`), v1 (pids or memory controller) or v2.
pub fn cgroup_pids(id: &str) -> Vec<i32> {
    for dir in [
        format!("/sys/fs/cgroup/pids/berth/{id}"),
        format!("/sys/fs/cgroup/memory/berth/{id}"),
        format!("/sys/fs/cgroup/berth/{id}"),
    ] {
        if let Ok(s) = std::fs::read_to_string(Path::new(&dir).join("cgroup.procs")) {
            return s.lines().filter_map(|l| l.trim().parse().ok()).collect();
        }
    }
    Vec::new()
}

/// Splits `ps` output into docker's `{"Titles", "Processes"}`, keeping rows whose PID is
/// in `pids`. The last column (CMD) keeps its spaces.
pub fn parse_ps(output: &str, pids: &[i32]) -> Result<Value> {
    let mut lines = output.lines();
    let header = lines.next().unwrap_or_default();
    let titles: Vec<&str> = header.split_whitespace().collect();
    let pid_col = titles
        .iter()
        .position(|t| *t == "PID")
        .ok_or_else(|| EngineError::Invalid("Couldn't find PID field in ps output".into()))?;
    let mut procs = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let Ok(pid) = fields[pid_col].parse::<i32>() else {
            continue;
        };
        if !pids.contains(&pid) {
            continue;
        }
        let mut row: Vec<String> = fields[..titles.len() - 1]
            .iter()
            .map(|s| s.to_string())
            .collect();
        row.push(fields[titles.len() - 1..].join(" "));
        procs.push(row);
    }
    Ok(json!({ "Titles": titles, "Processes": procs }))
}

/// A `-v SRC:DST[:OPTS]` bind with an absolute host path. Named volumes come with the
/// volumes issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Host path.
    pub source: String,
    /// Container path.
    pub destination: String,
    /// Read-only.
    pub read_only: bool,
}

/// Parses a `Binds` entry.
pub fn parse_bind(spec: &str) -> Result<Bind> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, destination, opts) = match parts.as_slice() {
        [s, d] => (*s, *d, ""),
        [s, d, o] => (*s, *d, *o),
        _ => {
            return Err(EngineError::Invalid(format!(
                "invalid volume specification: '{spec}'"
            )))
        }
    };
    if !destination.starts_with('/') {
        return Err(EngineError::Invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"bind\": invalid mount path: '{destination}' mount path must be absolute"
        )));
    }
    if !source.starts_with('/') {
        return Err(EngineError::NotImplemented(format!(
            "named volumes are not supported yet: '{source}'"
        )));
    }
    let mut read_only = false;
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => read_only = true,
            "rw" | "z" | "Z" | "private" | "rprivate" | "shared" | "rshared" | "slave"
            | "rslave" => {}
            _ => return Err(EngineError::Invalid(format!("invalid mode: {opt}"))),
        }
    }
    Ok(Bind {
        source: source.into(),
        destination: destination.into(),
        read_only,
    })
}

/// A `Write` that sends chunks to an async receiver (for tar streams made on a blocking
/// thread).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Engine {
    /// `GET /containers/{id}/export`: a tar of the container's filesystem.
    pub async fn export(
        self: &Arc<Self>,
        key: &str,
    ) -> Result<tokio::sync::mpsc::Receiver<bytes::Bytes>> {
        let c = self.find(key)?;
        let dir = self.container_dir(&c.id);
        let running = c.record().state.is_running();
        if !running {
            let dir = dir.clone();
            let lower = c.record().lower_dir;
            tokio::task::block_in_place(|| berth_image::rootfs::mount(&lower, &dir))?;
        }
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let engine = self.clone();
        let c2 = c.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter {
                tx,
                buf: Vec::new(),
            };
            if let Err(e) = berth_image::rootfs::export(&dir.join("rootfs"), &mut w) {
                tracing::warn!(id = %c2.id, error = %e, "export failed");
            }
            let _ = std::io::Write::flush(&mut w);
            // Unmount again unless the container started meanwhile.
            if !running && !c2.record().state.is_running() {
                let _ = berth_image::rootfs::unmount(&dir);
            }
            let rec = c2.record();
            engine.container_event(&rec, "export", &[]);
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_signal("hup").unwrap(), 1);
        assert_eq!(parse_signal("RTMIN+1").unwrap(), 35);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }

    #[test]
    fn merge_follows_dockerd() {
        let image = ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            working_dir: "/w".into(),
            ..Default::default()
        };
        let mut user = ContainerConfig {
            env: Some(vec!["A=2".into()]),
            ..Default::default()
        };
        merge_image_config(&mut user, &image);
        assert_eq!(user.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(
            user.env,
            Some(vec!["PATH=/bin".to_string(), "A=2".to_string()])
        );
        assert_eq!(user.working_dir, "/w");
        // An entrypoint given by the user drops the image's Cmd.
        let mut user = ContainerConfig {
            entrypoint: Some(vec!["echo".into()]),
            ..Default::default()
        };
        merge_image_config(&mut user, &image);
        assert_eq!(user.cmd, None);
    }

    #[test]
    fn host_config_checks() {
        let mut hc = HostConfig {
            memory: 1024,
            ..Default::default()
        };
        assert!(validate_host_config(&hc, 2)
            .unwrap_err()
            .to_string()
            .contains("6MB"));
        hc.memory = 0;
        hc.nano_cpus = 3_000_000_000;
        assert!(validate_host_config(&hc, 2)
            .unwrap_err()
            .to_string()
            .contains("only 2 CPUs"));
        hc.nano_cpus = 0;
        hc.network_mode = "foo".into();
        assert!(matches!(
            validate_host_config(&hc, 2),
            Err(EngineError::NotFound(_))
        ));
    }

    #[test]
    fn cpusets_tmpfs_sysctls() {
        assert_eq!(parse_cpuset("0-2,4"), Some(vec![0, 1, 2, 4]));
        assert_eq!(parse_cpuset("1"), Some(vec![1]));
        for bad in ["", "x", "-1", "2-1", "0,", "1-"] {
            assert_eq!(parse_cpuset(bad), None, "{bad}");
        }
        let check = |hc: HostConfig| validate_host_config(&hc, 2);
        let cpus = |c: &str| HostConfig {
            cpuset_cpus: c.into(),
            ..Default::default()
        };
        assert!(check(cpus("0-1")).is_ok());
        assert!(check(cpus("2"))
            .unwrap_err()
            .to_string()
            .contains("not available"));
        assert!(check(cpus("x"))
            .unwrap_err()
            .to_string()
            .contains("Invalid value x"));
        let tmpfs = |d: &str, o: &str| HostConfig {
            tmpfs: Some([(d.to_string(), o.to_string())].into()),
            ..Default::default()
        };
        assert!(check(tmpfs("/t", "size=1m,mode=1777,noexec")).is_ok());
        assert!(check(tmpfs("t", "")).is_err());
        assert!(check(tmpfs("/t", "v")).is_err());
        assert!(check(tmpfs("/t", "size=x")).is_err());
        let sysctl = |k: &str, net: &str| HostConfig {
            sysctls: Some([(k.to_string(), "1".to_string())].into()),
            network_mode: net.into(),
            ..Default::default()
        };
        assert!(check(sysctl("net.ipv4.ip_forward", "none")).is_ok());
        assert!(check(sysctl("kernel.shmmax", "none")).is_ok());
        assert!(check(sysctl("net.ipv4.ip_forward", "host")).is_err());
        assert!(check(sysctl("vm.swappiness", "none")).is_err());
        let swap = HostConfig {
            memory: 64 << 20,
            memory_swap: -5,
            ..Default::default()
        };
        assert!(check(swap).is_err());
    }

    #[test]
    fn ps_parsing() {
        let out = "UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 10:00 ? 00:00:00 sleep 100\nroot 11 1 0 10:00 ? 00:00:00 other\n";
        let v = parse_ps(out, &[10]).unwrap();
        assert_eq!(v["Processes"][0][7], "sleep 100");
        assert_eq!(v["Processes"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn binds() {
        assert_eq!(
            parse_bind("/a:/b:ro").unwrap(),
            Bind {
                source: "/a".into(),
                destination: "/b".into(),
                read_only: true
            }
        );
        assert!(parse_bind("/a:b").is_err());
        assert!(matches!(
            parse_bind("vol:/b"),
            Err(EngineError::NotImplemented(_))
        ));
    }
}
