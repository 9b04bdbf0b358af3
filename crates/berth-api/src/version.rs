//! API versions and the `GET /version` document.
//!
//! berth speaks API 1.50 (what the Docker CLI 28 asks for by default) and accepts every
//! version down to 1.24, dockerd's minimum. Clients negotiate from the `Api-Version`
//! header of `/_ping` and the `ApiVersion` of `/version`.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::error::ApiError;

/// The highest (and default) API version berth serves.
pub const API_VERSION: &str = "1.50";
/// The lowest API version berth accepts, as dockerd (`MinAPIVersion`).
pub const MIN_API_VERSION: &str = "1.24";

/// What the engine knows about itself that the API layer cannot know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineFacts {
    /// The engine's own version (berth's crate version).
    pub version: String,
    /// `uname -r`, from /proc/sys/kernel/osrelease.
    pub kernel_version: String,
}

/// The commit berth was built from: set `BERTH_GIT_COMMIT` at build time, else "unknown".
const GIT_COMMIT: &str = match option_env!("BERTH_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// The build time (dockerd's form: `2025-05-30T12:07:26.000000000+00:00`): set
/// `BERTH_BUILD_TIME` at build time, else empty.
const BUILD_TIME: &str = match option_env!("BERTH_BUILD_TIME") {
    Some(t) => t,
    None => "",
};

/// berth is not written in Go; clients only print this field.
const GO_VERSION: &str = "n/a (rust)";

/// Go's `GOARCH` name of this machine, which is what clients expect in `Arch`.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        // arm, s390x, riscv64… are spelled the same in Go.
        other => other,
    }
}

/// The body of `GET /version`, in dockerd's shape and key order (the `Details` keys are
/// sorted, as Go encodes a map). dockerd omits the top-level `Experimental` when false.
pub fn version_json(facts: &EngineFacts) -> Value {
    json!({
        "Platform": { "Name": "Berth Engine" },
        "Components": [{
            "Name": "Engine",
            "Version": facts.version,
            "Details": {
                "ApiVersion": API_VERSION,
                "Arch": go_arch(),
                "BuildTime": BUILD_TIME,
                "Experimental": "false",
                "GitCommit": GIT_COMMIT,
                "GoVersion": GO_VERSION,
                "KernelVersion": facts.kernel_version,
                "MinAPIVersion": MIN_API_VERSION,
                "Os": "linux",
            },
        }],
        "Version": facts.version,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": GIT_COMMIT,
        "GoVersion": GO_VERSION,
        "Os": "linux",
        "Arch": go_arch(),
        "KernelVersion": facts.kernel_version,
        "BuildTime": BUILD_TIME,
    })
}

/// Compares dotted versions the way moby's `api/types/versions.compare` does: part by
/// part as integers, a missing or non-numeric part counting as 0 (so "1.50" == "1.50.0").
pub fn compare(a: &str, b: &str) -> Ordering {
    let part = |s: Option<&str>| -> u64 {
        let s = s.unwrap_or("");
        if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
            // Go's Atoi saturates on overflow; all-digit strings only fail that way.
            s.parse().unwrap_or(u64::MAX)
        } else {
            0
        }
    };
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    loop {
        let (x, y) = (xs.next(), ys.next());
        if x.is_none() && y.is_none() {
            return Ordering::Equal;
        }
        match part(x).cmp(&part(y)) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
}

/// Checks a requested API version with dockerd's messages (its `VersionMiddleware`).
pub fn check(version: &str) -> Result<(), ApiError> {
    if compare(version, MIN_API_VERSION) == Ordering::Less {
        return Err(ApiError::invalid(format!(
            "client version {version} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    if compare(version, API_VERSION) == Ordering::Greater {
        return Err(ApiError::invalid(format!(
            "client version {version} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_like_moby() {
        assert_eq!(compare("1.50", "1.50"), Ordering::Equal);
        assert_eq!(compare("1.50", "1.50.0"), Ordering::Equal);
        assert_eq!(compare("1.9", "1.24"), Ordering::Less);
        assert_eq!(compare("1.100", "1.50"), Ordering::Greater);
        assert_eq!(compare("2", "1.50"), Ordering::Greater);
        assert_eq!(compare("1..50", "1.0.50"), Ordering::Equal);
        assert_eq!(
            compare("1.99999999999999999999999", "1.50"),
            Ordering::Greater
        );
    }

    #[test]
    fn check_bounds() {
        assert!(check("1.24").is_ok());
        assert!(check("1.41").is_ok());
        assert!(check("1.50").is_ok());
        assert_eq!(
            check("1.51").unwrap_err().message(),
            "client version 1.51 is too new. Maximum supported API version is 1.50"
        );
        let old = check("1.23").unwrap_err();
        assert_eq!(old.status(), 400);
        assert_eq!(
            old.message(),
            "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
        );
    }

    #[test]
    fn version_document() {
        let v = version_json(&EngineFacts {
            version: "0.1.0".into(),
            kernel_version: "6.8.0".into(),
        });
        assert_eq!(v["Version"], "0.1.0");
        assert_eq!(v["ApiVersion"], "1.50");
        assert_eq!(v["MinAPIVersion"], "1.24");
        assert_eq!(v["Os"], "linux");
        assert_eq!(v["KernelVersion"], "6.8.0");
        assert_eq!(v["Platform"]["Name"], "Berth Engine");
        let engine = &v["Components"][0];
        assert_eq!(engine["Name"], "Engine");
        assert_eq!(engine["Version"], "0.1.0");
        assert_eq!(engine["Details"]["ApiVersion"], "1.50");
        assert_eq!(engine["Details"]["KernelVersion"], "6.8.0");
        assert_eq!(v["Arch"], engine["Details"]["Arch"]);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Platform",
                "Components",
                "Version",
                "ApiVersion",
                "MinAPIVersion",
                "GitCommit",
                "GoVersion",
                "Os",
                "Arch",
                "KernelVersion",
                "BuildTime"
            ]
        );
    }

    #[test]
    fn arch_names() {
        let arch = go_arch();
        assert!(!arch.is_empty());
        if cfg!(target_arch = "x86_64") {
            assert_eq!(arch, "amd64");
        }
    }
}
