//! `docker exec`: exec instances created on a running container and started through its
//! shim, which runs them with the runtime's tenant/exec path and reports their exit.

use std::sync::{Arc, Mutex};

use berth_api::types::{ExecCreateBody, ExecStartBody};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::attach::{self, StreamEnd};
use crate::error::{EngineError, Result};
use crate::record::Status;
use crate::{random_id, shim, Engine};

/// Mutable part of an exec instance.
#[derive(Debug, Default, Clone)]
struct ExecState {
    started: bool,
    running: bool,
    /// Started with a tty (from the create or the start request).
    tty: bool,
    exit_code: Option<i32>,
    pid: i32,
}

/// One exec instance.
pub struct Exec {
    /// 64 hex chars.
    pub id: String,
    /// The container it runs in.
    pub container_id: String,
    /// What `POST /containers/{id}/exec` asked for.
    pub config: ExecCreateBody,
    state: Mutex<ExecState>,
}

impl Exec {
    fn state(&self) -> ExecState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, f: impl FnOnce(&mut ExecState)) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// A validated exec start, ready to run on the hijacked connection.
pub struct ExecPlan {
    engine: Arc<Engine>,
    exec: Arc<Exec>,
    request: Value,
    tty: bool,
    detach_keys: Vec<u8>,
}

impl ExecPlan {
    /// Whether the exec has a tty (raw stream).
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// Starts the process and relays its stdio on `client` until it exits.
    pub async fn run<T>(self, client: T) -> StreamEnd
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = match self.begin().await {
            Ok(conn) => conn,
            Err(e) => {
                let mut client = client;
                let msg = format!("{e}\r\n");
                let bytes = if self.tty {
                    msg.into_bytes()
                } else {
                    shim::docker_frame(2, msg.as_bytes())
                };
                use tokio::io::AsyncWriteExt;
                let _ = client.write_all(&bytes).await;
                let _ = client.shutdown().await;
                self.finish(start_failure_code(&e));
                return StreamEnd::Closed;
            }
        };
        let stdin = self.exec.config.attach_stdin;
        let end = attach::proxy(conn, client, self.tty, stdin, self.detach_keys.clone()).await;
        // After a detach the exec keeps running; its exit is not observed from here.
        if let StreamEnd::Exited(code) = end {
            self.finish(code);
        }
        end
    }

    /// Starts the process detached (`docker exec -d`). A command that cannot run is the
    /// caller's error (400), as dockerd classifies it.
    pub async fn run_detached(self) -> Result<()> {
        let mut conn = match self.begin().await {
            Ok(conn) => conn,
            Err(e) => {
                let code = start_failure_code(&e);
                self.finish(code);
                return Err(match e {
                    EngineError::System(m) if code == 127 || m.contains("permission denied") => {
                        EngineError::Invalid(m)
                    }
                    other => other,
                });
            }
        };
        tokio::spawn(async move {
            let code = loop {
                match shim::read_frame(&mut conn).await {
                    Ok(Some((shim::FRAME_EXIT, payload))) => break shim::exit_code(&payload),
                    Ok(Some(_)) => continue,
                    _ => break -1,
                }
            };
            self.finish(code);
        });
        Ok(())
    }

    async fn begin(&self) -> Result<tokio::io::BufReader<tokio::net::UnixStream>> {
        let (reply, conn) = shim::open(
            &self.engine.shim_dir(&self.exec.container_id),
            &self.request,
        )
        .await
        .map_err(|e| {
            self.exec.set(|s| s.running = false);
            self.explain(e)
        })?;
        let pid = reply.get("pid").and_then(Value::as_i64).unwrap_or_default() as i32;
        let tty = self.tty;
        self.exec.set(|s| {
            s.running = true;
            s.tty = tty;
            s.pid = pid;
        });
        if let Ok(c) = self.engine.find(&self.exec.container_id) {
            let rec = c.record();
            self.engine.container_event(
                &rec,
                &format!("exec_start: {}", self.command()),
                &[("execID", self.exec.id.clone())],
            );
        }
        Ok(conn)
    }

    /// The runtime reports a failed chdir without saying why: when the working directory
    /// is missing in the container (seen through its /proc/<pid>/root), say so with runc's
    /// message.
    fn explain(&self, err: EngineError) -> EngineError {
        let cwd = self.request["cwd"].as_str().unwrap_or("/");
        let Ok(c) = self.engine.find(&self.exec.container_id) else {
            return err;
        };
        let pid = c.record().state.pid;
        let root = std::path::PathBuf::from(format!("/proc/{pid}/root"));
        if pid > 0 && root.exists() && !berth_runtime::user::secure_join(&root, cwd).is_dir() {
            return EngineError::Invalid(format!(
                "chdir to cwd ({cwd:?}) set in config.json failed: no such file or directory"
            ));
        }
        err
    }

    fn command(&self) -> String {
        self.exec.config.cmd.clone().unwrap_or_default().join(" ")
    }

    fn finish(&self, code: i32) {
        self.exec.set(|s| {
            s.running = false;
            s.exit_code = Some(code);
        });
        if let Ok(c) = self.engine.find(&self.exec.container_id) {
            let rec = c.record();
            self.engine.container_event(
                &rec,
                "exec_die",
                &[
                    ("execID", self.exec.id.clone()),
                    ("exitCode", code.to_string()),
                ],
            );
        }
    }
}

/// The exit code docker reports for an exec that could not start: 127 when the command
/// does not exist, 126 otherwise (not executable, no working directory, …).
fn start_failure_code(err: &EngineError) -> i32 {
    let msg = err.to_string();
    let missing_command = msg.contains("executable file not found")
        || (msg.contains("no such file or directory") && !msg.contains("chdir to cwd"));
    if missing_command {
        127
    } else {
        126
    }
}

impl Engine {
    /// `POST /containers/{id}/exec`.
    pub fn exec_create(self: &Arc<Self>, key: &str, body: ExecCreateBody) -> Result<String> {
        let c = self.find(key)?;
        let rec = c.record();
        match rec.state.status {
            Status::Running => {}
            Status::Paused => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is paused, unpause the container before exec",
                    rec.id
                )))
            }
            _ => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is not running",
                    rec.id
                )))
            }
        }
        if body.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(EngineError::Invalid("No exec command specified".into()));
        }
        if !body.working_dir.is_empty() && !body.working_dir.starts_with('/') {
            return Err(EngineError::Invalid(format!(
                "the working directory '{}' is invalid, it needs to be an absolute path",
                body.working_dir
            )));
        }
        if !body.detach_keys.is_empty() {
            attach::parse_detach_keys(&body.detach_keys)?;
        }
        let id = random_id();
        let cmd = body.cmd.clone().unwrap_or_default().join(" ");
        let exec = Arc::new(Exec {
            id: id.clone(),
            container_id: rec.id.clone(),
            config: body,
            state: Mutex::new(ExecState::default()),
        });
        self.execs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), exec);
        self.container_event(
            &rec,
            &format!("exec_create: {cmd}"),
            &[("execID", id.clone())],
        );
        Ok(id)
    }

    fn find_exec(&self, id: &str) -> Result<Arc<Exec>> {
        self.execs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("No such exec instance: {id}")))
    }

    /// The container's exec instances that have not exited (created or running), sorted:
    /// inspect's `ExecIDs`.
    pub(crate) fn live_exec_ids(&self, container_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .execs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|e| e.container_id == container_id && e.state().exit_code.is_none())
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids
    }

    pub(crate) fn forget_execs_of(&self, container_id: &str) {
        self.execs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, e| e.container_id != container_id);
    }

    /// Validates `POST /exec/{id}/start` before the connection is hijacked.
    pub fn exec_start_prepare(
        self: &Arc<Self>,
        id: &str,
        body: &ExecStartBody,
    ) -> Result<ExecPlan> {
        let exec = self.find_exec(id)?;
        {
            let mut state = exec.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.started {
                return Err(EngineError::Conflict(format!(
                    "Error: Exec command {id} has already run"
                )));
            }
            state.started = true;
        }
        let c = self.find(&exec.container_id)?;
        let rec = c.record();
        if !rec.state.is_running() {
            return Err(EngineError::Conflict(format!(
                "Container {} is not running",
                rec.id
            )));
        }
        let cfg = &exec.config;
        let tty = cfg.tty || body.tty;
        let rootfs = self.container_dir(&rec.id).join("rootfs");
        let user = if cfg.user.is_empty() {
            rec.config.user.clone()
        } else {
            cfg.user.clone()
        };
        let user = crate::spec::user_string(&rootfs, &user)?;
        let mut env = rec.config.env.clone().unwrap_or_default();
        for var in cfg.env.clone().unwrap_or_default() {
            let key = var.split('=').next().unwrap_or_default().to_string();
            env.retain(|e| e.split('=').next() != Some(key.as_str()));
            env.push(var);
        }
        if tty && !env.iter().any(|e| e.starts_with("TERM=")) {
            env.push("TERM=xterm".into());
        }
        let cwd = if !cfg.working_dir.is_empty() {
            cfg.working_dir.clone()
        } else if !rec.config.working_dir.is_empty() {
            rec.config.working_dir.clone()
        } else {
            "/".into()
        };

        let size = body
            .console_size
            .clone()
            .or(cfg.console_size.clone())
            .unwrap_or_default();
        let request = json!({
            "op": "exec",
            "args": cfg.cmd.clone().unwrap_or_default(),
            "env": env,
            "cwd": cwd,
            "user": user,
            "tty": tty,
            "stdin": cfg.attach_stdin,
            "stdout": cfg.attach_stdout || body.detach,
            "stderr": cfg.attach_stderr || body.detach,
            "height": size.first().copied().unwrap_or(0),
            "width": size.get(1).copied().unwrap_or(0),
        });
        let detach_keys = if cfg.detach_keys.is_empty() {
            attach::DEFAULT_DETACH_KEYS.to_vec()
        } else {
            attach::parse_detach_keys(&cfg.detach_keys)?
        };
        Ok(ExecPlan {
            engine: self.clone(),
            exec,
            request,
            tty,
            detach_keys,
        })
    }

    /// `POST /exec/{id}/resize`.
    pub async fn exec_resize(&self, id: &str, height: u32, width: u32) -> Result<()> {
        let exec = self.find_exec(id)?;
        let state = exec.state();
        if !state.running {
            return Err(EngineError::Conflict(format!("Exec {id} is not running")));
        }
        if !state.tty {
            // Nothing to resize, as with dockerd.
            return Ok(());
        }
        shim::call(
            &self.shim_dir(&exec.container_id),
            json!({"op": "exec_resize", "pid": state.pid, "height": height, "width": width}),
        )
        .await
        .map(|_| ())
    }

    /// `GET /exec/{id}/json` in dockerd's shape.
    pub fn exec_inspect(&self, id: &str) -> Result<Value> {
        let exec = self.find_exec(id)?;
        let s = exec.state();
        let cfg = &exec.config;
        let cmd = cfg.cmd.clone().unwrap_or_default();
        Ok(json!({
            "CanRemove": false,
            "ContainerID": exec.container_id,
            "DetachKeys": cfg.detach_keys,
            "ExitCode": s.exit_code,
            "ID": exec.id,
            "OpenStderr": cfg.attach_stderr,
            "OpenStdin": cfg.attach_stdin,
            "OpenStdout": cfg.attach_stdout,
            "ProcessConfig": {
                "arguments": cmd.get(1..).unwrap_or_default(),
                "entrypoint": cmd.first().cloned().unwrap_or_default(),
                "privileged": cfg.privileged,
                "tty": cfg.tty,
                "user": cfg.user,
            },
            "Running": s.running,
            "Pid": s.pid,
        }))
    }
}
