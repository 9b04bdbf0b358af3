//! OCI runtime spec generation with dockerd's defaults (moby `oci/defaults.go`
//! `DefaultLinuxSpec`, `daemon/oci_linux.go`): capabilities, mounts, masked and read-only
//! paths, device cgroup rules, namespaces, resources and the default seccomp profile.
//!
//! [`build`] is pure apart from reading host facts ([`HostInfo::detect`]); [`build_with`]
//! takes them explicitly for tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use serde_json::{json, Value};

use crate::seccomp::{self, SeccompError};
pub use crate::user::{resolve_user, UserError};

/// Errors from spec generation.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// `--cap-add`/`--cap-drop` names a capability the kernel does not know.
    #[error("unknown capability: \"{0}\"")]
    UnknownCapability(String),
    /// A `--ulimit` name docker does not know.
    #[error("invalid ulimit type: {0}")]
    UnknownUlimit(String),
    /// A `--security-opt` docker does not know.
    #[error("invalid --security-opt: {0:?}")]
    SecurityOpt(String),
    /// A `net.*` sysctl with `--network host`.
    #[error("sysctl {0:?} is not allowed in host network namespace")]
    HostSysctl(String),
    /// The seccomp profile could not be converted.
    #[error("seccomp profile")]
    Seccomp(#[from] SeccompError),
    /// The generated document does not fit oci-spec's types (a bug).
    #[error("generated spec is invalid")]
    Invalid(#[source] serde_json::Error),
}

/// One `--ulimit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    /// `nofile`, `nproc`, … (docker's names, without `RLIMIT_`).
    pub name: String,
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

/// The container's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Network {
    /// A new, empty network namespace (only `lo`).
    #[default]
    None,
    /// The host's network namespace.
    Host,
    /// Join an existing namespace (a bind-mounted nsfs file).
    Path(PathBuf),
}

/// An extra mount (binds for volumes and the network files, tmpfs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Path in the container.
    pub destination: String,
    /// `bind` or `tmpfs`.
    pub kind: String,
    /// Host path for binds, `tmpfs` for tmpfs.
    pub source: PathBuf,
    /// Mount options as in the OCI spec.
    pub options: Vec<String>,
}

impl Mount {
    /// A recursive, private bind mount (moby's default propagation is `rprivate`).
    pub fn bind(source: PathBuf, destination: &str, readonly: bool) -> Self {
        let mut options = vec!["rbind".to_string(), "rprivate".to_string()];
        if readonly {
            options.push("ro".into());
        }
        Mount {
            destination: destination.to_string(),
            kind: "bind".into(),
            source,
            options,
        }
    }

    /// A `--tmpfs DEST[:OPTS]` mount: docker's defaults `noexec,nosuid,nodev`, overridden by
    /// the user's comma-separated options (`exec` cancels `noexec`, and so on).
    pub fn tmpfs(destination: &str, options: &str) -> Self {
        let mut opts: Vec<String> = vec!["noexec".into(), "nosuid".into(), "nodev".into()];
        for o in options.split(',').filter(|o| !o.is_empty()) {
            let base = o.split('=').next().unwrap_or(o);
            let opposite = base
                .strip_prefix("no")
                .map(str::to_string)
                .unwrap_or(format!("no{base}"));
            opts.retain(|x| {
                let xb = x.split('=').next().unwrap_or(x);
                xb != base && xb != opposite
            });
            opts.push(o.to_string());
        }
        Mount {
            destination: destination.to_string(),
            kind: "tmpfs".into(),
            source: "tmpfs".into(),
            options: opts,
        }
    }
}

/// Everything the engine decides about a container that the spec needs.
#[derive(Debug, Clone, Default)]
pub struct SpecInput {
    /// Container ID (cgroup `/berth/<id>`).
    pub id: String,
    /// Absolute path of the merged rootfs.
    pub rootfs: PathBuf,
    /// Command line (entrypoint + cmd).
    pub args: Vec<String>,
    /// `KEY=value` list, PATH/HOSTNAME/HOME already filled in.
    pub env: Vec<String>,
    /// Working directory in the container.
    pub cwd: String,
    /// Resolved user id.
    pub uid: u32,
    /// Resolved group id.
    pub gid: u32,
    /// Supplementary groups.
    pub additional_gids: Vec<u32>,
    /// Hostname.
    pub hostname: String,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
    /// Memory limit in bytes (0 = none).
    pub memory: i64,
    /// Memory+swap limit (0 = twice `memory`, -1 = unlimited), docker semantics.
    pub memory_swap: i64,
    /// Soft memory limit.
    pub memory_reservation: i64,
    /// `--cpus` × 1e9.
    pub nano_cpus: i64,
    /// CPU shares (relative weight).
    pub cpu_shares: i64,
    /// CFS period in µs.
    pub cpu_period: i64,
    /// CFS quota in µs.
    pub cpu_quota: i64,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: String,
    /// `--cpuset-mems`.
    pub cpuset_mems: String,
    /// `--pids-limit` (≤ 0 = unlimited).
    pub pids_limit: Option<i64>,
    /// `--ulimit`s.
    pub ulimits: Vec<Ulimit>,
    /// Network namespace.
    pub network: Network,
    /// Extra mounts, in order.
    pub mounts: Vec<Mount>,
    /// `--read-only`.
    pub readonly_rootfs: bool,
    /// `--privileged`.
    pub privileged: bool,
    /// `--cap-add` (with or without `CAP_`, any case, or `ALL`).
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    pub cap_drop: Vec<String>,
    /// `--security-opt` values (`no-new-privileges`, `seccomp=unconfined|<json>`, …).
    pub security_opt: Vec<String>,
    /// `--sysctl`s.
    pub sysctls: BTreeMap<String, String>,
    /// Replaces the default masked paths when set.
    pub masked_paths: Option<Vec<String>>,
    /// Replaces the default read-only paths when set.
    pub readonly_paths: Option<Vec<String>>,
    /// Host path of the init binary for `--init` (mounted at /sbin/docker-init).
    pub init: Option<PathBuf>,
    /// /dev/shm size in bytes (0 = 64 MiB).
    pub shm_size: i64,
    /// `--oom-score-adj`.
    pub oom_score_adj: i32,
}

/// Facts about the host that change the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostInfo {
    /// Kernel `(major, minor)` for seccomp `minKernel`.
    pub kernel: (u32, u32),
    /// Pure cgroup v2: containers get a private cgroup namespace (dockerd's default there).
    pub cgroup_v2: bool,
    /// The memory controller accounts swap (v1 `memory.memsw.*`); dockerd drops the swap
    /// limit with a warning when it does not.
    pub swap_limit: bool,
    /// The daemon's own bounding set (bit N = capability N), `None` when unknown: a
    /// privileged container gets the capabilities the daemon has, as containerd's
    /// `WithAllCurrentCapabilities`, since asking for more fails at start.
    pub bounding_caps: Option<u64>,
}

impl HostInfo {
    /// Reads the facts from the running system.
    pub fn detect() -> Self {
        let cgroup_v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        HostInfo {
            kernel: seccomp::host_kernel(),
            cgroup_v2,
            swap_limit: cgroup_v2
                || Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists(),
            bounding_caps: own_capabilities("CapBnd"),
        }
    }
}

/// One capability set of this process from /proc/self/status (`CapEff`, `CapBnd`, …),
/// bit N = capability N.
pub(crate) fn own_capabilities(set: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(set)?.strip_prefix(':'))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// moby `caps.DefaultCapabilities()`.
pub const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability up to CAP_CHECKPOINT_RESTORE (40), in number order.
pub const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// moby `DefaultLinuxSpec().Linux.MaskedPaths`.
pub const DEFAULT_MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// moby `DefaultLinuxSpec().Linux.ReadonlyPaths`.
pub const DEFAULT_READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// PATH that moby puts in a container without one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where `--init` mounts the init binary (moby `inittPath`).
pub const INIT_PATH: &str = "/sbin/docker-init";

/// Normalises a capability name to `CAP_X`; `ALL` stays `ALL`.
fn normalize_cap(c: &str) -> String {
    let up = c.to_ascii_uppercase();
    if up == "ALL" || up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

/// moby `caps.TweakCapabilities`: the default set, plus `add`, minus `drop`; `ALL` in
/// either list means every capability; privileged means all.
pub fn capabilities(
    add: &[String],
    drop: &[String],
    privileged: bool,
) -> Result<Vec<String>, SpecError> {
    let all: Vec<String> = ALL_CAPS.iter().map(|s| s.to_string()).collect();
    if privileged {
        return Ok(all);
    }
    let add: Vec<String> = add.iter().map(|c| normalize_cap(c)).collect();
    let drop: Vec<String> = drop.iter().map(|c| normalize_cap(c)).collect();
    for c in add.iter().chain(drop.iter()) {
        if c != "ALL" && !all.contains(c) {
            return Err(SpecError::UnknownCapability(c.clone()));
        }
    }
    // Adds win over drops: moby drops from the base set first, then appends the adds.
    let base: Vec<String> = if add.iter().any(|c| c == "ALL") {
        all
    } else {
        DEFAULT_CAPS.iter().map(|s| s.to_string()).collect()
    };
    let mut caps: Vec<String> = if drop.iter().any(|c| c == "ALL") {
        Vec::new()
    } else {
        base.into_iter().filter(|c| !drop.contains(c)).collect()
    };
    for c in add.iter().filter(|c| *c != "ALL") {
        if !caps.contains(c) {
            caps.push(c.clone());
        }
    }
    Ok(caps)
}

fn rlimit_type(name: &str) -> Result<&'static str, SpecError> {
    Ok(match name {
        "as" => "RLIMIT_AS",
        "core" => "RLIMIT_CORE",
        "cpu" => "RLIMIT_CPU",
        "data" => "RLIMIT_DATA",
        "fsize" => "RLIMIT_FSIZE",
        "locks" => "RLIMIT_LOCKS",
        "memlock" => "RLIMIT_MEMLOCK",
        "msgqueue" => "RLIMIT_MSGQUEUE",
        "nice" => "RLIMIT_NICE",
        "nofile" => "RLIMIT_NOFILE",
        "nproc" => "RLIMIT_NPROC",
        "rss" => "RLIMIT_RSS",
        "rtprio" => "RLIMIT_RTPRIO",
        "rttime" => "RLIMIT_RTTIME",
        "sigpending" => "RLIMIT_SIGPENDING",
        "stack" => "RLIMIT_STACK",
        _ => return Err(SpecError::UnknownUlimit(name.to_string())),
    })
}

/// Parsed `--security-opt` values.
#[derive(Debug, Default)]
struct SecurityOpts {
    no_new_privileges: bool,
    seccomp: Option<String>,
    unconfined_paths: bool,
}

fn security_opts(opts: &[String]) -> Result<SecurityOpts, SpecError> {
    let mut out = SecurityOpts::default();
    for o in opts {
        // Docker accepts both `key=value` and the legacy `key:value`.
        let (k, v) = match o.split_once('=') {
            Some(kv) => kv,
            None => o.split_once(':').unwrap_or((o.as_str(), "")),
        };
        match k {
            "no-new-privileges" => {
                out.no_new_privileges = match v {
                    "" | "true" => true,
                    "false" => false,
                    _ => return Err(SpecError::SecurityOpt(o.clone())),
                }
            }
            "seccomp" => out.seccomp = Some(v.to_string()),
            "systempaths" if v == "unconfined" => out.unconfined_paths = true,
            // Not supported here; dockerd also ignores them without AppArmor/SELinux.
            "apparmor" | "label" => {}
            _ => return Err(SpecError::SecurityOpt(o.clone())),
        }
    }
    Ok(out)
}

fn default_mounts(input: &SpecInput) -> Vec<Value> {
    let shm = if input.shm_size > 0 {
        input.shm_size
    } else {
        64 << 20
    };
    let sys_ro = if input.privileged { "rw" } else { "ro" };
    vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", sys_ro]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", sys_ro]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={shm}")]}),
    ]
}

/// Builds the spec with the running host's facts.
pub fn build(input: &SpecInput) -> Result<Spec, SpecError> {
    build_with(input, &HostInfo::detect())
}

/// Builds the OCI spec for `input` as dockerd would on a host described by `host`.
pub fn build_with(input: &SpecInput, host: &HostInfo) -> Result<Spec, SpecError> {
    let sec = security_opts(&input.security_opt)?;
    let mut caps = capabilities(&input.cap_add, &input.cap_drop, input.privileged)?;
    if let (true, Some(bnd)) = (input.privileged, host.bounding_caps) {
        // ALL_CAPS is in capability-number order.
        caps.retain(|c| {
            let n = ALL_CAPS.iter().position(|k| k == c).unwrap_or(0);
            n < 64 && bnd & (1u64 << n) != 0
        });
    }

    let mut args = input.args.clone();
    let mut user_mounts = input.mounts.clone();
    if let Some(init) = &input.init {
        args.splice(0..0, [INIT_PATH.to_string(), "--".to_string()]);
        user_mounts.push(Mount {
            destination: INIT_PATH.into(),
            kind: "bind".into(),
            source: init.clone(),
            options: vec!["bind".into(), "ro".into()],
        });
    }

    // No default rlimits: like dockerd (whose spec has none), the container inherits the
    // limits of its runtime (here the shim, which inherits the daemon's).
    let mut rlimits: Vec<(String, u64, u64)> = Vec::new();
    for u in &input.ulimits {
        let t = rlimit_type(&u.name)?.to_string();
        // Docker passes -1 (unlimited) through as RLIM_INFINITY.
        let conv = |x: i64| if x < 0 { u64::MAX } else { x as u64 };
        rlimits.retain(|(x, _, _)| *x != t);
        rlimits.push((t, conv(u.hard), conv(u.soft)));
    }
    let rlimits: Vec<Value> = rlimits
        .into_iter()
        .map(|(t, hard, soft)| json!({"type": t, "hard": hard, "soft": soft}))
        .collect();

    let mut process = json!({
        "terminal": input.tty,
        "user": {"uid": input.uid, "gid": input.gid},
        "args": args,
        "env": input.env,
        "cwd": if input.cwd.is_empty() { "/" } else { input.cwd.as_str() },
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": rlimits,
        "oomScoreAdj": input.oom_score_adj,
    });
    // Omitted unless true, as in dockerd's spec (runtime-spec's Go type has `omitempty`).
    // This also matters to libcontainer 0.7, which loads seccomp after dropping
    // capabilities whenever the field is present, even as false, and then fails (EACCES).
    if sec.no_new_privileges {
        process["noNewPrivileges"] = true.into();
    }
    if !input.additional_gids.is_empty() {
        process["user"]["additionalGids"] = json!(input.additional_gids);
    }

    // Mounts: defaults, minus those a user mount replaces, then user mounts sorted by
    // depth (moby `sortMounts`) so parents are mounted before children.
    let mut mounts = default_mounts(input);
    mounts.retain(|m| {
        !user_mounts
            .iter()
            .any(|u| Some(u.destination.as_str()) == m["destination"].as_str())
    });
    user_mounts.sort_by_key(|m| Path::new(&m.destination).components().count());
    for m in &user_mounts {
        mounts.push(json!({
            "destination": m.destination,
            "type": m.kind,
            "source": m.source,
            "options": m.options,
        }));
    }

    let mut namespaces = vec![json!({"type": "mount"})];
    match &input.network {
        Network::None => namespaces.push(json!({"type": "network"})),
        Network::Host => {
            if let Some(k) = input.sysctls.keys().find(|k| k.starts_with("net.")) {
                return Err(SpecError::HostSysctl(k.clone()));
            }
        }
        Network::Path(p) => namespaces.push(json!({"type": "network", "path": p})),
    }
    namespaces.extend([
        json!({"type": "uts"}),
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
    ]);
    // dockerd's default cgroupns mode is "private" on cgroup v2 and "host" on v1.
    if host.cgroup_v2 {
        namespaces.push(json!({"type": "cgroup"}));
    }

    let devices = if input.privileged {
        json!([{"allow": true, "access": "rwm"}])
    } else {
        json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
            {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        ])
    };
    let mut resources = json!({"devices": devices});
    let mut memory = serde_json::Map::new();
    if input.memory > 0 {
        memory.insert("limit".into(), input.memory.into());
        if host.swap_limit {
            // dockerd: MemorySwap 0 with a memory limit means twice the limit.
            let swap = match input.memory_swap {
                0 => input.memory * 2,
                s => s,
            };
            memory.insert("swap".into(), swap.into());
        }
    }
    if input.memory_reservation > 0 {
        memory.insert("reservation".into(), input.memory_reservation.into());
    }
    if !memory.is_empty() {
        resources["memory"] = Value::Object(memory);
    }
    let mut cpu = serde_json::Map::new();
    if input.cpu_shares > 0 {
        cpu.insert("shares".into(), input.cpu_shares.into());
    }
    if input.nano_cpus > 0 {
        // moby: period fixed at 100ms, quota = NanoCPUs × period / 1e9.
        cpu.insert("period".into(), 100_000u64.into());
        cpu.insert(
            "quota".into(),
            (input.nano_cpus * 100_000 / 1_000_000_000).into(),
        );
    } else {
        if input.cpu_period > 0 {
            cpu.insert("period".into(), input.cpu_period.into());
        }
        if input.cpu_quota != 0 {
            cpu.insert("quota".into(), input.cpu_quota.into());
        }
    }
    if !input.cpuset_cpus.is_empty() {
        cpu.insert("cpus".into(), input.cpuset_cpus.clone().into());
    }
    if !input.cpuset_mems.is_empty() {
        cpu.insert("mems".into(), input.cpuset_mems.clone().into());
    }
    if !cpu.is_empty() {
        resources["cpu"] = Value::Object(cpu);
    }
    if let Some(p) = input.pids_limit.filter(|p| *p > 0) {
        resources["pids"] = json!({"limit": p});
    }

    let confined_paths = !input.privileged && !sec.unconfined_paths;
    let masked: Vec<String> = match (&input.masked_paths, confined_paths) {
        (_, false) => Vec::new(),
        (Some(p), true) => p.clone(),
        (None, true) => DEFAULT_MASKED_PATHS.iter().map(|s| s.to_string()).collect(),
    };
    let readonly: Vec<String> = match (&input.readonly_paths, confined_paths) {
        (_, false) => Vec::new(),
        (Some(p), true) => p.clone(),
        (None, true) => DEFAULT_READONLY_PATHS
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };

    let mut linux = json!({
        "namespaces": namespaces,
        "cgroupsPath": format!("/berth/{}", input.id),
        "resources": resources,
        "maskedPaths": masked,
        "readonlyPaths": readonly,
    });
    if !input.sysctls.is_empty() {
        linux["sysctl"] = json!(input.sysctls);
    }
    // Privileged containers and `seccomp=unconfined` run without a filter (moby).
    let profile = match sec.seccomp.as_deref() {
        _ if input.privileged => None,
        Some("unconfined") => None,
        Some("") | None | Some("builtin") => Some(seccomp::DEFAULT_PROFILE),
        Some(json) => Some(json),
    };
    if let Some(profile) = profile {
        let s = seccomp::convert(profile, &caps, host.kernel)?;
        linux["seccomp"] = serde_json::to_value(s).map_err(SpecError::Invalid)?;
    }

    let mut spec = json!({
        "ociVersion": "1.0.2-dev",
        "process": process,
        "root": {"path": input.rootfs, "readonly": input.readonly_rootfs},
        "hostname": input.hostname,
        "mounts": mounts,
        "linux": linux,
    });
    if input.hostname.is_empty() {
        spec.as_object_mut().map(|o| o.remove("hostname"));
    }
    serde_json::from_value(spec).map_err(SpecError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: HostInfo = HostInfo {
        kernel: (6, 1),
        cgroup_v2: false,
        swap_limit: true,
        bounding_caps: None,
    };

    #[test]
    fn privileged_gets_only_the_daemons_capabilities() {
        let mut i = input();
        i.privileged = true;
        // Everything but CAP_SYS_RESOURCE (24), as on this machine.
        let host = HostInfo {
            bounding_caps: Some(((1u64 << 41) - 1) & !(1 << 24)),
            ..HOST
        };
        let v = serde_json::to_value(build_with(&i, &host).unwrap()).unwrap();
        let bounding = v["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert_eq!(bounding.len(), 40);
        assert!(!bounding.iter().any(|c| c == "CAP_SYS_RESOURCE"));
        assert!(bounding.iter().any(|c| c == "CAP_SYS_ADMIN"));
    }

    fn input() -> SpecInput {
        SpecInput {
            id: "abc".into(),
            rootfs: "/r".into(),
            args: vec!["sh".into(), "-c".into(), "true".into()],
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: "/".into(),
            hostname: "abc".into(),
            ..Default::default()
        }
    }

    fn to_json(i: &SpecInput) -> Value {
        serde_json::to_value(build_with(i, &HOST).unwrap()).unwrap()
    }

    #[test]
    fn defaults_match_dockerd() {
        let v = to_json(&input());
        let caps: Vec<&str> = v["process"]["capabilities"]["bounding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let mut want = DEFAULT_CAPS.to_vec();
        let mut got = caps.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        let set = |k: &str| {
            let mut c: Vec<String> =
                serde_json::from_value(v["process"]["capabilities"][k].clone()).unwrap();
            c.sort();
            c
        };
        assert_eq!(set("effective"), set("bounding"));
        assert_eq!(set("permitted"), set("bounding"));
        assert!(v["process"]["capabilities"].get("inheritable").is_none());
        assert!(v["process"].get("noNewPrivileges").is_none());
        assert_eq!(v["linux"]["cgroupsPath"], "/berth/abc");
        let ns: Vec<&str> = v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["mount", "network", "uts", "pid", "ipc"]);
        assert_eq!(v["linux"]["maskedPaths"].as_array().unwrap().len(), 12);
        assert_eq!(v["linux"]["readonlyPaths"][3], "/proc/sys");
        let dests: Vec<&str> = v["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            dests,
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/sys",
                "/sys/fs/cgroup",
                "/dev/mqueue",
                "/dev/shm"
            ]
        );
        assert_eq!(
            v["mounts"][2]["options"],
            json!([
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5"
            ])
        );
        assert_eq!(v["mounts"][6]["options"][4], "size=67108864");
        assert_eq!(v["mounts"][3]["options"][3], "ro");
        assert_eq!(
            v["linux"]["resources"]["devices"][0],
            json!({"allow": false, "access": "rwm"})
        );
        assert_eq!(v["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(v["process"]["rlimits"], json!([]));
        assert!(v["linux"]["resources"].get("memory").is_none());
        assert_eq!(v["hostname"], "abc");
    }

    #[test]
    fn resources() {
        let mut i = input();
        i.memory = 64 << 20;
        i.nano_cpus = 1_500_000_000;
        i.pids_limit = Some(32);
        i.cpu_shares = 512;
        i.cpuset_cpus = "0".into();
        let v = to_json(&i);
        let r = &v["linux"]["resources"];
        assert_eq!(r["memory"]["limit"], 64 << 20);
        assert_eq!(r["memory"]["swap"], 128 << 20);
        assert_eq!(r["cpu"]["quota"], 150_000);
        assert_eq!(r["cpu"]["period"], 100_000);
        assert_eq!(r["cpu"]["shares"], 512);
        assert_eq!(r["cpu"]["cpus"], "0");
        assert_eq!(r["pids"]["limit"], 32);
        i.memory_swap = -1;
        i.pids_limit = Some(-1);
        let v = to_json(&i);
        assert_eq!(v["linux"]["resources"]["memory"]["swap"], -1);
        assert!(v["linux"]["resources"].get("pids").is_none());
        let v = serde_json::to_value(
            build_with(
                &i,
                &HostInfo {
                    swap_limit: false,
                    ..HOST
                },
            )
            .unwrap(),
        )
        .unwrap();
        assert!(v["linux"]["resources"]["memory"].get("swap").is_none());
    }

    #[test]
    fn caps_add_drop() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let c = capabilities(&s(&["net_admin"]), &s(&["CAP_CHOWN", "kill"]), false).unwrap();
        assert!(c.contains(&"CAP_NET_ADMIN".into()));
        assert!(!c.contains(&"CAP_CHOWN".into()) && !c.contains(&"CAP_KILL".into()));
        assert_eq!(
            capabilities(&s(&["SYS_ADMIN"]), &s(&["ALL"]), false).unwrap(),
            ["CAP_SYS_ADMIN"]
        );
        assert_eq!(
            capabilities(&s(&["ALL"]), &s(&["MKNOD"]), false)
                .unwrap()
                .len(),
            40
        );
        assert_eq!(capabilities(&[], &[], true).unwrap().len(), 41);
        assert_eq!(
            capabilities(&s(&["bogus"]), &[], false)
                .unwrap_err()
                .to_string(),
            "unknown capability: \"CAP_BOGUS\""
        );
        // Seccomp follows caps: SYS_ADMIN allows mount.
        let mut i = input();
        i.cap_add = s(&["SYS_ADMIN"]);
        let v = to_json(&i);
        assert!(v["linux"]["seccomp"]["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["names"].as_array().unwrap().contains(&json!("mount"))));
    }

    #[test]
    fn privileged_and_security_opts() {
        let mut i = input();
        i.privileged = true;
        let v = to_json(&i);
        assert!(v["linux"].get("seccomp").is_none());
        assert_eq!(v["linux"]["maskedPaths"], json!([]));
        assert_eq!(v["mounts"][3]["options"][3], "rw");
        assert_eq!(
            v["linux"]["resources"]["devices"],
            json!([{"allow": true, "access": "rwm"}])
        );
        let mut i = input();
        i.security_opt = vec!["no-new-privileges".into(), "seccomp=unconfined".into()];
        let v = to_json(&i);
        assert_eq!(v["process"]["noNewPrivileges"], true);
        assert!(v["linux"].get("seccomp").is_none());
        i.security_opt = vec![r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#.into()];
        let v = to_json(&i);
        assert_eq!(v["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
        i.security_opt = vec!["bogus=1".into()];
        assert!(build_with(&i, &HOST).is_err());
    }

    #[test]
    fn network_mounts_init_ulimits() {
        let mut i = input();
        i.network = Network::Host;
        i.init = Some("/usr/bin/berth".into());
        i.ulimits = vec![
            Ulimit {
                name: "nofile".into(),
                soft: 100,
                hard: 200,
            },
            Ulimit {
                name: "nproc".into(),
                soft: -1,
                hard: -1,
            },
        ];
        i.mounts = vec![
            Mount::bind("/h/x".into(), "/data/sub", true),
            Mount::bind("/h/d".into(), "/data", false),
            Mount::tmpfs("/dev/shm", "size=1m,exec"),
        ];
        i.readonly_rootfs = true;
        let v = to_json(&i);
        let ns: Vec<&str> = v["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["mount", "uts", "pid", "ipc"]);
        assert_eq!(
            v["process"]["args"],
            json!(["/sbin/docker-init", "--", "sh", "-c", "true"])
        );
        assert_eq!(
            v["process"]["rlimits"],
            json!([{"type": "RLIMIT_NOFILE", "hard": 200, "soft": 100}, {"type": "RLIMIT_NPROC", "hard": u64::MAX, "soft": u64::MAX}])
        );
        assert_eq!(v["root"]["readonly"], true);
        let dests: Vec<&str> = v["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            dests,
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/sys",
                "/sys/fs/cgroup",
                "/dev/mqueue",
                "/data",
                "/data/sub",
                "/dev/shm",
                "/sbin/docker-init"
            ]
        );
        assert_eq!(
            v["mounts"][8]["options"],
            json!(["nosuid", "nodev", "size=1m", "exec"])
        );
        assert_eq!(
            v["mounts"][7]["options"],
            json!(["rbind", "rprivate", "ro"])
        );
        i.sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
        assert!(build_with(&i, &HOST).is_err());
        i.network = Network::Path("/run/netns/x".into());
        let v = to_json(&i);
        assert_eq!(
            v["linux"]["namespaces"][1],
            json!({"type": "network", "path": "/run/netns/x"})
        );
        assert_eq!(v["linux"]["sysctl"]["net.ipv4.ip_forward"], "1");
        let v = serde_json::to_value(
            build_with(
                &i,
                &HostInfo {
                    cgroup_v2: true,
                    ..HOST
                },
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(v["linux"]["namespaces"][5]["type"], "cgroup");
    }
}
