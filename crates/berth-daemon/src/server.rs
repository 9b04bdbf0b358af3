//! The unix-socket HTTP/1.1 server: one task per connection, upgrades (attach/exec hijack)
//! allowed, dockerd's common headers on every response.

use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

use crate::http::Body;

/// Requests served since start: lets the daemon's owner find idle moments (to trim memory).
static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many requests this process has served.
pub fn requests_served() -> u64 {
    REQUESTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// What serves one request.
pub trait Handler: Send + Sync + 'static {
    /// Answers `req`; errors are already responses.
    fn handle(
        &self,
        req: Request<Incoming>,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
}

/// Binds a unix socket at `path` with mode 0660 (dockerd's), replacing a stale socket file
/// left by a crashed daemon but refusing to steal one a live daemon still answers on.
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "another daemon is listening on this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Adds the headers dockerd puts on every response (clients read `Api-Version` to negotiate).
fn common_headers(resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    h.insert(
        "Api-Version",
        HeaderValue::from_static(berth_api::version::API_VERSION),
    );
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    if let Ok(server) =
        HeaderValue::from_str(&format!("Berth/{} (linux)", berth_engine::system::VERSION))
    {
        h.insert("Server", server);
    }
}

/// Accepts connections until `shutdown` resolves. Connections already open are not
/// waited for: `logs -f`, `events` and attach streams may last forever, and the
/// containers they watch outlive the daemon anyway.
pub async fn serve(
    listener: UnixListener,
    handler: Arc<dyn Handler>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let handler = handler.clone();
                async move {
                    REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let method = req.method().clone();
                    let path = req.uri().path().to_string();
                    let mut resp = handler.handle(req).await;
                    common_headers(&mut resp);
                    tracing::debug!(%method, %path, status = resp.status().as_u16(), "request");
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let conn = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(err) = conn.await {
                tracing::debug!(%err, "connection ended with an error");
            }
        });
    }
}
