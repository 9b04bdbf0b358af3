//! Engine errors, classified the way dockerd's errdefs are, so that the daemon can map
//! each to its HTTP status in one place.

/// What went wrong in an engine operation. The variant is the class (404, 409, …);
/// the string is the message a docker client shows.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// 404: no such container, image, exec instance.
    #[error("{0}")]
    NotFound(String),
    /// 409: name in use, container running, not running, …
    #[error("{0}")]
    Conflict(String),
    /// 400: invalid parameter.
    #[error("{0}")]
    Invalid(String),
    /// 304: nothing to do (start of a running container, stop of a stopped one).
    #[error("{0}")]
    NotModified(String),
    /// 501: valid request that berth does not implement yet.
    #[error("{0}")]
    NotImplemented(String),
    /// 500: anything else.
    #[error("{0}")]
    System(String),
}

impl EngineError {
    /// A 500 with context: `"<what>: <source>"`.
    pub fn system(what: &str, err: impl std::fmt::Display) -> Self {
        Self::System(format!("{what}: {err}"))
    }

    /// dockerd's message for an unknown container.
    pub fn no_such_container(name: &str) -> Self {
        Self::NotFound(format!("No such container: {name}"))
    }
}

impl From<berth_image::ImageError> for EngineError {
    fn from(err: berth_image::ImageError) -> Self {
        let msg = err.to_string();
        match err.http_status() {
            404 => Self::NotFound(msg),
            409 => Self::Conflict(msg),
            400 => Self::Invalid(msg),
            _ => Self::System(msg),
        }
    }
}

impl From<berth_image::rootfs::RootfsError> for EngineError {
    fn from(err: berth_image::rootfs::RootfsError) -> Self {
        Self::System(err.to_string())
    }
}

/// Result of an engine operation.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
