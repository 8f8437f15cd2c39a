//! The HTTP surface: `fn app() -> Router` with the API, the sync upgrade and the PWA's static files.

use crate::access::Principal;
use crate::error::ApiError;
use crate::{AppState, MAX_SYNC_FRAME, api, auth, blobs};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State, WebSocketUpgrade};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post, put};
use tower_http::services::ServeDir;

pub fn app(state: AppState) -> Router {
    let files = ServeDir::new(&state.dist)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/docs", get(api::docs))
        .route(
            "/api/durable-heads",
            get(api::durable_heads).post(api::durable_check),
        )
        .route("/api/overview", get(api::overview))
        .route("/api/quarantine", get(api::quarantine))
        .route(
            "/api/plans/import",
            post(api::import_plan).layer(DefaultBodyLimit::max(api::MAX_IMPORT_BYTES)),
        )
        .route(
            "/api/plans/publish",
            post(api::publish_plan).layer(DefaultBodyLimit::max(api::MAX_IMPORT_BYTES)),
        )
        .route(
            "/api/blobs/{sha256}",
            put(blobs::put_blob)
                .get(blobs::get_blob)
                .layer(DefaultBodyLimit::max(blobs::MAX_BLOB_BYTES)),
        )
        .route("/api/blobs/{sha256}/status", get(blobs::blob_status))
        .route(
            "/api/{*rest}",
            any(|| async { ApiError::NotFound("no such API route".into()) }),
        )
        .route("/sync", get(sync_upgrade))
        // JSON requests are tiny; anything bigger is refused with 413 before it is read.
        .layer(DefaultBodyLimit::max(64 * 1024))
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .with_state(state)
}

async fn sync_upgrade(
    State(st): State<AppState>,
    who: Principal,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(MAX_SYNC_FRAME)
        .max_frame_size(MAX_SYNC_FRAME)
        .on_failed_upgrade(|e| tracing::warn!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| async move { st.hub.accept(socket, who) })
}

/// Content-hashed build outputs (`app-1a2b3c4d.js`) never change: cache them for a year. Everything
/// else — index.html, sw.js, the manifest, the API — must be revalidated, or a phone could keep an old
/// shell (and an old service worker) forever. The one exception under /api: a blob read (content-
/// addressed, so immutable) keeps the `private` caching its handler set; its errors stay `no-store`,
/// so a 404 for a photo still uploading is not remembered.
async fn cache_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let hashed = is_hashed_asset(path);
    let api = path.starts_with("/api/");
    let blob = path.starts_with("/api/blobs/") && !path.ends_with("/status");
    let mut res = next.run(req).await;
    if blob && res.status().is_success() && res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let value = if hashed && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else if api {
        "no-store"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_assets() {
        assert!(super::is_hashed_asset("/app-1a2b3c4d.js"));
        assert!(super::is_hashed_asset("/app_bg-0123abcd.wasm"));
        assert!(!super::is_hashed_asset("/sw.js"));
        assert!(!super::is_hashed_asset("/index.html"));
        assert!(!super::is_hashed_asset("/icons/icon-192.png"));
    }
}
