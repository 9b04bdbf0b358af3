//! Response builders with dockerd's conventions: JSON bodies end with a newline, errors are
//! `{"message": …}`, streams are chunked, attach/exec hijack the connection (101 UPGRADED).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use berth_api::error::ApiError;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Frame;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

/// Every response body the daemon sends.
pub type Body = BoxBody<Bytes, io::Error>;

/// The client's side of a hijacked connection, once the 101 response has been sent.
pub type Upgraded = TokioIo<hyper::upgrade::Upgraded>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn no_body() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A JSON response; like Go's json.Encoder, dockerd ends the document with a newline.
pub fn json<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            with_type(status, "application/json", full(bytes))
        }
        Err(err) => error(ApiError::system(format!(
            "cannot encode the response: {err}"
        ))),
    }
}

/// dockerd's error body, `{"message": "…"}`, with the error's status.
pub fn error(err: ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::warn!(
            status = status.as_u16(),
            message = err.message(),
            "request failed"
        );
    } else {
        tracing::debug!(
            status = status.as_u16(),
            message = err.message(),
            "request refused"
        );
    }
    if status == StatusCode::NOT_MODIFIED {
        // A 304 has no body (dockerd sends none either).
        return empty(status);
    }
    with_type(status, "application/json", full(err.body() + "\n"))
}

/// A response without a body.
pub fn empty(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(no_body());
    *resp.status_mut() = status;
    resp
}

/// `/_ping`: "OK" (no body for HEAD), with the headers clients negotiate from.
pub fn ping(head: bool) -> Response<Body> {
    let mut resp = if head {
        with_type(StatusCode::OK, "text/plain; charset=utf-8", no_body())
    } else {
        with_type(StatusCode::OK, "text/plain; charset=utf-8", full("OK"))
    };
    let h = resp.headers_mut();
    h.insert(
        "Cache-Control",
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert("Pragma", HeaderValue::from_static("no-cache"));
    // "1" is the classic builder: berth has no BuildKit, so clients must not ask for it.
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    // No swarm mode: the CLI reads this to decide whether to show swarm commands.
    h.insert("Swarm", HeaderValue::from_static("inactive"));
    resp
}

/// A body that yields the chunks of a channel as they come: logs, events, export, wait.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|r| r.map(Frame::data)))
    }
}

/// A chunked streaming response fed by `rx`; the stream ends when every sender is gone.
pub fn stream(
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
    content_type: &'static str,
) -> Response<Body> {
    with_type(StatusCode::OK, content_type, ChannelBody { rx }.boxed())
}

/// A one-document JSON progress stream (image import answers with one status line).
pub fn json_stream_once(line: String) -> Response<Body> {
    with_type(StatusCode::OK, "application/json", full(line))
}

/// Hijacks the connection like dockerd's attach and exec start: answers `101 UPGRADED`
/// with `Upgrade: tcp` and hands back the raw stream once hyper has sent the response.
/// The content type tells the client whether frames are multiplexed (no tty) or raw (tty).
pub fn hijack<B>(
    mut req: Request<B>,
    tty: bool,
) -> (
    Response<Body>,
    impl Future<Output = Result<Upgraded, hyper::Error>> + Send + 'static,
) {
    let on_upgrade = hyper::upgrade::on(&mut req);
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let mut resp = with_type(StatusCode::SWITCHING_PROTOCOLS, content_type, no_body());
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    resp.headers_mut()
        .insert(UPGRADE, HeaderValue::from_static("tcp"));
    (resp, async move { on_upgrade.await.map(TokioIo::new) })
}
