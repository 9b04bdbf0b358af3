//! Getting a container ready to start: its rootfs mount, `/etc/hostname`, `/etc/hosts`,
//! `/etc/resolv.conf`, and the OCI runtime spec in `bundle/config.json`.

use std::path::{Path, PathBuf};

use berth_runtime::spec::{self as rspec, SpecInput};

use crate::container::{network_mode, parse_bind, NetworkMode};
use crate::error::{EngineError, Result};
use crate::record::ContainerRecord;
use crate::Engine;

/// dockerd's /etc/hosts for a container without a network endpoint.
const HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`) in the container's rootfs to
/// the shim's `uid:gid[:extra,gids]` form.
pub fn user_string(rootfs: &Path, user: &str) -> Result<String> {
    let (uid, gid, extra) = berth_runtime::user::resolve_user(rootfs, user)
        .map_err(|e| EngineError::Invalid(e.to_string()))?;
    let mut s = format!("{uid}:{gid}");
    if !extra.is_empty() {
        let extra: Vec<String> = extra.iter().map(u32::to_string).collect();
        s.push(':');
        s.push_str(&extra.join(","));
    }
    Ok(s)
}

/// The host's resolv.conf, without loopback name servers (unreachable from a container's
/// own network namespace), as dockerd filters it.
fn resolv_conf(host_network: bool) -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    if host_network {
        return host;
    }
    host.lines()
        .filter(|l| {
            let mut f = l.split_whitespace();
            !(f.next() == Some("nameserver")
                && f.next()
                    .is_some_and(|ip| ip.starts_with("127.") || ip == "::1"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `--dns`, `--dns-search` and `--dns-option` replace the host's `nameserver`,
/// `search`/`domain` and `options` lines, each only when given, as dockerd does.
fn with_dns_settings(host: &str, dns: &[String], search: &[String], options: &[String]) -> String {
    let mut out = String::new();
    for line in host.lines() {
        let key = line.split_whitespace().next().unwrap_or_default();
        let replaced = match key {
            "nameserver" => !dns.is_empty(),
            "search" | "domain" => !search.is_empty(),
            "options" => !options.is_empty(),
            _ => false,
        };
        if !replaced {
            out.push_str(line);
            out.push('\n');
        }
    }
    for ns in dns {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Mounts the rootfs, writes the network files and the OCI spec.
pub(crate) async fn prepare(engine: &Engine, rec: &ContainerRecord, dir: &Path) -> Result<()> {
    let rec = rec.clone();
    let dir = dir.to_path_buf();
    let exe = engine.config().exe.clone();
    tokio::task::block_in_place(move || {
        berth_image::rootfs::mount(&rec.lower_dir, &dir)?;
        let result = write_files_and_spec(&rec, &dir, &exe);
        if result.is_err() {
            let _ = berth_image::rootfs::unmount(&dir);
        }
        result
    })
}

fn write_files_and_spec(rec: &ContainerRecord, dir: &Path, exe: &Path) -> Result<()> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| EngineError::system(&what, e)
    };
    let mode = network_mode(&rec.host_config)?;
    let host_network = mode == NetworkMode::Host;
    let hostname = rec.config.hostname.clone();
    std::fs::write(dir.join("hostname"), format!("{hostname}\n"))
        .map_err(io("cannot write hostname"))?;
    let mut hosts = if host_network {
        std::fs::read_to_string("/etc/hosts").unwrap_or_else(|_| HOSTS.to_string())
    } else {
        HOSTS.to_string()
    };
    for extra in rec.host_config.extra_hosts.iter().flatten() {
        if let Some((name, ip)) = extra.split_once(':') {
            hosts.push_str(&format!("{ip}\t{name}\n"));
        }
    }
    std::fs::write(dir.join("hosts"), hosts).map_err(io("cannot write hosts"))?;
    let resolv = with_dns_settings(
        &resolv_conf(host_network),
        rec.host_config.dns.as_deref().unwrap_or_default(),
        rec.host_config.dns_search.as_deref().unwrap_or_default(),
        rec.host_config.dns_options.as_deref().unwrap_or_default(),
    );
    std::fs::write(dir.join("resolv.conf"), resolv).map_err(io("cannot write resolv.conf"))?;

    let rootfs = dir.join("rootfs");
    // dockerd creates the working directory (and its parents) in the rootfs.
    if !rec.config.working_dir.is_empty() {
        let wd = berth_runtime::user::secure_join(&rootfs, &rec.config.working_dir);
        if wd.exists() && !wd.is_dir() {
            return Err(EngineError::System(format!(
                "Cannot mkdir: {} is not a directory",
                rec.config.working_dir
            )));
        }
        std::fs::create_dir_all(&wd).map_err(io("cannot create the working directory"))?;
    }
    let (uid, gid, mut additional_gids) =
        berth_runtime::user::resolve_user(&rootfs, &rec.config.user)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
    for g in rec.host_config.group_add.iter().flatten() {
        match g.parse::<u32>() {
            Ok(n) => additional_gids.push(n),
            Err(_) => {
                let (_, gid, _) = berth_runtime::user::resolve_user(&rootfs, &format!("0:{g}"))
                    .map_err(|e| EngineError::Invalid(e.to_string()))?;
                additional_gids.push(gid);
            }
        }
    }
    let mut env = rec.config.env.clone().unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(
            0,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        );
    }
    if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
        env.insert(1.min(env.len()), format!("HOSTNAME={hostname}"));
    }
    if rec.config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", home_of(&rootfs, uid)));
    }
    let mut mounts = vec![
        rspec::Mount::bind(dir.join("hostname"), "/etc/hostname", false),
        rspec::Mount::bind(dir.join("hosts"), "/etc/hosts", false),
        rspec::Mount::bind(dir.join("resolv.conf"), "/etc/resolv.conf", false),
    ];
    for b in rec.host_config.binds.iter().flatten() {
        let b = parse_bind(b)?;
        if !Path::new(&b.source).exists() {
            std::fs::create_dir_all(&b.source).map_err(io("cannot create the bind source"))?;
        }
        mounts.push(rspec::Mount::bind(
            b.source.into(),
            &b.destination,
            b.read_only,
        ));
    }
    for (dest, opts) in rec.host_config.tmpfs.iter().flatten() {
        mounts.push(rspec::Mount::tmpfs(dest, opts));
    }
    // `--mount`: checked at create; a bind source that vanished since is an error now.
    for m in crate::hostconfig::mount_points(&rec.host_config)? {
        match m {
            crate::hostconfig::MountPoint::Bind {
                source,
                target,
                read_only,
            } => mounts.push(rspec::Mount::bind(source.into(), &target, read_only)),
            crate::hostconfig::MountPoint::Tmpfs { target, options } => {
                mounts.push(rspec::Mount::tmpfs(&target, &options))
            }
        }
    }
    let init = rec
        .host_config
        .init
        .unwrap_or(false)
        .then(|| init_binary(exe));
    let input = SpecInput {
        id: rec.id.clone(),
        rootfs: rootfs.clone(),
        args: rec.command_line(),
        env,
        cwd: if rec.config.working_dir.is_empty() {
            "/".into()
        } else {
            rec.config.working_dir.clone()
        },
        uid,
        gid,
        additional_gids,
        hostname,
        tty: rec.config.tty,
        open_stdin: rec.config.open_stdin,
        memory: rec.host_config.memory,
        memory_swap: rec.host_config.memory_swap,
        memory_reservation: rec.host_config.memory_reservation,
        nano_cpus: rec.host_config.nano_cpus,
        cpu_shares: rec.host_config.cpu_shares,
        cpu_period: rec.host_config.cpu_period,
        cpu_quota: rec.host_config.cpu_quota,
        cpuset_cpus: rec.host_config.cpuset_cpus.clone(),
        cpuset_mems: rec.host_config.cpuset_mems.clone(),
        pids_limit: rec.host_config.pids_limit,
        ulimits: rec
            .host_config
            .ulimits
            .iter()
            .flatten()
            .map(|u| rspec::Ulimit {
                name: u.name.clone(),
                soft: u.soft,
                hard: u.hard,
            })
            .collect(),
        network: if host_network {
            rspec::Network::Host
        } else {
            rspec::Network::None
        },
        mounts,
        readonly_rootfs: rec.host_config.readonly_rootfs,
        privileged: rec.host_config.privileged,
        cap_add: rec.host_config.cap_add.clone().unwrap_or_default(),
        cap_drop: rec.host_config.cap_drop.clone().unwrap_or_default(),
        security_opt: rec.host_config.security_opt.clone().unwrap_or_default(),
        sysctls: rec.host_config.sysctls.clone().unwrap_or_default(),
        masked_paths: rec.host_config.masked_paths.clone(),
        readonly_paths: rec.host_config.readonly_paths.clone(),
        init,
        shm_size: rec.host_config.shm_size,
        // Checked to be within -1000..=1000 at create.
        oom_score_adj: rec.host_config.oom_score_adj.clamp(-1000, 1000) as i32,
    };
    let spec = rspec::build(&input).map_err(|e| EngineError::Invalid(e.to_string()))?;
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).map_err(io("cannot create the bundle"))?;
    let bytes = serde_json::to_vec(&spec).map_err(|e| EngineError::system("encode spec", e))?;
    write_replace(&bundle.join("config.json"), &bytes).map_err(io("cannot write the spec"))?;
    Ok(())
}

/// Replaces `path` atomically (temp file, rename) without an fsync: config.json is
/// rewritten at every start, right before the runtime reads it, so it never needs to
/// survive a power loss (an fsync cost ~0.5 ms on every start).
fn write_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The home directory of `uid` in the container's /etc/passwd, `/` if unknown (dockerd).
fn home_of(rootfs: &Path, uid: u32) -> String {
    std::fs::read_to_string(rootfs.join("etc/passwd"))
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 6 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_string())
            })
        })
        .unwrap_or_else(|| "/".into())
}

/// The binary `--init` mounts at /sbin/docker-init. It runs inside the container, where
/// the host's libraries are absent, so it must be static: dockerd ships tini built static
/// as `docker-init`; berth uses the same when the host has it (Debian's `tini` package),
/// and its own `berth init` when the berth binary is itself static.
pub fn init_binary(exe: &Path) -> PathBuf {
    const STATIC_INITS: &[&str] = &[
        "/usr/libexec/docker/docker-init",
        "/usr/local/bin/docker-init",
        "/usr/bin/docker-init",
        "/usr/bin/tini-static",
    ];
    if !is_dynamic_elf(exe) {
        return exe.to_path_buf();
    }
    STATIC_INITS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file() && !is_dynamic_elf(p))
        .unwrap_or_else(|| exe.to_path_buf())
}

/// Whether an ELF file asks for a program interpreter (PT_INTERP), i.e. is dynamically
/// linked. Unreadable or non-ELF files count as dynamic: they are not safe choices.
fn is_dynamic_elf(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return true;
    };
    elf_has_interp(&bytes).unwrap_or(true)
}

/// Scans a 64-bit little-endian ELF's program headers for PT_INTERP.
fn elf_has_interp(b: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if b.get(..4)? != b"\x7fELF" || *b.get(4)? != 2 || *b.get(5)? != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        if u32_at(phoff + i * phentsize)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_settings_replace_host_lines() {
        let host = "# generated\nnameserver 10.0.0.1\nsearch corp\noptions ndots:2\n";
        assert_eq!(with_dns_settings(host, &[], &[], &[]), host);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            with_dns_settings(host, &s(&["1.1.1.1"]), &s(&["a.b", "c"]), &[]),
            "# generated\noptions ndots:2\nnameserver 1.1.1.1\nsearch a.b c\n"
        );
        assert_eq!(
            with_dns_settings(host, &[], &[], &s(&["timeout:1"])),
            "# generated\nnameserver 10.0.0.1\nsearch corp\noptions timeout:1\n"
        );
    }
}
