//! Wire types of the Docker Engine API that more than one crate needs.
//!
//! Field names are Docker's (PascalCase). Every field is optional on input, since
//! clients send sparse bodies; `Option`/`Vec` fields serialize as `null`/`[]` like
//! dockerd does (no `skip_serializing_if`), because some clients read fields without
//! checking for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `ContainerConfig` in the spec: the portable part of a container's configuration,
/// also used as the `Config` of an image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(deserialize_with = "null_default")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    #[serde(deserialize_with = "null_default")]
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    pub image: String,
    #[serde(deserialize_with = "null_default")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    pub working_dir: String,
    #[serde(deserialize_with = "string_or_list")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_disabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub on_build: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `HealthConfig` in the spec (durations in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    #[serde(deserialize_with = "null_default")]
    pub test: Option<Vec<String>>,
    pub interval: i64,
    pub timeout: i64,
    pub retries: i64,
    pub start_period: i64,
    pub start_interval: i64,
}

/// One `--ulimit` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// `RestartPolicy` in the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}

/// `LogConfig` in `HostConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            kind: "json-file".into(),
            config: BTreeMap::new(),
        }
    }
}

/// One entry of `HostConfig.Mounts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountSpec {
    pub target: String,
    pub source: String,
    #[serde(rename = "Type")]
    pub kind: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    /// `type=bind` options (propagation, …), kept as sent.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub bind_options: Option<serde_json::Value>,
    /// `type=volume` options, kept as sent.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_options: Option<serde_json::Value>,
    /// `type=tmpfs` options.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub tmpfs_options: Option<TmpfsOptions>,
}

/// `TmpfsOptions` of a mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    /// Size in bytes (0: the kernel's default).
    pub size_bytes: i64,
    /// Permission bits, as an integer (e.g. 1777 octal is 1023).
    pub mode: u32,
    /// Extra `[["noexec"], ["uid", "1000"]]`-style options.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub options: Option<Vec<Vec<String>>>,
}

/// `HostConfig` in the spec: the non-portable part (resources, namespaces, mounts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    // Resources.
    pub cpu_shares: i64,
    pub memory: i64,
    pub memory_reservation: i64,
    pub memory_swap: i64,
    #[serde(deserialize_with = "null_default")]
    pub memory_swappiness: Option<i64>,
    pub nano_cpus: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    #[serde(deserialize_with = "null_default")]
    pub pids_limit: Option<i64>,
    #[serde(deserialize_with = "null_default")]
    pub ulimits: Option<Vec<Ulimit>>,
    #[serde(rename = "OomKillDisable", deserialize_with = "null_default")]
    pub oom_kill_disable: Option<bool>,
    pub cgroup_parent: String,
    #[serde(rename = "BlkioWeight")]
    pub blkio_weight: u16,
    // Resources berth accepts and shows, but does not apply (yet), as dockerd shows them:
    // clients read these keys from inspect without checking for them.
    #[serde(deserialize_with = "null_default")]
    pub blkio_weight_device: Option<Vec<serde_json::Value>>,
    #[serde(deserialize_with = "null_default")]
    pub blkio_device_read_bps: Option<Vec<serde_json::Value>>,
    #[serde(deserialize_with = "null_default")]
    pub blkio_device_write_bps: Option<Vec<serde_json::Value>>,
    #[serde(rename = "BlkioDeviceReadIOps", deserialize_with = "null_default")]
    pub blkio_device_read_iops: Option<Vec<serde_json::Value>>,
    #[serde(rename = "BlkioDeviceWriteIOps", deserialize_with = "null_default")]
    pub blkio_device_write_iops: Option<Vec<serde_json::Value>>,
    pub cpu_realtime_period: i64,
    pub cpu_realtime_runtime: i64,
    #[serde(deserialize_with = "null_default")]
    pub device_cgroup_rules: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub device_requests: Option<Vec<serde_json::Value>>,
    /// Omitted when 0, as dockerd does (deprecated).
    #[serde(rename = "KernelMemoryTCP", skip_serializing_if = "is_zero")]
    pub kernel_memory_tcp: i64,
    pub cpu_count: i64,
    pub cpu_percent: i64,
    #[serde(rename = "IOMaximumIOps")]
    pub io_maximum_iops: u64,
    #[serde(rename = "IOMaximumBandwidth")]
    pub io_maximum_bandwidth: u64,
    /// `--oom-score-adj` (-1000..=1000), applied to the container's init.
    pub oom_score_adj: i64,

    // Mounts and filesystem.
    #[serde(deserialize_with = "null_default")]
    pub binds: Option<Vec<String>>,
    #[serde(rename = "ContainerIDFile")]
    pub container_id_file: String,
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub storage_opt: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "null_default")]
    pub mounts: Option<Vec<MountSpec>>,
    #[serde(deserialize_with = "null_default")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub readonly_rootfs: bool,
    #[serde(deserialize_with = "null_default")]
    pub volumes_from: Option<Vec<String>>,
    pub volume_driver: String,

    // Namespaces and networking.
    pub network_mode: String,
    #[serde(deserialize_with = "null_default")]
    pub links: Option<Vec<String>>,
    pub cgroup: String,
    #[serde(deserialize_with = "null_default")]
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub publish_all_ports: bool,
    #[serde(deserialize_with = "null_default")]
    pub dns: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub dns_options: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub dns_search: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub extra_hosts: Option<Vec<String>>,
    pub ipc_mode: String,
    pub pid_mode: String,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub userns_mode: String,
    pub cgroupns_mode: String,
    pub shm_size: i64,
    #[serde(deserialize_with = "null_default")]
    pub sysctls: Option<BTreeMap<String, String>>,

    // Security.
    pub privileged: bool,
    #[serde(deserialize_with = "null_default")]
    pub cap_add: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub cap_drop: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub security_opt: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub group_add: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub devices: Option<Vec<serde_json::Value>>,
    #[serde(deserialize_with = "null_default")]
    pub masked_paths: Option<Vec<String>>,
    #[serde(deserialize_with = "null_default")]
    pub readonly_paths: Option<Vec<String>>,

    // Lifecycle.
    pub auto_remove: bool,
    pub restart_policy: RestartPolicy,
    #[serde(deserialize_with = "null_default")]
    pub init: Option<bool>,
    pub log_config: LogConfig,
    #[serde(deserialize_with = "null_default")]
    pub console_size: Option<Vec<u32>>,
    pub runtime: String,
    pub isolation: String,
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub annotations: Option<BTreeMap<String, String>>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One host binding of a published port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// Body of `POST /containers/create`: a `ContainerConfig` with `HostConfig` and
/// `NetworkingConfig` beside its fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateBody {
    #[serde(flatten)]
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    #[serde(deserialize_with = "null_default")]
    pub networking_config: Option<serde_json::Value>,
}

/// Body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecCreateBody {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(deserialize_with = "null_default")]
    pub console_size: Option<Vec<u32>>,
    pub detach_keys: String,
    pub tty: bool,
    #[serde(deserialize_with = "null_default")]
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    pub privileged: bool,
    pub user: String,
    pub working_dir: String,
}

/// Body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartBody {
    pub detach: bool,
    pub tty: bool,
    #[serde(deserialize_with = "null_default")]
    pub console_size: Option<Vec<u32>>,
}

/// Accepts `null` where a default value is meant (clients send `"Env": null`).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `Cmd`, `Entrypoint` and `Healthcheck.Test` may be a string (older clients) or a list.
fn string_or_list<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StringOrList {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<StringOrList>::deserialize(d)? {
        None => None,
        Some(StringOrList::One(s)) => Some(vec![s]),
        Some(StringOrList::Many(v)) => Some(v),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_accepts_docker_cli_shape() {
        let body = r#"{"Hostname":"","Env":null,"Cmd":["true"],"Image":"busybox",
            "Entrypoint":null,"Labels":{"a":"b"},
            "HostConfig":{"Memory":67108864,"PidsLimit":null,"NetworkMode":"none",
            "Ulimits":[{"Name":"nofile","Soft":100,"Hard":200}],"AutoRemove":true},
            "NetworkingConfig":{"EndpointsConfig":{}}}"#;
        let b: ContainerCreateBody = serde_json::from_str(body).unwrap();
        assert_eq!(b.config.image, "busybox");
        assert_eq!(b.config.cmd, Some(vec!["true".to_string()]));
        assert_eq!(b.host_config.memory, 64 << 20);
        assert_eq!(b.host_config.network_mode, "none");
        assert!(b.host_config.auto_remove);
        assert_eq!(b.host_config.ulimits.unwrap()[0].hard, 200);
    }

    #[test]
    fn host_config_has_dockerd_keys() {
        // Keys dockerd always writes in inspect's HostConfig, which clients index directly.
        let v = serde_json::to_value(HostConfig::default()).unwrap();
        for key in [
            "ContainerIDFile",
            "Cgroup",
            "Links",
            "OomScoreAdj",
            "BlkioWeightDevice",
            "BlkioDeviceReadBps",
            "BlkioDeviceWriteIOps",
            "CpuRealtimePeriod",
            "DeviceCgroupRules",
            "DeviceRequests",
            "CpuCount",
            "CpuPercent",
            "IOMaximumIOps",
            "IOMaximumBandwidth",
            "PidsLimit",
            "MemorySwappiness",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        for omitted in ["KernelMemoryTCP", "Annotations", "StorageOpt"] {
            assert!(v.get(omitted).is_none(), "{omitted}");
        }
        let hc: HostConfig =
            serde_json::from_str(r#"{"OomScoreAdj":500,"Links":null,"KernelMemoryTCP":0}"#)
                .unwrap();
        assert_eq!(hc.oom_score_adj, 500);
    }

    #[test]
    fn cmd_may_be_a_string() {
        let c: ContainerConfig = serde_json::from_str(r#"{"Cmd":"echo hi"}"#).unwrap();
        assert_eq!(c.cmd, Some(vec!["echo hi".to_string()]));
    }
}
