//! docker's image reference check (`distribution/reference.ParseNormalizedNamed`), which
//! the docker CLI runs before it sends a reference to the daemon.

/// `invalid reference format[: repository name (…) must be lowercase]` when `r` is not
/// a valid `[domain/]path[:tag][@digest]`. The grammar is the image store's (the one the
/// daemon applies); a full 64-hex image ID is accepted, as `ParseAnyReference` does.
pub fn check(r: &str) -> Result<(), String> {
    use berth_image::reference::{is_full_hex_id, Reference};
    if is_full_hex_id(r) {
        return Ok(());
    }
    Reference::parse_normalized(r)
        .map(|_| ())
        .map_err(|e| e.to_string())
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
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
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
