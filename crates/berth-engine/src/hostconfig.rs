//! Checks of a create request beyond the resource limits, with dockerd's messages: the
//! namespace modes, `HostConfig.Mounts`, log drivers, exposed ports. What berth cannot do
//! yet is a 501 (never silently ignored); resource knobs it does not apply yet are
//! discarded with a warning in the create response, as dockerd does when the kernel lacks
//! a feature.

use berth_api::types::{ContainerConfig, HostConfig, MountSpec};

use crate::error::{EngineError, Result};

fn invalid<T>(msg: String) -> Result<T> {
    Err(EngineError::Invalid(msg))
}

fn not_yet<T>(msg: String) -> Result<T> {
    Err(EngineError::NotImplemented(msg))
}

/// The IPC, PID, UTS, user and cgroup namespace modes: berth gives every container its
/// own namespaces (cgroup: dockerd's default for the host's cgroup version).
pub fn check_namespace_modes(hc: &HostConfig) -> Result<()> {
    match hc.ipc_mode.as_str() {
        "" | "private" | "shareable" | "none" => {}
        "host" => return not_yet("IPC mode host is not supported yet".into()),
        m if m.starts_with("container:") => {
            return not_yet(format!("IPC mode {m} is not supported yet"))
        }
        m => return invalid(format!("invalid IPC mode: {m}")),
    }
    match hc.pid_mode.as_str() {
        "" => {}
        m if m == "host" || m.starts_with("container:") => {
            return not_yet(format!("PID mode {m} is not supported yet"))
        }
        m => return invalid(format!("invalid PID mode: {m}")),
    }
    match hc.uts_mode.as_str() {
        "" => {}
        "host" => return not_yet("UTS mode host is not supported yet".into()),
        m => return invalid(format!("invalid UTS mode: {m}")),
    }
    match hc.userns_mode.as_str() {
        // berth does no user namespace remapping: "host" is what every container gets.
        "" | "host" => {}
        m => return invalid(format!("invalid USER mode: {m}")),
    }
    let default = if crate::system::cgroup_version() == "2" {
        "private"
    } else {
        "host"
    };
    match hc.cgroupns_mode.as_str() {
        "" => {}
        m if m == default => {}
        m @ ("private" | "host") => {
            return not_yet(format!(
                "cgroup namespace mode {m} is not supported yet (berth uses {default} on this host)"
            ))
        }
        m => return invalid(format!("invalid cgroup namespace mode: {m}")),
    }
    match hc.isolation.as_str() {
        "" | "default" => {}
        m => {
            return invalid(format!(
                "invalid isolation: {m:?}: only \"default\" is supported on linux"
            ))
        }
    }
    Ok(())
}

/// Devices, links, volumes: not there yet.
pub fn check_unsupported(hc: &HostConfig) -> Result<()> {
    let some = |v: &Option<Vec<_>>| v.as_ref().is_some_and(|v: &Vec<_>| !v.is_empty());
    if some(&hc.devices) {
        return not_yet("devices (--device) are not supported yet".into());
    }
    if some(&hc.device_requests) {
        return not_yet("device requests (--gpus) are not supported yet".into());
    }
    if hc
        .device_cgroup_rules
        .as_ref()
        .is_some_and(|r| !r.is_empty())
    {
        return not_yet("device cgroup rules are not supported yet".into());
    }
    if hc.links.as_ref().is_some_and(|l| !l.is_empty()) {
        return not_yet("links are not supported yet".into());
    }
    if hc.volumes_from.as_ref().is_some_and(|v| !v.is_empty()) {
        return not_yet("volumes (--volumes-from) are not supported yet".into());
    }
    if !hc.volume_driver.is_empty() {
        return not_yet("volume drivers are not supported yet".into());
    }
    match hc.log_config.kind.as_str() {
        // berth's shim always writes the json-file log; `local` and `none` read the same.
        "" | "json-file" | "local" | "none" => {}
        d @ ("syslog" | "journald" | "gelf" | "fluentd" | "awslogs" | "splunk" | "etwlogs"
        | "gcplogs" | "logentries") => {
            return not_yet(format!(
                "log driver {d} is not supported yet: berth writes json-file logs"
            ))
        }
        d => return invalid(format!("logger: no log driver named '{d}' is registered")),
    }
    Ok(())
}

/// A `HostConfig.Mounts` entry that berth sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountPoint {
    /// A host path bound into the container.
    Bind {
        source: String,
        target: String,
        read_only: bool,
    },
    /// A tmpfs with mount options (`size=…,mode=…`).
    Tmpfs { target: String, options: String },
}

/// Checks one `HostConfig.Mounts` entry the way dockerd's mount parser does.
pub fn mount_point(m: &MountSpec) -> Result<MountPoint> {
    let kind = m.kind.as_str();
    let bad = |what: &str| -> Result<MountPoint> {
        invalid(format!("invalid mount config for type {kind:?}: {what}"))
    };
    if m.target.is_empty() {
        return bad("field Target must not be empty");
    }
    if !m.target.starts_with('/') {
        return bad(&format!(
            "invalid mount path: '{}' mount path must be absolute",
            m.target
        ));
    }
    match kind {
        "bind" => {
            if m.source.is_empty() {
                return bad("field Source must not be empty");
            }
            if !m.source.starts_with('/') {
                return bad(&format!(
                    "invalid mount path: '{}' mount path must be absolute",
                    m.source
                ));
            }
            if !std::path::Path::new(&m.source).exists() {
                return bad(&format!("bind source path does not exist: {}", m.source));
            }
            Ok(MountPoint::Bind {
                source: m.source.clone(),
                target: m.target.clone(),
                read_only: m.read_only,
            })
        }
        "tmpfs" => {
            if !m.source.is_empty() {
                return bad("field Source must not be specified");
            }
            let mut opts = Vec::new();
            if m.read_only {
                opts.push("ro".to_string());
            }
            if let Some(t) = &m.tmpfs_options {
                if t.size_bytes < 0 {
                    return bad("invalid tmpfs size");
                }
                if t.size_bytes > 0 {
                    opts.push(format!("size={}", t.size_bytes));
                }
                if t.mode != 0 {
                    if t.mode > 0o7777 {
                        return bad("invalid tmpfs mode");
                    }
                    opts.push(format!("mode={:o}", t.mode));
                }
                for o in t.options.iter().flatten() {
                    match o.as_slice() {
                        [flag] if matches!(flag.as_str(), "exec" | "noexec") => {
                            opts.push(flag.clone())
                        }
                        _ => return bad(&format!("unsupported tmpfs option {o:?}")),
                    }
                }
            }
            Ok(MountPoint::Tmpfs {
                target: m.target.clone(),
                options: opts.join(","),
            })
        }
        "volume" | "image" | "cluster" => not_yet(format!("{kind} mounts are not supported yet")),
        "npipe" => bad("npipe mounts are only supported on windows"),
        _ => invalid(format!("mount type unknown: {kind:?}")),
    }
}

/// Every `HostConfig.Mounts` entry, checked, with duplicate targets refused.
pub fn mount_points(hc: &HostConfig) -> Result<Vec<MountPoint>> {
    let mut out = Vec::new();
    let mut targets = std::collections::BTreeSet::new();
    for m in hc.mounts.iter().flatten() {
        let p = mount_point(m)?;
        if !targets.insert(m.target.trim_end_matches('/').to_string()) {
            return invalid(format!("Duplicate mount point: {}", m.target));
        }
        out.push(p);
    }
    Ok(out)
}

/// `ExposedPorts` keys (`80`, `80/tcp`, `7000-7010/udp`) and the `{}` values of
/// `ExposedPorts` and `Volumes` (Go decodes them into struct{}: anything but an object is
/// a 400 there).
pub fn check_config(c: &ContainerConfig) -> Result<()> {
    for (port, v) in c.exposed_ports.iter().flatten() {
        if !v.is_object() {
            return invalid(format!(
                "invalid JSON: ExposedPorts[{port:?}] must be an object"
            ));
        }
        let (range, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        let valid_port = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
        let ok_range = match range.split_once('-') {
            Some((a, b)) => {
                valid_port(a) && valid_port(b) && a.parse::<u16>().ok() <= b.parse::<u16>().ok()
            }
            None => valid_port(range),
        };
        if !ok_range || !matches!(proto, "tcp" | "udp" | "sctp") {
            return invalid(format!("invalid port specification: {port:?}"));
        }
    }
    for (path, v) in c.volumes.iter().flatten() {
        if !v.is_object() {
            return invalid(format!("invalid JSON: Volumes[{path:?}] must be an object"));
        }
    }
    Ok(())
}

/// Resource settings berth does not apply yet: dropped with a warning, as dockerd drops
/// what the host's kernel cannot do.
pub fn discarded(hc: &HostConfig) -> Vec<String> {
    let mut w = Vec::new();
    let mut discard = |what: &str| {
        w.push(format!(
            "berth does not apply {what} yet: the setting is discarded."
        ))
    };
    let nonempty = |v: &Option<Vec<serde_json::Value>>| v.as_ref().is_some_and(|v| !v.is_empty());
    if hc.blkio_weight > 0
        || nonempty(&hc.blkio_weight_device)
        || nonempty(&hc.blkio_device_read_bps)
        || nonempty(&hc.blkio_device_write_bps)
        || nonempty(&hc.blkio_device_read_iops)
        || nonempty(&hc.blkio_device_write_iops)
    {
        discard("block I/O weights and limits");
    }
    if hc.cpu_realtime_period > 0 || hc.cpu_realtime_runtime > 0 {
        discard("CPU real-time scheduler limits");
    }
    if hc.memory_swappiness.is_some_and(|s| s >= 0) {
        discard("memory swappiness");
    }
    if hc.oom_kill_disable == Some(true) {
        discard("the OOM killer disable flag");
    }
    if hc.kernel_memory_tcp > 0 {
        discard("kernel TCP memory limits");
    }
    if !hc.cgroup_parent.is_empty() {
        discard("a cgroup parent (containers live under /berth)");
    }
    if hc.cpu_count > 0
        || hc.cpu_percent > 0
        || hc.io_maximum_iops > 0
        || hc.io_maximum_bandwidth > 0
    {
        discard("Windows CPU and I/O limits");
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::types::TmpfsOptions;

    #[test]
    fn namespace_modes() {
        let hc = |f: &dyn Fn(&mut HostConfig)| {
            let mut h = HostConfig::default();
            f(&mut h);
            check_namespace_modes(&h)
        };
        assert!(hc(&|_| {}).is_ok());
        assert!(hc(&|h| h.ipc_mode = "shareable".into()).is_ok());
        assert!(hc(&|h| h.userns_mode = "host".into()).is_ok());
        assert!(matches!(
            hc(&|h| h.pid_mode = "host".into()),
            Err(EngineError::NotImplemented(_))
        ));
        assert!(matches!(
            hc(&|h| h.ipc_mode = "x".into()),
            Err(EngineError::Invalid(m)) if m == "invalid IPC mode: x"
        ));
        assert!(matches!(
            hc(&|h| h.cgroupns_mode = "x".into()),
            Err(EngineError::Invalid(_))
        ));
        assert!(matches!(
            hc(&|h| h.uts_mode = "host".into()),
            Err(EngineError::NotImplemented(_))
        ));
    }

    #[test]
    fn mounts() {
        let m = |kind: &str, source: &str, target: &str| MountSpec {
            kind: kind.into(),
            source: source.into(),
            target: target.into(),
            ..Default::default()
        };
        assert_eq!(
            mount_point(&m("bind", "/tmp", "/x")).unwrap(),
            MountPoint::Bind {
                source: "/tmp".into(),
                target: "/x".into(),
                read_only: false
            }
        );
        assert!(mount_point(&m("bind", "/nonexistent-berth", "/x"))
            .unwrap_err()
            .to_string()
            .contains("bind source path does not exist"));
        assert!(mount_point(&m("bind", "/tmp", "x")).is_err());
        assert!(mount_point(&m("tmpfs", "/tmp", "/x")).is_err());
        assert!(matches!(
            mount_point(&m("volume", "v", "/x")),
            Err(EngineError::NotImplemented(_))
        ));
        assert!(matches!(
            mount_point(&m("weird", "", "/x")),
            Err(EngineError::Invalid(_))
        ));
        let mut t = m("tmpfs", "", "/t");
        t.tmpfs_options = Some(TmpfsOptions {
            size_bytes: 1 << 20,
            mode: 0o1777,
            options: Some(vec![vec!["noexec".into()]]),
        });
        assert_eq!(
            mount_point(&t).unwrap(),
            MountPoint::Tmpfs {
                target: "/t".into(),
                options: "size=1048576,mode=1777,noexec".into()
            }
        );
        let hc = HostConfig {
            mounts: Some(vec![m("tmpfs", "", "/t"), m("tmpfs", "", "/t/")]),
            ..Default::default()
        };
        assert!(mount_points(&hc)
            .unwrap_err()
            .to_string()
            .contains("Duplicate"));
    }

    #[test]
    fn config_ports_and_volumes() {
        let c = |j: &str| serde_json::from_str::<ContainerConfig>(j).unwrap();
        assert!(check_config(&c(
            r#"{"ExposedPorts":{"80/tcp":{},"53/udp":{},"7000-7010":{}}}"#
        ))
        .is_ok());
        assert!(check_config(&c(r#"{"ExposedPorts":{"k":{}}}"#)).is_err());
        assert!(check_config(&c(r#"{"ExposedPorts":{"80":"v"}}"#)).is_err());
        assert!(check_config(&c(r#"{"ExposedPorts":{"80/xyz":{}}}"#)).is_err());
        assert!(check_config(&c(r#"{"Volumes":{"/data":{}}}"#)).is_ok());
        assert!(check_config(&c(r#"{"Volumes":{"/data":5}}"#)).is_err());
    }

    #[test]
    fn discards_warn() {
        let hc = HostConfig {
            blkio_weight: 300,
            memory_swappiness: Some(10),
            ..Default::default()
        };
        assert_eq!(discarded(&hc).len(), 2);
        assert!(discarded(&HostConfig {
            memory_swappiness: Some(-1),
            ..Default::default()
        })
        .is_empty());
    }
}
