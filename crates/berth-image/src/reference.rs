//! Image references, normalised like docker's `distribution/reference`:
//! `busybox` = `busybox:latest` = `library/busybox` = `docker.io/library/busybox:latest`,
//! shown in the familiar form `busybox:latest`.

/// Docker Hub's domain, implied when a reference names none.
pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag implied when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Errors of reference parsing; the messages are `distribution/reference`'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The string is not a reference (`invalid reference format`, with dockerd's detail).
    #[error("{0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ReferenceError {
    ReferenceError::Invalid(msg.into())
}

/// A normalised named reference: `docker.io/library/busybox`, with tag and/or digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Fully qualified name, e.g. `docker.io/library/busybox`.
    pub name: String,
    /// Tag, e.g. `latest`.
    pub tag: Option<String>,
    /// Digest, e.g. `sha256:…`.
    pub digest: Option<String>,
}

impl Reference {
    /// `ParseNormalizedNamed`: parses a user-typed reference, adding docker.io and
    /// `library/`.
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        if is_full_hex_id(s) {
            return Err(invalid(format!(
                "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
            )));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = match remainder.find(':') {
            Some(i) => &remainder[..i],
            None => remainder.as_str(),
        };
        if remote.to_lowercase() != remote {
            return Err(invalid(format!(
                "invalid reference format: repository name ({remote}) must be lowercase"
            )));
        }
        parse_full(&format!("{domain}/{remainder}"))
    }

    /// `TagNameOnly`: adds the default tag when there is neither tag nor digest.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// `FamiliarName`: `busybox`, `user/app`, `quay.io/x/y`.
    pub fn familiar_name(&self) -> String {
        familiar_name(&self.name)
    }

    /// `FamiliarString`: `busybox:latest`, `busybox@sha256:…`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// `FamiliarName` of a fully qualified name.
pub fn familiar_name(full: &str) -> String {
    match full.strip_prefix("docker.io/") {
        Some(rest) => match rest.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => rest.to_string(),
        },
        None => full.to_string(),
    }
}

/// Whether `s` is 64 lower-case hex digits (an image ID without its algorithm).
pub fn is_full_hex_id(s: &str) -> bool {
    s.len() == 64 && is_lower_hex(s)
}

/// Whether `s` is non-empty lower-case hex.
pub fn is_lower_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `s` is a digest `algorithm:hex` (hex of at least 32 digits), as
/// `go-digest`'s `Parse` accepts for sha256.
pub fn is_digest(s: &str) -> bool {
    match s.split_once(':') {
        Some(("sha256", h)) => h.len() == 64 && is_lower_hex(h),
        Some((alg, h)) => {
            valid_digest_algorithm(alg) && h.len() >= 32 && h.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

fn valid_digest_algorithm(alg: &str) -> bool {
    // [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*
    alg.split(['-', '_', '+', '.']).all(|part| {
        let mut b = part.bytes();
        matches!(b.next(), Some(c) if c.is_ascii_alphabetic())
            && b.all(|c| c.is_ascii_alphanumeric())
    })
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.find('/') {
        Some(i) => {
            let first = &name[..i];
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first
            {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            } else {
                (first.to_string(), name[i + 1..].to_string())
            }
        }
        None => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

/// `reference.Parse` of a fully qualified string `domain/path[:tag][@digest]`.
fn parse_full(s: &str) -> Result<Reference, ReferenceError> {
    const FORMAT: &str = "invalid reference format";
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => {
            if !is_digest(d) {
                return Err(invalid(FORMAT));
            }
            (r, Some(d.to_string()))
        }
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if name.is_empty() {
        return Err(invalid(format!(
            "{FORMAT}: repository name must have at least one component"
        )));
    }
    if let Some(t) = tag {
        if !valid_tag(t) {
            return Err(invalid(FORMAT));
        }
    }
    if !valid_name(name) {
        return Err(invalid(FORMAT));
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(invalid(format!(
            "{FORMAT}: repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )));
    }
    Ok(Reference {
        name: name.to_string(),
        tag: tag.map(str::to_string),
        digest,
    })
}

/// `[\w][\w.-]{0,127}`
pub fn valid_tag(t: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[domain/]path-component(/path-component)*`, the domain being optional in this
/// grammar; `split_docker_domain` always provides one.
fn valid_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    let all_paths = |ps: &[&str]| !ps.is_empty() && ps.iter().all(|p| valid_path_component(p));
    all_paths(&parts) || (parts.len() > 1 && valid_domain(parts[0]) && all_paths(&parts[1..]))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

/// Host (labels of `[A-Za-z0-9]` and inner `-`, joined by `.`) or `[ipv6]`, with an
/// optional `:port`.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if d.starts_with('[') {
        match d.find(']') {
            Some(i) => (&d[..=i], d[i + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty() && v6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// Go's `path.Match` (the glob of docker's `reference` filter): `*` matches any
/// run of non-`/` characters, `?` one non-`/` character, `[...]` a class (`^` or `!`
/// negates, ranges `a-z`), `\` escapes. A malformed pattern matches nothing.
pub fn path_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob(&p, &n)
}

fn glob(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => {
            let rest = &p[1..];
            let mut i = 0;
            loop {
                if glob(rest, &n[i..]) {
                    return true;
                }
                if i >= n.len() || n[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        Some('?') => !n.is_empty() && n[0] != '/' && glob(&p[1..], &n[1..]),
        Some('[') => {
            let Some(&c) = n.first() else { return false };
            let mut i = 1;
            let negate = matches!(p.get(1), Some('^') | Some('!'));
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            loop {
                match p.get(i) {
                    None => return false,
                    Some(']') if !first => break,
                    _ => {}
                }
                first = false;
                let mut lo = p[i];
                if lo == '\\' {
                    i += 1;
                    match p.get(i) {
                        Some(&e) => lo = e,
                        None => return false,
                    }
                }
                i += 1;
                let mut hi = lo;
                if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
                    hi = p[i + 1];
                    if hi == '\\' {
                        match p.get(i + 2) {
                            Some(&e) => {
                                hi = e;
                                i += 1;
                            }
                            None => return false,
                        }
                    }
                    i += 2;
                }
                if lo <= c && c <= hi {
                    matched = true;
                }
            }
            matched != negate && c != '/' && glob(&p[i + 1..], &n[1..])
        }
        Some('\\') => match p.get(1) {
            Some(&e) => n.first() == Some(&e) && glob(&p[2..], &n[1..]),
            None => false,
        },
        Some(&c) => n.first() == Some(&c) && glob(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fam(s: &str) -> String {
        Reference::parse_normalized(s)
            .unwrap()
            .with_default_tag()
            .familiar_string()
    }

    #[test]
    fn normalises_like_docker() {
        for s in [
            "busybox",
            "busybox:latest",
            "library/busybox",
            "docker.io/library/busybox:latest",
            "index.docker.io/busybox",
        ] {
            assert_eq!(fam(s), "busybox:latest", "{s}");
        }
        let r = Reference::parse_normalized("busybox").unwrap();
        assert_eq!(r.name, "docker.io/library/busybox");
        assert_eq!(fam("user/app:v1"), "user/app:v1");
        assert_eq!(fam("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(fam("localhost/app"), "localhost/app:latest");
        assert_eq!(fam("quay.io/a/b:1.0"), "quay.io/a/b:1.0");
        let d = format!("busybox@sha256:{}", "a".repeat(64));
        assert_eq!(fam(&d), d);
    }

    #[test]
    fn rejects_like_docker() {
        let e = Reference::parse_normalized("Busybox")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert_eq!(
            Reference::parse_normalized("busybox:")
                .unwrap_err()
                .to_string(),
            "invalid reference format"
        );
        assert_eq!(
            Reference::parse_normalized("a b").unwrap_err().to_string(),
            "invalid reference format"
        );
        assert_eq!(
            Reference::parse_normalized("busybox:-x")
                .unwrap_err()
                .to_string(),
            "invalid reference format"
        );
        assert!(Reference::parse_normalized("a__b--c.d").is_ok());
        assert!(Reference::parse_normalized("a___b").is_err());
        assert!(Reference::parse_normalized(&"a".repeat(64))
            .unwrap_err()
            .to_string()
            .contains("64-byte hexadecimal"));
    }

    #[test]
    fn glob_like_go_path_match() {
        assert!(path_match("busy*", "busybox:latest"));
        assert!(path_match("*:latest", "busybox:latest"));
        assert!(!path_match("*", "user/app"));
        assert!(path_match("user/*", "user/app"));
        assert!(path_match("b?sybox", "busybox"));
        assert!(path_match("[a-c]usybox", "busybox"));
        assert!(!path_match("[^a-c]usybox", "busybox"));
        assert!(path_match("busybox", "busybox"));
        assert!(!path_match("busybox", "busybox:latest"));
    }
}
