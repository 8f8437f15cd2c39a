//! The HTTP listener: accepts connections up to a limit, cuts off clients that are slow to send a
//! request's headers (or sit idle between requests), gives each request its peer address, and
//! drains on shutdown.
//!
//! `axum::serve` sets no header-read timeout and no connection limit, so a client that opens
//! sockets and never finishes a request would hold them (and a task each) forever.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Limits of the listener.
#[derive(Debug, Clone, Copy)]
pub struct ListenLimits {
    /// A request's headers must arrive within this time; it also ends idle keep-alive connections.
    pub header_timeout: Duration,
    /// Open TCP connections (upgraded WebSockets included) before new ones wait to be accepted.
    pub max_connections: usize,
    /// A handler's time to answer (see `web::app`).
    pub request_timeout: Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        ListenLimits {
            header_timeout: Duration::from_secs(20),
            max_connections: 8192,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Serve `app` on `listener` until `shutdown` resolves; then stop accepting, let requests in flight
/// finish (at most `drain` long) and return. Upgraded WebSockets are not waited for: the sync hub
/// closes them itself.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ListenLimits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Wait for a free place first: past the limit, new clients wait in the kernel's backlog.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (tcp, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let svc = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
                req
            },
        );
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(svc))
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                // The flag only ever goes from false to true.
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(stop);
        });
    }
    drop(stop_rx);
    let _ = stop_tx.send(true);
    // Every connection task holds a receiver: `closed` resolves when the last one has finished.
    if tokio::time::timeout(drain, stop_tx.closed()).await.is_err() {
        tracing::warn!("requests still running at shutdown were cut off");
    }
}
