//! `run`/`create` flags and their mapping to the `POST /containers/create` body, with
//! docker's parsers and error messages (pure: unit tested).

use std::collections::BTreeMap;

use berth_api::types::{ContainerCreateBody, PortBinding, RestartPolicy, Ulimit};
use clap::{ArgAction, Args};

/// Flags shared by `run` and `create`.
#[derive(Args, Debug, Default, Clone)]
pub struct ContainerOpts {
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach")]
    pub attach: Vec<String>,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares")]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file")]
    pub label_file: Vec<String>,
    /// Memory limit
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Connect a container to a network
    #[arg(long = "network", alias = "net", default_value = "default")]
    pub network: String,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Restart policy to apply when a container exits
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Security Options
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Mount a tmpfs directory
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Ulimit options
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long)]
    pub volume: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Print usage
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// A flag value docker would refuse.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OptsError {
    /// `invalid argument "V" for "FLAG" flag: MSG` (pflag's wording).
    #[error("invalid argument \"{value}\" for \"{flag}\" flag: {msg}")]
    Flag {
        /// The value given.
        value: String,
        /// The flag, as pflag names it (`-m, --memory`).
        flag: &'static str,
        /// Why.
        msg: String,
    },
    /// Any other message (docker: `docker: MSG` with the help hint, exit 125).
    #[error("{0}")]
    Other(String),
    /// A message docker prints alone, exiting 1.
    #[error("{0}")]
    Plain(String),
}

fn flag_err(value: &str, flag: &'static str, msg: impl Into<String>) -> OptsError {
    OptsError::Flag {
        value: value.to_string(),
        flag,
        msg: msg.into(),
    }
}

/// go-units `RAMInBytes`: `64m`, `1.5g`, `512`, `10kb`, `1 GiB` (binary multipliers).
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    let err = || format!("invalid size: '{s}'");
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, mut rest) = s.split_at(num_end);
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit()) || num.ends_with('.') {
        return Err(err());
    }
    let size: f64 = num.parse().map_err(|_| err())?;
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut chars = rest.chars().peekable();
    let mut mul: f64 = 1.0;
    if let Some(c) = chars.peek().copied() {
        let m = match c.to_ascii_lowercase() {
            'k' => Some(1u64 << 10),
            'm' => Some(1 << 20),
            'g' => Some(1 << 30),
            't' => Some(1 << 40),
            'p' => Some(1 << 50),
            _ => None,
        };
        if let Some(m) = m {
            mul = m as f64;
            chars.next();
        }
    }
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'i')) {
        chars.next();
    }
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'b')) {
        chars.next();
    }
    if chars.next().is_some() {
        return Err(err());
    }
    Ok((size * mul) as i64)
}

/// `--cpus` into nano CPUs (docker's `NanoCPUs` flag).
pub fn parse_cpus(s: &str) -> Result<i64, String> {
    let bad = || format!("failed to parse {s} as a rational number");
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let frac_trim = frac.trim_end_matches('0');
    if frac_trim.len() > 9 {
        return Err("value is too precise".into());
    }
    let int: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let frac_nanos: i64 = if frac_trim.is_empty() {
        0
    } else {
        format!("{frac_trim:0<9}").parse().map_err(|_| bad())?
    };
    Ok(int * 1_000_000_000 + frac_nanos)
}

const ULIMIT_NAMES: [&str; 15] = [
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

fn parse_int(s: &str) -> Result<i64, String> {
    s.parse()
        .map_err(|_| format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"))
}

/// go-units `ParseUlimit`: `name=soft[:hard]`.
pub fn parse_ulimit(val: &str) -> Result<Ulimit, String> {
    let Some((name, limits)) = val.split_once('=') else {
        return Err(format!("invalid ulimit argument: {val}"));
    };
    if !ULIMIT_NAMES.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let parts: Vec<&str> = limits.split(':').collect();
    let (soft, hard) = match parts.as_slice() {
        [s] => {
            let s = parse_int(s)?;
            (s, s)
        }
        [s, h] => {
            let h = parse_int(h)?;
            (parse_int(s)?, h)
        }
        _ => {
            return Err(format!(
                "too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`"
            ))
        }
    };
    if hard != -1 && soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// Reads a variable of the host environment.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// docker's `ValidateEnv`: `K=V` as is; a bare `K` takes the host's value when set.
pub fn validate_env(val: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let (k, has_value) = match val.split_once('=') {
        Some((k, _)) => (k, true),
        None => (val, false),
    };
    if k.is_empty() {
        return Err(format!("invalid environment variable: {val}"));
    }
    if has_value {
        return Ok(val.to_string());
    }
    Ok(match lookup(k) {
        Some(v) => format!("{k}={v}"),
        None => val.to_string(),
    })
}

/// docker's `kvfile.Parse` on file contents: env files (with `lookup`) and label files
/// (without).
pub fn parse_kv_file(contents: &str, lookup: Option<Lookup<'_>>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, raw) in contents.lines().enumerate() {
        let raw = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (var, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        if var.is_empty() {
            return Err(format!("no variable name on line '{line}'"));
        }
        if var.contains([' ', '\t', '\n', '\u{0b}', '\u{0c}', '\r']) {
            return Err(format!(
                "poorly formatted environment: variable '{var}' contains whitespaces"
            ));
        }
        match value {
            Some(v) => out.push(format!("{var}={v}")),
            None => {
                if let Some(lookup) = lookup {
                    if let Some(v) = lookup(line) {
                        out.push(format!("{line}={v}"));
                    }
                } else {
                    out.push(line.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Reads a flag's file with docker's error wording (`open F: no such file or directory`).
pub fn read_file(path: &str) -> Result<String, OptsError> {
    std::fs::read_to_string(path)
        .map_err(|e| OptsError::Other(format!("open {path}: {}", super::io_msg(&e))))
}

/// docker's `ParseRestartPolicy`.
pub fn parse_restart(policy: &str) -> Result<RestartPolicy, String> {
    if policy.is_empty() {
        return Ok(RestartPolicy::default());
    }
    let (k, v) = policy.split_once(':').unwrap_or((policy, ""));
    if policy.contains(':') && k.is_empty() {
        return Err("invalid restart policy format: no policy provided before colon".into());
    }
    let mut p = RestartPolicy {
        name: k.to_string(),
        maximum_retry_count: 0,
    };
    if !v.is_empty() {
        p.maximum_retry_count = v.parse().map_err(|_| {
            "invalid restart policy format: maximum retry count must be an integer".to_string()
        })?;
    }
    Ok(p)
}

fn valid_port(p: &str) -> bool {
    p.parse::<u16>().is_ok()
}

fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => {
            let a = s.parse().ok()?;
            Some((a, a))
        }
    }
}

/// Exposed ports and bindings of `-p` specs (`nat.ParsePortSpecs`).
#[allow(clippy::type_complexity)]
pub fn parse_ports(
    specs: &[String],
) -> Result<
    (
        BTreeMap<String, serde_json::Value>,
        BTreeMap<String, Option<Vec<PortBinding>>>,
    ),
    String,
> {
    let mut exposed = BTreeMap::new();
    let mut bindings: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for spec in specs {
        let (rest, proto) = match spec.rsplit_once('/') {
            Some((r, p)) => (r, p),
            None => (spec.as_str(), "tcp"),
        };
        if !matches!(proto, "tcp" | "udp" | "sctp") {
            return Err(format!("invalid proto: {proto}"));
        }
        // [ip:][hostPort:]containerPort; the ip may be bracketed IPv6.
        let (ip, host, container) = if let Some(r) = rest.strip_prefix('[') {
            let (ip, after) = r
                .split_once("]:")
                .ok_or_else(|| format!("invalid IP address: {rest}"))?;
            let (h, c) = after
                .split_once(':')
                .ok_or_else(|| format!("invalid port specification: {spec:?}"))?;
            (ip.to_string(), h.to_string(), c.to_string())
        } else {
            let parts: Vec<&str> = rest.split(':').collect();
            match parts.as_slice() {
                [c] => (String::new(), String::new(), c.to_string()),
                [h, c] => (String::new(), h.to_string(), c.to_string()),
                [ip, h, c] => (ip.to_string(), h.to_string(), c.to_string()),
                _ => return Err(format!("invalid port specification: {spec:?}")),
            }
        };
        if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("invalid IP address: {ip}"));
        }
        let (c0, c1) =
            port_range(&container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
        let host_range = if host.is_empty() {
            None
        } else {
            Some(port_range(&host).ok_or_else(|| format!("invalid hostPort: {host}"))?)
        };
        if let Some((h0, h1)) = host_range {
            if h1 - h0 != c1 - c0 && h0 != h1 {
                return Err(format!(
                    "invalid ranges specified for container and host Ports: {container} and {host}"
                ));
            }
        }
        for (i, port) in (c0..=c1).enumerate() {
            let key = format!("{port}/{proto}");
            exposed.insert(key.clone(), serde_json::json!({}));
            let host_port = match host_range {
                None => String::new(),
                Some((h0, h1)) if h0 == h1 => h0.to_string(),
                Some((h0, _)) => (h0 + i as u16).to_string(),
            };
            let _ = valid_port;
            bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: ip.clone(),
                    host_port,
                });
        }
    }
    Ok((exposed, bindings))
}

/// `--security-opt`: a seccomp profile file is sent inline, compacted.
pub fn parse_security_opts(opts: &[String]) -> Result<Vec<String>, OptsError> {
    let mut out = Vec::new();
    for o in opts {
        let (k, v) = o
            .split_once('=')
            .or_else(|| o.split_once(':'))
            .unwrap_or((o.as_str(), ""));
        if k == "seccomp" && v != "unconfined" && v != "builtin" && !v.is_empty() {
            let text = std::fs::read_to_string(v).map_err(|e| {
                OptsError::Other(format!("opening seccomp profile ({v}) failed: {e}"))
            })?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                OptsError::Other(format!(
                    "compacting json for seccomp profile ({v}) failed: {e}"
                ))
            })?;
            out.push(format!("seccomp={json}"));
        } else {
            out.push(o.clone());
        }
    }
    Ok(out)
}

/// The create request of `run`/`create`: the container name and the body.
#[derive(Debug)]
pub struct CreateRequest {
    /// `?name=`.
    pub name: Option<String>,
    /// The body.
    pub body: ContainerCreateBody,
}

impl ContainerOpts {
    /// Builds the create body. `detach` is `run -d`; `image_and_cmd` the positionals;
    /// `lookup` reads the host environment (injected for tests).
    pub fn build(
        &self,
        image_and_cmd: &[String],
        detach: bool,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CreateRequest, OptsError> {
        let mut body = ContainerCreateBody::default();
        let (image, cmd) = image_and_cmd
            .split_first()
            .ok_or_else(|| OptsError::Other("requires at least 1 argument".into()))?;
        let c = &mut body.config;
        let h = &mut body.host_config;
        c.image = image.clone();
        c.cmd = if cmd.is_empty() {
            None
        } else {
            Some(cmd.to_vec())
        };

        // Attach.
        let mut attach_stdin = false;
        let (mut attach_stdout, mut attach_stderr) = (false, false);
        for a in &self.attach {
            match a.to_ascii_lowercase().as_str() {
                "stdin" => attach_stdin = true,
                "stdout" => attach_stdout = true,
                "stderr" => attach_stderr = true,
                _ => {
                    return Err(flag_err(
                        a,
                        "-a, --attach",
                        "valid streams are STDIN, STDOUT and STDERR",
                    ))
                }
            }
        }
        if self.interactive {
            attach_stdin = true;
        }
        if self.attach.is_empty() {
            attach_stdout = true;
            attach_stderr = true;
        }
        if detach {
            if !self.attach.is_empty() {
                return Err(OptsError::Plain(
                    "conflicting options: cannot specify both --attach and --detach".into(),
                ));
            }
            attach_stdin = false;
            attach_stdout = false;
            attach_stderr = false;
        }
        c.attach_stdin = attach_stdin;
        c.attach_stdout = attach_stdout;
        c.attach_stderr = attach_stderr;
        c.open_stdin = self.interactive;
        c.stdin_once = self.interactive && attach_stdin;
        c.tty = self.tty;

        // Environment: files first, then -e.
        let mut env = Vec::new();
        for f in &self.env_file {
            let text = read_file(f)?;
            env.extend(parse_kv_file(&text, Some(lookup)).map_err(OptsError::Other)?);
        }
        for e in &self.env {
            env.push(validate_env(e, lookup).map_err(|m| flag_err(e, "-e, --env", m))?);
        }
        c.env = Some(env);

        // Labels: files first, then -l.
        let mut labels = BTreeMap::new();
        let mut label_list = Vec::new();
        for f in &self.label_file {
            label_list.extend(parse_kv_file(&read_file(f)?, None).map_err(OptsError::Other)?);
        }
        label_list.extend(self.label.iter().cloned());
        for l in label_list {
            let (k, v) = l.split_once('=').unwrap_or((&l, ""));
            labels.insert(k.to_string(), v.to_string());
        }
        c.labels = Some(labels);

        if let Some(hn) = &self.hostname {
            // docker splits a FQDN into hostname and domainname only with --domainname; keep it.
            c.hostname = hn.clone();
        }
        if let Some(u) = &self.user {
            c.user = u.clone();
        }
        if let Some(w) = &self.workdir {
            c.working_dir = w.clone();
        }
        if let Some(ep) = &self.entrypoint {
            c.entrypoint = Some(vec![ep.clone()]);
        }
        c.stop_signal = self.stop_signal.clone();
        c.stop_timeout = self.stop_timeout;

        // Volumes: binds (with a source) vs anonymous volumes.
        let mut binds = Vec::new();
        let mut volumes = BTreeMap::new();
        for v in &self.volume {
            if v.contains(':') {
                binds.push(v.clone());
            } else {
                volumes.insert(v.clone(), serde_json::json!({}));
            }
        }
        if !volumes.is_empty() {
            c.volumes = Some(volumes);
        }
        h.binds = Some(binds);

        // Ports.
        let (exposed, bindings) = parse_ports(&self.publish).map_err(OptsError::Other)?;
        if !exposed.is_empty() {
            c.exposed_ports = Some(exposed);
        }
        h.port_bindings = Some(bindings);

        // Resources.
        if let Some(m) = &self.memory {
            h.memory = ram_in_bytes(m).map_err(|e| flag_err(m, "-m, --memory", e))?;
        }
        if let Some(s) = &self.memory_swap {
            h.memory_swap = if s == "-1" {
                -1
            } else {
                ram_in_bytes(s).map_err(|e| flag_err(s, "--memory-swap", e))?
            };
        }
        if let Some(cpus) = &self.cpus {
            h.nano_cpus = parse_cpus(cpus).map_err(|e| flag_err(cpus, "--cpus", e))?;
        }
        h.cpu_shares = self.cpu_shares.unwrap_or(0);
        h.pids_limit = self.pids_limit.filter(|p| *p != 0);
        let mut ulimits = Vec::new();
        for u in &self.ulimit {
            ulimits.push(parse_ulimit(u).map_err(|e| flag_err(u, "--ulimit", e))?);
        }
        h.ulimits = Some(ulimits);

        // Security.
        h.privileged = self.privileged;
        h.cap_add = Some(self.cap_add.clone());
        h.cap_drop = Some(self.cap_drop.clone());
        h.readonly_rootfs = self.read_only;
        h.security_opt = Some(parse_security_opts(&self.security_opt)?);

        // Lifecycle and namespaces.
        h.network_mode = self.network.clone();
        h.auto_remove = self.rm;
        h.restart_policy =
            parse_restart(&self.restart).map_err(|e| flag_err(&self.restart, "--restart", e))?;
        if self.rm && !matches!(h.restart_policy.name.as_str(), "" | "no") {
            return Err(OptsError::Other(
                "conflicting options: cannot specify both --restart and --rm".into(),
            ));
        }
        if self.init {
            h.init = Some(true);
        }
        let mut tmpfs = BTreeMap::new();
        for t in &self.tmpfs {
            let (path, opts) = t.split_once(':').unwrap_or((t, ""));
            tmpfs.insert(path.to_string(), opts.to_string());
        }
        if !tmpfs.is_empty() {
            h.tmpfs = Some(tmpfs);
        }
        Ok(CreateRequest {
            name: self.name.clone(),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        opts: ContainerOpts,
        #[arg(short = 'd', long)]
        detach: bool,
        #[arg(trailing_var_arg = true, required = true)]
        args: Vec<String>,
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn build(args: &[&str]) -> Result<serde_json::Value, OptsError> {
        let t = T::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
            .expect("flags parse");
        let req = t.opts.build(&t.args, t.detach, &|k| {
            (k == "HOSTVAR").then(|| "hostval".to_string())
        })?;
        let mut v = serde_json::to_value(&req.body).unwrap();
        v["__name"] = req.name.into();
        Ok(v)
    }

    #[test]
    fn image_and_command() {
        let v = build(&["busybox", "sh", "-c", "echo hi"]).unwrap();
        assert_eq!(v["Image"], "busybox");
        assert_eq!(v["Cmd"], serde_json::json!(["sh", "-c", "echo hi"]));
        assert_eq!(v["Entrypoint"], serde_json::Value::Null);
        assert_eq!(v["AttachStdout"], true);
        assert_eq!(v["AttachStderr"], true);
        assert_eq!(v["AttachStdin"], false);
        assert_eq!(v["OpenStdin"], false);
        assert_eq!(v["HostConfig"]["NetworkMode"], "default");
        assert_eq!(v["HostConfig"]["RestartPolicy"]["Name"], "no");
        assert_eq!(v["HostConfig"]["Init"], serde_json::Value::Null);
        assert_eq!(v["HostConfig"]["PidsLimit"], serde_json::Value::Null);
        assert_eq!(v["__name"], serde_json::Value::Null);
        let v = build(&["busybox"]).unwrap();
        assert_eq!(v["Cmd"], serde_json::Value::Null);
        // Flags after the image belong to the command.
        let v = build(&["busybox", "ls", "-la", "--rm"]).unwrap();
        assert_eq!(v["Cmd"], serde_json::json!(["ls", "-la", "--rm"]));
        assert_eq!(v["HostConfig"]["AutoRemove"], false);
    }

    #[test]
    fn interactive_tty_detach() {
        let v = build(&["-it", "busybox"]).unwrap();
        assert_eq!(
            (v["Tty"].as_bool(), v["OpenStdin"].as_bool()),
            (Some(true), Some(true))
        );
        assert_eq!(
            (v["AttachStdin"].as_bool(), v["StdinOnce"].as_bool()),
            (Some(true), Some(true))
        );
        let v = build(&["-d", "-i", "busybox"]).unwrap();
        assert_eq!(v["OpenStdin"], true);
        assert_eq!(v["AttachStdin"], false);
        assert_eq!(v["AttachStdout"], false);
        assert_eq!(v["StdinOnce"], false);
        let v = build(&["-a", "stdout", "busybox"]).unwrap();
        assert_eq!(
            (v["AttachStdout"].as_bool(), v["AttachStderr"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(
            build(&["-d", "-a", "stdout", "busybox"])
                .unwrap_err()
                .to_string(),
            "conflicting options: cannot specify both --attach and --detach"
        );
        assert!(build(&["-a", "bogus", "busybox"]).is_err());
    }

    #[test]
    fn env_labels_and_simple_fields() {
        let v = build(&[
            "-e",
            "FOO=bar",
            "-e",
            "HOSTVAR",
            "-e",
            "UNSET",
            "-l",
            "app=x",
            "-l",
            "flag",
            "--name",
            "web",
            "-w",
            "/tmp",
            "-u",
            "1000:1000",
            "-h",
            "boxy",
            "--entrypoint",
            "/bin/sh",
            "--stop-signal",
            "SIGUSR1",
            "--stop-timeout",
            "7",
            "busybox",
        ])
        .unwrap();
        assert_eq!(
            v["Env"],
            serde_json::json!(["FOO=bar", "HOSTVAR=hostval", "UNSET"])
        );
        assert_eq!(v["Labels"], serde_json::json!({"app": "x", "flag": ""}));
        assert_eq!(v["__name"], "web");
        assert_eq!(v["WorkingDir"], "/tmp");
        assert_eq!(v["User"], "1000:1000");
        assert_eq!(v["Hostname"], "boxy");
        assert_eq!(v["Entrypoint"], serde_json::json!(["/bin/sh"]));
        assert_eq!(v["StopSignal"], "SIGUSR1");
        assert_eq!(v["StopTimeout"], 7);
        let v = build(&["--entrypoint", "", "busybox"]).unwrap();
        assert_eq!(v["Entrypoint"], serde_json::json!([""]));
        assert_eq!(
            build(&["-e", "=x", "busybox"]).unwrap_err().to_string(),
            "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x"
        );
    }

    #[test]
    fn env_and_label_files() {
        let dir = std::env::temp_dir().join(format!("berth-opts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let env = dir.join("env");
        std::fs::write(
            &env,
            "\u{feff}# comment\n\n  A=1\nB= spaced value \nHOSTVAR\nMISSING\nC=x=y\n",
        )
        .unwrap();
        let labels = dir.join("labels");
        std::fs::write(&labels, "l1=v1\nl2\n").unwrap();
        let v = build(&[
            "--env-file",
            env.to_str().unwrap(),
            "-e",
            "Z=9",
            "--label-file",
            labels.to_str().unwrap(),
            "busybox",
        ])
        .unwrap();
        assert_eq!(
            v["Env"],
            serde_json::json!(["A=1", "B= spaced value ", "HOSTVAR=hostval", "C=x=y", "Z=9"])
        );
        assert_eq!(v["Labels"], serde_json::json!({"l1": "v1", "l2": ""}));
        let bad = dir.join("bad");
        std::fs::write(&bad, "BAD KEY=1\n").unwrap();
        assert_eq!(
            build(&["--env-file", bad.to_str().unwrap(), "busybox"])
                .unwrap_err()
                .to_string(),
            "poorly formatted environment: variable 'BAD KEY' contains whitespaces"
        );
        assert_eq!(
            build(&["--env-file", "/nonexistent/env", "busybox"])
                .unwrap_err()
                .to_string(),
            "open /nonexistent/env: no such file or directory"
        );
        assert_eq!(
            parse_kv_file("=x", None),
            Err("no variable name on line '=x'".to_string())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn resources() {
        let v = build(&[
            "-m",
            "64m",
            "--memory-swap",
            "-1",
            "--cpus",
            "0.5",
            "-c",
            "512",
            "--pids-limit",
            "32",
            "--ulimit",
            "nofile=512:1024",
            "--ulimit",
            "nproc=10",
            "busybox",
        ])
        .unwrap();
        let h = &v["HostConfig"];
        assert_eq!(h["Memory"], 64 << 20);
        assert_eq!(h["MemorySwap"], -1);
        assert_eq!(h["NanoCpus"], 500_000_000);
        assert_eq!(h["CpuShares"], 512);
        assert_eq!(h["PidsLimit"], 32);
        assert_eq!(
            h["Ulimits"],
            serde_json::json!([{"Name": "nofile", "Soft": 512, "Hard": 1024}, {"Name": "nproc", "Soft": 10, "Hard": 10}])
        );
        assert_eq!(
            build(&["-m", "lots", "busybox"]).unwrap_err().to_string(),
            "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'"
        );
        assert_eq!(
            build(&["--cpus", "abc", "busybox"]).unwrap_err().to_string(),
            "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number"
        );
        assert_eq!(
            build(&["--ulimit", "nofile=2:1", "busybox"]).unwrap_err().to_string(),
            "invalid argument \"nofile=2:1\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1"
        );
    }

    #[test]
    fn memory_parsing() {
        assert_eq!(ram_in_bytes("1k"), Ok(1024));
        assert_eq!(ram_in_bytes("64m"), Ok(64 << 20));
        assert_eq!(ram_in_bytes("64M"), Ok(64 << 20));
        assert_eq!(ram_in_bytes("1g"), Ok(1 << 30));
        assert_eq!(ram_in_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(ram_in_bytes("10kb"), Ok(10240));
        assert_eq!(ram_in_bytes("1.5g"), Ok(3 << 29));
        assert_eq!(ram_in_bytes("512"), Ok(512));
        assert_eq!(ram_in_bytes("512b"), Ok(512));
        assert_eq!(ram_in_bytes("1 GB"), Ok(1 << 30));
        assert_eq!(ram_in_bytes(""), Err("invalid size: ''".into()));
        assert_eq!(ram_in_bytes("m"), Err("invalid size: 'm'".into()));
        assert_eq!(ram_in_bytes("1x"), Err("invalid size: '1x'".into()));
        assert_eq!(ram_in_bytes("-1"), Err("invalid size: '-1'".into()));
    }

    #[test]
    fn cpus_parsing() {
        assert_eq!(parse_cpus("1"), Ok(1_000_000_000));
        assert_eq!(parse_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_cpus(".25"), Ok(250_000_000));
        assert_eq!(parse_cpus("2.000000001"), Ok(2_000_000_001));
        assert_eq!(
            parse_cpus("1.0000000001"),
            Err("value is too precise".into())
        );
        assert_eq!(
            parse_cpus("x"),
            Err("failed to parse x as a rational number".into())
        );
        assert_eq!(
            parse_cpus(""),
            Err("failed to parse  as a rational number".into())
        );
    }

    #[test]
    fn ulimit_parsing() {
        assert_eq!(
            parse_ulimit("nofile=512:1024"),
            Ok(Ulimit {
                name: "nofile".into(),
                soft: 512,
                hard: 1024
            })
        );
        assert_eq!(
            parse_ulimit("core=-1"),
            Ok(Ulimit {
                name: "core".into(),
                soft: -1,
                hard: -1
            })
        );
        assert_eq!(parse_ulimit("nofile=10:-1").unwrap().hard, -1);
        assert_eq!(
            parse_ulimit("nofile"),
            Err("invalid ulimit argument: nofile".into())
        );
        assert_eq!(
            parse_ulimit("bogus=1"),
            Err("invalid ulimit type: bogus".into())
        );
        assert_eq!(
            parse_ulimit("nofile=x"),
            Err("strconv.ParseInt: parsing \"x\": invalid syntax".into())
        );
        assert!(parse_ulimit("nofile=1:2:3")
            .unwrap_err()
            .starts_with("too many limit value arguments - 1:2:3"));
    }

    #[test]
    fn security_network_restart_and_mounts() {
        let v = build(&[
            "--privileged",
            "--cap-add",
            "NET_ADMIN",
            "--cap-drop",
            "ALL",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            "--network",
            "host",
            "--init",
            "--restart",
            "on-failure:3",
            "-v",
            "/host:/ctr:ro",
            "-v",
            "/anon",
            "--tmpfs",
            "/run:rw,size=64m",
            "--tmpfs",
            "/tmp",
            "busybox",
        ])
        .unwrap();
        let h = &v["HostConfig"];
        assert_eq!(h["Privileged"], true);
        assert_eq!(h["CapAdd"], serde_json::json!(["NET_ADMIN"]));
        assert_eq!(h["CapDrop"], serde_json::json!(["ALL"]));
        assert_eq!(h["ReadonlyRootfs"], true);
        assert_eq!(h["SecurityOpt"], serde_json::json!(["no-new-privileges"]));
        assert_eq!(h["NetworkMode"], "host");
        assert_eq!(h["Init"], true);
        assert_eq!(
            h["RestartPolicy"],
            serde_json::json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert_eq!(h["Binds"], serde_json::json!(["/host:/ctr:ro"]));
        assert_eq!(v["Volumes"], serde_json::json!({"/anon": {}}));
        assert_eq!(
            h["Tmpfs"],
            serde_json::json!({"/run": "rw,size=64m", "/tmp": ""})
        );
        assert_eq!(
            build(&["--rm", "--restart", "always", "busybox"])
                .unwrap_err()
                .to_string(),
            "conflicting options: cannot specify both --restart and --rm"
        );
        assert_eq!(
            build(&["--rm", "busybox"]).unwrap()["HostConfig"]["AutoRemove"],
            true
        );
        assert_eq!(
            parse_restart(":3"),
            Err("invalid restart policy format: no policy provided before colon".into())
        );
        assert!(parse_restart("on-failure:x").is_err());
    }

    #[test]
    fn ports() {
        let v = build(&[
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1:5353:53/udp",
            "-p",
            "9000",
            "-p",
            "7000-7001:8000-8001",
            "busybox",
        ])
        .unwrap();
        assert_eq!(
            v["ExposedPorts"],
            serde_json::json!({"80/tcp": {}, "53/udp": {}, "9000/tcp": {}, "8000/tcp": {}, "8001/tcp": {}})
        );
        let pb = &v["HostConfig"]["PortBindings"];
        assert_eq!(
            pb["80/tcp"],
            serde_json::json!([{"HostIp": "", "HostPort": "8080"}])
        );
        assert_eq!(
            pb["53/udp"],
            serde_json::json!([{"HostIp": "127.0.0.1", "HostPort": "5353"}])
        );
        assert_eq!(
            pb["9000/tcp"],
            serde_json::json!([{"HostIp": "", "HostPort": ""}])
        );
        assert_eq!(
            pb["8001/tcp"],
            serde_json::json!([{"HostIp": "", "HostPort": "7001"}])
        );
        let (_, b) = parse_ports(&["[::1]:80:80".to_string()]).unwrap();
        assert_eq!(b["80/tcp"].as_ref().unwrap()[0].host_ip, "::1");
        assert_eq!(
            parse_ports(&["x:80".to_string()]).unwrap_err(),
            "invalid hostPort: x"
        );
        assert_eq!(
            parse_ports(&["80/foo".to_string()]).unwrap_err(),
            "invalid proto: foo"
        );
        assert_eq!(
            parse_ports(&["abc".to_string()]).unwrap_err(),
            "invalid containerPort: abc"
        );
    }

    #[test]
    fn env_validation() {
        assert_eq!(validate_env("A=1", &no_env), Ok("A=1".into()));
        assert_eq!(validate_env("A", &|_| Some("v".into())), Ok("A=v".into()));
        assert_eq!(validate_env("A", &no_env), Ok("A".into()));
    }
}
