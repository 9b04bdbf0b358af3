//! Resolving `--user` against the container's own `/etc/passwd` and `/etc/group`, the way
//! moby's `user.GetExecUser` (github.com/moby/sys/user) does.

use std::path::{Component, Path, PathBuf};

/// Errors from user resolution. The messages are dockerd's.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A user name that the container's passwd file does not list.
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    /// A group name that the container's group file does not list.
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    /// Reading /etc/passwd or /etc/group failed for another reason than absence.
    #[error("cannot read {0}")]
    Read(String, #[source] std::io::Error),
}

/// Resolves `path` (absolute, inside the container) under `root`, following symlinks
/// without ever leaving `root` (like github.com/cyphar/filepath-securejoin): a link to
/// `/etc/x` or `../../x` stays in the rootfs.
pub fn secure_join(root: &Path, path: &str) -> PathBuf {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    let mut pending: Vec<std::ffi::OsString> = Path::new(path)
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            parts.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&parts);
        candidate.push(&part);
        match std::fs::read_link(&candidate) {
            Ok(target) if links < 40 => {
                links += 1;
                if target.is_absolute() {
                    parts.clear();
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(s) => pending.push(s.to_os_string()),
                        Component::ParentDir => pending.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => parts.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(parts);
    out
}

fn read_db(rootfs: &Path, file: &str) -> Result<String, UserError> {
    match std::fs::read_to_string(secure_join(rootfs, file)) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(UserError::Read(file.to_string(), e)),
    }
}

/// Resolves a docker `--user` value (`""`, `name`, `uid`, `name:group`, `uid:gid`, …) to
/// `(uid, gid, additional gids)`. As in moby, numeric ids need no entry; names must exist;
/// supplementary groups come from /etc/group only when no group was given.
pub fn resolve_user(rootfs: &Path, user: &str) -> Result<(u32, u32, Vec<u32>), UserError> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let passwd = read_db(rootfs, "/etc/passwd")?;
    // (name, uid, gid) of the matched passwd entry.
    let entry = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 || l.starts_with('#') {
            return None;
        }
        let uid: u32 = f[2].parse().ok()?;
        let gid: u32 = f[3].parse().ok()?;
        match user_part.parse::<u32>() {
            Ok(n) if n == uid => Some((f[0].to_string(), uid, gid)),
            Err(_) if f[0] == user_part => Some((f[0].to_string(), uid, gid)),
            _ => None,
        }
    });
    let (name, uid, mut gid) = match (entry, user_part.parse::<u32>()) {
        (Some(e), _) => e,
        (None, Ok(n)) => (String::new(), n, 0),
        (None, Err(_)) => return Err(UserError::NoUser(user_part.to_string())),
    };
    let groups = read_db(rootfs, "/etc/group")?;
    let parse_group = |l: &str| -> Option<(String, u32, Vec<String>)> {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 3 || l.starts_with('#') {
            return None;
        }
        let members = f
            .get(3)
            .map(|m| {
                m.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some((f[0].to_string(), f[2].parse().ok()?, members))
    };
    let mut extra = Vec::new();
    match group_part {
        Some(g) if !g.is_empty() => {
            let found =
                groups
                    .lines()
                    .filter_map(parse_group)
                    .find(|(n, id, _)| match g.parse::<u32>() {
                        Ok(x) => x == *id,
                        Err(_) => n == g,
                    });
            gid = match (found, g.parse::<u32>()) {
                (Some((_, id, _)), _) => id,
                (None, Ok(x)) => x,
                (None, Err(_)) => return Err(UserError::NoGroup(g.to_string())),
            };
        }
        _ if !name.is_empty() => {
            extra = groups
                .lines()
                .filter_map(parse_group)
                .filter(|(_, _, members)| members.contains(&name))
                .map(|(_, id, _)| id)
                .collect();
        }
        _ => {}
    }
    Ok((uid, gid, extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww:x:33:33::/var/www:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\nwheel:x:10:root,www\nnogroup:x:65534:\nwww-data:x:33:\naudio:x:29:www\n",
        )
        .unwrap();
        d
    }

    #[test]
    fn forms() {
        let d = rootfs();
        let r = d.path();
        assert_eq!(resolve_user(r, "").unwrap(), (0, 0, vec![10]));
        assert_eq!(resolve_user(r, "www").unwrap(), (33, 33, vec![10, 29]));
        assert_eq!(resolve_user(r, "33").unwrap(), (33, 33, vec![10, 29]));
        assert_eq!(resolve_user(r, "1234").unwrap(), (1234, 0, vec![]));
        assert_eq!(resolve_user(r, "1234:5678").unwrap(), (1234, 5678, vec![]));
        assert_eq!(resolve_user(r, "www:nogroup").unwrap(), (33, 65534, vec![]));
        assert_eq!(resolve_user(r, "nobody:10").unwrap(), (65534, 10, vec![]));
        assert_eq!(
            resolve_user(r, "ghost").unwrap_err().to_string(),
            "unable to find user ghost: no matching entries in passwd file"
        );
        assert_eq!(
            resolve_user(r, "root:ghosts").unwrap_err().to_string(),
            "unable to find group ghosts: no matching entries in group file"
        );
    }

    #[test]
    fn symlinks_stay_in_root() {
        let d = rootfs();
        let r = d.path();
        std::fs::rename(r.join("etc/passwd"), r.join("etc/passwd.real")).unwrap();
        std::os::unix::fs::symlink("/../../../etc/passwd.real", r.join("etc/passwd")).unwrap();
        assert_eq!(secure_join(r, "/etc/passwd"), r.join("etc/passwd.real"));
        assert_eq!(resolve_user(r, "www").unwrap().0, 33);
        // No passwd at all: numeric ids still work, names do not.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(resolve_user(empty.path(), "5:6").unwrap(), (5, 6, vec![]));
        assert!(resolve_user(empty.path(), "root").is_err());
    }
}
