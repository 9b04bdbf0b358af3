//! Docker seccomp profiles (moby/profiles/seccomp format) → OCI `LinuxSeccomp`, the way
//! moby's `seccomp.setupSeccomp` does it: pick the native arch and its sub-arches from
//! `archMap`, and keep a rule only if its `includes` hold and its `excludes` do not, judged
//! on the container's capabilities, the arch (`amd64`) and the host kernel version.

use oci_spec::runtime::LinuxSeccomp;
use serde::Deserialize;
use serde_json::{json, Value};

/// Docker's default profile (moby/profiles/seccomp/default.json, vendored by moby).
pub const DEFAULT_PROFILE: &str = include_str!("../assets/seccomp-default.json");

/// Errors from profile conversion.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The profile is not valid JSON of the expected shape.
    #[error("decoding seccomp profile failed")]
    Decode(#[source] serde_json::Error),
    /// A rule has an unknown action, operator or architecture.
    #[error("invalid seccomp profile")]
    Convert(#[source] serde_json::Error),
    /// `minKernel` is not `major.minor`.
    #[error("invalid minKernel version: {0}")]
    MinKernel(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_vec")]
    architectures: Vec<String>,
    #[serde(default, deserialize_with = "null_vec")]
    arch_map: Vec<ArchMap>,
    #[serde(default, deserialize_with = "null_vec")]
    syscalls: Vec<Syscall>,
    #[serde(default, deserialize_with = "null_vec")]
    flags: Vec<String>,
    #[serde(default)]
    listener_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    #[serde(default, deserialize_with = "null_vec")]
    sub_architectures: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Syscall {
    #[serde(default, deserialize_with = "null_vec")]
    names: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<Value>>,
    #[serde(default, deserialize_with = "null_filter")]
    includes: Filter,
    #[serde(default, deserialize_with = "null_filter")]
    excludes: Filter,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default, deserialize_with = "null_vec")]
    caps: Vec<String>,
    #[serde(default, deserialize_with = "null_vec")]
    arches: Vec<String>,
    #[serde(default)]
    min_kernel: Option<String>,
}

/// Go's encoding/json reads `null` as an empty slice; serde's `default` only covers absence.
fn null_vec<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn null_filter<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Filter, D::Error> {
    Ok(Option::<Filter>::deserialize(d)?.unwrap_or_default())
}

/// The Go arch name and libseccomp arch of the build target, as moby's profile uses them.
fn native_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("arm64", "SCMP_ARCH_AARCH64"),
        "riscv64" => ("riscv64", "SCMP_ARCH_RISCV64"),
        "s390x" => ("s390x", "SCMP_ARCH_S390X"),
        "powerpc64" => ("ppc64le", "SCMP_ARCH_PPC64LE"),
        _ => ("amd64", "SCMP_ARCH_X86_64"),
    }
}

fn parse_kernel(v: &str) -> Result<(u32, u32), SeccompError> {
    let mut it = v.split('.');
    let major = it.next().and_then(|s| s.parse().ok());
    let minor = it
        .next()
        .map(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|s| s.parse().ok());
    match (major, minor) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(SeccompError::MinKernel(v.to_string())),
    }
}

/// The running kernel's `(major, minor)`, from uname.
pub fn host_kernel() -> (u32, u32) {
    nix::sys::utsname::uname()
        .ok()
        .and_then(|u| parse_kernel(&u.release().to_string_lossy()).ok())
        .unwrap_or((0, 0))
}

/// Converts a docker seccomp profile to the OCI form for a container with capabilities
/// `caps` (`CAP_…` names) on a host running kernel `kernel`.
pub fn convert(
    profile: &str,
    caps: &[String],
    kernel: (u32, u32),
) -> Result<LinuxSeccomp, SeccompError> {
    let p: Profile = serde_json::from_str(profile).map_err(SeccompError::Decode)?;
    let (goarch, scmp_arch) = native_arch();
    // moby: an explicit `architectures` list wins; otherwise the archMap entry for the
    // native arch plus its sub-architectures.
    let mut arches = p.architectures.clone();
    if arches.is_empty() {
        for a in &p.arch_map {
            if a.architecture == scmp_arch {
                arches.push(a.architecture.clone());
                arches.extend(a.sub_architectures.iter().cloned());
            }
        }
    }
    let has = |list: &[String], x: &str| list.iter().any(|s| s == x);
    let mut rules = Vec::new();
    for s in &p.syscalls {
        let ex = &s.excludes;
        if has(&ex.arches, goarch) || ex.caps.iter().any(|c| has(caps, c)) {
            continue;
        }
        if let Some(k) = &ex.min_kernel {
            if kernel >= parse_kernel(k)? {
                continue;
            }
        }
        let inc = &s.includes;
        if !inc.arches.is_empty() && !has(&inc.arches, goarch) {
            continue;
        }
        if !inc.caps.iter().all(|c| has(caps, c)) {
            continue;
        }
        if let Some(k) = &inc.min_kernel {
            if kernel < parse_kernel(k)? {
                continue;
            }
        }
        let mut names = s.names.clone();
        if let Some(n) = &s.name {
            names.push(n.clone());
        }
        let mut rule = json!({ "names": names, "action": s.action });
        if let Some(e) = s.errno_ret {
            rule["errnoRet"] = e.into();
        }
        if let Some(args) = &s.args {
            rule["args"] = Value::Array(args.clone());
        }
        rules.push(rule);
    }
    let mut out = json!({
        "defaultAction": p.default_action,
        "architectures": arches,
        "syscalls": rules,
    });
    if let Some(e) = p.default_errno_ret {
        out["defaultErrnoRet"] = e.into();
    }
    if !p.flags.is_empty() {
        out["flags"] = json!(p.flags);
    }
    if let Some(l) = p.listener_path {
        out["listenerPath"] = l.into();
    }
    serde_json::from_value(out).map_err(SeccompError::Convert)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &LinuxSeccomp) -> Vec<String> {
        s.syscalls()
            .iter()
            .flatten()
            .flat_map(|r| r.names().clone())
            .collect()
    }

    fn caps(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_profile_for_default_caps() {
        let s = convert(
            DEFAULT_PROFILE,
            &caps(&["CAP_CHOWN", "CAP_SYS_CHROOT"]),
            (6, 1),
        )
        .unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(v["defaultErrnoRet"], 1);
        assert_eq!(
            v["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        let n = names(&s);
        for allowed in ["read", "clone3", "chroot", "arch_prctl", "openat2"] {
            assert!(n.iter().any(|x| x == allowed), "{allowed} missing");
        }
        // CAP_SYS_ADMIN-only syscalls stay out; s390/arm-only ones too.
        for denied in [
            "mount",
            "umount2",
            "setns",
            "s390_pci_mmio_read",
            "arm_fadvise64_64",
            "ptrace_not",
        ] {
            assert!(!n.iter().any(|x| x == denied), "{denied} present");
        }
        // clone gets the masked-flags rule (excludes CAP_SYS_ADMIN) and clone3 → ENOSYS.
        let rules = v["syscalls"].as_array().unwrap();
        let clone = rules
            .iter()
            .find(|r| r["names"] == json!(["clone"]))
            .unwrap();
        assert_eq!(clone["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
        let clone3 = rules
            .iter()
            .find(|r| r["names"] == json!(["clone3"]) && r["action"] == "SCMP_ACT_ERRNO")
            .unwrap();
        assert_eq!(clone3["errnoRet"], 38);
    }

    #[test]
    fn sys_admin_changes_rules() {
        let s = convert(DEFAULT_PROFILE, &caps(&["CAP_SYS_ADMIN"]), (6, 1)).unwrap();
        let v = serde_json::to_value(&s).unwrap();
        let rules = v["syscalls"].as_array().unwrap();
        assert!(names(&s).iter().any(|x| x == "mount"));
        assert!(!rules
            .iter()
            .any(|r| r["names"] == json!(["clone"]) && r.get("args").is_some()));
        assert!(!rules.iter().any(|r| r["action"] == "SCMP_ACT_ERRNO"));
    }

    #[test]
    fn min_kernel() {
        let old = convert(DEFAULT_PROFILE, &[], (4, 4)).unwrap();
        let new = convert(DEFAULT_PROFILE, &[], (4, 8)).unwrap();
        assert!(names(&new).len() > names(&old).len());
        assert!(parse_kernel("x").is_err());
        assert_eq!(parse_kernel("6.18.44-fc").unwrap(), (6, 18));
    }

    #[test]
    fn custom_profile() {
        let p = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#;
        let s = convert(p, &[], (6, 1)).unwrap();
        assert_eq!(names(&s), ["mkdir", "mkdirat"]);
        assert!(convert("{", &[], (6, 1)).is_err());
        assert!(convert(r#"{"defaultAction":"BOGUS"}"#, &[], (6, 1)).is_err());
    }
}
