//! The one error type of the API: an HTTP status plus dockerd's `{"message": "..."}`
//! body. Statuses follow moby's `errdefs` classes (NotFound → 404, Conflict → 409,
//! InvalidParameter → 400, NotModified → 304, NotImplemented → 501, System → 500), so
//! clients that branch on the status (docker CLI, docker-py) behave as with dockerd.
//!
//! The status is a plain `u16` so this crate stays free of the `http` crate; the daemon
//! converts.

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: u16,
    message: String,
}

impl ApiError {
    /// Any status; prefer the named constructors.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: a bad parameter or body (`errdefs.InvalidParameter`).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 404: no such container, image, exec… and unknown paths (`page not found`).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// 409: the object's state forbids the action (e.g. removing a running container).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }

    /// 304: nothing to do (starting a started container, stopping a stopped one).
    /// HTTP forbids a body on 304, so the daemon must send the status alone.
    pub fn not_modified(message: impl Into<String>) -> Self {
        Self::new(304, message)
    }

    /// 501: a known endpoint or option berth does not implement yet.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(501, message)
    }

    /// 500: anything else (I/O failures, runtime errors).
    pub fn system(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message alone, as the CLI prints it after `Error response from daemon: `.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response body, `{"message":"..."}` exactly as dockerd writes it.
    pub fn body(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(ApiError::invalid("x").status(), 400);
        assert_eq!(ApiError::not_found("x").status(), 404);
        assert_eq!(ApiError::conflict("x").status(), 409);
        assert_eq!(ApiError::not_modified("x").status(), 304);
        assert_eq!(ApiError::not_implemented("x").status(), 501);
        assert_eq!(ApiError::system("x").status(), 500);
        assert_eq!(ApiError::new(503, "x").status(), 503);
    }

    #[test]
    fn body_is_dockerd_json() {
        let err = ApiError::not_found("No such container: \"a\"");
        assert_eq!(err.body(), r#"{"message":"No such container: \"a\""}"#);
        assert_eq!(err.message(), "No such container: \"a\"");
        assert_eq!(err.to_string(), "No such container: \"a\"");
    }
}
