//! docker's image reference check (`distribution/reference.ParseNormalizedNamed`), which
//! the docker CLI runs before it sends a reference to the daemon.

/// `invalid reference format[: repository name (…) must be lowercase]` when `r` is not
/// a valid `[domain/]path[:tag][@digest]`.
pub fn check(r: &str) -> Result<(), String> {
    const BAD: &str = "invalid reference format";
    let (name_tag, digest) = match r.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (r, None),
    };
    // splitDockerDomain: the first component is a domain when it has a dot or a colon,
    // is `localhost`, or has upper case letters.
    let (domain, remainder) = match name_tag.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (Some(first), rest)
        }
        _ => (None, name_tag),
    };
    let (path, tag) = match remainder.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, Some(t)),
        _ => (remainder, None),
    };
    if path.to_lowercase() != path {
        let remote = if domain.is_none() && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        return Err(format!(
            "{BAD}: repository name ({remote}) must be lowercase"
        ));
    }
    let domain_ok = domain.is_none_or(valid_domain);
    let path_ok = !path.is_empty() && path.split('/').all(valid_component);
    let tag_ok = tag.is_none_or(valid_tag);
    let digest_ok = digest.is_none_or(valid_digest);
    if domain_ok && path_ok && tag_ok && digest_ok && r.len() <= 255 + 128 {
        Ok(())
    } else {
        Err(BAD.to_string())
    }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__` or dashes, then an alphanumeric.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !alnum(b[i]) {
            return false;
        }
    }
    true
}

/// A host (`[a-zA-Z0-9-]` labels joined by dots, or `[ipv6]`) with an optional port.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, after)) => {
                if ip.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                ("x", after.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    host.split('.').all(label_ok)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// `[\w][\w.-]{0,127}`.
fn valid_tag(t: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `algorithm:hex` (at least 32 hex digits).
fn valid_digest(d: &str) -> bool {
    match d.split_once(':') {
        Some((alg, hex)) => {
            !alg.is_empty()
                && alg
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+._-".contains(&c))
                && hex.len() >= 32
                && hex.bytes().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        for ok in [
            "busybox",
            "busybox:latest",
            "busybox:1.36.1-musl",
            "library/busybox",
            "my-org/my_app__x.y:v1",
            "localhost:5000/app:1",
            "Quay.io/a",
            "UP/x",
            "registry.example.com/a/b/c:tag",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check("BAD"),
            Err("invalid reference format: repository name (library/BAD) must be lowercase".into())
        );
        assert_eq!(
            check("a/B:v1"),
            Err("invalid reference format: repository name (a/B) must be lowercase".into())
        );
        for bad in [
            "x::y",
            "-x",
            "x:-bad",
            "x@sha256:abc",
            "a//b",
            "a-",
            "",
            "x:",
        ] {
            assert_eq!(check(bad), Err("invalid reference format".into()), "{bad}");
        }
    }
}
